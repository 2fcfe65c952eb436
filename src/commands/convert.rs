//! `afinar convert`: sources in, chat or prompt/completion JSONL out, rejects beside it.

use std::path::PathBuf;
use std::process::ExitCode;

use afinar_core::{CompletionOptions, SystemPolicy};
use afinar_formats::read;
use afinar_pipeline::convert::{ConvertOutputs, convert_with, json_line};
use afinar_pipeline::flow::{ConvertSpec, ReadSpec};
use afinar_pipeline::stage::redact::{Environment, RedactMode, RedactSpec};
use afinar_pipeline::stage::shape::{Format, ShapeSpec};
use afinar_pipeline::stage::system::SystemSpec;
use afinar_pipeline::stage::target::TargetSpec;
use anyhow::bail;
use clap::ValueEnum;

use super::convert_summary::render;
use crate::progress::{Bars, QuietArg};
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
valid (then OUT is not created or replaced; the rejects file is still written), 2 usage
or I/O error.";

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
    /// Where the data goes: openai (the default), azure, together, fireworks, vertex,
    /// bedrock, trl, llama-factory or axolotl. Writes that target's lines (Vertex AI
    /// `contents`, Bedrock `bedrock-conversation-2024`, TRL `prompt`/`chosen`/`rejected`,
    /// LLaMA-Factory ShareGPT; a BOM for Azure) and rejects, with the reason, what it
    /// cannot take (a shape, a role, tool calls, turns that must alternate).
    #[arg(long, value_name = "TARGET")]
    target: Option<String>,
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
    #[arg(long, value_name = "C", value_parser = afinar_formats::read::parse_delimiter)]
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
    redact: Option<RedactFlag>,
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
    #[command(flatten)]
    quiet: QuietArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RedactFlag {
    Placeholder,
    Fake,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
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
    match read::encoding::for_label(s) {
        Some(_) => Ok(s.to_owned()),
        None => Err(format!(
            "Unknown encoding `{s}`; use utf-8, utf-16le, utf-16be, windows-1252, latin1 or macintosh"
        )),
    }
}

fn format(shape: Shape) -> Format {
    match shape {
        Shape::Chat => Format::Chat,
        Shape::Completion => Format::Completion,
        Shape::Dpo => Format::Dpo,
    }
}

/// The flags, resolved into the settings a pipeline source resolves into.
fn spec(args: &Args) -> ConvertSpec {
    let mut spec = ConvertSpec {
        read: ReadSpec {
            question: args.question.clone(),
            answer: args.answer.clone(),
            delimiter: args.delimiter,
            encoding: args.encoding.clone(),
            sheet: args.sheet.clone(),
            role_aliases: args.role_aliases.clone(),
            normalize: !args.no_normalize,
            keep_markers: args.keep_markers,
        },
        system: SystemSpec {
            text: args.system.clone(),
            drop: false,
        },
        redact: (args.redact.is_some() || args.redact_names.is_some()).then(|| RedactSpec {
            mode: match args.redact {
                Some(RedactFlag::Fake) => RedactMode::Fake,
                _ => RedactMode::Placeholder,
            },
            names: args.redact_names.as_ref().map(|p| p.display().to_string()),
            key_file: args
                .redact_key_file
                .as_ref()
                .map(|p| p.display().to_string()),
        }),
        shape: ShapeSpec {
            format: format(args.to),
            completion: CompletionOptions {
                system: SystemPolicy::Keep,
                prompt_suffix: ui::unescape(&args.prompt_suffix),
                completion_prefix: ui::unescape(&args.completion_prefix),
                completion_suffix: ui::unescape(&args.completion_suffix),
            },
        },
        target: args
            .target
            .as_ref()
            .map(|t| TargetSpec { target: t.clone() }),
    };
    spec.system_policy(match args.system_policy {
        Policy::Keep => SystemPolicy::Keep,
        Policy::Drop => SystemPolicy::Drop,
        Policy::Prepend => SystemPolicy::Prepend,
    });
    spec
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let target = match &args.target {
        Some(t) => Some(afinar_check::targets::lookup(t)?),
        None => None,
    };
    let parquet_out = args
        .output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    if parquet_out && target.is_some() {
        bail!("Parquet output has no target dialect; write JSONL with --target");
    }
    ui::check_output(
        &args.inputs,
        &args.output,
        args.format == SummaryFormat::Json,
    )?;
    let outputs = ConvertOutputs::new(
        args.output.clone(),
        args.rejects.clone(),
        args.bom,
        args.strict,
    );
    let bars = Bars::new(args.quiet);
    let report = convert_with(
        &spec(&args),
        &args.inputs,
        &outputs,
        &Environment,
        &bars,
        &json_line,
    )?;
    drop(bars);
    let mut summary = report.summary(format(args.to), &outputs);
    summary.target = target.map(|t| t.name.as_str());
    match args.format {
        SummaryFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        SummaryFormat::Text => eprint!("{}", render(&summary, report.rejects())),
    }
    Ok(ExitCode::from(if report.not_written.is_some() {
        exit::DATA
    } else {
        exit::OK
    }))
}
