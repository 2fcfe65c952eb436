//! JSON Lines (and a single JSON array) of examples: OpenAI chat, prompt/completion,
//! alpaca (`instruction`/`input`/`output`), ShareGPT (`conversations` of `from`/`value`)
//! and OpenAI DPO (`input`/`preferred_output`/`non_preferred_output`).

use std::collections::BTreeMap;

use afinar_core::limits::{MAX_LINE_BYTES, human_bytes};
use afinar_core::{Completion, Example, Message, Meta, Origin, Preference, Role};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{ReadOptions, ReadOutput, SourceInfo, strip_bom, text};
use crate::{FormatError, Reject};

/// Top-level chat keys that are part of the format and pass through to chat output.
const CHAT_EXTRA_KEYS: &[&str] = &["tools", "functions", "parallel_tool_calls"];
const MESSAGE_KEYS: &[&str] = &[
    "role",
    "content",
    "name",
    "weight",
    "tool_calls",
    "tool_call_id",
];

/// Reads JSON Lines, or a document holding one JSON array. A UTF-8 BOM and blank lines
/// are tolerated; each bad line is a reject and reading goes on.
pub fn read_bytes(bytes: &[u8], file: &str, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    let (body, bom) = strip_bom(bytes);
    let first = body.iter().position(|b| !b.is_ascii_whitespace());
    let mut out = ReadOutput {
        info: SourceInfo {
            format: "jsonl".into(),
            encoding: "utf-8".into(),
            bom,
            ..Default::default()
        },
        ..Default::default()
    };
    if first.is_some_and(|i| body[i] == b'[') {
        out.info.format = "json".into();
        read_array(body, file, opts, &mut out)?;
        return Ok(out);
    }
    // A final newline ends the last line; it does not start a blank one.
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    for (i, raw) in body.split(|b| *b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            out.info.blank += u64::from(!body.is_empty());
            continue;
        }
        out.info.rows += 1;
        let origin = Origin::line(file, line_no);
        if raw.len() > MAX_LINE_BYTES {
            out.rejects.push(Reject::new(
                origin,
                too_long("Line", raw.len()),
                String::from_utf8_lossy(raw),
            ));
            continue;
        }
        let line = match std::str::from_utf8(raw) {
            Ok(s) => s,
            Err(e) => {
                let reason = format!("Line is not valid UTF-8 at byte {}", e.valid_up_to() + 1);
                out.rejects
                    .push(Reject::new(origin, reason, String::from_utf8_lossy(raw)));
                continue;
            }
        };
        match serde_json::from_str::<Value>(line) {
            Ok(value) => match interpret_item(value, &origin, opts) {
                Ok(item) => push(&mut out, item),
                Err(reason) => out.rejects.push(Reject::new(origin, reason, line)),
            },
            Err(e) => out
                .rejects
                .push(Reject::new(origin, json_error(&e, line), line)),
        }
    }
    Ok(out)
}

/// Why a line (or an item of a JSON array) over [`MAX_LINE_BYTES`] is rejected.
fn too_long(what: &str, len: usize) -> String {
    format!(
        "{what} is {}, over the {} limit for one example; no model takes an example that long",
        human_bytes(len as u64),
        human_bytes(MAX_LINE_BYTES as u64)
    )
}

fn read_array(
    body: &[u8],
    file: &str,
    opts: &ReadOptions,
    out: &mut ReadOutput,
) -> Result<(), FormatError> {
    let doc = std::str::from_utf8(body).map_err(|e| FormatError::NotUtf8 {
        file: file.to_owned(),
        line: line_of(body, e.valid_up_to()),
    })?;
    let items: Vec<&RawValue> = serde_json::from_str(doc).map_err(|e| {
        let at = afinar_core::json_error_at(&e, doc);
        FormatError::InvalidJsonDocument {
            file: file.to_owned(),
            line: at.line,
            column: at.column,
            message: at.message,
        }
    })?;
    for item in items {
        // RawValue borrows from `doc`, so its address gives its offset and line.
        let offset = item.get().as_ptr() as usize - doc.as_ptr() as usize;
        let origin = Origin::line(file, line_of(body, offset));
        out.info.rows += 1;
        if item.get().len() > MAX_LINE_BYTES {
            let reason = too_long("Item", item.get().len());
            out.rejects.push(Reject::new(origin, reason, item.get()));
            continue;
        }
        let parsed =
            serde_json::from_str::<Value>(item.get()).map_err(|e| json_error(&e, item.get()));
        match parsed.and_then(|v| interpret_item(v, &origin, opts)) {
            Ok(item) => push(out, item),
            Err(reason) => out.rejects.push(Reject::new(origin, reason, item.get())),
        }
    }
    Ok(())
}

/// One JSON record read: a (chat) example or a DPO preference.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Item {
    Example(Example),
    Preference(Box<Preference>),
}

fn push(out: &mut ReadOutput, item: Item) {
    match item {
        Item::Example(e) => out.examples.push(e),
        Item::Preference(p) => out.preferences.push(*p),
    }
}

fn line_of(body: &[u8], offset: usize) -> u64 {
    body[..offset.min(body.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
        + 1
}

/// serde_json's message without its " at line L column C" tail, with the column up front,
/// counted in characters as an editor shows it (serde_json counts bytes).
pub(crate) fn json_error(e: &serde_json::Error, text: &str) -> String {
    let at = afinar_core::json_error_at(e, text);
    format!("Invalid JSON at column {}: {}", at.column, at.message)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// Turns one JSON value into an example, or says why not. A DPO preference line is
/// refused here; [`interpret_item`] takes those too.
pub fn interpret(value: Value, origin: &Origin, opts: &ReadOptions) -> Result<Example, String> {
    match interpret_item(value, origin, opts)? {
        Item::Example(e) => Ok(e),
        Item::Preference(_) => {
            Err("Line is a DPO preference example, not a chat example".to_owned())
        }
    }
}

/// Turns one JSON value into an example or a preference, or says why not. The shape is
/// told by its keys: `messages` (chat), `prompt`/`completion`, `instruction`/`output`
/// (alpaca), `conversations` (ShareGPT), `preferred_output` (OpenAI DPO).
pub fn interpret_item(value: Value, origin: &Origin, opts: &ReadOptions) -> Result<Item, String> {
    let Value::Object(obj) = value else {
        return Err(format!("Line is a JSON {}, not an object", kind_of(&value)));
    };
    if obj.contains_key("preferred_output") || obj.contains_key("non_preferred_output") {
        dpo(obj, origin, opts).map(|p| Item::Preference(Box::new(p)))
    } else if obj.contains_key("messages") {
        chat(obj, origin, opts).map(Item::Example)
    } else if obj.contains_key("prompt") || obj.contains_key("completion") {
        completion(obj, origin, opts).map(Item::Example)
    } else if obj.contains_key("instruction") {
        alpaca(obj, origin, opts).map(Item::Example)
    } else if obj.contains_key("conversations") {
        sharegpt(obj, origin, opts).map(Item::Example)
    } else {
        let keys: Vec<String> = obj.keys().map(|k| format!("`{k}`")).collect();
        let found = if keys.is_empty() {
            "no keys".to_owned()
        } else {
            keys.join(", ")
        };
        Err(format!(
            "Line has none of `messages`, `prompt`/`completion`, `instruction`/`output`, `conversations` or `preferred_output` (found {found})"
        ))
    }
}

/// A required string field, normalised.
fn string_field(
    obj: &mut Map<String, Value>,
    key: &str,
    opts: &ReadOptions,
) -> Result<String, String> {
    match obj.remove(key) {
        Some(Value::String(s)) => Ok(text(&s, opts)),
        Some(Value::Null) => Err(format!("`{key}` is null")),
        Some(other) => Err(format!("`{key}` is a {}, not a string", kind_of(&other))),
        None => Err(format!("Line has no `{key}`")),
    }
}

/// Alpaca: the user turn is the instruction, then a blank line and the input when there
/// is one; the assistant turn is the output. A `system` string becomes the system message.
fn alpaca(
    mut obj: Map<String, Value>,
    origin: &Origin,
    opts: &ReadOptions,
) -> Result<Example, String> {
    let instruction = string_field(&mut obj, "instruction", opts)?;
    let input = match obj.get("input") {
        None | Some(Value::Null) => {
            obj.remove("input");
            String::new()
        }
        Some(_) => string_field(&mut obj, "input", opts)?,
    };
    let output = string_field(&mut obj, "output", opts)?;
    let system = match obj.get("system") {
        Some(Value::String(_)) => {
            Some(string_field(&mut obj, "system", opts)?).filter(|s| !s.is_empty())
        }
        _ => None,
    };
    if instruction.is_empty() {
        return Err("`instruction` is empty".to_owned());
    }
    if output.is_empty() {
        return Err("`output` is empty".to_owned());
    }
    let user = if input.is_empty() {
        instruction
    } else {
        format!("{instruction}\n\n{input}")
    };
    let mut example = Example::single_turn(system.as_deref(), user, output, origin.clone());
    example.meta = meta(obj);
    Ok(example)
}

/// ShareGPT: `conversations` of `{from, value}` (or `{role, content}`), roles through
/// the aliases (`human`, `gpt`…); a top-level `system` string goes first.
fn sharegpt(
    mut obj: Map<String, Value>,
    origin: &Origin,
    opts: &ReadOptions,
) -> Result<Example, String> {
    let turns = match obj.remove("conversations") {
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(format!(
                "`conversations` is a {}, not a list",
                kind_of(&other)
            ));
        }
        None => return Err("Line has no `conversations`".to_owned()),
    };
    if turns.is_empty() {
        return Err("`conversations` is empty".to_owned());
    }
    let mut messages = Vec::with_capacity(turns.len() + 1);
    if let Some(Value::String(_)) = obj.get("system") {
        let system = string_field(&mut obj, "system", opts)?;
        if !system.is_empty() {
            messages.push(Message::new(Role::System, system));
        }
    }
    for (i, turn) in turns.into_iter().enumerate() {
        let n = i + 1;
        let Value::Object(mut t) = turn else {
            return Err(format!(
                "Turn {n} is a JSON {}, not an object",
                kind_of(&turn)
            ));
        };
        let who = match (t.remove("from"), t.remove("role")) {
            (Some(Value::String(r)), _) | (None, Some(Value::String(r))) => r,
            (None, None) => return Err(format!("Turn {n} has no `from`")),
            _ => return Err(format!("Turn {n} has a `from` that is not a string")),
        };
        let role = opts.aliases.resolve(&who).ok_or_else(|| {
            format!("Turn {n} is from unknown role `{who}`; use human, gpt, system (or user, assistant), or add an alias")
        })?;
        let content = match (t.remove("value"), t.remove("content")) {
            (Some(Value::String(s)), _) | (None, Some(Value::String(s))) => text(&s, opts),
            (None, None) => return Err(format!("Turn {n} ({role}) has no `value`")),
            _ => {
                return Err(format!(
                    "Turn {n} ({role}) has a `value` that is not a string"
                ));
            }
        };
        if content.is_empty() {
            return Err(format!("Turn {n} ({role}) has an empty `value`"));
        }
        messages.push(Message::new(role, content));
    }
    let mut example = Example::new(messages, origin.clone());
    example.meta = meta(obj);
    Ok(example)
}

/// OpenAI DPO: `input.messages`, and one assistant message in each of
/// `preferred_output` and `non_preferred_output`.
fn dpo(
    mut obj: Map<String, Value>,
    origin: &Origin,
    opts: &ReadOptions,
) -> Result<Preference, String> {
    let input = match obj.remove("input") {
        Some(Value::Object(input)) => input,
        Some(other) => {
            return Err(format!(
                "`input` is a {}, not an object with `messages`",
                kind_of(&other)
            ));
        }
        None => return Err("Line has no `input`".to_owned()),
    };
    let input = chat(input, origin, opts).map_err(|e| format!("In `input`: {e}"))?;
    let mut output = |key: &str| -> Result<Message, String> {
        let list = match obj.remove(key) {
            Some(Value::Array(list)) => list,
            Some(Value::Object(m)) => vec![Value::Object(m)],
            Some(other) => {
                return Err(format!(
                    "`{key}` is a {}, not a list of one message",
                    kind_of(&other)
                ));
            }
            None => return Err(format!("Line has no `{key}`")),
        };
        if list.len() != 1 {
            return Err(format!(
                "`{key}` has {} messages; it takes exactly one assistant message",
                list.len()
            ));
        }
        let m = list
            .into_iter()
            .next()
            .map(|m| message(m, 1, opts))
            .transpose()?;
        match m {
            Some(m) if m.role == Role::Assistant => Ok(m),
            Some(m) => Err(format!(
                "`{key}` holds a {} message; it must be from the assistant",
                m.role
            )),
            None => Err(format!("`{key}` is empty")),
        }
    };
    let preferred = output("preferred_output")?;
    let non_preferred = output("non_preferred_output")?;
    Ok(Preference {
        input: input.messages,
        preferred,
        non_preferred,
        origin: origin.clone(),
        meta: meta(obj),
    })
}

fn chat(
    mut obj: Map<String, Value>,
    origin: &Origin,
    opts: &ReadOptions,
) -> Result<Example, String> {
    let messages = match obj.remove("messages") {
        Some(Value::Array(list)) => list,
        Some(other) => return Err(format!("`messages` is a {}, not a list", kind_of(&other))),
        None => return Err("Line has no `messages`".to_owned()),
    };
    if messages.is_empty() {
        return Err("`messages` is empty".to_owned());
    }
    let parsed = messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| message(m, i + 1, opts))
        .collect::<Result<Vec<_>, _>>()?;
    let mut example = Example::new(parsed, origin.clone());
    let mut extra = BTreeMap::new();
    for key in CHAT_EXTRA_KEYS {
        if let Some(v) = obj.remove(*key) {
            extra.insert((*key).to_owned(), v);
        }
    }
    example.extra = extra;
    example.meta = meta(obj);
    Ok(example)
}

fn message(value: Value, n: usize, opts: &ReadOptions) -> Result<Message, String> {
    let Value::Object(mut m) = value else {
        return Err(format!(
            "Message {n} is a JSON {}, not an object",
            kind_of(&value)
        ));
    };
    if let Some(key) = m.keys().find(|k| !MESSAGE_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "Message {n} has unknown key `{key}`; messages take role, content, name, weight, tool_calls and tool_call_id"
        ));
    }
    let role = match m.remove("role") {
        Some(Value::String(r)) => opts.aliases.resolve(&r).ok_or_else(|| {
            format!("Message {n} has unknown role `{r}`; use system, developer, user, assistant or tool, or add an alias")
        })?,
        Some(other) => return Err(format!("Message {n} has a {} `role`, not a string", kind_of(&other))),
        None => return Err(format!("Message {n} has no `role`")),
    };
    let tool_calls = m.remove("tool_calls").filter(|v| !v.is_null());
    let content = match m.remove("content") {
        Some(Value::String(s)) => text(&s, opts),
        Some(Value::Null) | None if tool_calls.is_some() => String::new(),
        Some(Value::Null) => return Err(format!("Message {n} ({role}) has null `content`")),
        None => return Err(format!("Message {n} ({role}) has no `content`")),
        Some(Value::Array(_)) => {
            return Err(format!(
                "Message {n} ({role}) has a list of content parts; convert takes text content only"
            ));
        }
        Some(other) => {
            return Err(format!(
                "Message {n} ({role}) has a {} `content`, not a string",
                kind_of(&other)
            ));
        }
    };
    if content.is_empty() && tool_calls.is_none() {
        return Err(format!("Message {n} ({role}) has empty `content`"));
    }
    let name = match m.remove("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return Err(format!(
                "Message {n} has a {} `name`, not a string",
                kind_of(&other)
            ));
        }
    };
    let weight = match m.remove("weight") {
        None | Some(Value::Null) => None,
        Some(Value::Number(w)) if w.as_u64() == Some(0) => Some(0),
        Some(Value::Number(w)) if w.as_u64() == Some(1) => Some(1),
        Some(other) => {
            return Err(format!(
                "Message {n} has `weight` {other}; it must be 0 or 1"
            ));
        }
    };
    let tool_call_id = match m.remove("tool_call_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return Err(format!(
                "Message {n} has a {} `tool_call_id`, not a string",
                kind_of(&other)
            ));
        }
    };
    Ok(Message {
        role,
        content,
        name,
        weight,
        tool_calls,
        tool_call_id,
    })
}

fn completion(
    mut obj: Map<String, Value>,
    origin: &Origin,
    opts: &ReadOptions,
) -> Result<Example, String> {
    let mut field = |key: &str| match obj.remove(key) {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Null) => Err(format!("`{key}` is null")),
        Some(other) => Err(format!("`{key}` is a {}, not a string", kind_of(&other))),
        None => Err(format!("Line has no `{key}`")),
    };
    let pc = Completion {
        prompt: field("prompt")?,
        completion: field("completion")?,
    };
    // Separators are stripped before normalisation, which would trim them.
    let mut example = pc.to_example(None, &opts.completion, origin.clone());
    for m in &mut example.messages {
        m.content = text(&m.content, opts);
    }
    for (key, m) in ["prompt", "completion"].iter().zip(&example.messages) {
        if m.content.is_empty() {
            return Err(format!("`{key}` is empty"));
        }
    }
    example.meta = meta(obj);
    Ok(example)
}

/// Remaining top-level keys become meta: strings as they are, other values as JSON.
fn meta(obj: Map<String, Value>) -> Meta {
    obj.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use afinar_core::Role;

    use super::*;

    fn read(s: &str) -> ReadOutput {
        read_bytes(s.as_bytes(), "t.jsonl", &ReadOptions::default()).unwrap()
    }

    fn reasons(out: &ReadOutput) -> Vec<(String, String)> {
        out.rejects
            .iter()
            .map(|r| (r.origin.to_string(), r.reason.clone()))
            .collect()
    }

    #[test]
    fn reads_chat_and_completion_lines_with_bom_crlf_and_blank_lines() {
        let out = read(
            "\u{FEFF}{\"messages\":[{\"role\":\"user\",\"content\":\"Oi\"},{\"role\":\"assistant\",\"content\":\"Olá\"}]}\r\n\r\n{\"prompt\":\"P\",\"completion\":\"C\",\"tema\":\"MEI\"}\n",
        );
        assert!(out.info.bom);
        assert_eq!(
            (out.info.rows, out.info.blank, out.rejects.len()),
            (2, 1, 0)
        );
        assert_eq!(out.examples[0].messages[1].content, "Olá");
        assert_eq!(out.examples[1].question(), Some("P"));
        assert_eq!(out.examples[1].meta["tema"], "MEI");
        assert_eq!(out.examples[1].origin.to_string(), "t.jsonl:3");
    }

    #[test]
    fn every_bad_line_is_a_reject_with_its_reason() {
        let out = read(concat!(
            "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}\n",
            "{\"messages\": [{\"content\": \"a\"}]}\n",
            "{\"messages\": [{\"role\": \"robot\", \"content\": \"a\"}]}\n",
            "{\"messages\": [{\"role\": \"user\", \"content\": null}]}\n",
            "{\"prompt\": \"p\"}\n",
            "[1]\n",
            "{\"text\": \"x\"}\n",
            "{\"messages\": [{\"role\": \"assistant\", \"content\": \"b\", \"weight\": 2}]}\n",
            "{\"messages\": [{\"role\": \"human\", \"content\": \"a\"}, {\"role\": \"gpt\", \"content\": \"b\"}]}\n",
        ));
        assert_eq!(
            reasons(&out),
            vec![
                ("t.jsonl:1".into(), "Invalid JSON at column 46: EOF while parsing a list".into()),
                ("t.jsonl:2".into(), "Message 1 has no `role`".into()),
                (
                    "t.jsonl:3".into(),
                    "Message 1 has unknown role `robot`; use system, developer, user, assistant or tool, or add an alias".into()
                ),
                ("t.jsonl:4".into(), "Message 1 (user) has null `content`".into()),
                ("t.jsonl:5".into(), "Line has no `completion`".into()),
                ("t.jsonl:6".into(), "Line is a JSON list, not an object".into()),
                (
                    "t.jsonl:7".into(),
                    "Line has none of `messages`, `prompt`/`completion`, `instruction`/`output`, `conversations` or `preferred_output` (found `text`)".into()
                ),
                ("t.jsonl:8".into(), "Message 1 has `weight` 2; it must be 0 or 1".into()),
            ]
        );
        assert_eq!(out.examples.len(), 1);
        assert_eq!(out.examples[0].messages[0].role, Role::User);
        assert_eq!(
            out.rejects[0].raw,
            "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}"
        );
    }

    #[test]
    fn json_error_columns_count_characters() {
        let out = read("{\"prompt\": \"ação\", \"completion\": }\n");
        assert_eq!(
            out.rejects[0].reason,
            "Invalid JSON at column 34: expected value"
        );
    }

    #[test]
    fn invalid_utf8_is_a_reject_not_an_abort() {
        let mut bytes = b"{\"prompt\":\"a\",\"completion\":\"b\"}\n{\"prompt\":\"".to_vec();
        bytes.extend_from_slice(b"\xE9\"}\n");
        let out = read_bytes(&bytes, "t.jsonl", &ReadOptions::default()).unwrap();
        assert_eq!(out.examples.len(), 1);
        assert_eq!(
            reasons(&out),
            vec![(
                "t.jsonl:2".into(),
                "Line is not valid UTF-8 at byte 12".into()
            )]
        );
    }

    #[test]
    fn a_json_array_document_is_read_with_line_numbers() {
        let out = read("[\n  {\"prompt\": \"a\", \"completion\": \"b\"},\n  {\"prompt\": 3}\n]\n");
        assert_eq!(out.info.format, "json");
        assert_eq!(out.examples.len(), 1);
        assert_eq!(
            reasons(&out),
            vec![(
                "t.jsonl:3".into(),
                "`prompt` is a number, not a string".into()
            )]
        );
        let err = read_bytes(b"[{\"prompt\": ", "t.json", &ReadOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`t.json` line 1, column 12: invalid JSON"),
            "{err}"
        );
    }

    #[test]
    fn tool_calls_and_extra_keys_pass_through() {
        let out = read(
            r#"{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"1"}]},{"role":"tool","tool_call_id":"1","content":"{}"}],"tools":[{"type":"function"}],"id":7}"#,
        );
        assert!(out.rejects.is_empty(), "{:?}", out.rejects);
        let ex = &out.examples[0];
        assert!(ex.messages[1].tool_calls.is_some());
        assert_eq!(ex.messages[2].tool_call_id.as_deref(), Some("1"));
        assert!(ex.extra.contains_key("tools"));
        assert_eq!(ex.meta["id"], "7");
    }
}
