//! `afinar check`: validate fine-tuning JSONL, count tokens exactly, estimate the cost.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use afinar_check::report::Report;
use afinar_check::{CheckError, CheckOptions, ExampleTokens, Finding, check_reader, schema};
use afinar_core::progress::{Progress, Unit};
use afinar_formats::atomic::write_atomic;
use afinar_redact::{KindSet, NameList, RedactError, Scanner};
use anyhow::{Context, bail};
use clap::ValueEnum;

use super::models::{load_registry, thousands};

mod open_model;
use crate::progress::{Bars, QuietArg, Reader};
use crate::ui::{exit, paint};

const EXAMPLES: &str = "\
Examples:
  # Check a training file for gpt-4o-mini (the default model)
  afinar check train.jsonl

  # Several files, for another model, as a CI gate with GitHub annotations
  afinar check train.jsonl validation.jsonl --model gpt-4.1-nano --format github

  # Machine-readable report, and the token count of every example
  afinar check train.jsonl --format json --per-example tokens.jsonl

  # CI gate: fail if any unmasked CPF or CNPJ is left (other personal data warns)
  afinar check train.jsonl --deny-pii cpf,cnpj --format github

  # The JSON Schema of a line format, for your own tools
  afinar check --schema chat > chat.schema.json

  # Open-weight models: exact counts with the model's own tokenizer and chat template,
  # found in the local Hugging Face cache (`hf download Qwen/Qwen3-32B tokenizer.json
  # tokenizer_config.json`), against the limit of where it is trained
  afinar check train.jsonl --model Qwen/Qwen3-32B --target azure
  afinar check train.jsonl --model Qwen/Qwen3-8B --target llama-factory --max-tokens 4096

  # Lines written for another service (`afinar convert --target vertex`), with its rules
  afinar check train.jsonl --target vertex
  afinar check train.jsonl --target together --model Qwen/Qwen3-8B

  # Any Hugging Face model directory (tokenizer.json + tokenizer_config.json and/or
  # chat_template.jinja), with your trainer's cutoff
  afinar check train.jsonl --tokenizer ./my-model --max-tokens 8192 --per-example tokens.jsonl

--format json prints one report object per file (an array when several files are given):
  file, model, model_family, encoding   what was checked, for which model (encoding:
                            o200k_base, cl100k_base, o200k_harmony or
                            \"tokenizer.json + chat template\")
  format                    chat | completion | dpo (of the first example), or null
  examples, valid           non-blank lines, and those without any error
  blank_lines               blank lines skipped
  errors, warnings          [{line, code, message}]: file-wide causes first, then in
                            input order (line null for file-level findings), at most
                            listed_max of each
  errors_total, warnings_total, codes   counts of all findings, and per code
  tokens                    {min, max, mean, p50, p95, total, counted} over examples
                            without errors other than over_token_limit, or null
  limit, over_limit         tokens per example the model trains on; examples above it
  target                    where the limit comes from (open-weight models), e.g.
                            \"Azure AI Foundry\"; absent otherwise
  epochs                    the service's default epochs for those examples
  billed_tokens             sum of min(limit, tokens) times epochs
  price_per_million, cost   training price and cost estimate in US$ (null if unknown)
  worst, histogram          longest examples [{line, tokens}]; [{from, to, count}]

--per-example writes one line per non-blank input line:
  {\"line\": N, \"tokens\": T, \"assistant_tokens\": A}  (counts null when the line cannot
  be counted; a \"file\" field is added when several files are checked).
  For open-weight models T is len(tokenizer.apply_chat_template(messages, tokenize=True))
  as Python transformers gives it (no generation prompt), and A the tokens of the
  assistant contents plus the special token closing each assistant turn.

Rule codes: invalid_utf8, invalid_json, data_type, missing_messages_list,
message_missing_key, message_unrecognized_key, unrecognized_role, missing_content,
empty_content, example_missing_assistant_message, invalid_weight, weight_not_on_assistant,
invalid_name, invalid_content_part, invalid_image, invalid_tool_calls,
invalid_tool_message, special_token, system_not_first, missing_prompt,
missing_completion, prompt_not_string, completion_not_string, unrecognized_key,
invalid_dpo, schema_violation, over_token_limit, chat_template_error, too_few_examples, personal_data_denied,
invalid_target_line, role_not_supported, feature_not_supported, first_turn_not_user,
reserved_keyword, too_many_examples (errors); blank_line, utf8_bom, missing_bom,
duplicate_example, few_examples, file_too_large, personal_data (warnings; with --target,
utf8_bom and file_too_large are errors where the target refuses the file); consecutive_turns (a warning, an error for a model whose turns
must alternate). A cause that holds for the whole file is reported once, first, at its
first line with the count and the first lines: format_not_supported, mixed_formats,
images_not_supported, developer_role_unsupported (errors).

Training lifecycle: when the model can no longer be fine-tuned at the target by someone
new to it (gpt-4o-mini on OpenAI since 2026-05-07), or will not be for long, a warning
names the dates and the targets that still train it (`afinar models`); it does not
change the exit code. AFINAR_TODAY=YYYY-MM-DD sets the day it is judged on.

Personal data (CPF and CNPJ confirmed by their check digits, e-mails, Brazilian phone
numbers) is looked for in every string, on by default, and reported with a masked
preview, never the value.

Exit codes: 0 no errors (warnings allowed), 1 any error, 2 usage or I/O error.";

/// Check fine-tuning JSONL files the way the fine-tuning service will: every rule it
/// enforces, exact token counts for the model's encoding, and the cost of training.
///
/// Files are streamed in batches and checked in parallel, so files of any size are fine.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// JSONL files to check.
    #[arg(value_name = "FILE", required_unless_present = "schema")]
    files: Vec<PathBuf>,
    /// The model to fine-tune (its encoding, token limit, formats and price); dated
    /// snapshots such as gpt-4o-mini-2024-07-18 are understood, and open-weight models
    /// by their Hugging Face name (Qwen/Qwen3-8B). See `afinar models`. Default:
    /// gpt-4o-mini, or the model of --tokenizer.
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
    /// Count with this Hugging Face tokenizer and chat template: a model directory
    /// (tokenizer.json, and tokenizer_config.json with `chat_template` and/or
    /// chat_template.jinja) or a tokenizer.json file. Without it, an open-weight --model
    /// is looked up in AFINAR_TOKENIZERS and the Hugging Face cache (HF_HOME).
    #[arg(long, value_name = "PATH")]
    tokenizer: Option<PathBuf>,
    /// Where the data goes: openai (the default), azure, together, fireworks, vertex,
    /// bedrock, trl, llama-factory or axolotl. Reads that target's lines and applies its
    /// rules (shapes, roles and turn order, minimum examples, file size, BOM). For an
    /// open-weight model it also picks where the model is trained (its limit and what it
    /// does to a longer example; see `afinar models`), by default the first place listed.
    #[arg(long, value_name = "TARGET")]
    target: Option<String>,
    /// Add or override models from a JSON file shaped like `afinar models --format json`.
    #[arg(long, value_name = "FILE")]
    models: Option<PathBuf>,
    /// Maximum tokens per example, instead of the model's (for local trainers: your
    /// `cutoff_len`, `sequence_len` or `max_length`).
    #[arg(long, value_name = "N")]
    max_tokens: Option<u64>,
    /// Report format: text (stderr), json or github annotations (stdout).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Write the token counts of every example to this file (JSON Lines).
    #[arg(long, value_name = "PATH")]
    per_example: Option<PathBuf>,
    /// Do not look for personal data (CPF, CNPJ, e-mails, phone numbers).
    #[arg(long)]
    no_pii: bool,
    /// Make any personal data an error (exit 1) instead of a warning.
    #[arg(long)]
    strict: bool,
    /// Kinds of personal data that are errors (exit 1), for a CI gate: `cpf,cnpj`, or
    /// `all` (kinds: cpf, cnpj, email, phone, name).
    #[arg(long, value_name = "KINDS", value_parser = parse_kinds)]
    deny_pii: Option<KindSet>,
    /// Also report the names listed in FILE (one per line; case and accents ignored).
    #[arg(long, value_name = "FILE")]
    pii_names: Option<PathBuf>,
    /// Print the bundled JSON Schema of a line format and exit.
    #[arg(long, value_enum, value_name = "FORMAT", exclusive = true)]
    schema: Option<SchemaFormat>,
    #[command(flatten)]
    quiet: QuietArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemaFormat {
    Chat,
    Completion,
    Dpo,
    /// Vertex AI Gemini tuning lines (`--target vertex`).
    Vertex,
    /// Amazon Bedrock lines (`--target bedrock`).
    Bedrock,
}

/// How many findings of each kind the text report lists per file.
const TEXT_LISTED: usize = 20;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(s) = args.schema {
        let text = match s {
            SchemaFormat::Chat => schema::text(afinar_check::Format::Chat),
            SchemaFormat::Completion => schema::text(afinar_check::Format::Completion),
            SchemaFormat::Dpo => schema::text(afinar_check::Format::Dpo),
            SchemaFormat::Vertex => {
                schema::dialect_text(afinar_check::Dialect::Vertex).unwrap_or_default()
            }
            SchemaFormat::Bedrock => {
                schema::dialect_text(afinar_check::Dialect::Bedrock).unwrap_or_default()
            }
        };
        print!("{text}");
        return Ok(ExitCode::from(exit::OK));
    }
    let registry = load_registry(args.models.as_deref())?;
    if args.max_tokens == Some(0) {
        bail!("--max-tokens must be at least 1");
    }
    for file in &args.files {
        refuse_sources(file)?;
    }
    let mut opts = open_model::options(&registry, &args)?;
    opts.max_tokens = args.max_tokens;
    // Whether the model can still be trained where it is going; said after the report.
    let target = match (&args.target, &opts.place) {
        (Some(t), _) => t.clone(),
        (None, Some(p)) => p.target.clone(),
        (None, None) => opts.target.clone(),
    };
    // Only for registry models: one known only by its --tokenizer files has no policy.
    let lifecycle = match registry.lookup(&opts.model.name) {
        Some(m) => super::training::notice(&registry, m, &target)?,
        None => None,
    };
    if let Some(rule) = pii_rule(&args)? {
        opts.extra_rules.push(rule);
    }

    let bars = Bars::new(args.quiet);
    let reports = match &args.per_example {
        None => check_all(&args.files, &opts, &bars, &mut |_, _| Ok(()))?,
        Some(path) => {
            let several = args.files.len() > 1;
            let mut outcome: Option<Result<Vec<Report>, CheckError>> = None;
            let written = write_atomic(path, |w| {
                let result = check_all(&args.files, &opts, &bars, &mut |file, e| {
                    write_example(w, several.then_some(file), e)
                });
                let failed = result.is_err();
                outcome = Some(result);
                if failed {
                    Err(std::io::Error::other("check stopped"))
                } else {
                    Ok(())
                }
            });
            match outcome {
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(reports)) => {
                    written.with_context(|| format!("Cannot write `{}`", path.display()))?;
                    reports
                }
                None => {
                    written.with_context(|| format!("Cannot write `{}`", path.display()))?;
                    Vec::new()
                }
            }
        }
    };

    match args.format {
        ReportFormat::Json => {
            let text = match reports.as_slice() {
                [one] => serde_json::to_string_pretty(one)?,
                many => serde_json::to_string_pretty(many)?,
            };
            println!("{text}");
        }
        ReportFormat::Github => {
            let mut out = std::io::stdout().lock();
            for r in &reports {
                out.write_all(github(r).as_bytes())?;
            }
            if let Some(n) = &lifecycle {
                writeln!(
                    out,
                    "::warning title=training_closed::{}",
                    gh_data(&n.message)
                )?;
            }
            out.flush()?;
            for r in &reports {
                eprintln!("{}", summary_line(r));
            }
        }
        ReportFormat::Text => {
            let text: Vec<String> = reports.iter().map(render).collect();
            eprint!("{}", text.join("\n"));
        }
    }
    if let Some(n) = &lifecycle {
        super::training::warn(n);
    }
    let failed = reports.iter().any(Report::has_errors);
    Ok(ExitCode::from(if failed { exit::DATA } else { exit::OK }))
}

/// `check` reads training files (JSON Lines). A spreadsheet, CSV or Markdown source, or
/// a JSON array, would come out as one `invalid_json` per line; say what to do instead.
fn refuse_sources(file: &Path) -> anyhow::Result<()> {
    let convert = || {
        format!(
            "convert it first: `afinar convert {} -o train.jsonl`",
            file.display()
        )
    };
    match afinar_formats::InputKind::from_path(file) {
        Ok(afinar_formats::InputKind::Jsonl) | Err(_) => {}
        Ok(kind) => bail!(
            "`{}` is a {} source, not JSON Lines; `afinar check` reads training files, so {}",
            file.display(),
            match kind {
                afinar_formats::InputKind::Csv => "delimited text",
                afinar_formats::InputKind::Spreadsheet => "spreadsheet",
                afinar_formats::InputKind::Markdown => "Markdown",
                afinar_formats::InputKind::Docx => "Word document",
                afinar_formats::InputKind::Html => "web page",
                _ => "Parquet",
            },
            convert()
        ),
    }
    // A `.json` file holding one array (alpaca, ShareGPT exports) rather than lines.
    if afinar_formats::read::holds_json_array(file) {
        bail!(
            "`{}` holds one JSON array, not JSON Lines; {}",
            file.display(),
            convert()
        );
    }
    Ok(())
}

fn check_all(
    files: &[PathBuf],
    opts: &CheckOptions,
    bars: &Bars,
    on_example: &mut dyn FnMut(&Path, &ExampleTokens) -> std::io::Result<()>,
) -> Result<Vec<Report>, CheckError> {
    files
        .iter()
        .map(|f| check_file(f, opts, bars, &mut |e| on_example(f, e)))
        .collect()
}

/// [`afinar_check::check_path`], with the bytes read shown on a progress bar.
fn check_file(
    path: &Path,
    opts: &CheckOptions,
    bars: &Bars,
    on_example: &mut dyn FnMut(&ExampleTokens) -> std::io::Result<()>,
) -> Result<Report, CheckError> {
    let io_err = |source| CheckError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let size = file.metadata().map_err(io_err)?.len();
    let name = path.display().to_string();
    bars.begin(&name, Some(size), Unit::Bytes);
    let reader = Reader::new(std::io::BufReader::with_capacity(1 << 20, file), bars);
    let report = check_reader(&name, reader, Some(size), opts, on_example).map_err(|e| match e {
        CheckError::Io { source, .. } => io_err(source),
        other => other,
    });
    bars.end();
    report
}

fn write_example(w: &mut dyn Write, file: Option<&Path>, e: &ExampleTokens) -> std::io::Result<()> {
    let num = |n: Option<u64>| n.map_or_else(|| "null".to_owned(), |n| n.to_string());
    match file {
        Some(f) => writeln!(
            w,
            "{{\"file\":{},\"line\":{},\"tokens\":{},\"assistant_tokens\":{}}}",
            serde_json::to_string(&f.display().to_string()).unwrap_or_default(),
            e.line,
            num(e.tokens),
            num(e.assistant_tokens)
        ),
        None => writeln!(
            w,
            "{{\"line\":{},\"tokens\":{},\"assistant_tokens\":{}}}",
            e.line,
            num(e.tokens),
            num(e.assistant_tokens)
        ),
    }
}

/// GitHub workflow commands: `::error file=F,line=N,title=CODE::MESSAGE`.
fn github(r: &Report) -> String {
    let mut out = String::new();
    let mut emit = |kind: &str, f: &Finding| {
        let line = f.line.map(|l| format!(",line={l}")).unwrap_or_default();
        out.push_str(&format!(
            "::{kind} file={}{line},title={}::{}\n",
            gh_property(&r.file),
            f.code,
            gh_data(&f.message)
        ));
    };
    for f in &r.errors {
        emit("error", f);
    }
    for f in &r.warnings {
        emit("warning", f);
    }
    let hidden = (r.errors_total + r.warnings_total) - (r.errors.len() + r.warnings.len()) as u64;
    if hidden > 0 {
        out.push_str(&format!(
            "::warning file={}::{hidden} more findings not shown; run `afinar check --format json`\n",
            gh_property(&r.file)
        ));
    }
    out
}

fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn summary_line(r: &Report) -> String {
    format!(
        "{}: {} {}, {} valid, {} {}, {} {}",
        r.file,
        thousands(r.examples),
        plural(r.examples, "example", "examples"),
        thousands(r.valid),
        thousands(r.errors_total),
        plural(r.errors_total, "error", "errors"),
        thousands(r.warnings_total),
        plural(r.warnings_total, "warning", "warnings"),
    )
}

fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// The report for people: summary, token table, histogram, longest examples, findings,
/// estimate.
fn render(r: &Report) -> String {
    let mut s = String::new();
    let format = r
        .format
        .map_or_else(|| "no".to_owned(), |f| f.name().to_owned());
    let place = r
        .target
        .as_ref()
        .map(|t| format!(" at {t}"))
        .unwrap_or_default();
    s.push_str(&format!(
        "{}\n  {} format, model {} ({}, limit {} tokens per example{place})\n",
        paint(&r.file, "1"),
        format,
        r.model,
        r.encoding,
        thousands(r.limit)
    ));
    if let Some(t) = r
        .checked_for
        .as_deref()
        .and_then(|t| afinar_check::targets::lookup(t).ok())
    {
        s.push_str(&format!("  checked for {} ({} lines)\n", t.name, t.dialect));
    }
    s.push_str(&format!(
        "  {} {}, {} valid, {} blank {}\n",
        thousands(r.examples),
        plural(r.examples, "example", "examples"),
        thousands(r.valid),
        thousands(r.blank_lines),
        plural(r.blank_lines, "line", "lines")
    ));

    if let Some(t) = &r.tokens {
        s.push_str(&format!(
            "\nTokens per example ({} counted)\n",
            thousands(t.counted)
        ));
        let cells = [
            ("min", thousands(t.min)),
            ("p50", t.p50.to_string()),
            ("mean", t.mean.to_string()),
            ("p95", t.p95.to_string()),
            ("max", thousands(t.max)),
            ("total", thousands(t.total)),
        ];
        let widths: Vec<usize> = cells.iter().map(|(h, v)| h.len().max(v.len())).collect();
        let head: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|((h, _), w)| format!("{h:>w$}"))
            .collect();
        let vals: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|((_, v), w)| format!("{v:>w$}"))
            .collect();
        s.push_str(&format!("  {}\n  {}\n", head.join("  "), vals.join("  ")));

        let peak = r
            .histogram
            .iter()
            .map(|b| b.count)
            .max()
            .unwrap_or(0)
            .max(1);
        let label = |b: &afinar_check::report::Bucket| {
            format!("{}–{}", thousands(b.from), thousands(b.to - 1))
        };
        let lw = r
            .histogram
            .iter()
            .map(|b| label(b).chars().count())
            .max()
            .unwrap_or(0);
        s.push_str("\nHistogram\n");
        for b in &r.histogram {
            let bar = (b.count * 40).div_ceil(peak) as usize;
            let l = label(b);
            let pad = " ".repeat(lw - l.chars().count());
            s.push_str(&format!(
                "  {pad}{l}  {:<40}  {}\n",
                "█".repeat(bar),
                thousands(b.count)
            ));
        }
        // The buckets cover the examples' own range; say where the limit stands.
        if t.max <= r.limit {
            s.push_str(&format!(
                "  longest {} tokens, {} below the {}-token limit\n",
                thousands(t.max),
                thousands(r.limit - t.max),
                thousands(r.limit)
            ));
        }
    }
    if !r.worst.is_empty() {
        s.push_str("\nLongest examples\n");
        let w = r
            .worst
            .iter()
            .map(|x| x.line.to_string().len())
            .max()
            .unwrap_or(1);
        for x in &r.worst {
            let over = if x.tokens > r.limit {
                "  over the limit"
            } else {
                ""
            };
            s.push_str(&format!(
                "  line {:>w$}  {} tokens{over}\n",
                x.line,
                thousands(x.tokens)
            ));
        }
    }
    if !r.codes.is_empty() {
        s.push_str("\nFindings by rule\n");
        let w = r.codes.keys().map(String::len).max().unwrap_or(0);
        for (code, n) in &r.codes {
            s.push_str(&format!("  {code:<w$}  {}\n", thousands(*n)));
        }
    }
    for (title, list, total, colour) in [
        ("Errors", &r.errors, r.errors_total, "31"),
        ("Warnings", &r.warnings, r.warnings_total, "33"),
    ] {
        if list.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "\n{}\n",
            paint(&format!("{title} ({})", thousands(total)), colour)
        ));
        for f in list.iter().take(TEXT_LISTED) {
            let at = f
                .line
                .map_or_else(|| r.file.clone(), |l| format!("{}:{l}", r.file));
            s.push_str(&format!("  {at}  {}  {}\n", f.code, f.message));
        }
        let more = total.saturating_sub(TEXT_LISTED.min(list.len()) as u64);
        if more > 0 {
            s.push_str(&format!(
                "  … and {} more (all in --format json)\n",
                thousands(more)
            ));
        }
    }
    s.push_str("\nEstimate\n");
    s.push_str(&format!(
        "  {} epochs (the service's default) × {} tokens = {} billed tokens\n",
        r.epochs,
        thousands(r.billed_tokens / r.epochs.max(1)),
        thousands(r.billed_tokens)
    ));
    match (r.cost, r.price_per_million) {
        (Some(c), Some(p)) => s.push_str(&format!(
            "  about US$ {c:.2} at US$ {p:.2} per 1M training tokens\n"
        )),
        _ => s.push_str("  no price known for this model\n"),
    }
    if r.over_limit > 0 {
        s.push_str(&format!(
            "  {} {} over the {}-token limit will be truncated\n",
            thousands(r.over_limit),
            plural(r.over_limit, "example", "examples"),
            thousands(r.limit)
        ));
    }
    let verdict = if r.has_errors() {
        paint("FAIL", "1;31")
    } else {
        paint("OK", "1;32")
    };
    s.push_str(&format!("\n{verdict} {}\n", summary_line(r)));
    s
}

fn parse_kinds(s: &str) -> Result<KindSet, String> {
    s.parse().map_err(|e: RedactError| e.to_string())
}

/// The personal-data rule, on by default; `--strict` denies every kind.
fn pii_rule(args: &Args) -> anyhow::Result<Option<Arc<dyn afinar_check::rules::LineRule>>> {
    if args.no_pii {
        return Ok(None);
    }
    let mut scanner = Scanner::new();
    if let Some(path) = &args.pii_names {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Failed to read the name list `{}`", path.display()))?;
        let names = NameList::parse(&text)
            .with_context(|| format!("Failed to use the name list `{}`", path.display()))?;
        scanner = scanner.with_names(names);
    }
    let deny = if args.strict {
        KindSet::ALL
    } else {
        args.deny_pii.unwrap_or(KindSet::EMPTY)
    };
    Ok(Some(Arc::new(afinar_check::pii::PersonalDataRule::new(
        scanner, deny,
    ))))
}
