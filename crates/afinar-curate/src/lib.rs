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
//! - **Near**: the question and answer, folded, cut into 5-character shingles; a pair is
//!   merged when its exact Jaccard similarity is at least the threshold
//!   ([`DEFAULT_NEAR_THRESHOLD`]), the answers alone are that similar too, and the answers
//!   hold the same figures. MinHash ([`minhash`]) only decides which pairs are compared.
//! - **Conflict**: two kept examples with the same folded question and materially
//!   different answers. Both are kept and reported, for a person to decide.
//!
//! ## Cost
//! Each example is folded, shingled and hashed once, in parallel, into a fixed-size
//! fingerprint (about 600 bytes: digests and two MinHash signatures); the shingle sets
//! are never kept. Up to 2,048 examples, every pair's signatures are compared, so no pair
//! at the threshold is missed. Past that, LSH bands chosen for the threshold pick the
//! candidate pairs, from signatures in which shingles common to a large share of the
//! corpus weigh less (on FAQ text they make every pair look somewhat alike), with
//! oversized buckets skipped. Either way a pair whose estimated similarity is far below
//! the threshold is dropped, and the few others have their shingle sets computed again
//! and compared exactly: time and memory grow linearly with the examples on realistic
//! text. A pipeline that dedupes then splits calls [`dedupe_with_links`] and
//! [`split_with_links`]: the split reuses dedupe's keys and links instead of preparing
//! the kept examples again, and costs a sort. `make bench` (`bench/curate.sh`) measures it
//! at 50,000 and 200,000 examples against Python datasketch.
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
    Reason, dedupe, dedupe_reporting, dedupe_with_links, dedupe_with_links_reporting,
};
pub use error::CurateError;
pub use leakage::{Leak, LeakKind, leakage};
pub use split::{
    BadValidation, Split, SplitOptions, Stratum, Validation, split, split_reporting,
    split_with_links,
};

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
/// answers are always compared; so is every pair of a file of up to 2,048 examples. In
/// larger ones, LSH finds a pair at weighted similarity 0.5 with probability 0.998 (see
/// [`minhash`]). A very short answer ("Sim.") behind a fully reworded question can fall
/// below 0.5: the question then outweighs the answer.
pub const DEFAULT_NEAR_THRESHOLD: f64 = 0.5;
