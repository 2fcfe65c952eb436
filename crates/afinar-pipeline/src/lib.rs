//! afinar's pipelines: one TOML file from spreadsheets to train/validation JSONL.
//!
//! A pipeline file ([`spec::PipelineSpec`]) is read with serde; an unknown key is an error
//! that names the key and its line. The stages are a library ([`stage`]): `afinar
//! convert` runs the stateless ones through [`flow`], the runner ([`run`]) chains them
//! with the stateful ones (read → filter → system → redact → shape → dedupe → split →
//! check → write) and produces a [`manifest::Manifest`] that
//! accounts for every input row, and a self-contained HTML report ([`report`]).
//!
//! ```
//! let spec = afinar_pipeline::spec::PipelineSpec::parse(
//!     "[[sources]]\npath = \"faq.csv\"\n",
//!     "p.toml",
//! ).unwrap();
//! assert_eq!(spec.sources[0].path, "faq.csv");
//! ```

pub mod convert;
mod error;
pub mod export;
pub mod flow;
pub mod manifest;
pub mod report;
pub mod run;
pub mod spec;
pub mod stage;

pub use error::PipelineError;
