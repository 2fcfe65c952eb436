//! Chat templates rendered with minijinja the way Hugging Face transformers renders them
//! with jinja2 (`apply_chat_template`): `trim_blocks` and `lstrip_blocks` on, loop
//! controls, `raise_exception`, `strftime_now`, a `tojson` that writes Python's
//! `json.dumps` (not HTML-escaped), Python string and dict methods (`.strip()`,
//! `.split()`, `.startswith()`, `.items()`… from minijinja-contrib's pycompat), and the
//! `{% generation %}` marker of training templates (rendered as its body).
//! Hugging Face TGI and mistral.rs set minijinja up the same way.

use std::sync::OnceLock;

use minijinja::value::{Kwargs, Value as JValue};
use minijinja::{Environment, Error, ErrorKind, State};
use serde_json::Value;

use super::RenderError;
use crate::pyjson::python_json_with;

const NAME: &str = "chat_template";
/// Marks an error that the template raised itself, to tell it from other failures.
const RAISED: &str = "\u{1}raised:";

/// A compiled chat template and the special-token strings it is rendered with.
pub(crate) struct ChatTemplate {
    env: Environment<'static>,
    /// `bos_token`, `eos_token`… as transformers passes them (only those that are set).
    special: Vec<(String, String)>,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("special", &self.special)
            .finish_non_exhaustive()
    }
}

impl ChatTemplate {
    /// Compiles `source`; the error is the feature or syntax afinar cannot compile.
    pub(crate) fn new(source: &str, special: Vec<(String, String)>) -> Result<Self, Error> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(python_methods);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", strftime_now);
        env.add_filter("tojson", tojson);
        env.add_filter("trim", py_trim);
        env.add_template_owned(NAME, without_generation_tags(source))?;
        Ok(ChatTemplate { env, special })
    }

    /// The template applied to `messages` (no generation prompt), as
    /// `apply_chat_template(messages, tools=tools, tokenize=False)` returns it.
    pub(crate) fn render(
        &self,
        messages: &[Value],
        tools: Option<&Value>,
    ) -> Result<String, RenderError> {
        let tmpl = self.env.get_template(NAME).map_err(map_error)?;
        let mut ctx: Vec<(&str, JValue)> = Vec::with_capacity(self.special.len() + 4);
        ctx.push(("messages", JValue::from_serialize(normalize(messages))));
        ctx.push((
            "tools",
            tools
                .filter(|t| !t.is_null())
                .map_or(JValue::from(()), JValue::from_serialize),
        ));
        ctx.push(("documents", JValue::from(())));
        ctx.push(("add_generation_prompt", JValue::from(false)));
        for (k, v) in &self.special {
            ctx.push((k.as_str(), JValue::from(v.as_str())));
        }
        let ctx: JValue = ctx.into_iter().collect();
        tmpl.render(ctx).map_err(map_error)
    }
}

/// What transformers does to messages before rendering: keys whose value is null are
/// dropped, and a reasoning text under `reasoning_content`, `thinking` or `reasoning`
/// is offered under `thinking` (first) and `reasoning_content` (last) as well.
fn normalize(messages: &[Value]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| {
            let Value::Object(m) = m else {
                return m.clone();
            };
            let mut out: serde_json::Map<String, Value> = m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let reasoning = ["reasoning_content", "thinking", "reasoning"]
                .iter()
                .find_map(|k| out.get(*k).cloned());
            if let Some(r) = reasoning {
                let mut front = serde_json::Map::new();
                front.insert("thinking".into(), r.clone());
                for (k, v) in out {
                    if k != "thinking" {
                        front.insert(k, v);
                    } else {
                        front["thinking"] = v;
                    }
                }
                // An existing key keeps its place, as in a Python dict literal.
                front.insert("reasoning_content".into(), r);
                out = front;
            }
            Value::Object(out)
        })
        .collect()
}

/// `{% generation %}…{% endgeneration %}` (transformers' assistant-mask extension) is a
/// no-op for the rendered text: it becomes an always-true `if` with the same whitespace
/// control.
fn without_generation_tags(source: &str) -> String {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    #[allow(clippy::expect_used)]
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"\{%(-|\+)?\s*(end)?generation\s*(-|\+)?%\}").expect("valid regex")
    });
    re.replace_all(source, |c: &regex::Captures<'_>| {
        let l = c.get(1).map_or("", |m| m.as_str());
        let r = c.get(3).map_or("", |m| m.as_str());
        if c.get(2).is_some() {
            format!("{{%{l} endif {r}%}}")
        } else {
            format!("{{%{l} if true {r}%}}")
        }
    })
    .into_owned()
}

pub(crate) fn map_error(e: Error) -> RenderError {
    let detail = e.detail().unwrap_or_default().to_owned();
    if let Some(msg) = detail.strip_prefix(RAISED) {
        return RenderError::Raised(msg.to_owned());
    }
    let line = e.line();
    match e.kind() {
        ErrorKind::UnknownFilter
        | ErrorKind::UnknownTest
        | ErrorKind::UnknownFunction
        | ErrorKind::UnknownMethod
        | ErrorKind::UnknownBlock
        | ErrorKind::SyntaxError
        | ErrorKind::BadInclude
        | ErrorKind::TemplateNotFound => RenderError::Unsupported {
            feature: feature_of(&e),
            line,
        },
        _ => RenderError::Failed {
            detail: if detail.is_empty() {
                e.to_string()
            } else {
                detail
            },
            line,
        },
    }
}

/// A short name of what the template used: `filter \`x\``, `method \`y\``…
fn feature_of(e: &Error) -> String {
    let d = e.detail().unwrap_or_default();
    match e.kind() {
        ErrorKind::SyntaxError => format!("syntax: {d}"),
        kind => {
            if d.is_empty() {
                kind.to_string()
            } else {
                format!("{kind}: {d}")
            }
        }
    }
}

fn raise_exception(msg: String) -> Result<String, Error> {
    Err(Error::new(
        ErrorKind::InvalidOperation,
        format!("{RAISED}{msg}"),
    ))
}

/// Python's `str.isspace` (a little wider than Rust's: the separators U+001C..U+001F).
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn py_strip<'a>(s: &'a str, chars: Option<&str>, left: bool, right: bool) -> &'a str {
    let f = |c: char| chars.map_or_else(|| py_space(c), |set| set.contains(c));
    let s = if left { s.trim_start_matches(f) } else { s };
    if right { s.trim_end_matches(f) } else { s }
}

/// jinja2's `trim`: `str.strip(chars)`.
fn py_trim(s: String, chars: Option<String>) -> String {
    py_strip(&s, chars.as_deref(), true, true).to_owned()
}

/// Python methods on values: `strip`/`lstrip`/`rstrip` with Python's whitespace, the rest
/// from minijinja-contrib's pycompat.
fn python_methods(
    state: &State,
    value: &JValue,
    method: &str,
    args: &[JValue],
) -> Result<JValue, Error> {
    if let Some(s) = value.as_str() {
        let (left, right) = match method {
            "strip" => (true, true),
            "lstrip" => (true, false),
            "rstrip" => (false, true),
            _ => {
                return minijinja_contrib::pycompat::unknown_method_callback(
                    state, value, method, args,
                );
            }
        };
        let chars = match args {
            [] => None,
            [a] if a.is_none() => None,
            [a] => Some(a.as_str().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("{method}() takes a string"),
                )
            })?),
            _ => return Err(Error::from(ErrorKind::TooManyArguments)),
        };
        return Ok(JValue::from(py_strip(s, chars, left, right)));
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}

/// transformers' `tojson`: `json.dumps(x, ensure_ascii=False, indent=None,
/// separators=None, sort_keys=False)`.
fn tojson(value: JValue, kwargs: Kwargs) -> Result<String, Error> {
    let indent: Option<JValue> = kwargs.get("indent")?;
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    let ensure_ascii: Option<bool> = kwargs.get("ensure_ascii")?;
    if kwargs.has("separators") {
        return Err(Error::new(
            ErrorKind::UnknownFilter,
            "tojson(separators=...) is not supported",
        ));
    }
    kwargs.assert_all_used()?;
    let indent = match indent {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) => match (v.as_i64(), v.as_str()) {
            (Some(n), _) => Some(" ".repeat(n.max(0) as usize)),
            (_, Some(s)) => Some(s.to_owned()),
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "tojson indent must be a number or a string",
                ));
            }
        },
    };
    let json: Value = serde_json::to_value(&value)
        .map_err(|e| Error::new(ErrorKind::BadSerialization, e.to_string()))?;
    let out = python_json_with(&json, indent.as_deref(), sort_keys.unwrap_or(false));
    Ok(if ensure_ascii.unwrap_or(false) {
        ascii_escape(&out)
    } else {
        out
    })
}

fn ascii_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for u in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// `datetime.now().strftime(format)` for the directives templates use (`%Y`, `%m`, `%d`,
/// `%b`, `%B`, `%a`, `%A`, `%H`, `%M`, `%S`, `%y`, `%j`, `%%`), in UTC. `SOURCE_DATE_EPOCH`
/// fixes the date for reproducible runs.
fn strftime_now(format: String) -> Result<String, Error> {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    strftime(&format, secs)
}

pub(crate) fn strftime(format: &str, secs: i64) -> Result<String, Error> {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = (days + 3).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
    let yday = days - days_from_civil(y, 1, 1) + 1;
    let mut out = String::new();
    let mut it = format.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('Y') => out.push_str(&y.to_string()),
            Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('e') => out.push_str(&format!("{d:>2}")),
            Some('j') => out.push_str(&format!("{yday:03}")),
            Some('B') => out.push_str(MONTHS[(m - 1) as usize]),
            Some('b') => out.push_str(&MONTHS[(m - 1) as usize][..3]),
            Some('A') => out.push_str(DAYS[weekday]),
            Some('a') => out.push_str(&DAYS[weekday][..3]),
            Some('H') => out.push_str(&format!("{:02}", rem / 3600)),
            Some('M') => out.push_str(&format!("{:02}", rem / 60 % 60)),
            Some('S') => out.push_str(&format!("{:02}", rem % 60)),
            Some('%') => out.push('%'),
            other => {
                return Err(Error::new(
                    ErrorKind::UnknownFunction,
                    format!(
                        "strftime_now directive `%{}`",
                        other.map(String::from).unwrap_or_default()
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Howard Hinnant's civil-from-days: (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn render(src: &str, msgs: Value) -> Result<String, RenderError> {
        let t = ChatTemplate::new(src, vec![("bos_token".into(), "<s>".into())]).unwrap();
        t.render(msgs.as_array().unwrap(), None)
    }

    #[test]
    fn strftime_matches_python() {
        // 2026-12-01T08:30:05Z; python: datetime(2026,12,1,8,30,5).strftime(...)
        let t = 1_796_113_805;
        assert_eq!(strftime("%Y-%m-%d", t).unwrap(), "2026-12-01");
        assert_eq!(strftime("%d %b %Y", t).unwrap(), "01 Dec 2026");
        assert_eq!(
            strftime("%A %B %j %H:%M:%S %%", t).unwrap(),
            "Tuesday December 335 08:30:05 %"
        );
        assert!(strftime("%Q", t).is_err());
    }

    #[test]
    fn python_methods_slices_loop_controls_and_blocks() {
        let src = "{%- for m in messages[::-1] %}\n  {%- if m.role == 'skip' %}{% continue %}{% endif %}\n{{ bos_token }}{{ m.content.strip().split(' ')[0] | upper }}|{{ m.content.lstrip('x') | trim }}\n{%- if loop.index == 2 %}{% break %}{% endif %}\n{% endfor %}";
        let out = render(
            src,
            json!([{"role": "u", "content": " ab cd\u{1f} "}, {"role": "skip", "content": "x"}, {"role": "a", "content": "xxé ", "n": null}]),
        )
        .unwrap();
        assert_eq!(out, "<s>XXÉ|é<s>AB|ab cd");
    }

    #[test]
    fn tojson_is_python_json_dumps() {
        let out = render(
            "{{ messages[0] | tojson }}|{{ messages[0] | tojson(indent=2) }}",
            json!([{"role": "user", "content": "<b>é</b>", "n": 1.5}]),
        )
        .unwrap();
        assert_eq!(
            out,
            "{\"role\": \"user\", \"content\": \"<b>é</b>\", \"n\": 1.5}|{\n  \"role\": \"user\",\n  \"content\": \"<b>é</b>\",\n  \"n\": 1.5\n}"
        );
    }

    #[test]
    fn raise_exception_unknown_features_and_generation_tags() {
        let raised = render("{{ raise_exception('Roles must alternate') }}", json!([]));
        assert_eq!(
            raised,
            Err(RenderError::Raised("Roles must alternate".into()))
        );
        let unknown = render("{{ messages | frobnicate }}", json!([]));
        assert!(
            matches!(unknown, Err(RenderError::Unsupported { .. })),
            "{unknown:?}"
        );
        let msg = unknown.unwrap_err().to_string();
        assert!(msg.contains("frobnicate"), "{msg}");
        let gen_tags = render(
            "{% for m in messages %}{%- generation -%} [{{ m.content }}] {%- endgeneration %}{% endfor %}",
            json!([{"role": "assistant", "content": "oi"}]),
        );
        assert_eq!(gen_tags.unwrap(), "[oi]");
    }

    #[test]
    fn reasoning_fields_are_aliased_like_transformers() {
        let out = render(
            "{{ messages[0] | tojson }}",
            json!([{"role": "assistant", "content": "x", "reasoning": "r", "tool_calls": null}]),
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{"thinking": "r", "role": "assistant", "content": "x", "reasoning": "r", "reasoning_content": "r"}"#
        );
    }
}
