//! Special tokens in the text of a line: the fine-tuning service rejects a file whose
//! content holds one (after the upload, so `check` says it first).
//!
//! The encoding's own special tokens are tiktoken's (`tiktoken_ext/openai_public.py`:
//! `cl100k_base` and `o200k_base`); the chat markup tokens are the ones the service frames
//! every chat message with.

use afinar_tokens::Encoding;
use serde_json::Value;

use crate::rules::{LineContext, LineRule};
use crate::{Code, Finding};

/// `cl100k_base`'s special tokens, as tiktoken defines them.
const CL100K_BASE: &[&str] = &[
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|endofprompt|>",
];

/// `o200k_base`'s special tokens, as tiktoken defines them.
const O200K_BASE: &[&str] = &["<|endoftext|>", "<|endofprompt|>"];

/// The chat markup (ChatML) the service wraps each message in, on either encoding.
const CHAT_MARKUP: &[&str] = &["<|im_start|>", "<|im_end|>", "<|im_sep|>"];

/// The special tokens of `encoding`, as tiktoken defines them.
pub fn encoding_tokens(encoding: Encoding) -> &'static [&'static str] {
    match encoding {
        Encoding::Cl100kBase => CL100K_BASE,
        Encoding::O200kBase => O200K_BASE,
    }
}

/// The special tokens in `text`, each once, in the order of the lists (encoding's first,
/// then the chat markup).
pub fn tokens_in(text: &str, encoding: Encoding) -> Vec<&'static str> {
    let b = text.as_bytes();
    let mut found: Vec<&'static str> = Vec::new();
    // Every special token starts with `<|`: one pass of memchr finds the candidates.
    for at in memchr::memmem::find_iter(b, b"<|") {
        let rest = &b[at..];
        for &t in encoding_tokens(encoding).iter().chain(CHAT_MARKUP) {
            if rest.starts_with(t.as_bytes()) && !found.contains(&t) {
                found.push(t);
            }
        }
    }
    let order = |t: &&str| {
        encoding_tokens(encoding)
            .iter()
            .chain(CHAT_MARKUP)
            .position(|x| x == t)
    };
    found.sort_by_key(order);
    found
}

/// The built-in rule: an error per string field that holds special tokens, naming them
/// and the field (`messages[2].content`).
#[derive(Debug, Default)]
pub struct SpecialTokenRule;

impl LineRule for SpecialTokenRule {
    fn check(&self, cx: &LineContext<'_>, out: &mut Vec<Finding>) {
        let mut path = Vec::new();
        walk(cx, cx.value, &mut path, out);
    }
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn spell(path: &[Seg<'_>]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn walk<'v>(cx: &LineContext<'_>, v: &'v Value, path: &mut Vec<Seg<'v>>, out: &mut Vec<Finding>) {
    match v {
        Value::String(s) => {
            // Cheap test first: almost no string holds `<|`.
            if !s.contains("<|") {
                return;
            }
            let found = tokens_in(s, cx.model.encoding);
            if found.is_empty() {
                return;
            }
            let markup = found.iter().any(|t| CHAT_MARKUP.contains(t));
            let names: Vec<String> = found.iter().map(|t| format!("`{t}`")).collect();
            let (what, whose) = if found.len() == 1 {
                ("a special token", "it")
            } else {
                ("special tokens", "them")
            };
            let of = if markup {
                format!("of `{}` or of the chat markup", cx.model.encoding.name())
            } else {
                format!("of `{}`", cx.model.encoding.name())
            };
            out.push(cx.finding(
                Code::SpecialToken,
                format!(
                    "`{}` holds {}, {what} {of}; the service rejects the file after upload. Remove {whose} or break {whose} up (`< |endoftext| >`)",
                    spell(path),
                    names.join(", ")
                ),
            ));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(cx, item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                path.push(Seg::Key(k));
                walk(cx, item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_are_tiktokens() {
        assert_eq!(encoding_tokens(Encoding::Cl100kBase).len(), 5);
        assert_eq!(
            encoding_tokens(Encoding::O200kBase),
            ["<|endoftext|>", "<|endofprompt|>"]
        );
    }

    #[test]
    fn tokens_are_found_per_encoding_once_each_in_list_order() {
        let t = "a <|im_end|> b <|fim_suffix|> c <|endoftext|><|endoftext|>";
        assert_eq!(
            tokens_in(t, Encoding::Cl100kBase),
            ["<|endoftext|>", "<|fim_suffix|>", "<|im_end|>"]
        );
        // `<|fim_suffix|>` is only special in cl100k_base.
        assert_eq!(
            tokens_in(t, Encoding::O200kBase),
            ["<|endoftext|>", "<|im_end|>"]
        );
        for ordinary in [
            "x <| endoftext |> y",
            "<|endoftext",
            "< |endoftext| >",
            "a <|b|> c",
            "|> <|",
        ] {
            assert!(
                tokens_in(ordinary, Encoding::Cl100kBase).is_empty(),
                "{ordinary}"
            );
        }
    }
}
