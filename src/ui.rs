//! Terminal output shared by the commands: error rendering, colours, exit codes, and the
//! one set of output helpers (plurals, warnings, source lines, reject lists). `STYLE.md`
//! says how messages are written.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit codes of the CLI contract.
pub mod exit {
    pub const OK: u8 = 0;
    /// Data problems found (invalid examples, rejects under `--strict`).
    pub const DATA: u8 = 1;
    /// Usage or I/O error.
    pub const USAGE: u8 = 2;
    /// The remote fine-tuning service failed, or a job ended in failure.
    pub const REMOTE: u8 = 3;
}

/// Colour only on a terminal, and never when `NO_COLOR` is set.
pub fn color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stderr().is_terminal()
}

pub fn paint(text: &str, ansi: &str) -> String {
    if color_stderr() {
        format!("\x1b[{ansi}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// Prints `error: …` and one `  caused by: …` line per cause; exits 2. A closed pipe
/// (`afinar convert … -o - | head`) is not an error and exits quietly.
pub fn report_error(err: &anyhow::Error) -> ExitCode {
    let broken_pipe = err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return ExitCode::from(exit::OK);
    }
    let mut text = format!("{} {err}", paint("error:", "1;31"));
    for cause in err.chain().skip(1) {
        text.push_str(&format!("\n  {} {cause}", paint("caused by:", "1")));
    }
    eprintln!("{text}");
    ExitCode::from(exit::USAGE)
}

/// Refuses an output that would clobber an input, or JSON on stdout beside `-o -`.
pub fn check_output(inputs: &[PathBuf], output: &Path, json_summary: bool) -> anyhow::Result<()> {
    let to_stdout = output.as_os_str() == "-";
    if to_stdout && json_summary {
        anyhow::bail!(
            "`--format json` prints to standard output, which `-o -` already uses; write the data to a file"
        );
    }
    if !to_stdout && let Some(input) = inputs.iter().find(|i| same_file(i, output)) {
        // Name the input too when it is spelt differently (`./a.jsonl`, a link).
        let also = if input.as_path() == output {
            String::new()
        } else {
            format!(" (`{}`)", input.display())
        };
        anyhow::bail!(
            "Output `{}` is also an input{also}; choose another output path",
            output.display()
        );
    }
    Ok(())
}

/// Whether two paths name the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// `1 row`, `2 rows`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `warning: …` (yellow on a terminal), one line.
pub fn warning(text: &str) -> String {
    format!("{} {text}\n", paint("warning:", "1;33"))
}

/// `Read `faq.csv` (csv, windows-1252, delimiter `;`, header on line 3: …)`: what was
/// learnt about a source, one line.
pub fn source_summary(path: &str, info: &afinar_formats::SourceInfo) -> String {
    let mut details = vec![info.format.clone()];
    if !info.encoding.is_empty() {
        details.push(info.encoding.clone());
    }
    if let Some(d) = info.delimiter {
        details.push(format!(
            "delimiter `{}`",
            afinar_formats::read::delimiter_name(d)
        ));
    }
    if let Some(sheet) = &info.sheet {
        let mut text = format!("sheet `{sheet}`");
        if !info.skipped_sheets.is_empty() {
            text.push_str(&format!(" (skipped {})", ticked(&info.skipped_sheets)));
        }
        details.push(text);
    }
    if let (Some(line), Some(q), Some(a)) =
        (info.header_line, &info.question_column, &info.answer_column)
    {
        details.push(format!(
            "header on {} {line}: question `{q}`, answer `{a}`",
            place(info)
        ));
    }
    if info.bom {
        details.push("BOM".into());
    }
    format!("Read `{path}` ({})\n", details.join(", "))
}

/// A spreadsheet numbers rows, a text file lines.
fn place(info: &afinar_formats::SourceInfo) -> &'static str {
    if info.sheet.is_some() { "row" } else { "line" }
}

/// `title rows above the header skipped (lines 1, 2)`, when there were any.
pub fn title_rows(info: &afinar_formats::SourceInfo) -> Option<String> {
    if info.skipped_above_header.is_empty() {
        return None;
    }
    let lines: Vec<String> = info
        .skipped_above_header
        .iter()
        .map(u64::to_string)
        .collect();
    Some(format!(
        "title rows above the header skipped ({}s {})",
        place(info),
        lines.join(", ")
    ))
}

/// `` `a`, `b` ``.
pub fn ticked(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `3 CPF, 1 CNPJ, 2 e-mails`: the kinds replaced, in a fixed order.
pub fn redacted_text(counts: &afinar_redact::Counts) -> String {
    use afinar_redact::Kind;
    let parts: Vec<String> = Kind::ALL
        .iter()
        .filter(|k| counts.get(**k) > 0)
        .map(|k| {
            let n = counts.get(*k);
            match (k, n) {
                (Kind::Cpf | Kind::Cnpj, _) | (_, 1) => format!("{n} {k}"),
                _ => format!("{n} {k}s"),
            }
        })
        .collect();
    if parts.is_empty() {
        "nothing found".to_owned()
    } else {
        parts.join(", ")
    }
}

/// How many rejects a summary lists before "… and N more" when they are also in a file.
pub const SHOWN_REJECTS: usize = 20;

/// `Rejected 2 rows, written to `x`:` and one line per reject (all of them when there is
/// no file to look in).
pub fn rejects_list(rejects: &[afinar_formats::Reject], file: Option<&str>) -> String {
    use std::fmt::Write;
    let mut t = String::new();
    if rejects.is_empty() {
        return t;
    }
    let place = file.map_or(String::new(), |p| format!(", written to `{p}`"));
    let _ = writeln!(
        t,
        "Rejected {}{place}:",
        count(rejects.len() as u64, "row", "rows")
    );
    let shown = if file.is_some() {
        SHOWN_REJECTS
    } else {
        usize::MAX
    };
    for r in rejects.iter().take(shown) {
        let _ = writeln!(t, "  {}: {}", r.origin, r.reason);
    }
    if rejects.len() > shown {
        let _ = writeln!(t, "  … and {} more", rejects.len() - shown);
    }
    t
}

/// Turns `\n`, `\t` and `\\` typed on a command line into the characters.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_separators() {
        assert_eq!(unescape("\\n\\n###\\n\\n"), "\n\n###\n\n");
        assert_eq!(unescape(" END\\"), " END\\");
        assert_eq!(unescape("a\\qb"), "a\\qb");
    }
}
