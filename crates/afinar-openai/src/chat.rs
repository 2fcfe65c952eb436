//! Chat Completions (`POST /chat/completions`), for scoring a model's answers: the one
//! request that OpenAI, Azure OpenAI and the OpenAI-compatible servers (Together,
//! Fireworks, vLLM, Ollama, llama.cpp) all take.

use serde_json::{Map, Value, json};

use crate::client::Client;
use crate::config::{Provider, encode_segment};
use crate::error::Error;
use crate::transport::{Body, Method};

/// A model's answer to one chat request.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatCompletion {
    /// The first choice's text (empty when the model only called tools or refused
    /// without text).
    pub content: String,
    /// `stop`, `length` (cut at the token limit), `content_filter`…
    pub finish_reason: Option<String>,
    /// The model that answered, as the service names it.
    pub model: Option<String>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
}

impl Client {
    /// Asks `model` for the next assistant turn after `messages` (a JSON array of
    /// `{role, content}`); `parameters` (`temperature`, `max_tokens`, `seed`…) go into the
    /// body as they are. On Azure `model` is the deployment's name. Retried like every
    /// request.
    pub fn chat_completion(
        &self,
        model: &str,
        messages: &Value,
        parameters: &Map<String, Value>,
    ) -> Result<ChatCompletion, Error> {
        let mut body = Map::new();
        body.insert("model".into(), json!(model));
        body.insert("messages".into(), messages.clone());
        for (k, v) in parameters {
            body.insert(k.clone(), v.clone());
        }
        let config = self.config();
        // The dated Azure API addresses the deployment in the path.
        let path = match (config.provider, &config.api_version) {
            (Provider::Azure, Some(_)) => {
                format!("/deployments/{}/chat/completions", encode_segment(model))
            }
            _ => "/chat/completions".to_owned(),
        };
        let what = || format!("Asking `{model}`");
        let bytes = serde_json::to_vec(&Value::Object(body)).map_err(|source| Error::Decode {
            what: what(),
            source,
        })?;
        let answer = self.transport.send(
            Method::Post,
            &config.url(&path, &[]),
            &Body::Json(bytes),
            &what,
        )?;
        let value: Value = serde_json::from_slice(&answer).map_err(|source| Error::Decode {
            what: what(),
            source,
        })?;
        parse(&value).ok_or_else(|| Error::Decode {
            what: what(),
            source: serde::de::Error::missing_field("choices"),
        })
    }
}

/// The first choice of a completion; `None` when there is none.
fn parse(value: &Value) -> Option<ChatCompletion> {
    let choice = value.get("choices")?.as_array()?.first()?;
    let message = choice.get("message")?;
    let content = match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        // Content parts: the text ones, joined.
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    };
    let usage = value.get("usage");
    let count = |name: &str| usage.and_then(|u| u.get(name)).and_then(Value::as_u64);
    Some(ChatCompletion {
        content,
        finish_reason: choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .map(str::to_owned),
        model: value
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_owned),
        prompt_tokens: count("prompt_tokens"),
        completion_tokens: count("completion_tokens"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strings_parts_and_nulls() {
        let v = json!({"model": "m", "choices": [{"message": {"role": "assistant", "content": "Olá"},
                       "finish_reason": "stop"}], "usage": {"prompt_tokens": 9, "completion_tokens": 2}});
        let c = parse(&v).unwrap();
        assert_eq!(
            (c.content.as_str(), c.prompt_tokens, c.completion_tokens),
            ("Olá", Some(9), Some(2))
        );
        assert_eq!(c.finish_reason.as_deref(), Some("stop"));
        let v = json!({"choices": [{"message": {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}}]});
        assert_eq!(parse(&v).unwrap().content, "ab");
        let v = json!({"choices": [{"message": {"content": null, "tool_calls": []}}]});
        assert_eq!(parse(&v).unwrap().content, "");
        assert_eq!(parse(&json!({"choices": []})), None);
        assert_eq!(parse(&json!({"error": "x"})), None);
    }
}
