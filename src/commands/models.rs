//! `afinar models`: the model registry `check` uses (encoding, limits, formats, prices).

use std::path::PathBuf;
use std::process::ExitCode;

use afinar_check::Registry;
use anyhow::Context;

use crate::ui::exit;

const EXAMPLES: &str = "\
Examples:
  # The built-in table
  afinar models

  # As JSON, the same shape a --models file takes
  afinar models --format json > my-models.json

  # With your own models added (or built-in ones overridden)
  afinar models --models my-models.json

A dated snapshot (gpt-4o-mini-2024-07-18) or a fine-tuned model
(ft:gpt-4o-mini-2024-07-18:org::id) uses its family's entry.";

/// List the models `afinar check` knows: encoding, maximum tokens per training example,
/// formats taken, training price per 1M tokens and whether the developer role is taken.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Add or override models from a JSON file shaped like `afinar models --format json`.
    #[arg(long, value_name = "FILE")]
    models: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let registry = load_registry(args.models.as_deref())?;
    match args.format {
        Format::Json => {
            let value = serde_json::json!({ "models": registry.models() });
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Text => print!("{}", render(&registry)),
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

fn render(registry: &Registry) -> String {
    let header = [
        "model",
        "encoding",
        "max tokens",
        "formats",
        "US$ / 1M",
        "developer",
    ];
    let rows: Vec<[String; 6]> = registry
        .models()
        .iter()
        .map(|m| {
            [
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
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            // Numbers right-aligned, text left-aligned.
            let right = i == 2 || i == 4;
            let pad = " ".repeat(w - cell.chars().count());
            if right {
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
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// `65536` → `65,536`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(65_536), "65,536");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
