//! Progress bars on a terminal: rows or bytes done, the rate and the time left, for the
//! libraries' [`Progress`] reports. Nothing is drawn when standard error is not a
//! terminal, when `CI` is set, or with `--quiet`; a bar never touches standard output or
//! any file.

use std::io::IsTerminal;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use afinar_core::progress::{Progress, Unit};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The `--quiet` flag every long-running command takes.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct QuietArg {
    /// Show no progress bar (none is shown anyway when standard error is not a terminal
    /// or `CI` is set).
    #[arg(long, short)]
    pub quiet: bool,
}

/// A terminal progress bar, or nothing.
#[derive(Debug)]
pub struct Bars {
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bars {
    /// Bars that show only on a terminal, outside CI, unless `quiet`.
    pub fn new(quiet: QuietArg) -> Self {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
        Self {
            enabled: !quiet.quiet && !ci && std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
        }
    }

    /// A spinner for work that counts nothing (a stage of a pipeline, a dedupe),
    /// showing the time it has taken.
    pub fn stage(&self, what: &str) {
        self.begin(what, None, Unit::Rows);
    }

    fn with<R>(&self, f: impl FnOnce(&mut Option<ProgressBar>) -> R) -> R {
        f(&mut self.bar.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

fn style(total: Option<u64>, unit: Unit) -> ProgressStyle {
    let template = match (total, unit) {
        (Some(_), Unit::Bytes) => {
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({binary_bytes_per_sec}, {eta} left)".to_owned()
        }
        (Some(_), Unit::Rows) => {
            "{msg} [{bar:30}] {human_pos}/{human_len} rows ({eta} left)".to_owned()
        }
        (Some(_), Unit::Counted(what)) => {
            format!("{{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {what} ({{eta}} left)")
        }
        (None, Unit::Bytes) => {
            "{spinner} {msg} {bytes} ({binary_bytes_per_sec}, {elapsed})".to_owned()
        }
        (None, Unit::Rows | Unit::Counted(_)) => "{spinner} {msg} ({elapsed})".to_owned(),
    };
    ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl Progress for Bars {
    fn begin(&self, stage: &str, total: Option<u64>, unit: Unit) {
        if !self.enabled {
            return;
        }
        self.with(|slot| {
            if let Some(old) = slot.take() {
                old.finish_and_clear();
            }
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr())
                .with_style(style(total, unit))
                .with_message(stage.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            *slot = Some(bar);
        });
    }

    fn advance(&self, n: u64) {
        if self.enabled {
            self.with(|slot| slot.as_ref().map(|b| b.inc(n)));
        }
    }

    fn end(&self) {
        if self.enabled {
            self.with(|slot| slot.take().map(|b| b.finish_and_clear()));
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.end();
    }
}

/// A reader that tells a [`Progress`] the bytes consumed (a file being checked).
#[derive(Debug)]
pub struct Reader<'a, R> {
    inner: R,
    progress: &'a dyn ProgressDebug,
}

/// [`Progress`] that can be printed in a `Debug` derive.
pub trait ProgressDebug: Progress + std::fmt::Debug {}
impl<T: Progress + std::fmt::Debug> ProgressDebug for T {}

impl<'a, R> Reader<'a, R> {
    pub fn new(inner: R, progress: &'a dyn ProgressDebug) -> Self {
        Self { inner, progress }
    }
}

impl<R: std::io::Read> std::io::Read for Reader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

impl<R: std::io::BufRead> std::io::BufRead for Reader<'_, R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.progress.advance(amt as u64);
    }
}
