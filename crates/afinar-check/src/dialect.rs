//! Reading a target's lines back into the OpenAI shape the rules and token counts run
//! on: Vertex AI (`systemInstruction`, `contents` of `user`/`model` parts), Bedrock
//! (`bedrock-conversation-2024`, or `prompt`/`completion`), TRL (conversational
//! prompt-completion and `prompt`/`chosen`/`rejected`) and LLaMA-Factory's ShareGPT
//! (`conversations`, `chosen`/`rejected`).
//!
//! A line that does not read is an `invalid_target_line` finding naming the key; what
//! reads becomes the same conversation in OpenAI's spelling, so every other rule (empty
//! content, turn order, tokens, duplicates) applies as for OpenAI files.

use serde_json::{Map, Value, json};

use crate::Dialect;

/// Why a line is not a valid line of its dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRead(pub String);

type Read = Result<Value, NotRead>;

fn fail<T>(msg: impl Into<String>) -> Result<T, NotRead> {
    Err(NotRead(msg.into()))
}

/// The line in OpenAI's shape, or `None` when it already is (OpenAI's dialect, or a
/// shape both share). Lines that are not objects are left to the common rules.
pub fn to_openai(dialect: Dialect, value: &Value) -> Result<Option<Value>, NotRead> {
    let Value::Object(obj) = value else {
        return Ok(None);
    };
    match dialect {
        Dialect::Openai => Ok(None),
        Dialect::Vertex => vertex(obj).map(Some),
        Dialect::Bedrock => {
            if obj.contains_key("prompt") || obj.contains_key("completion") {
                Ok(None)
            } else {
                bedrock(obj).map(Some)
            }
        }
        Dialect::Trl => trl(obj),
        // LLaMA-Factory also reads OpenAI's `messages` lines (sharegpt with the OpenAI
        // `tags`, as its data README shows).
        Dialect::Sharegpt if obj.contains_key("messages") && !obj.contains_key("conversations") => {
            Ok(None)
        }
        Dialect::Sharegpt => sharegpt(obj).map(Some),
    }
}

fn unknown_keys(obj: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), NotRead> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => fail(format!(
            "The line has key `{k}`, which {what} lines do not have (they have {})",
            allowed
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => Ok(()),
    }
}

/// A list of `{"text": …}` parts (Vertex `parts`, Bedrock `content` blocks) as OpenAI
/// content: one part is a string, several are text parts.
fn text_parts(v: Option<&Value>, at: &str, key: &str) -> Read {
    let Some(Value::Array(parts)) = v else {
        return fail(format!(
            "{at} has no `{key}` list; write `\"{key}\": [{{\"text\": …}}]`"
        ));
    };
    if parts.is_empty() {
        return fail(format!(
            "{at} has an empty `{key}` list; add a `{{\"text\": …}}` part"
        ));
    }
    let mut texts = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        let Some(p) = p.as_object() else {
            return fail(format!(
                "{at}, part {}: not an object; write `{{\"text\": …}}`",
                j + 1
            ));
        };
        match (p.get("text"), p.len()) {
            (Some(Value::String(t)), 1) => texts.push(t.clone()),
            (Some(Value::String(_)), _) | (None, _) => {
                let other = p
                    .keys()
                    .find(|k| *k != "text")
                    .map_or("no `text`", String::as_str);
                return fail(format!(
                    "{at}, part {}: `{other}` is not a text part; afinar checks text parts only",
                    j + 1
                ));
            }
            (Some(t), _) => {
                return fail(format!("{at}, part {}: `text` is {t}, not a string", j + 1));
            }
        }
    }
    Ok(match texts.len() {
        1 => Value::String(texts.remove(0)),
        _ => Value::Array(
            texts
                .into_iter()
                .map(|t| json!({"type": "text", "text": t}))
                .collect(),
        ),
    })
}

/// One system message per part.
fn system_messages(
    parts: Option<&Value>,
    at: &str,
    key: &str,
    out: &mut Vec<Value>,
) -> Result<(), NotRead> {
    match text_parts(parts, at, key)? {
        Value::Array(many) => {
            for p in many {
                out.push(json!({"role": "system", "content": p["text"].clone()}));
            }
        }
        one => out.push(json!({"role": "system", "content": one})),
    }
    Ok(())
}

fn vertex(obj: &Map<String, Value>) -> Read {
    unknown_keys(obj, &["systemInstruction", "contents"], "Vertex AI")?;
    let mut messages = Vec::new();
    if let Some(sys) = obj.get("systemInstruction") {
        let Some(sys) = sys.as_object() else {
            return fail(
                "`systemInstruction` is not an object; write `{\"parts\": [{\"text\": …}]}`",
            );
        };
        unknown_keys(sys, &["role", "parts"], "`systemInstruction`")?;
        system_messages(
            sys.get("parts"),
            "`systemInstruction`",
            "parts",
            &mut messages,
        )?;
    }
    let Some(Value::Array(contents)) = obj.get("contents") else {
        return fail(
            "The line has no `contents` list; write `\"contents\": [{\"role\": \"user\", \"parts\": [{\"text\": …}]}, …]`",
        );
    };
    if contents.is_empty() {
        return fail("`contents` is empty; add the user and model turns");
    }
    for (i, c) in contents.iter().enumerate() {
        let at = format!("Turn {}", i + 1);
        let Some(c) = c.as_object() else {
            return fail(format!("{at} is not an object with `role` and `parts`"));
        };
        unknown_keys(c, &["role", "parts"], "Vertex AI turn")?;
        let role = match c.get("role").and_then(Value::as_str) {
            Some("user") => "user",
            Some("model") => "assistant",
            Some(other) => {
                return fail(format!(
                    "{at} has role `{other}`; Vertex AI turns are `user` or `model`"
                ));
            }
            None => {
                return fail(format!(
                    "{at} has no `role`; write `\"role\": \"user\"` or `\"model\"`"
                ));
            }
        };
        let content = text_parts(c.get("parts"), &at, "parts")?;
        messages.push(json!({"role": role, "content": content}));
    }
    Ok(json!({ "messages": messages }))
}

fn bedrock(obj: &Map<String, Value>) -> Read {
    unknown_keys(
        obj,
        &["schemaVersion", "system", "messages"],
        "Bedrock conversation",
    )?;
    match obj.get("schemaVersion") {
        Some(Value::String(_)) => {}
        Some(v) => {
            return fail(format!(
                "`schemaVersion` is {v}, not a string; write `\"schemaVersion\": \"bedrock-conversation-2024\"`"
            ));
        }
        None => {
            return fail(
                "The line has no `schemaVersion`; write `\"schemaVersion\": \"bedrock-conversation-2024\"` (or `prompt`/`completion` lines)",
            );
        }
    }
    let mut messages = Vec::new();
    if obj.contains_key("system") {
        system_messages(obj.get("system"), "`system`", "system", &mut messages)?;
    }
    let Some(Value::Array(turns)) = obj.get("messages") else {
        return fail(
            "The line has no `messages` list; write `\"messages\": [{\"role\": \"user\", \"content\": [{\"text\": …}]}, …]`",
        );
    };
    if turns.is_empty() {
        return fail("`messages` is empty; add the user and assistant turns");
    }
    for (i, m) in turns.iter().enumerate() {
        let at = format!("Message {}", i + 1);
        let Some(m) = m.as_object() else {
            return fail(format!("{at} is not an object with `role` and `content`"));
        };
        unknown_keys(m, &["role", "content"], "Bedrock message")?;
        let role = match m.get("role").and_then(Value::as_str) {
            Some(r @ ("user" | "assistant")) => r,
            Some(other) => {
                return fail(format!(
                    "{at} has role `{other}`; Bedrock messages are `user` or `assistant`"
                ));
            }
            None => return fail(format!("{at} has no `role`")),
        };
        let content = text_parts(m.get("content"), &at, "content")?;
        messages.push(json!({"role": role, "content": content}));
    }
    Ok(json!({ "messages": messages }))
}

fn messages_list<'a>(v: Option<&'a Value>, key: &str) -> Result<&'a Vec<Value>, NotRead> {
    match v {
        Some(Value::Array(a)) => Ok(a),
        _ => fail(format!("`{key}` is not a list of messages")),
    }
}

fn trl(obj: &Map<String, Value>) -> Result<Option<Value>, NotRead> {
    let has = |k| obj.contains_key(k);
    if has("chosen") || has("rejected") {
        unknown_keys(obj, &["prompt", "chosen", "rejected"], "TRL preference")?;
        let Some(prompt) = obj.get("prompt") else {
            return fail(
                "The line has no `prompt`; afinar checks preference lines with an explicit prompt",
            );
        };
        let input = match prompt {
            Value::String(s) => vec![json!({"role": "user", "content": s})],
            other => messages_list(Some(other), "prompt")?.clone(),
        };
        let reply = |key: &str| -> Read {
            match obj.get(key) {
                Some(Value::String(s)) => Ok(json!([{"role": "assistant", "content": s}])),
                Some(Value::Array(a)) => Ok(Value::Array(a.clone())),
                Some(_) => fail(format!(
                    "`{key}` is neither a string nor a list of messages"
                )),
                None => fail(format!("The line has no `{key}`")),
            }
        };
        return Ok(Some(json!({
            "input": {"messages": input},
            "preferred_output": reply("chosen")?,
            "non_preferred_output": reply("rejected")?,
        })));
    }
    // Conversational prompt-completion: the prompt's messages, then the completion's.
    if let (Some(Value::Array(p)), Some(Value::Array(c))) =
        (obj.get("prompt"), obj.get("completion"))
    {
        unknown_keys(obj, &["prompt", "completion"], "TRL prompt-completion")?;
        let messages: Vec<Value> = p.iter().chain(c).cloned().collect();
        return Ok(Some(json!({ "messages": messages })));
    }
    Ok(None)
}

fn sharegpt_turn(t: &Value, at: &str) -> Read {
    let Some(t) = t.as_object() else {
        return fail(format!("{at} is not an object with `from` and `value`"));
    };
    unknown_keys(t, &["from", "value"], "ShareGPT turn")?;
    let role = match t.get("from").and_then(Value::as_str) {
        Some("human" | "user") => "user",
        Some("gpt" | "assistant") => "assistant",
        Some("system") => "system",
        Some(other) => {
            return fail(format!(
                "{at} is from `{other}`; afinar checks `human` and `gpt` turns (function_call and observation turns are not checked)"
            ));
        }
        None => return fail(format!("{at} has no `from`")),
    };
    match t.get("value") {
        Some(Value::String(v)) => Ok(json!({"role": role, "content": v})),
        _ => fail(format!("{at} has no `value` string")),
    }
}

fn sharegpt(obj: &Map<String, Value>) -> Read {
    unknown_keys(
        obj,
        &["conversations", "system", "chosen", "rejected"],
        "ShareGPT",
    )?;
    let mut messages = Vec::new();
    match obj.get("system") {
        Some(Value::String(s)) => messages.push(json!({"role": "system", "content": s})),
        Some(_) => return fail("`system` is not a string"),
        None => {}
    }
    let turns = match obj.get("conversations") {
        Some(Value::Array(a)) => a,
        _ => {
            return fail(
                "The line has no `conversations` list; write `\"conversations\": [{\"from\": \"human\", \"value\": …}, {\"from\": \"gpt\", \"value\": …}]`",
            );
        }
    };
    for (i, t) in turns.iter().enumerate() {
        messages.push(sharegpt_turn(t, &format!("Turn {}", i + 1))?);
    }
    match (obj.get("chosen"), obj.get("rejected")) {
        (None, None) => Ok(json!({ "messages": messages })),
        (Some(c), Some(r)) => Ok(json!({
            "input": {"messages": messages},
            "preferred_output": [sharegpt_turn(c, "`chosen`")?],
            "non_preferred_output": [sharegpt_turn(r, "`rejected`")?],
        })),
        _ => fail("A preference line needs both `chosen` and `rejected`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(d: Dialect, v: Value) -> Value {
        to_openai(d, &v).unwrap().unwrap()
    }

    #[test]
    fn vertex_lines_read_back_as_chat() {
        let v = json!({"systemInstruction": {"role": "system", "parts": [{"text": "Você é contador."}]},
            "contents": [{"role": "user", "parts": [{"text": "Qual o limite?"}]},
                         {"role": "model", "parts": [{"text": "R$ 4,8 milhões"}]}]});
        assert_eq!(
            read(Dialect::Vertex, v),
            json!({"messages": [{"role": "system", "content": "Você é contador."},
                {"role": "user", "content": "Qual o limite?"},
                {"role": "assistant", "content": "R$ 4,8 milhões"}]})
        );
        let bad = json!({"contents": [{"role": "assistant", "parts": [{"text": "a"}]}]});
        let e = to_openai(Dialect::Vertex, &bad).unwrap_err();
        assert!(e.0.contains("role `assistant`"), "{e:?}");
        let file = json!({"contents": [{"role": "user", "parts": [{"fileData": {}}]}]});
        assert!(
            to_openai(Dialect::Vertex, &file)
                .unwrap_err()
                .0
                .contains("`fileData`")
        );
        let openai = json!({"messages": []});
        assert!(
            to_openai(Dialect::Vertex, &openai)
                .unwrap_err()
                .0
                .contains("`messages`")
        );
    }

    #[test]
    fn bedrock_conversations_and_completions() {
        let v = json!({"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "s"}],
            "messages": [{"role": "user", "content": [{"text": "q"}, {"text": "q2"}]},
                         {"role": "assistant", "content": [{"text": "a"}]}]});
        assert_eq!(
            read(Dialect::Bedrock, v),
            json!({"messages": [{"role": "system", "content": "s"},
                {"role": "user", "content": [{"type": "text", "text": "q"}, {"type": "text", "text": "q2"}]},
                {"role": "assistant", "content": "a"}]})
        );
        assert_eq!(
            to_openai(Dialect::Bedrock, &json!({"prompt": "p", "completion": "c"})),
            Ok(None)
        );
        assert!(
            to_openai(Dialect::Bedrock, &json!({"messages": []}))
                .unwrap_err()
                .0
                .contains("schemaVersion")
        );
    }

    #[test]
    fn trl_and_sharegpt_preferences_become_dpo() {
        let t = json!({"prompt": [{"role": "user", "content": "q"}],
            "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]});
        let dpo = json!({"input": {"messages": [{"role": "user", "content": "q"}]},
            "preferred_output": [{"role": "assistant", "content": "a"}],
            "non_preferred_output": [{"role": "assistant", "content": "b"}]});
        assert_eq!(read(Dialect::Trl, t), dpo);
        let s = json!({"conversations": [{"from": "human", "value": "q"}],
            "chosen": {"from": "gpt", "value": "a"}, "rejected": {"from": "gpt", "value": "b"}});
        assert_eq!(read(Dialect::Sharegpt, s), dpo);
        assert_eq!(to_openai(Dialect::Trl, &json!({"messages": []})), Ok(None));
        let pc = json!({"prompt": [{"role": "user", "content": "q"}], "completion": [{"role": "assistant", "content": "a"}]});
        assert_eq!(read(Dialect::Trl, pc)["messages"][1]["content"], "a");
    }
}
