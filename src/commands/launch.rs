//! `afinar launch`: check, upload and start a fine-tuning job, then follow it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use afinar_check::Format;
use afinar_check::preflight::{Gate, Request, Role};
use afinar_openai::plan::{self, PlannedFile};
use afinar_openai::{
    Config, Hyperparameters, JobRequest, Method, Provider, TrainingType, check_batch_size,
    check_beta, check_epochs, check_learning_rate, check_learning_rate_multiplier, check_lora_rank,
    check_seed,
};
use clap::ValueEnum;
use serde_json::json;

use super::remote::{self, RemoteArgs, parse_interval};
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

  # Azure AI Foundry's open models train on Global (or Developer) capacity
  afinar launch --training train.jsonl --model gpt-oss-20b --provider azure \\
      --training-type global-standard

  # Together AI (TOGETHER_API_KEY): LoRA by default, an absolute learning rate
  afinar launch --training train.jsonl --validation valid.jsonl --provider together \\
      --model Qwen/Qwen3-8B --epochs 3 --learning-rate 0.0001 --lora-rank 16 --suffix faq

  # Fireworks AI (FIREWORKS_API_KEY, FIREWORKS_ACCOUNT_ID); chat lines only
  afinar launch --training train.jsonl --provider fireworks --model qwen3-8b \\
      --epochs 2 --learning-rate 0.0001 --lora-rank 8 --suffix faq-simples

  # See each request that would be sent, without uploading anything (no key needed)
  afinar launch --training train.jsonl --model gpt-4.1-mini-2025-04-14 --dry-run
  afinar launch --training train.jsonl --model Qwen/Qwen3-8B --provider together --dry-run

Both files are checked for the model and the service first; if either has an error
nothing is uploaded (exit 1). The suffix (letters, digits, `-`, `_`; at most 64, 40 on
Together; a lowercase model id on Fireworks) and the hyperparameters (epochs 1-50, batch
size 1-256, learning rate multiplier > 0, learning rate in (0, 1], LoRA rank 1-256, beta
in (0, 2]) are checked before any request, and a flag the service does not take is a
usage error naming it: OpenAI and Azure take --learning-rate-multiplier and --seed;
Together and Fireworks take --learning-rate and --lora-rank; --training-type is
lora|full on Together and standard|global-standard|developer on Azure. A model nobody can fine-tune at the provider any more (afinar's lifecycle table:
`afinar models`) is refused (exit 2) unless --force; one closed to new customers, or
closing soon, is a warning. Ctrl-C stops following, not the job: `afinar jobs follow ID` picks
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
    #[arg(long, value_name = "SUFFIX", value_parser = parse_suffix)]
    suffix: Option<String>,
    /// Epochs [default: chosen by the service].
    #[arg(long, value_name = "N", value_parser = parse_epochs)]
    epochs: Option<u32>,
    /// Batch size [default: chosen by the service].
    #[arg(long, value_name = "N", value_parser = parse_batch_size)]
    batch_size: Option<u32>,
    /// Learning rate multiplier, OpenAI and Azure [default: chosen by the service].
    #[arg(long, value_name = "X", value_parser = parse_lrm)]
    learning_rate_multiplier: Option<f64>,
    /// Learning rate itself, Together and Fireworks [default: the service's, 0.00001 on
    /// Together].
    #[arg(long, value_name = "X", value_parser = parse_lr)]
    learning_rate: Option<f64>,
    /// Rank of the LoRA adapters, Together and Fireworks [default: 8 on Together].
    #[arg(long, value_name = "N", value_parser = parse_lora_rank)]
    lora_rank: Option<u32>,
    /// Together: `lora` (default) or `full`. Azure: `standard`, `global-standard` (its
    /// open models need Global) or `developer`.
    #[arg(long, value_name = "TYPE", value_parser = parse_training_type)]
    training_type: Option<TrainingType>,
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
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_interval)]
    interval: f64,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MethodArg {
    Supervised,
    Dpo,
}

// clap's value parsers: the number first, then the library's limit (its typed error,
// shown as clap shows any).
fn whole(s: &str) -> anyhow::Result<u32> {
    s.parse()
        .map_err(|_| anyhow::anyhow!("`{s}` is not a whole number"))
}

fn number(s: &str) -> anyhow::Result<f64> {
    s.parse()
        .map_err(|_| anyhow::anyhow!("`{s}` is not a number"))
}

fn parse_epochs(s: &str) -> anyhow::Result<u32> {
    Ok(check_epochs(whole(s)?)?)
}

fn parse_batch_size(s: &str) -> anyhow::Result<u32> {
    Ok(check_batch_size(whole(s)?)?)
}

fn parse_lrm(s: &str) -> anyhow::Result<f64> {
    Ok(check_learning_rate_multiplier(number(s)?)?)
}

fn parse_lr(s: &str) -> anyhow::Result<f64> {
    Ok(check_learning_rate(number(s)?)?)
}

fn parse_lora_rank(s: &str) -> anyhow::Result<u32> {
    Ok(check_lora_rank(whole(s)?)?)
}

fn parse_training_type(s: &str) -> anyhow::Result<TrainingType> {
    Ok(TrainingType::parse(s)?)
}

fn parse_beta(s: &str) -> anyhow::Result<f64> {
    Ok(check_beta(number(s)?)?)
}

fn parse_seed(s: &str) -> anyhow::Result<u32> {
    let n = s
        .parse()
        .map_err(|_| anyhow::anyhow!("`{s}` is not a whole number from 0"))?;
    Ok(check_seed(n)?)
}

/// The suffix's characters here; its length per provider in [`JobRequest::problems`].
fn parse_suffix(s: &str) -> anyhow::Result<String> {
    Ok(afinar_openai::check_suffix(s)?)
}

/// `afinar launch ARGS…` parsed from words (`afinar run --launch` builds them from the
/// pipeline's `[launch]`), and run.
pub fn run_words(words: &[String]) -> Result<anyhow::Result<ExitCode>, clap::Error> {
    #[derive(clap::Parser)]
    struct Launch {
        #[command(flatten)]
        args: Args,
    }
    let parsed = <Launch as clap::Parser>::try_parse_from(words)?;
    Ok(run(parsed.args))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    remote::exit_remote(launch(args))
}

fn launch(args: Args) -> anyhow::Result<ExitCode> {
    let method = match args.method {
        MethodArg::Supervised => Method::Supervised,
        MethodArg::Dpo => Method::Dpo,
    };
    let provider = args.remote.provider_or_default();
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
            learning_rate: args.learning_rate,
            lora_rank: args.lora_rank,
            beta: args.beta,
        },
        training_type: args.training_type,
    };
    let problems: Vec<String> = request
        .problems(provider)
        .iter()
        .map(ToString::to_string)
        .collect();
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
    let check = |path: &PathBuf, role| {
        let gate = remote::gate(&Request {
            path,
            target: provider.flag(),
            model: &args.model,
            role,
            method_formats: Some(want),
        })?;
        remote::print_gate(&gate);
        anyhow::Ok(gate)
    };
    let training = check(&args.training, Role::Training)?;
    let validation = match &args.validation {
        Some(path) => Some(check(path, Role::Validation)?),
        None => None,
    };
    let gates: Vec<&Gate> = std::iter::once(&training)
        .chain(validation.as_ref())
        .collect();
    if gates.iter().any(|g| !g.passed()) {
        return Ok(remote::refuse(&gates));
    }

    let Some(client) = client else {
        return dry_run(&args, provider, request, &gates);
    };

    let training_file = remote::upload_one(&client, &args.training)?;
    let validation_file = match &args.validation {
        Some(path) => Some(remote::upload_one(&client, path)?),
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
    remote::follow_job(
        &client,
        &job.id,
        Duration::from_secs_f64(args.interval),
        json,
    )
}

/// Prints the job's body and every request the provider would be sent, in order.
fn dry_run(
    args: &Args,
    provider: Provider,
    mut request: JobRequest,
    gates: &[&Gate],
) -> anyhow::Result<ExitCode> {
    let (training, validation) = match provider {
        Provider::Fireworks => ("<training dataset name>", "<validation dataset name>"),
        _ => ("<training file id>", "<validation file id>"),
    };
    request.training_file = training.into();
    if args.validation.is_some() {
        request.validation_file = Some(validation.into());
    }
    let mut files = Vec::new();
    for (path, placeholder) in std::iter::once((&args.training, training))
        .chain(args.validation.iter().map(|p| (p, validation)))
    {
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or_default();
        files.push(PlannedFile {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            bytes,
            placeholder: placeholder.into(),
        });
    }
    let requests = plan::requests(&Config::for_display(provider), &files, &request);
    eprintln!(
        "Dry run: nothing was uploaded; {} would be sent {} requests:",
        provider.name(),
        requests.len()
    );
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(
        &mut out,
        &json!({ "dry_run": true, "provider": provider.flag(), "checks": gates,
                 "request": request.body(provider), "requests": requests }),
    )?;
    writeln!(out)?;
    Ok(ExitCode::from(exit::OK))
}
