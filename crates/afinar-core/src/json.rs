//! Describing a JSON syntax error the way a user finds it in an editor.

/// Where and what a serde_json syntax error is: the 1-based column counted in
/// characters (serde_json counts bytes, which is wrong on any accented line) and the
/// message without serde_json's own " at line L column C" tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonErrorAt {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Locates `e`, an error from parsing `text`.
pub fn json_error_at(e: &serde_json::Error, text: &str) -> JsonErrorAt {
    let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
    let column = line
        .char_indices()
        .filter(|(i, _)| *i < e.column())
        .count()
        .max(1);
    let full = e.to_string();
    let message = full
        .rfind(" at line ")
        .map_or(full.as_str(), |i| &full[..i]);
    let message = if message == "recursion limit exceeded" {
        format!(
            "nested more than {} levels deep (lists or objects inside each other)",
            crate::limits::MAX_DEPTH
        )
    } else {
        message.to_owned()
    };
    JsonErrorAt {
        line: e.line(),
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "{\"prompt\": \"ação\", \"completion\": }";
        let e = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
        let at = json_error_at(&e, text);
        assert_eq!(
            (at.line, at.column, at.message.as_str()),
            (1, 34, "expected value")
        );
    }

    #[test]
    fn nesting_past_the_cap_is_said_plainly() {
        let text = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let e = serde_json::from_str::<serde_json::Value>(&text).unwrap_err();
        let at = json_error_at(&e, &text);
        assert_eq!(
            at.message,
            "nested more than 128 levels deep (lists or objects inside each other)"
        );
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(serde_json::from_str::<serde_json::Value>(&ok).is_ok());
    }
}
