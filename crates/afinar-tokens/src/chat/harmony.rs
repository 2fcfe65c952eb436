//! gpt-oss's harmony format, rendered for training as `openai-harmony`'s
//! `render_conversation_for_training` does, and counted on o200k (o200k_harmony is
//! o200k_base plus the format's special tokens, each one token).
//!
//! A training line maps to a harmony conversation the way OpenAI's gpt-oss fine-tuning
//! guide builds one: a system message with the default `SystemContent` (model identity,
//! knowledge cutoff, reasoning effort medium, the required channels), the line's system
//! or developer prompt as a developer message (`# Instructions` then the prompt), user
//! messages as they are, assistant messages on the `final` channel. Every message is
//! `<|start|>{role}[<|channel|>{channel}]<|message|>{text}<|end|>`, each text part
//! tokenized on its own; the last `<|end|>` becomes `<|return|>` (same count).

use serde_json::Value;

use super::{ChatCounts, RenderError};
use crate::{Encoding, Tokenizer};

/// `SystemContent::default()` rendered (no conversation date).
pub const SYSTEM_TEXT: &str = "You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: 2024-06\n\nReasoning: medium\n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.";

/// `<|start|>`, `<|message|>` and `<|end|>`.
const FRAME: u64 = 3;
/// `<|channel|>`.
const CHANNEL: u64 = 1;

pub(crate) fn count(messages: &[Value], tools: Option<&Value>) -> Result<ChatCounts, RenderError> {
    if tools.is_some_and(|t| !t.is_null()) {
        return Err(RenderError::Shape(
            "Tools in a gpt-oss (harmony) example are not counted by afinar yet; remove `tools` or count with openai-harmony".into(),
        ));
    }
    let tok = Tokenizer::get(Encoding::O200kBase);
    let n = |s: &str| tok.count(s) as u64;
    let mut c = ChatCounts {
        tokens: FRAME + n("system") + n(SYSTEM_TEXT),
        assistant: 0,
    };
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        let text = match m.get("content") {
            Some(Value::String(s)) => s.as_str(),
            None | Some(Value::Null) => "",
            Some(_) => {
                return Err(RenderError::Shape(format!(
                    "Message {} has content parts; afinar renders harmony for text content only",
                    i + 1
                )));
            }
        };
        match role {
            "system" | "developer" => {
                c.tokens += FRAME + n("developer") + n(&format!("# Instructions\n\n{text}"));
            }
            "user" => c.tokens += FRAME + n("user") + n(text),
            "assistant" => {
                let body = n(text);
                c.tokens += FRAME + n("assistant") + CHANNEL + n("final") + body;
                c.assistant += body + 1;
            }
            other => {
                return Err(RenderError::Shape(format!(
                    "Message {} has role `{other}`, which afinar does not render in harmony (system, developer, user and assistant are)",
                    i + 1
                )));
            }
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn counts_the_default_system_message_and_every_frame() {
        let msgs =
            json!([{"role": "user", "content": "Olá"}, {"role": "assistant", "content": "Oi!"}]);
        let c = count(msgs.as_array().unwrap(), None).unwrap();
        let tok = Tokenizer::get(Encoding::O200kBase);
        let n = |s: &str| tok.count(s) as u64;
        let system = 3 + n("system") + n(SYSTEM_TEXT);
        let user = 3 + n("user") + n("Olá");
        let assistant = 4 + n("assistant") + n("final") + n("Oi!");
        assert_eq!(c.tokens, system + user + assistant);
        assert_eq!(c.assistant, n("Oi!") + 1);
        assert!(
            count(
                json!([{"role": "tool", "content": "x"}])
                    .as_array()
                    .unwrap(),
                None
            )
            .is_err()
        );
    }
}
