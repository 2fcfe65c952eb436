//! Questions and answers in a saved web page (`.html`, `.htm`), parsed as a browser does
//! (html5ever, through scraper), in the styles FAQ pages use, which may be mixed:
//!
//! 1. schema.org `FAQPage` JSON-LD: each `mainEntity` `Question`'s `name` and its
//!    `acceptedAnswer.text` (which may hold HTML);
//! 2. `<details><summary>Pergunta?</summary>…</details>` accordions;
//! 3. a heading ending with `?` and the paragraphs under it, to the next heading of the
//!    same or a higher level (also when each item is wrapped in its own `<div>`);
//! 4. `<dl>` with `<dt>` questions and `<dd>` answers;
//! 5. a table with a question cell and an answer cell in each row (a header naming them
//!    `Pergunta`/`Resposta`, or first cells ending in `?`).
//!
//! The same pair given twice (JSON-LD and the visible accordion) is read once, from the
//! page. Page chrome is not content: `<nav>`, the page's `<header>` and `<footer>`,
//! `<aside>`, landmarks with those roles, cookie banners (an `id` or `class` naming
//! cookies or consent), scripts, styles, `<template>`s and comments. Answers are
//! Markdown: paragraphs separated by a blank line, `<br>` as `\n`, lists as `- ` and
//! `1. `, tables as pipe tables. Text is what a browser shows: entities decoded,
//! whitespace collapsed. The encoding follows the WHATWG rules: a byte order mark, else
//! a `<meta charset>` or `http-equiv` declaration in the first 1024 bytes (where
//! `iso-8859-1` means Windows-1252), else UTF-8 when the bytes are valid UTF-8 and
//! Windows-1252 otherwise.
//!
//! Origins are what a reader finds: `faq.html:§"Como optar?"` (the question, which the
//! browser's search finds), `faq.html:table row 7`, `faq.html:JSON-LD[3]` (the third
//! question in the page's JSON-LD).

use std::collections::BTreeMap;

use afinar_core::limits::{MAX_CELL_BYTES, human_bytes};
use afinar_core::{Example, Origin};
use ego_tree::NodeRef;
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use scraper::{Html, Node};

use super::blocks::{self, Block};
use super::{ReadOptions, ReadOutput, SourceInfo, encoding, text};
use crate::columns;
use crate::{FormatError, Reject};

/// Reads a web page's bytes.
pub fn read_bytes(bytes: &[u8], file: &str, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    let forced = opts
        .encoding
        .as_deref()
        .map(|l| encoding::resolve(l, file))
        .transpose()?;
    let (enc, bom, declared) = sniff(bytes, forced);
    let (page, _, malformed) = enc.decode(bytes);
    let mut info = SourceInfo {
        format: "html".into(),
        encoding: enc.name().to_ascii_lowercase(),
        bom,
        ..Default::default()
    };
    if malformed {
        info.warnings.push(format!(
            "Some bytes are not valid {}{}; they read as `\u{FFFD}`: pass --encoding if the page says the wrong one",
            enc.name(),
            if declared { " although the page declares it" } else { "" },
        ));
    }
    let cut = nesting_cut(&page);
    if cut < page.len() {
        info.warnings.push(format!(
            "Elements are nested more than {MAX_PARSE_DEPTH} deep from byte {cut} on; the rest of the page was not read"
        ));
    }
    let doc = Html::parse_document(&page[..cut]);
    let mut walker = Walker::new(false);
    walker.walk(doc.tree.root());
    walker.flush();
    let mut found = std::mem::take(&mut walker.found);

    // Heading sections.
    for (i, range) in blocks::question_sections(&walker.blocks, |_| false) {
        let Block::Heading { text, .. } = &walker.blocks[i] else {
            continue;
        };
        found.headings += 1;
        walker.pairs.push(Found {
            at: i,
            question: text.clone(),
            answer: blocks::markdown(&walker.blocks[range]),
            place: Place::Section,
            style: Style::Heading,
            meta: BTreeMap::new(),
        });
    }
    walker.pairs.sort_by_key(|p| p.at);

    // JSON-LD, after the visible pairs, less those the page shows too.
    let (json_ld, json_ld_problems) = json_ld(doc.tree.root());
    info.warnings.extend(json_ld_problems);
    let mut repeated = 0usize;
    for p in json_ld {
        found.json_ld += 1;
        let seen = walker
            .pairs
            .iter()
            .any(|v| blocks::same_pair((&v.question, &v.answer), (&p.question, &p.answer)));
        if seen {
            repeated += 1;
        } else {
            walker.pairs.push(p);
        }
    }

    let several = walker.tables > 1;
    let mut examples = Vec::new();
    let mut rejects = Vec::new();
    for pair in walker.pairs {
        info.rows += 1;
        let origin = match &pair.place {
            Place::Section => Origin::section(file, &pair.question),
            Place::Table { table, row } if several => {
                Origin::part(file, format!("table {table} row {row}"))
            }
            Place::Table { row, .. } => Origin::part(file, format!("table row {row}")),
            Place::JsonLd(n) => Origin::part(file, format!("JSON-LD[{n}]")),
        };
        let question = text(&pair.question, opts).trim().to_owned();
        let answer = text(&pair.answer, opts).trim().to_owned();
        let longest = question.len().max(answer.len());
        let (code, reason) = if longest > MAX_CELL_BYTES {
            (
                "too_long",
                format!(
                    "Question or answer is {}, over the {} limit for one; split the page",
                    human_bytes(longest as u64),
                    human_bytes(MAX_CELL_BYTES as u64)
                ),
            )
        } else if question.is_empty() {
            ("empty_question", "Question is empty".to_owned())
        } else if answer.is_empty() {
            ("empty_answer", pair.style.no_answer().to_owned())
        } else {
            let mut ex = Example::single_turn(None, question, answer, origin);
            ex.meta = pair.meta;
            examples.push(ex);
            continue;
        };
        let raw = format!("{}\n{}", pair.question, pair.answer);
        rejects.push(Reject::new(origin, reason, raw.trim_end()).with_code(code));
    }
    info.blank = walker.blank_rows;
    info.notes.push(found.note(repeated));
    if let Some(skipped) = walker.skipped.note() {
        info.notes.push(skipped);
    }
    if walker.too_deep {
        info.warnings.push(format!(
            "Elements nested more than {MAX_HTML_DEPTH} deep were not read; is it really a web page?"
        ));
    }
    if !walker.not_questions.is_empty() {
        let shown: Vec<String> = walker
            .not_questions
            .iter()
            .take(5)
            .map(|t| format!("`{t}`"))
            .collect();
        let n = walker.not_questions.len();
        let (noun, verb) = if n == 1 {
            ("title does", "was")
        } else {
            ("titles do", "were")
        };
        info.warnings.push(format!(
            "{n} accordion or definition {noun} not end in `?` and {verb} read as text, not a question: {}{}",
            shown.join(", "),
            if walker.not_questions.len() > 5 { "…" } else { "" }
        ));
    }
    Ok(ReadOutput {
        examples,
        rejects,
        info,
        ..Default::default()
    })
}

/// Deepest nesting handed to the parser, as Chromium's parser caps it: html5ever's
/// tree building slows down with the depth of open elements, so a page nested a hundred
/// thousand deep would take minutes.
const MAX_PARSE_DEPTH: usize = 512;

/// Where the page's tags (counted roughly: start tags less end tags, leaving out void
/// elements, self-closed tags and those a parser closes by itself) first go past
/// [`MAX_PARSE_DEPTH`]; the length of the page when they never do.
fn nesting_cut(page: &str) -> usize {
    const SELF_CLOSING: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "thead",
        "tbody", "tfoot",
    ];
    let b = page.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(p) = b[i..].iter().position(|&c| c == b'<') {
        let at = i + p;
        i = at + 1;
        let close = b.get(i) == Some(&b'/');
        let start = i + usize::from(close);
        let len = b[start..]
            .iter()
            .position(|c| !c.is_ascii_alphanumeric())
            .unwrap_or(b.len() - start);
        if len == 0 || !b[start].is_ascii_alphabetic() {
            continue;
        }
        let name = page[start..start + len].to_ascii_lowercase();
        if SELF_CLOSING.contains(&name.as_str()) {
            continue;
        }
        let self_closed = b[start + len..]
            .iter()
            .position(|&c| c == b'>')
            .is_some_and(|e| e > 0 && b[start + len + e - 1] == b'/');
        if close {
            depth = depth.saturating_sub(1);
        } else if !self_closed {
            depth += 1;
            if depth > MAX_PARSE_DEPTH {
                return at;
            }
        }
    }
    page.len()
}

// ---------------------------------------------------------------------------------------
// Encoding.

/// The page's encoding by the WHATWG order: BOM, `--encoding`, the `<meta>` declaration,
/// then the bytes themselves. Returns it, whether a BOM was there, and whether the page
/// declared it.
fn sniff(bytes: &[u8], forced: Option<&'static Encoding>) -> (&'static Encoding, bool, bool) {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return (enc, true, false);
    }
    if let Some(enc) = forced {
        return (enc, false, false);
    }
    if let Some(enc) = prescan(&bytes[..bytes.len().min(1024)]) {
        return (enc, false, true);
    }
    // No declaration: what the bytes are. A Brazilian page that is not UTF-8 is
    // Windows-1252, the browsers' default for Portuguese.
    if std::str::from_utf8(bytes).is_ok() {
        (UTF_8, false, false)
    } else {
        (WINDOWS_1252, false, false)
    }
}

/// WHATWG "prescan a byte stream to determine its encoding": the first `<meta>` with a
/// `charset`, or `http-equiv="content-type"` and a `content` naming a charset. Comments
/// and other tags are skipped. UTF-16 declared in a page that is ASCII-compatible means
/// UTF-8, and `x-user-defined` Windows-1252, as the standard says.
fn prescan(b: &[u8]) -> Option<&'static Encoding> {
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i += 2 + find(&rest[2..], b"-->").map_or(rest.len(), |p| p + 3);
            continue;
        }
        if rest.len() > 5
            && rest[..5].eq_ignore_ascii_case(b"<meta")
            && matches!(rest[5], b' ' | b'\t' | b'\n' | b'\r' | b'\x0C' | b'/')
        {
            let mut at = i + 5;
            let (mut pragma, mut charset, mut content) = (false, None, None);
            while let Some((name, value, next)) = attribute(b, at) {
                at = next;
                match name.as_str() {
                    "http-equiv" if value.eq_ignore_ascii_case("content-type") => pragma = true,
                    "charset" if charset.is_none() => charset = Some(value),
                    "content" if content.is_none() => content = Some(value),
                    _ => {}
                }
            }
            let label = charset.or_else(|| {
                pragma
                    .then(|| content.as_deref().and_then(charset_in_content))
                    .flatten()
            });
            if let Some(enc) = label.and_then(|l| Encoding::for_label(l.trim().as_bytes())) {
                return Some(
                    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                        UTF_8
                    } else if enc == encoding_rs::X_USER_DEFINED {
                        WINDOWS_1252
                    } else {
                        enc
                    },
                );
            }
            i = at;
            continue;
        }
        if rest.len() > 1 && rest[0] == b'<' && (rest[1].is_ascii_alphabetic() || rest[1] == b'/') {
            let mut at = i + 2;
            while at < b.len() && !matches!(b[at], b' ' | b'\t' | b'\n' | b'\r' | b'\x0C' | b'>') {
                at += 1;
            }
            while let Some((_, _, next)) = attribute(b, at) {
                at = next;
            }
            i = at + 1;
            continue;
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            i += find(rest, b">").map_or(rest.len(), |p| p + 1);
            continue;
        }
        i += 1;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One attribute at `at` (the WHATWG "get an attribute" steps): its lowercase name, its
/// value and where the next starts; `None` at `>` or the end.
fn attribute(b: &[u8], mut at: usize) -> Option<(String, String, usize)> {
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0C' | b'/');
    while at < b.len() && ws(b[at]) {
        at += 1;
    }
    if at >= b.len() || b[at] == b'>' {
        return None;
    }
    let start = at;
    while at < b.len()
        && !matches!(
            b[at],
            b'=' | b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0C' | b'/'
        )
        || at == start && at < b.len() && b[at] == b'='
    {
        at += 1;
    }
    let name = String::from_utf8_lossy(&b[start..at]).to_ascii_lowercase();
    while at < b.len() && matches!(b[at], b' ' | b'\t' | b'\n' | b'\r' | b'\x0C') {
        at += 1;
    }
    if at >= b.len() || b[at] != b'=' {
        return Some((name, String::new(), at));
    }
    at += 1;
    while at < b.len() && matches!(b[at], b' ' | b'\t' | b'\n' | b'\r' | b'\x0C') {
        at += 1;
    }
    let value = match b.get(at) {
        Some(&q @ (b'"' | b'\'')) => {
            let end = b[at + 1..]
                .iter()
                .position(|&c| c == q)
                .map_or(b.len(), |p| at + 1 + p);
            let v = &b[at + 1..end];
            at = (end + 1).min(b.len());
            v
        }
        _ => {
            let start = at;
            while at < b.len() && !matches!(b[at], b' ' | b'\t' | b'\n' | b'\r' | b'\x0C' | b'>') {
                at += 1;
            }
            &b[start..at]
        }
    };
    Some((name, String::from_utf8_lossy(value).into_owned(), at))
}

/// `text/html; charset=iso-8859-1` → `iso-8859-1`.
fn charset_in_content(content: &str) -> Option<String> {
    let lower = content.to_ascii_lowercase();
    let at = lower.find("charset")?;
    let rest = lower[at + 7..].trim_start().strip_prefix('=')?.trim_start();
    let value = match rest.chars().next()? {
        q @ ('"' | '\'') => rest[1..].split(q).next()?,
        _ => rest.split([';', ' ', '\t']).next()?,
    };
    (!value.is_empty()).then(|| value.to_owned())
}

// ---------------------------------------------------------------------------------------
// The page as blocks.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Heading,
    Accordion,
    Definition,
    Table,
    JsonLd,
}

impl Style {
    fn no_answer(self) -> &'static str {
        match self {
            Style::Heading => "Question heading has no answer before the next heading",
            Style::Accordion => "Accordion question (`<summary>`) has nothing under it",
            Style::Definition => "Question (`<dt>`) has no `<dd>` answer",
            Style::Table => "Question in the table has an empty answer cell",
            Style::JsonLd => "JSON-LD `Question` has no `acceptedAnswer` text",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Section,
    Table { table: usize, row: usize },
    JsonLd(usize),
}

/// A pair found, with the block it was found at (for document order).
#[derive(Debug)]
struct Found {
    at: usize,
    question: String,
    answer: String,
    place: Place,
    style: Style,
    meta: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Counts {
    json_ld: usize,
    accordions: usize,
    headings: usize,
    definitions: usize,
    table_rows: usize,
}

impl Counts {
    fn note(&self, repeated: usize) -> String {
        let count = |n: usize, one: &str, many: &str| {
            (n > 0).then(|| format!("{n} {}", if n == 1 { one } else { many }))
        };
        let json_ld = count(
            self.json_ld,
            "FAQPage JSON-LD question",
            "FAQPage JSON-LD questions",
        )
        .map(|s| {
            if repeated > 0 {
                format!("{s} ({repeated} also on the page, read once)")
            } else {
                s
            }
        });
        let list: Vec<String> = [
            json_ld,
            count(
                self.accordions,
                "<details> accordion question",
                "<details> accordion questions",
            ),
            count(self.headings, "question heading", "question headings"),
            count(
                self.definitions,
                "<dt>/<dd> question",
                "<dt>/<dd> questions",
            ),
            count(self.table_rows, "question table row", "question table rows"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if list.is_empty() {
            "Found no questions: afinar looks for FAQPage JSON-LD, <details> accordions, headings ending in `?`, <dt>/<dd> lists and question/answer tables".to_owned()
        } else {
            format!("Found {}", list.join(", "))
        }
    }
}

/// Page chrome and non-content passed over, for the summary.
#[derive(Debug, Default)]
struct Skipped(BTreeMap<&'static str, usize>);

impl Skipped {
    fn add(&mut self, what: &'static str) {
        *self.0.entry(what).or_default() += 1;
    }

    fn note(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let list: Vec<String> = self.0.iter().map(|(k, n)| format!("{k} ({n})")).collect();
        Some(format!("Not read as content: {}", list.join(", ")))
    }
}

const INLINE: &[&str] = &[
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em",
    "font", "i", "ins", "kbd", "label", "mark", "nobr", "q", "s", "samp", "small", "span",
    "strike", "strong", "sub", "sup", "time", "tt", "u", "var",
];

/// Never shown as text (or not text at all).
const NOT_TEXT: &[&str] = &[
    "script", "style", "noscript", "iframe", "object", "embed", "svg", "math", "canvas", "head",
    "title", "meta", "link", "base", "input", "select", "textarea", "button", "option", "datalist",
    "video", "audio", "source", "track", "map", "img", "picture",
];

/// Elements that start a section of their own: a `<header>` or `<footer>` inside one is
/// that section's, not the page's chrome (as the ARIA mapping has it).
const SECTIONING: &[&str] = &["article", "section", "main", "aside", "nav"];

struct Walker {
    /// Inside an answer: accordions, lists and tables are text, not more pairs.
    nested: bool,
    blocks: Vec<Block>,
    inline: String,
    space: bool,
    /// The list item being read: depth and number.
    item: Option<(u8, Option<u32>)>,
    /// Open lists: `Some(counter)` for numbered ones.
    lists: Vec<Option<u32>>,
    pre: usize,
    sectioning: usize,
    pairs: Vec<Found>,
    found: Counts,
    /// Data tables seen (layout tables are not counted).
    tables: usize,
    blank_rows: u64,
    skipped: Skipped,
    not_questions: Vec<String>,
    /// Elements open around the one being read, answers' included.
    depth: usize,
    /// Elements left unread past [`MAX_HTML_DEPTH`].
    too_deep: bool,
}

/// Deepest element nesting read: real pages nest a few dozen levels; a page nested
/// thousands deep would otherwise exhaust the stack.
const MAX_HTML_DEPTH: usize = 256;

impl Walker {
    fn new(nested: bool) -> Self {
        Self {
            nested,
            blocks: Vec::new(),
            inline: String::new(),
            space: false,
            item: None,
            lists: Vec::new(),
            pre: 0,
            sectioning: 0,
            pairs: Vec::new(),
            found: Counts::default(),
            tables: 0,
            blank_rows: 0,
            skipped: Skipped::default(),
            not_questions: Vec::new(),
            depth: 0,
            too_deep: false,
        }
    }

    /// A walker for an answer or a question inside this one, at its depth.
    fn inner(&self) -> Walker {
        let mut w = Walker::new(true);
        w.depth = self.depth;
        w
    }

    /// Nodes as Markdown (an answer).
    fn render<'a>(&mut self, nodes: impl IntoIterator<Item = NodeRef<'a, Node>>) -> String {
        let mut w = self.inner();
        for n in nodes {
            w.walk(n);
        }
        w.flush();
        self.too_deep |= w.too_deep;
        blocks::markdown(&w.blocks)
    }

    /// Nodes as one line of text (a question, a cell).
    fn line<'a>(&mut self, nodes: impl IntoIterator<Item = NodeRef<'a, Node>>) -> String {
        let mut w = self.inner();
        for n in nodes {
            w.inline_walk(n);
        }
        self.too_deep |= w.too_deep;
        tidy(&w.inline).replace('\n', " ")
    }

    fn text(&mut self, s: &str) {
        if self.pre > 0 {
            self.inline.push_str(s);
            return;
        }
        for c in s.chars() {
            if matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0C') {
                self.space = true;
            } else {
                if self.space && !self.inline.is_empty() && !self.inline.ends_with('\n') {
                    self.inline.push(' ');
                }
                self.space = false;
                self.inline.push(c);
            }
        }
    }

    fn flush(&mut self) {
        let text = if self.pre > 0 {
            std::mem::take(&mut self.inline)
        } else {
            tidy(&std::mem::take(&mut self.inline))
        };
        self.space = false;
        if text.is_empty() {
            return;
        }
        let block = match self.item.take() {
            Some((depth, number)) => Block::Item {
                depth,
                number,
                text,
            },
            None if self.pre > 0 => Block::Pre(text),
            None => Block::Para(text),
        };
        self.blocks.push(block);
    }

    /// Walks only for text (inside a heading, a summary, a cell's question).
    fn inline_walk(&mut self, node: NodeRef<'_, Node>) {
        if self.depth >= MAX_HTML_DEPTH {
            self.too_deep = true;
            return;
        }
        self.depth += 1;
        self.inline_node(node);
        self.depth -= 1;
    }

    fn inline_node(&mut self, node: NodeRef<'_, Node>) {
        match node.value() {
            Node::Text(t) => self.text(t),
            Node::Element(e) => {
                let name = e.name();
                if NOT_TEXT.contains(&name) || name == "template" {
                    return;
                }
                if name == "br" {
                    self.inline.push('\n');
                    self.space = false;
                    return;
                }
                if !INLINE.contains(&name) {
                    self.space = true;
                }
                for c in node.children() {
                    self.inline_walk(c);
                }
                if !INLINE.contains(&name) {
                    self.space = true;
                }
            }
            _ => {}
        }
    }

    fn walk(&mut self, node: NodeRef<'_, Node>) {
        if self.depth >= MAX_HTML_DEPTH {
            self.too_deep = true;
            return;
        }
        self.depth += 1;
        self.node(node);
        self.depth -= 1;
    }

    fn node(&mut self, node: NodeRef<'_, Node>) {
        let e = match node.value() {
            Node::Text(t) => return self.text(t),
            Node::Comment(_) => return self.skipped.add("comments"),
            Node::Element(e) => e,
            Node::Document | Node::Fragment => {
                for c in node.children() {
                    self.walk(c);
                }
                return;
            }
            _ => return,
        };
        let name = e.name();
        if let Some(chrome) = self.chrome(e) {
            self.flush();
            return self.skipped.add(chrome);
        }
        match name {
            "template" => self.skipped.add("templates"),
            "script" => self.skipped.add("scripts"),
            _ if NOT_TEXT.contains(&name) => {}
            "br" => {
                self.inline.push('\n');
                self.space = false;
            }
            _ if INLINE.contains(&name) => {
                for c in node.children() {
                    self.walk(c);
                }
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.flush();
                let level = name.as_bytes()[1] - b'0';
                let text = self.line(node.children());
                if !text.is_empty() {
                    self.blocks.push(Block::Heading { level, text });
                }
            }
            "ul" | "ol" | "menu" => {
                self.flush();
                let start = e.attr("start").and_then(|s| s.trim().parse::<u32>().ok());
                self.lists
                    .push((name == "ol").then(|| start.unwrap_or(1).saturating_sub(1)));
                for c in node.children() {
                    self.walk(c);
                }
                self.lists.pop();
                self.flush();
            }
            "li" => {
                self.flush();
                let depth = u8::try_from(self.lists.len().saturating_sub(1)).unwrap_or(u8::MAX);
                let number = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        Some(*n)
                    }
                    _ => None,
                };
                self.item = Some((depth, number));
                for c in node.children() {
                    self.walk(c);
                }
                self.flush();
                self.item = None;
            }
            "pre" => {
                self.flush();
                self.pre += 1;
                for c in node.children() {
                    self.walk(c);
                }
                self.flush();
                self.pre -= 1;
            }
            "table" => self.table(node),
            "details" => self.details(node),
            "dl" => self.definitions(node),
            "hr" => self.flush(),
            _ => {
                self.flush();
                let sectioning = SECTIONING.contains(&name);
                self.sectioning += usize::from(sectioning);
                for c in node.children() {
                    self.walk(c);
                }
                self.sectioning -= usize::from(sectioning);
                self.flush();
            }
        }
    }

    /// Whether an element is page chrome, and what kind.
    fn chrome(&self, e: &scraper::node::Element) -> Option<&'static str> {
        let by_name = match e.name() {
            "nav" => Some("navigation"),
            "aside" => Some("asides"),
            "header" if self.sectioning == 0 => Some("page header"),
            "footer" if self.sectioning == 0 => Some("page footer"),
            _ => None,
        };
        if by_name.is_some() {
            return by_name;
        }
        match e.attr("role").map(str::to_ascii_lowercase).as_deref() {
            Some("navigation") => return Some("navigation"),
            Some("banner") => return Some("page header"),
            Some("contentinfo") => return Some("page footer"),
            Some("complementary") => return Some("asides"),
            Some("search") => return Some("search forms"),
            _ => {}
        }
        let names_cookies = |v: &str| {
            let v = v.to_ascii_lowercase();
            v.contains("cookie") || v.contains("consent")
        };
        if e.id().is_some_and(names_cookies)
            || e.classes().any(names_cookies)
            || e.attr("aria-label").is_some_and(names_cookies)
        {
            return Some("cookie banners");
        }
        None
    }

    fn details(&mut self, node: NodeRef<'_, Node>) {
        self.flush();
        let summary = node.children().find(|c| {
            c.value()
                .as_element()
                .is_some_and(|e| e.name() == "summary")
        });
        let question = summary.map(|s| self.line(s.children())).unwrap_or_default();
        if self.nested || !blocks::is_question(&question) {
            if !self.nested && !question.is_empty() {
                self.not_questions.push(question.clone());
            }
            if !question.is_empty() {
                self.blocks.push(Block::Para(question));
            }
            for c in node.children().filter(|c| Some(*c) != summary) {
                self.walk(c);
            }
            self.flush();
            return;
        }
        let answer = self.render(node.children().filter(|c| Some(*c) != summary));
        self.found.accordions += 1;
        self.pairs.push(Found {
            at: self.blocks.len(),
            question,
            answer,
            place: Place::Section,
            style: Style::Accordion,
            meta: BTreeMap::new(),
        });
        self.blocks.push(Block::Qa);
    }

    fn definitions(&mut self, node: NodeRef<'_, Node>) {
        self.flush();
        // `<dt>`s then `<dd>`s, also inside the `<div>`s HTML allows around each group.
        let mut groups: Vec<(Nodes<'_>, Nodes<'_>)> = Vec::new();
        let mut items = Vec::new();
        for c in node.children() {
            match c.value().as_element().map(|e| e.name()) {
                Some("div") => items.extend(c.children()),
                _ => items.push(c),
            }
        }
        for c in items {
            match c.value().as_element().map(|e| e.name()) {
                Some("dt") => {
                    if groups.last().is_none_or(|(_, dds)| !dds.is_empty()) {
                        groups.push((Vec::new(), Vec::new()));
                    }
                    if let Some(g) = groups.last_mut() {
                        g.0.push(c);
                    }
                }
                Some("dd") => match groups.last_mut() {
                    Some(g) => g.1.push(c),
                    None => groups.push((Vec::new(), vec![c])),
                },
                _ => {}
            }
        }
        let questions: Vec<String> = groups
            .iter()
            .map(|(dts, _)| {
                dts.iter()
                    .map(|d| self.line(d.children()))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        if self.nested || !questions.iter().any(|q| blocks::is_question(q)) {
            for ((_, dds), q) in groups.iter().zip(&questions) {
                if !self.nested && !q.is_empty() {
                    self.not_questions.push(q.clone());
                }
                if !q.is_empty() {
                    self.blocks.push(Block::Para(q.clone()));
                }
                for dd in dds {
                    self.walk(*dd);
                    self.flush();
                }
            }
            return;
        }
        for ((_, dds), question) in groups.iter().zip(questions) {
            let answer = self.render(dds.iter().flat_map(|d| d.children()));
            self.found.definitions += 1;
            self.pairs.push(Found {
                at: self.blocks.len(),
                question,
                answer,
                place: Place::Section,
                style: Style::Definition,
                meta: BTreeMap::new(),
            });
        }
        self.blocks.push(Block::Qa);
    }

    fn table(&mut self, node: NodeRef<'_, Node>) {
        self.flush();
        let rows = rows_of(node);
        let header: Vec<String> = rows
            .first()
            .map(|r| r.iter().map(|c| self.line(c.children())).collect())
            .unwrap_or_default();
        let layout = rows.iter().flatten().any(|c| {
            c.descendants().any(|d| {
                d.value().as_element().is_some_and(|e| {
                    matches!(
                        e.name(),
                        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "dl" | "details"
                    )
                })
            }) || c
                .children()
                .filter(|d| d.value().as_element().is_some_and(|e| e.name() == "p"))
                .count()
                > 1
        });
        // A header naming the columns; else, in a table that is not the page's layout,
        // questions in the first cells.
        let map = if header.len() >= 2 && columns::looks_like_header(&header) {
            columns::detect("", &header, None, None)
                .ok()
                .map(|m| (m, 1))
        } else if layout {
            None
        } else {
            let firsts: Vec<String> = rows
                .iter()
                .filter(|r| r.len() >= 2)
                .map(|r| self.line(r[0].children()))
                .collect();
            let asked = firsts.iter().filter(|q| blocks::is_question(q)).count();
            (asked > 0 && asked * 2 >= firsts.len()).then(|| {
                let header_row = rows.first().is_some_and(|r| {
                    r.iter()
                        .all(|c| c.value().as_element().is_some_and(|e| e.name() == "th"))
                });
                (
                    columns::ColumnMap {
                        question: 0,
                        answer: 1,
                        meta: Vec::new(),
                    },
                    usize::from(header_row),
                )
            })
        };
        match map {
            Some((map, first)) if !self.nested => {
                self.tables += 1;
                let table = self.tables;
                for (r, row) in rows.iter().enumerate().skip(first) {
                    let question = row
                        .get(map.question)
                        .map(|c| self.line(c.children()))
                        .unwrap_or_default();
                    let answer = row
                        .get(map.answer)
                        .map(|c| self.render(c.children()))
                        .unwrap_or_default();
                    if question.is_empty() && answer.is_empty() {
                        self.blank_rows += 1;
                        continue;
                    }
                    let meta = map
                        .meta
                        .iter()
                        .filter_map(|&c| {
                            let v = self.line(row.get(c)?.children());
                            (!v.is_empty()).then(|| (header[c].clone(), v))
                        })
                        .collect();
                    self.found.table_rows += 1;
                    self.pairs.push(Found {
                        at: self.blocks.len(),
                        question,
                        answer,
                        place: Place::Table { table, row: r + 1 },
                        style: Style::Table,
                        meta,
                    });
                }
                self.blocks.push(Block::Qa);
            }
            _ if layout => {
                // A table that lays out the page: its cells are containers.
                for cell in rows.iter().flatten() {
                    for c in cell.children() {
                        self.walk(c);
                    }
                    self.flush();
                }
            }
            _ => {
                if !self.nested {
                    self.tables += 1;
                }
                let cells = rows
                    .iter()
                    .map(|r| r.iter().map(|c| self.line(c.children())).collect())
                    .collect();
                self.blocks.push(Block::Table(cells));
            }
        }
    }
}

type Nodes<'a> = Vec<NodeRef<'a, Node>>;

/// A table's rows and their cells, not those of tables inside it.
fn rows_of(table: NodeRef<'_, Node>) -> Vec<Vec<NodeRef<'_, Node>>> {
    let is = |n: &NodeRef<'_, Node>, names: &[&str]| {
        n.value()
            .as_element()
            .is_some_and(|e| names.contains(&e.name()))
    };
    let mut rows = Vec::new();
    for c in table.children() {
        let trs: Vec<NodeRef<'_, Node>> = if is(&c, &["tr"]) {
            vec![c]
        } else if is(&c, &["thead", "tbody", "tfoot"]) {
            c.children().filter(|r| is(r, &["tr"])).collect()
        } else {
            Vec::new()
        };
        for tr in trs {
            rows.push(tr.children().filter(|d| is(d, &["td", "th"])).collect());
        }
    }
    rows
}

/// Trims a collapsed text's ends and the spaces around its line breaks (a browser shows
/// neither); no-break spaces stay.
fn tidy(s: &str) -> String {
    let ws: &[char] = &[' ', '\t', '\n', '\r', '\x0C'];
    s.split('\n')
        .map(|l| l.trim_matches(ws))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_matches(ws)
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// JSON-LD.

/// The `Question`s of every `FAQPage` in the page's JSON-LD scripts (not in templates),
/// numbered from 1 in page order, and a warning for each script that is not JSON.
fn json_ld(root: NodeRef<'_, Node>) -> (Vec<Found>, Vec<String>) {
    let mut scripts = Vec::new();
    collect_scripts(root, &mut scripts, 0);
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut n = 0usize;
    for (i, src) in scripts.iter().enumerate() {
        // CMSs leave raw line breaks and tabs inside strings, which JSON forbids and
        // every search engine accepts.
        let src: String = src
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let value: serde_json::Value = match serde_json::from_str(src.trim()) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!(
                    "JSON-LD script {} is not valid JSON ({e}); its questions, if any, were not read",
                    i + 1
                ));
                continue;
            }
        };
        let mut questions = Vec::new();
        faq_questions(&value, false, &mut questions, 0);
        for q in questions {
            n += 1;
            let question = q
                .get("name")
                .or_else(|| q.get("text"))
                .and_then(serde_json::Value::as_str)
                .map(html_line)
                .unwrap_or_default();
            let answer = answer_of(q).map(html_answer).unwrap_or_default();
            out.push(Found {
                at: usize::MAX,
                question,
                answer,
                place: Place::JsonLd(n),
                style: Style::JsonLd,
                meta: BTreeMap::new(),
            });
        }
    }
    (out, problems)
}

fn collect_scripts(node: NodeRef<'_, Node>, out: &mut Vec<String>, depth: usize) {
    if depth >= MAX_HTML_DEPTH {
        return;
    }
    for c in node.children() {
        let Some(e) = c.value().as_element() else {
            continue;
        };
        if e.name() == "template" {
            continue;
        }
        if e.name() == "script" {
            let json = e.attr("type").is_some_and(|t| {
                t.split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
            });
            if json {
                let text: String = c
                    .children()
                    .filter_map(|t| t.value().as_text().map(|t| t.to_string()))
                    .collect();
                out.push(text);
            }
            continue;
        }
        collect_scripts(c, out, depth + 1);
    }
}

fn has_type(v: &serde_json::Value, wanted: &str) -> bool {
    let is = |t: &serde_json::Value| {
        t.as_str()
            .is_some_and(|t| t == wanted || t.rsplit(['/', ':']).next() == Some(wanted))
    };
    match v.get("@type") {
        Some(serde_json::Value::Array(types)) => types.iter().any(is),
        Some(t) => is(t),
        None => false,
    }
}

/// Questions under `FAQPage` objects anywhere (top level, arrays, `@graph`).
fn faq_questions<'a>(
    v: &'a serde_json::Value,
    in_faq: bool,
    out: &mut Vec<&'a serde_json::Value>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    match v {
        serde_json::Value::Array(items) => {
            for item in items {
                faq_questions(item, in_faq, out, depth + 1);
            }
        }
        serde_json::Value::Object(map) => {
            if in_faq && has_type(v, "Question") {
                out.push(v);
                return;
            }
            if has_type(v, "FAQPage") {
                if let Some(main) = map.get("mainEntity") {
                    faq_questions(main, true, out, depth + 1);
                }
                return;
            }
            for (k, child) in map {
                if k != "mainEntity" || !in_faq {
                    faq_questions(child, false, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

fn answer_of(q: &serde_json::Value) -> Option<&str> {
    // The accepted answer, else the first suggested one; either may be an array.
    [q.get("acceptedAnswer"), q.get("suggestedAnswer")]
        .into_iter()
        .flatten()
        .find_map(|a| {
            let a = match a {
                serde_json::Value::Array(items) => items.first()?,
                other => other,
            };
            a.get("text").and_then(serde_json::Value::as_str)
        })
}

/// A JSON-LD question's name: HTML or plain text, as one line.
fn html_line(s: &str) -> String {
    let frag = Html::parse_fragment(s);
    Walker::new(true).line(frag.tree.root().children())
}

/// A JSON-LD answer: HTML as Markdown; plain text keeps its blank lines as paragraphs
/// and its line breaks.
fn html_answer(s: &str) -> String {
    let looks_html = s.contains('<') && s.contains('>');
    if looks_html {
        let frag = Html::parse_fragment(s);
        return Walker::new(true).render(frag.tree.root().children());
    }
    let paragraphs: Vec<String> = s
        .replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| {
            p.split('\n')
                .map(html_line)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|p| !p.is_empty())
        .collect();
    paragraphs.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(html: &str) -> ReadOutput {
        read_bytes(html.as_bytes(), "faq.html", &ReadOptions::default()).unwrap()
    }

    fn pairs(out: &ReadOutput) -> Vec<(String, String, String)> {
        out.examples
            .iter()
            .map(|e| {
                (
                    e.origin.to_string(),
                    e.messages[0].content.clone(),
                    e.messages[1].content.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn prescan_follows_whatwg() {
        let enc = |s: &str| prescan(s.as_bytes()).map(Encoding::name);
        assert_eq!(enc("<meta charset=\"iso-8859-1\">"), Some("windows-1252"));
        assert_eq!(
            enc(
                "<!-- <meta charset=utf-8> --><META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=ISO-8859-1'>"
            ),
            Some("windows-1252")
        );
        assert_eq!(enc("<meta content='text/html; charset=utf-8'>"), None);
        assert_eq!(enc("<meta charset='utf-16le'>"), Some("UTF-8"));
        assert_eq!(enc("<title>x</title><meta charset=utf-8>"), Some("UTF-8"));
        assert_eq!(enc("<p>no meta</p>"), None);
        assert_eq!(
            charset_in_content("text/html;charset=\"latin1\""),
            Some("latin1".into())
        );
    }

    #[test]
    fn whitespace_collapses_and_entities_decode() {
        let out = read(
            "<h2>  Quem   pode\n optar?</h2><p>ME&nbsp;e EPP&#44;\n  com receita até<br> R$&nbsp;4,8&nbsp;milh&otilde;es &amp; sem d&eacute;bitos.</p>",
        );
        assert_eq!(
            pairs(&out),
            vec![(
                "faq.html:§\"Quem pode optar?\"".into(),
                "Quem pode optar?".into(),
                "ME e EPP, com receita até\nR$ 4,8 milhões & sem débitos.".into()
            )]
        );
    }

    #[test]
    fn a_page_nested_100000_deep_is_read_without_overflowing() {
        let mut page = "<div><details><summary>".repeat(50_000);
        page.push_str("Fundo?</summary>resposta");
        let out = read(&page);
        assert!(out.examples.is_empty());
        assert!(
            out.info.warnings[0]
                .starts_with("Elements are nested more than 512 deep from byte 3924 on;"),
            "{:?}",
            out.info.warnings
        );
        assert!(out.info.warnings[1].starts_with("Elements nested more than 256 deep"));
        let shallow = format!("{}<h2>Raso?</h2><p>Sim.</p>", "<div>".repeat(200));
        assert_eq!(read(&shallow).examples.len(), 1);
    }

    #[test]
    fn layout_tables_are_containers_and_dl_pairs_are_read() {
        let out = read(
            "<table><tr><td><h2>Dúvidas</h2><p>a</p><dl><dt>O que é DAS?</dt><dd>A guia.</dd><dt>Glossário</dt><dd><p>x</p><p>y</p></dd></dl></td></tr></table>",
        );
        assert_eq!(
            pairs(&out),
            vec![
                (
                    "faq.html:§\"O que é DAS?\"".into(),
                    "O que é DAS?".into(),
                    "A guia.".into()
                ),
                (
                    "faq.html:§\"Glossário\"".into(),
                    "Glossário".into(),
                    "x\n\ny".into()
                ),
            ]
        );
    }
}
