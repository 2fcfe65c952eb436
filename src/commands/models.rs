//! `afinar models`: the model registry `check` uses (encoding, limits, formats, prices).

use std::path::PathBuf;
use std::process::ExitCode;

use afinar_check::lifecycle::{Date, Lifecycle};
use afinar_check::{OverLimit, Registry};
use anyhow::Context;

use crate::ui::exit;

pub use afinar_core::count::thousands;

const EXAMPLES: &str = "\
Examples:
  # The built-in table
  afinar models

  # As JSON, the same shape a --models file takes
  afinar models --format json > my-models.json

  # With your own models added (or built-in ones overridden)
  afinar models --models my-models.json

  # Only the open-weight models: tokenizer, context, where they are trained, the
  # per-example limit there and what the trainer does to a longer example
  afinar models --open

A dated snapshot (gpt-4o-mini-2024-07-18) or a fine-tuned model
(ft:gpt-4o-mini-2024-07-18:org::id) uses its family's entry. Open-weight models are
counted with their own tokenizer.json and chat template, read from the Hugging Face
cache (`hf download ORG/NAME tokenizer.json tokenizer_config.json`); gpt-oss with
harmony (o200k_harmony). For local trainers the limit is the setting's default: pass
yours to `afinar check --max-tokens`. A limit marked * is not published by the provider
(afinar assumes it; check the model card).

The training columns say who can still create a fine-tuning job there today: `open`,
`existing customers only` (closed to organisations new to it), `closed since` or `shut
down` with the date, and the last day jobs can be created when it is announced. The
facts and their sources are in afinar's lifecycle table (README, \"Where to train\");
AFINAR_TODAY=YYYY-MM-DD judges another day.";

/// List the models `afinar check` knows: encoding, maximum tokens per training example,
/// formats taken, training price per 1M tokens and whether the developer role is taken;
/// for open-weight models their tokenizer, context and where they are trained.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Add or override models from a JSON file shaped like `afinar models --format json`.
    #[arg(long, value_name = "FILE")]
    models: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Only the open-weight models (tokenizer, context, training targets and limits).
    #[arg(long)]
    open: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let registry = load_registry(args.models.as_deref())?;
    let life = Lifecycle::builtin();
    let today = super::training::today()?;
    match args.format {
        Format::Json => {
            let models: Vec<_> = registry
                .models()
                .iter()
                .filter(|m| !args.open || m.is_open())
                .collect();
            let value = serde_json::json!({ "models": models });
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Text if args.open => print!(
            "{}\n{}",
            heading(&life, today),
            render_open(&registry, &life, today)
        ),
        Format::Text => print!(
            "{}\n{}\n{}",
            heading(&life, today),
            render(&registry, &life, today),
            render_open(&registry, &life, today)
        ),
    }
    Ok(ExitCode::from(exit::OK))
}

/// The built-in registry, extended with `--models FILE` when given.
pub fn load_registry(extra: Option<&std::path::Path>) -> anyhow::Result<Registry> {
    let mut registry = Registry::builtin();
    if let Some(path) = extra {
        registry
            .extend_from_file(path)
            .with_context(|| format!("Cannot load models from `{}`", path.display()))?;
    }
    Ok(registry)
}

/// The day the training columns are judged on.
fn heading(life: &Lifecycle, today: Date) -> String {
    format!(
        "Training status on {today} (lifecycle table reviewed {})\n",
        life.reviewed()
    )
}

fn render(registry: &Registry, life: &Lifecycle, today: Date) -> String {
    let header = [
        "model",
        "encoding",
        "max tokens",
        "formats",
        "US$ / 1M",
        "developer",
        "training at openai",
        "at azure",
    ];
    let rows: Vec<Vec<String>> = registry
        .models()
        .iter()
        .filter(|m| !m.is_open())
        .map(|m| {
            vec![
                m.name.clone(),
                m.encoding.name().to_owned(),
                thousands(m.max_tokens),
                m.formats
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", "),
                m.price_per_million
                    .map_or_else(|| "-".to_owned(), |p| format!("{p:.2}")),
                if m.developer_role { "yes" } else { "no" }.to_owned(),
                life.status("openai", m, today).to_string(),
                life.status("azure", m, today).to_string(),
            ]
        })
        .collect();
    table(&header, &rows, &[2, 4])
}

/// Open-weight models, one row per place they are trained: the places with a known
/// limit, then the providers of the lifecycle table that also train them.
fn render_open(registry: &Registry, life: &Lifecycle, today: Date) -> String {
    let header = [
        "open model",
        "tokenizer",
        "context",
        "trained at",
        "max tokens",
        "over limit",
        "setting",
        "training",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut assumed = false;
    for m in registry.models().iter().filter(|m| m.is_open()) {
        let kind = m.tokenizer.map_or("-", |k| k.name()).to_owned();
        let context = m.context_length.map_or_else(|| "-".to_owned(), thousands);
        let others: Vec<_> = life
            .places(m, today)
            .into_iter()
            .filter(|(p, _)| m.place(Some(&p.target)).is_none())
            .collect();
        if m.trained_at.is_empty() && others.is_empty() {
            rows.push(vec![
                m.name.clone(),
                kind,
                context,
                "-".into(),
                thousands(m.max_tokens),
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
            continue;
        }
        for (i, p) in m.trained_at.iter().enumerate() {
            let first = i == 0;
            assumed |= p.assumed;
            rows.push(vec![
                if first { m.name.clone() } else { String::new() },
                if first { kind.clone() } else { String::new() },
                if first {
                    context.clone()
                } else {
                    String::new()
                },
                p.target.clone(),
                format!(
                    "{}{}",
                    thousands(p.max_tokens),
                    if p.assumed { "*" } else { "" }
                ),
                match p.over_limit {
                    OverLimit::Truncate => "truncate",
                    OverLimit::Drop => "drop",
                    OverLimit::Reject => "reject",
                }
                .to_owned(),
                p.setting.clone().unwrap_or_default(),
                life.status(&p.target, m, today).to_string(),
            ]);
        }
        for (i, (p, status)) in others.iter().enumerate() {
            let first = m.trained_at.is_empty() && i == 0;
            rows.push(vec![
                if first { m.name.clone() } else { String::new() },
                if first { kind.clone() } else { String::new() },
                if first {
                    context.clone()
                } else {
                    String::new()
                },
                p.target.clone(),
                "-".into(),
                "-".into(),
                String::new(),
                status.to_string(),
            ]);
        }
    }
    let mut out = table(&header, &rows, &[2, 4]);
    if assumed {
        out.push_str(
            "* not published by the provider: afinar assumes it (pass --max-tokens to check with another)\n",
        );
    }
    // Terms that hold wherever a model is trained (Azure's open models).
    let mut terms: Vec<String> = Vec::new();
    for p in life.providers() {
        for t in &p.terms {
            let line = format!("{}: {} ({})", p.name, t.says, t.models.join(", "));
            if !terms.contains(&line) {
                terms.push(line);
            }
        }
    }
    for t in terms {
        out.push_str(&t);
        out.push('\n');
    }
    out
}

/// Columns padded to their widest cell; the `right` ones right-aligned.
fn table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(w - cell.chars().count());
            if right.contains(&i) {
                s.push_str(&format!("{pad}{cell}"))
            } else {
                s.push_str(&format!("{cell}{pad}"))
            }
            s.push_str("  ");
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}
