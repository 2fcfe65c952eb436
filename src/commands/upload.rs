//! `afinar upload`: re-check JSONL files, then upload them for fine-tuning. Also holds
//! what `launch` and `jobs` share: the provider flag, the client, the pre-upload check and
//! the exit code for remote errors.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use afinar_check::{CheckOptions, Format, Registry, Report};
use afinar_openai::{Client, FileObject, Provider};
use anyhow::Context;
use clap::ValueEnum;
use serde::Serialize;

use crate::ui::{self, exit};

/// Exit code for a remote service error (the CLI contract's 3).
pub(crate) use crate::ui::exit::REMOTE;

/// The model whose rules `upload` checks with when `--model` is not given.
pub(crate) const DEFAULT_MODEL: &str = "gpt-4.1-mini";

const EXAMPLES: &str = "\
Examples:
  # Upload a training file to OpenAI (OPENAI_API_KEY set); prints the file id
  afinar upload train.jsonl

  # Check against a particular model's rules first, and answer in JSON
  afinar upload train.jsonl valid.jsonl --model gpt-4o-mini-2024-07-18 --format json

  # Azure OpenAI (AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY set); a UTF-8 BOM is
  # added when the file has none, as Azure wants
  afinar upload train.jsonl --provider azure

Every file is checked as `afinar check` would before anything is sent; a file with any
error is refused (exit 1) and nothing is uploaded. Files over 512 MB go in 64 MB parts.
Environment: OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID;
AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, AZURE_OPENAI_API_VERSION (dated API).
Exit codes: 0 uploaded, 1 a file has errors, 2 usage or I/O error, 3 the service failed.";

/// Check JSONL files and upload them for fine-tuning (purpose `fine-tune`).
///
/// Prints one file id per line on standard output.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// JSONL files to upload.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Check the files against this model's rules and token limit.
    #[arg(long, value_name = "MODEL", default_value = DEFAULT_MODEL)]
    model: String,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Flags every remote command takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RemoteArgs {
    /// The service [default: openai when OPENAI_API_KEY is set, else azure].
    #[arg(long, value_enum, global = true)]
    pub provider: Option<ProviderArg>,
    /// Output: text, or JSON on standard output.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProviderArg {
    Openai,
    Azure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Text,
    Json,
}

impl RemoteArgs {
    pub(crate) fn client(&self) -> anyhow::Result<Client> {
        let provider = self.provider.map(|p| match p {
            ProviderArg::Openai => Provider::OpenAi,
            ProviderArg::Azure => Provider::Azure,
        });
        Ok(Client::from_env(provider)?)
    }

    pub(crate) fn json(&self) -> bool {
        self.format == OutputFormat::Json
    }
}

/// Renders a remote failure (service answer, connection, bad JSON) and exits 3; other
/// errors go back to `main` (exit 2).
pub(crate) fn exit_remote(result: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    match result {
        Err(err)
            if err.chain().any(|c| {
                c.downcast_ref::<afinar_openai::Error>()
                    .is_some_and(afinar_openai::Error::is_remote)
            }) =>
        {
            ui::report_error(&err);
            Ok(ExitCode::from(REMOTE))
        }
        other => other,
    }
}

/// What a file is for: a validation file may be small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Training,
    Validation,
}

/// The result of checking one file before upload.
#[derive(Debug, Serialize)]
pub(crate) struct Gate {
    pub file: String,
    pub model: String,
    pub examples: u64,
    pub format: Option<Format>,
    /// Errors that block the upload.
    pub errors: u64,
    pub warnings: u64,
    /// The first blocking problems, as `file:line: code: message`.
    pub problems: Vec<String>,
}

impl Gate {
    pub(crate) fn passed(&self) -> bool {
        self.errors == 0
    }
}

/// The shown problems per file.
const SHOWN: usize = 10;

/// Checks `path` as `afinar check --model MODEL` would. With `want`, the file must hold
/// that format (DPO for `--method dpo`, chat or prompt/completion otherwise).
pub(crate) fn precheck(
    path: &Path,
    model: &str,
    role: Role,
    want: Option<&[Format]>,
) -> anyhow::Result<Gate> {
    let registry = Registry::builtin();
    let info = match registry.lookup(model) {
        Some(info) => info.clone(),
        None => {
            // A model newer than afinar's table: check with the nearest general rules
            // rather than refuse to launch.
            eprintln!(
                "warning: model `{model}` is not in afinar's model table; checking with the \
                 rules of `{DEFAULT_MODEL}` (see `afinar models`)"
            );
            registry
                .lookup(DEFAULT_MODEL)
                .cloned()
                .with_context(|| format!("The model table has no `{DEFAULT_MODEL}`"))?
        }
    };
    let mut opts = CheckOptions::new(info);
    opts.model_name = model.to_owned();
    opts.max_listed = SHOWN;
    let report: Report = afinar_check::check_path(path, &opts, &mut |_| Ok(()))
        .with_context(|| format!("Could not check `{}`", path.display()))?;
    let file = path.display().to_string();
    let blocking = |f: &afinar_check::Finding| {
        f.is_error() && !(role == Role::Validation && f.code.as_str() == "too_few_examples")
    };
    let skipped = if role == Role::Validation {
        report.codes.get("too_few_examples").copied().unwrap_or(0)
    } else {
        0
    };
    let mut errors = report.errors_total.saturating_sub(skipped);
    let mut problems: Vec<String> = report
        .errors
        .iter()
        .filter(|f| blocking(f))
        .map(|f| match f.line {
            Some(line) => format!("{file}:{line}: {}: {}", f.code, f.message),
            None => format!("{file}: {}: {}", f.code, f.message),
        })
        .collect();
    if let (Some(want), Some(found)) = (want, report.format)
        && !want.contains(&found)
    {
        errors += 1;
        let names: Vec<&str> = want.iter().map(|f| f.describe()).collect();
        problems.push(format!(
            "{file}: holds {} examples; this method needs {}",
            found.describe(),
            names.join(" or ")
        ));
    }
    Ok(Gate {
        file,
        model: model.to_owned(),
        examples: report.examples,
        format: report.format,
        errors,
        warnings: report.warnings_total,
        problems,
    })
}

/// Prints a gate's verdict on standard error.
pub(crate) fn print_gate(gate: &Gate) {
    let verdict = if gate.passed() {
        ui::paint("ok", "32")
    } else {
        ui::paint("refused", "1;31")
    };
    eprintln!(
        "Checked `{}` for `{}`: {} examples, {} {}, {} {} ({verdict})",
        gate.file,
        gate.model,
        gate.examples,
        gate.errors,
        plural(gate.errors, "error", "errors"),
        gate.warnings,
        plural(gate.warnings, "warning", "warnings"),
    );
    for p in &gate.problems {
        eprintln!("  {p}");
    }
    if gate.errors as usize > gate.problems.len() {
        eprintln!(
            "  … and {} more",
            gate.errors as usize - gate.problems.len()
        );
    }
}

/// The refusal message when a gate did not pass.
pub(crate) fn refuse(gates: &[&Gate]) -> ExitCode {
    let bad: Vec<String> = gates
        .iter()
        .filter(|g| !g.passed())
        .map(|g| format!("`{}`", g.file))
        .collect();
    eprintln!(
        "{} {} {} errors; nothing was uploaded. See `afinar check FILE --model MODEL`, fix, \
         and try again",
        ui::paint("error:", "1;31"),
        bad.join(" and "),
        if bad.len() == 1 { "has" } else { "have" },
    );
    ExitCode::from(exit::DATA)
}

pub(crate) fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Uploads one file, saying so on standard error.
pub(crate) fn upload_one(client: &Client, path: &Path) -> anyhow::Result<FileObject> {
    let file = client.upload_file(path)?;
    eprintln!(
        "Uploaded `{}` to {} as {}",
        path.display(),
        client.provider().name(),
        file.id
    );
    Ok(file)
}

#[derive(Serialize)]
struct Uploaded<'a> {
    path: String,
    check: &'a Gate,
    file: FileObject,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    exit_remote(upload(args))
}

fn upload(args: Args) -> anyhow::Result<ExitCode> {
    let client = args.remote.client()?;
    let mut gates = Vec::new();
    for path in &args.files {
        let gate = precheck(path, &args.model, Role::Training, None)?;
        print_gate(&gate);
        gates.push(gate);
    }
    if gates.iter().any(|g| !g.passed()) {
        return Ok(refuse(&gates.iter().collect::<Vec<_>>()));
    }
    let mut done = Vec::new();
    for (path, gate) in args.files.iter().zip(&gates) {
        let file = upload_one(&client, path)?;
        done.push(Uploaded {
            path: path.display().to_string(),
            check: gate,
            file,
        });
    }
    let mut out = std::io::stdout().lock();
    if args.remote.json() {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "files": done }))?;
        writeln!(out)?;
    } else {
        for u in &done {
            writeln!(out, "{}", u.file.id)?;
        }
    }
    Ok(ExitCode::from(exit::OK))
}
