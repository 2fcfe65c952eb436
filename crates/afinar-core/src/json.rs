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
///
/// A line cut short inside a string is said as such, at the column where the line ends:
/// serde_json reports the line's own newline as a "control character" at column 0 of the
/// next line, or an "EOF while parsing a string", neither of which points at the cause.
pub fn json_error_at(e: &serde_json::Error, text: &str) -> JsonErrorAt {
    let full = e.to_string();
    let message = full
        .rfind(" at line ")
        .map_or(full.as_str(), |i| &full[..i]);
    let control = message.starts_with("control character");
    // The `\n` ending the line puts serde_json at column 0 of the next; a `\r` before it
    // is the last character of this one.
    let newline_in_string = control && e.column() == 0 && e.line() > 1;
    let cr_in_string = control
        && text
            .split('\n')
            .nth(e.line().saturating_sub(1))
            .and_then(|l| l.get(e.column().saturating_sub(1)..))
            == Some("\r");
    if newline_in_string || cr_in_string || message == "EOF while parsing a string" {
        let line_no = if newline_in_string {
            e.line() - 1
        } else {
            e.line()
        };
        let line = text
            .lines()
            .nth(line_no.saturating_sub(1))
            .unwrap_or("")
            .trim_end_matches('\r');
        let end = line.chars().count().max(1);
        let message = match open_string_at(line) {
            Some(start) => format!(
                "the line ends inside the string that starts at column {start}; a closing `\"` is missing (was the line cut short?)"
            ),
            None => {
                "the line ends inside a string; a closing `\"` is missing (was the line cut short?)"
                    .to_owned()
            }
        };
        return JsonErrorAt {
            line: line_no,
            column: end,
            message,
        };
    }
    let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
    let column = line
        .char_indices()
        .filter(|(i, _)| *i < e.column())
        .count()
        .max(1);
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

/// The 1-based column of the `"` that opens a string still open at the end of `line`.
/// A JSON string cannot hold a raw line break, so every line starts outside one.
fn open_string_at(line: &str) -> Option<usize> {
    let mut open = None;
    let mut escaped = false;
    for (col, c) in line.chars().enumerate() {
        match (open, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(_), '"') => open = None,
            (None, '"') => open = Some(col + 1),
            _ => {}
        }
    }
    open
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
    fn a_line_cut_inside_a_string_is_said_so_at_its_real_column() {
        // `afinar check` feeds the line with its newline, `convert` without; both say the same.
        let cut = "{\"prompt\": \"Qual o prazo\", \"completion\": \"Até o dia 2";
        for text in [cut.to_owned(), format!("{cut}\n"), format!("{cut}\r\n")] {
            let e = serde_json::from_str::<serde_json::Value>(&text).unwrap_err();
            let at = json_error_at(&e, &text);
            assert_eq!(
                (at.line, at.column, at.message.as_str()),
                (
                    1,
                    53,
                    "the line ends inside the string that starts at column 42; a closing `\"` is missing (was the line cut short?)"
                ),
                "{text:?}"
            );
        }
        // An escaped quote does not close the string.
        let text = "{\"a\": \"diz \\\"oi\\\" e";
        let e = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
        assert!(
            json_error_at(&e, text)
                .message
                .contains("starts at column 7")
        );
        // In a document of several lines, the line that is cut is named.
        let doc = "[\n  {\"a\": \"b\"},\n  {\"a\": \"cortad\n  o\"}\n]";
        let e = serde_json::from_str::<serde_json::Value>(doc).unwrap_err();
        let at = json_error_at(&e, doc);
        assert_eq!((at.line, at.column), (3, 15), "{at:?}");
        assert!(
            at.message
                .starts_with("the line ends inside the string that starts at column 9")
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
