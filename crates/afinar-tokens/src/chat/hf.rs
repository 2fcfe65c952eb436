//! A Hugging Face model's tokenizer.json and chat template.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use super::bytebpe::{ByteBpe, Tok};
use super::template::{ChatTemplate, map_error};
use super::{ChatCounts, LoadError, RenderError};

/// The special-token attributes transformers passes to a template (when they are set).
const SPECIAL_ATTRS: [&str; 7] = [
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
];

/// tokenizer.json + chat template of one model.
pub struct HfChat {
    /// The `tokenizers` crate's tokenizer; with a fast path, loaded only when a text needs
    /// it (one NFC would change), which keeps its tables out of memory otherwise.
    tokenizer: OnceLock<Result<tokenizers::Tokenizer, String>>,
    tokenizer_file: PathBuf,
    /// The same tokenizer for byte-level BPE models, several times faster; `None` for
    /// other shapes.
    fast: Option<ByteBpe>,
    template: ChatTemplate,
    /// A second template transformers picks when the example has tools (`tool_use`).
    tool_template: Option<ChatTemplate>,
    /// Indexed by token id: whether it is a special added token.
    special: Vec<bool>,
    dir: PathBuf,
    model_max_length: Option<u64>,
}

impl std::fmt::Debug for HfChat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HfChat")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })
}

fn read_json(path: &Path) -> Result<Value, LoadError> {
    serde_json::from_str(&read(path)?).map_err(|source| LoadError::Json {
        path: path.to_owned(),
        source,
    })
}

fn parse_tokenizer(json: &str) -> Result<tokenizers::Tokenizer, String> {
    json.parse().map_err(|e: tokenizers::Error| e.to_string())
}

/// A token value of tokenizer_config.json: a string or an AddedToken `{"content": …}`.
fn token_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// `chat_template` of a config: a string, or a list of `{name, template}` (transformers
/// uses `default`, and `tool_use` when tools are passed).
fn templates_of(v: &Value) -> (Option<String>, Option<String>) {
    match v {
        Value::String(s) => (Some(s.clone()), None),
        Value::Array(list) => {
            let named = |n: &str| {
                list.iter()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some(n))
                    .and_then(|t| t.get("template"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            (named("default"), named("tool_use"))
        }
        _ => (None, None),
    }
}

impl HfChat {
    /// Loads a model directory or a tokenizer.json file (its directory is searched for
    /// tokenizer_config.json, chat_template.jinja and chat_template.json).
    pub fn from_path(path: &Path) -> Result<HfChat, LoadError> {
        let (dir, tokenizer_file) = if path.is_dir() {
            (path.to_owned(), path.join("tokenizer.json"))
        } else {
            let dir = path
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_owned);
            (dir, path.to_owned())
        };
        if !tokenizer_file.is_file() {
            if !path.exists() {
                return Err(LoadError::Io {
                    path: path.to_owned(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                });
            }
            return Err(LoadError::NoTokenizer {
                path: path.to_owned(),
            });
        }
        let tokenizer_json = read(&tokenizer_file)?;
        let fast = ByteBpe::from_json(&tokenizer_json);
        let tokenizer = OnceLock::new();
        if fast.is_none() {
            let t = parse_tokenizer(&tokenizer_json).map_err(|detail| LoadError::Tokenizer {
                path: tokenizer_file.clone(),
                detail,
            })?;
            let _ = tokenizer.set(Ok(t));
        }
        drop(tokenizer_json);
        let config_file = dir.join("tokenizer_config.json");
        let config = if config_file.is_file() {
            read_json(&config_file)?
        } else {
            Value::Null
        };
        // transformers prefers chat_template.jinja, then chat_template.json, then the
        // config's `chat_template`.
        let jinja = dir.join("chat_template.jinja");
        let json = dir.join("chat_template.json");
        let (source, tool_source, template_file) = if jinja.is_file() {
            (Some(read(&jinja)?), None, jinja)
        } else if json.is_file() {
            let v = read_json(&json)?;
            let (a, b) = templates_of(v.get("chat_template").unwrap_or(&Value::Null));
            (a, b, json)
        } else {
            let (a, b) = templates_of(config.get("chat_template").unwrap_or(&Value::Null));
            (a, b, config_file.clone())
        };
        let Some(source) = source else {
            return Err(LoadError::NoTemplate {
                path: path.to_owned(),
            });
        };
        let special_map: Vec<(String, String)> = SPECIAL_ATTRS
            .iter()
            .filter_map(|k| {
                config
                    .get(*k)
                    .and_then(token_str)
                    .map(|v| ((*k).to_owned(), v))
            })
            .collect();
        let compile = |src: &str| {
            ChatTemplate::new(src, special_map.clone()).map_err(|e| LoadError::Template {
                path: template_file.clone(),
                source: map_error(e),
            })
        };
        let template = compile(&source)?;
        let tool_template = tool_source.as_deref().map(compile).transpose()?;
        let special = match (&fast, tokenizer.get()) {
            (Some(f), _) => f.special().to_vec(),
            (None, Some(Ok(t))) => {
                let mut special = vec![false; t.get_vocab_size(true)];
                for (id, tok) in t.get_added_tokens_decoder() {
                    if tok.special {
                        let i = id as usize;
                        if i >= special.len() {
                            special.resize(i + 1, false);
                        }
                        special[i] = true;
                    }
                }
                special
            }
            (None, _) => Vec::new(),
        };
        let model_max_length = config
            .get("model_max_length")
            .and_then(Value::as_f64)
            .filter(|n| *n >= 1.0 && *n < 1e9)
            .map(|n| n as u64);
        let chat = HfChat {
            tokenizer,
            tokenizer_file,
            fast,
            template,
            tool_template,
            special,
            dir,
            model_max_length,
        };
        chat.smoke_test(&template_file)?;
        Ok(chat)
    }

    /// Renders a plain conversation once, so a feature afinar cannot render is reported
    /// when the tokenizer is loaded rather than on every line.
    fn smoke_test(&self, template_file: &Path) -> Result<(), LoadError> {
        let msgs = [
            serde_json::json!({"role": "user", "content": "Olá"}),
            serde_json::json!({"role": "assistant", "content": "Oi"}),
        ];
        match self.template.render(&msgs, None) {
            Err(e @ RenderError::Unsupported { .. }) => Err(LoadError::Template {
                path: template_file.to_owned(),
                source: e,
            }),
            _ => Ok(()),
        }
    }

    /// The directory the files were read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// tokenizer_config.json's `model_max_length`, when it is a real limit.
    pub fn model_max_length(&self) -> Option<u64> {
        self.model_max_length
    }

    /// The chat template applied to `messages`, no generation prompt.
    pub fn render(&self, messages: &[Value], tools: Option<&Value>) -> Result<String, RenderError> {
        let template = match (tools, &self.tool_template) {
            (Some(t), Some(tt)) if !t.is_null() => tt,
            _ => &self.template,
        };
        template.render(messages, tools)
    }

    /// The token ids of `text` with no special tokens added (as transformers tokenizes a
    /// rendered template).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, RenderError> {
        Ok(self.tokens(text)?.iter().map(|t| t.id).collect())
    }

    /// Whether this tokenizer takes the byte-level fast path (Qwen, Llama 3 and alike).
    pub fn is_fast(&self) -> bool {
        self.fast.is_some()
    }

    /// `(id, start, end)` byte offsets of the tokens of `text`, from the fast path when
    /// there is one, or from the `tokenizers` crate when `reference` is set: the two must
    /// agree, and the tests check that they do.
    #[doc(hidden)]
    pub fn encode_offsets(
        &self,
        text: &str,
        reference: bool,
    ) -> Result<Vec<(u32, usize, usize)>, RenderError> {
        let toks = if reference {
            self.reference_tokens(text)?
        } else {
            self.tokens(text)?
        };
        Ok(toks.iter().map(|t| (t.id, t.start, t.end)).collect())
    }

    fn tokens(&self, text: &str) -> Result<Vec<Tok>, RenderError> {
        if let Some(fast) = &self.fast {
            let mut out = Vec::with_capacity(text.len() / 3);
            if fast.encode(text, &mut out) {
                return Ok(out);
            }
        }
        self.reference_tokens(text)
    }

    /// The `tokenizers` crate's tokenizer, loaded on first use when there is a fast path.
    fn tokenizer(&self) -> Result<&tokenizers::Tokenizer, RenderError> {
        self.tokenizer
            .get_or_init(|| {
                let text =
                    std::fs::read_to_string(&self.tokenizer_file).map_err(|e| e.to_string())?;
                parse_tokenizer(&text)
            })
            .as_ref()
            .map_err(|e| {
                RenderError::Tokenizer(format!("`{}`: {e}", self.tokenizer_file.display()))
            })
    }

    fn reference_tokens(&self, text: &str) -> Result<Vec<Tok>, RenderError> {
        let enc = self
            .tokenizer()?
            .encode(text, false)
            .map_err(|e| RenderError::Tokenizer(e.to_string()))?;
        Ok(enc
            .get_ids()
            .iter()
            .zip(enc.get_offsets())
            .map(|(&id, &(start, end))| Tok { id, start, end })
            .collect())
    }

    /// Counts the rendering of `messages`, and the tokens of assistant contents (plus the
    /// special token right after each, which closes the turn).
    pub fn count(
        &self,
        messages: &[Value],
        tools: Option<&Value>,
    ) -> Result<ChatCounts, RenderError> {
        let rendered = self.render(messages, tools)?;
        let toks = self.tokens(&rendered)?;
        let mut assistant = 0u64;
        let mut cursor = 0usize;
        let mut t = 0usize; // first token that may still overlap a later span
        for m in messages {
            if m.get("role").and_then(Value::as_str) != Some("assistant") {
                continue;
            }
            let Some(content) = m.get("content").and_then(Value::as_str) else {
                continue;
            };
            let Some((start, end)) = content_span(&rendered, content, cursor) else {
                continue;
            };
            cursor = end;
            while t < toks.len() && toks[t].end <= start {
                t += 1;
            }
            let mut i = t;
            while i < toks.len() && toks[i].start < end {
                if toks[i].end > start {
                    assistant += 1;
                }
                i += 1;
            }
            // The next non-empty token, if it is special and starts where the content ends.
            while i < toks.len() && toks[i].end <= toks[i].start {
                i += 1;
            }
            if i < toks.len()
                && toks[i].start == end
                && self
                    .special
                    .get(toks[i].id as usize)
                    .copied()
                    .unwrap_or(false)
            {
                assistant += 1;
            }
            t = i;
        }
        Ok(ChatCounts {
            tokens: toks.len() as u64,
            assistant,
        })
    }
}

/// Where an assistant content lands in the rendering, from `cursor` on: as it is, stripped
/// (templates that `| trim`), or the part after `</think>` (templates that move the
/// reasoning into a think block).
fn content_span(rendered: &str, content: &str, cursor: usize) -> Option<(usize, usize)> {
    let hay = rendered.get(cursor..)?;
    let after_think = content.contains("</think>").then(|| {
        content
            .rsplit("</think>")
            .next()
            .unwrap_or("")
            .trim_start_matches('\n')
    });
    [Some(content), Some(content.trim()), after_think]
        .into_iter()
        .flatten()
        .filter(|c| !c.is_empty())
        .find_map(|c| hay.find(c).map(|p| (cursor + p, cursor + p + c.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_spans_follow_the_template_edits() {
        let r = "<u>oi</u><a>x\n</a><a>y</a>";
        assert_eq!(content_span(r, "x\n", 0), Some((12, 14)));
        assert_eq!(content_span(r, "  y ", 14), Some((21, 22)));
        assert_eq!(content_span(r, "<think>r</think>\n\ny", 14), Some((21, 22)));
        assert_eq!(content_span(r, "z", 0), None);
    }
}
