//! The job-creation request, the local checks run before it is sent, and its body for
//! each provider.

use serde_json::{Map, Value, json};

use crate::config::Provider;

/// The longest suffix OpenAI takes.
pub const SUFFIX_MAX: usize = 64;

/// The longest suffix Together takes (it ends up in the output model's name).
pub const TOGETHER_SUFFIX_MAX: usize = 40;

/// The longest model id Fireworks takes for `outputModel`.
pub const FIREWORKS_ID_MAX: usize = 63;

/// Together's client's defaults, sent as it sends them when the user sets nothing.
const TOGETHER_EPOCHS: u32 = 1;
const TOGETHER_LEARNING_RATE: f64 = 0.00001;
const TOGETHER_LORA_RANK: u32 = 8;

/// A request afinar will not send, or a flag value it will not take.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    #[error("model is empty")]
    EmptyModel,
    #[error("epochs must be 1 to 50, not {0}")]
    Epochs(u32),
    #[error("batch size must be 1 to 256, not {0}")]
    BatchSize(u32),
    #[error("learning rate multiplier must be greater than 0, not {0}")]
    LearningRateMultiplier(f64),
    #[error("learning rate must be greater than 0 and at most 1, not {0}")]
    LearningRate(f64),
    #[error("LoRA rank must be 1 to 256, not {0}")]
    LoraRank(u32),
    #[error("beta must be greater than 0 and at most 2, not {0}")]
    Beta(f64),
    #[error("seed must be 0 to {max}, not {0}", max = i32::MAX)]
    Seed(u32),
    #[error("suffix is empty")]
    EmptySuffix,
    #[error("suffix has {len} characters; {provider} takes at most {max}")]
    SuffixLength {
        len: usize,
        max: usize,
        provider: &'static str,
    },
    #[error(
        "suffix `{suffix}` has `{found}`; use only letters a-z, digits, `-` and `_` (no accents or \
         spaces: it becomes part of the model name)"
    )]
    SuffixCharacter { suffix: String, found: char },
    #[error(
        "suffix `{suffix}` is not a Fireworks model id; use lowercase letters a-z, digits and \
         `-` (it names the output model)"
    )]
    FireworksSuffix { suffix: String },
    #[error("beta applies only to `--method dpo`")]
    BetaWithoutDpo,
    /// A flag the chosen provider has no field for: refused, never silently dropped.
    #[error("{provider} does not take `{flag}`; {hint}")]
    NotTaken {
        flag: &'static str,
        provider: &'static str,
        hint: &'static str,
    },
    #[error("`{value}` is not a training type; use one of {allowed}")]
    UnknownTrainingType {
        value: String,
        allowed: &'static str,
    },
    #[error("{provider} does not take training type `{value}`; use {allowed}")]
    TrainingTypeNotTaken {
        value: &'static str,
        provider: &'static str,
        allowed: &'static str,
    },
}

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

/// How the weights are trained, or where (Azure's deployment types for training).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingType {
    /// Together: LoRA adapters (its default).
    Lora,
    /// Together: every weight.
    Full,
    /// Azure: regional training.
    Standard,
    /// Azure: Global training (the open models need it).
    GlobalStandard,
    /// Azure: the low-cost developer tier.
    Developer,
}

const TRAINING_TYPES: &str =
    "`lora`, `full` (Together) or `standard`, `global-standard`, `developer` (Azure)";

impl TrainingType {
    pub fn parse(s: &str) -> Result<TrainingType, RequestError> {
        Ok(match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "lora" => TrainingType::Lora,
            "full" => TrainingType::Full,
            "standard" => TrainingType::Standard,
            "global-standard" | "globalstandard" | "global" => TrainingType::GlobalStandard,
            "developer" => TrainingType::Developer,
            _ => {
                return Err(RequestError::UnknownTrainingType {
                    value: s.to_owned(),
                    allowed: TRAINING_TYPES,
                });
            }
        })
    }

    /// The flag's spelling.
    pub fn flag(self) -> &'static str {
        match self {
            TrainingType::Lora => "lora",
            TrainingType::Full => "full",
            TrainingType::Standard => "standard",
            TrainingType::GlobalStandard => "global-standard",
            TrainingType::Developer => "developer",
        }
    }

    /// Azure's `trainingType` value.
    fn azure(self) -> Option<&'static str> {
        match self {
            TrainingType::Standard => Some("Standard"),
            TrainingType::GlobalStandard => Some("GlobalStandard"),
            TrainingType::Developer => Some("Developer"),
            _ => None,
        }
    }
}

/// Hyperparameters; `None` leaves the choice to the service (`auto`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hyperparameters {
    pub n_epochs: Option<u32>,
    pub batch_size: Option<u32>,
    /// OpenAI and Azure: a multiplier of the service's own rate.
    pub learning_rate_multiplier: Option<f64>,
    /// Together and Fireworks: the rate itself.
    pub learning_rate: Option<f64>,
    /// Together and Fireworks: the rank of the LoRA adapters.
    pub lora_rank: Option<u32>,
    /// DPO only.
    pub beta: Option<f64>,
}

/// What the job-creation endpoint is sent (each provider's body from the same fields).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobRequest {
    pub model: String,
    /// The file id (Together, OpenAI) or dataset name (Fireworks).
    pub training_file: String,
    pub validation_file: Option<String>,
    /// OpenAI, Azure and Together: the model name's suffix; Fireworks: the output model id.
    pub suffix: Option<String>,
    pub seed: Option<u32>,
    pub method: Method,
    pub hyperparameters: Hyperparameters,
    pub training_type: Option<TrainingType>,
}

/// The service's limits on hyperparameters, checked here so a typo fails before uploads.
pub fn check_epochs(n: u32) -> Result<u32, RequestError> {
    if (1..=50).contains(&n) {
        Ok(n)
    } else {
        Err(RequestError::Epochs(n))
    }
}

pub fn check_batch_size(n: u32) -> Result<u32, RequestError> {
    if (1..=256).contains(&n) {
        Ok(n)
    } else {
        Err(RequestError::BatchSize(n))
    }
}

pub fn check_learning_rate_multiplier(x: f64) -> Result<f64, RequestError> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(RequestError::LearningRateMultiplier(x))
    }
}

/// An absolute learning rate (Together, Fireworks): typical values are 1e-5 to 1e-3.
pub fn check_learning_rate(x: f64) -> Result<f64, RequestError> {
    if x.is_finite() && x > 0.0 && x <= 1.0 {
        Ok(x)
    } else {
        Err(RequestError::LearningRate(x))
    }
}

pub fn check_lora_rank(n: u32) -> Result<u32, RequestError> {
    if (1..=256).contains(&n) {
        Ok(n)
    } else {
        Err(RequestError::LoraRank(n))
    }
}

pub fn check_beta(x: f64) -> Result<f64, RequestError> {
    if x.is_finite() && x > 0.0 && x <= 2.0 {
        Ok(x)
    } else {
        Err(RequestError::Beta(x))
    }
}

pub fn check_seed(n: u32) -> Result<u32, RequestError> {
    // The service's seed is a signed 32-bit integer.
    if n <= i32::MAX as u32 {
        Ok(n)
    } else {
        Err(RequestError::Seed(n))
    }
}

/// The suffix ends up inside the model name (`ft:gpt-4o-mini:org:SUFFIX:id`), so besides
/// the documented 64-character limit afinar keeps to letters, digits, `-` and `_`.
pub fn check_suffix(s: &str) -> Result<String, RequestError> {
    check_suffix_len(s, SUFFIX_MAX, "OpenAI")
}

fn check_suffix_len(s: &str, max: usize, provider: &'static str) -> Result<String, RequestError> {
    let n = s.chars().count();
    if n == 0 {
        return Err(RequestError::EmptySuffix);
    }
    if n > max {
        return Err(RequestError::SuffixLength {
            len: n,
            max,
            provider,
        });
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(RequestError::SuffixCharacter {
            suffix: s.to_owned(),
            found: c,
        });
    }
    Ok(s.to_owned())
}

/// Fireworks' base models live under `accounts/fireworks/models/`; a bare name
/// (`llama-v3p1-8b-instruct`) is taken to mean that, as `firectl` does.
pub fn fireworks_model(model: &str) -> String {
    if model.starts_with("accounts/") {
        model.to_owned()
    } else {
        format!("accounts/fireworks/models/{model}")
    }
}

impl JobRequest {
    /// Every local problem for `provider`, in one list (empty when the request can be
    /// sent): the limits, and each set field the provider has no place for.
    pub fn problems(&self, provider: Provider) -> Vec<RequestError> {
        let mut out = Vec::new();
        let name = provider.name();
        if self.model.trim().is_empty() {
            out.push(RequestError::EmptyModel);
        }
        let h = &self.hyperparameters;
        let not_taken = |flag: &'static str, hint: &'static str| RequestError::NotTaken {
            flag,
            provider: name,
            hint,
        };
        if let Some(s) = &self.suffix {
            let checked = match provider {
                Provider::Together => check_suffix_len(s, TOGETHER_SUFFIX_MAX, name),
                Provider::Fireworks => {
                    let ok = !s.is_empty()
                        && s.len() <= FIREWORKS_ID_MAX
                        && s.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                        && !s.starts_with('-');
                    if ok {
                        Ok(s.clone())
                    } else {
                        Err(RequestError::FireworksSuffix { suffix: s.clone() })
                    }
                }
                _ => check_suffix(s),
            };
            out.extend(checked.err());
        }
        if let Some(seed) = self.seed {
            if provider.is_openai_compatible() {
                out.extend(check_seed(seed).err());
            } else {
                out.push(not_taken("--seed", "its jobs take no seed"));
            }
        }
        out.extend(h.n_epochs.and_then(|n| check_epochs(n).err()));
        out.extend(h.batch_size.and_then(|n| check_batch_size(n).err()));
        if let Some(x) = h.learning_rate_multiplier {
            if provider.is_openai_compatible() {
                out.extend(check_learning_rate_multiplier(x).err());
            } else {
                out.push(not_taken(
                    "--learning-rate-multiplier",
                    "give the rate itself with `--learning-rate` (e.g. 0.00001)",
                ));
            }
        }
        if let Some(x) = h.learning_rate {
            if provider.is_openai_compatible() {
                out.push(not_taken(
                    "--learning-rate",
                    "it takes a multiplier of its own rate: `--learning-rate-multiplier`",
                ));
            } else {
                out.extend(check_learning_rate(x).err());
            }
        }
        if let Some(r) = h.lora_rank {
            if provider.is_openai_compatible() {
                out.push(not_taken(
                    "--lora-rank",
                    "it chooses how to train by itself",
                ));
            } else if self.training_type == Some(TrainingType::Full) {
                out.push(RequestError::NotTaken {
                    flag: "--lora-rank",
                    provider: name,
                    hint: "not with `--training-type full` (no LoRA adapters)",
                });
            } else {
                out.extend(check_lora_rank(r).err());
            }
        }
        if let Some(beta) = h.beta {
            if self.method != Method::Dpo {
                out.push(RequestError::BetaWithoutDpo);
            } else {
                out.extend(check_beta(beta).err());
            }
        }
        if provider == Provider::Fireworks && self.method == Method::Dpo {
            out.push(not_taken(
                "--method dpo",
                "its supervised fine-tuning jobs train on chat examples only",
            ));
        }
        if let Some(t) = self.training_type {
            let (ok, allowed) = match provider {
                Provider::Together => (
                    matches!(t, TrainingType::Lora | TrainingType::Full),
                    "`lora` or `full`",
                ),
                Provider::Azure => (
                    t.azure().is_some(),
                    "`standard`, `global-standard` or `developer`",
                ),
                _ => (false, "no `--training-type` at all"),
            };
            if !ok {
                out.push(RequestError::TrainingTypeNotTaken {
                    value: t.flag(),
                    provider: name,
                    allowed,
                });
            }
        }
        out
    }

    /// The OpenAI body, with the `method` object; hyperparameters left unset are omitted
    /// so the service picks them (`auto`).
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

    /// The body `provider`'s job-creation endpoint is sent.
    pub fn body(&self, provider: Provider) -> Value {
        match provider {
            Provider::OpenAi => self.to_json(),
            Provider::Azure => {
                let mut body = self.to_json();
                // Azure's field for where training runs (Global for its open models).
                if let Some(t) = self.training_type.and_then(TrainingType::azure) {
                    body["trainingType"] = json!(t);
                }
                body
            }
            Provider::Together => self.together_body(),
            Provider::Fireworks => self.fireworks_body(),
        }
    }

    /// `POST /fine-tunes`, with together-python's defaults for what is not set.
    fn together_body(&self) -> Value {
        let h = &self.hyperparameters;
        let mut body = Map::new();
        body.insert("training_file".into(), json!(self.training_file));
        if let Some(v) = &self.validation_file {
            body.insert("validation_file".into(), json!(v));
        }
        body.insert("model".into(), json!(self.model));
        body.insert(
            "n_epochs".into(),
            json!(h.n_epochs.unwrap_or(TOGETHER_EPOCHS)),
        );
        body.insert(
            "learning_rate".into(),
            json!(h.learning_rate.unwrap_or(TOGETHER_LEARNING_RATE)),
        );
        body.insert(
            "batch_size".into(),
            h.batch_size.map_or(json!("max"), |n| json!(n)),
        );
        body.insert("n_checkpoints".into(), json!(1));
        body.insert(
            "n_evals".into(),
            json!(if self.validation_file.is_some() { 1 } else { 0 }),
        );
        body.insert("warmup_ratio".into(), json!(0.0));
        body.insert("max_grad_norm".into(), json!(1.0));
        body.insert("weight_decay".into(), json!(0.0));
        body.insert(
            "lr_scheduler".into(),
            json!({"lr_scheduler_type": "linear", "lr_scheduler_args": {"min_lr_ratio": 0.0}}),
        );
        if let Some(s) = &self.suffix {
            body.insert("suffix".into(), json!(s));
        }
        let training_type = match self.training_type {
            Some(TrainingType::Full) => json!({"type": "Full"}),
            _ => {
                let r = h.lora_rank.unwrap_or(TOGETHER_LORA_RANK);
                json!({"type": "Lora", "lora_r": r, "lora_alpha": r * 2, "lora_dropout": 0.0,
                       "lora_trainable_modules": "all-linear"})
            }
        };
        body.insert("training_type".into(), training_type);
        let method = match self.method {
            Method::Supervised => json!({"method": "sft", "train_on_inputs": "auto"}),
            Method::Dpo => {
                let mut m = json!({"method": "dpo"});
                if let Some(beta) = h.beta {
                    m["dpo_beta"] = json!(beta);
                }
                m
            }
        };
        body.insert("training_method".into(), method);
        Value::Object(body)
    }

    /// `POST /v1/accounts/{a}/supervisedFineTuningJobs`; unset fields are left to the
    /// service.
    fn fireworks_body(&self) -> Value {
        let h = &self.hyperparameters;
        let mut body = Map::new();
        body.insert("dataset".into(), json!(self.training_file));
        body.insert("baseModel".into(), json!(fireworks_model(&self.model)));
        if let Some(n) = h.n_epochs {
            body.insert("epochs".into(), json!(n));
        }
        if let Some(x) = h.learning_rate {
            body.insert("learningRate".into(), json!(x));
        }
        if let Some(r) = h.lora_rank {
            body.insert("loraRank".into(), json!(r));
        }
        if let Some(n) = h.batch_size {
            body.insert("batchSize".into(), json!(n));
        }
        if let Some(s) = &self.suffix {
            body.insert("outputModel".into(), json!(s));
        }
        if let Some(v) = &self.validation_file {
            body.insert("evaluationDataset".into(), json!(v));
        }
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
                ..Default::default()
            },
            training_type: None,
        };
        assert!(req.problems(Provider::OpenAi).is_empty());
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
        let text = |r: Result<String, RequestError>| r.unwrap_err().to_string();
        assert!(text(check_suffix(&"a".repeat(65))).contains("65 characters"));
        assert!(text(check_suffix("perguntas frequentes")).contains("` `"));
        assert!(text(check_suffix("questão")).contains("`ã`"));
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
            req.problems(Provider::OpenAi),
            vec![RequestError::BetaWithoutDpo]
        );
        assert_eq!(
            RequestError::BetaWithoutDpo.to_string(),
            "beta applies only to `--method dpo`"
        );
    }

    fn open_request() -> JobRequest {
        JobRequest {
            model: "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference".into(),
            training_file: "file-t".into(),
            validation_file: Some("file-v".into()),
            suffix: Some("simples".into()),
            hyperparameters: Hyperparameters {
                n_epochs: Some(3),
                learning_rate: Some(0.0002),
                lora_rank: Some(16),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn together_body_has_its_fields_and_defaults() {
        let req = open_request();
        assert!(req.problems(Provider::Together).is_empty());
        let body = req.body(Provider::Together);
        assert_eq!(body["training_file"], "file-t");
        assert_eq!(body["validation_file"], "file-v");
        assert_eq!(body["n_epochs"], 3);
        assert_eq!(body["learning_rate"], 0.0002);
        assert_eq!(body["batch_size"], "max");
        assert_eq!(body["suffix"], "simples");
        assert_eq!(
            body["training_type"],
            json!({"type": "Lora", "lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0,
                   "lora_trainable_modules": "all-linear"})
        );
        assert_eq!(
            body["training_method"],
            json!({"method": "sft", "train_on_inputs": "auto"})
        );
        let full = JobRequest {
            training_type: Some(TrainingType::Full),
            method: Method::Dpo,
            hyperparameters: Hyperparameters {
                beta: Some(0.1),
                ..Default::default()
            },
            ..open_request()
        };
        let body = full.body(Provider::Together);
        assert_eq!(body["training_type"], json!({"type": "Full"}));
        assert_eq!(
            body["training_method"],
            json!({"method": "dpo", "dpo_beta": 0.1})
        );
        assert_eq!(body["n_epochs"], 1);
        assert_eq!(body["learning_rate"], 0.00001);
    }

    #[test]
    fn fireworks_body_is_camel_case_and_sparse() {
        let mut req = open_request();
        req.model = "llama-v3p1-8b-instruct".into();
        req.training_file = "accounts/contabil/datasets/treino-a1".into();
        req.validation_file = Some("accounts/contabil/datasets/validacao-b2".into());
        assert!(req.problems(Provider::Fireworks).is_empty());
        assert_eq!(
            req.body(Provider::Fireworks),
            json!({"dataset": "accounts/contabil/datasets/treino-a1",
                   "baseModel": "accounts/fireworks/models/llama-v3p1-8b-instruct",
                   "epochs": 3, "learningRate": 0.0002, "loraRank": 16, "outputModel": "simples",
                   "evaluationDataset": "accounts/contabil/datasets/validacao-b2"})
        );
    }

    #[test]
    fn flags_a_provider_does_not_take_are_refused_by_name() {
        let mut req = open_request();
        req.seed = Some(1);
        req.hyperparameters.learning_rate_multiplier = Some(2.0);
        let texts: Vec<String> = req
            .problems(Provider::Together)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            texts
                .iter()
                .any(|t| t.contains("Together AI does not take `--seed`")),
            "{texts:?}"
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("Together AI does not take `--learning-rate-multiplier`")),
            "{texts:?}"
        );
        let openai = open_request().problems(Provider::OpenAi);
        let texts: Vec<String> = openai.iter().map(ToString::to_string).collect();
        assert!(
            texts
                .iter()
                .any(|t| t.contains("OpenAI does not take `--learning-rate`"))
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("OpenAI does not take `--lora-rank`"))
        );
        let mut fw = open_request();
        fw.method = Method::Dpo;
        fw.suffix = Some("Simples_Nacional".into());
        fw.training_type = Some(TrainingType::Full);
        let texts: Vec<String> = fw
            .problems(Provider::Fireworks)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            texts.iter().any(|t| t.contains("`--method dpo`")),
            "{texts:?}"
        );
        assert!(
            texts.iter().any(|t| t.contains("not a Fireworks model id")),
            "{texts:?}"
        );
        assert!(
            texts.iter().any(|t| t.contains("training type `full`")),
            "{texts:?}"
        );
        let long = JobRequest {
            suffix: Some("a".repeat(41)),
            ..open_request()
        };
        assert_eq!(
            long.problems(Provider::Together),
            vec![RequestError::SuffixLength {
                len: 41,
                max: 40,
                provider: "Together AI"
            }]
        );
    }

    #[test]
    fn azure_training_type_goes_in_the_body() {
        let req = JobRequest {
            model: "gpt-oss-20b".into(),
            training_file: "file-a".into(),
            training_type: Some(TrainingType::parse("GlobalStandard").unwrap()),
            ..Default::default()
        };
        assert!(req.problems(Provider::Azure).is_empty());
        assert_eq!(req.body(Provider::Azure)["trainingType"], "GlobalStandard");
        assert!(req.body(Provider::OpenAi).get("trainingType").is_none());
        assert_eq!(
            TrainingType::parse("developer").unwrap(),
            TrainingType::Developer
        );
        assert!(TrainingType::parse("cheap").is_err());
        assert_eq!(req.problems(Provider::OpenAi).len(), 1);
        let lora = JobRequest {
            training_type: Some(TrainingType::Lora),
            ..req
        };
        assert!(
            lora.problems(Provider::Azure)[0]
                .to_string()
                .contains("`lora`")
        );
    }
}
