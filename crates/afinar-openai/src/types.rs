//! The service's objects, read leniently: every field the service may omit is an
//! `Option`, unknown statuses parse into `Other`, unknown fields are kept in `extra` (so
//! `--format json` shows everything the service said).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A page of a list endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
    /// Fireworks pages with a token, not an id: pass it as the next `after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// A file in the Files API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileObject {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An upload in the Uploads API (large files, sent in parts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileObject>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A fine-tuning job's status; statuses this crate does not know parse into `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum JobStatus {
    ValidatingFiles,
    Queued,
    Running,
    Paused,
    Succeeded,
    Failed,
    Cancelled,
    Other(String),
    /// The service sent no status.
    #[default]
    Missing,
}

impl JobStatus {
    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::ValidatingFiles => "validating_files",
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Paused => "paused",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Other(s) => s,
            JobStatus::Missing => "unknown",
        }
    }

    /// The job will not change again.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

impl From<&str> for JobStatus {
    fn from(s: &str) -> JobStatus {
        // Azure's older API spelled some in camelCase or differently.
        match s {
            "validating_files" => JobStatus::ValidatingFiles,
            "queued" | "pending" | "created" | "notRunning" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "paused" => JobStatus::Paused,
            "succeeded" => JobStatus::Succeeded,
            "failed" => JobStatus::Failed,
            "cancelled" | "canceled" => JobStatus::Cancelled,
            other => JobStatus::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JobStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JobStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JobStatus, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::String(s)) => JobStatus::from(s.as_str()),
            None | Some(Value::Null) => JobStatus::Missing,
            Some(other) => JobStatus::Other(other.to_string()),
        })
    }
}

/// The error of a failed job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct JobError {
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub param: Option<String>,
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message.as_deref().unwrap_or("no message"))?;
        match (&self.code, &self.param) {
            (Some(c), Some(p)) => write!(f, " (code `{c}`, param `{p}`)"),
            (Some(c), None) => write!(f, " (code `{c}`)"),
            (None, Some(p)) => write!(f, " (param `{p}`)"),
            (None, None) => Ok(()),
        }
    }
}

/// A fine-tuning job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    #[serde(default)]
    pub status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fine_tuned_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_finish: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained_tokens: Option<u64>,
    /// Present (non-null) only for a failed job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyperparameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Job {
    /// The job's error, if it has a real one (the service sends `{}` or nulls for none).
    pub fn failure(&self) -> Option<&JobError> {
        self.error
            .as_ref()
            .filter(|e| e.message.is_some() || e.code.is_some())
    }
}

/// An event of a job: a message, or a metrics sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Event {
    /// The metrics in a `metrics` event (or any event whose data has a `step`).
    pub fn metrics(&self) -> Option<Metrics> {
        let data = self.data.as_ref()?;
        if self.kind.as_deref() != Some("metrics") && data.get("step").is_none() {
            return None;
        }
        serde_json::from_value(data.clone()).ok()
    }
}

/// Training metrics; any of them may be missing (or null, or a string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Metrics {
    #[serde(
        default,
        deserialize_with = "lenient_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub step: Option<u64>,
    #[serde(
        default,
        deserialize_with = "lenient_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_steps: Option<u64>,
    #[serde(
        default,
        deserialize_with = "lenient_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub train_loss: Option<f64>,
    #[serde(
        default,
        deserialize_with = "lenient_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub train_mean_token_accuracy: Option<f64>,
    #[serde(
        default,
        deserialize_with = "lenient_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_loss: Option<f64>,
    #[serde(
        default,
        deserialize_with = "lenient_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_mean_token_accuracy: Option<f64>,
    #[serde(
        default,
        deserialize_with = "lenient_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub full_valid_loss: Option<f64>,
    #[serde(
        default,
        deserialize_with = "lenient_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub full_valid_mean_token_accuracy: Option<f64>,
}

/// A checkpoint of a job: a usable model at a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fine_tuned_model_checkpoint: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub step_number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fine_tuning_job_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// `YYYY-MM-DD HH:MM UTC` for a Unix time (the service's timestamps are seconds).
/// `2026-12-01T10:00:00.123Z` or `…+02:00` (RFC 3339, as Together and Fireworks send
/// times) as Unix seconds.
pub fn parse_time(text: &str) -> Option<i64> {
    let t = text.trim();
    let num = |s: &str| s.parse::<i64>().ok();
    let (date, rest) = t.split_once(['T', 't', ' '])?;
    let mut d = date.splitn(3, '-');
    let (y, m, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || rest.len() < 8 {
        return None;
    }
    let (hh, mm, ss) = (num(&rest[0..2])?, num(&rest[3..5])?, num(&rest[6..8])?);
    let tail = rest[8..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match tail {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = if tail.starts_with('-') { -1 } else { 1 };
            let body = tail.get(1..)?;
            let (oh, om) = body
                .split_once(':')
                .unwrap_or((body.get(..2)?, body.get(2..)?));
            sign * (num(oh)? * 3600 + num(om)? * 60)
        }
    };
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss - offset)
}

pub fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_time("2026-12-01T10:00:00Z"), Some(1_796_119_200));
        assert_eq!(
            parse_time("2026-12-01T10:00:00.123456Z"),
            Some(1_796_119_200)
        );
        assert_eq!(parse_time("2026-12-01T12:00:00+02:00"), Some(1_796_119_200));
        assert_eq!(parse_time("2026-12-01T07:00:00-03:00"), Some(1_796_119_200));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("ontem"), None);
        assert_eq!(parse_time("2026-13-01T00:00:00Z"), None);
        assert_eq!(
            utc(parse_time("2024-02-29T23:59:59Z").unwrap()),
            utc(1_709_251_199)
        );
    }

    #[test]
    fn unknown_status_and_missing_fields_parse() {
        let job: Job = serde_json::from_value(
            json!({"id": "ftjob-1", "status": "hibernating", "new_field": 3}),
        )
        .unwrap();
        assert_eq!(job.status, JobStatus::Other("hibernating".into()));
        assert!(!job.status.is_terminal());
        assert_eq!(job.model, None);
        assert_eq!(job.extra["new_field"], json!(3));
        // Serialising back keeps what the service said.
        let back = serde_json::to_value(&job).unwrap();
        assert_eq!(back["status"], "hibernating");
        assert_eq!(back["new_field"], 3);

        let job: Job =
            serde_json::from_value(json!({"id": "x", "status": null, "error": {}})).unwrap();
        assert_eq!(job.status, JobStatus::Missing);
        assert!(job.failure().is_none());

        let job: Job = serde_json::from_value(
            json!({"id": "x", "status": "failed", "error": {"code": 42, "message": "Bad file", "param": null}}),
        )
        .unwrap();
        assert_eq!(job.failure().unwrap().to_string(), "Bad file (code `42`)");
    }

    #[test]
    fn metrics_missing_or_odd_parse() {
        let ev: Event = serde_json::from_value(json!({
            "id": "ev-1", "type": "metrics",
            "data": {"step": 3, "train_loss": 1.5, "valid_loss": null, "train_mean_token_accuracy": "0.8"}
        }))
        .unwrap();
        let m = ev.metrics().unwrap();
        assert_eq!(m.step, Some(3));
        assert_eq!(m.train_loss, Some(1.5));
        assert_eq!(m.valid_loss, None);
        assert_eq!(m.train_mean_token_accuracy, Some(0.8));
        let ev: Event =
            serde_json::from_value(json!({"id": "ev-2", "type": "metrics", "data": {}})).unwrap();
        assert_eq!(ev.metrics(), Some(Metrics::default()));
        let ev: Event =
            serde_json::from_value(json!({"id": "ev-3", "message": "Job started"})).unwrap();
        assert_eq!(ev.metrics(), None);
        let cp: Checkpoint = serde_json::from_value(json!({"id": "cp", "metrics": {}})).unwrap();
        assert_eq!(cp.metrics, Some(Metrics::default()));
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_763_769_600), "2025-11-22 00:00 UTC");
        assert_eq!(utc(951_825_600), "2000-02-29 12:00 UTC");
    }
}
