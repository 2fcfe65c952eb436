use std::fmt;

use serde::{Serialize, Serializer};

/// Where a row, line or Q&A pair came from, printed the way a user finds it again:
/// `faq.csv:34`, `faq.xlsx:FAQ!33`, `artigo.md:12`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// The path as the user gave it.
    pub file: String,
    pub locator: Locator,
}

/// The position inside a file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Locator {
    /// The whole file (a file-level problem).
    File,
    /// A 1-based line (JSONL, Markdown).
    Line(u64),
    /// A delimited-text record: 1-based data record number (header excluded) and the
    /// 1-based line it starts on. Printed as the line, which is what an editor shows.
    Record { record: u64, line: u64 },
    /// A spreadsheet sheet and 1-based row, as the spreadsheet program numbers it.
    Cell { sheet: String, row: u64 },
    /// A section of a document found by its title, the question itself (a Word heading,
    /// a web page's accordion): printed `manual.docx:§"Como optar?"`, which a reader finds
    /// with the program's search.
    Section(String),
    /// A numbered place in a document, named as a reader counts it: `JSON-LD[3]`,
    /// `table row 7`, `table 2 row 4`.
    Part(String),
}

impl Origin {
    pub fn new(file: impl Into<String>, locator: Locator) -> Self {
        Self {
            file: file.into(),
            locator,
        }
    }

    pub fn line(file: impl Into<String>, line: u64) -> Self {
        Self::new(file, Locator::Line(line))
    }

    pub fn record(file: impl Into<String>, record: u64, line: u64) -> Self {
        Self::new(file, Locator::Record { record, line })
    }

    pub fn cell(file: impl Into<String>, sheet: impl Into<String>, row: u64) -> Self {
        Self::new(
            file,
            Locator::Cell {
                sheet: sheet.into(),
                row,
            },
        )
    }

    /// A section titled `title` (long titles are cut to 80 characters with `…`).
    pub fn section(file: impl Into<String>, title: &str) -> Self {
        const MAX: usize = 80;
        let title = match title.char_indices().nth(MAX) {
            Some((at, _)) => format!("{}…", title[..at].trim_end()),
            None => title.to_owned(),
        };
        Self::new(file, Locator::Section(title))
    }

    pub fn part(file: impl Into<String>, part: impl Into<String>) -> Self {
        Self::new(file, Locator::Part(part.into()))
    }

    pub fn file(file: impl Into<String>) -> Self {
        Self::new(file, Locator::File)
    }

    /// The line number, where the locator has one.
    pub fn line_number(&self) -> Option<u64> {
        match self.locator {
            Locator::Line(line) | Locator::Record { line, .. } => Some(line),
            _ => None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.locator {
            Locator::File => write!(f, "{}", self.file),
            Locator::Line(line) | Locator::Record { line, .. } => write!(f, "{}:{line}", self.file),
            Locator::Cell { sheet, row } => write!(f, "{}:{sheet}!{row}", self.file),
            Locator::Section(title) => write!(f, "{}:§\"{title}\"", self.file),
            Locator::Part(part) => write!(f, "{}:{part}", self.file),
        }
    }
}

/// Origins serialise as their display form, which is what reports and rejects files show.
impl Serialize for Origin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_users_find_rows() {
        assert_eq!(Origin::line("faq.jsonl", 7).to_string(), "faq.jsonl:7");
        assert_eq!(Origin::record("faq.csv", 3, 5).to_string(), "faq.csv:5");
        assert_eq!(
            Origin::cell("faq.xlsx", "FAQ", 33).to_string(),
            "faq.xlsx:FAQ!33"
        );
        assert_eq!(Origin::file("a.csv").to_string(), "a.csv");
        assert_eq!(
            Origin::section("manual.docx", "Como optar?").to_string(),
            "manual.docx:§\"Como optar?\""
        );
        assert_eq!(
            Origin::part("faq.html", "JSON-LD[3]").to_string(),
            "faq.html:JSON-LD[3]"
        );
        let long = Origin::section("m.docx", &"é".repeat(100)).to_string();
        assert_eq!(long, format!("m.docx:§\"{}…\"", "é".repeat(80)));
        assert_eq!(
            serde_json::to_string(&Origin::line("a b.md", 2)).unwrap(),
            "\"a b.md:2\""
        );
    }
}
