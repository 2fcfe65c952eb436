//! Questions and answers in a Word document (`.docx`, `.docm`), read from its XML parts
//! (quick-xml over zip), in the four styles offices use, which may be mixed:
//!
//! 1. a heading paragraph that ends with `?`; its answer runs to the next heading of the
//!    same or a higher level. Headings are known by their style's *name* (`heading 2`,
//!    which Word writes in English whatever the language) or outline level, never by its
//!    id (Word in Portuguese writes ids like `Ttulo2`); a style based on a heading is one;
//! 2. label paragraphs: `P:`/`R:`, `Pergunta:`/`Resposta:`, `Q:`/`A:`, bold or not; the
//!    answer runs to the next question of any style or heading;
//! 3. a table whose header row names a question and an answer column (`Pergunta` and
//!    `Resposta`, as for spreadsheets; other columns become meta);
//! 4. a numbered paragraph in bold ending with `?` (Word numbering or a typed `1.`),
//!    answered by the paragraphs under it.
//!
//! Answers keep their structure as Markdown: paragraphs separated by a blank line, soft
//! line breaks as `\n`, bullets as `- `, numbered items as `1. `, tables as pipe tables.
//! Not content: the table of contents (its field and its `toc N` paragraphs), headers and
//! footers, footnotes, endnotes and comments (other parts, never read; their marks in
//! the text are dropped), deleted tracked changes (inserted ones are content), field
//! codes (only a field's result is text), hidden text, drawings and text boxes.
//!
//! Origins name the question's section, `manual.docx:§"Como optar?"`, which Word's
//! search finds, or a table row, `manual.docx:table row 7` (`table 2 row 7` when the
//! document has several tables).

use std::collections::HashMap;
use std::io::{Cursor, Read};

use afinar_core::limits::{MAX_CELL_BYTES, MAX_UNZIPPED_BYTES, human_bytes};
use afinar_core::{Example, Origin};
use quick_xml::events::Event;

use super::blocks::{self, Block};
use super::{ReadOptions, ReadOutput, SourceInfo, text};
use crate::columns::{self, fold};
use crate::{FormatError, Reject};

/// Deepest XML nesting read (Word documents nest a few dozen levels at most).
const MAX_XML_DEPTH: usize = 256;

/// Reads a `.docx` file's bytes.
pub fn read_bytes(bytes: &[u8], file: &str, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    let bad = |problem: String| FormatError::Document {
        file: file.to_owned(),
        problem,
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        bad(format!(
            "it is not a zip archive ({e}); is it an old Word 97-2003 file renamed? Save it from Word as .docx"
        ))
    })?;
    if archive
        .decompressed_size()
        .is_some_and(|s| s > u128::from(MAX_UNZIPPED_BYTES))
    {
        return Err(bad(format!(
            "it unpacks to more than {}",
            human_bytes(MAX_UNZIPPED_BYTES)
        )));
    }
    let mut part = |name: &str| -> Result<Option<String>, FormatError> {
        let Ok(entry) = archive.by_name(name) else {
            return Ok(None);
        };
        let mut buf = Vec::new();
        entry
            .take(MAX_UNZIPPED_BYTES)
            .read_to_end(&mut buf)
            .map_err(|e| bad(format!("part `{name}` cannot be unpacked ({e})")))?;
        let (text, _, _) = encoding_rs::UTF_8.decode(&buf);
        Ok(Some(text.into_owned()))
    };
    let document = part("word/document.xml")?.ok_or_else(|| {
        bad("it has no `word/document.xml`; is it really a Word document?".to_owned())
    })?;
    let styles = match part("word/styles.xml")? {
        Some(xml) => parse_xml(&xml).map_err(|e| bad(format!("`word/styles.xml`: {e}")))?,
        None => XEl::default(),
    };
    let numbering = match part("word/numbering.xml")? {
        Some(xml) => parse_xml(&xml).map_err(|e| bad(format!("`word/numbering.xml`: {e}")))?,
        None => XEl::default(),
    };
    let document = parse_xml(&document).map_err(|e| bad(format!("`word/document.xml`: {e}")))?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();

    let styles = Styles::new(&styles);
    let numbering = Numbering::new(&numbering);
    let mut body = Body::new(&styles, &numbering);
    if let Some(b) = document.child("body") {
        body.blocks_of(b);
    }

    let mut info = SourceInfo {
        format: "docx".into(),
        ..Default::default()
    };
    let parts = |prefix: &str| {
        names
            .iter()
            .filter(|n| n.starts_with(prefix) && n.ends_with(".xml"))
            .count()
    };
    let skipped = [
        (
            body.seen.toc,
            "table of contents entry",
            "table of contents entries",
        ),
        (
            parts("word/header") + parts("word/footer"),
            "header or footer",
            "headers and footers",
        ),
        (
            body.seen.notes,
            "footnote or endnote mark",
            "footnote and endnote marks",
        ),
        (body.seen.comments, "comment", "comments"),
        (
            body.seen.deleted,
            "deleted tracked change",
            "deleted tracked changes",
        ),
        (body.seen.fields, "field code", "field codes"),
        (body.seen.hidden, "hidden text run", "hidden text runs"),
        (
            body.seen.drawings,
            "drawing or text box",
            "drawings and text boxes",
        ),
    ];
    let doc = extract(&body.blocks, &body.tables, file);
    let mut examples = Vec::new();
    let mut rejects = Vec::new();
    for pair in doc.pairs {
        info.rows += 1;
        let question = text(&pair.question, opts).trim().to_owned();
        let answer = text(&pair.answer, opts).trim().to_owned();
        let longest = question.len().max(answer.len());
        let reason = if longest > MAX_CELL_BYTES {
            format!(
                "Question or answer is {}, over the {} limit for one; split the document",
                human_bytes(longest as u64),
                human_bytes(MAX_CELL_BYTES as u64)
            )
        } else if question.is_empty() {
            "Question is empty".to_owned()
        } else if answer.is_empty() {
            pair.style.no_answer().to_owned()
        } else {
            let mut ex = Example::single_turn(None, question, answer, pair.origin);
            ex.meta = pair.meta;
            examples.push(ex);
            continue;
        };
        let raw = format!("{}\n{}", pair.question, pair.answer);
        rejects.push(Reject::new(pair.origin, reason, raw.trim_end()).with_code(
            if longest > MAX_CELL_BYTES {
                "too_long"
            } else if pair.question.trim().is_empty() {
                "empty_question"
            } else {
                "empty_answer"
            },
        ));
    }
    info.blank = doc.blank_rows;
    info.notes.push(found_note(&doc.found));
    let mut not_content: Vec<String> = skipped
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect();
    if !not_content.is_empty() {
        let last = not_content.pop().unwrap_or_default();
        let list = if not_content.is_empty() {
            last
        } else {
            format!("{} and {last}", not_content.join(", "))
        };
        info.notes.push(format!("Not read as content: {list}"));
    }
    Ok(ReadOutput {
        examples,
        rejects,
        info,
        ..Default::default()
    })
}

/// `Found 4 question headings, 2 P:/R: pairs…`, or what to do when nothing was found.
fn found_note(found: &Found) -> String {
    let kinds = [
        (found.headings, "question heading", "question headings"),
        (
            found.labels,
            "`P:`/`R:` label pair",
            "`P:`/`R:` label pairs",
        ),
        (
            found.table_rows,
            "question table row",
            "question table rows",
        ),
        (
            found.numbered,
            "numbered bold question",
            "numbered bold questions",
        ),
    ];
    let list: Vec<String> = kinds
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect();
    if list.is_empty() {
        "Found no questions: afinar looks for headings ending in `?`, `P:`/`R:` paragraphs, a Pergunta/Resposta table and numbered bold questions".to_owned()
    } else {
        format!("Found {}", list.join(", "))
    }
}

// ---------------------------------------------------------------------------------------
// A small XML tree: Word parts are a few megabytes at most, and a tree makes tables,
// content controls and fields that span paragraphs simple to walk.

#[derive(Debug, Default)]
struct XEl {
    /// The local name (`p` for `w:p`).
    name: String,
    /// Attributes by local name (`val` for `w:val`).
    attrs: Vec<(String, String)>,
    children: Vec<XNode>,
}

#[derive(Debug)]
enum XNode {
    El(XEl),
    Text(String),
}

impl XEl {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn elements(&self) -> impl Iterator<Item = &XEl> {
        self.children.iter().filter_map(|c| match c {
            XNode::El(e) => Some(e),
            XNode::Text(_) => None,
        })
    }

    fn child(&self, name: &str) -> Option<&XEl> {
        self.elements().find(|e| e.name == name)
    }

    /// The `w:val` of a child (`<w:pStyle w:val="Ttulo2"/>`).
    fn val_of(&self, name: &str) -> Option<&str> {
        self.child(name).and_then(|e| e.attr("val"))
    }

    fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            match c {
                XNode::Text(t) => s.push_str(t),
                XNode::El(e) => s.push_str(&e.text()),
            }
        }
        s
    }
}

fn local(name: &str) -> String {
    name.rsplit_once(':').map_or(name, |(_, l)| l).to_owned()
}

/// Why a part's XML cannot be read (invalid, or nested too deep).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct XmlProblem(String);

/// Parses a part into its root element (a synthetic one holding the document element).
fn parse_xml(xml: &str) -> Result<XEl, XmlProblem> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<XEl> = vec![XEl::default()];
    let element = |e: &quick_xml::events::BytesStart<'_>| -> Result<XEl, XmlProblem> {
        let mut attrs = Vec::new();
        for a in e.attributes().with_checks(false) {
            let a = a.map_err(|e| XmlProblem(e.to_string()))?;
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| XmlProblem(e.to_string()))?;
            attrs.push((local(a.key.as_ref()), value.into_owned()));
        }
        Ok(XEl {
            name: local(e.name().as_ref()),
            attrs,
            children: Vec::new(),
        })
    };
    let push_text = |stack: &mut Vec<XEl>, t: &str| {
        if let Some(top) = stack.last_mut() {
            if let Some(XNode::Text(prev)) = top.children.last_mut() {
                prev.push_str(t);
            } else {
                top.children.push(XNode::Text(t.to_owned()));
            }
        }
    };
    loop {
        let event = reader.read_event().map_err(|e| {
            XmlProblem(format!(
                "invalid XML at byte {}: {e}",
                reader.error_position()
            ))
        })?;
        match event {
            Event::Start(e) => {
                if stack.len() > MAX_XML_DEPTH {
                    return Err(XmlProblem(format!(
                        "XML nested deeper than {MAX_XML_DEPTH} elements"
                    )));
                }
                stack.push(element(&e)?);
            }
            Event::Empty(e) => {
                let el = element(&e)?;
                if let Some(top) = stack.last_mut() {
                    top.children.push(XNode::El(el));
                }
            }
            Event::End(_) => {
                if stack.len() > 1
                    && let Some(done) = stack.pop()
                    && let Some(top) = stack.last_mut()
                {
                    top.children.push(XNode::El(done));
                }
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content()),
            Event::CData(t) => push_text(&mut stack, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
                        .unwrap_or("")
                        .to_owned(),
                };
                push_text(&mut stack, &resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // An unclosed element (a truncated part) keeps what was read.
    while stack.len() > 1 {
        if let Some(done) = stack.pop()
            && let Some(top) = stack.last_mut()
        {
            top.children.push(XNode::El(done));
        }
    }
    let mut root = stack.pop().unwrap_or_default();
    Ok(
        match root.children.iter().position(|c| matches!(c, XNode::El(_))) {
            Some(i) => match root.children.swap_remove(i) {
                XNode::El(e) => e,
                XNode::Text(_) => XEl::default(),
            },
            None => XEl::default(),
        },
    )
}

/// `<w:b/>`, `<w:b w:val="1"/>` are on; `w:val="0"`, `"false"`, `"off"` off.
fn toggle(e: &XEl) -> bool {
    !matches!(e.attr("val"), Some("0" | "false" | "off" | "none"))
}

// ---------------------------------------------------------------------------------------
// Styles and numbering.

#[derive(Debug, Default)]
struct WordStyle {
    name: String,
    based_on: Option<String>,
    outline: Option<u8>,
    bold: Option<bool>,
    hidden: Option<bool>,
    num: Option<(String, u8)>,
}

#[derive(Debug)]
struct Styles {
    by_id: HashMap<String, WordStyle>,
    default_paragraph: Option<String>,
}

impl Styles {
    fn new(root: &XEl) -> Self {
        let mut by_id = HashMap::new();
        let mut default_paragraph = None;
        for s in root.elements().filter(|e| e.name == "style") {
            let Some(id) = s.attr("styleId") else {
                continue;
            };
            if s.attr("type") == Some("paragraph")
                && s.attr("default").is_some_and(|d| d == "1" || d == "true")
            {
                default_paragraph = Some(id.to_owned());
            }
            let ppr = s.child("pPr");
            let rpr = s.child("rPr");
            let style = WordStyle {
                name: s.val_of("name").unwrap_or_default().to_owned(),
                based_on: s.val_of("basedOn").map(str::to_owned),
                outline: ppr
                    .and_then(|p| p.val_of("outlineLvl"))
                    .and_then(|v| v.parse().ok()),
                bold: rpr.and_then(|r| r.child("b")).map(toggle),
                hidden: rpr.and_then(|r| r.child("vanish")).map(toggle),
                num: ppr.and_then(|p| p.child("numPr")).and_then(num_pr),
            };
            by_id.insert(id.to_owned(), style);
        }
        Self {
            by_id,
            default_paragraph,
        }
    }

    /// A style and those it is based on, nearest first (at most 16: a loop ends).
    fn chain<'a>(&'a self, id: Option<&'a str>) -> impl Iterator<Item = &'a WordStyle> + 'a {
        let mut next = id.or(self.default_paragraph.as_deref());
        std::iter::from_fn(move || {
            let style = self.by_id.get(next?)?;
            next = style.based_on.as_deref();
            Some(style)
        })
        .take(16)
    }

    /// The heading level (1 highest) a paragraph style gives: by outline level, or by a
    /// name `heading N` (`Título N` in files from some tools), following `basedOn`.
    fn heading(&self, id: Option<&str>) -> Option<u8> {
        for style in self.chain(id) {
            if let Some(level) = style.outline {
                return (level < 9).then_some(level + 1);
            }
            let name = fold(&style.name);
            for prefix in ["heading ", "titulo ", "title "] {
                if let Some(n) = name.strip_prefix(prefix).and_then(|n| n.parse::<u8>().ok()) {
                    return (1..=9).contains(&n).then_some(n);
                }
            }
        }
        None
    }

    /// Whether a paragraph style is a table of contents entry or its heading.
    fn is_toc(&self, id: Option<&str>) -> bool {
        id.is_some()
            && self.chain(id).take(1).any(|s| {
                let name = fold(&s.name);
                name == "toc heading"
                    || name
                        .strip_prefix("toc ")
                        .is_some_and(|n| n.parse::<u8>().is_ok())
            })
    }

    fn bold(&self, id: Option<&str>) -> Option<bool> {
        self.chain(id).find_map(|s| s.bold)
    }

    fn hidden(&self, id: Option<&str>) -> bool {
        self.chain(id).find_map(|s| s.hidden).unwrap_or(false)
    }

    fn num(&self, id: Option<&str>) -> Option<(String, u8)> {
        self.chain(id).find_map(|s| s.num.clone())
    }
}

/// `<w:numPr><w:ilvl w:val="0"/><w:numId w:val="3"/></w:numPr>`; numId 0 is "none".
fn num_pr(e: &XEl) -> Option<(String, u8)> {
    let id = e.val_of("numId")?;
    let level = e.val_of("ilvl").and_then(|v| v.parse().ok()).unwrap_or(0);
    Some((id.to_owned(), level))
}

#[derive(Debug, Default)]
struct Numbering {
    /// numId → for each level, whether it is a bullet.
    bullets: HashMap<String, HashMap<u8, bool>>,
}

impl Numbering {
    fn new(root: &XEl) -> Self {
        let mut abstracts: HashMap<&str, HashMap<u8, bool>> = HashMap::new();
        for a in root.elements().filter(|e| e.name == "abstractNum") {
            let Some(id) = a.attr("abstractNumId") else {
                continue;
            };
            let levels = a
                .elements()
                .filter(|l| l.name == "lvl")
                .filter_map(|l| {
                    let level = l.attr("ilvl")?.parse().ok()?;
                    let bullet = matches!(l.val_of("numFmt"), Some("bullet" | "none"));
                    Some((level, bullet))
                })
                .collect();
            abstracts.insert(id, levels);
        }
        let bullets = root
            .elements()
            .filter(|e| e.name == "num")
            .filter_map(|n| {
                let levels = abstracts.get(n.val_of("abstractNumId")?)?;
                Some((n.attr("numId")?.to_owned(), levels.clone()))
            })
            .collect();
        Self { bullets }
    }

    /// `Some(true)` for a bullet, `Some(false)` for a number, `None` for no list.
    fn is_bullet(&self, num_id: &str, level: u8) -> Option<bool> {
        if num_id == "0" {
            return None;
        }
        // A level the definition lacks is numbered, as Word shows it.
        Some(
            self.bullets
                .get(num_id)
                .and_then(|l| l.get(&level))
                .copied()
                .unwrap_or(false),
        )
    }
}

// ---------------------------------------------------------------------------------------
// The body: paragraphs and tables in reading order.

/// A paragraph as read, before its role is decided.
#[derive(Debug, Default)]
struct Para {
    text: String,
    heading: Option<u8>,
    /// Every visible letter of it is bold.
    bold: bool,
    /// Word list membership: (bullet, level, number).
    list: Option<(bool, u8, u32)>,
}

/// What was passed over, for the summary.
#[derive(Debug, Default)]
struct Seen {
    toc: usize,
    notes: usize,
    comments: usize,
    deleted: usize,
    fields: usize,
    hidden: usize,
    drawings: usize,
}

/// A complex field being read (`w:fldChar` begin … separate … end).
#[derive(Debug)]
struct Field {
    code: String,
    /// Past `separate`: the text now is the field's result.
    result: bool,
}

/// The document's top-level blocks. Tables are blocks too; their cells (each a list of
/// blocks) are kept beside, by the table's index.
struct Body<'a> {
    styles: &'a Styles,
    numbering: &'a Numbering,
    blocks: Vec<DBlock>,
    tables: Vec<Vec<Vec<Vec<Block>>>>,
    fields: Vec<Field>,
    counters: HashMap<String, [u32; 9]>,
    seen: Seen,
    /// Depth of tables being read (a nested table is flattened into its cell).
    in_table: usize,
}

/// A top-level block with what its role needs.
#[derive(Debug)]
struct DBlock {
    block: Block,
    bold: bool,
    /// A Word-numbered (not bullet) paragraph.
    numbered: bool,
    /// For tables: the index into `Body::tables`.
    table: Option<usize>,
}

impl<'a> Body<'a> {
    fn new(styles: &'a Styles, numbering: &'a Numbering) -> Self {
        Self {
            styles,
            numbering,
            blocks: Vec::new(),
            tables: Vec::new(),
            fields: Vec::new(),
            counters: HashMap::new(),
            seen: Seen::default(),
            in_table: 0,
        }
    }

    /// Reads the block-level children of `parent` (the body, a content control, a cell)
    /// into `self.blocks`.
    fn blocks_of(&mut self, parent: &XEl) {
        for e in parent.elements() {
            match e.name.as_str() {
                "p" => {
                    if let Some(p) = self.paragraph(e) {
                        self.push_para(p);
                    }
                }
                "tbl" => self.table(e),
                "sdt" => {
                    let gallery = e
                        .child("sdtPr")
                        .and_then(|p| p.child("docPartObj"))
                        .and_then(|d| d.val_of("docPartGallery"))
                        .unwrap_or_default();
                    if gallery.contains("Table of Contents") {
                        self.seen.toc += count(e, "p");
                        continue;
                    }
                    if let Some(content) = e.child("sdtContent") {
                        self.blocks_of(content);
                    }
                }
                "customXml" | "ins" | "moveTo" | "smartTag" => self.blocks_of(e),
                "del" | "moveFrom" => self.seen.deleted += 1,
                _ => {}
            }
        }
    }

    fn push_para(&mut self, p: Para) {
        let numbered = matches!(p.list, Some((false, _, _)));
        let block = match (p.heading, p.list) {
            (Some(level), _) => Block::Heading {
                level,
                text: p.text.replace('\n', " "),
            },
            (None, Some((bullet, depth, number))) => Block::Item {
                depth,
                number: (!bullet).then_some(number),
                text: p.text,
            },
            (None, None) => Block::Para(p.text),
        };
        self.blocks.push(DBlock {
            block,
            bold: p.bold,
            numbered,
            table: None,
        });
    }

    /// A paragraph, or `None` when it is not content (a table of contents entry, or a
    /// paragraph left empty once field codes and deletions are gone).
    fn paragraph(&mut self, p: &XEl) -> Option<Para> {
        let ppr = p.child("pPr");
        let style = ppr.and_then(|p| p.val_of("pStyle"));
        let toc_style = self.styles.is_toc(style);
        let mut run = Runs::default();
        self.inline(p, style, &mut run);
        let in_toc = self
            .fields
            .iter()
            .any(|f| f.code.trim_start().to_ascii_uppercase().starts_with("TOC"));
        if toc_style || run.toc || in_toc {
            self.seen.toc += 1;
            return None;
        }
        let text = tidy(&run.text);
        if text.is_empty() {
            return None;
        }
        let heading = ppr
            .and_then(|p| p.val_of("outlineLvl"))
            .and_then(|v| v.parse::<u8>().ok())
            .map(|l| (l < 9).then_some(l + 1))
            .unwrap_or_else(|| self.styles.heading(style));
        let num = ppr
            .and_then(|p| p.child("numPr"))
            .and_then(num_pr)
            .or_else(|| self.styles.num(style));
        let list = num.and_then(|(id, level)| {
            let bullet = self.numbering.is_bullet(&id, level)?;
            let level = level.min(8);
            let counters = self.counters.entry(id).or_insert([0; 9]);
            counters[usize::from(level)] += 1;
            for deeper in &mut counters[usize::from(level) + 1..] {
                *deeper = 0;
            }
            Some((bullet, level, counters[usize::from(level)]))
        });
        Some(Para {
            text,
            heading,
            bold: run.letters > 0 && run.bold_letters == run.letters,
            list,
        })
    }

    /// Walks the inline content of a paragraph (runs, hyperlinks, insertions…).
    fn inline(&mut self, parent: &XEl, pstyle: Option<&str>, out: &mut Runs) {
        for e in parent.elements() {
            match e.name.as_str() {
                "r" => self.run(e, pstyle, out),
                "hyperlink" | "ins" | "moveTo" | "smartTag" | "customXml" | "bdo" | "dir" => {
                    self.inline(e, pstyle, out);
                }
                "sdt" => {
                    if let Some(c) = e.child("sdtContent") {
                        self.inline(c, pstyle, out);
                    }
                }
                "fldSimple" => {
                    let code = e.attr("instr").unwrap_or_default();
                    self.seen.fields += 1;
                    if code.trim_start().to_ascii_uppercase().starts_with("TOC") {
                        out.toc = true;
                    } else {
                        self.inline(e, pstyle, out);
                    }
                }
                "del" | "moveFrom" => self.seen.deleted += 1,
                "commentRangeStart" => self.seen.comments += 1,
                "oMath" | "oMathPara" => out.push(&e.text(), false),
                _ => {}
            }
        }
    }

    fn run(&mut self, r: &XEl, pstyle: Option<&str>, out: &mut Runs) {
        let rpr = r.child("rPr");
        let rstyle = rpr.and_then(|p| p.val_of("rStyle"));
        let hidden = rpr
            .and_then(|p| p.child("vanish"))
            .map(toggle)
            .or_else(|| rstyle.map(|s| self.styles.hidden(Some(s))))
            .unwrap_or_else(|| self.styles.hidden(pstyle));
        let bold = rpr
            .and_then(|p| p.child("b"))
            .map(toggle)
            .or_else(|| rstyle.and_then(|s| self.styles.bold(Some(s))))
            .or_else(|| self.styles.bold(pstyle))
            .unwrap_or(false);
        for e in r.elements() {
            match e.name.as_str() {
                "fldChar" => match e.attr("fldCharType") {
                    Some("begin") => {
                        self.seen.fields += 1;
                        self.fields.push(Field {
                            code: String::new(),
                            result: false,
                        });
                    }
                    Some("separate") => {
                        if let Some(f) = self.fields.last_mut() {
                            f.result = true;
                        }
                    }
                    Some("end") => {
                        self.fields.pop();
                    }
                    _ => {}
                },
                "instrText" => {
                    if let Some(f) = self.fields.last_mut()
                        && !f.result
                    {
                        f.code.push_str(&e.text());
                    }
                }
                _ if self.fields.iter().any(|f| !f.result) => {}
                _ if self
                    .fields
                    .iter()
                    .any(|f| f.code.trim_start().to_ascii_uppercase().starts_with("TOC")) =>
                {
                    out.toc = true;
                }
                "t" if hidden => self.seen.hidden += 1,
                "t" => out.push(&e.text(), bold),
                "tab" | "ptab" => out.push(" ", bold),
                "br" => match e.attr("type") {
                    Some("page" | "column") => out.push(" ", bold),
                    _ => out.push("\n", bold),
                },
                "cr" => out.push("\n", bold),
                "noBreakHyphen" => out.push("-", bold),
                "footnoteReference" | "endnoteReference" => self.seen.notes += 1,
                "drawing" | "pict" | "object" | "AlternateContent" => self.seen.drawings += 1,
                "delText" => self.seen.deleted += 1,
                _ => {}
            }
        }
    }

    fn table(&mut self, tbl: &XEl) {
        if self.in_table > 0 {
            // A table inside a cell: its cells' paragraphs join the outer cell.
            for tr in tbl.elements().filter(|e| e.name == "tr") {
                for tc in tr.elements().filter(|e| e.name == "tc") {
                    self.blocks_of(tc);
                }
            }
            return;
        }
        self.in_table += 1;
        let mut rows = Vec::new();
        for tr in rows_of(tbl) {
            let mut cells = Vec::new();
            for tc in cells_of(tr) {
                let outer = std::mem::take(&mut self.blocks);
                self.blocks_of(tc);
                let inner = std::mem::replace(&mut self.blocks, outer);
                cells.push(inner.into_iter().map(|b| b.block).collect::<Vec<_>>());
            }
            rows.push(cells);
        }
        self.in_table -= 1;
        let flat = rows
            .iter()
            .map(|r| r.iter().map(|c| cell_line(c)).collect())
            .collect();
        self.tables.push(rows);
        self.blocks.push(DBlock {
            block: Block::Table(flat),
            bold: false,
            numbered: false,
            table: Some(self.tables.len() - 1),
        });
    }
}

/// Table rows, also those wrapped in content controls or insertions.
fn rows_of(tbl: &XEl) -> Vec<&XEl> {
    let mut out = Vec::new();
    for e in tbl.elements() {
        match e.name.as_str() {
            "tr" => out.push(e),
            "sdt" | "customXml" | "ins" => {
                let inner = e.child("sdtContent").unwrap_or(e);
                out.extend(rows_of(inner));
            }
            _ => {}
        }
    }
    out
}

fn cells_of(tr: &XEl) -> Vec<&XEl> {
    let mut out = Vec::new();
    for e in tr.elements() {
        match e.name.as_str() {
            "tc" => out.push(e),
            "sdt" | "customXml" => {
                let inner = e.child("sdtContent").unwrap_or(e);
                out.extend(cells_of(inner));
            }
            _ => {}
        }
    }
    out
}

/// A cell's blocks on one line, for a pipe table.
fn cell_line(blocks: &[Block]) -> String {
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { text, .. } | Block::Para(text) | Block::Item { text, .. } => {
                Some(text.replace('\n', " "))
            }
            _ => None,
        })
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn count(e: &XEl, name: &str) -> usize {
    e.elements()
        .map(|c| usize::from(c.name == name) + count(c, name))
        .sum()
}

/// Text of one paragraph as its runs give it.
#[derive(Debug, Default)]
struct Runs {
    text: String,
    letters: usize,
    bold_letters: usize,
    /// Part of the table of contents.
    toc: bool,
}

impl Runs {
    fn push(&mut self, s: &str, bold: bool) {
        let letters = s.chars().filter(|c| c.is_alphanumeric()).count();
        self.letters += letters;
        if bold {
            self.bold_letters += letters;
        }
        self.text.push_str(s);
    }
}

/// Spaces around soft breaks and at the ends go; the breaks stay.
fn tidy(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_matches('\n')
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// Finding the pairs.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Heading,
    Labels,
    Table,
    Numbered,
}

impl Style {
    fn no_answer(self) -> &'static str {
        match self {
            Style::Heading => "Question heading has no answer before the next heading",
            Style::Labels => {
                "Question label has no answer label (`R:`, `Resposta:`, `A:`) before the next question or heading"
            }
            Style::Table => "Question in the table has an empty answer cell",
            Style::Numbered => "Numbered bold question has no answer under it",
        }
    }
}

#[derive(Debug)]
struct DocPair {
    question: String,
    answer: String,
    origin: Origin,
    style: Style,
    meta: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Found {
    headings: usize,
    labels: usize,
    table_rows: usize,
    numbered: usize,
}

#[derive(Debug, Default)]
struct Extracted {
    pairs: Vec<DocPair>,
    found: Found,
    blank_rows: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Question,
    Answer,
}

/// `P:`, `Pergunta:`, `Q:`… at the start of a paragraph → the kind and the text after.
fn label(text: &str) -> Option<(Label, &str)> {
    let t = text.trim_start();
    let word_len = t.find(|c: char| !c.is_alphabetic()).unwrap_or(t.len());
    let kind = match fold(&t[..word_len]).as_str() {
        "p" | "pergunta" | "q" | "questao" | "question" => Label::Question,
        "r" | "resposta" | "a" | "answer" => Label::Answer,
        _ => return None,
    };
    let rest = t[word_len..].trim_start_matches([' ', '\u{a0}']);
    let rest = rest.strip_prefix(':')?;
    Some((kind, rest.trim_start()))
}

/// A typed number at the start of a paragraph (`1.`, `12)`, `3 -`), and the text after.
fn typed_number(text: &str) -> Option<&str> {
    let digits = text.find(|c: char| !c.is_ascii_digit())?;
    if digits == 0 || digits > 3 {
        return None;
    }
    let rest = text[digits..].trim_start();
    let rest = rest
        .strip_prefix(['.', ')', '-', '–'])?
        .trim_start_matches([' ', '\u{a0}', '\t']);
    Some(rest)
}

/// The role of a top-level block.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    QuestionLabel(String),
    AnswerLabel(String),
    Numbered(String),
    QaTable,
    Other,
}

fn role(b: &DBlock, table_map: &impl Fn(usize) -> bool) -> Role {
    match (&b.block, b.table) {
        (_, Some(t)) if table_map(t) => Role::QaTable,
        (Block::Para(text) | Block::Item { text, .. }, _) => {
            if let Some((kind, rest)) = label(text) {
                return match kind {
                    Label::Question => Role::QuestionLabel(rest.to_owned()),
                    Label::Answer => Role::AnswerLabel(rest.to_owned()),
                };
            }
            if b.bold && blocks::is_question(text) {
                if b.numbered {
                    return Role::Numbered(text.replace('\n', " "));
                }
                if let Some(rest) = typed_number(text) {
                    return Role::Numbered(rest.replace('\n', " "));
                }
            }
            Role::Other
        }
        _ => Role::Other,
    }
}

/// Whether a table's header names a question and an answer column, and which.
fn qa_columns(rows: &[Vec<Vec<Block>>]) -> Option<columns::ColumnMap> {
    let header: Vec<String> = rows.first()?.iter().map(|c| cell_line(c)).collect();
    if header.len() < 2 || !columns::looks_like_header(&header) {
        return None;
    }
    columns::detect("", &header, None, None).ok()
}

fn extract(body: &[DBlock], tables: &[Vec<Vec<Vec<Block>>>], file: &str) -> Extracted {
    let maps: Vec<Option<columns::ColumnMap>> = tables.iter().map(|t| qa_columns(t)).collect();
    let is_qa_table = |t: usize| maps.get(t).is_some_and(Option::is_some);
    let roles: Vec<Role> = body.iter().map(|b| role(b, &is_qa_table)).collect();
    let plain: Vec<Block> = body
        .iter()
        .zip(&roles)
        .map(|(b, r)| match r {
            Role::QaTable => Block::Qa,
            _ => b.block.clone(),
        })
        .collect();
    let mut out = Extracted::default();
    let mut pairs: Vec<(usize, DocPair)> = Vec::new();
    let is_question_role = |j: usize| {
        matches!(
            roles[j],
            Role::QuestionLabel(_) | Role::Numbered(_) | Role::QaTable
        )
    };

    // Style 1: question headings.
    let mut claimed = vec![false; body.len()];
    for (i, range) in blocks::question_sections(&plain, is_question_role) {
        let Block::Heading { text, .. } = &plain[i] else {
            continue;
        };
        for c in &mut claimed[range.clone()] {
            *c = true;
        }
        out.found.headings += 1;
        pairs.push((
            i,
            DocPair {
                question: text.clone(),
                answer: blocks::markdown(&plain[range]),
                origin: Origin::section(file, text),
                style: Style::Heading,
                meta: Default::default(),
            },
        ));
    }

    // Styles 2 and 4: labels and numbered bold questions, to the next question or heading.
    let stop_after = |i: usize| {
        (i + 1..body.len())
            .find(|&j| is_question_role(j) || matches!(plain[j], Block::Heading { .. }))
            .unwrap_or(body.len())
    };
    for (i, r) in roles.iter().enumerate() {
        if claimed[i] {
            continue;
        }
        match r {
            Role::QuestionLabel(first) => {
                let stop = stop_after(i);
                let answer_at = (i + 1..stop).find(|&j| matches!(roles[j], Role::AnswerLabel(_)));
                let q_end = answer_at.unwrap_or(stop);
                let mut question: Vec<String> = vec![first.clone()];
                question.extend((i + 1..q_end).filter_map(|j| match &plain[j] {
                    Block::Para(t) | Block::Item { text: t, .. } => Some(t.clone()),
                    _ => None,
                }));
                let question = question
                    .iter()
                    .map(|q| q.replace('\n', " ").trim().to_owned())
                    .filter(|q| !q.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                let answer = match answer_at {
                    Some(a) => {
                        let Role::AnswerLabel(first) = &roles[a] else {
                            continue;
                        };
                        let mut blocks = vec![Block::Para(first.clone())];
                        blocks.extend(plain[a + 1..stop].iter().cloned());
                        blocks::markdown(&blocks)
                    }
                    None => String::new(),
                };
                out.found.labels += 1;
                pairs.push((
                    i,
                    DocPair {
                        origin: Origin::section(file, &question),
                        question,
                        answer,
                        style: Style::Labels,
                        meta: Default::default(),
                    },
                ));
            }
            Role::Numbered(question) => {
                let stop = stop_after(i);
                out.found.numbered += 1;
                pairs.push((
                    i,
                    DocPair {
                        question: question.clone(),
                        answer: blocks::markdown(&plain[i + 1..stop]),
                        origin: Origin::section(file, question),
                        style: Style::Numbered,
                        meta: Default::default(),
                    },
                ));
            }
            _ => {}
        }
    }

    // Style 3: question tables, one pair per row.
    let several = tables.len() > 1;
    for (i, b) in body.iter().enumerate() {
        let Some(t) = b.table else {
            continue;
        };
        let Some(map) = &maps[t] else {
            continue;
        };
        let rows = &tables[t];
        let header: Vec<String> = rows[0].iter().map(|c| cell_line(c)).collect();
        for (r, row) in rows.iter().enumerate().skip(1) {
            let cell = |c: usize| row.get(c).map(|c| blocks::markdown(c)).unwrap_or_default();
            let question = cell(map.question).replace('\n', " ");
            let answer = cell(map.answer);
            if question.trim().is_empty() && answer.trim().is_empty() {
                out.blank_rows += 1;
                continue;
            }
            let place = if several {
                format!("table {} row {}", t + 1, r + 1)
            } else {
                format!("table row {}", r + 1)
            };
            let meta = map
                .meta
                .iter()
                .filter_map(|&c| {
                    let v = cell_line(row.get(c)?);
                    (!v.is_empty()).then(|| (header[c].clone(), v))
                })
                .collect();
            out.found.table_rows += 1;
            pairs.push((
                i,
                DocPair {
                    question,
                    answer,
                    origin: Origin::part(file, place),
                    style: Style::Table,
                    meta,
                },
            ));
        }
    }
    // Document order; a table's rows in row order (the sort is stable).
    pairs.sort_by_key(|(i, _)| *i);
    out.pairs = pairs.into_iter().map(|(_, p)| p).collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_typed_numbers() {
        assert_eq!(
            label("P: Qual o prazo?"),
            Some((Label::Question, "Qual o prazo?"))
        );
        assert_eq!(
            label("Resposta : Dia 20."),
            Some((Label::Answer, "Dia 20."))
        );
        assert_eq!(label("Pergunta:"), Some((Label::Question, "")));
        assert_eq!(label("Prazo: dia 20"), None);
        assert_eq!(label("A empresa: sim"), None);
        assert_eq!(typed_number("12) Posso parcelar?"), Some("Posso parcelar?"));
        assert_eq!(typed_number("2026. Ano"), None);
        assert_eq!(typed_number("Posso?"), None);
    }

    #[test]
    fn heading_levels_come_from_names_and_outline_not_ids() {
        let xml = r#"<w:styles xmlns:w="w">
            <w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>
            <w:style w:type="paragraph" w:styleId="Ttulo2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/></w:style>
            <w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="Corpo"/></w:style>
            <w:style w:type="paragraph" w:styleId="PerguntaFAQ"><w:name w:val="Pergunta FAQ"/><w:basedOn w:val="Ttulo2"/></w:style>
            <w:style w:type="paragraph" w:styleId="Destaque"><w:name w:val="Destaque"/><w:pPr><w:outlineLvl w:val="2"/></w:pPr></w:style>
            <w:style w:type="paragraph" w:styleId="Sumrio1"><w:name w:val="toc 1"/></w:style>
        </w:styles>"#;
        let styles = Styles::new(&parse_xml(xml).unwrap());
        assert_eq!(styles.heading(Some("Ttulo2")), Some(2));
        assert_eq!(styles.heading(Some("Heading1")), None);
        assert_eq!(styles.heading(Some("PerguntaFAQ")), Some(2));
        assert_eq!(styles.heading(Some("Destaque")), Some(3));
        assert_eq!(styles.heading(None), None);
        assert!(styles.is_toc(Some("Sumrio1")));
        assert!(!styles.is_toc(Some("Ttulo2")));
    }

    #[test]
    fn broken_xml_is_an_error_not_a_panic() {
        assert!(parse_xml("<a><b x='1></a>").is_err());
        let truncated = parse_xml("<w:document><w:body><w:p><w:r><w:t>Oi").unwrap();
        assert_eq!(truncated.text(), "Oi");
    }
}
