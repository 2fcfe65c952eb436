//! The bundled JSON Schemas of the line formats, applied with the `jsonschema` crate.
//!
//! The hand-written [`rules`](crate::rules) name most problems with a precise code; the
//! schema runs on lines those rules passed and reports anything else as
//! `schema_violation`, so the schemas users get from `afinar check --schema` and the
//! checks afinar runs never disagree silently.

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

use crate::Format;

/// The schema text for a format, as printed by `afinar check --schema FORMAT`.
pub fn text(format: Format) -> &'static str {
    match format {
        Format::Chat => include_str!("schemas/chat.schema.json"),
        Format::Completion => include_str!("schemas/completion.schema.json"),
        Format::Dpo => include_str!("schemas/dpo.schema.json"),
        Format::Text => include_str!("schemas/text.schema.json"),
    }
}

fn validator(format: Format) -> &'static Validator {
    static CELLS: [OnceLock<Validator>; 4] = [const { OnceLock::new() }; 4];
    let i = [Format::Chat, Format::Completion, Format::Dpo, Format::Text]
        .iter()
        .position(|f| *f == format)
        .unwrap_or(0);
    CELLS[i].get_or_init(|| {
        // The bundled schemas are checked by a unit test, so building cannot fail.
        #[allow(clippy::expect_used)]
        let schema: Value = serde_json::from_str(text(format)).expect("bundled schema parses");
        #[allow(clippy::expect_used)]
        jsonschema::validator_for(&schema).expect("bundled schema compiles")
    })
}

/// The schema of a target dialect's lines, where it differs from OpenAI's (Vertex AI,
/// Bedrock): written from each service's documentation, as `afinar check --schema`
/// prints it.
pub fn dialect_text(dialect: crate::Dialect) -> Option<&'static str> {
    match dialect {
        crate::Dialect::Vertex => Some(include_str!("schemas/vertex.schema.json")),
        crate::Dialect::Bedrock => Some(include_str!("schemas/bedrock.schema.json")),
        _ => None,
    }
}

/// The first way `value` breaks the schema of `dialect` (see [`dialect_text`]), as
/// `(path, message)`; `None` when it holds or the dialect has no schema of its own.
pub fn dialect_violation(dialect: crate::Dialect, value: &Value) -> Option<(String, String)> {
    static CELLS: [OnceLock<Option<Validator>>; 2] = [const { OnceLock::new() }; 2];
    let i = match dialect {
        crate::Dialect::Vertex => 0,
        crate::Dialect::Bedrock => 1,
        _ => return None,
    };
    let v = CELLS[i]
        .get_or_init(|| {
            let schema: Value = serde_json::from_str(dialect_text(dialect)?).ok()?;
            jsonschema::validator_for(&schema).ok()
        })
        .as_ref()?;
    if v.is_valid(value) {
        return None;
    }
    v.validate(value)
        .err()
        .map(|e| (e.instance_path().to_string(), e.to_string()))
}

/// The first way `value` breaks the schema of `format`, as `(path, message)`.
pub fn first_violation(format: Format, value: &Value) -> Option<(String, String)> {
    let v = validator(format);
    if v.is_valid(value) {
        return None;
    }
    v.validate(value)
        .err()
        .map(|e| (e.instance_path().to_string(), e.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bundled_schemas_compile_and_accept_good_lines() {
        let chat = json!({"messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": [{"type": "text", "text": "q"},
                                          {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
            {"role": "assistant", "content": "a", "weight": 1}
        ]});
        assert_eq!(first_violation(Format::Chat, &chat), None);
        let pc = json!({"prompt": "p", "completion": "c"});
        assert_eq!(first_violation(Format::Completion, &pc), None);
        let dpo = json!({"input": {"messages": [{"role": "user", "content": "q"}]},
                         "preferred_output": [{"role": "assistant", "content": "a"}],
                         "non_preferred_output": [{"role": "assistant", "content": "b"}]});
        assert_eq!(first_violation(Format::Dpo, &dpo), None);
    }

    #[test]
    fn dialect_schemas_compile_and_tell_good_from_bad() {
        use crate::Dialect;
        for d in [Dialect::Vertex, Dialect::Bedrock] {
            let text = dialect_text(d).unwrap();
            let schema: Value = serde_json::from_str(text).unwrap();
            assert!(jsonschema::validator_for(&schema).is_ok(), "{d}");
        }
        let vertex = json!({"systemInstruction": {"parts": [{"text": "s"}]},
            "contents": [{"role": "user", "parts": [{"text": "q"}]},
                         {"role": "model", "parts": [{"text": "a"}]}]});
        assert_eq!(dialect_violation(Dialect::Vertex, &vertex), None);
        let assistant = json!({"contents": [{"role": "user", "parts": [{"text": "q"}]},
                         {"role": "assistant", "parts": [{"text": "a"}]}]});
        assert_eq!(
            dialect_violation(Dialect::Vertex, &assistant).unwrap().0,
            "/contents/1/role"
        );
        let bedrock = json!({"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "s"}],
            "messages": [{"role": "user", "content": [{"text": "q"}]},
                         {"role": "assistant", "content": [{"text": "a"}]}]});
        assert_eq!(dialect_violation(Dialect::Bedrock, &bedrock), None);
        assert_eq!(
            dialect_violation(Dialect::Bedrock, &json!({"prompt": "p", "completion": "c"})),
            None
        );
        let model_first = json!({"schemaVersion": "x",
            "messages": [{"role": "assistant", "content": [{"text": "a"}]},
                         {"role": "user", "content": [{"text": "q"}]}]});
        assert!(dialect_violation(Dialect::Bedrock, &model_first).is_some());
        assert_eq!(dialect_violation(Dialect::Openai, &json!({})), None);
    }

    #[test]
    fn schemas_reject_bad_lines() {
        let bad = json!({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 2}]});
        let (path, _) = first_violation(Format::Chat, &bad).unwrap();
        assert_eq!(path, "/messages/1/weight");
        assert!(
            first_violation(Format::Completion, &json!({"prompt": 1, "completion": "c"})).is_some()
        );
        assert!(first_violation(Format::Dpo, &json!({"input": {}})).is_some());
    }
}
