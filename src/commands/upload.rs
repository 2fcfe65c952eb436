//! `afinar upload`: re-check JSONL files for the service, then upload them for
//! fine-tuning.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use afinar_check::preflight::{Gate, Request, Role};
use afinar_openai::FileObject;
use serde::Serialize;

use super::remote::{self, RemoteArgs};
use crate::ui::exit;

/// The model whose rules `upload` checks with when `--model` is not given.
const DEFAULT_MODEL: &str = "gpt-4.1-mini";

const EXAMPLES: &str = "\
Examples:
  # Upload a training file to OpenAI (OPENAI_API_KEY set); prints the file id
  afinar upload train.jsonl

  # Check against a particular model's rules first, and answer in JSON
  afinar upload train.jsonl valid.jsonl --model gpt-4o-mini-2024-07-18 --format json

  # Azure OpenAI (AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY set); a UTF-8 BOM is
  # added when the file has none, as Azure wants
  afinar upload train.jsonl --provider azure

  # Together AI (TOGETHER_API_KEY set): POST /files, the bytes to the signed URL it
  # answers with, then preprocess; prints the file id
  afinar upload train.jsonl --provider together --model Qwen/Qwen3-8B

  # Fireworks AI (FIREWORKS_API_KEY, FIREWORKS_ACCOUNT_ID): a dataset, waited on until
  # READY; prints its name (accounts/ID/datasets/…)
  afinar upload train.jsonl --provider fireworks --model qwen3-8b

Every file is checked as `afinar check` would before anything is sent; a file with any
error is refused (exit 1) and nothing is uploaded; Fireworks takes chat lines only.
OpenAI files over 512 MB go in 64 MB parts; Fireworks files of 150 MB or more go to a
signed URL; Together files over 5 GiB are refused (its multipart upload is not done).
Environment: OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID;
AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, AZURE_OPENAI_API_VERSION (dated API);
TOGETHER_API_KEY, TOGETHER_BASE_URL; FIREWORKS_API_KEY, FIREWORKS_ACCOUNT_ID,
FIREWORKS_BASE_URL.
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

#[derive(Serialize)]
struct Uploaded<'a> {
    path: String,
    check: &'a Gate,
    file: FileObject,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    remote::exit_remote(upload(args))
}

fn upload(args: Args) -> anyhow::Result<ExitCode> {
    let client = args.remote.client()?;
    let target = client.provider().flag();
    let mut gates = Vec::new();
    for path in &args.files {
        let gate = remote::gate(&Request {
            path,
            target,
            model: &args.model,
            role: Role::Training,
            method_formats: None,
        })?;
        remote::print_gate(&gate);
        gates.push(gate);
    }
    if gates.iter().any(|g| !g.passed()) {
        return Ok(remote::refuse(&gates.iter().collect::<Vec<_>>()));
    }
    let mut done = Vec::new();
    for (path, gate) in args.files.iter().zip(&gates) {
        let file = remote::upload_one(&client, path)?;
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
