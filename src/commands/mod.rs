//! One file per subcommand: its flags, help text with examples, and `run`. Commands do
//! not import each other: what several share lives in a shared module (`remote`,
//! `curate_io`), and `run --launch` gets `launch` from the dispatcher below.

mod check;
mod convert;
mod convert_summary;
mod curate_io;
mod dedupe;
mod eval;
mod jobs;
mod launch;
mod leakage;
mod models;
mod remote;
mod run;
mod split;
mod training;
mod upload;

use std::process::ExitCode;

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
        Command::Run(args) => run::run(
            args,
            run::Next {
                launch: launch::run_words,
                eval: eval::run_words,
            },
        ),
        Command::Upload(args) => upload::run(args),
        Command::Launch(args) => launch::run(args),
        Command::Jobs(args) => jobs::run(args),
        Command::Eval(args) => eval::run(args),
    }
}
