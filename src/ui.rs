//! Terminal output shared by the commands: error rendering, colours, exit codes.

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
