//! The job-creation request, and the local checks run before it is sent.

use serde_json::{Map, Value, json};

/// The longest suffix the service takes.
pub const SUFFIX_MAX: usize = 64;

/// Training method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    #[default]
    Supervised,
    /// Direct preference optimisation (`input`/`preferred_output`/`non_preferred_output`).
    Dpo,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Supervised => "supervised",
            Method::Dpo => "dpo",
        }
    }
}

/// Hyperparameters; `None` leaves the choice to the service (`auto`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hyperparameters {
    pub n_epochs: Option<u32>,
    pub batch_size: Option<u32>,
    pub learning_rate_multiplier: Option<f64>,
    /// DPO only.
    pub beta: Option<f64>,
}

/// What `POST /fine_tuning/jobs` is sent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobRequest {
    pub model: String,
    pub training_file: String,
    pub validation_file: Option<String>,
    pub suffix: Option<String>,
    pub seed: Option<u32>,
    pub method: Method,
    pub hyperparameters: Hyperparameters,
}

/// The service's limits on hyperparameters, checked here so a typo fails before uploads.
pub fn check_epochs(n: u32) -> Result<u32, String> {
    if (1..=50).contains(&n) {
        Ok(n)
    } else {
        Err(format!("epochs must be 1 to 50, not {n}"))
    }
}

pub fn check_batch_size(n: u32) -> Result<u32, String> {
    if (1..=256).contains(&n) {
        Ok(n)
    } else {
        Err(format!("batch size must be 1 to 256, not {n}"))
    }
}

pub fn check_learning_rate_multiplier(x: f64) -> Result<f64, String> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(format!(
            "learning rate multiplier must be greater than 0, not {x}"
        ))
    }
}

pub fn check_beta(x: f64) -> Result<f64, String> {
    if x.is_finite() && x > 0.0 && x <= 2.0 {
        Ok(x)
    } else {
        Err(format!(
            "beta must be greater than 0 and at most 2, not {x}"
        ))
    }
}

pub fn check_seed(n: u32) -> Result<u32, String> {
    // The service's seed is a signed 32-bit integer.
    if n <= i32::MAX as u32 {
        Ok(n)
    } else {
        Err(format!("seed must be 0 to {}, not {n}", i32::MAX))
    }
}

/// The suffix ends up inside the model name (`ft:gpt-4o-mini:org:SUFFIX:id`), so besides
/// the documented 64-character limit afinar keeps to letters, digits, `-` and `_`.
pub fn check_suffix(s: &str) -> Result<String, String> {
    let n = s.chars().count();
    if n == 0 {
        return Err("suffix is empty".into());
    }
    if n > SUFFIX_MAX {
        return Err(format!(
            "suffix has {n} characters; the service takes at most {SUFFIX_MAX}"
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "suffix `{s}` has `{c}`; use only letters a-z, digits, `-` and `_` (no accents or \
             spaces: it becomes part of the model name)"
        ));
    }
    Ok(s.to_owned())
}

impl JobRequest {
    /// Every local problem, in one list (empty when the request can be sent).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.model.trim().is_empty() {
            out.push("model is empty".to_owned());
        }
        if let Some(s) = &self.suffix {
            out.extend(check_suffix(s).err());
        }
        if let Some(seed) = self.seed {
            out.extend(check_seed(seed).err());
        }
        let h = &self.hyperparameters;
        out.extend(h.n_epochs.and_then(|n| check_epochs(n).err()));
        out.extend(h.batch_size.and_then(|n| check_batch_size(n).err()));
        out.extend(
            h.learning_rate_multiplier
                .and_then(|x| check_learning_rate_multiplier(x).err()),
        );
        if let Some(beta) = h.beta {
            if self.method == Method::Dpo {
                out.extend(check_beta(beta).err());
            } else {
                out.push("beta applies only to `--method dpo`".to_owned());
            }
        }
        out
    }

    /// The JSON body, with the `method` object; hyperparameters left unset are omitted so
    /// the service picks them (`auto`).
    pub fn to_json(&self) -> Value {
        let h = &self.hyperparameters;
        let mut hyper = Map::new();
        if let Some(n) = h.n_epochs {
            hyper.insert("n_epochs".into(), json!(n));
        }
        if let Some(n) = h.batch_size {
            hyper.insert("batch_size".into(), json!(n));
        }
        if let Some(x) = h.learning_rate_multiplier {
            hyper.insert("learning_rate_multiplier".into(), json!(x));
        }
        if let (Method::Dpo, Some(beta)) = (self.method, h.beta) {
            hyper.insert("beta".into(), json!(beta));
        }
        let name = self.method.name();
        let mut body = Map::new();
        body.insert("model".into(), json!(self.model));
        body.insert("training_file".into(), json!(self.training_file));
        if let Some(v) = &self.validation_file {
            body.insert("validation_file".into(), json!(v));
        }
        if let Some(s) = &self.suffix {
            body.insert("suffix".into(), json!(s));
        }
        if let Some(seed) = self.seed {
            body.insert("seed".into(), json!(seed));
        }
        body.insert(
            "method".into(),
            json!({ "type": name, name: { "hyperparameters": Value::Object(hyper) } }),
        );
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supervised_body() {
        let req = JobRequest {
            model: "gpt-4.1-mini-2025-04-14".into(),
            training_file: "file-a".into(),
            validation_file: Some("file-b".into()),
            suffix: Some("simples-nacional".into()),
            seed: Some(7),
            method: Method::Supervised,
            hyperparameters: Hyperparameters {
                n_epochs: Some(3),
                batch_size: None,
                learning_rate_multiplier: Some(0.5),
                beta: None,
            },
        };
        assert!(req.problems().is_empty());
        assert_eq!(
            req.to_json(),
            json!({
                "model": "gpt-4.1-mini-2025-04-14", "training_file": "file-a",
                "validation_file": "file-b", "suffix": "simples-nacional", "seed": 7,
                "method": {"type": "supervised", "supervised": {"hyperparameters": {
                    "n_epochs": 3, "learning_rate_multiplier": 0.5}}}
            })
        );
    }

    #[test]
    fn dpo_body_has_beta() {
        let req = JobRequest {
            model: "gpt-4.1-mini".into(),
            training_file: "f".into(),
            method: Method::Dpo,
            hyperparameters: Hyperparameters {
                beta: Some(0.1),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            req.to_json()["method"],
            json!({"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1}}})
        );
    }

    #[test]
    fn local_checks() {
        assert!(check_suffix("faq_2026-v2").is_ok());
        assert!(check_suffix(&"a".repeat(64)).is_ok());
        assert!(
            check_suffix(&"a".repeat(65))
                .unwrap_err()
                .contains("65 characters")
        );
        assert!(
            check_suffix("perguntas frequentes")
                .unwrap_err()
                .contains("` `")
        );
        assert!(check_suffix("questão").unwrap_err().contains("`ã`"));
        assert!(check_suffix("a:b").is_err());
        assert!(check_epochs(0).is_err() && check_epochs(51).is_err() && check_epochs(50).is_ok());
        assert!(check_batch_size(257).is_err() && check_batch_size(1).is_ok());
        assert!(check_learning_rate_multiplier(0.0).is_err());
        assert!(check_learning_rate_multiplier(f64::NAN).is_err());
        assert!(check_beta(2.5).is_err() && check_beta(2.0).is_ok());
        assert!(check_seed(u32::MAX).is_err());
        let req = JobRequest {
            model: "m".into(),
            hyperparameters: Hyperparameters {
                beta: Some(0.1),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            req.problems(),
            vec!["beta applies only to `--method dpo`".to_owned()]
        );
    }
}
