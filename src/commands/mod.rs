//! One file per subcommand: its flags, help text with examples, and `run`.

mod check;
mod convert;
mod dedupe;
mod eval;
mod jobs;
mod launch;
mod leakage;
mod models;
mod run;
mod split;
mod upload;

use std::path::PathBuf;
use std::process::ExitCode;

use afinar_formats::{ReadOptions, ReadOutput, read};
use rayon::prelude::*;

use clap::{Parser, Subcommand};

/// Turn FAQ spreadsheets, CSV exports, Markdown and JSONL into clean, validated
/// fine-tuning datasets.
#[derive(Debug, Parser)]
#[command(
    name = "afinar",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Convert(convert::Args),
    Check(check::Args),
    Dedupe(dedupe::Args),
    Split(split::Args),
    Leakage(leakage::Args),
    Models(models::Args),
    Run(run::Args),
    Upload(upload::Args),
    Launch(launch::Args),
    Jobs(jobs::Args),
    Eval(eval::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Convert(args) => convert::run(args),
        Command::Check(args) => check::run(args),
        Command::Dedupe(args) => dedupe::run(args),
        Command::Split(args) => split::run(args),
        Command::Leakage(args) => leakage::run(args),
        Command::Models(args) => models::run(args),
        Command::Run(args) => run::run(args),
        Command::Upload(args) => upload::run(args),
        Command::Launch(args) => launch::run(args),
        Command::Jobs(args) => jobs::run(args),
        Command::Eval(args) => eval::run(args),
    }
}

/// Reads several inputs in parallel. The result keeps their order, and the first failure
/// in input order is the one reported; every reader error names its file (and line).
pub(crate) fn read_sources(
    inputs: &[PathBuf],
    opts: &ReadOptions,
) -> anyhow::Result<Vec<(PathBuf, ReadOutput)>> {
    let read: Vec<_> = inputs
        .par_iter()
        .map(|input| read::read_path(input, opts))
        .collect();
    inputs
        .iter()
        .cloned()
        .zip(read)
        .map(|(input, out)| Ok((input, out?)))
        .collect()
}
