//! `afinar dedupe`: drop exact and near duplicates, report conflicting answers.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use afinar_curate::{ConflictReason, DedupeOptions, DedupeReport, Reason};
use afinar_formats::Reject;
use afinar_formats::write::jsonl::{self, ChatLine, JsonlOptions};
use serde::Serialize;

use super::curate_io::{Format, SHOWN, read_inputs, render_rejects};
use crate::progress::{Bars, QuietArg};
use crate::ui::{self, exit};
use afinar_core::progress::Progress as _;

const EXAMPLES: &str = "\
Examples:
  # Drop duplicates; the report goes to train.dedupe.json
  afinar dedupe faq.jsonl -o train.jsonl

  # Two spreadsheets pasted from each other, merged and deduplicated
  afinar dedupe faq-2023.csv faq-2024.csv -o faq.jsonl --report duplicates.json

  # Only copies that are equal after folding case, accents' encoding and punctuation
  afinar dedupe faq.jsonl -o train.jsonl --exact-only

  # Stricter near-duplicate matching; fail (exit 1) on conflicting answers, for CI
  afinar dedupe faq.jsonl -o train.jsonl --near 0.7 --strict

Exact duplicates: every message equal after Unicode NFC, lower-casing, dropping
punctuation and collapsing whitespace. Near duplicates: question and answer with a Jaccard
similarity of their 5-character shingles at or above the threshold (found with MinHash and
LSH, then measured exactly), with answers as similar and holding the same figures. The
default 0.5 was measured on Simples Nacional FAQs: rewordings of a question with the same
answer score 0.53 to 0.92, distinct questions at most 0.22. A very short answer (`Sim.`)
behind a fully reworded question can score below 0.5. The first copy in input order is
kept.

Conflicts (the same question with materially different answers: other figures, or other
words) are never merged: both copies are kept and listed for a person to decide.

Exit codes: 0 ok, 1 conflicts or unreadable rows with --strict, or nothing written,
2 usage or I/O error.";

/// Remove exact and near-duplicate examples and find conflicting answers.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Input files (JSONL, CSV…), read in the order given.
    #[arg(required = true, value_name = "IN")]
    inputs: Vec<PathBuf>,
    /// Output chat JSONL file, or `-` for standard output.
    #[arg(short, long, value_name = "OUT.jsonl")]
    output: PathBuf,
    /// Near-duplicate threshold: Jaccard similarity of question and answer, above 0 and
    /// at most 1 [default: 0.5].
    #[arg(long, value_name = "THRESHOLD", conflicts_with = "exact_only")]
    near: Option<f64>,
    /// Only drop exact duplicates (after folding case, punctuation and whitespace).
    #[arg(long)]
    exact_only: bool,
    /// Where the JSON report of every group and conflict goes [default: <OUT>.dedupe.json].
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Exit 1 when conflicting answers are found or rows could not be read.
    #[arg(long)]
    strict: bool,
    /// Summary format: `text` on standard error, or `json` on standard output.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    quiet: QuietArg,
}

#[derive(Serialize)]
struct Summary<'a> {
    inputs: Vec<String>,
    output: String,
    report_file: Option<String>,
    unreadable: usize,
    #[serde(flatten)]
    report: &'a DedupeReport,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let to_stdout = args.output.as_os_str() == "-";
    crate::ui::check_output(&args.inputs, &args.output, args.format == Format::Json)?;
    let bars = Bars::new(args.quiet);
    let (examples, rejects) = read_inputs(&args.inputs, &bars)?;
    bars.stage(&format!(
        "Deduplicating {}",
        ui::count(examples.len() as u64, "example", "examples")
    ));
    let opts = DedupeOptions {
        near: if args.exact_only {
            None
        } else {
            Some(args.near.unwrap_or(afinar_curate::DEFAULT_NEAR_THRESHOLD))
        },
    };
    let out = afinar_curate::dedupe_reporting(examples, &opts, &bars)?;
    bars.end();

    // The output and its report go in place together, or neither does. Both are
    // prepared at once: the report is written while the output is.
    let report_path = match (&args.report, to_stdout) {
        (Some(p), _) => Some(p.clone()),
        (None, false) => Some(sibling(&args.output, "dedupe.json")),
        (None, true) => None,
    };
    let (output, report) = rayon::join(
        || {
            let lines: Vec<ChatLine<'_>> = out.kept.iter().map(ChatLine).collect();
            jsonl::prepare_file_par(&args.output, &lines, JsonlOptions::default())
        },
        || {
            report_path
                .as_ref()
                .map(|path| {
                    afinar_formats::atomic::prepare(path, |w| {
                        serde_json::to_writer_pretty(&mut *w, &out.report)?;
                        w.write_all(b"\n")
                    })
                })
                .transpose()
        },
    );
    let mut pending: Vec<_> = output?.into_iter().collect();
    pending.extend(report?);
    afinar_formats::atomic::commit(pending)?;

    let summary = Summary {
        inputs: args
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        output: args.output.display().to_string(),
        report_file: report_path.as_ref().map(|p| p.display().to_string()),
        unreadable: rejects.len(),
        report: &out.report,
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        Format::Text => eprint!("{}", render(&summary, &rejects)),
    }
    let problems = !out.report.conflicts.is_empty() || !rejects.is_empty();
    let code = if out.kept.is_empty() || (args.strict && problems) {
        exit::DATA
    } else {
        exit::OK
    };
    afinar_core::drop_in_background(out);
    Ok(ExitCode::from(code))
}

fn render(s: &Summary<'_>, rejects: &[Reject]) -> String {
    let r = s.report;
    let mut t = String::new();
    let inputs: Vec<String> = s.inputs.iter().map(|p| format!("`{p}`")).collect();
    let _ = writeln!(t, "Read {} examples from {}", r.examples, inputs.join(", "));
    render_rejects(&mut t, rejects);
    let (mut exact, mut near) = (0, 0);
    for d in r.groups.iter().flat_map(|g| &g.dropped) {
        match d.reason {
            Reason::Exact => exact += 1,
            _ => near += 1,
        }
    }
    let rule = match r.near_threshold {
        Some(t) => format!("{near} near (similarity ≥ {t})"),
        None => "near duplicates not looked for".to_owned(),
    };
    let _ = writeln!(t, "Dropped {} duplicates: {exact} exact, {rule}", r.dropped);
    for g in r.groups.iter().take(SHOWN) {
        let dropped: Vec<String> = g
            .dropped
            .iter()
            .map(|d| match d.reason {
                Reason::Exact => format!("{} (exact)", d.origin),
                _ => format!("{} (near, {:.2})", d.origin, d.similarity),
            })
            .collect();
        let _ = writeln!(t, "  kept {}, dropped {}", g.kept, dropped.join(", "));
    }
    if r.groups.len() > SHOWN {
        let _ = writeln!(t, "  … and {} more groups", r.groups.len() - SHOWN);
    }
    if !r.conflicts.is_empty() {
        let _ = writeln!(
            t,
            "{} {} questions have conflicting answers; all copies were kept, decide which is right:",
            ui::paint("warning:", "1;33"),
            r.conflicts.len()
        );
        for c in r.conflicts.iter().take(SHOWN) {
            let origins: Vec<String> = c.origins.iter().map(ToString::to_string).collect();
            let why = match c.reason {
                ConflictReason::DifferentFigures => "different figures",
                _ => "different answers",
            };
            let _ = writeln!(t, "  `{}`: {} ({why})", c.question, origins.join(", "));
        }
        if r.conflicts.len() > SHOWN {
            let _ = writeln!(t, "  … and {} more", r.conflicts.len() - SHOWN);
        }
    }
    let target = if s.output == "-" {
        "standard output".to_owned()
    } else {
        format!("`{}`", s.output)
    };
    let _ = writeln!(t, "Wrote {} examples to {target}", r.kept);
    if let Some(p) = &s.report_file {
        let _ = writeln!(t, "Report: `{p}`");
    }
    if r.kept == 0 {
        let _ = writeln!(
            t,
            "{} no examples were written",
            ui::paint("warning:", "1;33")
        );
    }
    t
}

/// `out/train.jsonl` → `out/train.<suffix>`.
fn sibling(output: &Path, suffix: &str) -> PathBuf {
    let stem = output
        .file_stem()
        .map_or_else(|| "out".into(), |s| s.to_string_lossy().into_owned());
    output.with_file_name(format!("{stem}.{suffix}"))
}
