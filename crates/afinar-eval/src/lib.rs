//! Scoring a model's answers against reference answers, for `afinar eval`.
//!
//! The model:
//! - [`text`]: normalisation, `exact` (equal after normalising) and `f1` (token F1).
//! - [`chrf`]: chrF with sacrebleu's defaults (character 6-grams, β = 2), in 0..1.
//! - [`facts`]: the checkable facts of Portuguese text (money, percentages, dates, laws,
//!   articles, other numbers), reduced to canonical values; `facts` is the share of the
//!   reference's facts an answer states with the same value.
//! - [`score`]: every metric of one answer; [`stats`]: means with bootstrap confidence
//!   intervals, paired comparisons (win/tie/loss) against a baseline.
//! - [`report`]: the self-contained `report.html`.
//! - [`cache`]: the key answers are cached under; [`judge`]: the LLM-judge rubric and
//!   the parsing of its verdicts.
//!
//! Nothing here touches the network or the file system: the binary sends the requests
//! and hands the answers in.
//!
//! ```
//! let s = afinar_eval::score::score(
//!     "O limite é de 4,8 milhões de reais.",
//!     "O limite anual é R$ 4.800.000,00.",
//! );
//! assert_eq!(s.facts, Some(1.0));
//! assert_eq!(s.exact, 0.0);
//! ```

pub mod cache;
pub mod chrf;
pub mod cost;
pub mod facts;
pub mod judge;
pub mod report;
pub mod score;
pub mod stats;
pub mod text;

pub use score::{METRICS, Scores, score};
