//! afinar's pipelines: one TOML file from spreadsheets to train/validation JSONL.
//!
//! A pipeline file ([`spec::PipelineSpec`]) is read with serde; an unknown key is an error
//! that names the key and its line. The runner chains the stages (read → normalise →
//! convert → dedupe → split → check → write) and produces a [`manifest::Manifest`] that
//! accounts for every input row, and a self-contained HTML report ([`report`]).
//!
//! ```
//! let spec = afinar_pipeline::spec::PipelineSpec::parse(
//!     "[[sources]]\npath = \"faq.csv\"\n",
//!     "p.toml",
//! ).unwrap();
//! assert_eq!(spec.sources[0].path, "faq.csv");
//! ```

mod error;
pub mod export;
pub mod manifest;
pub mod report;
pub mod run;
pub mod spec;

pub use error::PipelineError;
