//! Per-example validation rules.
//!
//! [`check_example`] runs the built-in rules for the line's [`Format`] and then every
//! extra [`LineRule`] (the extension point: a sensitive-data scan, say, implements it and
//! is passed in [`CheckOptions::extra_rules`](crate::CheckOptions)). Rules are pure and
//! run in parallel, so they must be `Send + Sync` and keep no state between lines.

use std::collections::HashSet;
use std::fmt::Debug;

use serde_json::{Map, Value};

use crate::registry::TurnOrder;
use crate::targets::{Target, Weights};
use crate::{Code, Finding, Format, ModelInfo, Severity, image, schema, special};

/// One parsed example as the rules see it.
#[derive(Debug)]
pub struct LineContext<'a> {
    /// 1-based line number in the file.
    pub line: u64,
    pub value: &'a Value,
    pub format: Format,
    pub model: &'a ModelInfo,
    /// Where the model is trained (`openai`, `azure`): decides target-specific
    /// properties, such as whether it takes images.
    pub target: &'a str,
    /// The target's rules, when `--target` names one (see [`target_rules`]).
    pub rules: Option<&'a Target>,
}

impl LineContext<'_> {
    pub fn finding(&self, code: Code, message: impl Into<String>) -> Finding {
        Finding::new(Some(self.line), code, message)
    }
}

/// A family of per-example rules. Implementations push one [`Finding`] per problem.
pub trait LineRule: Send + Sync + Debug {
    fn check(&self, cx: &LineContext<'_>, out: &mut Vec<Finding>);
}

/// What a line is, from its top-level keys: `messages` → chat; `input`,
/// `preferred_output` or `non_preferred_output` → DPO; `prompt` or `completion` →
/// prompt/completion; anything else is taken as a (broken) chat line.
pub fn detect_format(v: &Value) -> Format {
    let Value::Object(m) = v else {
        return Format::Chat;
    };
    if m.contains_key("messages") {
        Format::Chat
    } else if ["input", "preferred_output", "non_preferred_output"]
        .iter()
        .any(|k| m.contains_key(*k))
    {
        Format::Dpo
    } else if m.contains_key("prompt") || m.contains_key("completion") {
        Format::Completion
    } else {
        Format::Chat
    }
}

/// Runs the built-in rules, the schema (on lines they passed) and `extra` rules.
pub fn check_example(
    cx: &LineContext<'_>,
    extra: &[std::sync::Arc<dyn LineRule>],
    out: &mut Vec<Finding>,
) {
    let start = out.len();
    let Value::Object(obj) = cx.value else {
        out.push(cx.finding(
            Code::DataType,
            format!(
                "The line is a JSON {}, not an object; write one object per line",
                kind_of(cx.value)
            ),
        ));
        return;
    };
    if let Some(t) = cx.rules.filter(|t| !t.openai_family()) {
        // Where the data goes decides the shapes; the model's own list is OpenAI's.
        if !t.takes(cx.format) {
            let takes: Vec<&str> = t.shapes.iter().map(|f| f.name()).collect();
            out.push(cx.finding(
                Code::FormatNotSupported,
                format!(
                    "Lines in {} format, which {} does not take (it takes {}); convert the file with `afinar convert --target {} --to {}`",
                    cx.format.describe(),
                    t.name,
                    takes.join(", "),
                    t.id,
                    t.shapes.first().map_or("chat", |f| f.name()),
                ),
            ));
        }
    } else if !cx.model.takes(cx.format) {
        // File-wide: the engine reports it once, with the count and the first lines.
        let takes: Vec<&str> = cx.model.formats.iter().map(|f| f.name()).collect();
        out.push(cx.finding(
            Code::FormatNotSupported,
            format!(
                "Lines in {} format, which `{}` does not take (it takes {}); convert the file with `afinar convert --to {}` or pick another --model",
                cx.format.describe(),
                cx.model.name,
                takes.join(", "),
                cx.model.formats.first().map_or("chat", |f| f.name()),
            ),
        ));
    }
    match cx.format {
        Format::Chat => chat_line(cx, obj, out),
        Format::Completion => completion_line(cx, obj, out),
        Format::Dpo => dpo_line(cx, obj, out),
        Format::Text => text_line(cx, obj, out),
    }
    if !out[start..].iter().any(Finding::is_error)
        && let Some((path, msg)) = schema::first_violation(cx.format, cx.value)
    {
        let at = if path.is_empty() {
            String::new()
        } else {
            format!(" at `{path}`")
        };
        out.push(cx.finding(
            Code::SchemaViolation,
            format!(
                "The line does not match the {} schema{at}: {msg}; see `afinar check --schema {}`",
                cx.format.name(),
                cx.format.name()
            ),
        ));
    }
    special::SpecialTokenRule.check(cx, out);
    for rule in extra {
        rule.check(cx, out);
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

const ROLES: [&str; 6] = [
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];
const MESSAGE_KEYS: [&str; 7] = [
    "role",
    "content",
    "name",
    "weight",
    "tool_calls",
    "tool_call_id",
    "function_call",
];

fn chat_line(cx: &LineContext<'_>, obj: &Map<String, Value>, out: &mut Vec<Finding>) {
    let messages = match obj.get("messages") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => {
            out.push(cx.finding(
                Code::MissingMessagesList,
                "`messages` is empty; add the conversation's messages",
            ));
            return;
        }
        Some(other) => {
            out.push(cx.finding(
                Code::MissingMessagesList,
                format!("`messages` is a {}, not a list; write `\"messages\": [{{\"role\": …, \"content\": …}}, …]`", kind_of(other)),
            ));
            return;
        }
        None => {
            out.push(cx.finding(
                Code::MissingMessagesList,
                "The line has no `messages` list; write `{\"messages\": [{\"role\": \"user\", \"content\": …}, …]}`",
            ));
            return;
        }
    };
    messages_rules(cx, messages, true, out);
}

/// Rules on a list of chat messages (a chat line, or a DPO input when `!need_assistant`).
fn messages_rules(
    cx: &LineContext<'_>,
    messages: &[Value],
    need_assistant: bool,
    out: &mut Vec<Finding>,
) {
    let mut tool_ids: HashSet<&str> = HashSet::new();
    let mut prev_role: Option<&str> = None;
    let mut prev_has_image = false;
    let mut conversation_started = false;
    let mut has_assistant = false;
    let mut has_image = false;
    for (i, m) in messages.iter().enumerate() {
        let n = i + 1;
        let Value::Object(m) = m else {
            out.push(cx.finding(
                Code::MessageMissingKey,
                format!(
                    "Message {n} is a {}, not an object with `role` and `content`",
                    kind_of(m)
                ),
            ));
            prev_role = None;
            continue;
        };
        let role = match m.get("role") {
            None => {
                out.push(cx.finding(
                    Code::MessageMissingKey,
                    format!(
                        "Message {n} has no `role`; add `\"role\": \"user\"` or `\"assistant\"`"
                    ),
                ));
                None
            }
            Some(Value::String(r)) if ROLES.contains(&r.as_str()) => Some(r.as_str()),
            Some(r) => {
                let shown = r.as_str().map_or_else(|| r.to_string(), str::to_owned);
                out.push(cx.finding(
                    Code::UnrecognizedRole,
                    format!("Message {n} has role `{shown}`; use system, developer, user, assistant or tool (`afinar convert --role-alias {shown}=user` maps it)"),
                ));
                None
            }
        };
        let assistant = role == Some("assistant");
        has_assistant |= assistant;
        let calls_tools =
            assistant && (m.contains_key("tool_calls") || m.contains_key("function_call"));

        for k in m.keys() {
            if !MESSAGE_KEYS.contains(&k.as_str()) {
                out.push(cx.finding(
                    Code::MessageUnrecognizedKey,
                    format!("Message {n} has key `{k}`, which the service does not take; remove it (allowed: {})", MESSAGE_KEYS.join(", ")),
                ));
            }
        }

        content_rules(cx, n, role, m.get("content"), calls_tools, out);
        let image_here = holds_image(m.get("content"));
        has_image |= image_here && role == Some("user");

        let any_weight = cx.rules.is_some_and(|t| t.weights == Weights::Any);
        if let Some(w) = m.get("weight") {
            if cx.rules.is_some_and(|t| t.integer_weights) && !(w.is_u64() || w.is_i64()) {
                out.push(cx.finding(
                    Code::InvalidWeight,
                    format!(
                        "Message {n} has weight `{w}`; {} takes only the integers 0 and 1",
                        cx.rules.map_or("the service", |t| t.name.as_str())
                    ),
                ));
            }
            if !assistant && role.is_some() && !any_weight {
                out.push(cx.finding(
                    Code::WeightNotOnAssistant,
                    format!(
                        "Message {n} ({}) has `weight`; only assistant messages take it, remove it",
                        role.unwrap_or("?")
                    ),
                ));
            }
            if !matches!(w.as_f64(), Some(x) if x == 0.0 || x == 1.0) {
                out.push(cx.finding(
                    Code::InvalidWeight,
                    format!("Message {n} has weight `{w}`; use 0 (do not train on it) or 1"),
                ));
            }
        }
        if let Some(name) = m.get("name")
            && !matches!(name, Value::String(s) if !s.trim().is_empty())
        {
            out.push(cx.finding(
                Code::InvalidName,
                format!("Message {n} has name `{name}`; use a non-empty string or remove it"),
            ));
        }
        if let Some(calls) = m.get("tool_calls") {
            tool_calls_rules(cx, n, assistant, role.is_some(), calls, &mut tool_ids, out);
        }
        if role == Some("tool") {
            match m.get("tool_call_id") {
                Some(Value::String(id)) if tool_ids.contains(id.as_str()) => {}
                Some(Value::String(id)) => out.push(cx.finding(
                    Code::InvalidToolMessage,
                    format!("Message {n} answers tool call `{id}`, which no earlier assistant message made; fix `tool_call_id`"),
                )),
                _ => out.push(cx.finding(
                    Code::InvalidToolMessage,
                    format!("Message {n} (tool) has no `tool_call_id`; set it to the `id` of the assistant's tool call it answers"),
                )),
            }
        }
        if role == Some("developer") && !cx.model.developer_role {
            // File-wide (one message per model, reported once with the lines).
            out.push(cx.finding(
                Code::DeveloperRoleUnsupported,
                format!(
                    "Messages with role `developer`, which `{}` does not take; use `system`",
                    cx.model.name
                ),
            ));
        }

        // Turn order: system/developer only before the conversation; two user or two
        // assistant turns in a row (tool results may sit between assistant turns) are an
        // error where the model's trainer needs alternation, else a warning, and nothing
        // for a user turn next to a user image turn (OpenAI's own vision example).
        match role {
            Some("system" | "developer") if conversation_started => out.push(cx.finding(
                Code::SystemNotFirst,
                format!(
                    "Message {n} ({}) comes after the conversation started; move it to the start",
                    role.unwrap_or("system")
                ),
            )),
            Some(r @ ("user" | "assistant")) if prev_role == Some(r) => {
                let prev = n - 1;
                let target_alternates = cx.rules.filter(|t| t.turn_order == TurnOrder::Alternate);
                let order = if target_alternates.is_some() {
                    TurnOrder::Alternate
                } else {
                    cx.model.turn_order
                };
                let who = target_alternates
                    .map_or_else(|| format!("`{}`", cx.model.name), |t| t.name.clone());
                match order {
                    TurnOrder::Alternate => out.push(
                        cx.finding(
                            Code::ConsecutiveTurns,
                            format!("Messages {prev} and {n} are both {r} turns, and {who} needs user and assistant turns to alternate; merge them or add the missing turn between them"),
                        )
                        .with_severity(Severity::Error),
                    ),
                    TurnOrder::Free if r == "user" && (image_here || prev_has_image) => {}
                    TurnOrder::Free => out.push(cx.finding(
                        Code::ConsecutiveTurns,
                        format!("Messages {prev} and {n} are both {r} turns; `{}` takes that, but check that no turn is missing between them", cx.model.name),
                    )),
                }
            }
            _ => {}
        }
        if matches!(role, Some(r) if r != "system" && r != "developer") {
            conversation_started = true;
        }
        prev_role = role;
        prev_has_image = image_here;
    }
    if has_image && !cx.model.takes_images(cx.target) {
        out.push(cx.finding(Code::ImagesNotSupported, images_not_supported(cx)));
    }
    if need_assistant && !has_assistant {
        out.push(cx.finding(
            Code::ExampleMissingAssistantMessage,
            "The example has no assistant message, so there is nothing to train on; add the reply with `\"role\": \"assistant\"`",
        ));
    }
}

fn content_rules(
    cx: &LineContext<'_>,
    n: usize,
    role: Option<&str>,
    content: Option<&Value>,
    calls_tools: bool,
    out: &mut Vec<Finding>,
) {
    match content {
        None if calls_tools => {}
        None => out.push(cx.finding(Code::MessageMissingKey, format!("Message {n} has no `content`; add the message text"))),
        Some(Value::Null) if calls_tools => {}
        Some(Value::String(s)) if s.is_empty() && calls_tools => {}
        Some(Value::Null) => out.push(cx.finding(Code::MissingContent, format!("Message {n} has `content` null; write the message text"))),
        Some(Value::String(s)) if s.is_empty() => {
            out.push(cx.finding(Code::MissingContent, format!("Message {n} has empty `content`; write the message text or remove the message")))
        }
        Some(Value::String(s)) if s.trim().is_empty() => out.push(cx.finding(
            Code::EmptyContent,
            format!("Message {n} has only whitespace in `content`; write the message text or remove the message"),
        )),
        Some(Value::String(_)) => {}
        Some(Value::Array(parts)) if parts.is_empty() => {
            out.push(cx.finding(Code::MissingContent, format!("Message {n} has an empty content list; add a text part")))
        }
        Some(Value::Array(parts)) => {
            for (j, p) in parts.iter().enumerate() {
                if let Some((code, problem)) = content_part_problem(p, role) {
                    out.push(cx.finding(code, format!("Message {n}, content part {}: {problem}", j + 1)));
                }
            }
        }
        Some(other) => out.push(cx.finding(
            Code::MissingContent,
            format!("Message {n} has `content` of type {}; make it a string", kind_of(other)),
        )),
    }
}

fn content_part_problem(p: &Value, role: Option<&str>) -> Option<(Code, String)> {
    let part = |msg: String| Some((Code::InvalidContentPart, msg));
    let Value::Object(p) = p else {
        return part(format!(
            "a {} is not a content part; use `{{\"type\": \"text\", \"text\": …}}`",
            kind_of(p)
        ));
    };
    match p.get("type").and_then(Value::as_str) {
        Some("text") => match p.get("text") {
            Some(Value::String(t)) if !t.trim().is_empty() => None,
            Some(Value::String(_)) => part("the text is empty; write it or remove the part".into()),
            _ => part("a text part needs `text` as a string".into()),
        },
        Some("image_url") if role == Some("user") => {
            match p.get("image_url").and_then(|u| u.get("url")) {
                Some(Value::String(u)) if !u.is_empty() => {
                    image::url_problem(u).map(|m| (Code::InvalidImage, m))
                }
                _ => part("an image part needs `image_url: {\"url\": …}`".into()),
            }
        }
        Some("image_url") => {
            part("images are only taken in user messages; move it to a user message".into())
        }
        Some(other) => part(format!(
            "type `{other}` is not taken; use `text` (or `image_url` in user messages)"
        )),
        None => part("the part has no `type`; use `text` or `image_url`".into()),
    }
}

/// Whether a message's content list holds an image part.
fn holds_image(content: Option<&Value>) -> bool {
    content.and_then(Value::as_array).is_some_and(|parts| {
        parts
            .iter()
            .any(|p| p.get("type").and_then(Value::as_str) == Some("image_url"))
    })
}

/// File-wide: the same message for every line, so the engine reports it once.
fn images_not_supported(cx: &LineContext<'_>) -> String {
    let takes = if cx.model.vision.is_empty() {
        String::new()
    } else {
        let at: Vec<String> = cx.model.vision.iter().map(|t| format!("`{t}`")).collect();
        format!(" (it does on {})", at.join(", "))
    };
    format!(
        "Images in user messages, but `{}` is not fine-tuned with images on `{}`{takes}; on OpenAI only gpt-4o-2024-08-06 is (on Azure also gpt-4.1-2025-04-14). Remove the image parts or pick --model gpt-4o-2024-08-06",
        cx.model.name, cx.target
    )
}

fn tool_calls_rules<'v>(
    cx: &LineContext<'_>,
    n: usize,
    assistant: bool,
    known_role: bool,
    calls: &'v Value,
    ids: &mut HashSet<&'v str>,
    out: &mut Vec<Finding>,
) {
    if !assistant && known_role {
        out.push(cx.finding(
            Code::InvalidToolCalls,
            format!(
                "Message {n} has `tool_calls`, which only assistant messages make; remove them"
            ),
        ));
        return;
    }
    let Some(list) = calls.as_array().filter(|a| !a.is_empty()) else {
        out.push(cx.finding(
            Code::InvalidToolCalls,
            format!("Message {n} has `tool_calls` that is not a non-empty list"),
        ));
        return;
    };
    for (j, call) in list.iter().enumerate() {
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let fname = call
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let args_ok = call
            .get("function")
            .and_then(|f| f.get("arguments"))
            .is_some_and(Value::is_string);
        let type_ok = call.get("type").and_then(Value::as_str) == Some("function");
        match (id, fname, args_ok, type_ok) {
            (Some(id), Some(_), true, true) => {
                ids.insert(id);
            }
            _ => out.push(cx.finding(
                Code::InvalidToolCalls,
                format!(
                    "Message {n}, tool call {}: write it as `{{\"id\": …, \"type\": \"function\", \"function\": {{\"name\": …, \"arguments\": \"<JSON text>\"}}}}`",
                    j + 1
                ),
            )),
        }
    }
}

const COMPLETION_KEYS: [&str; 2] = ["prompt", "completion"];

fn completion_line(cx: &LineContext<'_>, obj: &Map<String, Value>, out: &mut Vec<Finding>) {
    for (key, missing, not_string) in [
        ("prompt", Code::MissingPrompt, Code::PromptNotString),
        (
            "completion",
            Code::MissingCompletion,
            Code::CompletionNotString,
        ),
    ] {
        match obj.get(key) {
            None => out.push(cx.finding(
                missing,
                format!("The line has no `{key}`; add it as a string"),
            )),
            Some(Value::String(s)) if s.trim().is_empty() => out.push(cx.finding(
                Code::EmptyContent,
                format!("`{key}` is empty or only whitespace; write the text or remove the line"),
            )),
            Some(Value::String(_)) => {}
            Some(v) => out.push(cx.finding(
                not_string,
                format!("`{key}` is a {}; make it a string", kind_of(v)),
            )),
        }
    }
    for k in obj.keys() {
        if !COMPLETION_KEYS.contains(&k.as_str()) {
            out.push(cx.finding(
                Code::UnrecognizedKey,
                format!("The line has key `{k}`; prompt/completion lines take only `prompt` and `completion`"),
            ));
        }
    }
}

/// A `{"text": …}` line and nothing else: Together's general format, TRL's language
/// modeling format.
pub fn is_text_line(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.contains_key("text") && !o.contains_key("messages") && !o.contains_key("prompt")
    })
}

fn text_line(cx: &LineContext<'_>, obj: &Map<String, Value>, out: &mut Vec<Finding>) {
    match obj.get("text") {
        Some(Value::String(s)) if s.trim().is_empty() => out.push(cx.finding(
            Code::EmptyContent,
            "`text` is empty or only whitespace; write the text or remove the line",
        )),
        Some(Value::String(_)) => {}
        Some(v) => out.push(cx.finding(
            Code::PromptNotString,
            format!("`text` is a {}; make it a string", kind_of(v)),
        )),
        None => {}
    }
    for k in obj.keys().filter(|k| *k != "text") {
        out.push(cx.finding(
            Code::UnrecognizedKey,
            format!("The line has key `{k}`; text lines take only `text`"),
        ));
    }
}

/// The rules of a target that is not OpenAI's (`--target together`, `vertex`…), on the
/// line in OpenAI's shape: the roles it takes, tools and system prompts, the first turn,
/// reserved keywords, exact keys and per-message weights.
pub fn target_rules(cx: &LineContext<'_>, t: &Target, out: &mut Vec<Finding>) {
    if t.openai_family() {
        return;
    }
    let Value::Object(obj) = cx.value else {
        return;
    };
    if t.exact_keys && cx.format == Format::Chat {
        for k in obj.keys().filter(|k| *k != "messages") {
            out.push(cx.finding(
                Code::UnrecognizedKey,
                format!(
                    "The line has key `{k}`; {} takes only `messages` in chat lines",
                    t.name
                ),
            ));
        }
    }
    if !t.tools && obj.contains_key("tools") {
        out.push(cx.finding(
            Code::FeatureNotSupported,
            format!(
                "The line has `tools`; {} does not train on tool calls, remove them",
                t.name
            ),
        ));
    }
    let lists: Vec<&Vec<Value>> = [
        obj.get("messages"),
        obj.get("input").and_then(|i| i.get("messages")),
        obj.get("preferred_output"),
        obj.get("non_preferred_output"),
    ]
    .into_iter()
    .flatten()
    .filter_map(Value::as_array)
    .collect();
    for (li, list) in lists.iter().enumerate() {
        let mut prev: Option<&str> = None;
        let mut first_turn = true;
        for (i, m) in list.iter().enumerate() {
            let n = i + 1;
            let Some(role) = m.get("role").and_then(Value::as_str) else {
                continue;
            };
            match role.parse::<afinar_core::Role>() {
                Ok(r) if !t.takes_role(r) => out.push(cx.finding(
                    Code::RoleNotSupported,
                    format!(
                        "Message {n} has role `{role}`, which {} does not take (it takes {})",
                        t.name,
                        t.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )),
                _ => {}
            }
            if !t.tools && (m.get("tool_calls").is_some() || m.get("function_call").is_some()) {
                out.push(cx.finding(
                    Code::FeatureNotSupported,
                    format!(
                        "Message {n} calls tools; {} does not train on tool calls",
                        t.name
                    ),
                ));
            }
            if t.weights == Weights::None && m.get("weight").and_then(Value::as_f64) == Some(0.0) {
                out.push(cx.finding(
                    Code::FeatureNotSupported,
                    format!(
                        "Message {n} has weight 0; {} trains on every assistant turn, so remove the message or its weight",
                        t.name
                    ),
                ));
            }
            if role == "system" && t.turn_order == TurnOrder::Alternate && prev == Some("system") {
                out.push(
                    cx.finding(
                        Code::ConsecutiveTurns,
                        format!("Messages {} and {n} are both system messages, and {} needs one system message, then alternating turns; merge them", n - 1, t.name),
                    )
                    .with_severity(Severity::Error),
                );
            }
            let instruction = matches!(role, "system" | "developer");
            // Only the conversation itself (not a DPO reply list) starts with a user turn.
            if t.first_turn_user && li == 0 && first_turn && !instruction {
                first_turn = false;
                if role != "user" {
                    out.push(cx.finding(
                        Code::FirstTurnNotUser,
                        format!("Message {n} is the first turn and is the {role}'s; {} needs the conversation to start with a user turn", t.name),
                    ));
                }
            }
            if !t.reserved.is_empty() && matches!(role, "user" | "system") {
                let text = m.get("content").map(content_text).unwrap_or_default();
                if let Some(word) = t.reserved.iter().find(|w| text.contains(w.as_str())) {
                    out.push(cx.finding(
                        Code::ReservedKeyword,
                        format!("Message {n} ({role}) holds `{word}`, a keyword {} reserves (the job fails on it); reword it", t.name),
                    ));
                }
            }
            prev = Some(role);
        }
    }
}

/// The text of a message's content: the string, or its text parts joined.
fn content_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn dpo_line(cx: &LineContext<'_>, obj: &Map<String, Value>, out: &mut Vec<Finding>) {
    match obj.get("input").and_then(|i| i.get("messages")) {
        Some(Value::Array(msgs)) if !msgs.is_empty() => {
            messages_rules(cx, msgs, false, out);
            let last_role = msgs.last().and_then(|m| m.get("role")).and_then(Value::as_str);
            if last_role == Some("assistant") {
                out.push(cx.finding(
                    Code::InvalidDpo,
                    "`input.messages` ends with an assistant message; the replies belong in `preferred_output` and `non_preferred_output`",
                ));
            }
        }
        _ => out.push(cx.finding(
            Code::InvalidDpo,
            "The line has no `input.messages` list; write `\"input\": {\"messages\": [{\"role\": \"user\", \"content\": …}]}`",
        )),
    }
    for key in ["preferred_output", "non_preferred_output"] {
        let ok = match obj.get(key) {
            Some(Value::Array(a)) if a.len() == 1 => {
                let m = &a[0];
                let role_ok = m.get("role").and_then(Value::as_str) == Some("assistant");
                let content = m.get("content").and_then(Value::as_str);
                if role_ok && content.is_some_and(|c| c.trim().is_empty()) {
                    out.push(cx.finding(
                        Code::EmptyContent,
                        format!("The reply in `{key}` is empty or only whitespace; write it"),
                    ));
                    true
                } else {
                    role_ok && (content.is_some() || m.get("tool_calls").is_some())
                }
            }
            _ => false,
        };
        if !ok {
            out.push(cx.finding(
                Code::InvalidDpo,
                format!("`{key}` must be a list of one assistant message: `[{{\"role\": \"assistant\", \"content\": …}}]`"),
            ));
        }
    }
    for k in obj.keys() {
        if !["input", "preferred_output", "non_preferred_output"].contains(&k.as_str()) {
            out.push(cx.finding(
                Code::InvalidDpo,
                format!("The line has key `{k}`; DPO lines take `input`, `preferred_output` and `non_preferred_output`"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Registry;

    fn findings_for(v: &Value, model: &ModelInfo, target: &str) -> Vec<Finding> {
        let cx = LineContext {
            line: 7,
            format: detect_format(v),
            value: v,
            model,
            target,
            rules: None,
        };
        let mut out = Vec::new();
        check_example(&cx, &[], &mut out);
        assert!(out.iter().all(|f| f.line == Some(7)));
        out
    }

    fn codes_at(v: Value, model: &str, target: &str) -> Vec<&'static str> {
        let model = Registry::builtin().lookup(model).cloned().unwrap();
        findings_for(&v, &model, target)
            .iter()
            .map(|f| f.code.as_str())
            .collect()
    }

    fn codes_for(v: Value, model: &str) -> Vec<&'static str> {
        codes_at(v, model, "openai")
    }

    /// OpenAI's vision fine-tuning example: a text turn, then an image turn, both user.
    fn vision_example(url: &str) -> Value {
        json!({"messages": [
            {"role": "system", "content": "You are an assistant that identifies and describes artworks."},
            {"role": "user", "content": "Describe this artwork."},
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url, "detail": "high"}}]},
            {"role": "assistant", "content": "A painting of a starry night."}]})
    }

    #[test]
    fn consecutive_turns_follow_the_models_turn_order() {
        let u = json!({"role": "user", "content": "q"});
        let a = json!({"role": "assistant", "content": "a"});
        let two_users = json!({"messages": [u, u, a]});
        let two_answers = json!({"messages": [u, a, a]});
        let openai = Registry::builtin().lookup("gpt-4o-mini").cloned().unwrap();
        for v in [&two_users, &two_answers] {
            let f = findings_for(v, &openai, "openai");
            assert_eq!(f.len(), 1, "{v}");
            assert_eq!(f[0].code, Code::ConsecutiveTurns);
            assert_eq!(f[0].severity(), Severity::Warning, "{}", f[0].message);
        }
        // The documented text-then-image pattern is not even a warning.
        let v = vision_example("https://exemplo.com.br/quadro.png");
        assert_eq!(
            findings_for(
                &v,
                &Registry::builtin()
                    .lookup("gpt-4o-2024-08-06")
                    .cloned()
                    .unwrap(),
                "openai"
            ),
            vec![]
        );
        // Where the trainer needs alternation (a registry entry says so), it is an error.
        let mut alt = openai.clone();
        alt.name = "alternating".into();
        alt.turn_order = TurnOrder::Alternate;
        alt.vision = vec!["openai".into()];
        for v in [&two_users, &two_answers, &v] {
            let f = findings_for(v, &alt, "openai");
            assert_eq!(f.len(), 1, "{v}");
            assert_eq!(
                (f[0].code, f[0].severity()),
                (Code::ConsecutiveTurns, Severity::Error)
            );
            assert!(
                f[0].message
                    .contains("`alternating` needs user and assistant turns to alternate"),
                "{}",
                f[0].message
            );
        }
    }

    #[test]
    fn images_only_for_models_fine_tuned_with_them() {
        let v = vision_example("https://exemplo.com.br/quadro.png");
        assert_eq!(
            codes_for(v.clone(), "gpt-4o-2024-08-06"),
            Vec::<&str>::new()
        );
        assert_eq!(
            codes_at(v.clone(), "gpt-4o-2024-08-06", "azure"),
            Vec::<&str>::new()
        );
        assert_eq!(
            codes_at(v.clone(), "gpt-4.1-2025-04-14", "azure"),
            Vec::<&str>::new()
        );
        assert_eq!(
            codes_for(v.clone(), "gpt-4.1-2025-04-14"),
            vec!["images_not_supported"]
        );
        assert_eq!(
            codes_for(v.clone(), "gpt-4o-mini"),
            vec!["images_not_supported"]
        );
        // Once per line, however many images.
        let two = json!({"messages": [
            {"role": "user", "content": [{"type": "text", "text": "Compare"},
                {"type": "image_url", "image_url": {"url": "https://a.com.br/1.png"}},
                {"type": "image_url", "image_url": {"url": "https://a.com.br/2.png"}}]},
            {"role": "assistant", "content": "Iguais."}]});
        assert_eq!(codes_for(two, "gpt-4.1-mini"), vec!["images_not_supported"]);
        let model = Registry::builtin().lookup("gpt-4.1").cloned().unwrap();
        let f = findings_for(&v, &model, "openai");
        assert!(
            f[0].message.contains("(it does on `azure`)"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn image_urls_must_be_https_or_a_jpeg_png_webp_data_uri() {
        let gif = "data:image/gif;base64,R0lGODlhAQABAAAAACw=";
        for (url, code) in [
            ("http://exemplo.com.br/quadro.png", "invalid_image"),
            (gif, "invalid_image"),
            ("data:image/png;base64,%%%", "invalid_image"),
            ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==", ""),
        ] {
            let got = codes_for(vision_example(url), "gpt-4o-2024-08-06");
            let expected: Vec<&str> = if code.is_empty() { vec![] } else { vec![code] };
            assert_eq!(got, expected, "{url}");
        }
        let model = Registry::builtin().lookup("gpt-4o").cloned().unwrap();
        let f = findings_for(&vision_example(gif), &model, "openai");
        assert!(
            f[0].message
                .starts_with("Message 3, content part 1: GIF images are not taken"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn special_tokens_are_errors_naming_the_token_and_the_field() {
        let v = json!({"messages": [
            {"role": "user", "content": "Fim <|endoftext|> do texto"},
            {"role": "assistant", "content": [{"type": "text", "text": "a <|fim_prefix|> b <|im_start|>"}]}]});
        let model = Registry::builtin()
            .lookup("gpt-3.5-turbo")
            .cloned()
            .unwrap();
        let f = findings_for(&v, &model, "openai");
        let got: Vec<(&str, &str)> = f
            .iter()
            .map(|f| (f.code.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|(c, _)| *c == "special_token"));
        assert!(
            got[0].1.starts_with(
                "`messages[0].content` holds `<|endoftext|>`, a special token of `cl100k_base`"
            ),
            "{}",
            got[0].1
        );
        assert!(got[1].1.starts_with("`messages[1].content[0].text` holds `<|fim_prefix|>`, `<|im_start|>`, special tokens of `cl100k_base` or of the chat markup"), "{}", got[1].1);
        // `<|fim_prefix|>` is ordinary text for o200k_base; completion and DPO lines too.
        let v = json!({"prompt": "a <|fim_prefix|>", "completion": " b <|endofprompt|>"});
        assert_eq!(
            codes_for(v.clone(), "davinci-002"),
            vec!["special_token", "special_token"]
        );
        let model = Registry::builtin().lookup("gpt-4o").cloned().unwrap();
        let dpo = json!({"input": {"messages": [{"role": "user", "content": "q <|fim_prefix|>"}]},
                         "preferred_output": [{"role": "assistant", "content": "a"}],
                         "non_preferred_output": [{"role": "assistant", "content": "<|endoftext|>"}]});
        let f = findings_for(&dpo, &model, "openai");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].message
                .starts_with("`non_preferred_output[0].content` holds `<|endoftext|>`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn a_good_chat_line_passes() {
        let v = json!({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
                                    {"role": "assistant", "content": "a", "weight": 1}]});
        assert_eq!(codes_for(v, "gpt-4o-mini"), Vec::<&str>::new());
    }

    #[test]
    fn each_chat_rule_fires() {
        let m = |msgs: Value| json!({ "messages": msgs });
        let a = json!({"role": "assistant", "content": "a"});
        let u = json!({"role": "user", "content": "q"});
        let cases: Vec<(Value, &str)> = vec![
            (json!([1]), "data_type"),
            (json!({"msgs": []}), "missing_messages_list"),
            (m(json!([u, {"content": "x"}, a])), "message_missing_key"),
            (
                m(json!([u, {"role": "assistant", "content": "a", "extra": 1}])),
                "message_unrecognized_key",
            ),
            (
                m(json!([{"role": "human", "content": "q"}, a])),
                "unrecognized_role",
            ),
            (
                m(json!([u, {"role": "assistant", "content": null}])),
                "missing_content",
            ),
            (
                m(json!([u, {"role": "assistant", "content": "  \n"}])),
                "empty_content",
            ),
            (m(json!([u])), "example_missing_assistant_message"),
            (
                m(json!([u, {"role": "assistant", "content": "a", "weight": 2}])),
                "invalid_weight",
            ),
            (
                m(json!([{"role": "user", "content": "q", "weight": 0}, a])),
                "weight_not_on_assistant",
            ),
            (
                m(json!([{"role": "user", "content": "q", "name": ""}, a])),
                "invalid_name",
            ),
            (
                m(json!([{"role": "user", "content": [{"type": "audio"}]}, a])),
                "invalid_content_part",
            ),
            (
                m(json!([u, {"role": "assistant", "tool_calls": [{"id": "x"}]}])),
                "invalid_tool_calls",
            ),
            (
                m(json!([u, {"role": "tool", "content": "r", "tool_call_id": "nope"}, a])),
                "invalid_tool_message",
            ),
            (m(json!([u, u, a])), "consecutive_turns"),
            (
                m(json!([u, {"role": "system", "content": "s"}, a])),
                "system_not_first",
            ),
        ];
        for (v, code) in cases {
            assert_eq!(codes_for(v.clone(), "gpt-4o-mini"), vec![code], "{v}");
        }
    }

    #[test]
    fn developer_role_depends_on_the_model() {
        let v = json!({"messages": [{"role": "developer", "content": "d"}, {"role": "user", "content": "q"},
                                    {"role": "assistant", "content": "a"}]});
        assert_eq!(codes_for(v.clone(), "gpt-4.1"), Vec::<&str>::new());
        assert_eq!(
            codes_for(v, "gpt-3.5-turbo"),
            vec!["developer_role_unsupported"]
        );
    }

    #[test]
    fn tool_conversations_pass() {
        let v = json!({"messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
            {"role": "assistant", "content": "a"}]});
        assert_eq!(codes_for(v, "gpt-4o"), Vec::<&str>::new());
    }

    #[test]
    fn completion_and_dpo_rules() {
        assert_eq!(
            codes_for(json!({"prompt": "p", "completion": "c"}), "davinci-002"),
            Vec::<&str>::new()
        );
        assert_eq!(
            codes_for(json!({"prompt": "p", "completion": "c"}), "gpt-4o"),
            vec!["format_not_supported"]
        );
        assert_eq!(
            codes_for(json!({"prompt": "p"}), "davinci-002"),
            vec!["missing_completion"]
        );
        assert_eq!(
            codes_for(json!({"completion": "c"}), "davinci-002"),
            vec!["missing_prompt"]
        );
        assert_eq!(
            codes_for(json!({"prompt": 1, "completion": "c"}), "davinci-002"),
            vec!["prompt_not_string"]
        );
        assert_eq!(
            codes_for(json!({"prompt": "p", "completion": ["c"]}), "davinci-002"),
            vec!["completion_not_string"]
        );
        assert_eq!(
            codes_for(
                json!({"prompt": "p", "completion": "c", "x": 1}),
                "davinci-002"
            ),
            vec!["unrecognized_key"]
        );
        assert_eq!(
            codes_for(json!({"prompt": "p", "completion": " "}), "davinci-002"),
            vec!["empty_content"]
        );
        let good = json!({"input": {"messages": [{"role": "user", "content": "q"}]},
                          "preferred_output": [{"role": "assistant", "content": "a"}],
                          "non_preferred_output": [{"role": "assistant", "content": "b"}]});
        assert_eq!(codes_for(good, "gpt-4o"), Vec::<&str>::new());
        let bad = json!({"input": {"messages": [{"role": "user", "content": "q"}]},
                         "preferred_output": {"role": "assistant", "content": "a"},
                         "non_preferred_output": [{"role": "assistant", "content": "b"}]});
        assert_eq!(codes_for(bad, "gpt-4o"), vec!["invalid_dpo"]);
        let dpo = json!({"input": {"messages": [{"role": "user", "content": "q"}]},
                          "preferred_output": [{"role": "assistant", "content": "a"}],
                          "non_preferred_output": [{"role": "assistant", "content": "b"}]});
        assert_eq!(
            codes_for(dpo, "gpt-3.5-turbo"),
            vec!["format_not_supported"]
        );
    }

    #[test]
    fn the_schema_catches_what_the_rules_do_not_name() {
        let v = json!({"messages": [{"role": "user", "content": "q"},
                                    {"role": "assistant", "content": "a", "function_call": {"name": 3}}]});
        assert_eq!(codes_for(v, "gpt-4o"), vec!["schema_violation"]);
    }

    #[derive(Debug)]
    struct NoCpf;
    impl LineRule for NoCpf {
        fn check(&self, cx: &LineContext<'_>, out: &mut Vec<Finding>) {
            if cx.value.to_string().contains("123.456.789-09") {
                out.push(cx.finding(
                    Code::DuplicateExample,
                    "stand-in for a sensitive-data warning",
                ));
            }
        }
    }

    #[test]
    fn extra_rules_run_after_the_built_in_ones() {
        let model = Registry::builtin().lookup("gpt-4o").cloned().unwrap();
        let v = json!({"messages": [{"role": "user", "content": "CPF 123.456.789-09"}, {"role": "assistant", "content": "a"}]});
        let cx = LineContext {
            line: 1,
            format: Format::Chat,
            value: &v,
            model: &model,
            target: "openai",
            rules: None,
        };
        let mut out = Vec::new();
        check_example(&cx, &[std::sync::Arc::new(NoCpf)], &mut out);
        assert_eq!(out.len(), 1);
    }
}
