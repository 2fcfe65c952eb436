use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::normalize::normalize;
use crate::{Origin, Role};

/// Extra source columns (topic, category, reviewed date…), kept for filters, stratified
/// splits and per-topic statistics. Ordered, so output is deterministic.
pub type Meta = BTreeMap<String, String>;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// OpenAI's per-message training weight (0 or 1, assistant messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u8>,
    /// Assistant tool calls, passed through untouched. Boxed: a JSON value is 72 bytes,
    /// and nearly every message has none (a message is 88 bytes, not 152).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Box<Value>>,
    /// The call a `tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            name: None,
            weight: None,
            tool_calls: None,
            tool_call_id: None,
        }
    }
}

/// One training example: a conversation, where it came from, and its source's extra columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub messages: Vec<Message>,
    pub origin: Origin,
    pub meta: Meta,
    /// Top-level keys of the chat line format besides `messages` (`tools`, `functions`,
    /// `parallel_tool_calls`), passed through to chat output.
    pub extra: BTreeMap<String, Value>,
}

impl Example {
    pub fn new(messages: Vec<Message>, origin: Origin) -> Self {
        Self {
            messages,
            origin,
            meta: Meta::new(),
            extra: BTreeMap::new(),
        }
    }

    /// A question/answer pair, optionally behind a system message.
    pub fn single_turn(
        system: Option<&str>,
        question: impl Into<String>,
        answer: impl Into<String>,
        origin: Origin,
    ) -> Self {
        let mut messages = Vec::with_capacity(3);
        if let Some(system) = system {
            messages.push(Message::new(Role::System, system));
        }
        messages.push(Message::new(Role::User, question));
        messages.push(Message::new(Role::Assistant, answer));
        Self::new(messages, origin)
    }

    /// Replaces the leading system message, or inserts one.
    pub fn set_system(&mut self, text: &str) {
        match self.messages.first_mut() {
            Some(first) if first.role == Role::System => first.content = text.to_owned(),
            _ => self.messages.insert(0, Message::new(Role::System, text)),
        }
    }

    /// Removes system and developer messages.
    pub fn drop_instructions(&mut self) {
        self.messages.retain(|m| !m.role.is_instruction());
    }

    /// The first user message, which is what dedupe and split treat as "the question".
    pub fn question(&self) -> Option<&str> {
        self.messages
            .iter()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
    }

    /// The last assistant message: "the answer".
    pub fn answer(&self) -> Option<&str> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::Assistant)
            .map(|m| m.content.as_str())
    }

    /// Normalises every message's text (see [`crate::normalize`]).
    pub fn normalize(&mut self) {
        for m in &mut self.messages {
            m.content = normalize(&m.content);
        }
    }
}

/// A DPO preference example: the conversation so far, and a preferred and a
/// non-preferred assistant reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Preference {
    pub input: Vec<Message>,
    pub preferred: Message,
    pub non_preferred: Message,
    pub origin: Origin,
    pub meta: Meta,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex() -> Example {
        Example::single_turn(Some("sys"), "Q?", "A.", Origin::line("f.jsonl", 1))
    }

    #[test]
    fn set_system_replaces_or_inserts() {
        let mut e = ex();
        e.set_system("novo");
        assert_eq!(e.messages.len(), 3);
        assert_eq!(e.messages[0].content, "novo");
        e.drop_instructions();
        assert_eq!(e.messages.len(), 2);
        e.set_system("outro");
        assert_eq!(e.messages[0], Message::new(Role::System, "outro"));
    }

    #[test]
    fn question_and_answer_views() {
        let e = ex();
        assert_eq!(e.question(), Some("Q?"));
        assert_eq!(e.answer(), Some("A."));
    }
}
