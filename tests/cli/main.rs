//! End-to-end tests of the `afinar` binary, one module per command. Output and error
//! text are snapshots (insta) with temp paths filtered.

mod common;

mod check;
mod convert;
mod curate;
mod documents;
mod eval;
mod flow;
mod fuzz_replay;
mod lifecycle;
mod limits;
mod malformed;
mod open_models;
mod parquet;
mod pipeline;
mod progress;
mod redact;
mod reliability;
mod remote;
mod services;
mod sources;
mod targets;
