//! `afinar jobs`: list, show, follow, checkpoints, cancel, pause and resume fine-tuning
//! jobs.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use afinar_openai::{Checkpoint, Client, Event, Job, JobStatus, Metrics, utc};
use serde_json::json;

use super::upload::{REMOTE, RemoteArgs, exit_remote};
use crate::ui::{self, exit};

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

pub(crate) fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && (0.0..=3600.0).contains(&x) => Ok(x),
        _ => Err(format!("`{s}` is not a number of seconds from 0 to 3600")),
    }
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
                if let (true, Some(last)) = (page.has_more, page.data.last()) {
                    eprintln!("More: afinar jobs list --after {}", last.id);
                }
            }
        }
        Action::Show { id } => {
            let job = client.retrieve_job(&id)?;
            print_job(&job, json)?;
        }
        Action::Follow { id, interval } => {
            return follow(&client, &id, Duration::from_secs_f64(interval), json);
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

/// Polls the job and its events until the job ends. Events and metrics go to standard
/// error as they arrive (or as JSON lines on standard output); the loss curve follows;
/// the fine-tuned model's name goes to standard output. Exit 0 on success, 3 when the
/// job failed or was cancelled.
/// Failed polls in a row that `follow` waits through before giving up.
const MAX_OUTAGES: u32 = 5;

pub(crate) fn follow(
    client: &Client,
    id: &str,
    interval: Duration,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !json {
        eprintln!("Following job {id} (Ctrl-C stops following, not the job)");
    }
    let mut last_seen: Option<String> = None;
    let mut status: Option<JobStatus> = None;
    let mut metrics: Vec<Metrics> = Vec::new();
    let mut outages: u32 = 0;
    let job = loop {
        // The job first, then its events: when the job is seen finished, the events
        // read after it include the last ones.
        let polled = client
            .retrieve_job(id)
            .and_then(|job| Ok((job, client.events_since(id, last_seen.as_deref())?)));
        let (job, events) = match polled {
            Ok(answer) => {
                outages = 0;
                answer
            }
            // A job runs for hours: ride out an outage longer than the client's retries.
            Err(err) if err.is_transient() && outages < MAX_OUTAGES => {
                outages += 1;
                eprintln!("warning: {err}; polling again ({outages} of {MAX_OUTAGES})");
                std::thread::sleep(interval.max(Duration::from_millis(10)) * outages);
                continue;
            }
            Err(err) => return Err(err.into()),
        };
        if status.as_ref() != Some(&job.status) && !job.status.is_terminal() {
            if !json {
                eprintln!("status: {}", job.status);
            }
            status = Some(job.status.clone());
        }
        for event in &events {
            if let Some(m) = event.metrics() {
                metrics.push(m);
            }
            if json {
                let mut out = std::io::stdout().lock();
                serde_json::to_writer(&mut out, &json!({ "event": event }))?;
                writeln!(out)?;
            } else {
                eprintln!("{}", event_line(event));
            }
        }
        if let Some(last) = events.last() {
            last_seen = Some(last.id.clone());
        }
        if job.status.is_terminal() {
            break job;
        }
        std::thread::sleep(interval);
    };

    if json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, &json!({ "job": job }))?;
        writeln!(out)?;
    } else {
        for line in curves(&metrics) {
            eprintln!("{line}");
        }
    }
    match job.status {
        JobStatus::Succeeded => {
            let name = job.fine_tuned_model.clone().unwrap_or_default();
            if !json {
                eprintln!(
                    "{} job {} succeeded; fine-tuned model:",
                    ui::paint("done:", "1;32"),
                    job.id
                );
                let mut out = std::io::stdout().lock();
                writeln!(out, "{name}")?;
            }
            Ok(ExitCode::from(exit::OK))
        }
        _ => {
            let why = match (&job.status, job.failure()) {
                (_, Some(err)) => format!("failed: {err}"),
                (JobStatus::Cancelled, None) => "was cancelled".to_owned(),
                (other, None) => format!("ended as `{other}` with no error given"),
            };
            eprintln!("{} Job `{}` {why}", ui::paint("error:", "1;31"), job.id);
            Ok(ExitCode::from(REMOTE))
        }
    }
}

fn event_line(event: &Event) -> String {
    let when = event
        .created_at
        .map(|t| format!("[{}] ", utc(t)))
        .unwrap_or_default();
    if let Some(m) = event.metrics() {
        return format!("{when}{}", metrics_line(&m));
    }
    let level = match event.level.as_deref() {
        Some("warn") | Some("warning") => ui::paint("job warning: ", "33"),
        Some("error") => ui::paint("job error: ", "31"),
        _ => String::new(),
    };
    format!("{when}{level}{}", event.message.as_deref().unwrap_or(""))
}

/// `step 10/120  train loss 1.2345  valid loss 1.4000  token accuracy 78.2%`
fn metrics_line(m: &Metrics) -> String {
    let mut parts = Vec::new();
    match (m.step, m.total_steps) {
        (Some(s), Some(t)) => parts.push(format!("step {s}/{t}")),
        (Some(s), None) => parts.push(format!("step {s}")),
        _ => parts.push("metrics".to_owned()),
    }
    if let Some(x) = m.train_loss {
        parts.push(format!("train loss {x:.4}"));
    }
    if let Some(x) = m.full_valid_loss.or(m.valid_loss) {
        parts.push(format!("valid loss {x:.4}"));
    }
    if let Some(x) = m.train_mean_token_accuracy {
        parts.push(format!("token accuracy {:.1}%", x * 100.0));
    }
    if let Some(x) = m
        .full_valid_mean_token_accuracy
        .or(m.valid_mean_token_accuracy)
    {
        parts.push(format!("valid accuracy {:.1}%", x * 100.0));
    }
    parts.join("  ")
}

/// The loss curves as sparklines, one line per series with its first and last values.
fn curves(metrics: &[Metrics]) -> Vec<String> {
    let mut lines = Vec::new();
    let series = [
        (
            "train loss",
            metrics
                .iter()
                .filter_map(|m| m.train_loss)
                .collect::<Vec<_>>(),
        ),
        (
            "valid loss",
            metrics
                .iter()
                .filter_map(|m| m.full_valid_loss.or(m.valid_loss))
                .collect(),
        ),
    ];
    for (name, values) in series {
        if let (Some(first), Some(last)) = (values.first(), values.last()) {
            lines.push(format!(
                "{name:<10} {first:>8.4} {} {last:.4}  ({} points)",
                sparkline(&values, 60),
                values.len()
            ));
        }
    }
    lines
}

/// Block-character sparkline, at most `width` columns (means of equal buckets).
fn sparkline(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let cols = values.len().min(width);
    let bucketed: Vec<f64> = (0..cols)
        .map(|c| {
            let (a, b) = (
                c * values.len() / cols,
                ((c + 1) * values.len() / cols).max(c * values.len() / cols + 1),
            );
            values[a..b].iter().sum::<f64>() / (b - a) as f64
        })
        .collect();
    let lo = bucketed.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = bucketed.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    bucketed
        .iter()
        .map(|v| {
            if (hi - lo).abs() < f64::EPSILON {
                BARS[3]
            } else {
                BARS[(((v - lo) / (hi - lo)) * 7.0).round() as usize]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_and_buckets() {
        assert_eq!(sparkline(&[3.0, 2.0, 1.0, 0.0], 60), "█▆▃▁");
        assert_eq!(sparkline(&[1.0, 1.0], 60), "▄▄");
        assert_eq!(sparkline(&[], 60), "");
        let long: Vec<f64> = (0..1000).map(|i| 1000.0 - i as f64).collect();
        let s = sparkline(&long, 60);
        assert_eq!(s.chars().count(), 60);
        assert!(s.starts_with('█') && s.ends_with('▁'));
    }

    #[test]
    fn metrics_lines() {
        let m = Metrics {
            step: Some(10),
            total_steps: Some(120),
            train_loss: Some(1.23456),
            valid_loss: Some(1.4),
            train_mean_token_accuracy: Some(0.782),
            ..Default::default()
        };
        assert_eq!(
            metrics_line(&m),
            "step 10/120  train loss 1.2346  valid loss 1.4000  token accuracy 78.2%"
        );
        assert_eq!(metrics_line(&Metrics::default()), "metrics");
    }
}
