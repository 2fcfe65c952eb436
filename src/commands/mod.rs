//! One file per subcommand: its flags, help text with examples, and `run`.

mod convert;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Turn FAQ spreadsheets, CSV exports, Markdown and JSONL into clean, validated
/// fine-tuning datasets.
#[derive(Debug, Parser)]
#[command(name = "afinar", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Convert(convert::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Convert(args) => convert::run(args),
    }
}
