//! The `afinar` binary: parses flags, wires the library crates together, renders output.
//! Logic that a library could test lives in `crates/`.

mod commands;
mod ui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => ui::report_error(&err),
    }
}
