//! The `afinar` binary: parses flags, wires the library crates together, renders output.
//! Logic that a library could test lives in `crates/`.

mod commands;
mod progress;
mod ui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // SIGINT and SIGTERM (Ctrl+C on Windows): wait for a publish in progress, remove every
    // temp file and staging directory, and exit 130, so outputs are all old or all new.
    // Failing to install it only loses that cleanup, so it is not fatal.
    let _ = ctrlc::set_handler(|| {
        if afinar_formats::atomic::interrupt() {
            eprintln!("Interrupted after the outputs were written");
        } else {
            eprintln!("Interrupted; no output was changed");
        }
        std::process::exit(130);
    });
    // Panics contained in third-party parsers (see afinar_formats::contain) become
    // errors naming the file; they must not also print a panic message.
    afinar_formats::contain::install_panic_hook();
    let cli = commands::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => ui::report_error(&err),
    }
}
