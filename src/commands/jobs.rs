//! `afinar jobs`: list, show, follow, checkpoints, cancel, pause and resume fine-tuning
//! jobs.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use afinar_openai::{Checkpoint, Job, utc};
use serde_json::json;

use super::remote::{self, RemoteArgs, exit_remote, parse_interval};
use crate::ui::exit;

const EXAMPLES: &str = "\
Examples:
  # The latest jobs, newest first
  afinar jobs list --limit 5

  # Watch a job: events, step metrics and the loss curve; ends with the model's name
  afinar jobs follow ftjob-abc123

  # Everything about a job, as JSON
  afinar jobs show ftjob-abc123 --format json

  # Checkpoints (usable models from the last epochs) with their metrics
  afinar jobs checkpoints ftjob-abc123

  # Stop, pause or resume a job
  afinar jobs cancel ftjob-abc123
  afinar jobs pause ftjob-abc123
  afinar jobs resume ftjob-abc123

  # Together AI and Fireworks AI: the same commands with --provider (follow, list, show;
  # cancel on Together)
  afinar jobs follow ft-8c4d2e --provider together
  afinar jobs list --provider fireworks

`follow` exits 0 when the job succeeds (the fine-tuned model's name on standard output)
and 3 when it fails or is cancelled (the job's error on standard error), as for any
error from the service. With --format json, `follow` writes one JSON object per line:
{\"event\": …} as events arrive, then {\"job\": …}.";

/// Inspect and control fine-tuning jobs.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// List jobs, newest first.
    List {
        /// How many.
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: u32,
        /// Start after this job id (from the previous page).
        #[arg(long, value_name = "ID")]
        after: Option<String>,
    },
    /// Show one job.
    Show { id: String },
    /// Follow a job to its end: events, metrics, the loss curve, the model's name.
    Follow {
        id: String,
        /// Seconds between polls.
        #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_interval)]
        interval: f64,
    },
    /// List a job's checkpoints.
    Checkpoints { id: String },
    /// Cancel a job.
    Cancel { id: String },
    /// Pause a running job.
    Pause { id: String },
    /// Resume a paused job.
    Resume { id: String },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    exit_remote(jobs(args))
}

fn jobs(args: Args) -> anyhow::Result<ExitCode> {
    let client = args.remote.client()?;
    let json = args.remote.json();
    match args.action {
        Action::List { limit, after } => {
            let page = client.list_jobs(after.as_deref(), Some(limit))?;
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &page)?;
                writeln!(out)?;
            } else {
                write_table(&mut out, &page.data)?;
                if page.data.is_empty() {
                    eprintln!("No fine-tuning jobs");
                }
                let next = page
                    .next_page_token
                    .as_deref()
                    .or(page.data.last().map(|j| j.id.as_str()));
                if let (true, Some(after)) = (page.has_more, next) {
                    let provider = args
                        .remote
                        .provider
                        .map(|p| format!(" --provider {}", p.provider().flag()))
                        .unwrap_or_default();
                    eprintln!("More: afinar jobs list --after {after}{provider}");
                }
            }
        }
        Action::Show { id } => {
            let job = client.retrieve_job(&id)?;
            print_job(&job, json)?;
        }
        Action::Follow { id, interval } => {
            return remote::follow_job(&client, &id, Duration::from_secs_f64(interval), json);
        }
        Action::Checkpoints { id } => {
            let checkpoints = client.checkpoints(&id)?;
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &json!({ "data": checkpoints }))?;
                writeln!(out)?;
            } else if checkpoints.is_empty() {
                eprintln!("Job `{id}` has no checkpoints yet");
            } else {
                write_checkpoints(&mut out, &checkpoints)?;
            }
        }
        Action::Cancel { id } => print_job(&client.cancel_job(&id)?, json)?,
        Action::Pause { id } => print_job(&client.pause_job(&id)?, json)?,
        Action::Resume { id } => print_job(&client.resume_job(&id)?, json)?,
    }
    Ok(ExitCode::from(exit::OK))
}

fn print_job(job: &Job, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, job)?;
        writeln!(out)?;
        return Ok(());
    }
    let mut row = |k: &str, v: Option<String>| -> std::io::Result<()> {
        match v {
            Some(v) => writeln!(out, "{k:<17} {v}"),
            None => Ok(()),
        }
    };
    row("id", Some(job.id.clone()))?;
    row("status", Some(job.status.to_string()))?;
    row("model", job.model.clone())?;
    row("fine-tuned model", job.fine_tuned_model.clone())?;
    row("training file", job.training_file.clone())?;
    row("validation file", job.validation_file.clone())?;
    row("created", job.created_at.map(utc))?;
    row("finished", job.finished_at.map(utc))?;
    row(
        "estimated finish",
        job.estimated_finish
            .map(utc)
            .filter(|_| !job.status.is_terminal()),
    )?;
    row("trained tokens", job.trained_tokens.map(|n| n.to_string()))?;
    row("seed", job.seed.map(|n| n.to_string()))?;
    let method = job.method.as_ref();
    row(
        "method",
        method
            .and_then(|m| m.get("type"))
            .and_then(|t| t.as_str())
            .map(str::to_owned),
    )?;
    let hyper = method
        .and_then(|m| {
            m.get("type")
                .and_then(|t| t.as_str())
                .and_then(|t| m.get(t))
        })
        .and_then(|m| m.get("hyperparameters"))
        .or(job.hyperparameters.as_ref());
    row("hyperparameters", hyper.map(|h| h.to_string()))?;
    row("error", job.failure().map(|e| e.to_string()))?;
    Ok(())
}

fn write_table(out: &mut impl Write, jobs: &[Job]) -> std::io::Result<()> {
    let rows: Vec<[String; 5]> = jobs
        .iter()
        .map(|j| {
            [
                j.id.clone(),
                j.status.to_string(),
                j.model.clone().unwrap_or_default(),
                j.fine_tuned_model.clone().unwrap_or_else(|| "-".into()),
                j.created_at.map(utc).unwrap_or_default(),
            ]
        })
        .collect();
    let header = ["ID", "STATUS", "MODEL", "FINE-TUNED MODEL", "CREATED"].map(String::from);
    write_rows(out, &header, &rows)
}

fn write_checkpoints(out: &mut impl Write, cps: &[Checkpoint]) -> std::io::Result<()> {
    let num = |x: Option<f64>| x.map(|x| format!("{x:.4}")).unwrap_or_else(|| "-".into());
    let rows: Vec<[String; 5]> = cps
        .iter()
        .map(|c| {
            let m = c.metrics.clone().unwrap_or_default();
            [
                c.step_number
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into()),
                c.fine_tuned_model_checkpoint
                    .clone()
                    .unwrap_or_else(|| c.id.clone()),
                num(m.train_loss),
                num(m.full_valid_loss.or(m.valid_loss)),
                num(m
                    .full_valid_mean_token_accuracy
                    .or(m.valid_mean_token_accuracy)),
            ]
        })
        .collect();
    let header = [
        "STEP",
        "CHECKPOINT MODEL",
        "TRAIN LOSS",
        "VALID LOSS",
        "VALID ACC",
    ]
    .map(String::from);
    write_rows(out, &header, &rows)
}

fn write_rows<const N: usize>(
    out: &mut impl Write,
    header: &[String; N],
    rows: &[[String; N]],
) -> std::io::Result<()> {
    let mut widths = [0usize; N];
    for r in std::iter::once(header).chain(rows) {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for r in std::iter::once(header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, w)) in r.iter().zip(widths).enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
