//! `afinar run`: a pipeline file from sources to train/validation JSONL, a manifest and
//! an HTML report.

use std::path::PathBuf;
use std::process::ExitCode;

use afinar_pipeline::run::{RunOptions, run as run_pipeline};
use afinar_pipeline::spec::PipelineSpec;
use anyhow::Context;

use crate::progress::{Bars, QuietArg};
use crate::ui::exit;
use afinar_core::progress::Progress as _;

const EXAMPLES: &str = "\
Examples:
  # The bundled Simples Nacional pipeline (what `make demo` runs)
  afinar run pipelines/simples-nacional.toml

  # Run, then upload train/validation and start the job in the pipeline's [launch] section
  afinar run pipelines/simples-nacional.toml --launch

  # Same pipeline, outputs somewhere else; machine-readable summary
  afinar run pipelines/simples-nacional.toml --out-dir /tmp/faq --format json

Outputs (written together at the end; a failed run keeps the previous ones):
  train.jsonl, validation.jsonl   the training data
  rejects.jsonl                   every rejected row: {origin, reason, raw}
  duplicates.json                 every dropped duplicate with its kept twin, and conflicts
  manifest.json                   inputs with sha256, per-stage counts, an accounting
                                  that closes, outputs with sha256 and tokens, cost estimate
  report.html                     one self-contained page to read all of it

Exit codes: 0 ok; 1 the training data has errors (e.g. over the token limit) or
conflicting answers with `fail_on_conflict`; 2 usage or I/O error.
`pipelines/simples-nacional.toml` documents every key of the pipeline file.";

/// Run a pipeline file: read, normalise, convert, dedupe, split, check, write.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// The pipeline file (TOML).
    #[arg(value_name = "PIPELINE.toml")]
    pipeline: PathBuf,
    /// Write outputs here instead of the pipeline's `out_dir`.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// After a successful run, launch a fine-tuning job as the pipeline's `[launch]`
    /// section says (its keys are `afinar launch`'s options: model, provider, suffix,
    /// epochs, batch_size, learning_rate_multiplier, learning_rate, lora_rank,
    /// training_type, method, beta, seed, dry_run, detach, force).
    #[arg(long)]
    launch: bool,
    /// After a successful run, evaluate a model on the run's `validation.jsonl` as the
    /// pipeline's `[eval]` section says (its keys are `afinar eval`'s options: model,
    /// baseline, provider, base_url, min, judge, limit…); `out_dir` defaults to `eval/`
    /// under the run's outputs.
    #[arg(long)]
    eval: bool,
    /// Summary format: `text` on standard error, or `json` (the manifest) on standard output.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    quiet: QuietArg,
}

/// Each stage of a run on the progress bar: bytes read, then a spinner per stage.
struct StageBars<'a>(&'a Bars);

impl afinar_pipeline::run::Progress for StageBars<'_> {
    fn stage(&mut self, name: &str) {
        self.0.stage(&format!("{name}…"));
    }

    fn counter(&self) -> &dyn afinar_core::progress::Progress {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// `afinar launch` from its words: given by the dispatcher, so that `run` does not import
/// another command.
pub type Launcher = fn(&[String]) -> Result<anyhow::Result<ExitCode>, clap::Error>;

/// The commands a run hands over to (`afinar launch`, `afinar eval`), given by the
/// dispatcher so commands do not import each other.
pub struct Next {
    pub launch: Launcher,
    pub eval: Launcher,
}

pub fn run(args: Args, commands: Next) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.pipeline)
        .with_context(|| format!("Failed to read pipeline `{}`", args.pipeline.display()))?;
    let text = String::from_utf8(bytes.clone()).map_err(|_| {
        anyhow::anyhow!("Pipeline `{}` is not valid UTF-8", args.pipeline.display())
    })?;
    let spec = PipelineSpec::parse(&text, &args.pipeline.display().to_string())?;
    let opts = RunOptions {
        spec_path: args.pipeline.clone(),
        out_dir: args.out_dir.clone(),
    };

    // On a terminal only, outside CI and without --quiet.
    let bars = Bars::new(args.quiet);
    let result = run_pipeline(&spec, &bytes, &opts, &mut StageBars(&bars));
    bars.end();
    let out = result?;
    out.held.drop_in_background();

    let m = &out.manifest;
    if args.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(m)?);
    } else {
        let a = &m.accounting;
        eprintln!("Pipeline `{}`", args.pipeline.display());
        for input in &m.inputs {
            let sheet = input
                .sheet
                .as_ref()
                .map_or(String::new(), |s| format!(", sheet `{s}`"));
            eprintln!(
                "  read `{}` ({}, {}{sheet}): {}",
                input.path,
                input.format,
                input.encoding,
                crate::ui::count(input.rows_read, "row", "rows")
            );
        }
        eprintln!(
            "Rows: {} read = {} train + {} validation + {} rejected + {} duplicates + {} filtered out{}",
            a.rows_read,
            a.train,
            a.validation,
            a.rejected,
            a.duplicates,
            a.filtered_out,
            if a.closes { "" } else { " (does NOT close)" }
        );
        for o in &m.outputs {
            eprintln!(
                "  `{}`: {} examples, {} tokens",
                out.out_dir.join(&o.path).display(),
                o.examples,
                o.tokens
            );
        }
        let e = &m.estimate;
        let cost = e
            .cost_usd
            .map_or_else(|| "unknown".to_owned(), |c| format!("US$ {c:.2}"));
        eprintln!(
            "Estimate for `{}`: {} epochs, {} billed tokens, {cost}",
            e.model, e.epochs, e.billed_tokens
        );
        if let Some(line) = training_line(&e.model)? {
            eprintln!("{line}");
        }
        let masked: Vec<String> = m
            .redactions
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        if !masked.is_empty() {
            eprintln!("Masked personal data: {}", masked.join(", "));
        }
        if out.conflicts > 0 {
            eprintln!(
                "Conflicting answers: {} (see `duplicates.json` and `report.html`)",
                out.conflicts
            );
        }
        for problem in &out.check_errors {
            eprintln!("error: {problem}");
        }
        eprintln!(
            "Wrote {} files to `{}`",
            out.files.len(),
            out.out_dir.display()
        );
    }
    if args.format == Format::Json {
        training_line(&m.estimate.model)?;
    }
    if out.failed {
        if args.launch {
            eprintln!("Not launching: the training data has problems (see above)");
        }
        return Ok(ExitCode::from(exit::DATA));
    }
    if args.launch {
        let code = launch(&spec, &args.pipeline, &out.out_dir, commands.launch)?;
        if !args.eval || code != ExitCode::from(exit::OK) {
            return Ok(code);
        }
    }
    if args.eval {
        return eval(&spec, &args.pipeline, &out.out_dir, commands.eval);
    }
    Ok(ExitCode::from(exit::OK))
}

/// Whether the pipeline's model can be trained, and where: a line when a new user can
/// (returned), a warning when not or not for long (printed).
fn training_line(model: &str) -> anyhow::Result<Option<String>> {
    let registry = afinar_check::Registry::builtin();
    let Some(info) = registry.lookup(model) else {
        return Ok(None);
    };
    let target = super::training::default_target(info);
    if let Some(n) = super::training::notice(&registry, info, &target)? {
        super::training::warn(&n);
        return Ok(None);
    }
    let today = super::training::today()?;
    let life = afinar_check::lifecycle::Lifecycle::builtin();
    let open = life.open_to_new(info, today);
    if open.is_empty() {
        return Ok(None);
    }
    let at: Vec<&str> = open.iter().map(|p| p.target.as_str()).collect();
    Ok(Some(format!(
        "Training: `{model}` can be fine-tuned today by anyone, new customers included, at {}",
        at.join(", ")
    )))
}

/// `afinar eval` on the run's validation file, its options taken from `[eval]`.
fn eval(
    spec: &PipelineSpec,
    pipeline: &std::path::Path,
    out_dir: &std::path::Path,
    evaluator: Launcher,
) -> anyhow::Result<ExitCode> {
    let Some(table) = &spec.eval else {
        anyhow::bail!(
            "`{}` has no `[eval]` section; add one (e.g. `model = \"ft:gpt-4.1-mini:escritorio::abc\"`) or drop --eval",
            pipeline.display()
        );
    };
    let validation = out_dir.join("validation.jsonl");
    if !std::fs::metadata(&validation).is_ok_and(|m| m.len() > 0) {
        anyhow::bail!(
            "The run wrote no validation examples to evaluate on; set `[split] validation` in `{}`",
            pipeline.display()
        );
    }
    let mut argv: Vec<String> = vec!["eval".into(), validation.display().to_string()];
    if !table.contains_key("out_dir") {
        argv.extend([
            "--out-dir".into(),
            out_dir.join("eval").display().to_string(),
        ]);
    }
    const KEYS: [&str; 13] = [
        "model",
        "baseline",
        "out_dir",
        "provider",
        "base_url",
        "concurrency",
        "limit",
        "min",
        "format",
        "judge",
        "temperature",
        "max_tokens",
        "yes",
    ];
    section_argv("eval", table, &KEYS, pipeline, &mut argv)?;
    evaluator(&argv).map_err(|e| section_error("eval", pipeline, &e))?
}

/// A pipeline section's keys as the command's flags (`batch_size` → `--batch-size`): a
/// boolean `true` is the bare flag, an array repeats the flag once per value.
fn section_argv(
    section: &str,
    table: &toml::Table,
    keys: &[&str],
    pipeline: &std::path::Path,
    argv: &mut Vec<String>,
) -> anyhow::Result<()> {
    for (key, value) in table {
        if !keys.contains(&key.as_str()) {
            anyhow::bail!(
                "`[{section}]` in `{}` has unknown key `{key}`; the keys are {}",
                pipeline.display(),
                keys.join(", ")
            );
        }
        let flag = format!("--{}", key.replace('_', "-"));
        let values = match value {
            toml::Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for value in values {
            match value {
                toml::Value::Boolean(true) => argv.push(flag.clone()),
                toml::Value::Boolean(false) => {}
                toml::Value::String(s) => argv.extend([flag.clone(), s.clone()]),
                toml::Value::Integer(n) => argv.extend([flag.clone(), n.to_string()]),
                toml::Value::Float(x) => argv.extend([flag.clone(), x.to_string()]),
                other => anyhow::bail!(
                    "`[{section}]` key `{key}` has a {} value; use a string, number or boolean",
                    other.type_str()
                ),
            }
        }
    }
    Ok(())
}

/// clap's message names the flag; say it came from the pipeline's section.
fn section_error(section: &str, pipeline: &std::path::Path, e: &clap::Error) -> anyhow::Error {
    let text = e.to_string();
    let first = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned();
    anyhow::anyhow!("`[{section}]` in `{}`: {first}", pipeline.display())
}

/// `afinar launch` over the run's outputs, its options taken from `[launch]`: the same
/// path, checks and messages as the command itself.
fn launch(
    spec: &PipelineSpec,
    pipeline: &std::path::Path,
    out_dir: &std::path::Path,
    launcher: Launcher,
) -> anyhow::Result<ExitCode> {
    let Some(table) = &spec.launch else {
        anyhow::bail!(
            "`{}` has no `[launch]` section; add one (e.g. `model = \"gpt-4.1-mini-2025-04-14\"`) or drop --launch",
            pipeline.display()
        );
    };
    let mut argv: Vec<String> = vec![
        "launch".into(),
        "--training".into(),
        out_dir.join("train.jsonl").display().to_string(),
    ];
    let validation = out_dir.join("validation.jsonl");
    if std::fs::metadata(&validation).is_ok_and(|m| m.len() > 0) {
        argv.extend(["--validation".into(), validation.display().to_string()]);
    }
    const KEYS: [&str; 17] = [
        "model",
        "suffix",
        "epochs",
        "batch_size",
        "learning_rate_multiplier",
        "learning_rate",
        "lora_rank",
        "training_type",
        "method",
        "beta",
        "seed",
        "dry_run",
        "detach",
        "interval",
        "provider",
        "format",
        "force",
    ];
    section_argv("launch", table, &KEYS, pipeline, &mut argv)?;
    launcher(&argv).map_err(|e| section_error("launch", pipeline, &e))?
}
