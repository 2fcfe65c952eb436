//! Python's `json.dumps(v, ensure_ascii=False)` (and its `indent=` form), byte for byte:
//! what the fine-tuning services count for structured values and what Hugging Face chat
//! templates emit with `tojson`.

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// `json.dumps(v, ensure_ascii=False)`: `", "` and `": "` separators, keys in their order,
/// non-ASCII kept, control characters escaped, floats as Python's repr.
pub fn python_json(v: &Value) -> String {
    python_json_with(v, None, false)
}

/// `json.dumps(v, ensure_ascii=False, indent=indent, sort_keys=sort_keys)`. With an
/// indent, items are separated by `","` and a newline, as Python does.
pub fn python_json_with(v: &Value, indent: Option<&str>, sort_keys: bool) -> String {
    let mut out = String::new();
    write_py(v, indent, sort_keys, 0, &mut out);
    out
}

fn newline(indent: Option<&str>, depth: usize, out: &mut String) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(ind);
        }
    }
}

fn write_py(v: &Value, indent: Option<&str>, sort: bool, depth: usize, out: &mut String) {
    let sep = if indent.is_some() { "," } else { ", " };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_str(s, out),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                newline(indent, depth + 1, out);
                write_py(x, indent, sort, depth + 1, out);
            }
            newline(indent, depth, out);
            out.push(']');
        }
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Object(m) => {
            out.push('{');
            let mut entries: Vec<_> = m.iter().collect();
            if sort {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            for (i, (k, x)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                newline(indent, depth + 1, out);
                write_str(k, out);
                out.push_str(": ");
                write_py(x, indent, sort, depth + 1, out);
            }
            newline(indent, depth, out);
            out.push('}');
        }
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_number(n: &Number, out: &mut String) {
    if n.is_i64() || n.is_u64() {
        let _ = write!(out, "{n}");
    } else if let Some(f) = n.as_f64() {
        out.push_str(&python_float(f));
    }
}

/// Python's `repr(float)`: shortest round-trip digits, scientific notation when the
/// exponent is below -4 or at least 16 (`1e+16`, `1.5e-05`), else positional (`100.0`).
pub fn python_float(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let sci = format!("{f:e}"); // e.g. "-1.5e-5", "1e16"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    if !(-4..16).contains(&exp) {
        let e_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{mantissa}e{e_sign}{:02}", exp.abs());
    }
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let n = digits.len() as i32;
    let body = if exp >= 0 {
        let int_len = exp + 1;
        if n <= int_len {
            format!("{digits}{}.0", "0".repeat((int_len - n) as usize))
        } else {
            format!(
                "{}.{}",
                &digits[..int_len as usize],
                &digits[int_len as usize..]
            )
        }
    } else {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn indent_and_sort_keys_match_python() {
        let v = json!({"b": [1, {"x": "ç"}], "a": {}, "c": []});
        // python3 -c 'import json; print(json.dumps({"b": [1, {"x": "ç"}], "a": {}, "c": []},
        //   ensure_ascii=False, indent=2, sort_keys=True))'
        assert_eq!(
            python_json_with(&v, Some("  "), true),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    {\n      \"x\": \"ç\"\n    }\n  ],\n  \"c\": []\n}"
        );
        assert_eq!(
            python_json(&v),
            r#"{"b": [1, {"x": "ç"}], "a": {}, "c": []}"#
        );
    }
}
