//! How long work tells how far it got, without knowing who listens.
//!
//! Libraries call a [`Progress`] (a terminal bar in the binary, nothing in tests): `begin`
//! a piece of work with its total when known, `advance` it from any thread, `end` it.
//! Progress never changes what a command writes; [`Silent`] listens to nothing.
//!
//! ```
//! use afinar_core::progress::{Progress, Silent, Unit};
//!
//! fn count_rows(rows: &[&str], progress: &dyn Progress) -> usize {
//!     progress.begin("read", Some(rows.len() as u64), Unit::Rows);
//!     for _ in rows {
//!         progress.advance(1);
//!     }
//!     progress.end();
//!     rows.len()
//! }
//! assert_eq!(count_rows(&["a", "b"], &Silent), 2);
//! ```

/// What a piece of work counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Rows, lines or examples.
    Rows,
    /// Bytes of input.
    Bytes,
    /// Steps of some other kind, named as a bar shows them (`bands`, `pairs`).
    Counted(&'static str),
}

/// A listener for progress. Every method may be called from any thread.
pub trait Progress: Sync {
    /// A piece of work (`stage`, e.g. `read faq.csv`, `dedupe`) starts; `total` units are
    /// to be done, when known.
    fn begin(&self, _stage: &str, _total: Option<u64>, _unit: Unit) {}
    /// `n` more units are done.
    fn advance(&self, _n: u64) {}
    /// The piece of work is done.
    fn end(&self) {}
}

/// Progress nobody listens to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}
