//! The key an answer is cached under: a SHA-256 over where it was asked, the model, the
//! messages and the request's parameters, so a rerun (or a baseline added later) asks
//! nothing twice, and changing any of those asks again.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Bumped when the meaning of a cached answer changes.
const VERSION: u32 = 1;

/// Lower-case hex SHA-256 of `[version, service, model, messages, parameters]` as
/// compact JSON (keys in the order given).
pub fn key(service: &str, model: &str, messages: &Value, parameters: &Value) -> String {
    let canonical = json!([VERSION, service, model, messages, parameters]).to_string();
    let digest = Sha256::digest(canonical.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_changes_the_key() {
        let m = json!([{"role": "user", "content": "Qual o limite?"}]);
        let p = json!({"temperature": 0});
        let k = key("https://api.openai.com/v1", "gpt-4.1-mini", &m, &p);
        assert_eq!(k.len(), 64);
        assert_eq!(k, key("https://api.openai.com/v1", "gpt-4.1-mini", &m, &p));
        assert_ne!(k, key("http://127.0.0.1:8000/v1", "gpt-4.1-mini", &m, &p));
        assert_ne!(k, key("https://api.openai.com/v1", "gpt-4.1", &m, &p));
        assert_ne!(
            k,
            key("https://api.openai.com/v1", "gpt-4.1-mini", &json!([]), &p)
        );
        assert_ne!(
            k,
            key(
                "https://api.openai.com/v1",
                "gpt-4.1-mini",
                &m,
                &json!({"temperature": 1})
            )
        );
    }
}
