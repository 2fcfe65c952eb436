//! Token counting as the fine-tuning service and the OpenAI cookbook do it.
//!
//! Chat: for every message 3 tokens, plus the tokens of every value of the message in
//! key order (role AND content, name, tool_calls…), plus 1 when the key is `name`; then
//! 3 tokens priming the reply. Strings are counted as they are; objects and lists are
//! counted as Python's `json.dumps(v, ensure_ascii=False)` writes them (separators `", "`
//! and `": "`, key order kept); numbers, booleans and null (e.g. `weight`) count nothing.
//! Assistant tokens are those of the `content` of assistant messages.
//!
//! Prompt/completion: the tokens of `prompt` plus those of `completion`, no overhead.
//!
//! DPO (an estimate; the cookbook has no rule for it): the input messages, the preferred
//! and the non-preferred output messages counted as one chat, so both replies are billed.

use std::borrow::Cow;

use afinar_tokens::Tokenizer;
use afinar_tokens::chat::{ChatTokenizer, RenderError};
use serde_json::{Map, Value};

pub const TOKENS_PER_MESSAGE: u64 = 3;
pub const TOKENS_PER_NAME: u64 = 1;
pub const REPLY_PRIMING_TOKENS: u64 = 3;

/// Tokens of one example and of its assistant part (what is trained on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub tokens: u64,
    pub assistant: u64,
}

/// The text a message value is counted as, or `None` for numbers, booleans and null.
pub fn value_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Array(_) | Value::Object(_) => Some(Cow::Owned(python_json(v))),
        _ => None,
    }
}

/// Counts a chat conversation; `None` when it is not a non-empty list of objects (the
/// cookbook cannot count it either).
pub fn chat(messages: &[Value], tok: &Tokenizer) -> Option<Counts> {
    if messages.is_empty() || !messages.iter().all(Value::is_object) {
        return None;
    }
    let mut c = Counts::default();
    add_messages(messages.iter(), tok, &mut c);
    c.tokens += REPLY_PRIMING_TOKENS;
    Some(c)
}

fn add_messages<'a>(messages: impl Iterator<Item = &'a Value>, tok: &Tokenizer, c: &mut Counts) {
    for m in messages {
        let Value::Object(m) = m else { continue };
        c.tokens += TOKENS_PER_MESSAGE;
        let assistant = m.get("role").and_then(Value::as_str) == Some("assistant");
        for (k, v) in m {
            let Some(text) = value_text(v) else { continue };
            let n = tok.count(&text) as u64;
            c.tokens += n;
            if k == "name" {
                c.tokens += TOKENS_PER_NAME;
            }
            if assistant && k == "content" {
                c.assistant += n;
            }
        }
    }
}

/// Prompt plus completion tokens; the completion is the assistant part.
pub fn completion(obj: &Map<String, Value>, tok: &Tokenizer) -> Counts {
    let count = |k: &str| {
        obj.get(k)
            .and_then(value_text)
            .map_or(0, |t| tok.count(&t) as u64)
    };
    let (p, c) = (count("prompt"), count("completion"));
    Counts {
        tokens: p + c,
        assistant: c,
    }
}

/// A plain `{"text": …}` line: its text, all of it trained on.
pub fn text(obj: &Map<String, Value>, tok: &Tokenizer) -> Option<Counts> {
    let t = obj.get("text")?.as_str()?;
    let n = tok.count(t) as u64;
    Some(Counts {
        tokens: n,
        assistant: n,
    })
}

/// Input, preferred and non-preferred messages as one chat; the preferred reply is the
/// assistant part. `None` when the line is not shaped as DPO.
pub fn dpo(obj: &Map<String, Value>, tok: &Tokenizer) -> Option<Counts> {
    let input = obj.get("input")?.get("messages")?.as_array()?;
    let preferred = obj.get("preferred_output")?.as_array()?;
    let rejected = obj.get("non_preferred_output")?.as_array()?;
    let all = input.iter().chain(preferred).chain(rejected);
    if input.is_empty() || !all.clone().all(Value::is_object) {
        return None;
    }
    let mut c = Counts::default();
    add_messages(input.iter().chain(rejected), tok, &mut c);
    let mut pref = Counts::default();
    add_messages(preferred.iter(), tok, &mut pref);
    c.tokens += pref.tokens + REPLY_PRIMING_TOKENS;
    c.assistant = pref.assistant;
    Some(c)
}

pub use afinar_tokens::pyjson::{python_float, python_json};

/// Counts with an open-weight model's own tokenizer and chat template (or harmony):
/// chat lines as `apply_chat_template` renders them; DPO lines as the two conversations
/// a DPO trainer tokenizes (input + preferred, input + non-preferred), the preferred
/// reply being the assistant part; prompt/completion lines as a user/assistant pair.
/// `Ok(None)` when the line is not shaped for its format.
pub fn with_template(
    obj: &Map<String, Value>,
    format: crate::Format,
    tok: &ChatTokenizer,
) -> Result<Option<Counts>, RenderError> {
    let tools = obj.get("tools");
    let conv = |msgs: &[Value]| {
        tok.count(msgs, tools).map(|c| Counts {
            tokens: c.tokens,
            assistant: c.assistant,
        })
    };
    match format {
        crate::Format::Chat => {
            let Some(msgs) = obj.get("messages").and_then(Value::as_array) else {
                return Ok(None);
            };
            if msgs.is_empty() || !msgs.iter().all(Value::is_object) {
                return Ok(None);
            }
            conv(msgs).map(Some)
        }
        crate::Format::Completion => {
            let (Some(p), Some(c)) = (
                obj.get("prompt").and_then(Value::as_str),
                obj.get("completion").and_then(Value::as_str),
            ) else {
                return Ok(None);
            };
            let msgs = [
                serde_json::json!({"role": "user", "content": p}),
                serde_json::json!({"role": "assistant", "content": c}),
            ];
            conv(&msgs).map(Some)
        }
        crate::Format::Dpo => {
            let input = obj
                .get("input")
                .and_then(|i| i.get("messages"))
                .and_then(Value::as_array);
            let pref = obj.get("preferred_output").and_then(Value::as_array);
            let rej = obj.get("non_preferred_output").and_then(Value::as_array);
            let (Some(input), Some(pref), Some(rej)) = (input, pref, rej) else {
                return Ok(None);
            };
            if input.is_empty() || !input.iter().chain(pref).chain(rej).all(Value::is_object) {
                return Ok(None);
            }
            let chosen: Vec<Value> = input.iter().chain(pref).cloned().collect();
            let rejected: Vec<Value> = input.iter().chain(rej).cloned().collect();
            let a = conv(&chosen)?;
            let b = conv(&rejected)?;
            Ok(Some(Counts {
                tokens: a.tokens + b.tokens,
                assistant: a.assistant,
            }))
        }
        // Plain text has no chat template to render.
        crate::Format::Text => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use afinar_tokens::Encoding;
    use serde_json::json;

    use super::*;

    #[test]
    fn python_json_matches_json_dumps() {
        let v: Value = serde_json::from_str(
            r#"{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}, "n": [1, 2.5, null, true], "ç": "Olá\u0001\t"}"#,
        )
        .unwrap();
        assert_eq!(
            python_json(&v),
            r#"{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}, "n": [1, 2.5, null, true], "ç": "Olá\u0001\t"}"#
        );
        assert_eq!(python_json(&json!([])), "[]");
        assert_eq!(python_json(&json!({})), "{}");
    }

    #[test]
    fn floats_print_like_python_repr() {
        for (f, s) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1.234e16, "1.234e+16"),
            (123456789012345.6, "123456789012345.6"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1e-300, "1e-300"),
        ] {
            assert_eq!(python_float(f), s, "{f}");
        }
    }

    #[test]
    fn chat_counts_every_value_plus_overheads() {
        let tok = Tokenizer::get(Encoding::O200kBase);
        let msgs = json!([
            {"role": "system", "content": "Você é um assistente."},
            {"role": "user", "content": "Qual o limite do MEI?", "name": "ana"},
            {"role": "assistant", "content": "R$ 81 mil por ano.", "weight": 1}
        ]);
        let c = chat(msgs.as_array().unwrap(), tok).unwrap();
        let t = |s: &str| tok.count(s) as u64;
        let expected = 3 * 3
            + t("system")
            + t("Você é um assistente.")
            + t("user")
            + t("Qual o limite do MEI?")
            + t("ana")
            + 1
            + t("assistant")
            + t("R$ 81 mil por ano.")
            + 3;
        assert_eq!(
            c,
            Counts {
                tokens: expected,
                assistant: t("R$ 81 mil por ano.")
            }
        );
        assert_eq!(chat(&[], tok), None);
        assert_eq!(chat(&[json!("x")], tok), None);
    }

    #[test]
    fn completion_counts_prompt_and_completion_only() {
        let tok = Tokenizer::get(Encoding::Cl100kBase);
        let v = json!({"prompt": "Qual o prazo?", "completion": " Dia 20."});
        let c = completion(v.as_object().unwrap(), tok);
        assert_eq!(
            c.tokens,
            (tok.count("Qual o prazo?") + tok.count(" Dia 20.")) as u64
        );
        assert_eq!(c.assistant, tok.count(" Dia 20.") as u64);
    }
}
