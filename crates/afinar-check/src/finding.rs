use serde::Serialize;

/// How bad a finding is: errors make `afinar check` exit 1, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $sev:ident; )*) => {
        /// Stable rule codes. The string form (`Code::as_str`) appears in every report and
        /// never changes meaning; new codes may be added.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }
        }
    };
}

codes! {
    /// The line is not valid UTF-8.
    InvalidUtf8 = "invalid_utf8", Error;
    /// The line is over 16 MiB, far past any model's context; it is skipped unread.
    LineTooLong = "line_too_long", Error;
    /// The line is not valid JSON (the message gives the column, in characters).
    InvalidJson = "invalid_json", Error;
    /// The line is JSON but not an object.
    DataType = "data_type", Error;
    /// A chat line without a non-empty `messages` list.
    MissingMessagesList = "missing_messages_list", Error;
    /// A message without `role`, or without `content` (and no tool calls).
    MessageMissingKey = "message_missing_key", Error;
    /// A message with a key the service does not take.
    MessageUnrecognizedKey = "message_unrecognized_key", Error;
    /// A role other than system, developer, user, assistant, tool.
    UnrecognizedRole = "unrecognized_role", Error;
    /// `content` null, empty or of the wrong type.
    MissingContent = "missing_content", Error;
    /// `content` (or a prompt/completion) made only of whitespace.
    EmptyContent = "empty_content", Error;
    /// A chat example without any assistant message: nothing to train on.
    ExampleMissingAssistantMessage = "example_missing_assistant_message", Error;
    /// `weight` other than 0 or 1.
    InvalidWeight = "invalid_weight", Error;
    /// `weight` on a message that is not the assistant's.
    WeightNotOnAssistant = "weight_not_on_assistant", Error;
    /// `name` that is not a non-empty string.
    InvalidName = "invalid_name", Error;
    /// A bad part in a multimodal content list.
    InvalidContentPart = "invalid_content_part", Error;
    /// Malformed `tool_calls`, or tool calls on a message that is not the assistant's.
    InvalidToolCalls = "invalid_tool_calls", Error;
    /// A tool message without `tool_call_id`, or answering no earlier tool call.
    InvalidToolMessage = "invalid_tool_message", Error;
    /// A developer message for a model that does not take the developer role.
    DeveloperRoleUnsupported = "developer_role_unsupported", Error;
    /// Two user or two assistant turns in a row: a warning where the service takes them
    /// (OpenAI), an error for a model whose trainer needs alternating turns
    /// (`"turn_order": "alternate"` in the registry).
    ConsecutiveTurns = "consecutive_turns", Warning;
    /// A system or developer message after the conversation started.
    SystemNotFirst = "system_not_first", Error;
    /// A line format (prompt/completion, DPO) the model does not take (reported once per
    /// file, with the count and the first lines).
    FormatNotSupported = "format_not_supported", Error;
    /// Lines in another format than the file's first example (reported once per file).
    MixedFormats = "mixed_formats", Error;
    /// An image for a model that is not fine-tuned with images (reported once per file).
    ImagesNotSupported = "images_not_supported", Error;
    /// An `image_url` that is neither an `https://` URL nor a decodable JPEG, PNG or WEBP
    /// `data:` URI (GIFs included).
    InvalidImage = "invalid_image", Error;
    /// A special token of the model's encoding (`<|endoftext|>`…) or of the chat markup
    /// (`<|im_start|>`…) in the text: the service rejects the file after upload.
    SpecialToken = "special_token", Error;
    /// A prompt/completion line without `prompt`.
    MissingPrompt = "missing_prompt", Error;
    /// A prompt/completion line without `completion`.
    MissingCompletion = "missing_completion", Error;
    /// `prompt` that is not a string.
    PromptNotString = "prompt_not_string", Error;
    /// `completion` that is not a string.
    CompletionNotString = "completion_not_string", Error;
    /// A prompt/completion line with other keys.
    UnrecognizedKey = "unrecognized_key", Error;
    /// A DPO line with a missing or malformed `input`, `preferred_output` or `non_preferred_output`.
    InvalidDpo = "invalid_dpo", Error;
    /// The line breaks the bundled JSON Schema in a way no other rule names.
    SchemaViolation = "schema_violation", Error;
    /// The example has more tokens than the model trains on; it would be truncated.
    OverTokenLimit = "over_token_limit", Error;
    /// The model's chat template cannot render the example (it raised, or uses a
    /// feature afinar cannot render); the trainer would fail on it too.
    ChatTemplateError = "chat_template_error", Error;
    /// Fewer than 10 examples: the service refuses the file.
    TooFewExamples = "too_few_examples", Error;
    /// A line that is not valid in the target's dialect (`--target vertex`, `bedrock`,
    /// `trl`, `llama-factory`): a missing or misspelt key, a part afinar cannot read.
    InvalidTargetLine = "invalid_target_line", Error;
    /// A role the target does not take (`tool` for Together, `developer` for Vertex…).
    RoleNotSupported = "role_not_supported", Error;
    /// A system prompt for a target that takes none, or tool calls for one without tools.
    FeatureNotSupported = "feature_not_supported", Error;
    /// The first turn is not the user's where the target needs it (Bedrock).
    FirstTurnNotUser = "first_turn_not_user", Error;
    /// A keyword the target reserves (Bedrock's `User:`, `[EOS]`…) in the text.
    ReservedKeyword = "reserved_keyword", Error;
    /// Over the target's maximum number of examples.
    TooManyExamples = "too_many_examples", Error;
    /// No UTF-8 byte order mark where the target asks for one (Azure).
    MissingBom = "missing_bom", Warning;
    /// A blank line (skipped).
    BlankLine = "blank_line", Warning;
    /// A UTF-8 byte order mark at the start of the file.
    Utf8Bom = "utf8_bom", Warning;
    /// The same example appears earlier in the file.
    DuplicateExample = "duplicate_example", Warning;
    /// Fewer than 50 examples: fine-tuning usually needs more.
    FewExamples = "few_examples", Warning;
    /// Over 512 MB: upload it with the Uploads API (multipart).
    FileTooLarge = "file_too_large", Warning;
    /// Personal data (CPF, CNPJ, e-mail, phone number, listed name) in a line.
    PersonalData = "personal_data", Warning;
    /// Personal data of a kind `--deny-pii` (or `--strict`) forbids.
    PersonalDataDenied = "personal_data_denied", Error;
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Code {
    /// Codes whose cause is the file or the model rather than the line (a format the model
    /// does not take, images for a text-only model): the report gives them once, at the
    /// first line, with the count and the first lines, so they do not bury the per-line
    /// defects. Their messages name the cause without the line.
    pub fn is_file_wide(self) -> bool {
        matches!(
            self,
            Code::FormatNotSupported
                | Code::MixedFormats
                | Code::ImagesNotSupported
                | Code::DeveloperRoleUnsupported
        )
    }
}

/// One problem: its code, the 1-based line (absent for file-level findings) and a
/// message saying how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub line: Option<u64>,
    pub code: Code,
    pub message: String,
    /// The code's severity unless a model's rules say otherwise (see
    /// [`Finding::with_severity`]); the report's `errors`/`warnings` lists show it.
    #[serde(skip)]
    severity: Severity,
}

impl Finding {
    pub fn new(line: Option<u64>, code: Code, message: impl Into<String>) -> Finding {
        Finding {
            line,
            code,
            message: message.into(),
            severity: code.severity(),
        }
    }

    /// The same finding with another severity: `consecutive_turns` is a warning for
    /// OpenAI and an error where turns must alternate.
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    pub fn severity(&self) -> Severity {
        self.severity
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {c}");
            assert!(
                c.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '_' || ch.is_ascii_digit())
            );
        }
    }
}
