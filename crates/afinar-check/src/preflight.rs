//! The check every file passes before it is sent to a fine-tuning service: what
//! `afinar check --model M --target T` would say, plus the shapes the service (and the
//! training method) take. `upload`, `launch` and `run --launch` all go through
//! [`preflight`], so nothing invalid for the target is ever uploaded.

use std::path::Path;
use std::sync::Arc;

use afinar_tokens::chat::{ChatTokenizer, hub};
use serde::Serialize;

use crate::{CheckError, CheckOptions, Finding, Format, ModelInfo, Registry, TokenizerKind};

/// The model whose rules are used when the named one is not in the registry.
pub const FALLBACK_MODEL: &str = "gpt-4.1-mini";

/// The blocking problems listed per file (all are counted).
pub const SHOWN: usize = 10;

/// What a file is for: a validation file may be small.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Training,
    Validation,
}

/// One file to check before upload.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub path: &'a Path,
    /// Where it goes: `openai`, `azure`, `together`, `fireworks` (a provider or target
    /// name; any case).
    pub target: &'a str,
    pub model: &'a str,
    pub role: Role,
    /// The shapes the training method needs (DPO for `--method dpo`); `None`: any the
    /// target takes.
    pub method_formats: Option<&'a [Format]>,
}

/// The verdict on one file.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub file: String,
    pub model: String,
    pub target: String,
    pub examples: u64,
    pub format: Option<Format>,
    /// Errors that block the upload.
    pub errors: u64,
    pub warnings: u64,
    /// The first blocking problems, as `file:line: code: message`.
    pub problems: Vec<String>,
    /// Things to say before the verdict (a model checked with other rules).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Gate {
    pub fn passed(&self) -> bool {
        self.errors == 0
    }
}

/// The line shapes a service's fine-tuning takes; `None` when the model decides (OpenAI
/// and Azure: the registry's formats for the model).
pub fn formats_taken(target: &str) -> Option<&'static [Format]> {
    match target.to_ascii_lowercase().as_str() {
        // Together: conversational (`messages`), instruction (prompt/completion) and
        // preference (`input`/`preferred_output`/`non_preferred_output`) files.
        "together" => Some(&[Format::Chat, Format::Completion, Format::Dpo]),
        // Fireworks' supervised fine-tuning reads chat lines (`messages`) only.
        "fireworks" => Some(&[Format::Chat]),
        _ => None,
    }
}

/// Checks one file for `request.target` and `request.model`.
///
/// A model missing from the registry (a provider's newer name) is checked with the
/// rules of [`FALLBACK_MODEL`] and a note, rather than refused; so is an open-weight
/// model whose tokenizer files are not in the local Hugging Face cache.
pub fn preflight(registry: &Registry, request: &Request<'_>) -> Result<Gate, CheckError> {
    let target = request.target.to_ascii_lowercase();
    let model = request.model;
    let mut notes = Vec::new();
    let fallback = |notes: &mut Vec<String>, why: String| -> Option<ModelInfo> {
        notes.push(why);
        registry.lookup(FALLBACK_MODEL).cloned()
    };
    let (info, chat) = match registry.lookup(model) {
        Some(info) => match info.tokenizer {
            None => (Some(info.clone()), None),
            Some(TokenizerKind::Harmony) => {
                (Some(info.clone()), Some(Arc::new(ChatTokenizer::harmony())))
            }
            Some(TokenizerKind::ChatTemplate) => {
                let repo = info.hf_repo.clone().unwrap_or_else(|| info.name.clone());
                match hub::find(&repo).map(|dir| ChatTokenizer::load(&dir)) {
                    Ok(Ok(tok)) => (Some(info.clone()), Some(Arc::new(tok))),
                    _ => (
                        fallback(
                            &mut notes,
                            format!(
                                "the tokenizer of `{repo}` is not in the local Hugging Face \
                                 cache; checking with the rules of `{FALLBACK_MODEL}` (token \
                                 counts are estimates; `hf download {repo} tokenizer.json \
                                 tokenizer_config.json` for exact ones)"
                            ),
                        ),
                        None,
                    ),
                }
            }
        },
        None => (
            fallback(
                &mut notes,
                format!(
                    "model `{model}` is not in afinar's model table; checking with the rules \
                     of `{FALLBACK_MODEL}` (see `afinar models`)"
                ),
            ),
            None,
        ),
    };
    let Some(mut info) = info else {
        // The built-in table always has the fallback; a custom one may not.
        return Err(CheckError::Io {
            path: request.path.to_owned(),
            source: std::io::Error::other(format!("the model table has no `{FALLBACK_MODEL}`")),
        });
    };
    if let Some(taken) = formats_taken(&target) {
        // The registry's formats are OpenAI's and Azure's; on these services theirs count
        // (the engine's `format_not_supported` then says what the service takes).
        info.formats = taken.to_vec();
    }
    let place = info.place(Some(&target)).cloned();
    let mut opts = CheckOptions::new(info);
    opts.model_name = model.to_owned();
    opts.max_listed = SHOWN;
    opts.chat_tokenizer = chat;
    opts.place = place;
    opts.target = target.clone();
    // The service's own rules (turn order, keys, BOM, sizes) from the target table, so
    // nothing it would refuse is uploaded.
    opts.rules = crate::targets::lookup(&target)
        .ok()
        .map(|t| Arc::new(t.clone()));
    let report = crate::check_path(request.path, &opts, &mut |_| Ok(()))?;

    let file = request.path.display().to_string();
    let validation = request.role == Role::Validation;
    let blocking =
        |f: &Finding| f.is_error() && !(validation && f.code.as_str() == "too_few_examples");
    let skipped = if validation {
        report.codes.get("too_few_examples").copied().unwrap_or(0)
    } else {
        0
    };
    let mut errors = report.errors_total.saturating_sub(skipped);
    let mut problems: Vec<String> = report
        .errors
        .iter()
        .filter(|f| blocking(f))
        .map(|f| match f.line {
            Some(line) => format!("{file}:{line}: {}: {}", f.code, f.message),
            None => format!("{file}: {}: {}", f.code, f.message),
        })
        .collect();
    if let (Some(found), Some(want)) = (report.format, request.method_formats)
        && !want.contains(&found)
    {
        errors += 1;
        problems.push(format!(
            "{file}: holds {} examples; this method needs {}",
            found.describe(),
            names(want)
        ));
    }
    Ok(Gate {
        file,
        model: model.to_owned(),
        target,
        examples: report.examples,
        format: report.format,
        errors,
        warnings: report.warnings_total,
        problems,
        notes,
    })
}

fn names(formats: &[Format]) -> String {
    formats
        .iter()
        .map(|f| f.describe())
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, lines: &[&str]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    }

    const CHAT: &str = r#"{"messages":[{"role":"user","content":"Qual a alíquota do Simples?"},{"role":"assistant","content":"Depende do anexo: a partir de 4%, com receita até R$ 180 mil."}]}"#;
    const COMPLETION: &str =
        r#"{"prompt":"Qual o prazo do DAS?","completion":"Dia 20 do mês seguinte."}"#;

    #[test]
    fn fireworks_takes_chat_only_together_takes_completion() {
        let dir = std::env::temp_dir().join(format!("afinar-preflight-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let registry = Registry::builtin();
        let chat = file(&dir, "chat.jsonl", &[CHAT; 12]);
        let completion = file(&dir, "completion.jsonl", &[COMPLETION; 12]);
        let gate = |path: &Path, target: &str| {
            preflight(
                &registry,
                &Request {
                    path,
                    target,
                    model: "Qwen/Qwen3-8B-unknown-variant",
                    role: Role::Training,
                    method_formats: None,
                },
            )
            .unwrap()
        };
        let ok = gate(&chat, "fireworks");
        assert!(ok.passed(), "{:?}", ok.problems);
        assert_eq!(ok.notes.len(), 1, "{:?}", ok.notes);
        let refused = gate(&completion, "Fireworks");
        assert!(!refused.passed());
        assert!(
            refused
                .problems
                .iter()
                .any(|p| p.contains("format_not_supported")
                    && p.contains("prompt/completion")
                    && p.contains("(it takes chat")),
            "{:?}",
            refused.problems
        );
        let together = gate(&completion, "together");
        assert!(
            !together
                .problems
                .iter()
                .any(|p| p.contains("fine-tuning takes")),
            "{:?}",
            together.problems
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_small_validation_file_passes_a_small_training_file_does_not() {
        let dir = std::env::temp_dir().join(format!("afinar-preflight-v-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let registry = Registry::builtin();
        let small = file(&dir, "small.jsonl", &[CHAT; 2]);
        let run = |role| {
            preflight(
                &registry,
                &Request {
                    path: &small,
                    target: "openai",
                    model: "gpt-4.1-mini-2025-04-14",
                    role,
                    method_formats: Some(&[Format::Chat, Format::Completion]),
                },
            )
            .unwrap()
        };
        assert!(run(Role::Validation).passed());
        let training = run(Role::Training);
        assert!(!training.passed());
        assert!(
            training
                .problems
                .iter()
                .any(|p| p.contains("too_few_examples"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
