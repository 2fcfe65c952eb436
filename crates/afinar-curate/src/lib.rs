//! Curation of a whole example set, in memory: exact and near duplicates, conflicting
//! answers, a seeded, stratified split that keeps near duplicates together, and a
//! leakage check between a training and a validation set.
//!
//! Everything works on `&[Example]` or `Vec<Example>`; this crate reads no files and
//! prints nothing. Results are the same for the same input at any thread count.
//!
//! ## What "duplicate" means
//! - **Exact**: every message equal after [`text::fold`] (NFC, lower case, punctuation
//!   dropped, whitespace collapsed), roles included.
//! - **Near**: the question and answer, folded, cut into 5-character shingles; MinHash
//!   and LSH ([`minhash`]) pick candidate pairs; a pair is merged when its exact Jaccard
//!   similarity is at least the threshold ([`DEFAULT_NEAR_THRESHOLD`]), the answers alone
//!   are that similar too, and the answers hold the same figures.
//! - **Conflict**: two kept examples with the same folded question and materially
//!   different answers. Both are kept and reported, for a person to decide.
//!
//! ## Cost
//! Each example is folded, shingled and hashed once, in parallel, into a fixed-size
//! fingerprint (about 640 bytes: digests, LSH bands, and a 256-bucket count of its
//! shingles that bounds the common shingles of a pair). Candidate pairs that this bound
//! rules out are never compared; the few others have their shingle sets computed again
//! and compared exactly, so memory stays linear and small whatever the texts' length.
//! A pipeline that dedupes then splits calls [`dedupe_with_links`] and
//! [`split_with_links`]: the split reuses dedupe's keys and links instead of preparing
//! the kept examples again, and decides exactly what [`split`] would. `cargo run
//! --release -p afinar-curate --example bench_curate` measures it on 200,000 examples.
//!
//! ```
//! use afinar_core::{Example, Origin};
//! use afinar_curate::{DedupeOptions, dedupe};
//!
//! let answer = "O MEI pode faturar até R$ 81.000,00 por ano, ou R$ 6.750,00 por mês em média no ano de abertura.";
//! let examples = vec![
//!     Example::single_turn(None, "Qual o limite de faturamento do MEI?", answer, Origin::line("faq.jsonl", 1)),
//!     Example::single_turn(None, "qual o limite de faturamento do mei", answer, Origin::line("faq.jsonl", 2)),
//!     Example::single_turn(None, "Qual o teto de receita do MEI?", answer, Origin::line("faq.jsonl", 3)),
//! ];
//! let out = dedupe(examples, &DedupeOptions::default()).unwrap();
//! assert_eq!(out.kept.len(), 1);
//! assert_eq!(out.report.groups[0].dropped.len(), 2);
//! ```

mod dedupe;
mod error;
mod leakage;
pub mod minhash;
mod prepared;
mod split;
pub mod text;

pub use dedupe::{
    Conflict, ConflictReason, DedupeOptions, DedupeOutput, DedupeReport, Dropped, Group, KeptLinks,
    Reason, dedupe, dedupe_with_links,
};
pub use error::CurateError;
pub use leakage::{Leak, LeakKind, leakage};
pub use split::{Split, SplitOptions, Stratum, Validation, split, split_with_links};

/// The default near-duplicate threshold: Jaccard similarity of the folded question and
/// answer's 5-character shingles.
///
/// Chosen from measurements (`cargo test -p afinar-curate --test threshold -- --nocapture`
/// prints them, from `fixtures/curate/reformulacoes.jsonl` and
/// `fixtures/simples-nacional.csv`): 27 rewordings of 12 Simples Nacional questions, each
/// with its original answer, score 0.53 to 0.92 against the original (lowest: "Quanto o
/// microempreendedor individual pode faturar por ano?" for "Qual o limite de faturamento
/// do MEI?"); the 378 pairs of distinct questions of the same FAQ score a median of 0.014
/// and at most 0.22 ("Qual o prazo da DEFIS?" / "Qual o prazo da declaração anual do
/// MEI?"). 0.5 sits in that gap, nearer the rewordings because merging two distinct
/// questions loses one silently, while a missed rewording only stays in. Identical
/// answers are always compared; other pairs are found by the LSH with probability 0.92
/// at similarity 0.5, 0.98 at 0.55 and 0.996 at 0.6 (see [`minhash`]). A very short answer ("Sim.") behind a fully reworded question can
/// fall below 0.5: the question then outweighs the answer.
pub const DEFAULT_NEAR_THRESHOLD: f64 = 0.5;
