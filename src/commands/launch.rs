//! `afinar launch`: check, upload and start a fine-tuning job, then follow it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use afinar_check::Format;
use afinar_openai::{
    Hyperparameters, JobRequest, Method, check_batch_size, check_beta, check_epochs,
    check_learning_rate_multiplier, check_seed, check_suffix,
};
use clap::ValueEnum;
use serde_json::json;

use super::jobs;
use super::upload::{self, RemoteArgs, Role};
use crate::ui::exit;

const EXAMPLES: &str = "\
Examples:
  # Fine-tune on OpenAI and follow the job to the end (prints the job id, then the
  # fine-tuned model's name)
  afinar launch --training train.jsonl --validation valid.jsonl \\
      --model gpt-4.1-mini-2025-04-14 --suffix simples-nacional

  # Set hyperparameters; start the job and return at once
  afinar launch --training train.jsonl --model gpt-4o-mini-2024-07-18 \\
      --epochs 3 --batch-size 8 --learning-rate-multiplier 0.5 --seed 42 --detach

  # Preference tuning (DPO) on Azure OpenAI
  afinar launch --training prefs.jsonl --model gpt-4.1-mini-2025-04-14 \\
      --method dpo --beta 0.1 --provider azure

  # See what would be sent, without uploading anything
  afinar launch --training train.jsonl --model gpt-4.1-mini-2025-04-14 --dry-run

Both files are checked for the model first; if either has an error nothing is uploaded
(exit 1). The suffix (letters, digits, `-`, `_`; at most 64) and the hyperparameters
(epochs 1-50, batch size 1-256, learning rate multiplier > 0, beta in (0, 2]) are checked
before any request. A model nobody can fine-tune at the provider any more (afinar's
lifecycle table: `afinar models`) is refused (exit 2) unless --force; one closed to new
customers, or closing soon, is a warning. Ctrl-C stops following, not the job: `afinar jobs follow ID` picks
it up again. Exit codes: 0 the job succeeded (or started, with --detach), 1 a file has
errors, 2 usage or I/O error, 3 the service failed or the job failed or was cancelled.";

/// Check and upload training data, start a fine-tuning job and follow it.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES, allow_negative_numbers = true)]
pub struct Args {
    /// Training data (JSONL).
    #[arg(long, value_name = "FILE")]
    training: PathBuf,
    /// Validation data (JSONL).
    #[arg(long, value_name = "FILE")]
    validation: Option<PathBuf>,
    /// The base model (or a fine-tuned model to continue from).
    #[arg(long, value_name = "MODEL")]
    model: String,
    /// Added to the fine-tuned model's name.
    #[arg(long, value_name = "SUFFIX", value_parser = check_suffix)]
    suffix: Option<String>,
    /// Epochs [default: chosen by the service].
    #[arg(long, value_name = "N", value_parser = parse_epochs)]
    epochs: Option<u32>,
    /// Batch size [default: chosen by the service].
    #[arg(long, value_name = "N", value_parser = parse_batch_size)]
    batch_size: Option<u32>,
    /// Learning rate multiplier [default: chosen by the service].
    #[arg(long, value_name = "X", value_parser = parse_lrm)]
    learning_rate_multiplier: Option<f64>,
    /// Training method.
    #[arg(long, value_enum, default_value_t = MethodArg::Supervised)]
    method: MethodArg,
    /// DPO's beta: how strongly to keep close to the base model (only with --method dpo).
    #[arg(long, value_name = "X", value_parser = parse_beta)]
    beta: Option<f64>,
    /// Seed, for a reproducible job.
    #[arg(long, value_name = "N", value_parser = parse_seed)]
    seed: Option<u32>,
    /// Check the files and show the request; upload nothing.
    #[arg(long)]
    dry_run: bool,
    /// Return once the job is created, without following it.
    #[arg(long)]
    detach: bool,
    /// Launch even when afinar's lifecycle table says nobody can fine-tune the model at
    /// this provider any more (see `afinar models`).
    #[arg(long)]
    force: bool,
    /// Seconds between polls while following.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = jobs::parse_interval)]
    interval: f64,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MethodArg {
    Supervised,
    Dpo,
}

fn parse_epochs(s: &str) -> Result<u32, String> {
    check_epochs(
        s.parse()
            .map_err(|_| format!("`{s}` is not a whole number"))?,
    )
}

fn parse_batch_size(s: &str) -> Result<u32, String> {
    check_batch_size(
        s.parse()
            .map_err(|_| format!("`{s}` is not a whole number"))?,
    )
}

fn parse_lrm(s: &str) -> Result<f64, String> {
    check_learning_rate_multiplier(s.parse().map_err(|_| format!("`{s}` is not a number"))?)
}

fn parse_beta(s: &str) -> Result<f64, String> {
    check_beta(s.parse().map_err(|_| format!("`{s}` is not a number"))?)
}

fn parse_seed(s: &str) -> Result<u32, String> {
    check_seed(
        s.parse()
            .map_err(|_| format!("`{s}` is not a whole number from 0"))?,
    )
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    upload::exit_remote(launch(args))
}

fn launch(args: Args) -> anyhow::Result<ExitCode> {
    let method = match args.method {
        MethodArg::Supervised => Method::Supervised,
        MethodArg::Dpo => Method::Dpo,
    };
    let mut request = JobRequest {
        model: args.model.clone(),
        training_file: String::new(),
        validation_file: None,
        suffix: args.suffix.clone(),
        seed: args.seed,
        method,
        hyperparameters: Hyperparameters {
            n_epochs: args.epochs,
            batch_size: args.batch_size,
            learning_rate_multiplier: args.learning_rate_multiplier,
            beta: args.beta,
        },
    };
    let problems = request.problems();
    if !problems.is_empty() {
        anyhow::bail!("The job cannot be started: {}", problems.join("; "));
    }
    let target = super::training::remote_target(&args.remote);
    super::training::gate_launch(&args.model, &target, args.force)?;
    // Credentials are looked at before the (possibly long) check, and not at all for a
    // dry run.
    let client = if args.dry_run {
        None
    } else {
        Some(args.remote.client()?)
    };

    let want: &[Format] = match method {
        Method::Dpo => &[Format::Dpo],
        _ => &[Format::Chat, Format::Completion],
    };
    let training = upload::precheck(&args.training, &args.model, Role::Training, Some(want))?;
    upload::print_gate(&training);
    let validation = match &args.validation {
        Some(path) => {
            let gate = upload::precheck(path, &args.model, Role::Validation, Some(want))?;
            upload::print_gate(&gate);
            Some(gate)
        }
        None => None,
    };
    let gates: Vec<&upload::Gate> = std::iter::once(&training)
        .chain(validation.as_ref())
        .collect();
    if gates.iter().any(|g| !g.passed()) {
        return Ok(upload::refuse(&gates));
    }

    let Some(client) = client else {
        request.training_file = "<training file id>".into();
        if args.validation.is_some() {
            request.validation_file = Some("<validation file id>".into());
        }
        eprintln!("Dry run: nothing was uploaded; the job would be created with:");
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(
            &mut out,
            &json!({ "dry_run": true, "checks": gates, "request": request.to_json() }),
        )?;
        writeln!(out)?;
        return Ok(ExitCode::from(exit::OK));
    };

    let training_file = upload::upload_one(&client, &args.training)?;
    let validation_file = match &args.validation {
        Some(path) => Some(upload::upload_one(&client, path)?),
        None => None,
    };
    request.training_file = training_file.id.clone();
    request.validation_file = validation_file.as_ref().map(|f| f.id.clone());
    let job = client.create_job(&request)?;
    eprintln!("Created fine-tuning job {} ({})", job.id, job.status);

    let json = args.remote.json();
    if !json {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", job.id)?;
    }
    if args.detach {
        if json {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(
                &mut out,
                &json!({ "training_file": training_file, "validation_file": validation_file, "job": job }),
            )?;
            writeln!(out)?;
        } else {
            eprintln!("Follow it with `afinar jobs follow {}`", job.id);
        }
        return Ok(ExitCode::from(exit::OK));
    }
    jobs::follow(
        &client,
        &job.id,
        Duration::from_secs_f64(args.interval),
        json,
    )
}
