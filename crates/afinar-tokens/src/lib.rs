//! Exact token counts for the OpenAI encodings fine-tuning uses.
//!
//! Counts equal Python tiktoken's `len(enc.encode_ordinary(text))`: special-token
//! strings such as `<|endoftext|>` are counted as ordinary text.
//!
//! ```
//! use afinar_tokens::{Encoding, Tokenizer};
//!
//! let t = Tokenizer::get(Encoding::O200kBase);
//! assert_eq!(t.count("Olá, mundo!"), 4);
//! ```
//!
//! # How it is fast
//!
//! tiktoken splits text into pieces with a backtracking regex, then runs BPE on each
//! piece. Here:
//!
//! * the split is a hand-written scanner equivalent to each encoding's regex
//!   (`pretok.rs`), with Unicode categories from static tables;
//! * BPE runs on a compact vocabulary table built at compile time (`vocab.rs`), and a
//!   piece that is itself a token (most words) costs one lookup;
//! * each thread memoises the counts of multi-token pieces and of whole texts it has seen
//!   twice, e.g. system prompts (`cache.rs`); the tables are bounded and per thread, so
//!   there is no lock on the hot path and memory stays flat;
//! * nothing is allocated per call.
//!
//! Exactness is tested against Python tiktoken: a committed golden file
//! (`fixtures/tokens/golden.jsonl`), random differential tests against tiktoken-rs, and a
//! live comparison with Python on a random corpus when Python tiktoken is installed.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

mod cache;
pub mod chat;
mod pretok;
pub mod pyjson;
mod unicode;
mod vocab;

use cache::{HOT_MAX, PIECE_MAX, Scratch, TEXT_MAX, TEXT_MIN};
use vocab::{Vocab, hash, hash_words, words};

/// A BPE encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    /// gpt-4o, gpt-4.1 and later.
    O200kBase,
    /// gpt-3.5-turbo, gpt-4, babbage-002, davinci-002.
    Cl100kBase,
}

impl Encoding {
    pub const ALL: [Encoding; 2] = [Encoding::O200kBase, Encoding::Cl100kBase];

    pub fn name(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }

    fn index(self) -> usize {
        match self {
            Encoding::O200kBase => 0,
            Encoding::Cl100kBase => 1,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of [`Encoding::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unknown encoding `{0}`; use o200k_base or cl100k_base")]
pub struct UnknownEncoding(pub String);

impl FromStr for Encoding {
    type Err = UnknownEncoding;

    fn from_str(s: &str) -> Result<Self, UnknownEncoding> {
        Encoding::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| UnknownEncoding(s.to_owned()))
    }
}

static O200K_BIN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_base.bin"));
static CL100K_BIN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/cl100k_base.bin"));

thread_local! {
    /// Per-thread memo tables, one per encoding, created on first use.
    static SCRATCH: RefCell<[Option<Box<Scratch>>; 2]> = const { RefCell::new([None, None]) };
}

/// Counts tokens. Shared freely between threads (`&'static`, `Sync`); one instance per
/// encoding is built once per process ([`Tokenizer::get`], about 30 ms).
pub struct Tokenizer {
    encoding: Encoding,
    vocab: Vocab,
    o200k: bool,
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer")
            .field("encoding", &self.encoding)
            .finish_non_exhaustive()
    }
}

impl Tokenizer {
    /// The process-wide tokenizer for `encoding` (loaded on first use).
    pub fn get(encoding: Encoding) -> &'static Tokenizer {
        static O200K: OnceLock<Tokenizer> = OnceLock::new();
        static CL100K: OnceLock<Tokenizer> = OnceLock::new();
        let cell = match encoding {
            Encoding::O200kBase => &O200K,
            Encoding::Cl100kBase => &CL100K,
        };
        cell.get_or_init(|| {
            let bin = match encoding {
                Encoding::O200kBase => O200K_BIN,
                Encoding::Cl100kBase => CL100K_BIN,
            };
            let o200k = encoding == Encoding::O200kBase;
            Tokenizer {
                encoding,
                vocab: Vocab::from_bin(bin),
                o200k,
            }
        })
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Number of ordinary tokens in the vocabulary (special tokens excluded).
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// The number of tokens in `text`, special-token strings counted as text.
    ///
    /// Uses this thread's memo tables; the result never depends on them.
    pub fn count(&self, text: &str) -> usize {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut slots) => {
                let scratch =
                    slots[self.encoding.index()].get_or_insert_with(|| Box::new(Scratch::new()));
                self.count_memo(text, scratch)
            }
            // Unreachable (no re-entrant calls), but never worth a panic.
            Err(_) => self.count_unmemoised(text),
        })
    }

    /// The sum of the token counts of `texts` (one thread-local access for all of them).
    pub fn count_all<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> usize {
        let texts = texts.into_iter();
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut slots) => {
                let scratch =
                    slots[self.encoding.index()].get_or_insert_with(|| Box::new(Scratch::new()));
                texts.map(|t| self.count_memo(t, scratch)).sum()
            }
            Err(_) => texts.map(|t| self.count_unmemoised(t)).sum(),
        })
    }

    /// Like [`Tokenizer::count`], without any memo table (for benchmarks and tests).
    #[doc(hidden)]
    pub fn count_unmemoised(&self, text: &str) -> usize {
        let mut n = 0;
        let mut parts = Vec::new();
        for piece in pretok::Pieces::new(text, self.o200k) {
            n += match piece.len() {
                1 => 1,
                2 => self.count_pair(piece),
                len => {
                    if len <= self.vocab.max_token_len() && self.vocab.rank(piece).is_some() {
                        1
                    } else {
                        self.vocab.count_merges(piece, &mut parts)
                    }
                }
            };
        }
        n
    }

    /// The token ids of `text`, as tiktoken's `encode_ordinary`.
    pub fn encode_ordinary(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3);
        for piece in pretok::Pieces::new(text, self.o200k) {
            self.vocab.encode_piece(piece, &mut out);
        }
        out
    }

    /// The pre-tokenizer's pieces of `text` (what tiktoken's regex splits it into).
    pub fn pieces<'a>(&self, text: &'a str) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        pretok::Pieces::new(text, self.o200k)
    }

    #[inline]
    fn count_memo(&self, text: &str, scratch: &mut Scratch) -> usize {
        let b = text.as_bytes();
        if (TEXT_MIN..=TEXT_MAX).contains(&b.len()) {
            match scratch.recall(b) {
                Ok(n) => n as usize,
                Err(h) => {
                    let n = self.count_with(text, scratch, true);
                    scratch.remember(b, h, n);
                    n
                }
            }
        } else {
            self.count_with(text, scratch, true)
        }
    }

    #[inline]
    fn count_with(&self, text: &str, scratch: &mut Scratch, memo: bool) -> usize {
        let mut n = 0;
        for piece in pretok::Pieces::new(text, self.o200k) {
            n += match piece.len() {
                1 => 1,
                2 => self.count_pair(piece),
                len if memo && len <= HOT_MAX => {
                    let w = words(piece);
                    let h = hash_words(&w, len);
                    match scratch.hot_get(&w, len, h) {
                        Some(c) => c as usize,
                        None => {
                            let c = self.count_long(piece, h, scratch, true);
                            scratch.hot_put(w, len, h, c);
                            c
                        }
                    }
                }
                _ => self.count_long(piece, hash(piece), scratch, memo),
            };
        }
        n
    }

    #[inline(always)]
    fn count_pair(&self, piece: &[u8]) -> usize {
        if self.vocab.is_pair_token(piece) {
            1
        } else {
            2
        }
    }

    /// Count of a piece of 3 or more bytes with hash `h`.
    #[inline]
    fn count_long(&self, piece: &[u8], h: u64, scratch: &mut Scratch, memo: bool) -> usize {
        if piece.len() <= self.vocab.max_token_len()
            && self.vocab.may_be_token(h)
            && self.vocab.rank_hashed(piece, h).is_some()
        {
            return 1;
        }
        if memo && piece.len() <= PIECE_MAX {
            if let Some(n) = scratch.pieces.get(piece, h) {
                return n as usize;
            }
            let n = self.vocab.count_merges(piece, &mut scratch.parts);
            scratch.pieces.insert(piece, h, n as u32);
            n
        } else {
            self.vocab.count_merges(piece, &mut scratch.parts)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_special_token_strings_as_text() {
        let t = Tokenizer::get(Encoding::Cl100kBase);
        assert!(t.count("<|endoftext|>") > 1);
        assert_eq!(t.count(""), 0);
    }

    #[test]
    fn vocabulary_sizes_match_tiktoken() {
        assert_eq!(Tokenizer::get(Encoding::O200kBase).vocab_size(), 199_998);
        assert_eq!(Tokenizer::get(Encoding::Cl100kBase).vocab_size(), 100_256);
    }
}
