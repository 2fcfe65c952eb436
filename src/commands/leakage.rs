//! `afinar leakage`: validation examples that repeat training ones.

use afinar_core::progress::Silent;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use afinar_curate::LeakKind;
use serde::Serialize;

use super::curate_io::{Format, SHOWN, read_inputs, render_rejects};
use crate::ui::{self, exit};

const EXAMPLES: &str = "\
Examples:
  # Before launching a job: does validation repeat training?
  afinar leakage data/train.jsonl data/validation.jsonl

  # Exact copies only, as JSON for a script
  afinar leakage train.jsonl validation.jsonl --exact-only --format json

A validation example leaks when training holds an exact copy (after folding case,
punctuation and whitespace) or a near duplicate (question and answer similarity at or
above the threshold, 0.5 by default, as in `afinar dedupe`). Each is listed with its
closest training example.

Exit codes: 0 no leakage, 1 leakage found, 2 usage or I/O error.";

/// Find validation examples that duplicate training examples.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// The training file.
    #[arg(value_name = "TRAIN")]
    train: PathBuf,
    /// The validation file.
    #[arg(value_name = "VALIDATION")]
    validation: PathBuf,
    /// Near-duplicate threshold: Jaccard similarity of question and answer [default: 0.5].
    #[arg(long, value_name = "THRESHOLD", conflicts_with = "exact_only")]
    near: Option<f64>,
    /// Only look for exact copies.
    #[arg(long)]
    exact_only: bool,
    /// Report format: `text` on standard error, or `json` on standard output.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Serialize)]
struct Report {
    train: String,
    validation: String,
    train_examples: usize,
    validation_examples: usize,
    near_threshold: Option<f64>,
    leaks: Vec<LeakOut>,
}

#[derive(Serialize)]
struct LeakOut {
    validation: String,
    train: String,
    kind: LeakKind,
    similarity: f64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (train, train_rejects) = read_inputs(std::slice::from_ref(&args.train), &Silent)?;
    let (validation, validation_rejects) =
        read_inputs(std::slice::from_ref(&args.validation), &Silent)?;
    let near = if args.exact_only {
        None
    } else {
        Some(args.near.unwrap_or(afinar_curate::DEFAULT_NEAR_THRESHOLD))
    };
    let leaks = afinar_curate::leakage(&train, &validation, near)?;
    let report = Report {
        train: args.train.display().to_string(),
        validation: args.validation.display().to_string(),
        train_examples: train.len(),
        validation_examples: validation.len(),
        near_threshold: near,
        leaks: leaks
            .iter()
            .map(|l| LeakOut {
                validation: validation[l.validation].origin.to_string(),
                train: train[l.train].origin.to_string(),
                kind: l.kind,
                similarity: l.similarity,
            })
            .collect(),
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => {
            let mut t = String::new();
            let _ = writeln!(
                t,
                "Compared {} validation examples (`{}`) with {} training examples (`{}`)",
                report.validation_examples, report.validation, report.train_examples, report.train
            );
            let rejects: Vec<_> = train_rejects
                .iter()
                .chain(&validation_rejects)
                .cloned()
                .collect();
            render_rejects(&mut t, &rejects);
            if report.leaks.is_empty() {
                let _ = writeln!(
                    t,
                    "No leakage: no validation example repeats a training example"
                );
            } else {
                let _ = writeln!(
                    t,
                    "{} {} validation examples repeat training examples; remove them or split again with `afinar split`:",
                    ui::paint("error:", "1;31"),
                    report.leaks.len()
                );
                for l in report.leaks.iter().take(SHOWN) {
                    let how = match l.kind {
                        LeakKind::Exact => "exact copy of".to_owned(),
                        _ => format!("near duplicate ({:.2}) of", l.similarity),
                    };
                    let _ = writeln!(t, "  {} {how} {}", l.validation, l.train);
                }
                if report.leaks.len() > SHOWN {
                    let _ = writeln!(t, "  … and {} more", report.leaks.len() - SHOWN);
                }
            }
            eprint!("{t}");
        }
    }
    Ok(ExitCode::from(if report.leaks.is_empty() {
        exit::OK
    } else {
        exit::DATA
    }))
}
