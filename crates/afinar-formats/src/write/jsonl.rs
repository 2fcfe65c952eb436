//! JSON Lines out: UTF-8, LF, non-ASCII as is, keys in a fixed order.

use std::io::{self, Write};
use std::path::Path;

use afinar_core::{Example, Message, Preference};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::FormatError;
use crate::atomic::write_atomic;

/// How a JSONL file is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonlOptions {
    /// Start the file with a UTF-8 byte order mark (Azure OpenAI asks for one).
    pub bom: bool,
}

/// A chat example as one OpenAI chat-format line: `{"messages": [...], "tools": ...}`.
#[derive(Debug, Clone, Copy)]
pub struct ChatLine<'a>(pub &'a Example);

impl Serialize for ChatLine<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ex = self.0;
        let mut map = s.serialize_map(Some(1 + ex.extra.len()))?;
        let messages: Vec<MessageOut<'_>> = ex.messages.iter().map(MessageOut).collect();
        map.serialize_entry("messages", &messages)?;
        for (k, v) in &ex.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A preference as one OpenAI DPO line:
/// `{"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]}`.
#[derive(Debug, Clone, Copy)]
pub struct DpoLine<'a>(pub &'a Preference);

impl Serialize for DpoLine<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Input<'a>(&'a [Message]);
        impl Serialize for Input<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(1))?;
                let messages: Vec<MessageOut<'_>> = self.0.iter().map(MessageOut).collect();
                map.serialize_entry("messages", &messages)?;
                map.end()
            }
        }
        let p = self.0;
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("input", &Input(&p.input))?;
        map.serialize_entry("preferred_output", &[MessageOut(&p.preferred)])?;
        map.serialize_entry("non_preferred_output", &[MessageOut(&p.non_preferred)])?;
        map.end()
    }
}

/// A message in the fixed key order role, content, name, weight, tool_calls, tool_call_id;
/// an assistant message that only calls tools has `"content": null`, as the API writes it.
struct MessageOut<'a>(&'a Message);

impl Serialize for MessageOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("role", &m.role)?;
        if m.content.is_empty() && m.tool_calls.is_some() {
            map.serialize_entry("content", &())?;
        } else {
            map.serialize_entry("content", &m.content)?;
        }
        if let Some(name) = &m.name {
            map.serialize_entry("name", name)?;
        }
        if let Some(weight) = m.weight {
            map.serialize_entry("weight", &weight)?;
        }
        if let Some(calls) = &m.tool_calls {
            map.serialize_entry("tool_calls", calls)?;
        }
        if let Some(id) = &m.tool_call_id {
            map.serialize_entry("tool_call_id", id)?;
        }
        map.end()
    }
}

/// Writes one JSON value per line into `w`.
pub fn write_lines<T, I>(w: &mut dyn Write, items: I, opts: JsonlOptions) -> io::Result<()>
where
    T: Serialize,
    I: IntoIterator<Item = T>,
{
    if opts.bom {
        w.write_all(b"\xEF\xBB\xBF")?;
    }
    for item in items {
        serde_json::to_writer(&mut *w, &item)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// [`write_lines`] of a slice, serialised on every core a few hundred lines at a time and
/// written in order: the same bytes.
pub fn write_lines_par<T: Serialize + Sync>(
    w: &mut dyn Write,
    items: &[T],
    opts: JsonlOptions,
) -> io::Result<()> {
    use rayon::prelude::*;
    const CHUNK: usize = 512;
    if opts.bom {
        w.write_all(b"\xEF\xBB\xBF")?;
    }
    // A window of chunks at a time, so only that much serialised text is held.
    for window in items.chunks(CHUNK * 32) {
        let bufs: Vec<io::Result<Vec<u8>>> = window
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut buf = Vec::new();
                for item in chunk {
                    serde_json::to_writer(&mut buf, item)?;
                    buf.push(b'\n');
                }
                Ok(buf)
            })
            .collect();
        for buf in bufs {
            w.write_all(&buf?)?;
        }
    }
    Ok(())
}

/// [`prepare_file`] of a slice, serialised in parallel ([`write_lines_par`]).
pub fn prepare_file_par<T: Serialize + Sync>(
    path: &Path,
    items: &[T],
    opts: JsonlOptions,
) -> Result<Option<crate::atomic::Pending>, FormatError> {
    if path.as_os_str() == "-" {
        return write_file(path, items, opts).map(|()| None);
    }
    crate::atomic::prepare(path, |w| write_lines_par(w, items, opts)).map(Some)
}

/// Writes a JSONL file atomically, or to standard output when `path` is `-`.
pub fn write_file<T, I>(path: &Path, items: I, opts: JsonlOptions) -> Result<(), FormatError>
where
    T: Serialize,
    I: IntoIterator<Item = T>,
{
    if path.as_os_str() == "-" {
        let stdout = io::stdout();
        let mut lock = io::BufWriter::new(stdout.lock());
        return write_lines(&mut lock, items, opts)
            .and_then(|()| lock.flush())
            .map_err(|source| FormatError::Write {
                path: path.to_owned(),
                source,
            });
    }
    write_atomic(path, |w| write_lines(w, items, opts))
}

/// Like [`write_file`], but leaves the file prepared beside `path` for
/// [`crate::atomic::commit`], so that a command writing several files puts them all in
/// place at once or none (an interrupt between two renames cannot mix old and new).
/// `-` (stdout) is written at once and gives `None`.
pub fn prepare_file<T, I>(
    path: &Path,
    items: I,
    opts: JsonlOptions,
) -> Result<Option<crate::atomic::Pending>, FormatError>
where
    T: Serialize,
    I: IntoIterator<Item = T>,
{
    if path.as_os_str() == "-" {
        return write_file(path, items, opts).map(|()| None);
    }
    crate::atomic::prepare(path, |w| write_lines(w, items, opts)).map(Some)
}

#[cfg(test)]
mod tests {
    use afinar_core::{Completion, Origin, Role};
    use serde_json::json;

    use super::*;

    fn render<T: Serialize>(items: Vec<T>, bom: bool) -> String {
        let mut buf = Vec::new();
        write_lines(&mut buf, items, JsonlOptions { bom }).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn parallel_lines_are_the_same_bytes() {
        let items: Vec<serde_json::Value> = (0..20_000)
            .map(|i| json!({"n": i, "texto": format!("Pergunta nº {i}: ação?")}))
            .collect();
        for bom in [false, true] {
            let mut par = Vec::new();
            write_lines_par(&mut par, &items, JsonlOptions { bom }).unwrap();
            assert_eq!(String::from_utf8(par).unwrap(), render(items.clone(), bom));
        }
    }

    #[test]
    fn chat_lines_keep_accents_and_a_fixed_key_order() {
        let mut ex = Example::single_turn(
            Some("Sistema"),
            "Ação?",
            "R$ 4,8 milhões",
            Origin::line("f", 1),
        );
        ex.messages[2].weight = Some(1);
        ex.meta.insert("tema".into(), "x".into());
        assert_eq!(
            render(vec![ChatLine(&ex)], false),
            "{\"messages\":[{\"role\":\"system\",\"content\":\"Sistema\"},{\"role\":\"user\",\"content\":\"Ação?\"},{\"role\":\"assistant\",\"content\":\"R$ 4,8 milhões\",\"weight\":1}]}\n"
        );
    }

    #[test]
    fn tool_only_assistant_messages_get_null_content() {
        let mut ex = Example::single_turn(None, "q", "", Origin::line("f", 1));
        ex.messages[1].tool_calls = Some(Box::new(json!([{"id": "c1"}])));
        ex.extra.insert("tools".into(), json!([]));
        let line = render(vec![ChatLine(&ex)], false);
        assert!(
            line.contains(
                "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\"}]}]"
            ),
            "{line}"
        );
        assert!(line.ends_with(",\"tools\":[]}\n"));
        assert_eq!(ex.messages[0].role, Role::User);
    }

    #[test]
    fn dpo_lines_have_the_openai_shape() {
        let p = Preference {
            input: vec![Message::new(Role::User, "Qual o prazo?")],
            preferred: Message::new(Role::Assistant, "Dia 20."),
            non_preferred: Message::new(Role::Assistant, "Não sei."),
            origin: Origin::line("f", 1),
            meta: Default::default(),
        };
        assert_eq!(
            render(vec![DpoLine(&p)], false),
            "{\"input\":{\"messages\":[{\"role\":\"user\",\"content\":\"Qual o prazo?\"}]},\"preferred_output\":[{\"role\":\"assistant\",\"content\":\"Dia 20.\"}],\"non_preferred_output\":[{\"role\":\"assistant\",\"content\":\"Não sei.\"}]}\n"
        );
    }

    #[test]
    fn bom_is_optional_and_lines_end_with_lf() {
        let pc = Completion {
            prompt: "a\r\nb".into(),
            completion: "ç".into(),
        };
        assert_eq!(
            render(vec![&pc], true),
            "\u{FEFF}{\"prompt\":\"a\\r\\nb\",\"completion\":\"ç\"}\n"
        );
    }
}
