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
            serde_json::to_string(&Origin::line("a b.md", 2)).unwrap(),
            "\"a b.md:2\""
        );
    }
}
