//! Which model and tokenizer `check` counts with: an OpenAI model (tiktoken, the
//! cookbook's rule), an open-weight model of the registry (its tokenizer files found in
//! the local Hugging Face cache, or harmony for gpt-oss), or any `--tokenizer PATH`.

use std::sync::Arc;

use afinar_check::{CheckOptions, Format, ModelInfo, Registry, TokenizerKind};
use afinar_tokens::chat::{ChatTokenizer, hub};
use anyhow::{Context, bail};

use super::Args;

const DEFAULT_MODEL: &str = "gpt-4o-mini";

pub fn options(registry: &Registry, args: &Args) -> anyhow::Result<CheckOptions> {
    // An unknown target is a usage error, before any file is read.
    let rules = match &args.target {
        Some(t) => Some(afinar_check::targets::lookup(t)?),
        None => None,
    };
    let loaded = match &args.tokenizer {
        Some(path) => Some(Arc::new(ChatTokenizer::load(path).with_context(|| {
            format!("Cannot use the tokenizer at `{}`", path.display())
        })?)),
        None => None,
    };
    let (model, name) = match (&args.model, &loaded) {
        (Some(name), _) => (lookup(registry, name)?, name.clone()),
        (None, Some(tok)) => (from_tokenizer(args, tok)?, tokenizer_name(args)),
        (None, None) => (lookup(registry, DEFAULT_MODEL)?, DEFAULT_MODEL.to_owned()),
    };
    let chat = match (loaded, model.tokenizer) {
        (Some(t), _) => Some(t),
        (None, Some(TokenizerKind::Harmony)) => Some(Arc::new(ChatTokenizer::harmony())),
        (None, Some(TokenizerKind::ChatTemplate)) => {
            let repo = model.hf_repo.clone().unwrap_or_else(|| model.name.clone());
            let dir = hub::find(&repo)?;
            Some(Arc::new(ChatTokenizer::load(&dir).with_context(|| {
                format!(
                    "Cannot use the tokenizer of `{repo}` at `{}`",
                    dir.display()
                )
            })?))
        }
        (None, None) => None,
    };
    let place = match &args.target {
        None => model.place(None).cloned(),
        // OpenAI's own models: the target decides its rules and line dialect (and, for
        // `openai` and `azure`, images); the token limit stays the model's unless
        // --max-tokens gives the target model's.
        Some(_) if model.trained_at.is_empty() => None,
        Some(t) => match model.place(Some(t)) {
            Some(p) => Some(p.clone()),
            None => bail!(
                "`{name}` is not trained at `{t}` in the registry; pick one of {} (see `afinar models`), or pass --max-tokens for another trainer",
                model
                    .trained_at
                    .iter()
                    .map(|p| format!("`{}`", p.target))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    };
    let mut opts = CheckOptions::new(model);
    opts.model_name = name;
    opts.chat_tokenizer = chat;
    opts.place = place;
    if let Some(t) = rules {
        opts.target = t.id.clone();
        opts.rules = Some(Arc::new(t.clone()));
    }
    Ok(opts)
}

fn lookup(registry: &Registry, name: &str) -> anyhow::Result<ModelInfo> {
    match registry.lookup(name) {
        Some(m) => Ok(m.clone()),
        None => bail!(
            "Unknown model `{name}`; pick one of {} (see `afinar models`), describe it in a file passed with --models, or count with its files: --tokenizer DIR",
            registry
                .names()
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `--tokenizer models/acme-7b` → `acme-7b`.
fn tokenizer_name(args: &Args) -> String {
    let Some(path) = &args.tokenizer else {
        return String::new();
    };
    let dir = if path.is_dir() {
        Some(path.as_path())
    } else {
        path.parent()
    };
    dir.and_then(|d| d.canonicalize().ok())
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| path.display().to_string())
}

/// A model known only by its tokenizer files: every format, the limit from
/// --max-tokens, else the tokenizer's `model_max_length`.
fn from_tokenizer(args: &Args, tok: &ChatTokenizer) -> anyhow::Result<ModelInfo> {
    let from_config = match tok {
        ChatTokenizer::Template(t) => t.model_max_length(),
        _ => None,
    };
    let Some(max_tokens) = args.max_tokens.or(from_config) else {
        bail!(
            "The tokenizer at `{}` does not say how long an example may be; pass --max-tokens N (your trainer's cutoff_len, sequence_len or max_length)",
            args.tokenizer
                .as_deref()
                .unwrap_or(std::path::Path::new(""))
                .display()
        );
    };
    // Through serde, so fields added to the registry later take their defaults.
    let entry = serde_json::json!({
        "name": tokenizer_name(args),
        "max_tokens": max_tokens,
        "formats": Format::ALL,
        "price_per_million": null,
        "developer_role": true,
        "tokenizer": TokenizerKind::ChatTemplate,
    });
    serde_json::from_value(entry).context("Cannot describe the model of --tokenizer")
}
