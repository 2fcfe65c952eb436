//! Training lifecycle: whether a model can still be fine-tuned at a target, for whom and
//! until when, with the source of each fact.
//!
//! The facts live in one reviewed file, `lifecycle.json` beside `models.json`: per
//! provider (`openai`, `azure`, `together`…) the registry models it trains, the cutoffs
//! that shut people out (`new` customers, `inactive` ones, `everyone`) from a date, and the
//! days base models shut down. When a provider changes its policy, that file is the one
//! edit. "Today" is always a parameter, so a status is a pure function of the data and
//! the date (the binary reads `AFINAR_TODAY` for tests and demos).
//!
//! ```
//! use afinar_check::lifecycle::{Lifecycle, Status, date};
//! use afinar_check::Registry;
//!
//! let registry = Registry::builtin();
//! let life = Lifecycle::builtin();
//! let mini = registry.lookup("gpt-4o-mini-2024-07-18").unwrap();
//! let today = date("2026-12-01").unwrap();
//! assert!(matches!(life.status("openai", mini, today), Status::ExistingCustomersOnly { .. }));
//! let oss = registry.lookup("openai/gpt-oss-20b").unwrap();
//! assert_eq!(life.status("azure", oss, today), Status::Open);
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::{ModelInfo, Registry};

/// A calendar day (no time zone: providers announce days).
pub type Date = chrono::NaiveDate;

const BUILTIN: &str = include_str!("lifecycle.json");

/// A date that is not `YYYY-MM-DD`.
#[derive(Debug, thiserror::Error)]
#[error("`{value}` is not a date; write it as YYYY-MM-DD (e.g. 2026-12-01)")]
pub struct DateError {
    pub value: String,
    #[source]
    source: chrono::ParseError,
}

/// Parses `YYYY-MM-DD`.
pub fn date(s: &str) -> Result<Date, DateError> {
    Date::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|source| DateError {
        value: s.to_owned(),
        source,
    })
}

/// Today in UTC, from the system clock.
pub fn today_utc() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

fn de_date<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    let s = String::deserialize(d)?;
    date(&s).map_err(serde::de::Error::custom)
}

fn de_opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(s) => date(&s).map(Some).map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

/// Who a cutoff shuts out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Organisations (customers) new to fine-tuning there.
    New,
    /// Those who have not used fine-tuning lately.
    Inactive,
    /// Nobody can create a job.
    Everyone,
}

impl Audience {
    fn describe(self) -> &'static str {
        match self {
            Audience::New => "new customers",
            Audience::Inactive => "inactive customers",
            Audience::Everyone => "everyone",
        }
    }
}

/// From `closed_from` on, `to` can no longer create jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cutoff {
    /// The models it applies to; empty: every model the provider trains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// The first day closed; absent when the provider gives no date (already in force).
    #[serde(default, deserialize_with = "de_opt_date")]
    pub closed_from: Option<Date>,
    pub to: Audience,
    /// What the provider says, for messages.
    pub says: String,
    pub source: String,
}

/// The day a base model (and the fine-tunes built on it) stops working.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shutdown {
    pub models: Vec<String>,
    #[serde(deserialize_with = "de_date")]
    pub on: Date,
    pub source: String,
}

/// Terms that hold for some models at a provider (Azure's open models: SFT, Global
/// training).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    pub models: Vec<String>,
    pub says: String,
    pub source: String,
}

/// One place fine-tuning happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// As `--target` and `--provider` name it: `openai`, `azure`, `llama-factory`…
    pub target: String,
    pub name: String,
    /// Registry model families it trains.
    #[serde(default)]
    pub trains: Vec<String>,
    /// Every open-weight model of the registry (local trainers).
    #[serde(default)]
    pub trains_open_models: bool,
    #[serde(default)]
    pub cutoffs: Vec<Cutoff>,
    #[serde(default)]
    pub shutdowns: Vec<Shutdown>,
    #[serde(default)]
    pub terms: Vec<Terms>,
    /// Where the list of models (and the openness) comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

fn names(list: &[String], model: &ModelInfo) -> bool {
    list.iter().any(|n| n.eq_ignore_ascii_case(&model.name))
}

impl Provider {
    /// Whether this provider trains `model` at all (whatever the date).
    pub fn trains(&self, model: &ModelInfo) -> bool {
        names(&self.trains, model) || (self.trains_open_models && model.is_open())
    }

    fn cutoffs_for<'a>(&'a self, model: &'a ModelInfo) -> impl Iterator<Item = &'a Cutoff> {
        self.cutoffs
            .iter()
            .filter(move |c| c.models.is_empty() || names(&c.models, model))
    }

    /// The shutdown of `model`'s base, if announced.
    pub fn shutdown(&self, model: &ModelInfo) -> Option<&Shutdown> {
        self.shutdowns.iter().find(|s| names(&s.models, model))
    }

    /// The terms that hold for `model` here.
    pub fn terms_for<'a>(&'a self, model: &'a ModelInfo) -> impl Iterator<Item = &'a Terms> {
        self.terms.iter().filter(move |t| names(&t.models, model))
    }

    /// Whether `model` can be fine-tuned here on `today`, and by whom.
    pub fn status(&self, model: &ModelInfo, today: Date) -> Status {
        if !self.trains(model) {
            return Status::NotTrained;
        }
        let shutdown = self.shutdown(model).map(|s| s.on);
        if let Some(on) = shutdown.filter(|on| *on <= today) {
            return Status::Closed {
                since: on,
                why: ClosedBy::Shutdown,
            };
        }
        let in_force = |c: &&Cutoff| c.closed_from.is_none_or(|d| d <= today);
        let worst = self.cutoffs_for(model).filter(in_force).map(|c| c.to).max();
        // The next day nobody can: an announced `everyone` cutoff or the shutdown.
        let everyone = self
            .cutoffs_for(model)
            .filter(|c| c.to == Audience::Everyone)
            .filter_map(|c| c.closed_from)
            .chain(shutdown)
            .filter(|d| *d > today)
            .min();
        let last_day = everyone.and_then(|d| d.pred_opt());
        match worst {
            Some(Audience::Everyone) => {
                let since = self
                    .cutoffs_for(model)
                    .filter(in_force)
                    .filter(|c| c.to == Audience::Everyone)
                    .filter_map(|c| c.closed_from)
                    .min()
                    .unwrap_or(today);
                Status::Closed {
                    since,
                    why: ClosedBy::Cutoff,
                }
            }
            Some(_) => Status::ExistingCustomersOnly {
                since: self
                    .cutoffs_for(model)
                    .filter(in_force)
                    .filter_map(|c| c.closed_from)
                    .min(),
                last_day,
            },
            None => {
                let next = self
                    .cutoffs_for(model)
                    .filter_map(|c| c.closed_from.map(|d| (d, c.to)))
                    .chain(shutdown.map(|d| (d, Audience::Everyone)))
                    .filter(|(d, _)| *d > today)
                    .min();
                match next {
                    Some((d, to)) => Status::ClosingOn {
                        last_day: d.pred_opt().unwrap_or(d),
                        to,
                    },
                    None => Status::Open,
                }
            }
        }
    }
}

/// Why nobody can train a model any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedBy {
    /// The provider stopped creating jobs.
    Cutoff,
    /// The base model was shut down.
    Shutdown,
}

/// Whether a model can be fine-tuned at a target on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Anyone can create a job; nothing announced.
    Open,
    /// Anyone can create a job through `last_day`; from the next day `to` cannot.
    ClosingOn { last_day: Date, to: Audience },
    /// New (and maybe inactive) customers are shut out since `since` (absent: no date
    /// published); existing ones can create jobs through `last_day`, when announced.
    ExistingCustomersOnly {
        since: Option<Date>,
        last_day: Option<Date>,
    },
    /// Nobody can create a job since `since`.
    Closed { since: Date, why: ClosedBy },
    /// This target does not train the model.
    NotTrained,
}

impl Status {
    /// Whether someone new to this provider can create a job today.
    pub fn open_to_new(&self) -> bool {
        match self {
            // Closing, but still open to anyone until the day it closes.
            Status::Open | Status::ClosingOn { .. } => true,
            _ => false,
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self, Status::Closed { .. })
    }
}

impl fmt::Display for Status {
    /// Short, for tables: `open`, `existing customers only, last job 2027-01-06`…
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Open => f.write_str("open"),
            Status::ClosingOn {
                last_day,
                to: Audience::Everyone,
            } => write!(f, "open, last job {last_day}"),
            Status::ClosingOn { last_day, to } => {
                write!(f, "open, closes to {} after {last_day}", to.describe())
            }
            Status::ExistingCustomersOnly { last_day, .. } => {
                f.write_str("existing customers only")?;
                match last_day {
                    Some(d) => write!(f, ", last job {d}"),
                    None => Ok(()),
                }
            }
            Status::Closed {
                since,
                why: ClosedBy::Cutoff,
            } => write!(f, "closed since {since}"),
            Status::Closed {
                since,
                why: ClosedBy::Shutdown,
            } => write!(f, "shut down {since}"),
            Status::NotTrained => f.write_str("-"),
        }
    }
}

/// How serious a [`Notice`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The model can be trained today by some, or not much longer: say so.
    Warn,
    /// Nobody can create a job: `launch` refuses (unless forced).
    Closed,
}

/// What to tell someone who picked a model and a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    pub level: Level,
    pub model: String,
    pub target: String,
    #[serde(flatten)]
    pub status: Status,
    /// One sentence (or a few) naming the dates and the targets that can train it.
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LifecycleFile {
    #[serde(rename = "_what")]
    _what: Option<String>,
    #[serde(deserialize_with = "de_date")]
    reviewed: Date,
    /// The model afinar suggests to someone who cannot train theirs.
    suggested: String,
    providers: Vec<Provider>,
}

/// The lifecycle table.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    reviewed: Date,
    suggested: String,
    providers: Vec<Provider>,
}

impl Lifecycle {
    /// The table bundled with afinar.
    pub fn builtin() -> Lifecycle {
        // The bundled file is checked by a unit test, so parsing cannot fail.
        #[allow(clippy::expect_used)]
        Lifecycle::parse(BUILTIN).expect("bundled lifecycle.json parses")
    }

    /// A table shaped like the bundled one.
    pub fn parse(text: &str) -> Result<Lifecycle, serde_json::Error> {
        let file: LifecycleFile = serde_json::from_str(text)?;
        Ok(Lifecycle {
            reviewed: file.reviewed,
            suggested: file.suggested,
            providers: file.providers,
        })
    }

    /// When the facts were last checked against the providers' pages.
    pub fn reviewed(&self) -> Date {
        self.reviewed
    }

    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    pub fn provider(&self, target: &str) -> Option<&Provider> {
        self.providers
            .iter()
            .find(|p| p.target.eq_ignore_ascii_case(target.trim()))
    }

    /// `model` at `target` on `today`; an unknown target trains nothing.
    pub fn status(&self, target: &str, model: &ModelInfo, today: Date) -> Status {
        self.provider(target)
            .map_or(Status::NotTrained, |p| p.status(model, today))
    }

    /// Every provider that trains `model`, with its status on `today`, in table order.
    pub fn places<'a>(&'a self, model: &ModelInfo, today: Date) -> Vec<(&'a Provider, Status)> {
        self.providers
            .iter()
            .filter(|p| p.trains(model))
            .map(|p| (p, p.status(model, today)))
            .collect()
    }

    /// The targets where someone new can train `model` today: the alternatives.
    pub fn open_to_new<'a>(&'a self, model: &ModelInfo, today: Date) -> Vec<&'a Provider> {
        self.places(model, today)
            .into_iter()
            .filter(|(_, s)| s.open_to_new())
            .map(|(p, _)| p)
            .collect()
    }

    /// The model to suggest instead (if the registry has it), with where it is open.
    pub fn suggestion<'a>(
        &'a self,
        registry: &'a Registry,
        today: Date,
    ) -> Option<(&'a ModelInfo, Vec<&'a Provider>)> {
        let m = registry.lookup(&self.suggested)?;
        let open = self.open_to_new(m, today);
        (!open.is_empty()).then_some((m, open))
    }

    /// What to say about training `model` at `target` on `today`; `None` when it is open
    /// with nothing announced, or when neither the model nor the target is in the table.
    pub fn notice(
        &self,
        registry: &Registry,
        model: &ModelInfo,
        target: &str,
        today: Date,
    ) -> Option<Notice> {
        let provider = self.provider(target)?;
        let status = provider.status(model, today);
        let name = &model.name;
        let mut parts: Vec<String> = Vec::new();
        let cutoffs = |parts: &mut Vec<String>| {
            for c in provider.cutoffs_for(model) {
                match c.closed_from {
                    Some(_) if c.to == Audience::Everyone => parts.push(c.says.clone()),
                    Some(d) => parts.push(format!("{} (from {d})", c.says)),
                    None => parts.push(c.says.clone()),
                }
            }
            if let Some(s) = provider.shutdown(model) {
                parts.push(format!("`{name}` shuts down on {}", s.on));
            }
        };
        let level = match status {
            Status::Open => return None,
            Status::NotTrained => {
                if self.places(model, today).is_empty() {
                    return None;
                }
                parts.push(format!(
                    "afinar's lifecycle table does not list `{name}` as trained at {}",
                    provider.name
                ));
                Level::Warn
            }
            Status::ClosingOn { .. } => {
                parts.push(format!(
                    "`{name}` can be fine-tuned at {} today, but not for long",
                    provider.name
                ));
                cutoffs(&mut parts);
                Level::Warn
            }
            Status::ExistingCustomersOnly { .. } => {
                parts.push(format!(
                    "`{name}` cannot be fine-tuned at {} by someone new to it",
                    provider.name
                ));
                cutoffs(&mut parts);
                Level::Warn
            }
            Status::Closed {
                since,
                why: ClosedBy::Shutdown,
            } => {
                parts.push(format!(
                    "`{name}` cannot be fine-tuned at {}: it was shut down on {since}",
                    provider.name
                ));
                Level::Closed
            }
            Status::Closed { since, .. } => {
                parts.push(format!(
                    "`{name}` can no longer be fine-tuned at {} (closed since {since})",
                    provider.name
                ));
                cutoffs(&mut parts);
                Level::Closed
            }
        };
        let mut message = parts.join("; ");
        let elsewhere: Vec<String> = self
            .places(model, today)
            .into_iter()
            .filter(|(p, s)| p.target != provider.target && !s.is_closed())
            .map(|(p, s)| match s {
                Status::Open => p.target.clone(),
                s => format!("{} ({s})", p.target),
            })
            .collect();
        if !elsewhere.is_empty() {
            message.push_str(&format!(
                ". `{name}` is still trained at {}",
                elsewhere.join(", ")
            ));
        }
        if self.open_to_new(model, today).is_empty()
            && let Some((m, open)) = self.suggestion(registry, today)
        {
            let at: Vec<&str> = open.iter().map(|p| p.target.as_str()).collect();
            message.push_str(&format!(
                ". A model anyone can train today: `{}` at {} (see `afinar models --open`)",
                m.name,
                at.join(", ")
            ));
        }
        Some(Notice {
            level,
            model: name.clone(),
            target: provider.target.clone(),
            status,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        date(s).unwrap()
    }

    fn model(name: &str) -> ModelInfo {
        Registry::builtin().lookup(name).unwrap().clone()
    }

    #[test]
    fn builtin_parses_and_names_only_known_models_and_targets() {
        let life = Lifecycle::builtin();
        let registry = Registry::builtin();
        let known = registry.names();
        for p in life.providers() {
            let lists = p
                .trains
                .iter()
                .chain(p.cutoffs.iter().flat_map(|c| &c.models))
                .chain(p.shutdowns.iter().flat_map(|s| &s.models))
                .chain(p.terms.iter().flat_map(|t| &t.models));
            for name in lists {
                assert!(known.contains(&name.as_str()), "{}: {name}", p.target);
            }
            assert!(p.source.is_some() || !p.cutoffs.is_empty(), "{}", p.target);
        }
        assert!(registry.lookup(&life.suggested).is_some());
        for t in [
            "openai",
            "azure",
            "together",
            "fireworks",
            "vertex",
            "bedrock",
            "llama-factory",
            "axolotl",
            "trl",
        ] {
            assert!(life.provider(t).is_some(), "{t}");
        }
        assert!(date("2026-13-01").is_err() && date("1 Dec 2026").is_err());
        assert_eq!(date(" 2026-12-01 ").unwrap(), d("2026-12-01"));
    }

    #[test]
    fn openai_closes_in_three_steps_then_the_models_shut_down() {
        let life = Lifecycle::builtin();
        let mini = model("gpt-4o-mini");
        let at = |day: &str| life.status("openai", &mini, d(day));
        assert_eq!(
            at("2026-05-06"),
            Status::ClosingOn {
                last_day: d("2026-05-06"),
                to: Audience::New
            }
        );
        let existing = |since: &str| Status::ExistingCustomersOnly {
            since: Some(d(since)),
            last_day: Some(d("2027-01-06")),
        };
        assert_eq!(at("2026-05-07"), existing("2026-05-07"));
        assert_eq!(at("2026-07-01"), existing("2026-05-07"));
        assert_eq!(at("2026-07-02"), existing("2026-05-07"));
        assert_eq!(at("2026-12-01"), existing("2026-05-07"));
        assert_eq!(at("2027-01-06"), existing("2026-05-07"));
        let closed = Status::Closed {
            since: d("2027-01-07"),
            why: ClosedBy::Cutoff,
        };
        assert_eq!(at("2027-01-07"), closed);
        assert_eq!(at("2027-01-13"), closed);
        assert_eq!(
            at("2027-01-14"),
            Status::Closed {
                since: d("2027-01-14"),
                why: ClosedBy::Shutdown
            }
        );
        assert_eq!(
            at("2026-12-01").to_string(),
            "existing customers only, last job 2027-01-06"
        );
        assert_eq!(at("2027-01-07").to_string(), "closed since 2027-01-07");
        // Every model the same way, snapshots and fine-tunes by their family.
        for name in [
            "gpt-4o",
            "gpt-4.1",
            "gpt-4.1-mini-2025-04-14",
            "ft:gpt-4o-mini-2024-07-18:acme::x1",
        ] {
            assert_eq!(
                life.status("openai", &model(name), d("2026-12-01")),
                existing("2026-05-07"),
                "{name}"
            );
        }
    }

    #[test]
    fn legacy_openai_models_are_already_shut_down() {
        let life = Lifecycle::builtin();
        let nano = model("gpt-4.1-nano");
        assert!(matches!(
            life.status("openai", &nano, d("2026-10-22")),
            Status::ExistingCustomersOnly { last_day: Some(l), .. } if l == d("2026-10-22")
        ));
        assert_eq!(
            life.status("openai", &nano, d("2026-10-23")),
            Status::Closed {
                since: d("2026-10-23"),
                why: ClosedBy::Shutdown
            }
        );
        assert_eq!(
            life.status("openai", &model("gpt-3.5-turbo-0125"), d("2026-12-01"))
                .to_string(),
            "shut down 2026-10-23"
        );
    }

    #[test]
    fn azure_trains_its_openai_models_for_existing_customers_and_open_models_for_all() {
        let life = Lifecycle::builtin();
        let today = d("2026-12-01");
        assert_eq!(
            life.status("azure", &model("gpt-4.1"), today),
            Status::ExistingCustomersOnly {
                since: None,
                last_day: None
            }
        );
        for name in [
            "openai/gpt-oss-20b",
            "meta-llama/Llama-3.3-70B-Instruct",
            "Qwen/Qwen3-32B",
            "mistralai/Ministral-3B",
        ] {
            assert_eq!(
                life.status("azure", &model(name), today),
                Status::Open,
                "{name}"
            );
        }
        assert_eq!(
            life.status("azure", &model("Qwen/Qwen3-8B"), today),
            Status::NotTrained
        );
        assert_eq!(
            life.status("nowhere", &model("gpt-4.1"), today),
            Status::NotTrained
        );
    }

    #[test]
    fn alternatives_are_the_targets_open_to_new_users() {
        let life = Lifecycle::builtin();
        let today = d("2026-12-01");
        let targets = |name: &str| -> Vec<String> {
            life.open_to_new(&model(name), today)
                .iter()
                .map(|p| p.target.clone())
                .collect()
        };
        assert_eq!(
            targets("openai/gpt-oss-20b"),
            [
                "azure",
                "together",
                "fireworks",
                "llama-factory",
                "axolotl",
                "trl"
            ]
        );
        assert!(targets("gpt-4o-mini").is_empty());
        assert_eq!(
            targets("google/gemma-3-1b-it"),
            ["together", "llama-factory", "axolotl", "trl"]
        );
    }

    #[test]
    fn the_notice_names_the_dates_and_where_to_train_instead() {
        let life = Lifecycle::builtin();
        let registry = Registry::builtin();
        let n = life
            .notice(&registry, &model("gpt-4o-mini"), "openai", d("2026-12-01"))
            .unwrap();
        assert_eq!(n.level, Level::Warn);
        for part in [
            "cannot be fine-tuned at OpenAI by someone new to it",
            "(from 2026-05-07)",
            "(from 2026-07-02)",
            "nobody can create a fine-tuning job after 2027-01-06",
            "shuts down on 2027-01-14",
            "still trained at azure (existing customers only)",
            "`openai/gpt-oss-20b` at azure, together, fireworks, llama-factory, axolotl, trl",
        ] {
            assert!(n.message.contains(part), "{part}: {}", n.message);
        }
        let closed = life
            .notice(&registry, &model("gpt-4o-mini"), "openai", d("2027-01-07"))
            .unwrap();
        assert_eq!(closed.level, Level::Closed);
        assert!(
            closed.message.contains("closed since 2027-01-07"),
            "{}",
            closed.message
        );
        // Open with nothing announced: nothing to say.
        assert!(
            life.notice(
                &registry,
                &model("openai/gpt-oss-20b"),
                "azure",
                d("2026-12-01")
            )
            .is_none()
        );
        assert!(
            life.notice(
                &registry,
                &model("openai/gpt-oss-20b"),
                "llama-factory",
                d("2030-01-01")
            )
            .is_none()
        );
        // Not at that target, but elsewhere.
        let n = life
            .notice(&registry, &model("Qwen/Qwen3-8B"), "azure", d("2026-12-01"))
            .unwrap();
        assert!(
            n.message.contains("still trained at together"),
            "{}",
            n.message
        );
    }

    #[test]
    fn an_edited_table_changes_the_status() {
        // The one-edit promise: a new cutoff for Together closes it on that day.
        let text = BUILTIN.replace(
            r#""target": "together","#,
            r#""target": "together", "cutoffs": [{"closed_from": "2027-03-01", "to": "everyone", "says": "Together stops fine-tuning", "source": "test"}],"#,
        );
        let life = Lifecycle::parse(&text).unwrap();
        let oss = model("openai/gpt-oss-20b");
        assert_eq!(
            life.status("together", &oss, d("2027-02-28")),
            Status::ClosingOn {
                last_day: d("2027-02-28"),
                to: Audience::Everyone
            }
        );
        assert!(life.status("together", &oss, d("2027-03-01")).is_closed());
        assert!(Lifecycle::parse(&BUILTIN.replace("2026-05-07", "7 May 2026")).is_err());
        assert!(Lifecycle::parse(&BUILTIN.replace(r#""to": "new""#, r#""to": "some""#)).is_err());
    }
}
