//! Following a job to its end, the same way for every provider: poll the job, then its
//! events; ride out outages; collect metrics; and render events, metrics and the loss
//! curve as text.

use std::time::Duration;

use crate::client::Client;
use crate::error::Error;
use crate::types::{Event, Job, JobStatus, Metrics, utc};

/// Failed polls in a row that `follow` waits through before giving up.
pub const MAX_OUTAGES: u32 = 5;

/// What happened while following, for the caller to show.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The job moved to a status that is not final.
    Status(&'a JobStatus),
    /// A new event (oldest first).
    Event(&'a Event),
    /// A poll failed after the client's own retries; polling again after a pause.
    Outage {
        error: &'a Error,
        attempt: u32,
        of: u32,
    },
}

/// How the job ended, with every metrics sample seen on the way.
#[derive(Debug)]
pub struct Followed {
    pub job: Job,
    pub metrics: Vec<Metrics>,
}

/// Polls `id` every `interval` until it succeeds, fails or is cancelled, telling
/// `observe` about each change. The job is read before its events, so when it is seen
/// finished the events read after it include the last ones. An observer's write error
/// stops following ([`Error::Output`]).
pub fn follow(
    client: &Client,
    id: &str,
    interval: Duration,
    observe: &mut dyn FnMut(Progress<'_>) -> std::io::Result<()>,
) -> Result<Followed, Error> {
    let output = |source| Error::Output { source };
    let mut last_seen: Option<String> = None;
    let mut status: Option<JobStatus> = None;
    let mut metrics = Vec::new();
    let mut outages: u32 = 0;
    loop {
        let polled = client
            .retrieve_job(id)
            .and_then(|job| Ok((job, client.events_since(id, last_seen.as_deref())?)));
        let (job, events) = match polled {
            Ok(answer) => {
                outages = 0;
                answer
            }
            // A job runs for hours: ride out an outage longer than the client's retries.
            Err(error) if error.is_transient() && outages < MAX_OUTAGES => {
                outages += 1;
                observe(Progress::Outage {
                    error: &error,
                    attempt: outages,
                    of: MAX_OUTAGES,
                })
                .map_err(output)?;
                std::thread::sleep(interval.max(Duration::from_millis(10)) * outages);
                continue;
            }
            Err(error) => return Err(error),
        };
        if status.as_ref() != Some(&job.status) && !job.status.is_terminal() {
            observe(Progress::Status(&job.status)).map_err(output)?;
            status = Some(job.status.clone());
        }
        for event in &events {
            if let Some(m) = event.metrics() {
                metrics.push(m);
            }
            observe(Progress::Event(event)).map_err(output)?;
        }
        if let Some(last) = events.last() {
            last_seen = Some(last.id.clone());
        }
        if job.status.is_terminal() {
            return Ok(Followed { job, metrics });
        }
        std::thread::sleep(interval);
    }
}

/// Why a finished job did not succeed, in one phrase (`failed: …`, `was cancelled`).
pub fn why_not(job: &Job) -> String {
    match (&job.status, job.failure()) {
        (_, Some(err)) => format!("failed: {err}"),
        (JobStatus::Cancelled, None) => "was cancelled".to_owned(),
        (other, None) => format!("ended as `{other}` with no error given"),
    }
}

/// An event's severity, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// An event as a line: `[time] ` prefix, level, then the message (or its metrics).
#[derive(Debug, Clone, PartialEq)]
pub struct EventLine {
    pub when: String,
    pub level: Level,
    pub text: String,
}

pub fn event_line(event: &Event) -> EventLine {
    let when = event
        .created_at
        .map(|t| format!("[{}] ", utc(t)))
        .unwrap_or_default();
    if let Some(m) = event.metrics() {
        return EventLine {
            when,
            level: Level::Info,
            text: metrics_line(&m),
        };
    }
    let level = match event
        .level
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("warn") | Some("warning") => Level::Warning,
        Some("error") => Level::Error,
        _ => Level::Info,
    };
    EventLine {
        when,
        level,
        text: event.message.clone().unwrap_or_default(),
    }
}

/// `step 10/120  train loss 1.2345  valid loss 1.4000  token accuracy 78.2%`
pub fn metrics_line(m: &Metrics) -> String {
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
pub fn curves(metrics: &[Metrics]) -> Vec<String> {
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
pub fn sparkline(values: &[f64], width: usize) -> String {
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

    #[test]
    fn event_levels_any_case() {
        let e = Event {
            id: "e".into(),
            created_at: Some(0),
            level: Some("Error".into()),
            message: Some("Falhou".into()),
            kind: None,
            data: None,
            extra: Default::default(),
        };
        let line = event_line(&e);
        assert_eq!(line.level, Level::Error);
        assert_eq!(line.when, "[1970-01-01 00:00 UTC] ");
        assert_eq!(line.text, "Falhou");
    }
}
