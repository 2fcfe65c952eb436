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
use std::fmt::Write as _;

use afinar_tokens::Tokenizer;
use serde_json::{Map, Number, Value};

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

/// `json.dumps(v, ensure_ascii=False)` of Python: `", "` and `": "` separators, keys in
/// their order, non-ASCII kept, control characters escaped, floats as Python's repr.
pub fn python_json(v: &Value) -> String {
    let mut out = String::new();
    write_py(v, &mut out);
    out
}

fn write_py(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_str(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(k, out);
                out.push_str(": ");
                write_py(x, out);
            }
            out.push('}');
        }
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_number(n: &Number, out: &mut String) {
    if n.is_i64() || n.is_u64() {
        let _ = write!(out, "{n}");
    } else if let Some(f) = n.as_f64() {
        out.push_str(&python_float(f));
    }
}

/// Python's `repr(float)`: shortest round-trip digits, scientific notation when the
/// exponent is below -4 or at least 16 (`1e+16`, `1.5e-05`), else positional (`100.0`).
pub fn python_float(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let sci = format!("{f:e}"); // e.g. "-1.5e-5", "1e16"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    if !(-4..16).contains(&exp) {
        let e_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{mantissa}e{e_sign}{:02}", exp.abs());
    }
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let n = digits.len() as i32;
    let body = if exp >= 0 {
        let int_len = exp + 1;
        if n <= int_len {
            format!("{digits}{}.0", "0".repeat((int_len - n) as usize))
        } else {
            format!(
                "{}.{}",
                &digits[..int_len as usize],
                &digits[int_len as usize..]
            )
        }
    } else {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    };
    format!("{sign}{body}")
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
