//! `afinar convert`: sources in, chat or prompt/completion JSONL out, rejects beside it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use afinar_core::{Completion, CompletionOptions, Example, Preference, RoleAliases, SystemPolicy};
use afinar_formats::write::jsonl::{self, ChatLine, DpoLine, JsonlOptions};
use afinar_formats::{ReadOptions, ReadOutput, Reject, SourceInfo, read};
use afinar_redact::{Counts, FakeKey, Kind, Mode, NameList, Redactor, Scanner};
use anyhow::{Context, bail};
use clap::ValueEnum;
use serde::Serialize;

use crate::ui::{self, exit};

const EXAMPLES: &str = "\
Examples:
  # A spreadsheet export to chat JSONL, with a system prompt
  afinar convert faq.csv -o train.jsonl \\
      --system \"Você é um assistente especializado no Simples Nacional.\"

  # Chat JSONL to prompt/completion, and back again
  afinar convert train.jsonl --to completion -o pc.jsonl
  afinar convert pc.jsonl --to chat -o chat.jsonl

  # Columns with unusual names, and a legacy completion separator
  afinar convert export.csv --question Assunto --answer Texto \\
      --to completion --prompt-suffix '\\n\\n###\\n\\n' --completion-suffix ' END' -o pc.jsonl

  # Several sources into one file (read in parallel, written in the order given);
  # fail (exit 1) if any row was rejected
  afinar convert a.csv b.jsonl faq.xlsx artigo.md -o train.jsonl --strict

  # A workbook's sheet, and a CSV whose encoding detection needs help
  afinar convert faq.xlsx --sheet \"Perguntas 2026\" -o train.jsonl
  afinar convert legado.csv --encoding latin1 --delimiter ';' -o train.jsonl

  # OpenAI DPO JSONL through unchanged (other shapes reject preference lines)
  afinar convert prefs.jsonl --to dpo -o dpo.jsonl

  # Mask CPF, CNPJ, e-mails and phones with [CPF], [CNPJ], [EMAIL], [TELEFONE]
  afinar convert faq.xlsx -o train.jsonl --redact

  # Consistent fakes instead (valid check digits, same format), and a list of names
  AFINAR_REDACT_KEY='uma frase secreta' afinar convert faq.xlsx -o train.jsonl \\
      --redact=fake --redact-names clientes.txt

Rejected rows are written to <OUT>.rejects.jsonl (one {origin, reason, raw} per line)
and listed in the summary. Exit codes: 0 ok, 1 rows rejected with --strict or nothing
written, 2 usage or I/O error.";

/// Convert sources (CSV, TSV, XLSX, ODS, Markdown, JSONL, JSON) into fine-tuning JSONL.
///
/// Encodings (UTF-8, UTF-16, Windows-1252) and delimiters (`,` `;` TAB `|`) are
/// detected; the header row is found within the first 20 rows, and in a workbook the first
/// sheet that has one is read. Markdown Q&A is found in `?` headings, `P:`/`R:` label
/// pairs and bold-question list items. JSON takes OpenAI chat, prompt/completion, alpaca,
/// ShareGPT and OpenAI DPO lines. Columns are detected by name (Pergunta/Resposta, Questão, Dúvida, Question/Answer,
/// Prompt/Completion…); other columns are kept as meta. Text is normalised (NFC, LF line
/// ends, invisible characters removed, runs of spaces collapsed outside code and tables).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Source files, read in the order given.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output JSONL file, `-` for standard output, or a `.parquet` table of pairs (in
    /// builds with Parquet support).
    #[arg(short, long, value_name = "OUT.jsonl")]
    output: PathBuf,
    /// Output shape.
    #[arg(long, value_enum, default_value_t = Shape::Chat)]
    to: Shape,
    /// Set this system message on every example (replacing any there).
    #[arg(long, value_name = "TEXT")]
    system: Option<String>,
    /// What to do with system messages: keep them (prepended to the prompt in completion
    /// output), drop them, or prepend them to the prompt.
    #[arg(long, value_enum, default_value_t = Policy::Keep)]
    system_policy: Policy,
    /// Appended to every prompt in completion output (`\n` and `\t` are understood).
    #[arg(long, value_name = "TEXT", default_value = "")]
    prompt_suffix: String,
    /// Keep the legacy separator and stop markers (`\n\n###\n\n`, ` END`) found in
    /// prompt/completion input; by default they are removed and the summary says so.
    #[arg(long)]
    keep_markers: bool,
    /// Put before every completion in completion output.
    #[arg(long, value_name = "TEXT", default_value = "")]
    completion_prefix: String,
    /// Appended to every completion in completion output.
    #[arg(long, value_name = "TEXT", default_value = "")]
    completion_suffix: String,
    /// The question column, by name or 1-based number (detected when absent).
    #[arg(long, value_name = "COLUMN")]
    question: Option<String>,
    /// The answer column, by name or 1-based number (detected when absent).
    #[arg(long, value_name = "COLUMN")]
    answer: Option<String>,
    /// Field delimiter of delimited text: `,` `;` `|` or `tab`.
    #[arg(long, value_name = "C", value_parser = read::parse_delimiter)]
    delimiter: Option<u8>,
    /// Text encoding of the inputs (`utf-8`, `windows-1252`, `latin1`, `utf-16le`…);
    /// detected when absent.
    #[arg(long, value_name = "ENC", value_parser = parse_encoding)]
    encoding: Option<String>,
    /// The spreadsheet sheet to read [default: the first with a question/answer header].
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
    /// Map another role name in JSON input to a role, e.g. `cliente=user` (repeatable).
    #[arg(long = "role-alias", value_name = "ALIAS=ROLE")]
    role_aliases: Vec<String>,
    /// Where rejected rows go [default: <OUT>.rejects.jsonl].
    #[arg(long, value_name = "PATH")]
    rejects: Option<PathBuf>,
    /// Start the output with a UTF-8 byte order mark (Azure OpenAI wants one).
    #[arg(long)]
    bom: bool,
    /// Keep text exactly as read (no normalisation).
    #[arg(long)]
    no_normalize: bool,
    /// Exit 1 when any row was rejected.
    #[arg(long)]
    strict: bool,
    /// Mask personal data (CPF, CNPJ, e-mails, phone numbers) before writing:
    /// `placeholder` (the default) writes `[CPF]`, `[CNPJ]`, `[EMAIL]`, `[TELEFONE]`,
    /// `[NOME]`; `fake` writes consistent fakes (same value, same fake; valid check
    /// digits), keyed by --redact-key-file or the AFINAR_REDACT_KEY variable.
    #[arg(
        long,
        value_enum,
        value_name = "MODE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "placeholder"
    )]
    redact: Option<RedactMode>,
    /// Also mask the names listed in FILE (one per line, `#` starts a comment; case and
    /// accents ignored). Implies --redact.
    #[arg(long, value_name = "FILE")]
    redact_names: Option<PathBuf>,
    /// File holding the secret behind `--redact=fake` [default: $AFINAR_REDACT_KEY].
    #[arg(long, value_name = "FILE")]
    redact_key_file: Option<PathBuf>,
    /// Summary format on standard error: `text`, or `json` on standard output.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum RedactMode {
    Placeholder,
    Fake,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Shape {
    Chat,
    Completion,
    /// OpenAI DPO preference lines (only from DPO input).
    Dpo,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Policy {
    Keep,
    Drop,
    Prepend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SummaryFormat {
    Text,
    Json,
}

fn parse_encoding(s: &str) -> Result<String, String> {
    match afinar_formats::read::encoding::for_label(s) {
        Some(_) => Ok(s.to_owned()),
        None => Err(format!(
            "Unknown encoding `{s}`; use utf-8, utf-16le, utf-16be, windows-1252 or latin1"
        )),
    }
}

/// One output line.
#[derive(Serialize)]
#[serde(untagged)]
enum Line<'a> {
    Chat(ChatLine<'a>),
    Completion(Completion),
    Dpo(DpoLine<'a>),
}

#[derive(Serialize)]
struct Summary<'a> {
    inputs: Vec<InputSummary<'a>>,
    output: String,
    shape: Shape,
    read: u64,
    written: usize,
    rejected: usize,
    rejects_file: Option<String>,
    /// Replacements per kind (`--redact`), what the manifest records.
    #[serde(skip_serializing_if = "Option::is_none")]
    redacted: Option<Redacted>,
}

#[derive(Serialize)]
struct Redacted {
    mode: RedactMode,
    #[serde(flatten)]
    counts: Counts,
}

#[derive(Serialize)]
struct InputSummary<'a> {
    path: String,
    format: &'a str,
    encoding: &'a str,
    delimiter: Option<String>,
    sheet: Option<&'a str>,
    skipped_sheets: &'a [String],
    header_line: Option<u64>,
    question_column: Option<&'a str>,
    answer_column: Option<&'a str>,
    rows: u64,
    blank: u64,
    examples: usize,
    rejected: usize,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let to_stdout = args.output.as_os_str() == "-";
    let parquet_out = args
        .output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    if parquet_out && args.to != Shape::Chat {
        bail!("Parquet output holds question/answer pairs; use --to chat, or write JSONL");
    }
    ui::check_output(
        &args.inputs,
        &args.output,
        args.format == SummaryFormat::Json,
    )?;
    let mut aliases = RoleAliases::default();
    for spec in &args.role_aliases {
        aliases.insert_spec(spec).map_err(anyhow::Error::msg)?;
    }
    let completion_opts = CompletionOptions {
        system: match args.system_policy {
            Policy::Keep => SystemPolicy::Keep,
            Policy::Drop => SystemPolicy::Drop,
            Policy::Prepend => SystemPolicy::Prepend,
        },
        prompt_suffix: ui::unescape(&args.prompt_suffix),
        completion_prefix: ui::unescape(&args.completion_prefix),
        completion_suffix: ui::unescape(&args.completion_suffix),
    };
    let opts = ReadOptions {
        question: args.question.clone(),
        answer: args.answer.clone(),
        delimiter: args.delimiter,
        encoding: args.encoding.clone(),
        sheet: args.sheet.clone(),
        aliases,
        normalize: !args.no_normalize,
        completion: completion_opts.clone(),
        keep_markers: args.keep_markers,
    };

    let mut sources = super::read_sources(&args.inputs, &opts)?;

    let redactor = redactor(&args)?;
    let mut redacted = Counts::default();
    let mut examples: Vec<Example> = Vec::new();
    let mut preferences: Vec<Preference> = Vec::new();
    let mut rejects: Vec<Reject> = Vec::new();
    let mut per_source = Vec::with_capacity(sources.len());
    for (_, out) in &mut sources {
        let before = (examples.len() + preferences.len(), rejects.len());
        rejects.append(&mut out.rejects);
        for mut p in out.preferences.drain(..) {
            if let Some(system) = &args.system {
                let mut carrier = Example::new(std::mem::take(&mut p.input), p.origin.clone());
                carrier.set_system(system);
                p.input = carrier.messages;
            }
            if let Some(r) = &redactor {
                redacted += r.redact_preference(&mut p);
            }
            preferences.push(p);
        }
        for mut ex in out.examples.drain(..) {
            if let Some(system) = &args.system {
                afinar_core::set_system_unfolded(&mut ex, system);
            }
            if matches!(args.system_policy, Policy::Drop) {
                ex.drop_instructions();
            }
            if let Some(r) = &redactor {
                redacted += r.redact_example(&mut ex);
            }
            examples.push(ex);
        }
        per_source.push((
            examples.len() + preferences.len() - before.0,
            rejects.len() - before.1,
        ));
    }

    let mut lines = Vec::with_capacity(examples.len());
    let mut failed = Vec::new();
    for ex in &examples {
        match args.to {
            Shape::Chat => lines.push(Line::Chat(ChatLine(ex))),
            Shape::Dpo => {
                let raw = serde_json::to_string(&ChatLine(ex)).unwrap_or_default();
                let reason = "Chat example has no preferred and non-preferred answers, so it cannot become DPO; \
                              convert DPO input with --to dpo, or chat input with --to chat";
                failed.push(Reject::new(ex.origin.clone(), reason, raw));
            }
            Shape::Completion => match Completion::from_example(ex, &completion_opts) {
                Ok(pc) => lines.push(Line::Completion(pc)),
                Err(e) => {
                    let raw = serde_json::to_string(&ChatLine(ex)).unwrap_or_default();
                    failed.push(Reject::new(ex.origin.clone(), e.to_string(), raw));
                }
            },
        }
    }
    for p in &preferences {
        if args.to == Shape::Dpo {
            lines.push(Line::Dpo(DpoLine(p)));
        } else {
            let raw = serde_json::to_string(&DpoLine(p)).unwrap_or_default();
            let reason = "DPO preference example cannot become a chat or prompt/completion example; use --to dpo";
            failed.push(Reject::new(p.origin.clone(), reason, raw));
        }
    }
    let mut written = lines.len();
    if parquet_out {
        let kept: Vec<Example> = lines
            .iter()
            .filter_map(|l| match l {
                Line::Chat(c) => Some(c.0.clone()),
                _ => None,
            })
            .collect();
        let multi_turn = afinar_formats::write::write_parquet(&args.output, &kept)?;
        written = kept.len() - multi_turn.len();
        failed.extend(multi_turn);
    }
    rejects.extend(failed);
    // Rejects are listed in input order, whatever stage rejected them.
    let order: Vec<&Path> = args.inputs.iter().map(PathBuf::as_path).collect();
    rejects.sort_by_key(|r| {
        let source = order
            .iter()
            .position(|p| p.display().to_string() == r.origin.file);
        (source, r.origin.line_number())
    });

    // A rejected row's raw text is written out as surely as the output: mask it too
    // (not counted: the counts describe the dataset).
    if let Some(r) = &redactor {
        for reject in &mut rejects {
            r.redact_string(&mut reject.raw);
        }
    }

    // The output and its rejects go in place together, or neither does.
    let mut pending = Vec::new();
    if !parquet_out {
        pending.extend(jsonl::prepare_file(
            &args.output,
            lines,
            JsonlOptions { bom: args.bom },
        )?);
    }
    let rejects_path = match (&args.rejects, to_stdout) {
        (Some(p), _) => Some(p.clone()),
        (None, false) => Some(default_rejects_path(&args.output)),
        (None, true) => None,
    };
    if let Some(path) = &rejects_path {
        pending.extend(jsonl::prepare_file(
            path,
            &rejects,
            JsonlOptions::default(),
        )?);
    }
    afinar_formats::atomic::commit(pending)?;

    let summary = Summary {
        inputs: sources
            .iter()
            .zip(&per_source)
            .map(|((path, out), &(examples, rejected))| {
                input_summary(path, &out.info, examples, rejected)
            })
            .collect(),
        output: args.output.display().to_string(),
        shape: args.to,
        read: sources.iter().map(|(_, o)| o.info.rows).sum(),
        written,
        rejected: rejects.len(),
        rejects_file: rejects_path.as_ref().map(|p| p.display().to_string()),
        redacted: redactor.as_ref().map(|r| Redacted {
            mode: match r.mode() {
                Mode::Fake(_) => RedactMode::Fake,
                _ => RedactMode::Placeholder,
            },
            counts: redacted,
        }),
    };
    match args.format {
        SummaryFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        SummaryFormat::Text => eprint!("{}", render(&summary, &rejects, &sources)),
    }
    let code = if written == 0 || (args.strict && !rejects.is_empty()) {
        exit::DATA
    } else {
        exit::OK
    };
    Ok(ExitCode::from(code))
}

fn input_summary<'a>(
    path: &Path,
    info: &'a SourceInfo,
    examples: usize,
    rejected: usize,
) -> InputSummary<'a> {
    InputSummary {
        path: path.display().to_string(),
        format: &info.format,
        encoding: &info.encoding,
        delimiter: info.delimiter.map(read::delimiter_name),
        sheet: info.sheet.as_deref(),
        skipped_sheets: &info.skipped_sheets,
        header_line: info.header_line,
        question_column: info.question_column.as_deref(),
        answer_column: info.answer_column.as_deref(),
        rows: info.rows,
        blank: info.blank,
        examples,
        rejected,
        notes: &info.notes,
    }
}

/// The redactor `--redact`, `--redact-names` and `--redact-key-file` ask for, if any.
fn redactor(args: &Args) -> anyhow::Result<Option<Redactor>> {
    let mode = match (args.redact, &args.redact_names) {
        (None, None) => return Ok(None),
        (Some(RedactMode::Fake), _) => Mode::Fake(fake_key(args.redact_key_file.as_deref())?),
        _ => Mode::Placeholder,
    };
    let mut scanner = Scanner::new();
    if let Some(path) = &args.redact_names {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Cannot read the name list `{}`", path.display()))?;
        let names = NameList::parse(&text)
            .with_context(|| format!("Cannot use the name list `{}`", path.display()))?;
        scanner = scanner.with_names(names);
    }
    Ok(Some(Redactor::new(scanner, mode)))
}

/// The secret behind fakes: without one anybody could recompute them and, a CPF having
/// only 10⁹ bases, test guesses until one matches.
fn fake_key(file: Option<&Path>) -> anyhow::Result<FakeKey> {
    let secret = match file {
        Some(path) => std::fs::read(path)
            .with_context(|| format!("Cannot read the redaction key `{}`", path.display()))?,
        None => match std::env::var_os("AFINAR_REDACT_KEY") {
            Some(v) if !v.is_empty() => v.into_encoded_bytes(),
            _ => bail!(
                "`--redact=fake` needs a secret so the fakes cannot be traced back; pass --redact-key-file FILE or set AFINAR_REDACT_KEY (or use --redact for placeholders)"
            ),
        },
    };
    let secret = secret.trim_ascii();
    if secret.is_empty() {
        bail!("The redaction key is empty; put a secret phrase in it");
    }
    Ok(FakeKey::from_secret(secret))
}

/// `3 CPF, 1 CNPJ, 2 e-mails`: the kinds replaced, in a fixed order.
fn redacted_text(counts: &Counts) -> String {
    let parts: Vec<String> = Kind::ALL
        .iter()
        .filter(|k| counts.get(**k) > 0)
        .map(|k| {
            let n = counts.get(*k);
            match (k, n) {
                (Kind::Cpf | Kind::Cnpj, _) | (_, 1) => format!("{n} {k}"),
                _ => format!("{n} {k}s"),
            }
        })
        .collect();
    if parts.is_empty() {
        "nothing found".to_owned()
    } else {
        parts.join(", ")
    }
}

/// `out/train.jsonl` → `out/train.rejects.jsonl`.
fn default_rejects_path(output: &Path) -> PathBuf {
    let stem = output
        .file_stem()
        .map_or_else(|| "out".into(), |s| s.to_string_lossy().into_owned());
    output.with_file_name(format!("{stem}.rejects.jsonl"))
}

/// How many rejects the text summary lists before "… and N more".
const SHOWN_REJECTS: usize = 20;

fn render(s: &Summary<'_>, rejects: &[Reject], sources: &[(PathBuf, ReadOutput)]) -> String {
    use std::fmt::Write;
    let mut t = String::new();
    for (input, (_, out)) in s.inputs.iter().zip(sources) {
        let mut details = vec![input.format.to_owned()];
        if !input.encoding.is_empty() {
            details.push(input.encoding.to_owned());
        }
        if let Some(d) = &input.delimiter {
            details.push(format!("delimiter `{d}`"));
        }
        if let Some(sheet) = input.sheet {
            let mut text = format!("sheet `{sheet}`");
            if !input.skipped_sheets.is_empty() {
                let names: Vec<String> = input
                    .skipped_sheets
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect();
                let _ = write!(text, " (skipped {})", names.join(", "));
            }
            details.push(text);
        }
        // A spreadsheet numbers rows, a text file lines.
        let place = if input.sheet.is_some() { "row" } else { "line" };
        if let (Some(line), Some(q), Some(a)) = (
            input.header_line,
            input.question_column,
            input.answer_column,
        ) {
            details.push(format!(
                "header on {place} {line}: question `{q}`, answer `{a}`"
            ));
        }
        if out.info.bom {
            details.push("BOM".into());
        }
        let unit = match input.format {
            f if f.starts_with("json") => ("line", "lines"),
            "markdown" => ("question", "questions"),
            _ => ("row", "rows"),
        };
        let _ = writeln!(t, "Read `{}` ({})", input.path, details.join(", "));
        let mut counts = format!(
            "  {}: {}, {} rejected",
            ui::count(input.rows, unit.0, unit.1),
            ui::count(input.examples as u64, "example", "examples"),
            input.rejected
        );
        if input.blank > 0 {
            let _ = write!(counts, "; {} blank skipped", input.blank);
        }
        if !out.info.skipped_above_header.is_empty() {
            let lines: Vec<String> = out
                .info
                .skipped_above_header
                .iter()
                .map(u64::to_string)
                .collect();
            let _ = write!(
                counts,
                "; title rows above the header skipped ({place}s {})",
                lines.join(", ")
            );
        }
        let _ = writeln!(t, "{counts}");
        for note in &out.info.notes {
            let _ = writeln!(t, "  note: {note}");
        }
    }
    let shape = match s.shape {
        Shape::Chat => "chat",
        Shape::Completion => "prompt/completion",
        Shape::Dpo => "DPO",
    };
    let target = if s.output == "-" {
        "standard output".to_owned()
    } else {
        format!("`{}`", s.output)
    };
    let _ = writeln!(
        t,
        "Wrote {} ({shape}) to {target}",
        ui::count(s.written as u64, "example", "examples")
    );
    if let Some(r) = &s.redacted {
        let how = match r.mode {
            RedactMode::Placeholder => "placeholders",
            RedactMode::Fake => "consistent fakes",
        };
        let _ = writeln!(
            t,
            "Masked personal data with {how}: {}",
            redacted_text(&r.counts)
        );
    }
    if s.written == 0 {
        let _ = writeln!(
            t,
            "{} no examples were written",
            ui::paint("warning:", "1;33")
        );
    }
    if !rejects.is_empty() {
        let place = s
            .rejects_file
            .as_ref()
            .map_or(String::new(), |p| format!(", written to `{p}`"));
        let _ = writeln!(
            t,
            "Rejected {}{place}:",
            ui::count(rejects.len() as u64, "row", "rows")
        );
        let shown = if s.rejects_file.is_some() {
            SHOWN_REJECTS
        } else {
            usize::MAX
        };
        for r in rejects.iter().take(shown) {
            let _ = writeln!(t, "  {}: {}", r.origin, r.reason);
        }
        if rejects.len() > shown {
            let _ = writeln!(t, "  … and {} more", rejects.len() - shown);
        }
    }
    t
}
