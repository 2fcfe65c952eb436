//! `afinar eval`: ask a tuned model (and a baseline) the validation questions and score
//! the answers against the references. The scoring and the report are in `afinar-eval`;
//! the requests go through `afinar-openai`. This file wires them and renders the result.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use afinar_core::Role;
use afinar_eval::report::{self, Answer, Example, Run};
use afinar_eval::stats::Interval;
use afinar_eval::{cache, judge, score};
use afinar_formats::atomic;
use afinar_formats::{ReadOptions, read};
use afinar_openai::{Client, Config, Provider};
use afinar_tokens::{Encoding, Tokenizer};
use anyhow::Context;
use clap::ValueEnum;
use serde_json::{Map, Value, json};

use super::remote;
use crate::ui::exit;

const EXAMPLES: &str = "\
Examples:
  # The tuned model against its base, on the validation split afinar wrote
  afinar eval out/validation.jsonl --model ft:gpt-4.1-mini-2025-04-14:org:faq:AbC123 \\
      --baseline gpt-4.1-mini-2025-04-14 --out-dir out/eval

  # A CI gate: exit 1 when the model states fewer than 90% of the reference facts
  afinar eval validation.jsonl --model ft:gpt-4.1-mini:org:faq:AbC123 --min facts=0.9 --yes

  # An open model served locally (vLLM, Ollama, llama.cpp) through its OpenAI-compatible API
  afinar eval validation.jsonl --model qwen2.5-7b-faq --provider compatible \\
      --base-url http://127.0.0.1:8000/v1 --format json

  # Also let an LLM grade the answers against the reference, with afinar's fixed rubric
  afinar eval validation.jsonl --model MODEL --baseline BASE --judge gpt-4.1

Each example's messages up to its last assistant turn are sent to each model (temperature
0 unless --temperature); that last turn is the reference. Metrics, each in 0..1 per example
and as a mean with a 95% bootstrap interval (2000 resamples, fixed seed):
  exact   the answer equals the reference after normalising case, punctuation and spaces
  f1      token F1 (SQuAD style)
  chrf    chrF, character 6-grams with beta 2, as sacrebleu computes it
  facts   the share of the reference's facts (money such as `R$ 4,8 milhões`, percentages,
          dates, laws such as `LC 123/2006`, articles, other numbers) the answer states
          with the same value, whatever the formatting (`R$ 4.800.000,00` = `R$ 4,8 milhões`);
          examples whose reference states no fact do not count
  judge   with --judge: the judge model's 1-5 grade, as (grade - 1) / 4
Outputs in --out-dir: eval.jsonl (one record per example), report.html (one
self-contained page), cache.jsonl (every answer, so a rerun or a baseline added later
sends no repeated request). The requests and tokens are estimated first; on a terminal
afinar asks before sending (--yes skips the question), never on a pipe.
Environment: OPENAI_API_KEY, OPENAI_BASE_URL; AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY,
AZURE_OPENAI_API_VERSION; with --provider compatible the key is optional.
Exit codes: 0 scored (and every --min met), 1 a --min not met or the file has bad
examples, 2 usage or I/O error, 3 the service failed (the answers received are cached).";

/// Score a model's answers to the validation questions, side by side with a baseline.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// The validation file: chat JSONL, as `afinar split` and `afinar run` write it.
    #[arg(value_name = "VALIDATION.jsonl")]
    validation: PathBuf,
    /// The model to evaluate (a fine-tuned model's name, or an Azure deployment).
    #[arg(long, value_name = "MODEL")]
    model: String,
    /// A model to compare with, usually the base the tuned model started from.
    #[arg(long, value_name = "MODEL")]
    baseline: Option<String>,
    /// Where eval.jsonl, report.html and the answer cache go.
    #[arg(long, value_name = "DIR", default_value = "eval")]
    out_dir: PathBuf,
    /// The service [default: openai when OPENAI_API_KEY is set, else azure].
    #[arg(long, value_enum)]
    provider: Option<ProviderArg>,
    /// The API's base URL (overrides OPENAI_BASE_URL, or AZURE_OPENAI_ENDPOINT for azure).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    concurrency: u32,
    /// Evaluate only the first N examples.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Fail (exit 1) when the model's mean is below VALUE (0..1); repeatable.
    #[arg(long = "min", value_name = "METRIC=VALUE", value_parser = parse_min)]
    min: Vec<(String, f64)>,
    /// Output: a text table, or a JSON summary on standard output.
    #[arg(long, value_enum, default_value_t = remote::OutputFormat::Text)]
    format: remote::OutputFormat,
    /// Let this model grade every answer against the reference (and compare the model's
    /// with the baseline's).
    #[arg(long, value_name = "MODEL")]
    judge: Option<String>,
    /// Sampling temperature sent with every request.
    #[arg(long, value_name = "T", default_value_t = 0.0, value_parser = parse_temperature)]
    temperature: f64,
    /// The most tokens an answer may have [default: the service's].
    #[arg(long, value_name = "N")]
    max_tokens: Option<u32>,
    /// Send without asking, even on a terminal.
    #[arg(long)]
    yes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProviderArg {
    Openai,
    Azure,
    /// Any OpenAI-compatible server (vLLM, Ollama, llama.cpp, Together, Fireworks): needs
    /// --base-url or OPENAI_BASE_URL; OPENAI_API_KEY is sent when set.
    Compatible,
}

fn parse_min(s: &str) -> Result<(String, f64), String> {
    let (metric, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not METRIC=VALUE, like `facts=0.9`"))?;
    let metric = metric.trim();
    if !score::METRICS.contains(&metric) {
        return Err(format!(
            "`{metric}` is not a metric; use one of {}",
            score::METRICS.join(", ")
        ));
    }
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a number"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!(
            "`{value}` is outside 0..1; scores are shares, like `{metric}=0.9`"
        ));
    }
    Ok((metric.to_owned(), value))
}

fn parse_temperature(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(t) if (0.0..=2.0).contains(&t) => Ok(t),
        _ => Err(format!("`{s}` is not a temperature from 0 to 2")),
    }
}

/// One example, ready to ask.
struct Item {
    origin: String,
    question: String,
    reference: String,
    /// The messages up to the last assistant turn, as sent.
    messages: Value,
}

/// An answer, fresh or from the cache.
#[derive(Debug, Clone)]
struct Reply {
    /// Kept beside each answer for a person reading the cache.
    model: String,
    content: String,
    finish_reason: Option<String>,
    latency_ms: u64,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

impl Reply {
    fn to_json(&self, key: &str) -> Value {
        json!({
            "key": key, "model": self.model, "content": self.content,
            "finish_reason": self.finish_reason, "latency_ms": self.latency_ms,
            "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
        })
    }

    fn from_json(v: &Value) -> Option<(String, Reply)> {
        Some((
            v["key"].as_str()?.to_owned(),
            Reply {
                model: v["model"].as_str().unwrap_or_default().to_owned(),
                content: v["content"].as_str()?.to_owned(),
                finish_reason: v["finish_reason"].as_str().map(str::to_owned),
                latency_ms: v["latency_ms"].as_u64().unwrap_or(0),
                prompt_tokens: v["prompt_tokens"].as_u64(),
                completion_tokens: v["completion_tokens"].as_u64(),
            },
        ))
    }
}

/// One request to make (or find in the cache).
struct Job {
    key: String,
    model: String,
    messages: Value,
}

const CACHE: &str = "cache.jsonl";

/// `afinar eval ARGS…` parsed from words (`afinar run --eval` builds them from the
/// pipeline's `[eval]`), and run.
pub fn run_words(words: &[String]) -> Result<anyhow::Result<ExitCode>, clap::Error> {
    #[derive(clap::Parser)]
    struct Eval {
        #[command(flatten)]
        args: Args,
    }
    let parsed = <Eval as clap::Parser>::try_parse_from(words)?;
    Ok(run(parsed.args))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    remote::exit_remote(eval(args))
}

fn eval(args: Args) -> anyhow::Result<ExitCode> {
    if args.min.iter().any(|(m, _)| m == "judge") && args.judge.is_none() {
        anyhow::bail!("`--min judge=…` needs a judge model; pass --judge MODEL");
    }
    if args.baseline.as_deref() == Some(args.model.as_str()) {
        anyhow::bail!("--baseline is the same model as --model; compare with another model");
    }
    let file = args.validation.display().to_string();
    let items = match load(&args.validation, args.limit)? {
        Ok(items) => items,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!(
                "`{file}` has {} that cannot be evaluated; fix them (`afinar check {file}` \
                 explains) and run again. Nothing was sent",
                crate::ui::count(problems.len() as u64, "example", "examples")
            );
            return Ok(ExitCode::from(exit::DATA));
        }
    };
    if items.is_empty() {
        anyhow::bail!("`{file}` has no examples to evaluate");
    }
    let client = client(&args)?;
    let service = format!(
        "{} {} {}",
        client.provider().name(),
        client.config().base_url,
        client.config().api_version.as_deref().unwrap_or("")
    );
    let mut parameters = Map::new();
    parameters.insert("temperature".into(), json!(args.temperature));
    if let Some(n) = args.max_tokens {
        parameters.insert("max_tokens".into(), json!(n));
    }
    let params = Value::Object(parameters.clone());

    let cache_path = args.out_dir.join(CACHE);
    let mut cache = read_cache(&cache_path)?;
    let models: Vec<String> = std::iter::once(args.model.clone())
        .chain(args.baseline.clone())
        .collect();

    // Every answer needed, in a fixed order: example by example, model then baseline.
    let jobs: Vec<Job> = items
        .iter()
        .flat_map(|item| {
            models.iter().map(|m| Job {
                key: cache::key(&service, m, &item.messages, &params),
                model: m.clone(),
                messages: item.messages.clone(),
            })
        })
        .collect();
    let missing: Vec<usize> = (0..jobs.len())
        .filter(|&i| !cache.contains_key(&jobs[i].key))
        .collect();
    let judge_requests = args.judge.as_ref().map_or(0, |_| {
        items.len() * (models.len() + usize::from(models.len() > 1))
    });
    estimate(
        &jobs,
        &missing,
        &items,
        &models,
        judge_requests,
        args.judge.as_deref(),
    );
    if (!missing.is_empty() || judge_requests > 0) && !args.yes && !confirm()? {
        eprintln!("Nothing was sent");
        return Ok(ExitCode::from(exit::OK));
    }
    let sent_answers = send(
        &client,
        &jobs,
        &missing,
        &parameters,
        args.concurrency,
        &mut cache,
    );
    save_cache(&cache_path, &cache)?;
    sent_answers?;

    let answers: Vec<Reply> = jobs.iter().map(|j| cache[&j.key].clone()).collect();

    // The judge, once the answers are in.
    let mut grades: Vec<Vec<Option<f64>>> = vec![vec![None; models.len()]; items.len()];
    let mut preferences: Vec<Option<f64>> = vec![None; items.len()];
    let mut sent = missing.len();
    if let Some(judge_model) = &args.judge {
        let judge_params = json!({"temperature": 0});
        let mut judge_jobs = Vec::new();
        for (i, item) in items.iter().enumerate() {
            for (m, _) in models.iter().enumerate() {
                let answer = &answers[i * models.len() + m].content;
                let messages = judge::single_messages(&item.question, &item.reference, answer);
                judge_jobs.push(Job {
                    key: cache::key(&service, judge_model, &messages, &judge_params),
                    model: judge_model.clone(),
                    messages,
                });
            }
            if models.len() > 1 {
                let messages = judge::pairwise_messages(
                    &item.question,
                    &item.reference,
                    &answers[i * models.len()].content,
                    &answers[i * models.len() + 1].content,
                    judge::model_first(i),
                );
                judge_jobs.push(Job {
                    key: cache::key(&service, judge_model, &messages, &judge_params),
                    model: judge_model.clone(),
                    messages,
                });
            }
        }
        let judge_missing: Vec<usize> = (0..judge_jobs.len())
            .filter(|&i| !cache.contains_key(&judge_jobs[i].key))
            .collect();
        let judge_map = match judge_params {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let result = send(
            &client,
            &judge_jobs,
            &judge_missing,
            &judge_map,
            args.concurrency,
            &mut cache,
        );
        save_cache(&cache_path, &cache)?;
        result?;
        sent += judge_missing.len();
        let per = models.len() + usize::from(models.len() > 1);
        let mut unreadable = 0;
        for (i, _) in items.iter().enumerate() {
            for (m, _) in models.iter().enumerate() {
                let verdict = &cache[&judge_jobs[i * per + m].key].content;
                grades[i][m] = judge::read_grade(verdict);
                unreadable += usize::from(grades[i][m].is_none());
            }
            if models.len() > 1 {
                let verdict = &cache[&judge_jobs[i * per + models.len()].key].content;
                preferences[i] = judge::read_preference(verdict, judge::model_first(i));
                unreadable += usize::from(preferences[i].is_none());
            }
        }
        if unreadable > 0 {
            eprintln!(
                "warning: {} from `{judge_model}` had no readable grade; those examples have \
                 no judge score",
                crate::ui::count(unreadable as u64, "verdict", "verdicts")
            );
        }
    }

    // Scores and outputs.
    let mut examples = Vec::with_capacity(items.len());
    let mut records = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let mut graded = Vec::new();
        let mut answers_json = Map::new();
        let mut scores_json = Map::new();
        for (m, model) in models.iter().enumerate() {
            let reply = &answers[i * models.len() + m];
            let (mut scores, facts) = score::grade(&reply.content, &item.reference);
            scores.judge = grades[i][m];
            let missing: Vec<&str> = facts.missing().iter().map(|f| f.text.as_str()).collect();
            answers_json.insert(
                model.clone(),
                json!({
                    "answer": reply.content, "finish_reason": reply.finish_reason,
                    "latency_ms": reply.latency_ms, "prompt_tokens": reply.prompt_tokens,
                    "completion_tokens": reply.completion_tokens, "missing_facts": missing,
                }),
            );
            scores_json.insert(model.clone(), serde_json::to_value(&scores)?);
            graded.push(Answer {
                model: model.clone(),
                text: reply.content.clone(),
                scores,
                facts,
            });
        }
        let mut record = json!({
            "origin": item.origin, "question": item.question, "reference": item.reference,
            "answers": answers_json, "scores": scores_json,
        });
        if let Some(p) = preferences[i] {
            record["judge_preference"] = json!(p);
        }
        records.push(record);
        examples.push(Example {
            origin: item.origin.clone(),
            question: item.question.clone(),
            reference: item.reference.clone(),
            answers: graded,
            preference: preferences[i],
        });
    }
    let run = Run {
        file: file.clone(),
        models: models.clone(),
        judge: args.judge.clone(),
        examples,
    };
    let summary = report::summarize(&run);
    let html = report::render(&run, &summary, env!("CARGO_PKG_VERSION"))?;
    let eval_path = args.out_dir.join("eval.jsonl");
    let report_path = args.out_dir.join("report.html");
    let outputs = vec![
        atomic::prepare(&eval_path, |w| {
            for r in &records {
                serde_json::to_writer(&mut *w, r)?;
                w.write_all(b"\n")?;
            }
            Ok(())
        })?,
        atomic::prepare(&report_path, |w| w.write_all(html.as_bytes()))?,
    ];
    atomic::commit(outputs)?;

    // The gate, on the model's means.
    let gate: Vec<(String, f64, Option<Interval>)> = args
        .min
        .iter()
        .map(|(m, v)| (m.clone(), *v, summary.mean(&args.model, m)))
        .collect();
    let failed: Vec<&(String, f64, Option<Interval>)> = gate
        .iter()
        .filter(|(_, min, mean)| mean.is_none_or(|i| i.mean < *min))
        .collect();

    let latency = |m: usize| {
        median(
            items
                .iter()
                .enumerate()
                .map(|(i, _)| answers[i * models.len() + m].latency_ms),
        )
    };
    let tokens = |m: usize, f: fn(&Reply) -> Option<u64>| -> u64 {
        (0..items.len())
            .filter_map(|i| f(&answers[i * models.len() + m]))
            .sum()
    };
    if args.format == remote::OutputFormat::Json {
        let mut models_json = Map::new();
        for (m, s) in summary.models.iter().enumerate() {
            let scores: Map<String, Value> = s
                .scores
                .iter()
                .map(|(metric, i)| (metric.clone(), json!(i)))
                .collect();
            models_json.insert(
                s.model.clone(),
                json!({
                    "role": if m == 0 { "model" } else { "baseline" },
                    "n": s.n, "scores": scores,
                    "latency_ms": {"median": latency(m)},
                    "tokens": {"prompt": tokens(m, |r| r.prompt_tokens),
                               "completion": tokens(m, |r| r.completion_tokens)},
                }),
            );
        }
        let comparison = args.baseline.as_ref().map(|b| {
            let metrics: Map<String, Value> = summary
                .comparison
                .iter()
                .map(|(m, c)| (m.clone(), json!(c)))
                .collect();
            json!({"model": args.model, "baseline": b, "metrics": metrics,
                   "judge_pairwise": summary.preference})
        });
        let out = json!({
            "file": file, "examples": items.len(), "models": models_json,
            "comparison": comparison, "interval": afinar_eval::stats::METHOD,
            "judge": args.judge,
            "requests": {"sent": sent, "cached": jobs.len() - missing.len()},
            "gate": gate.iter().map(|(m, min, mean)| json!({
                "metric": m, "min": min, "mean": mean.map(|i| i.mean),
                "passed": mean.is_some_and(|i| i.mean >= *min)})).collect::<Vec<_>>(),
            "outputs": {"eval": eval_path.display().to_string(),
                        "report": report_path.display().to_string()},
        });
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, &out)?;
        writeln!(stdout)?;
    } else {
        print_table(&summary, &models);
        eprintln!(
            "Wrote {} and {}",
            eval_path.display(),
            report_path.display()
        );
    }
    for (metric, min, mean) in &failed {
        match mean {
            Some(i) => eprintln!(
                "Gate failed: `{}` {metric} is {:.3}, below the minimum {min}",
                args.model, i.mean
            ),
            None => eprintln!(
                "Gate failed: `{}` has no {metric} score (no example has one), so it cannot \
                 reach {min}",
                args.model
            ),
        }
    }
    Ok(ExitCode::from(if failed.is_empty() {
        exit::OK
    } else {
        exit::DATA
    }))
}

fn median(values: impl Iterator<Item = u64>) -> Option<u64> {
    let mut v: Vec<u64> = values.collect();
    v.sort_unstable();
    (!v.is_empty()).then(|| v[v.len() / 2])
}

/// The examples of the validation file, or every problem that keeps one from being
/// evaluated (a line that is not an example, no assistant turn, nothing asked before it).
fn load(path: &Path, limit: Option<u64>) -> anyhow::Result<Result<Vec<Item>, Vec<String>>> {
    let opts = ReadOptions {
        // Sent as the file has them: this is what the model was validated on.
        normalize: false,
        ..Default::default()
    };
    let out = read::read_path(path, &opts)?;
    let mut problems: Vec<String> = out
        .rejects
        .iter()
        .map(|r| format!("{}: {}", r.origin, r.reason))
        .collect();
    if !out.preferences.is_empty() {
        problems.push(format!(
            "{}: preference (DPO) examples have no single reference answer; evaluate a chat \
             validation file",
            path.display()
        ));
    }
    let mut items = Vec::new();
    for ex in &out.examples {
        let Some(last) = ex.messages.iter().rposition(|m| m.role == Role::Assistant) else {
            problems.push(format!(
                "{}: has no assistant answer to compare with",
                ex.origin
            ));
            continue;
        };
        let prompt = &ex.messages[..last];
        let Some(question) = prompt.iter().rev().find(|m| m.role == Role::User) else {
            problems.push(format!(
                "{}: has no user message before the answer",
                ex.origin
            ));
            continue;
        };
        let messages: Vec<Value> = prompt
            .iter()
            .map(|m| {
                let mut v = json!({"role": m.role.as_str(), "content": m.content});
                if let Some(name) = &m.name {
                    v["name"] = json!(name);
                }
                v
            })
            .collect();
        items.push(Item {
            origin: ex.origin.to_string(),
            question: question.content.clone(),
            reference: ex.messages[last].content.clone(),
            messages: Value::Array(messages),
        });
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    if let Some(n) = limit {
        items.truncate(n as usize);
    }
    Ok(Ok(items))
}

/// The client for `--provider`, `--base-url` and the environment.
fn client(args: &Args) -> anyhow::Result<Client> {
    let env = |name: &str| std::env::var(name).ok();
    let url = args.base_url.clone();
    let config = match args.provider {
        Some(ProviderArg::Compatible) => {
            let base = url.clone().or_else(|| env("OPENAI_BASE_URL"));
            if base.as_deref().is_none_or(|b| b.trim().is_empty()) {
                anyhow::bail!(
                    "`--provider compatible` needs the server's URL; pass --base-url \
                     (like `http://127.0.0.1:8000/v1`) or set `OPENAI_BASE_URL`"
                );
            }
            let key = env("OPENAI_API_KEY").filter(|k| !k.trim().is_empty());
            // The other settings (retries) come from the environment as for OpenAI; the
            // placeholder key is replaced by the real one, or none.
            let mut config = Config::from_vars(Some(Provider::OpenAi), |name| match name {
                "OPENAI_API_KEY" => Some("none".to_owned()),
                "OPENAI_BASE_URL" => base.clone(),
                _ => env(name),
            })?;
            config.key = afinar_openai::ApiKey::new(key.unwrap_or_default());
            config
        }
        other => {
            let provider = other.map(|p| match p {
                ProviderArg::Azure => Provider::Azure,
                _ => Provider::OpenAi,
            });
            let azure = provider == Some(Provider::Azure)
                || (provider.is_none()
                    && env("OPENAI_API_KEY").is_none_or(|k| k.trim().is_empty())
                    && env("AZURE_OPENAI_ENDPOINT").is_some());
            Config::from_vars(provider, |name| match (name, &url) {
                ("OPENAI_BASE_URL", Some(u)) if !azure => Some(u.clone()),
                ("AZURE_OPENAI_ENDPOINT", Some(u)) if azure => Some(u.clone()),
                _ => env(name),
            })?
        }
    };
    Ok(Client::new(config)?)
}

fn read_cache(path: &Path) -> anyhow::Result<BTreeMap<String, Reply>> {
    let mut cache = BTreeMap::new();
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(cache),
        Err(e) => return Err(e).with_context(|| format!("Could not read `{}`", path.display())),
    };
    let mut skipped = 0;
    for line in std::io::BufReader::new(file).lines() {
        let line = line.with_context(|| format!("Could not read `{}`", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(&line)
            .ok()
            .as_ref()
            .and_then(Reply::from_json)
        {
            Some((key, reply)) => {
                cache.insert(key, reply);
            }
            None => skipped += 1,
        }
    }
    if skipped > 0 {
        eprintln!(
            "warning: {} of `{}` could not be read and will be asked again",
            crate::ui::count(skipped, "line", "lines"),
            path.display()
        );
    }
    Ok(cache)
}

/// Writes the cache sorted by key (so its bytes do not depend on timing).
fn save_cache(path: &Path, cache: &BTreeMap<String, Reply>) -> anyhow::Result<()> {
    atomic::write_atomic(path, |w| {
        for (key, reply) in cache {
            serde_json::to_writer(&mut *w, &reply.to_json(key))?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Prints what will be sent: requests per model and about how many tokens.
fn estimate(
    jobs: &[Job],
    missing: &[usize],
    items: &[Item],
    models: &[String],
    judge_requests: usize,
    judge: Option<&str>,
) {
    let tok = Tokenizer::get(Encoding::O200kBase);
    // About 4 tokens of framing per message, 3 to prime the answer (OpenAI's cookbook).
    let prompt_tokens = |messages: &Value| -> usize {
        messages.as_array().map_or(0, |m| {
            m.iter()
                .map(|m| 4 + tok.count(m["content"].as_str().unwrap_or("")))
                .sum::<usize>()
                + 3
        })
    };
    let reference_tokens: Vec<usize> = items.iter().map(|i| tok.count(&i.reference)).collect();
    let mut lines = Vec::new();
    let (mut input, mut output) = (0usize, 0usize);
    let mut dollars = Some(0.0);
    for model in models {
        let mine: Vec<usize> = missing
            .iter()
            .copied()
            .filter(|&i| &jobs[i].model == model)
            .collect();
        let cached = jobs.iter().filter(|j| &j.model == model).count() - mine.len();
        let (mut model_in, mut model_out) = (0usize, 0usize);
        for &i in &mine {
            model_in += prompt_tokens(&jobs[i].messages);
            model_out += reference_tokens[i / models.len()];
        }
        input += model_in;
        output += model_out;
        dollars = match (dollars, afinar_eval::cost::price(model)) {
            (Some(d), Some(p)) => {
                Some(d + afinar_eval::cost::cost(p, model_in as u64, model_out as u64))
            }
            _ => None,
        };
        lines.push(format!(
            "  `{model}`: {} ({} cached)",
            crate::ui::count(mine.len() as u64, "request", "requests"),
            cached
        ));
    }
    eprintln!(
        "Evaluating {} on {}:",
        crate::ui::count(items.len() as u64, "example", "examples"),
        crate::ui::count(models.len() as u64, "model", "models")
    );
    for l in lines {
        eprintln!("{l}");
    }
    if let Some(j) = judge {
        eprintln!("  `{j}` (judge): up to {judge_requests} requests, fewer where cached");
    }
    if !missing.is_empty() {
        let cost = match dollars {
            Some(d) => format!("about US$ {d:.4} at OpenAI's list prices"),
            None => "see your provider's prices".to_owned(),
        };
        eprintln!(
            "About {input} input and {output} output tokens to send (output estimated from \
             the references' length); {cost}"
        );
    }
}

/// Asks on a terminal; anywhere else (a pipe, CI) goes ahead.
fn confirm() -> anyhow::Result<bool> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(true);
    }
    eprint!("Send these requests? [y/N] ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "s" | "sim"))
}

/// Sends the `missing` jobs, `concurrency` at a time, into `cache`. Answers that came
/// are kept even when another request fails; the error reported is the first failed
/// request in job order, so it does not depend on timing.
fn send(
    client: &Client,
    jobs: &[Job],
    missing: &[usize],
    parameters: &Map<String, Value>,
    concurrency: u32,
    cache: &mut BTreeMap<String, Reply>,
) -> anyhow::Result<()> {
    if missing.is_empty() {
        return Ok(());
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(missing.len() as u64),
        if std::io::stderr().is_terminal() {
            indicatif::ProgressDrawTarget::stderr()
        } else {
            indicatif::ProgressDrawTarget::hidden()
        },
    );
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<(usize, Result<Reply, afinar_openai::Error>)>> = Mutex::new(Vec::new());
    let workers = (concurrency as usize).min(missing.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&i) = missing.get(n) else { break };
                    let job = &jobs[i];
                    let started = Instant::now();
                    let result = client
                        .chat_completion(&job.model, &job.messages, parameters)
                        .map(|c| Reply {
                            model: job.model.clone(),
                            content: c.content,
                            finish_reason: c.finish_reason,
                            latency_ms: started.elapsed().as_millis() as u64,
                            prompt_tokens: c.prompt_tokens,
                            completion_tokens: c.completion_tokens,
                        });
                    if result.is_err() {
                        stop.store(true, Ordering::SeqCst);
                    }
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((i, result));
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    let mut results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|(i, _)| *i);
    let mut first_error = None;
    for (i, result) in results {
        match result {
            Ok(reply) => {
                cache.insert(jobs[i].key.clone(), reply);
            }
            Err(e) => {
                if first_error.is_none() {
                    first_error = Some(e);
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(anyhow::Error::new(e)),
        None => Ok(()),
    }
}

/// The means as a table on standard output.
fn print_table(summary: &report::Summary, models: &[String]) {
    let cell = |i: &Option<Interval>| match i {
        Some(i) => format!(
            "{:.3} [{:.3}, {:.3}] n={}",
            i.mean, i.ci_low, i.ci_high, i.n
        ),
        None => "-".to_owned(),
    };
    let mut rows: Vec<Vec<String>> = vec![
        std::iter::once("metric".to_owned())
            .chain(models.iter().cloned())
            .collect(),
    ];
    if let Some(first) = summary.models.first() {
        for (metric, _) in &first.scores {
            let mut row = vec![metric.clone()];
            for m in &summary.models {
                row.push(cell(&summary.mean(&m.model, metric)));
            }
            if let Some((_, c)) = summary.comparison.iter().find(|(name, _)| name == metric) {
                row.push(format!("{}/{}/{}", c.wins, c.ties, c.losses));
            }
            rows.push(row);
        }
    }
    if !summary.comparison.is_empty() {
        rows[0].push("win/tie/loss".to_owned());
    }
    if let Some(p) = &summary.preference {
        let mut row = vec!["judge pairwise".to_owned()];
        row.extend(std::iter::repeat_n(String::new(), models.len()));
        row.push(format!("{}/{}/{}", p.wins, p.ties, p.losses));
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = std::io::stdout().lock();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| format!("{s:<w$}", w = widths[c]))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
}
