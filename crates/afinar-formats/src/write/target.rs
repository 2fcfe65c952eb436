//! Lines in a target's dialect ([`Dialect`]), written losslessly from the canonical
//! [`Example`] (chat), [`Completion`] and [`Preference`]: Vertex AI (`systemInstruction`
//! and `contents` of `user`/`model` parts), Bedrock (`bedrock-conversation-2024`, or
//! `prompt`/`completion`), TRL (`messages`, `prompt`/`completion`,
//! `prompt`/`chosen`/`rejected`) and LLaMA-Factory's ShareGPT (`conversations`,
//! `system`, `chosen`/`rejected`). OpenAI's dialect is [`super::jsonl`]'s lines.
//!
//! What a dialect cannot express (tool calls for Vertex, DPO for Bedrock, a system
//! message in the middle of a conversation, a message `name`, a weight 0) is an
//! [`Unsupported`] with a stable code and the reason: the caller rejects the example,
//! nothing is dropped silently. A weight of 1 is every dialect's default, so leaving it
//! out loses nothing.

use afinar_core::dialect::BEDROCK_SCHEMA_VERSION;
use afinar_core::{Completion, Dialect, Example, Message, Preference, Role};
use serde_json::{Map, Value, json};

use super::jsonl::{ChatLine, DpoLine};

/// Why an example cannot be written in a dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// Stable snake_case code (see [`code`]).
    pub code: &'static str,
    pub reason: String,
}

/// Stable codes of [`Unsupported`].
pub mod code {
    /// The dialect has no such shape (DPO for Bedrock or Vertex).
    pub const SHAPE: &str = "shape_not_supported";
    /// Tool calls, tool messages or a `tools` list.
    pub const TOOLS: &str = "tools_not_supported";
    /// A role the dialect has no place for (`developer` for Vertex).
    pub const ROLE: &str = "role_not_supported";
    /// A system message after the conversation started.
    pub const SYSTEM_NOT_FIRST: &str = "system_not_first";
    /// A message `name`.
    pub const NAME: &str = "name_not_supported";
    /// A message with weight 0.
    pub const WEIGHT: &str = "weight_not_supported";
    /// Other top-level keys of the chat line.
    pub const EXTRA: &str = "key_not_supported";
}

fn unsupported<T>(code: &'static str, reason: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported {
        code,
        reason: reason.into(),
    })
}

fn serialize<T: serde::Serialize>(v: T) -> Value {
    // Owned strings and maps always serialise.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A chat example as one line of `dialect`.
pub fn chat(dialect: Dialect, ex: &Example) -> Result<Value, Unsupported> {
    match dialect {
        Dialect::Openai | Dialect::Trl => {
            if dialect == Dialect::Trl {
                no_weight_zero(&ex.messages, "TRL")?;
                let mut ex = ex.clone();
                for m in &mut ex.messages {
                    m.weight = None;
                }
                return Ok(serialize(ChatLine(&ex)));
            }
            Ok(serialize(ChatLine(ex)))
        }
        Dialect::Vertex => {
            let (system, turns) = split_conversation(ex, "Vertex AI")?;
            let mut line = Map::new();
            if !system.is_empty() {
                let parts: Vec<Value> = system.iter().map(|s| json!({"text": s})).collect();
                line.insert("systemInstruction".into(), json!({ "parts": parts }));
            }
            let contents: Vec<Value> = turns
                .iter()
                .map(|m| {
                    let role = if m.role == Role::User {
                        "user"
                    } else {
                        "model"
                    };
                    json!({"role": role, "parts": [{"text": m.content}]})
                })
                .collect();
            line.insert("contents".into(), Value::Array(contents));
            Ok(Value::Object(line))
        }
        Dialect::Bedrock => {
            let (system, turns) = split_conversation(ex, "Bedrock")?;
            let mut line = Map::new();
            line.insert("schemaVersion".into(), json!(BEDROCK_SCHEMA_VERSION));
            if !system.is_empty() {
                let blocks: Vec<Value> = system.iter().map(|s| json!({"text": s})).collect();
                line.insert("system".into(), Value::Array(blocks));
            }
            let messages: Vec<Value> = turns
                .iter()
                .map(|m| json!({"role": m.role.as_str(), "content": [{"text": m.content}]}))
                .collect();
            line.insert("messages".into(), Value::Array(messages));
            Ok(Value::Object(line))
        }
        Dialect::Sharegpt => {
            let (system, turns) = split_conversation(ex, "LLaMA-Factory")?;
            let mut line = Map::new();
            line.insert("conversations".into(), Value::Array(sharegpt_turns(&turns)));
            if let Some(s) = one_system(&system, "LLaMA-Factory")? {
                line.insert("system".into(), json!(s));
            }
            Ok(Value::Object(line))
        }
    }
}

/// A prompt/completion example as one line of `dialect`.
pub fn completion(dialect: Dialect, pc: &Completion) -> Result<Value, Unsupported> {
    match dialect {
        Dialect::Openai | Dialect::Bedrock | Dialect::Trl => Ok(serialize(pc)),
        Dialect::Vertex => unsupported(
            code::SHAPE,
            "Vertex AI tunes Gemini on chat lines only; convert with --to chat",
        ),
        Dialect::Sharegpt => unsupported(
            code::SHAPE,
            "LLaMA-Factory's ShareGPT lines are conversations; convert with --to chat",
        ),
    }
}

/// A DPO preference as one line of `dialect`.
pub fn dpo(dialect: Dialect, p: &Preference) -> Result<Value, Unsupported> {
    let replies = [&p.preferred, &p.non_preferred];
    match dialect {
        Dialect::Openai => Ok(serialize(DpoLine(p))),
        Dialect::Vertex | Dialect::Bedrock => unsupported(
            code::SHAPE,
            format!(
                "{} takes no preference (DPO) lines; train with --to chat, or pick --target openai, together, fireworks or trl",
                if dialect == Dialect::Vertex {
                    "Vertex AI's supervised tuning"
                } else {
                    "Bedrock"
                }
            ),
        ),
        Dialect::Trl => {
            no_weight_zero(&p.input, "TRL")?;
            for r in replies {
                plain_reply(r, "TRL")?;
            }
            let strip = |ms: &[Message]| -> Vec<Value> {
                ms.iter()
                    .map(|m| {
                        let mut m = m.clone();
                        m.weight = None;
                        serialize(ChatLine(&Example::new(vec![m], p.origin.clone())))["messages"][0]
                            .clone()
                    })
                    .collect()
            };
            Ok(json!({
                "prompt": strip(&p.input),
                "chosen": strip(std::slice::from_ref(&p.preferred)),
                "rejected": strip(std::slice::from_ref(&p.non_preferred)),
            }))
        }
        Dialect::Sharegpt => {
            let ex = Example::new(p.input.clone(), p.origin.clone());
            let (system, turns) = split_conversation_with(&ex, "LLaMA-Factory", false)?;
            for r in replies {
                plain_reply(r, "LLaMA-Factory")?;
            }
            let mut line = Map::new();
            line.insert("conversations".into(), Value::Array(sharegpt_turns(&turns)));
            line.insert(
                "chosen".into(),
                json!({"from": "gpt", "value": p.preferred.content}),
            );
            line.insert(
                "rejected".into(),
                json!({"from": "gpt", "value": p.non_preferred.content}),
            );
            if let Some(s) = one_system(&system, "LLaMA-Factory")? {
                line.insert("system".into(), json!(s));
            }
            Ok(Value::Object(line))
        }
    }
}

fn sharegpt_turns(turns: &[&Message]) -> Vec<Value> {
    turns
        .iter()
        .map(|m| {
            let from = if m.role == Role::User { "human" } else { "gpt" };
            json!({"from": from, "value": m.content})
        })
        .collect()
}

fn one_system<'a>(system: &[&'a str], service: &str) -> Result<Option<&'a str>, Unsupported> {
    match system {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => unsupported(
            code::SYSTEM_NOT_FIRST,
            format!(
                "{service} takes one system prompt and the example has {}; merge them",
                system.len()
            ),
        ),
    }
}

fn no_weight_zero(messages: &[Message], service: &str) -> Result<(), Unsupported> {
    match messages.iter().position(|m| m.weight == Some(0)) {
        Some(i) => unsupported(
            code::WEIGHT,
            format!(
                "Message {} has weight 0, which {service} lines cannot express; remove the message or its weight",
                i + 1
            ),
        ),
        None => Ok(()),
    }
}

fn plain_reply(m: &Message, service: &str) -> Result<(), Unsupported> {
    if m.tool_calls.is_some() {
        return unsupported(
            code::TOOLS,
            format!("A reply calls tools, which {service} lines cannot express"),
        );
    }
    if m.name.is_some() {
        return unsupported(
            code::NAME,
            format!("A reply has a `name`, which {service} lines cannot express"),
        );
    }
    Ok(())
}

/// The leading system messages' texts and the user/assistant turns, or why the example
/// does not fit a dialect of plain alternating text turns.
fn split_conversation<'a>(
    ex: &'a Example,
    service: &str,
) -> Result<(Vec<&'a str>, Vec<&'a Message>), Unsupported> {
    split_conversation_with(ex, service, true)
}

fn split_conversation_with<'a>(
    ex: &'a Example,
    service: &str,
    need_assistant: bool,
) -> Result<(Vec<&'a str>, Vec<&'a Message>), Unsupported> {
    if let Some(k) = ex.extra.keys().next() {
        let code = if k == "tools" || k == "functions" || k == "parallel_tool_calls" {
            code::TOOLS
        } else {
            code::EXTRA
        };
        return unsupported(
            code,
            format!("The example has `{k}`, which {service} lines cannot express"),
        );
    }
    let mut system = Vec::new();
    let mut turns = Vec::new();
    for (i, m) in ex.messages.iter().enumerate() {
        let n = i + 1;
        if m.tool_calls.is_some() || m.role == Role::Tool {
            return unsupported(
                code::TOOLS,
                format!(
                    "Message {n} is a tool call or result, which {service} lines cannot express"
                ),
            );
        }
        if m.name.is_some() {
            return unsupported(
                code::NAME,
                format!("Message {n} has a `name`, which {service} lines cannot express"),
            );
        }
        if m.weight == Some(0) {
            return unsupported(
                code::WEIGHT,
                format!(
                    "Message {n} has weight 0, which {service} lines cannot express; remove the message or its weight"
                ),
            );
        }
        match m.role {
            Role::System if turns.is_empty() => system.push(m.content.as_str()),
            Role::System => {
                return unsupported(
                    code::SYSTEM_NOT_FIRST,
                    format!(
                        "Message {n} is a system message after the conversation started; {service} takes the system prompt before it only"
                    ),
                );
            }
            Role::Developer => {
                return unsupported(
                    code::ROLE,
                    format!(
                        "Message {n} has role `developer`, which {service} has no place for; use `system`"
                    ),
                );
            }
            Role::User | Role::Assistant => turns.push(m),
            Role::Tool => {}
        }
    }
    if need_assistant && !turns.iter().any(|m| m.role == Role::Assistant) {
        return unsupported(code::SHAPE, "The example has no assistant turn to train on");
    }
    Ok((system, turns))
}

#[cfg(test)]
mod tests {
    use afinar_core::Origin;

    use super::*;

    fn multi_turn() -> Example {
        let mut ex = Example::single_turn(
            Some("Você é um assistente do Simples Nacional."),
            "Qual o limite de faturamento?",
            "R$ 4,8 milhões por ano.",
            Origin::line("faq.jsonl", 3),
        );
        ex.messages.push(Message::new(Role::User, "E para o MEI?"));
        ex.messages
            .push(Message::new(Role::Assistant, "R$ 81 mil — ação rápida!"));
        ex
    }

    fn pref() -> Preference {
        Preference {
            input: vec![
                Message::new(Role::System, "Seja breve."),
                Message::new(Role::User, "Qual o prazo do DAS?"),
            ],
            preferred: Message::new(Role::Assistant, "Dia 20."),
            non_preferred: Message::new(Role::Assistant, "Não sei."),
            origin: Origin::line("p.jsonl", 1),
            meta: Default::default(),
        }
    }

    #[test]
    fn vertex_lines_keep_system_and_every_turn() {
        let line = chat(Dialect::Vertex, &multi_turn()).unwrap();
        assert_eq!(
            serde_json::to_string(&line).unwrap(),
            r#"{"systemInstruction":{"parts":[{"text":"Você é um assistente do Simples Nacional."}]},"contents":[{"role":"user","parts":[{"text":"Qual o limite de faturamento?"}]},{"role":"model","parts":[{"text":"R$ 4,8 milhões por ano."}]},{"role":"user","parts":[{"text":"E para o MEI?"}]},{"role":"model","parts":[{"text":"R$ 81 mil — ação rápida!"}]}]}"#
        );
        assert_eq!(dpo(Dialect::Vertex, &pref()).unwrap_err().code, code::SHAPE);
    }

    #[test]
    fn bedrock_conversations_carry_the_schema_version() {
        let line = chat(Dialect::Bedrock, &multi_turn()).unwrap();
        assert_eq!(line["schemaVersion"], "bedrock-conversation-2024");
        assert_eq!(
            line["system"][0]["text"],
            "Você é um assistente do Simples Nacional."
        );
        assert_eq!(
            line["messages"][3]["content"][0]["text"],
            "R$ 81 mil — ação rápida!"
        );
        assert_eq!(line["messages"][1]["role"], "assistant");
        let pc = Completion {
            prompt: "Qual o prazo?".into(),
            completion: "Dia 20.".into(),
        };
        assert_eq!(
            completion(Dialect::Bedrock, &pc).unwrap(),
            json!({"prompt": "Qual o prazo?", "completion": "Dia 20."})
        );
        assert_eq!(
            dpo(Dialect::Bedrock, &pref()).unwrap_err().code,
            code::SHAPE
        );
    }

    #[test]
    fn what_a_dialect_cannot_express_is_refused_with_a_code() {
        let mut tools = multi_turn();
        tools.messages[2].tool_calls = Some(Box::new(json!([{"id": "c1"}])));
        assert_eq!(chat(Dialect::Vertex, &tools).unwrap_err().code, code::TOOLS);
        assert!(chat(Dialect::Openai, &tools).is_ok());
        let mut late = multi_turn();
        late.messages
            .push(Message::new(Role::System, "Agora em inglês."));
        let e = chat(Dialect::Bedrock, &late).unwrap_err();
        assert_eq!(e.code, code::SYSTEM_NOT_FIRST);
        assert!(
            e.reason.starts_with("Message 6 is a system message"),
            "{}",
            e.reason
        );
        let mut dev = multi_turn();
        dev.messages[0].role = Role::Developer;
        assert_eq!(chat(Dialect::Sharegpt, &dev).unwrap_err().code, code::ROLE);
        let mut w = multi_turn();
        w.messages[2].weight = Some(0);
        assert_eq!(chat(Dialect::Trl, &w).unwrap_err().code, code::WEIGHT);
        w.messages[2].weight = Some(1);
        assert!(
            chat(Dialect::Trl, &w).unwrap()["messages"][2]
                .get("weight")
                .is_none()
        );
        let mut named = multi_turn();
        named.messages[1].name = Some("Ana".into());
        assert_eq!(chat(Dialect::Vertex, &named).unwrap_err().code, code::NAME);
    }

    #[test]
    fn preferences_in_trl_and_sharegpt() {
        assert_eq!(
            dpo(Dialect::Trl, &pref()).unwrap(),
            json!({"prompt": [{"role": "system", "content": "Seja breve."}, {"role": "user", "content": "Qual o prazo do DAS?"}],
                   "chosen": [{"role": "assistant", "content": "Dia 20."}],
                   "rejected": [{"role": "assistant", "content": "Não sei."}]})
        );
        assert_eq!(
            dpo(Dialect::Sharegpt, &pref()).unwrap(),
            json!({"conversations": [{"from": "human", "value": "Qual o prazo do DAS?"}],
                   "chosen": {"from": "gpt", "value": "Dia 20."},
                   "rejected": {"from": "gpt", "value": "Não sei."},
                   "system": "Seja breve."})
        );
        let line = chat(Dialect::Sharegpt, &multi_turn()).unwrap();
        assert_eq!(
            line["conversations"][3],
            json!({"from": "gpt", "value": "R$ 81 mil — ação rápida!"})
        );
        assert_eq!(line["system"], "Você é um assistente do Simples Nacional.");
    }
}
