//! JSON Lines (and a single JSON array) of examples: OpenAI chat, prompt/completion,
//! OpenAI DPO (`input`/`preferred_output`/`non_preferred_output`), and LLaMA-Factory's
//! shapes: alpaca (`instruction`/`input`/`output`, `history`), ShareGPT (`conversations`
//! of `from`/`value`, with `function_call` and `observation` turns), their preference
//! rows (`chosen`/`rejected`) and KTO rows (`label`/`kto_tag`), and `tools` given as a
//! JSON string.
//!
//! Every row is read whole or rejected with a [`RowError`]: a key that carries part of
//! the example is never left behind in `meta`.

use std::collections::{BTreeMap, VecDeque};

use afinar_core::limits::{MAX_LINE_BYTES, human_bytes};
use afinar_core::markers::{self, Markers};
use afinar_core::{
    Completion, CompletionOptions, Example, Message, Meta, Origin, Preference, Role,
};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use thiserror::Error;

use super::{ReadOptions, ReadOutput, SourceInfo, strip_bom, text};
use crate::{FormatError, Reject};

/// Top-level chat keys that are part of the format and pass through to chat output.
const CHAT_EXTRA_KEYS: &[&str] = &["functions", "parallel_tool_calls"];
const MESSAGE_KEYS: &[&str] = &[
    "role",
    "content",
    "name",
    "weight",
    "tool_calls",
    "tool_call_id",
];
const TURN_KEYS: &[&str] = &["from", "value", "role", "content"];
/// Keys that hold part of an example in some shape: left over after a row is read, they
/// mean the row mixes shapes, and are an error rather than meta.
const EXAMPLE_KEYS: &[&str] = &[
    "messages",
    "conversations",
    "instruction",
    "input",
    "output",
    "prompt",
    "completion",
    "chosen",
    "rejected",
    "preferred_output",
    "non_preferred_output",
    "system",
    "history",
    "tools",
    "kto_tag",
];
/// Media columns of LLaMA-Factory's multimodal datasets.
const MEDIA_KEYS: &[&str] = &["images", "videos", "audios"];

/// Why one JSON row could not be read: a stable code for counting, and the message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct RowError {
    pub code: RowCode,
    pub message: String,
}

impl RowError {
    pub fn new(code: RowCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    fn reject(self, origin: Origin, raw: impl Into<String>) -> Reject {
        Reject::new(origin, self.message, raw).with_code(self.code.as_str())
    }
}

/// The cause of a [`RowError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RowCode {
    /// The line is not JSON.
    InvalidJson,
    /// The line is not UTF-8.
    NotUtf8,
    /// The line is over [`MAX_LINE_BYTES`].
    LineTooLong,
    /// The line is JSON but not an object.
    NotAnObject,
    /// No known shape's keys.
    UnknownShape,
    /// Keys of two shapes in one row.
    MixedShapes,
    /// A required key is absent.
    MissingField,
    /// A key holds the wrong kind of value.
    WrongType,
    /// A text that must not be empty is.
    EmptyContent,
    /// A role name no alias maps.
    UnknownRole,
    /// A message or turn has a key the format does not have.
    UnknownKey,
    /// A message `weight` other than 0 or 1.
    InvalidWeight,
    /// A preference row without both answers.
    IncompletePair,
    /// A DPO preference where a chat example was asked for.
    NotChat,
    /// A KTO row whose `label` says the answer is undesirable.
    KtoNotSupported,
    /// Images, videos or audio, which text-only lines cannot hold.
    MediaNotSupported,
    /// `tools` that are not a list of function definitions.
    InvalidTools,
    /// A `function_call` turn that is not a call.
    InvalidToolCall,
    /// Tool results that do not match the calls before them.
    UnmatchedToolResult,
    /// Tool definitions in a preference row, which DPO lines cannot hold yet.
    ToolsInPreference,
}

impl RowCode {
    /// The snake_case code written beside the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            RowCode::InvalidJson => "invalid_json",
            RowCode::NotUtf8 => "not_utf8",
            RowCode::LineTooLong => "line_too_long",
            RowCode::NotAnObject => "not_an_object",
            RowCode::UnknownShape => "unknown_shape",
            RowCode::MixedShapes => "mixed_shapes",
            RowCode::MissingField => "missing_field",
            RowCode::WrongType => "wrong_type",
            RowCode::EmptyContent => "empty_content",
            RowCode::UnknownRole => "unknown_role",
            RowCode::UnknownKey => "unknown_key",
            RowCode::InvalidWeight => "invalid_weight",
            RowCode::IncompletePair => "incomplete_pair",
            RowCode::NotChat => "not_chat",
            RowCode::KtoNotSupported => "kto_not_supported",
            RowCode::MediaNotSupported => "media_not_supported",
            RowCode::InvalidTools => "invalid_tools",
            RowCode::InvalidToolCall => "invalid_tool_call",
            RowCode::UnmatchedToolResult => "unmatched_tool_result",
            RowCode::ToolsInPreference => "tools_in_preference",
        }
    }
}

type Row<T> = Result<T, RowError>;

fn fail<T>(code: RowCode, message: impl Into<String>) -> Row<T> {
    Err(RowError::new(code, message))
}

fn missing(key: &str) -> RowError {
    RowError::new(RowCode::MissingField, format!("Line has no `{key}`"))
}

fn wrong(what: impl std::fmt::Display, v: &Value, wanted: &str) -> RowError {
    RowError::new(
        RowCode::WrongType,
        format!("{what} is a {}, not {wanted}", kind_of(v)),
    )
}

/// One row parsed as JSON (or why not), waiting to be interpreted once the whole file's
/// markers are known.
struct Parsed<'a> {
    origin: Origin,
    raw: &'a str,
    value: Row<Value>,
    /// The row already read, when it needs nothing from the rest of the file (all but
    /// prompt/completion rows, whose framing depends on the file's markers); its value is
    /// then gone, so a large file's JSON trees are never all held at once.
    done: Option<(Row<Item>, Tally)>,
}

impl<'a> Parsed<'a> {
    fn new(origin: Origin, raw: &'a str, value: Row<Value>, opts: &ReadOptions) -> Parsed<'a> {
        let early = match &value {
            Ok(Value::Object(o)) => shape_of(o) != Shape::Completion,
            _ => true,
        };
        if !early {
            return Parsed {
                origin,
                raw,
                value,
                done: None,
            };
        }
        let mut tally = Tally::default();
        let item = value.and_then(|v| item(v, &origin, opts, &opts.completion, &mut tally));
        Parsed {
            origin,
            raw,
            value: Ok(Value::Null),
            done: Some((item, tally)),
        }
    }
}

/// What is learnt across a file's rows while reading them.
#[derive(Default)]
struct Tally {
    kto_kept: usize,
    kto_rejected: usize,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.kto_kept += other.kto_kept;
        self.kto_rejected += other.kto_rejected;
    }
}

/// Where a read row goes: examples, preferences, or rejects (with its raw line).
type Outputs<'o> = (
    &'o mut Vec<Example>,
    &'o mut Vec<Preference>,
    &'o mut Vec<Reject>,
);

fn place(item: Row<Item>, origin: Origin, raw: &str, to: Outputs<'_>) {
    let (examples, preferences, rejects) = to;
    match item {
        Ok(Item::Example(e)) => examples.push(e),
        Ok(Item::Preference(pref)) => preferences.push(*pref),
        Err(e) => rejects.push(e.reject(origin, raw)),
    }
}

/// Reads JSON Lines, or a document holding one JSON array. A UTF-8 BOM and blank lines
/// are tolerated; each bad line is a reject and reading goes on. A document holding one
/// JSON object over several lines (a `dataset_info.json`) is one error.
pub fn read_bytes(bytes: &[u8], file: &str, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    let (body, bom) = strip_bom(bytes);
    let first = body.iter().position(|b| !b.is_ascii_whitespace());
    let mut out = ReadOutput {
        info: SourceInfo {
            format: "jsonl".into(),
            encoding: "utf-8".into(),
            bom,
            ..Default::default()
        },
        ..Default::default()
    };
    let doc;
    let parsed = if first.is_some_and(|i| body[i] == b'[') {
        out.info.format = "json".into();
        doc = utf8_document(body, file)?;
        read_array(doc, file, opts, &mut out)?
    } else {
        if let Some(i) = first.filter(|i| body[*i] == b'{') {
            object_document(&body[i..], file)?;
        }
        read_lines(body, file, opts, &mut out)
    };
    finish(parsed, opts, &mut out);
    // Lines rejected while scanning were listed first: back to file order.
    out.rejects.sort_by(|a, b| a.origin.cmp(&b.origin));
    Ok(out)
}

fn read_lines<'a>(
    body: &'a [u8],
    file: &str,
    opts: &ReadOptions,
    out: &mut ReadOutput,
) -> Vec<Parsed<'a>> {
    // A final newline ends the last line; it does not start a blank one.
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    let mut lines = Vec::new();
    for (i, raw) in body.split(|b| *b == b'\n').enumerate() {
        if let Some(line) = scan_line(raw, file, i as u64 + 1, out) {
            lines.push(line);
        }
    }
    if body.is_empty() {
        // An empty file holds no blank line.
        out.info.blank = 0;
    }
    parse_lines(lines, opts)
}

/// One line of a JSON Lines file: counted, and rejected when too long or not UTF-8;
/// `None` for a blank or rejected line.
fn scan_line<'a>(
    raw: &'a [u8],
    file: &str,
    line_no: u64,
    out: &mut ReadOutput,
) -> Option<(Origin, &'a str)> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if raw.iter().all(u8::is_ascii_whitespace) {
        out.info.blank += 1;
        return None;
    }
    out.info.rows += 1;
    let origin = Origin::line(file, line_no);
    if raw.len() > MAX_LINE_BYTES {
        let e = RowError::new(RowCode::LineTooLong, too_long("Line", raw.len()));
        out.rejects
            .push(e.reject(origin, String::from_utf8_lossy(raw)));
        return None;
    }
    // SIMD first (this runs on the reading thread, for every line); the standard check
    // only to say where a bad line goes wrong.
    if let Ok(line) = simdutf8::basic::from_utf8(raw) {
        return Some((origin, line));
    }
    match std::str::from_utf8(raw) {
        Ok(line) => Some((origin, line)),
        Err(e) => {
            let reason = format!("Line is not valid UTF-8 at byte {}", e.valid_up_to() + 1);
            let e = RowError::new(RowCode::NotUtf8, reason);
            out.rejects
                .push(e.reject(origin, String::from_utf8_lossy(raw)));
            None
        }
    }
}

/// Lines parse independently: in parallel, collected in file order.
fn parse_lines<'a>(lines: Vec<(Origin, &'a str)>, opts: &ReadOptions) -> Vec<Parsed<'a>> {
    use rayon::prelude::*;
    lines
        .into_par_iter()
        .with_min_len(256)
        .map(|(origin, line)| {
            let value = serde_json::from_str::<Value>(line)
                .map_err(|e| RowError::new(RowCode::InvalidJson, json_error(&e, line)));
            Parsed::new(origin, line, value, opts)
        })
        .collect()
}

/// Lines read at a time when a JSON Lines file is streamed.
const STREAM_LINES: usize = 4 * super::BATCH_ROWS;
/// Files smaller than this are read whole: streaming is for the large ones.
pub(crate) const STREAM_FROM_BYTES: u64 = 8 << 20;

/// Reads plain UTF-8 JSON Lines from `reader` the way [`read_bytes`] reads the whole file
/// (the same examples, rejects and info, in order), handing them to `sink` a batch of
/// lines at a time, so that only one batch of text is held. From the first
/// prompt/completion row on, the rest of the file is held and read at its end: the
/// framing of those rows depends on markers only known then. `seen` gets every byte read.
/// The caller has ruled out what only [`read_bytes`] handles: other encodings, a JSON
/// array, a JSON object over several lines.
pub(crate) fn stream<E: From<FormatError>>(
    reader: impl std::io::BufRead,
    file: &str,
    opts: &ReadOptions,
    seen: impl FnMut(&[u8]),
    sink: impl FnMut(super::Batch) -> Result<(), E>,
) -> Result<SourceInfo, E> {
    stream_in(reader, file, opts, STREAM_LINES, seen, sink)
}

fn stream_in<E: From<FormatError>>(
    mut reader: impl std::io::BufRead,
    file: &str,
    opts: &ReadOptions,
    batch_lines: usize,
    mut seen: impl FnMut(&[u8]),
    mut sink: impl FnMut(super::Batch) -> Result<(), E>,
) -> Result<SourceInfo, E> {
    let mut out = ReadOutput {
        info: SourceInfo {
            format: "jsonl".into(),
            encoding: "utf-8".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let io = |source| FormatError::Read {
        path: file.into(),
        source,
    };
    let mut tally = Tally::default();
    let mut held: Vec<(Origin, String, Row<Value>)> = Vec::new();
    let mut held_rejects: Vec<Reject> = Vec::new();
    let mut line_no = 0u64;
    let mut any = false;
    // One buffer per batch, with each line's end in it.
    let mut text: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::with_capacity(batch_lines);
    loop {
        text.clear();
        ends.clear();
        let mut at_end = false;
        while ends.len() < batch_lines.max(1) {
            let start = text.len();
            if reader.read_until(b'\n', &mut text).map_err(io)? == 0 {
                at_end = true;
                break;
            }
            seen(&text[start..]);
            if !any {
                any = true;
                if text.starts_with(b"\xEF\xBB\xBF") {
                    out.info.bom = true;
                    text.drain(..3);
                }
            }
            if text.last() == Some(&b'\n') {
                text.pop();
            }
            ends.push(text.len());
        }
        let first = line_no + 1;
        line_no += ends.len() as u64;
        let mut from = 0;
        let mut scanned: Vec<(Origin, &str)> = Vec::with_capacity(ends.len());
        for (k, &end) in ends.iter().enumerate() {
            if let Some(line) = scan_line(&text[from..end], file, first + k as u64, &mut out) {
                scanned.push(line);
            }
            from = end;
        }
        let mut batch = super::Batch {
            examples: Vec::new(),
            preferences: Vec::new(),
            rejects: std::mem::take(&mut out.rejects),
        };
        for p in parse_lines(scanned, opts) {
            match p.done {
                Some((item, t)) if held.is_empty() => {
                    tally.add(&t);
                    place(
                        item,
                        p.origin,
                        p.raw,
                        (
                            &mut batch.examples,
                            &mut batch.preferences,
                            &mut batch.rejects,
                        ),
                    );
                }
                // From the first prompt/completion row on, rows wait for the file's end.
                done => {
                    let value = match done {
                        Some(_) => serde_json::from_str::<Value>(p.raw).map_err(|e| {
                            RowError::new(RowCode::InvalidJson, json_error(&e, p.raw))
                        }),
                        None => p.value,
                    };
                    held.push((p.origin, p.raw.to_owned(), value));
                }
            }
        }
        if held.is_empty() {
            // Lines rejected while scanning come first: back to file order.
            batch.rejects.sort_by(|a, b| a.origin.cmp(&b.origin));
            if !batch.examples.is_empty()
                || !batch.preferences.is_empty()
                || !batch.rejects.is_empty()
            {
                sink(batch)?;
            }
        } else {
            held_rejects.append(&mut batch.rejects);
            // Examples can only be in a batch read before the first held row.
            if !batch.examples.is_empty() || !batch.preferences.is_empty() {
                sink(super::Batch {
                    rejects: Vec::new(),
                    ..batch
                })?;
            }
        }
        if at_end {
            break;
        }
    }
    let (rows, raws): (Vec<(Origin, Row<Value>)>, Vec<String>) = held
        .into_iter()
        .map(|(origin, raw, value)| ((origin, value), raw))
        .unzip();
    let parsed: Vec<Parsed<'_>> = rows
        .into_iter()
        .zip(&raws)
        .map(|((origin, value), raw)| Parsed {
            origin,
            raw,
            value,
            done: None,
        })
        .collect();
    let mut rest = ReadOutput::default();
    finish_with(parsed, opts, &mut rest, tally);
    rest.rejects.append(&mut held_rejects);
    rest.rejects.sort_by(|a, b| a.origin.cmp(&b.origin));
    out.info.notes.extend(rest.info.notes);
    if !rest.examples.is_empty() || !rest.preferences.is_empty() || !rest.rejects.is_empty() {
        sink(super::Batch {
            examples: rest.examples,
            preferences: rest.preferences,
            rejects: rest.rejects,
        })?;
    }
    Ok(out.info)
}

/// Why a line (or an item of a JSON array) over [`MAX_LINE_BYTES`] is rejected.
fn too_long(what: &str, len: usize) -> String {
    format!(
        "{what} is {}, over the {} limit for one example; no model takes an example that long",
        human_bytes(len as u64),
        human_bytes(MAX_LINE_BYTES as u64)
    )
}

fn utf8_document<'a>(body: &'a [u8], file: &str) -> Result<&'a str, FormatError> {
    std::str::from_utf8(body).map_err(|e| FormatError::NotUtf8 {
        file: file.to_owned(),
        line: line_of(body, e.valid_up_to()),
    })
}

fn read_array<'a>(
    doc: &'a str,
    file: &str,
    opts: &ReadOptions,
    out: &mut ReadOutput,
) -> Result<Vec<Parsed<'a>>, FormatError> {
    let items: Vec<&RawValue> = serde_json::from_str(doc).map_err(|e| {
        let at = afinar_core::json_error_at(&e, doc);
        FormatError::InvalidJsonDocument {
            file: file.to_owned(),
            line: at.line,
            column: at.column,
            message: at.message,
        }
    })?;
    let mut parsed = Vec::with_capacity(items.len());
    for item in items {
        // RawValue borrows from `doc`, so its address gives its offset and line.
        let offset = item.get().as_ptr() as usize - doc.as_ptr() as usize;
        let origin = Origin::line(file, line_of(doc.as_bytes(), offset));
        out.info.rows += 1;
        if item.get().len() > MAX_LINE_BYTES {
            let e = RowError::new(RowCode::LineTooLong, too_long("Item", item.get().len()));
            out.rejects.push(e.reject(origin, item.get()));
            continue;
        }
        let value = serde_json::from_str::<Value>(item.get())
            .map_err(|e| RowError::new(RowCode::InvalidJson, json_error(&e, item.get())));
        parsed.push(Parsed::new(origin, item.get(), value, opts));
    }
    Ok(parsed)
}

/// A document that starts with `{` and whose first line is not a whole JSON value is
/// either JSON Lines with a broken first line (read on, line by line) or one JSON object
/// spread over lines: a LLaMA-Factory `dataset_info.json`, a pretty-printed example, a
/// `{"data": [...]}` wrapper. The last is one error naming the file, not a reject per line.
fn object_document(body: &[u8], file: &str) -> Result<(), FormatError> {
    let first_line = body.split(|b| *b == b'\n').next().unwrap_or(body);
    if first_line.len() == body.trim_ascii_end().len()
        || serde_json::from_slice::<Value>(first_line).is_ok()
    {
        return Ok(());
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return Ok(());
    };
    let mut keys: Vec<String> = obj.keys().take(5).map(|k| format!("`{k}`")).collect();
    if obj.len() > keys.len() {
        keys.push(format!("… {} keys in all", obj.len()));
    }
    let is_dataset_info = !obj.is_empty()
        && obj.values().all(|v| {
            v.as_object().is_some_and(|d| {
                [
                    "file_name",
                    "hf_hub_url",
                    "ms_hub_url",
                    "script_url",
                    "formatting",
                ]
                .iter()
                .any(|k| d.contains_key(*k))
            })
        });
    let hint = if is_dataset_info {
        let files: Vec<String> = obj
            .values()
            .filter_map(|d| d.get("file_name").and_then(Value::as_str))
            .take(3)
            .map(|f| format!("`{f}`"))
            .collect();
        let named = if files.is_empty() {
            String::new()
        } else {
            format!(" ({})", files.join(", "))
        };
        format!(
            "it looks like LLaMA-Factory's `dataset_info.json`, which describes datasets; convert the data files it names{named} instead"
        )
    } else if let [(key, Value::Array(_))] = obj.iter().collect::<Vec<_>>().as_slice() {
        format!(
            "its `{key}` holds a list; save that list by itself (a JSON array) or one example per line"
        )
    } else if EXAMPLE_KEYS.iter().any(|k| obj.contains_key(*k)) {
        "it looks like one example spread over several lines; JSON Lines takes each example on one line".to_owned()
    } else {
        "convert takes JSON Lines (one example per line) or a JSON array of examples".to_owned()
    };
    Err(FormatError::JsonObjectDocument {
        file: file.to_owned(),
        keys: keys.join(", "),
        hint,
    })
}

/// Interprets the parsed rows, with the file's legacy completion markers found first.
fn finish(parsed: Vec<Parsed<'_>>, opts: &ReadOptions, out: &mut ReadOutput) {
    finish_with(parsed, opts, out, Tally::default());
}

/// [`finish`], counting KTO rows from `tally` (rows already read) too.
fn finish_with(parsed: Vec<Parsed<'_>>, opts: &ReadOptions, out: &mut ReadOutput, start: Tally) {
    let found = file_markers(&parsed, &opts.completion);
    let mut framing = opts.completion.clone();
    if !found.is_empty() {
        let what = found.describe();
        if opts.keep_markers {
            out.info.notes.push(format!(
                "Legacy completion markers kept (--keep-markers): {what}"
            ));
        } else {
            out.info.notes.push(format!(
                "Legacy completion markers removed: {what}; pass --keep-markers to keep them"
            ));
            let take = |m: &Option<markers::Marker>| m.as_ref().map(|m| m.text.clone());
            framing.prompt_suffix = take(&found.prompt_suffix).unwrap_or(framing.prompt_suffix);
            framing.completion_prefix =
                take(&found.completion_prefix).unwrap_or(framing.completion_prefix);
            framing.completion_suffix =
                take(&found.completion_suffix).unwrap_or(framing.completion_suffix);
        }
    }
    // Rows are independent (each with its own tally, summed): in parallel, in order.
    use rayon::prelude::*;
    let items: Vec<(Parsed<'_>, Row<Item>, Tally)> = parsed
        .into_par_iter()
        .with_min_len(64)
        .map(|mut p| {
            if let Some((item, tally)) = p.done.take() {
                return (p, item, tally);
            }
            let mut tally = Tally::default();
            let value = std::mem::replace(&mut p.value, Ok(Value::Null));
            let item = value.and_then(|v| item(v, &p.origin, opts, &framing, &mut tally));
            (p, item, tally)
        })
        .collect();
    let mut tally = start;
    for (p, item, t) in items {
        tally.add(&t);
        place(
            item,
            p.origin,
            p.raw,
            (&mut out.examples, &mut out.preferences, &mut out.rejects),
        );
    }
    if tally.kto_kept + tally.kto_rejected > 0 {
        out.info.notes.push(format!(
            "{} KTO rows (`label`/`kto_tag`): {} marked desirable read as chat examples, {} marked undesirable rejected",
            tally.kto_kept + tally.kto_rejected,
            tally.kto_kept,
            tally.kto_rejected
        ));
    }
}

/// The markers shared by the file's prompt/completion rows, for the parts the user did
/// not frame explicitly (`--prompt-suffix`, `--completion-prefix`, `--completion-suffix`).
fn file_markers(parsed: &[Parsed<'_>], explicit: &CompletionOptions) -> Markers {
    let rows = parsed.iter().filter_map(|p| match &p.value {
        Ok(Value::Object(o)) if shape_of(o) == Shape::Completion => {
            match (o.get("prompt"), o.get("completion")) {
                (Some(Value::String(p)), Some(Value::String(c))) => Some((p.as_str(), c.as_str())),
                _ => None,
            }
        }
        _ => None,
    });
    let mut found = markers::detect_markers(rows);
    if !explicit.prompt_suffix.is_empty() {
        found.prompt_suffix = None;
    }
    if !explicit.completion_prefix.is_empty() {
        found.completion_prefix = None;
    }
    if !explicit.completion_suffix.is_empty() {
        found.completion_suffix = None;
    }
    found
}

/// One JSON record read: a (chat) example or a DPO preference.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Item {
    Example(Example),
    Preference(Box<Preference>),
}

fn line_of(body: &[u8], offset: usize) -> u64 {
    body[..offset.min(body.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
        + 1
}

/// serde_json's message without its " at line L column C" tail, with the column up front,
/// counted in characters as an editor shows it (serde_json counts bytes).
pub(crate) fn json_error(e: &serde_json::Error, text: &str) -> String {
    let at = afinar_core::json_error_at(e, text);
    format!("Invalid JSON at column {}: {}", at.column, at.message)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// Turns one JSON value into an example, or says why not. A DPO preference line is
/// refused here; [`interpret_item`] takes those too.
pub fn interpret(value: Value, origin: &Origin, opts: &ReadOptions) -> Result<Example, RowError> {
    match interpret_item(value, origin, opts)? {
        Item::Example(e) => Ok(e),
        Item::Preference(_) => fail(
            RowCode::NotChat,
            "Line is a DPO preference example, not a chat example",
        ),
    }
}

/// Turns one JSON value into an example or a preference, or says why not. The shape is
/// told by its keys (see the module docs). Prompt/completion framing is taken from
/// `opts` as given; [`read_bytes`] also finds a file's legacy markers.
pub fn interpret_item(value: Value, origin: &Origin, opts: &ReadOptions) -> Result<Item, RowError> {
    item(value, origin, opts, &opts.completion, &mut Tally::default())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    OpenAiDpo,
    Ranking,
    Chat,
    Completion,
    Alpaca,
    ShareGpt,
    Unknown,
}

fn shape_of(obj: &Map<String, Value>) -> Shape {
    let has = |k: &str| obj.contains_key(k);
    if has("preferred_output") || has("non_preferred_output") {
        Shape::OpenAiDpo
    } else if has("chosen") || has("rejected") {
        Shape::Ranking
    } else if has("messages") {
        Shape::Chat
    } else if has("prompt") || has("completion") {
        Shape::Completion
    } else if has("instruction") {
        Shape::Alpaca
    } else if has("conversations") {
        Shape::ShareGpt
    } else {
        Shape::Unknown
    }
}

fn item(
    value: Value,
    origin: &Origin,
    opts: &ReadOptions,
    framing: &CompletionOptions,
    tally: &mut Tally,
) -> Row<Item> {
    let Value::Object(mut obj) = value else {
        return fail(
            RowCode::NotAnObject,
            format!("Line is a JSON {}, not an object", kind_of(&value)),
        );
    };
    media(&mut obj)?;
    match kto_label(&mut obj)? {
        Some(false) => {
            tally.kto_rejected += 1;
            return fail(
                RowCode::KtoNotSupported,
                "Row is KTO feedback marking its answer undesirable (`label: false`); afinar writes SFT and DPO data, and a KTO row is not a preferred/non-preferred pair, so it is not a training target. Pair it with a desirable answer as a DPO row (`chosen`/`rejected`) to use it",
            );
        }
        Some(true) => tally.kto_kept += 1,
        None => {}
    }
    match shape_of(&obj) {
        Shape::OpenAiDpo => dpo(obj, origin, opts).map(|p| Item::Preference(Box::new(p))),
        Shape::Ranking => ranking(obj, origin, opts).map(|p| Item::Preference(Box::new(p))),
        Shape::Chat => chat(obj, origin, opts).map(Item::Example),
        Shape::Completion => completion(obj, origin, opts, framing).map(Item::Example),
        Shape::Alpaca => alpaca(obj, origin, opts).map(Item::Example),
        Shape::ShareGpt => sharegpt(obj, origin, opts).map(Item::Example),
        Shape::Unknown => {
            let keys: Vec<String> = obj.keys().map(|k| format!("`{k}`")).collect();
            let found = if keys.is_empty() {
                "no keys".to_owned()
            } else {
                keys.join(", ")
            };
            fail(
                RowCode::UnknownShape,
                format!(
                    "Line has none of `messages`, `prompt`/`completion`, `instruction`/`output`, `conversations`, `chosen`/`rejected` or `preferred_output` (found {found})"
                ),
            )
        }
    }
}

/// LLaMA-Factory's `images`/`videos`/`audios` are local file paths with `<image>`
/// placeholders in the text; chat lines take images only as URLs inside content parts,
/// so a row with media is rejected (an empty list holds nothing and is dropped).
fn media(obj: &mut Map<String, Value>) -> Row<()> {
    for key in MEDIA_KEYS {
        match obj.get(*key) {
            None => {}
            Some(Value::Null) => {
                obj.remove(*key);
            }
            Some(Value::Array(list)) if list.is_empty() => {
                obj.remove(*key);
            }
            Some(v) => {
                let first = match v {
                    Value::Array(list) => list.first().cloned().unwrap_or(Value::Null),
                    other => other.clone(),
                };
                let shown = match &first {
                    Value::String(s) => format!(" (`{s}`)"),
                    _ => String::new(),
                };
                let placeholder = match *key {
                    "images" => "<image>",
                    "videos" => "<video>",
                    _ => "<audio>",
                };
                return fail(
                    RowCode::MediaNotSupported,
                    format!(
                        "Row has `{key}`{shown}; convert writes text-only examples, and chat lines take media only as URLs or data URIs inside a message's content parts, not as file paths. Remove `{key}` and the `{placeholder}` placeholders, or build those lines yourself and run `afinar check` on them"
                    ),
                );
            }
        }
    }
    Ok(())
}

/// A KTO row's boolean feedback (`label` in LLaMA-Factory's OpenAI-style files, `kto_tag`
/// in its alpaca ones), taken out of the row. A `label` that is not a boolean is an
/// ordinary meta column.
fn kto_label(obj: &mut Map<String, Value>) -> Row<Option<bool>> {
    if let Some(v) = obj.get("kto_tag") {
        return match v {
            Value::Bool(b) => {
                let b = *b;
                obj.remove("kto_tag");
                Ok(Some(b))
            }
            Value::Null => {
                obj.remove("kto_tag");
                Ok(None)
            }
            other => Err(wrong("`kto_tag`", other, "true or false")),
        };
    }
    match obj.get("label") {
        Some(Value::Bool(b)) => {
            let b = *b;
            obj.remove("label");
            Ok(Some(b))
        }
        _ => Ok(None),
    }
}

/// A required string field, normalised.
fn string_field(obj: &mut Map<String, Value>, key: &str, opts: &ReadOptions) -> Row<String> {
    match obj.remove(key) {
        Some(Value::String(s)) => Ok(text(s, opts)),
        Some(Value::Null) => fail(RowCode::MissingField, format!("`{key}` is null")),
        Some(other) => Err(wrong(format!("`{key}`"), &other, "a string")),
        None => Err(missing(key)),
    }
}

/// An optional string field: absent or null is `None`; empty after normalisation too.
fn optional_string(
    obj: &mut Map<String, Value>,
    key: &str,
    opts: &ReadOptions,
) -> Row<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => {
            obj.remove(key);
            Ok(None)
        }
        Some(_) => Ok(Some(string_field(obj, key, opts)?).filter(|s| !s.is_empty())),
    }
}

/// Whatever is left of the row becomes meta, unless it holds part of an example.
fn rest(obj: Map<String, Value>, shape: &str) -> Row<Meta> {
    if let Some(key) = obj
        .iter()
        .find(|(k, v)| EXAMPLE_KEYS.contains(&k.as_str()) && !v.is_null())
        .map(|(k, _)| k)
    {
        return fail(
            RowCode::MixedShapes,
            format!(
                "Row is {shape} but also has `{key}`, which belongs to another shape; keep one shape per row"
            ),
        );
    }
    Ok(meta(obj))
}

/// Messages being built, with the tool calls still waiting for their results, so that a
/// ShareGPT `observation` answers the `function_call` before it by id.
#[derive(Default)]
struct Turns {
    messages: Vec<Message>,
    /// Calls made so far in the example, which numbers their ids.
    calls: usize,
    pending: VecDeque<String>,
    /// The turn that made the pending calls, and how many results it has had.
    call_turn: usize,
    answered: usize,
}

impl Turns {
    /// Before a turn other than a tool result: calls are answered all, or none (the
    /// example may end on a call, which is what the model learns to make).
    fn settle(&mut self) -> Row<()> {
        if !self.pending.is_empty() && self.answered > 0 {
            return fail(
                RowCode::UnmatchedToolResult,
                format!(
                    "Turn {} makes {} tool calls but only {} results follow it; each call needs its result",
                    self.call_turn,
                    self.answered + self.pending.len(),
                    self.answered
                ),
            );
        }
        self.pending.clear();
        self.answered = 0;
        Ok(())
    }

    fn push(&mut self, m: Message) -> Row<()> {
        self.settle()?;
        self.messages.push(m);
        Ok(())
    }

    /// A `function_call` turn: `{"name", "arguments"}` or a list of them, as a JSON string.
    fn call(&mut self, n: usize, value: &str) -> Row<()> {
        self.settle()?;
        let bad = |why: String| {
            RowError::new(
                RowCode::InvalidToolCall,
                format!(
                    "Turn {n} (`function_call`) {why}; it takes {{\"name\": …, \"arguments\": {{…}}}} or a list of those"
                ),
            )
        };
        let parsed: Value = serde_json::from_str(value).map_err(|e| {
            bad(format!(
                "is not JSON ({})",
                afinar_core::json_error_at(&e, value).message
            ))
        })?;
        let list = match parsed {
            Value::Array(list) if !list.is_empty() => list,
            Value::Array(_) => return Err(bad("holds no call".into())),
            obj @ Value::Object(_) => vec![obj],
            other => return Err(bad(format!("is a JSON {}", kind_of(&other)))),
        };
        let mut calls = Vec::with_capacity(list.len());
        for call in list {
            let Value::Object(mut call) = call else {
                return Err(bad("holds a call that is not an object".into()));
            };
            let name = match call.remove("name") {
                Some(Value::String(s)) if !s.is_empty() => s,
                _ => return Err(bad("has a call without a `name`".into())),
            };
            let arguments = match call.remove("arguments") {
                None | Some(Value::Null) => "{}".to_owned(),
                Some(Value::String(s)) => s,
                Some(other) => other.to_string(),
            };
            if let Some(key) = call.keys().next() {
                return Err(bad(format!("has a call with unknown key `{key}`")));
            }
            self.calls += 1;
            let id = format!("call_{}", self.calls);
            self.pending.push_back(id.clone());
            calls.push(json!({
                "id": id,
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }));
        }
        self.call_turn = n;
        let mut m = Message::new(Role::Assistant, "");
        m.tool_calls = Some(Box::new(Value::Array(calls)));
        self.messages.push(m);
        Ok(())
    }

    /// A tool result. Without an id it answers the oldest pending call; `required` says a
    /// result with no call before it is an error (a ShareGPT `observation` must answer one).
    fn result(&mut self, n: usize, mut m: Message, required: bool) -> Row<()> {
        match &m.tool_call_id {
            Some(id) => {
                if let Some(at) = self.pending.iter().position(|p| p == id) {
                    self.pending.remove(at);
                    self.answered += 1;
                }
            }
            None => match self.pending.pop_front() {
                Some(id) => {
                    self.answered += 1;
                    m.tool_call_id = Some(id);
                }
                None if required => {
                    return fail(
                        RowCode::UnmatchedToolResult,
                        format!(
                            "Turn {n} is a tool result (`observation`) with no `function_call` before it to answer"
                        ),
                    );
                }
                None => {}
            },
        }
        self.messages.push(m);
        Ok(())
    }

    fn finish(mut self) -> Row<Vec<Message>> {
        self.settle()?;
        Ok(self.messages)
    }
}

/// LLaMA-Factory's role names for tool calls and results, which are not OpenAI roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Speaker {
    Role(Role),
    FunctionCall,
    Observation,
}

fn speaker(who: &str, opts: &ReadOptions) -> Option<Speaker> {
    match who.trim().to_ascii_lowercase().as_str() {
        "function_call" => Some(Speaker::FunctionCall),
        "observation" => Some(Speaker::Observation),
        _ => opts.aliases.resolve(who).map(Speaker::Role),
    }
}

/// One ShareGPT turn, `{from, value}` (or `{role, content}`).
fn turn(value: Value, n: usize, opts: &ReadOptions, turns: &mut Turns) -> Row<()> {
    let Value::Object(mut t) = value else {
        return fail(
            RowCode::NotAnObject,
            format!("Turn {n} is a JSON {}, not an object", kind_of(&value)),
        );
    };
    if let Some(key) = t.keys().find(|k| !TURN_KEYS.contains(&k.as_str())) {
        return fail(
            RowCode::UnknownKey,
            format!("Turn {n} has unknown key `{key}`; ShareGPT turns take `from` and `value`"),
        );
    }
    let who = match (t.remove("from"), t.remove("role")) {
        (Some(Value::String(r)), _) | (None, Some(Value::String(r))) => r,
        (None, None) => return fail(RowCode::MissingField, format!("Turn {n} has no `from`")),
        _ => {
            return fail(
                RowCode::WrongType,
                format!("Turn {n} has a `from` that is not a string"),
            );
        }
    };
    let Some(who_is) = speaker(&who, opts) else {
        return fail(
            RowCode::UnknownRole,
            format!(
                "Turn {n} is from unknown role `{who}`; use human, gpt, system, function_call, observation (or user, assistant, tool), or add an alias"
            ),
        );
    };
    let label = match who_is {
        Speaker::Role(r) => r.to_string(),
        _ => who.clone(),
    };
    let raw = match (t.remove("value"), t.remove("content")) {
        (Some(Value::String(s)), _) | (None, Some(Value::String(s))) => s,
        (None, None) => {
            return fail(
                RowCode::MissingField,
                format!("Turn {n} ({label}) has no `value`"),
            );
        }
        _ => {
            return fail(
                RowCode::WrongType,
                format!("Turn {n} ({label}) has a `value` that is not a string"),
            );
        }
    };
    if who_is == Speaker::FunctionCall {
        return turns.call(n, &raw);
    }
    let content = text(raw, opts);
    if content.is_empty() {
        return fail(
            RowCode::EmptyContent,
            format!("Turn {n} ({label}) has an empty `value`"),
        );
    }
    match who_is {
        Speaker::Observation | Speaker::Role(Role::Tool) => {
            turns.result(n, Message::new(Role::Tool, content), true)
        }
        Speaker::Role(role) => turns.push(Message::new(role, content)),
        Speaker::FunctionCall => unreachable!("handled above"),
    }
}

/// A list of turns under `key`.
fn list(obj: &mut Map<String, Value>, key: &str) -> Row<Vec<Value>> {
    match obj.remove(key) {
        Some(Value::Array(list)) if list.is_empty() => {
            fail(RowCode::EmptyContent, format!("`{key}` is empty"))
        }
        Some(Value::Array(list)) => Ok(list),
        Some(other) => Err(wrong(format!("`{key}`"), &other, "a list")),
        None => Err(missing(key)),
    }
}

/// ShareGPT's `conversations`, behind the `system` string when there is one.
fn sharegpt_turns(obj: &mut Map<String, Value>, opts: &ReadOptions) -> Row<Vec<Message>> {
    let list = list(obj, "conversations")?;
    let mut turns = Turns::default();
    if let Some(system) = optional_string(obj, "system", opts)? {
        turns.push(Message::new(Role::System, system))?;
    }
    for (i, t) in list.into_iter().enumerate() {
        turn(t, i + 1, opts, &mut turns)?;
    }
    turns.finish()
}

/// ShareGPT: `conversations` of `{from, value}` (or `{role, content}`), roles through
/// the aliases (`human`, `gpt`…), `function_call` turns as assistant tool calls and
/// `observation` turns as the tool messages answering them; a top-level `system` string
/// goes first and `tools` become the chat line's tools.
fn sharegpt(mut obj: Map<String, Value>, origin: &Origin, opts: &ReadOptions) -> Row<Example> {
    let messages = sharegpt_turns(&mut obj, opts)?;
    let mut example = Example::new(messages, origin.clone());
    if let Some(tools) = take_tools(&mut obj)? {
        example.extra.insert("tools".into(), tools);
    }
    example.meta = rest(obj, "a ShareGPT row")?;
    Ok(example)
}

/// Alpaca's prompt: the system string, the `history` pairs, then the user turn (the
/// instruction, and after a blank line the input when there is one).
fn alpaca_prompt(obj: &mut Map<String, Value>, opts: &ReadOptions) -> Row<Vec<Message>> {
    let instruction = string_field(obj, "instruction", opts)?;
    let input = optional_string(obj, "input", opts)?;
    let system = optional_string(obj, "system", opts)?;
    if instruction.is_empty() {
        return fail(RowCode::EmptyContent, "`instruction` is empty");
    }
    let mut messages = Vec::new();
    if let Some(system) = system {
        messages.push(Message::new(Role::System, system));
    }
    match obj.remove("history") {
        None | Some(Value::Null) => {}
        Some(Value::Array(pairs)) => {
            for (i, pair) in pairs.into_iter().enumerate() {
                let n = i + 1;
                let texts = match &pair {
                    Value::Array(p) if p.len() == 2 => p.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                let [q, a] = texts.as_slice() else {
                    return fail(
                        RowCode::WrongType,
                        format!("`history` item {n} is not a [question, answer] pair of strings"),
                    );
                };
                let (q, a) = (text(*q, opts), text(*a, opts));
                if q.is_empty() || a.is_empty() {
                    return fail(
                        RowCode::EmptyContent,
                        format!("`history` item {n} has an empty question or answer"),
                    );
                }
                messages.push(Message::new(Role::User, q));
                messages.push(Message::new(Role::Assistant, a));
            }
        }
        Some(other) => return Err(wrong("`history`", &other, "a list of pairs")),
    }
    let user = match input {
        Some(input) => format!("{instruction}\n\n{input}"),
        None => instruction,
    };
    messages.push(Message::new(Role::User, user));
    Ok(messages)
}

/// Alpaca: the prompt as [`alpaca_prompt`] builds it, and the output as the answer.
fn alpaca(mut obj: Map<String, Value>, origin: &Origin, opts: &ReadOptions) -> Row<Example> {
    let output = string_field(&mut obj, "output", opts);
    let mut messages = alpaca_prompt(&mut obj, opts)?;
    let output = output?;
    if output.is_empty() {
        return fail(RowCode::EmptyContent, "`output` is empty");
    }
    messages.push(Message::new(Role::Assistant, output));
    let mut example = Example::new(messages, origin.clone());
    if let Some(tools) = take_tools(&mut obj)? {
        example.extra.insert("tools".into(), tools);
    }
    example.meta = rest(obj, "an alpaca row")?;
    Ok(example)
}

/// LLaMA-Factory preference rows (`ranking: true`): the prompt in any of its shapes
/// (ShareGPT `conversations`, OpenAI-style `messages`, alpaca `instruction`), and the
/// answers in `chosen` and `rejected`: strings (alpaca) or one turn each (ShareGPT).
fn ranking(mut obj: Map<String, Value>, origin: &Origin, opts: &ReadOptions) -> Row<Preference> {
    let chosen = obj.remove("chosen").filter(|v| !v.is_null());
    let rejected = obj.remove("rejected").filter(|v| !v.is_null());
    let (chosen, rejected) = match (chosen, rejected) {
        (Some(c), Some(r)) => (c, r),
        (c, _) => {
            let (has, lacks) = if c.is_some() {
                ("chosen", "rejected")
            } else {
                ("rejected", "chosen")
            };
            return fail(
                RowCode::IncompletePair,
                format!("Row has `{has}` but no `{lacks}`; a preference pair needs both answers"),
            );
        }
    };
    let input = if obj.contains_key("conversations") {
        sharegpt_turns(&mut obj, opts)?
    } else if obj.contains_key("messages") {
        chat_messages(&mut obj, opts)?
    } else if obj.contains_key("instruction") {
        alpaca_prompt(&mut obj, opts)?
    } else {
        return fail(
            RowCode::MissingField,
            "Row has `chosen` and `rejected` but no `conversations`, `messages` or `instruction` saying what they answer",
        );
    };
    if take_tools(&mut obj)?.is_some() {
        return fail(
            RowCode::ToolsInPreference,
            "Preference row has `tools`; afinar's DPO lines do not carry tool definitions yet, so the pair would lose them",
        );
    }
    let preferred = answer(chosen, "chosen", opts)?;
    let non_preferred = answer(rejected, "rejected", opts)?;
    Ok(Preference {
        input,
        preferred,
        non_preferred,
        origin: origin.clone(),
        meta: rest(obj, "a preference row")?,
    })
}

/// One answer of a pair: a string, or one assistant turn or message (alone or in a list).
fn answer(value: Value, key: &str, opts: &ReadOptions) -> Row<Message> {
    let one = match value {
        Value::String(s) => {
            let content = text(s, opts);
            if content.is_empty() {
                return fail(RowCode::EmptyContent, format!("`{key}` is empty"));
            }
            return Ok(Message::new(Role::Assistant, content));
        }
        Value::Array(list) if list.len() == 1 => list.into_iter().next().unwrap_or_default(),
        Value::Array(list) => {
            return fail(
                RowCode::WrongType,
                format!(
                    "`{key}` has {} messages; it takes exactly one assistant answer",
                    list.len()
                ),
            );
        }
        other => other,
    };
    let mut turns = Turns::default();
    let sharegpt = one
        .as_object()
        .is_some_and(|o| o.contains_key("from") || o.contains_key("value"));
    if sharegpt {
        turn(one, 1, opts, &mut turns)
    } else if one.is_object() {
        message(one, 1, opts, &mut turns)
    } else {
        Err(wrong(
            format!("`{key}`"),
            &one,
            "a string or an answer turn",
        ))
    }
    .map_err(|e| RowError::new(e.code, format!("In `{key}`: {}", e.message)))?;
    let mut messages = turns.finish()?;
    match messages.pop() {
        Some(m) if m.role == Role::Assistant && messages.is_empty() => Ok(m),
        Some(m) => fail(
            RowCode::WrongType,
            format!(
                "`{key}` holds a {} message; it must be from the assistant",
                m.role
            ),
        ),
        None => fail(RowCode::EmptyContent, format!("`{key}` is empty")),
    }
}

/// OpenAI DPO: `input.messages`, and one assistant message in each of
/// `preferred_output` and `non_preferred_output`.
fn dpo(mut obj: Map<String, Value>, origin: &Origin, opts: &ReadOptions) -> Row<Preference> {
    let input = match obj.remove("input") {
        Some(Value::Object(input)) => input,
        Some(other) => return Err(wrong("`input`", &other, "an object with `messages`")),
        None => return Err(missing("input")),
    };
    let input = chat(input, origin, opts)
        .map_err(|e| RowError::new(e.code, format!("In `input`: {}", e.message)))?;
    if !input.extra.is_empty() {
        return fail(
            RowCode::ToolsInPreference,
            "`input` has tool definitions; afinar's DPO lines do not carry them yet, so the pair would lose them",
        );
    }
    let mut output = |key: &str| -> Row<Message> {
        match obj.remove(key) {
            None => Err(missing(key)),
            Some(v @ (Value::Array(_) | Value::Object(_))) => answer(v, key, opts),
            Some(other) => Err(wrong(format!("`{key}`"), &other, "a list of one message")),
        }
    };
    let preferred = output("preferred_output")?;
    let non_preferred = output("non_preferred_output")?;
    Ok(Preference {
        input: input.messages,
        preferred,
        non_preferred,
        origin: origin.clone(),
        meta: rest(obj, "an OpenAI DPO row")?,
    })
}

/// `messages`, with a top-level `system` string put first when there is no system
/// message already.
fn chat_messages(obj: &mut Map<String, Value>, opts: &ReadOptions) -> Row<Vec<Message>> {
    let list = list(obj, "messages")?;
    let mut turns = Turns::default();
    for (i, m) in list.into_iter().enumerate() {
        message(m, i + 1, opts, &mut turns)?;
    }
    let mut messages = turns.finish()?;
    if let Some(system) = optional_string(obj, "system", opts)? {
        if messages.iter().any(|m| m.role.is_instruction()) {
            return fail(
                RowCode::MixedShapes,
                "Row has both a `system` key and a system message in `messages`; keep one",
            );
        }
        messages.insert(0, Message::new(Role::System, system));
    }
    Ok(messages)
}

fn chat(mut obj: Map<String, Value>, origin: &Origin, opts: &ReadOptions) -> Row<Example> {
    let messages = chat_messages(&mut obj, opts)?;
    let mut example = Example::new(messages, origin.clone());
    let mut extra = BTreeMap::new();
    if let Some(tools) = take_tools(&mut obj)? {
        extra.insert("tools".to_owned(), tools);
    }
    for key in CHAT_EXTRA_KEYS {
        if let Some(v) = obj.remove(*key).filter(|v| !v.is_null()) {
            extra.insert((*key).to_owned(), v);
        }
    }
    example.extra = extra;
    example.meta = rest(obj, "a chat row")?;
    Ok(example)
}

/// One OpenAI chat message (LLaMA-Factory's `function_call` and `observation` roles
/// included).
fn message(value: Value, n: usize, opts: &ReadOptions, turns: &mut Turns) -> Row<()> {
    let Value::Object(mut m) = value else {
        return fail(
            RowCode::NotAnObject,
            format!("Message {n} is a JSON {}, not an object", kind_of(&value)),
        );
    };
    if let Some(key) = m.keys().find(|k| !MESSAGE_KEYS.contains(&k.as_str())) {
        return fail(
            RowCode::UnknownKey,
            format!(
                "Message {n} has unknown key `{key}`; messages take role, content, name, weight, tool_calls and tool_call_id"
            ),
        );
    }
    let (who, role) = match m.remove("role") {
        Some(Value::String(r)) => match speaker(&r, opts) {
            Some(s) => (r, s),
            None => {
                return fail(
                    RowCode::UnknownRole,
                    format!(
                        "Message {n} has unknown role `{r}`; use system, developer, user, assistant or tool, or add an alias"
                    ),
                );
            }
        },
        Some(other) => {
            return fail(
                RowCode::WrongType,
                format!("Message {n} has a {} `role`, not a string", kind_of(&other)),
            );
        }
        None => return fail(RowCode::MissingField, format!("Message {n} has no `role`")),
    };
    let label = match role {
        Speaker::Role(r) => r.to_string(),
        _ => who,
    };
    let tool_calls = m.remove("tool_calls").filter(|v| !v.is_null());
    let raw = match m.remove("content") {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None if tool_calls.is_some() => String::new(),
        Some(Value::Null) => {
            return fail(
                RowCode::MissingField,
                format!("Message {n} ({label}) has null `content`"),
            );
        }
        None => {
            return fail(
                RowCode::MissingField,
                format!("Message {n} ({label}) has no `content`"),
            );
        }
        Some(Value::Array(parts)) => text_parts(parts, n, &label)?,
        Some(other) => {
            return fail(
                RowCode::WrongType,
                format!(
                    "Message {n} ({label}) has a {} `content`, not a string",
                    kind_of(&other)
                ),
            );
        }
    };
    if role == Speaker::FunctionCall {
        return turns.call(n, &raw);
    }
    let content = text(raw, opts);
    if content.is_empty() && tool_calls.is_none() {
        return fail(
            RowCode::EmptyContent,
            format!("Message {n} ({label}) has empty `content`"),
        );
    }
    let name = match m.remove("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return fail(
                RowCode::WrongType,
                format!("Message {n} has a {} `name`, not a string", kind_of(&other)),
            );
        }
    };
    let weight = match m.remove("weight") {
        None | Some(Value::Null) => None,
        Some(Value::Number(w)) if w.as_u64() == Some(0) => Some(0),
        Some(Value::Number(w)) if w.as_u64() == Some(1) => Some(1),
        Some(other) => {
            return fail(
                RowCode::InvalidWeight,
                format!("Message {n} has `weight` {other}; it must be 0 or 1"),
            );
        }
    };
    let tool_call_id = match m.remove("tool_call_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return fail(
                RowCode::WrongType,
                format!(
                    "Message {n} has a {} `tool_call_id`, not a string",
                    kind_of(&other)
                ),
            );
        }
    };
    let m = Message {
        role: match role {
            Speaker::Role(r) => r,
            _ => Role::Tool,
        },
        content,
        name,
        weight,
        tool_calls: tool_calls.map(Box::new),
        tool_call_id,
    };
    match role {
        Speaker::Observation => turns.result(n, m, true),
        Speaker::Role(Role::Tool) => turns.result(n, m, false),
        _ => turns.push(m),
    }
}

/// A content given as a list of parts: text parts are read, joined by line breaks;
/// images, audio and files are refused, since convert writes text-only messages.
fn text_parts(parts: Vec<Value>, n: usize, label: &str) -> Row<String> {
    let mut texts = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
        // LLaMA-Factory's v1 files say `value` where OpenAI says `text`.
        match (kind, part.get("text").or_else(|| part.get("value"))) {
            ("text" | "input_text", Some(Value::String(t))) => texts.push(t.clone()),
            ("" | "text" | "input_text", _) => {
                return fail(
                    RowCode::WrongType,
                    format!(
                        "Message {n} ({label}) content part {} is not a `{{\"type\": \"text\", \"text\": …}}` part",
                        i + 1
                    ),
                );
            }
            (other, _) => {
                return fail(
                    RowCode::MediaNotSupported,
                    format!(
                        "Message {n} ({label}) has a `{other}` content part; convert writes text-only messages. Check such a file as it is with `afinar check`"
                    ),
                );
            }
        }
    }
    Ok(texts.join("\n"))
}

/// `tools` as the chat format has them: `[{"type": "function", "function": {…}}]`.
/// LLaMA-Factory writes them as a JSON string holding a list of bare function
/// definitions (`{"name", "description", "parameters"}`); those are parsed and wrapped.
/// An empty list (`"[]"`) holds nothing and gives `None`.
fn take_tools(obj: &mut Map<String, Value>) -> Row<Option<Value>> {
    let bad = |why: String| {
        RowError::new(
            RowCode::InvalidTools,
            format!(
                "`tools` {why}; it takes a list of function definitions (`name`, `description`, `parameters`)"
            ),
        )
    };
    let value = match obj.remove("tools") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => serde_json::from_str::<Value>(&s).map_err(|e| {
            bad(format!(
                "is a string that is not JSON ({})",
                afinar_core::json_error_at(&e, &s).message
            ))
        })?,
        Some(v) => v,
    };
    let list = match value {
        Value::Array(list) => list,
        obj @ Value::Object(_) => vec![obj],
        other => return Err(bad(format!("is a {}", kind_of(&other)))),
    };
    if list.is_empty() {
        return Ok(None);
    }
    let mut tools = Vec::with_capacity(list.len());
    for (i, tool) in list.into_iter().enumerate() {
        match tool {
            Value::Object(t) if t.contains_key("type") => tools.push(Value::Object(t)),
            Value::Object(t) if t.get("name").is_some_and(Value::is_string) => {
                tools.push(json!({"type": "function", "function": t}));
            }
            _ => return Err(bad(format!("item {} has no `name`", i + 1))),
        }
    }
    Ok(Some(Value::Array(tools)))
}

fn completion(
    mut obj: Map<String, Value>,
    origin: &Origin,
    opts: &ReadOptions,
    framing: &CompletionOptions,
) -> Row<Example> {
    let mut field = |key: &str| match obj.remove(key) {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Null) => fail(RowCode::MissingField, format!("`{key}` is null")),
        Some(other) => Err(wrong(format!("`{key}`"), &other, "a string")),
        None => Err(missing(key)),
    };
    let pc = Completion {
        prompt: field("prompt")?,
        completion: field("completion")?,
    };
    // Separators are stripped before normalisation, which would trim them.
    let mut example = pc.to_example(None, framing, origin.clone());
    for m in &mut example.messages {
        m.content = text(std::mem::take(&mut m.content), opts);
    }
    for (key, m) in ["prompt", "completion"].iter().zip(&example.messages) {
        if m.content.is_empty() {
            return fail(RowCode::EmptyContent, format!("`{key}` is empty"));
        }
    }
    example.meta = rest(obj, "a prompt/completion row")?;
    Ok(example)
}

/// Remaining top-level keys become meta: strings as they are, other values as JSON.
fn meta(obj: Map<String, Value>) -> Meta {
    obj.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use afinar_core::Role;

    use super::*;

    fn read(s: &str) -> ReadOutput {
        read_bytes(s.as_bytes(), "t.jsonl", &ReadOptions::default()).unwrap()
    }

    fn reasons(out: &ReadOutput) -> Vec<(String, String)> {
        out.rejects
            .iter()
            .map(|r| (r.origin.to_string(), r.reason.clone()))
            .collect()
    }

    /// `stream_in` in batches of `batch` lines, gathered into one output.
    fn streamed(bytes: &[u8], batch: usize, opts: &ReadOptions) -> (ReadOutput, Vec<u8>) {
        let mut out = ReadOutput::default();
        let mut seen = Vec::new();
        let info = stream_in::<FormatError>(
            bytes,
            "t.jsonl",
            opts,
            batch,
            |b| seen.extend_from_slice(b),
            |b| {
                out.examples.extend(b.examples);
                out.preferences.extend(b.preferences);
                out.rejects.extend(b.rejects);
                Ok(())
            },
        )
        .unwrap();
        out.info = info;
        (out, seen)
    }

    fn same_as_whole(bytes: &[u8], what: &str) {
        for opts in [
            ReadOptions::default(),
            ReadOptions {
                keep_markers: true,
                ..ReadOptions::default()
            },
        ] {
            let whole = read_bytes(bytes, "t.jsonl", &opts).unwrap();
            for batch in [1, 2, 3, 7, 64, 100_000] {
                let (got, seen) = streamed(bytes, batch, &opts);
                assert_eq!(seen, bytes, "{what}: every byte is seen once");
                assert_eq!(got.examples, whole.examples, "{what}, batches of {batch}");
                assert_eq!(
                    got.preferences, whole.preferences,
                    "{what}, batches of {batch}"
                );
                assert_eq!(got.rejects, whole.rejects, "{what}, batches of {batch}");
                assert_eq!(got.info, whole.info, "{what}, batches of {batch}");
            }
        }
    }

    #[test]
    fn streamed_lines_read_as_the_whole_file_does() {
        let chat = |q: &str, a: &str| {
            format!(
                "{{\"messages\":[{{\"role\":\"user\",\"content\":\"{q}\"}},{{\"role\":\"assistant\",\"content\":\"{a}\"}}]}}"
            )
        };
        let long = format!("{{\"prompt\":\"{}\"}}", "x".repeat(MAX_LINE_BYTES + 1));
        let mut lines: Vec<String> = vec![
            format!("\u{FEFF}{}", chat("Oi", "Olá")),
            String::new(),
            chat("O que é o MEI?", "Microempreendedor individual.  "),
            "{\"messages\": [".into(),
            "   ".into(),
            "[1]".into(),
            long,
            chat("Posso?", "Sim\r"),
            "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}],\"label\":false}".into(),
            "{\"messages\":[{\"role\":\"user\",\"content\":\"c\"},{\"role\":\"assistant\",\"content\":\"d\"}],\"label\":true}".into(),
            "{\"prompt\":\"Qual o prazo do DAS?\\n\\n###\\n\\n\",\"completion\":\" Dia 20. END\"}".into(),
            chat("Depois do primeiro prompt", "Segue em ordem"),
            "{\"prompt\":\"E o do MEI?\\n\\n###\\n\\n\",\"completion\":\" Também. END\"}".into(),
            "{\"prompt\":\"x\", \"completion\": 3}".into(),
            "{\"chosen\":[{\"role\":\"user\",\"content\":\"p\"},{\"role\":\"assistant\",\"content\":\"c\"}],\"rejected\":[{\"role\":\"user\",\"content\":\"p\"},{\"role\":\"assistant\",\"content\":\"r\"}]}".into(),
        ];
        let mut bytes = lines.join("\r\n").into_bytes();
        bytes.extend_from_slice(b"\n");
        // Not UTF-8, in the middle.
        bytes.extend_from_slice(b"{\"messages\": \"\xff\"}\n");
        bytes.extend_from_slice(chat("Fim", "sem quebra de linha").as_bytes());
        same_as_whole(&bytes, "messy file");
        // Chat rows only, then no final newline, then a final blank line.
        lines.truncate(3);
        same_as_whole(lines.join("\n").as_bytes(), "chat rows");
        same_as_whole(
            format!("{}\n\n", lines.join("\n")).as_bytes(),
            "final blank line",
        );
        // Every JSON Lines fixture.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let mut stack = vec![root];
        let mut n = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "jsonl") {
                    let bytes = std::fs::read(&path).unwrap();
                    let utf16 = bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF");
                    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
                    if !utf16
                        && !bytes.is_empty()
                        && first != Some(&b'[')
                        && bytes != b"\n"
                        && let Ok(whole) = read_bytes(&bytes, "t.jsonl", &ReadOptions::default())
                        && whole.info.format == "jsonl"
                    {
                        same_as_whole(&bytes, &path.display().to_string());
                        n += 1;
                    }
                }
            }
        }
        assert!(n > 30, "{n} fixtures compared");
    }

    #[test]
    fn reads_chat_and_completion_lines_with_bom_crlf_and_blank_lines() {
        let out = read(
            "\u{FEFF}{\"messages\":[{\"role\":\"user\",\"content\":\"Oi\"},{\"role\":\"assistant\",\"content\":\"Olá\"}]}\r\n\r\n{\"prompt\":\"P\",\"completion\":\"C\",\"tema\":\"MEI\"}\n",
        );
        assert!(out.info.bom);
        assert_eq!(
            (out.info.rows, out.info.blank, out.rejects.len()),
            (2, 1, 0)
        );
        assert_eq!(out.examples[0].messages[1].content, "Olá");
        assert_eq!(out.examples[1].question(), Some("P"));
        assert_eq!(out.examples[1].meta["tema"], "MEI");
        assert_eq!(out.examples[1].origin.to_string(), "t.jsonl:3");
    }

    fn codes(out: &ReadOutput) -> Vec<(String, &'static str)> {
        out.rejects
            .iter()
            .map(|r| (r.origin.to_string(), r.code))
            .collect()
    }

    #[test]
    fn every_reject_carries_a_stable_code() {
        let out = read(concat!(
            "{\"messages\": [\n",
            "[1]\n",
            "{\"text\": \"x\"}\n",
            "{\"messages\": [{\"role\": \"robot\", \"content\": \"a\"}]}\n",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"\"}]}\n",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"a\", \"extra\": 1}]}\n",
        ));
        assert_eq!(
            codes(&out),
            vec![
                ("t.jsonl:1".into(), "invalid_json"),
                ("t.jsonl:2".into(), "not_an_object"),
                ("t.jsonl:3".into(), "unknown_shape"),
                ("t.jsonl:4".into(), "unknown_role"),
                ("t.jsonl:5".into(), "empty_content"),
                ("t.jsonl:6".into(), "unknown_key"),
            ]
        );
    }

    #[test]
    fn a_line_cut_inside_a_string_says_so() {
        let out = read("{\"prompt\": \"Qual o prazo?\", \"completion\": \"Até o dia 2\n");
        assert_eq!(
            out.rejects[0].reason,
            "Invalid JSON at column 54: the line ends inside the string that starts at column 43; a closing `\"` is missing (was the line cut short?)"
        );
    }

    #[test]
    fn sharegpt_and_alpaca_preference_rows_are_dpo_pairs() {
        let out = read(concat!(
            r#"{"conversations": [{"from": "human", "value": "Prazo do DAS?"}], "chosen": {"from": "gpt", "value": "Dia 20."}, "rejected": {"from": "gpt", "value": "Fim do ano."}, "id": 1}"#,
            "\n",
            r#"{"instruction": "Alíquota?", "input": "Anexo III", "chosen": "6%.", "rejected": "20%."}"#,
            "\n",
            r#"{"messages": [{"role": "user", "content": "Oi"}], "chosen": {"role": "assistant", "content": "Olá!"}, "rejected": [{"role": "assistant", "content": "Hm."}]}"#,
            "\n",
            r#"{"conversations": [{"from": "human", "value": "Só uma?"}], "chosen": {"from": "gpt", "value": "Sim."}}"#,
            "\n",
            r#"{"conversations": [{"from": "human", "value": "Quem?"}], "chosen": {"from": "human", "value": "Eu."}, "rejected": "Ele."}"#,
            "\n",
        ));
        assert!(out.examples.is_empty());
        assert_eq!(out.preferences.len(), 3);
        let p = &out.preferences[0];
        assert_eq!(p.input, vec![Message::new(Role::User, "Prazo do DAS?")]);
        assert_eq!(p.preferred, Message::new(Role::Assistant, "Dia 20."));
        assert_eq!(
            p.non_preferred,
            Message::new(Role::Assistant, "Fim do ano.")
        );
        assert_eq!(p.meta["id"], "1");
        let a = &out.preferences[1];
        assert_eq!(a.input[0].content, "Alíquota?\n\nAnexo III");
        assert_eq!(
            (
                a.preferred.content.as_str(),
                a.non_preferred.content.as_str()
            ),
            ("6%.", "20%.")
        );
        assert_eq!(out.preferences[2].non_preferred.content, "Hm.");
        assert_eq!(
            reasons(&out),
            vec![
                (
                    "t.jsonl:4".into(),
                    "Row has `chosen` but no `rejected`; a preference pair needs both answers"
                        .into()
                ),
                (
                    "t.jsonl:5".into(),
                    "`chosen` holds a user message; it must be from the assistant".into()
                ),
            ]
        );
        assert_eq!(out.rejects[0].code, "incomplete_pair");
    }

    #[test]
    fn kto_rows_keep_desirable_answers_and_reject_undesirable_ones() {
        let out = read(concat!(
            r#"{"messages": [{"role": "user", "content": "A?"}, {"role": "assistant", "content": "Boa."}], "label": true}"#,
            "\n",
            r#"{"messages": [{"role": "user", "content": "B?"}, {"role": "assistant", "content": "Ruim."}], "label": false}"#,
            "\n",
            r#"{"instruction": "C?", "output": "Ruim.", "kto_tag": false}"#,
            "\n",
            r#"{"messages": [{"role": "user", "content": "D?"}, {"role": "assistant", "content": "x"}], "label": "MEI"}"#,
            "\n",
        ));
        assert_eq!(out.examples.len(), 2);
        assert!(!out.examples[0].meta.contains_key("label"));
        assert_eq!(out.examples[1].meta["label"], "MEI");
        assert_eq!(
            codes(&out),
            vec![
                ("t.jsonl:2".into(), "kto_not_supported"),
                ("t.jsonl:3".into(), "kto_not_supported")
            ]
        );
        assert!(
            out.rejects[0]
                .reason
                .contains("not a preferred/non-preferred pair")
        );
        assert_eq!(
            out.info.notes,
            vec![
                "3 KTO rows (`label`/`kto_tag`): 1 marked desirable read as chat examples, 2 marked undesirable rejected"
            ]
        );
    }

    #[test]
    fn tools_function_calls_and_observations_become_openai_tool_messages() {
        let tools = r#"[{\"name\": \"calcular_das\", \"description\": \"Calcula o DAS\", \"parameters\": {\"type\": \"object\", \"properties\": {\"receita\": {\"type\": \"number\"}}}}]"#;
        let line = format!(
            r#"{{"conversations": [{{"from": "human", "value": "DAS de R$ 20 mil?"}}, {{"from": "function_call", "value": "[{{\"name\": \"calcular_das\", \"arguments\": {{\"receita\": 20000}}}}, {{\"name\": \"calcular_das\", \"arguments\": \"{{\\\"receita\\\": 1}}\"}}]"}}, {{"from": "observation", "value": "{{\"valor\": 1200}}"}}, {{"from": "observation", "value": "{{\"valor\": 0.06}}"}}, {{"from": "gpt", "value": "R$ 1.200,00."}}], "tools": "{tools}"}}"#
        );
        let out = read(&line);
        assert!(out.rejects.is_empty(), "{:?}", out.rejects);
        let ex = &out.examples[0];
        assert_eq!(
            serde_json::to_value(&ex.extra["tools"]).unwrap(),
            serde_json::json!([{"type": "function", "function": {"name": "calcular_das", "description": "Calcula o DAS", "parameters": {"type": "object", "properties": {"receita": {"type": "number"}}}}}])
        );
        let roles: Vec<Role> = ex.messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                Role::User,
                Role::Assistant,
                Role::Tool,
                Role::Tool,
                Role::Assistant
            ]
        );
        assert_eq!(
            ex.messages[1].tool_calls.as_deref(),
            Some(&serde_json::json!([
                {"id": "call_1", "type": "function", "function": {"name": "calcular_das", "arguments": "{\"receita\":20000}"}},
                {"id": "call_2", "type": "function", "function": {"name": "calcular_das", "arguments": "{\"receita\": 1}"}}
            ]))
        );
        assert_eq!(ex.messages[1].content, "");
        assert_eq!(ex.messages[2].tool_call_id.as_deref(), Some("call_1"));
        assert_eq!(ex.messages[3].tool_call_id.as_deref(), Some("call_2"));
        assert_eq!(ex.messages[3].content, "{\"valor\": 0.06}");
        assert!(ex.meta.is_empty(), "{:?}", ex.meta);
    }

    #[test]
    fn tool_rows_that_do_not_add_up_are_rejected() {
        let out = read(concat!(
            r#"{"conversations": [{"from": "human", "value": "a"}, {"from": "observation", "value": "{}"}]}"#,
            "\n",
            r#"{"conversations": [{"from": "human", "value": "a"}, {"from": "function_call", "value": "[{\"name\": \"f\"}, {\"name\": \"g\"}]"}, {"from": "observation", "value": "1"}, {"from": "gpt", "value": "b"}]}"#,
            "\n",
            r#"{"conversations": [{"from": "human", "value": "a"}, {"from": "function_call", "value": "{\"name\": \"f\", \"arguments\": {"}]}"#,
            "\n",
            r#"{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}], "tools": "não"}"#,
            "\n",
            r#"{"conversations": [{"from": "human", "value": "a"}, {"from": "function_call", "value": "{\"name\": \"f\"}"}]}"#,
            "\n",
        ));
        assert_eq!(
            codes(&out),
            vec![
                ("t.jsonl:1".into(), "unmatched_tool_result"),
                ("t.jsonl:2".into(), "unmatched_tool_result"),
                ("t.jsonl:3".into(), "invalid_tool_call"),
                ("t.jsonl:4".into(), "invalid_tools"),
            ]
        );
        assert_eq!(
            out.rejects[1].reason,
            "Turn 2 makes 2 tool calls but only 1 results follow it; each call needs its result"
        );
        // An example may end on the call itself: that is what the model learns to make.
        assert_eq!(out.examples.len(), 1);
        assert_eq!(
            out.examples[0].messages[1].tool_calls.as_ref().unwrap()[0]["function"]["arguments"],
            "{}"
        );
    }

    #[test]
    fn media_rows_are_rejected_naming_the_field() {
        let out = read(concat!(
            r#"{"messages": [{"role": "user", "content": "<image>Que guia é esta?"}, {"role": "assistant", "content": "DAS."}], "images": ["mllm_demo_data/1.jpg"]}"#,
            "\n",
            r#"{"instruction": "<video>O quê?", "output": "x", "videos": "v.mp4"}"#,
            "\n",
            r#"{"messages": [{"role": "user", "content": "Oi"}, {"role": "assistant", "content": "Olá"}], "images": []}"#,
            "\n",
        ));
        assert_eq!(out.examples.len(), 1);
        assert!(out.examples[0].meta.is_empty());
        assert_eq!(
            codes(&out),
            vec![
                ("t.jsonl:1".into(), "media_not_supported"),
                ("t.jsonl:2".into(), "media_not_supported")
            ]
        );
        assert!(
            out.rejects[0].reason.starts_with(
                "Row has `images` (`mllm_demo_data/1.jpg`); convert writes text-only examples"
            ),
            "{}",
            out.rejects[0].reason
        );
        assert!(
            out.rejects[1]
                .reason
                .starts_with("Row has `videos` (`v.mp4`)")
        );
    }

    #[test]
    fn text_content_parts_are_joined_and_image_parts_refused() {
        let out = read(concat!(
            r#"{"messages": [{"role": "user", "content": [{"type": "text", "text": "Leia:"}, {"type": "text", "text": "R$ 76,60"}]}, {"role": "assistant", "content": [{"type": "text", "text": "Ok."}]}]}"#,
            "\n",
            r#"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}, {"role": "assistant", "content": "DAS."}]}"#,
            "\n",
        ));
        assert_eq!(out.examples[0].messages[0].content, "Leia:\nR$ 76,60");
        assert_eq!(out.examples[0].messages[1].content, "Ok.");
        assert_eq!(
            reasons(&out),
            vec![(
                "t.jsonl:2".into(),
                "Message 1 (user) has a `image_url` content part; convert writes text-only messages. Check such a file as it is with `afinar check`".into()
            )]
        );
    }

    #[test]
    fn alpaca_history_system_and_tools_are_read_whole() {
        let out = read(
            r#"{"instruction": "E do MEI?", "input": "", "output": "R$ 81 mil.", "system": "Seja breve.", "history": [["Limite do Simples?", "R$ 4,8 milhões."]], "tools": [{"name": "f"}], "tema": "limites"}"#,
        );
        assert!(out.rejects.is_empty(), "{:?}", out.rejects);
        let ex = &out.examples[0];
        let texts: Vec<(&str, &str)> = ex
            .messages
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str()))
            .collect();
        assert_eq!(
            texts,
            [
                ("system", "Seja breve."),
                ("user", "Limite do Simples?"),
                ("assistant", "R$ 4,8 milhões."),
                ("user", "E do MEI?"),
                ("assistant", "R$ 81 mil."),
            ]
        );
        assert_eq!(ex.extra["tools"][0]["type"], "function");
        assert_eq!(ex.meta.keys().collect::<Vec<_>>(), ["tema"]);
    }

    #[test]
    fn keys_of_another_shape_are_an_error_not_meta() {
        let out = read(concat!(
            r#"{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "instruction": "c"}"#,
            "\n",
            r#"{"prompt": "a", "completion": "b", "system": "s"}"#,
            "\n",
            r#"{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "system": "Seja breve."}"#,
            "\n",
        ));
        assert_eq!(
            reasons(&out),
            vec![
                (
                    "t.jsonl:1".into(),
                    "Row is a chat row but also has `instruction`, which belongs to another shape; keep one shape per row".into()
                ),
                (
                    "t.jsonl:2".into(),
                    "Row is a prompt/completion row but also has `system`, which belongs to another shape; keep one shape per row".into()
                ),
            ]
        );
        assert_eq!(
            out.examples[0].messages[0],
            Message::new(Role::System, "Seja breve.")
        );
    }

    #[test]
    fn a_json_object_document_is_one_error_naming_the_file() {
        let info = "{\n  \"alpaca_pt\": {\n    \"file_name\": \"alpaca_pt.json\"\n  },\n  \"kto\": {\"file_name\": \"kto.json\", \"formatting\": \"sharegpt\"}\n}\n";
        let err = read_bytes(
            info.as_bytes(),
            "data/dataset_info.json",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`data/dataset_info.json` holds one JSON object (`alpaca_pt`, `kto`), not JSON Lines or a list of examples; it looks like LLaMA-Factory's `dataset_info.json`, which describes datasets; convert the data files it names (`alpaca_pt.json`, `kto.json`) instead"
        );
        let wrapped = "{\n  \"data\": [{\"prompt\": \"a\", \"completion\": \"b\"}]\n}\n";
        let err = read_bytes(wrapped.as_bytes(), "w.json", &ReadOptions::default()).unwrap_err();
        assert!(err.to_string().ends_with("its `data` holds a list; save that list by itself (a JSON array) or one example per line"), "{err}");
        // JSON Lines whose first line is broken is still read line by line.
        let out = read("{\"prompt\": \n{\"prompt\": \"a\", \"completion\": \"b\"}\n");
        assert_eq!((out.examples.len(), out.rejects.len()), (1, 1));
    }

    #[test]
    fn legacy_markers_are_found_stripped_and_reported_or_kept() {
        let mut text = String::new();
        for i in 0..9 {
            text.push_str(&format!(
                "{{\"prompt\": \"Pergunta {i}?\\n\\n###\\n\\n\", \"completion\": \" Resposta {i}. END\"}}\n"
            ));
        }
        text.push_str("{\"prompt\": \"Sem marcador?\", \"completion\": \"Resposta.\"}\n");
        let out = read(&text);
        assert_eq!(out.examples[0].messages[0].content, "Pergunta 0?");
        assert_eq!(out.examples[0].messages[1].content, "Resposta 0.");
        assert_eq!(out.examples[9].messages[1].content, "Resposta.");
        assert_eq!(
            out.info.notes,
            vec![
                "Legacy completion markers removed: prompts end with `\\n\\n###\\n\\n` (9 of 10 rows), completions start with ` ` (9 of 10 rows), completions end with ` END` (9 of 10 rows); pass --keep-markers to keep them"
            ]
        );
        let keep = ReadOptions {
            keep_markers: true,
            ..Default::default()
        };
        let kept = read_bytes(text.as_bytes(), "t.jsonl", &keep).unwrap();
        assert_eq!(kept.examples[0].messages[0].content, "Pergunta 0?\n\n###");
        assert_eq!(kept.examples[0].messages[1].content, "Resposta 0. END");
        assert!(kept.info.notes[0].starts_with("Legacy completion markers kept (--keep-markers)"));
        // An explicit suffix wins over detection for its part.
        let explicit = ReadOptions {
            completion: CompletionOptions {
                completion_suffix: ". END".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let out = read_bytes(text.as_bytes(), "t.jsonl", &explicit).unwrap();
        assert_eq!(out.examples[0].messages[1].content, "Resposta 0");
        assert!(!out.info.notes[0].contains("END"), "{}", out.info.notes[0]);
    }

    #[test]
    fn every_bad_line_is_a_reject_with_its_reason() {
        let out = read(concat!(
            "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}\n",
            "{\"messages\": [{\"content\": \"a\"}]}\n",
            "{\"messages\": [{\"role\": \"robot\", \"content\": \"a\"}]}\n",
            "{\"messages\": [{\"role\": \"user\", \"content\": null}]}\n",
            "{\"prompt\": \"p\"}\n",
            "[1]\n",
            "{\"text\": \"x\"}\n",
            "{\"messages\": [{\"role\": \"assistant\", \"content\": \"b\", \"weight\": 2}]}\n",
            "{\"messages\": [{\"role\": \"human\", \"content\": \"a\"}, {\"role\": \"gpt\", \"content\": \"b\"}]}\n",
        ));
        assert_eq!(
            reasons(&out),
            vec![
                ("t.jsonl:1".into(), "Invalid JSON at column 46: EOF while parsing a list".into()),
                ("t.jsonl:2".into(), "Message 1 has no `role`".into()),
                (
                    "t.jsonl:3".into(),
                    "Message 1 has unknown role `robot`; use system, developer, user, assistant or tool, or add an alias".into()
                ),
                ("t.jsonl:4".into(), "Message 1 (user) has null `content`".into()),
                ("t.jsonl:5".into(), "Line has no `completion`".into()),
                ("t.jsonl:6".into(), "Line is a JSON list, not an object".into()),
                (
                    "t.jsonl:7".into(),
                    "Line has none of `messages`, `prompt`/`completion`, `instruction`/`output`, `conversations`, `chosen`/`rejected` or `preferred_output` (found `text`)".into()
                ),
                ("t.jsonl:8".into(), "Message 1 has `weight` 2; it must be 0 or 1".into()),
            ]
        );
        assert_eq!(out.examples.len(), 1);
        assert_eq!(out.examples[0].messages[0].role, Role::User);
        assert_eq!(
            out.rejects[0].raw,
            "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}"
        );
    }

    #[test]
    fn json_error_columns_count_characters() {
        let out = read("{\"prompt\": \"ação\", \"completion\": }\n");
        assert_eq!(
            out.rejects[0].reason,
            "Invalid JSON at column 34: expected value"
        );
    }

    #[test]
    fn invalid_utf8_is_a_reject_not_an_abort() {
        let mut bytes = b"{\"prompt\":\"a\",\"completion\":\"b\"}\n{\"prompt\":\"".to_vec();
        bytes.extend_from_slice(b"\xE9\"}\n");
        let out = read_bytes(&bytes, "t.jsonl", &ReadOptions::default()).unwrap();
        assert_eq!(out.examples.len(), 1);
        assert_eq!(
            reasons(&out),
            vec![(
                "t.jsonl:2".into(),
                "Line is not valid UTF-8 at byte 12".into()
            )]
        );
    }

    #[test]
    fn a_json_array_document_is_read_with_line_numbers() {
        let out = read("[\n  {\"prompt\": \"a\", \"completion\": \"b\"},\n  {\"prompt\": 3}\n]\n");
        assert_eq!(out.info.format, "json");
        assert_eq!(out.examples.len(), 1);
        assert_eq!(
            reasons(&out),
            vec![(
                "t.jsonl:3".into(),
                "`prompt` is a number, not a string".into()
            )]
        );
        let err = read_bytes(b"[{\"prompt\": ", "t.json", &ReadOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`t.json` line 1, column 12: invalid JSON"),
            "{err}"
        );
    }

    #[test]
    fn tool_calls_and_extra_keys_pass_through() {
        let out = read(
            r#"{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"1"}]},{"role":"tool","tool_call_id":"1","content":"{}"}],"tools":[{"type":"function"}],"id":7}"#,
        );
        assert!(out.rejects.is_empty(), "{:?}", out.rejects);
        let ex = &out.examples[0];
        assert!(ex.messages[1].tool_calls.is_some());
        assert_eq!(ex.messages[2].tool_call_id.as_deref(), Some("1"));
        assert!(ex.extra.contains_key("tools"));
        assert_eq!(ex.meta["id"], "7");
    }
}
