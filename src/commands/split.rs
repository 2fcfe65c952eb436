//! `afinar split`: a seeded, stratified train/validation split that keeps duplicates together.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use afinar_curate::{Split, SplitOptions, Validation};
use afinar_formats::write::jsonl::{self, ChatLine, JsonlOptions};
use anyhow::bail;
use serde::Serialize;

use super::curate_io::{Format, read_inputs, render_rejects};
use crate::progress::{Bars, QuietArg};
use crate::ui::same_file;
use crate::ui::{self, exit};
use afinar_core::progress::Progress as _;

const EXAMPLES: &str = "\
Examples:
  # 10% validation, seed 42
  afinar split train.jsonl --out-dir data/

  # 50 validation examples, every topic (the spreadsheet's Tema column) on both sides
  afinar split faq.csv --out-dir data/ --validation 50 --stratify Tema

  # Another draw
  afinar split faq.jsonl --out-dir data/ --validation 0.2 --seed 7

The split depends only on the examples' content and the seed: not on their order in the
file, nor on the number of threads. Exact and near duplicates (similarity ≥ 0.5, as in
`afinar dedupe`) always land on the same side, so validation never repeats training.
With --stratify, every value of the field with at least 2 examples gets at least one
example on each side, in proportion (within one example). Strata come from source
columns: split the CSV or JSONL source directly, because JSONL written by afinar carries
no extra columns.

Writes DIR/train.jsonl and DIR/validation.jsonl (chat JSONL), each atomically, in input
order. Exit codes: 0 ok, 2 usage or I/O error.";

/// Split examples into train.jsonl and validation.jsonl.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Input files (JSONL, CSV…), read in the order given.
    #[arg(required = true, value_name = "IN")]
    inputs: Vec<PathBuf>,
    /// Directory for train.jsonl and validation.jsonl (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    /// Validation size: a fraction (`0.1`, `10%`) or a count (`50`).
    #[arg(long, value_name = "FRACTION|COUNT", default_value = "0.1")]
    validation: Validation,
    /// Seed of the draw; the same seed and examples give the same split.
    #[arg(long, value_name = "N", default_value_t = 42)]
    seed: u64,
    /// Keep each value of this field (a source column such as `Tema`) in proportion on
    /// both sides.
    #[arg(long, value_name = "FIELD")]
    stratify: Option<String>,
    /// Similarity at or above which examples are kept on one side [default: 0.5].
    #[arg(long, value_name = "THRESHOLD", conflicts_with = "exact_only")]
    near: Option<f64>,
    /// Keep only exact duplicates together (faster on very large sets).
    #[arg(long)]
    exact_only: bool,
    /// Summary format: `text` on standard error, or `json` on standard output.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    quiet: QuietArg,
}

#[derive(Serialize)]
struct Summary<'a> {
    inputs: Vec<String>,
    train_file: String,
    validation_file: String,
    seed: u64,
    stratify: Option<&'a str>,
    examples: usize,
    train: usize,
    validation: usize,
    unreadable: usize,
    strata: &'a [afinar_curate::Stratum],
    joined_groups: usize,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let train_path = args.out_dir.join("train.jsonl");
    let validation_path = args.out_dir.join("validation.jsonl");
    for input in &args.inputs {
        if same_file(input, &train_path) || same_file(input, &validation_path) {
            bail!(
                "Input `{}` would be overwritten; choose another --out-dir",
                input.display()
            );
        }
    }
    let bars = Bars::new(args.quiet);
    let (examples, rejects) = read_inputs(&args.inputs, &bars)?;
    bars.stage(&format!(
        "Splitting {}",
        ui::count(examples.len() as u64, "example", "examples")
    ));
    let opts = SplitOptions {
        validation: args.validation,
        seed: args.seed,
        stratify: args.stratify.clone(),
        near: if args.exact_only {
            None
        } else {
            Some(args.near.unwrap_or(afinar_curate::DEFAULT_NEAR_THRESHOLD))
        },
    };
    let split = afinar_curate::split_reporting(&examples, &opts, &bars)?;
    bars.end();
    // Train and validation go in place together: never a new train beside an old
    // validation file.
    let mut pending = Vec::new();
    for (path, indices) in [
        (&train_path, &split.train),
        (&validation_path, &split.validation),
    ] {
        let lines: Vec<ChatLine<'_>> = indices.iter().map(|&i| ChatLine(&examples[i])).collect();
        pending.extend(jsonl::prepare_file_par(
            path,
            &lines,
            JsonlOptions::default(),
        )?);
    }
    afinar_formats::atomic::commit(pending)?;

    let summary = Summary {
        inputs: args
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        train_file: train_path.display().to_string(),
        validation_file: validation_path.display().to_string(),
        seed: args.seed,
        stratify: args.stratify.as_deref(),
        examples: examples.len(),
        train: split.train.len(),
        validation: split.validation.len(),
        unreadable: rejects.len(),
        strata: &split.strata,
        joined_groups: split.joined_groups,
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        Format::Text => {
            let mut t = String::new();
            let inputs: Vec<String> = summary.inputs.iter().map(|p| format!("`{p}`")).collect();
            let _ = writeln!(
                t,
                "Read {} examples from {}",
                summary.examples,
                inputs.join(", ")
            );
            render_rejects(&mut t, &rejects);
            let _ = writeln!(t, "{}", render_strata(&split, args.stratify.as_deref()));
            if split.joined_groups > 0 {
                let _ = writeln!(
                    t,
                    "{} groups of duplicates kept on one side (run `afinar dedupe` to drop them)",
                    split.joined_groups
                );
            }
            let _ = writeln!(
                t,
                "Wrote {} examples to `{}`",
                summary.train, summary.train_file
            );
            let _ = writeln!(
                t,
                "Wrote {} examples to `{}` (seed {})",
                summary.validation, summary.validation_file, args.seed
            );
            eprint!("{t}");
        }
    }
    afinar_core::drop_in_background(examples);
    Ok(ExitCode::from(exit::OK))
}

/// A table of sizes per stratum, with a total row.
fn render_strata(split: &Split, field: Option<&str>) -> String {
    let header = field.unwrap_or("stratum");
    let names: Vec<&str> = split
        .strata
        .iter()
        .map(|s| {
            if s.name.is_empty() {
                "(none)"
            } else {
                s.name.as_str()
            }
        })
        .collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .chain([header.chars().count(), 5])
        .max()
        .unwrap_or(5);
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:<width$}  {:>7}  {:>5}  {:>10}",
        header, "total", "train", "validation"
    );
    for (s, name) in split.strata.iter().zip(&names) {
        let _ = writeln!(
            t,
            "{:<width$}  {:>7}  {:>5}  {:>10}",
            name, s.total, s.train, s.validation
        );
    }
    if split.strata.len() > 1 {
        let total: usize = split.strata.iter().map(|s| s.total).sum();
        let _ = write!(
            t,
            "{:<width$}  {:>7}  {:>5}  {:>10}",
            "total",
            total,
            split.train.len(),
            split.validation.len()
        );
    } else {
        t.pop();
    }
    t
}
