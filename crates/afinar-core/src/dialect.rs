//! The line dialects training services read. A target (`openai`, `vertex`, `bedrock`…,
//! see `afinar_check::targets`) names one; `afinar_formats::write::target` writes it and
//! `afinar_check::dialect` reads it back into the OpenAI shape the checks run on.

use serde::{Deserialize, Serialize};

/// How a training line is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// OpenAI's lines: `messages`, `prompt`/`completion`,
    /// `input`/`preferred_output`/`non_preferred_output` (also Azure, Together, Fireworks,
    /// Axolotl's `chat_template`).
    Openai,
    /// Vertex AI Gemini tuning: `systemInstruction` and `contents` of `user`/`model` turns
    /// made of `parts`.
    Vertex,
    /// Amazon Bedrock: `bedrock-conversation-2024` (`schemaVersion`, `system`, `messages`
    /// of `content` blocks) or `prompt`/`completion`.
    Bedrock,
    /// Hugging Face TRL: `messages`, `prompt`/`completion`, and conversational preference
    /// lines `prompt`/`chosen`/`rejected`.
    Trl,
    /// LLaMA-Factory's ShareGPT lines: `conversations` of `from`/`value`, `system`, and
    /// `chosen`/`rejected` for preference data.
    Sharegpt,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Openai => "openai",
            Dialect::Vertex => "vertex",
            Dialect::Bedrock => "bedrock",
            Dialect::Trl => "trl",
            Dialect::Sharegpt => "sharegpt",
        }
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The schema version Bedrock's conversation lines carry.
pub const BEDROCK_SCHEMA_VERSION: &str = "bedrock-conversation-2024";
