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

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

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
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Encoding::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| format!("Unknown encoding `{s}`; use o200k_base or cl100k_base"))
    }
}

/// Counts tokens. Cheap to share between threads; one instance per encoding is built
/// once per process ([`Tokenizer::get`]).
pub struct Tokenizer {
    encoding: Encoding,
    bpe: CoreBPE,
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer").field("encoding", &self.encoding).finish_non_exhaustive()
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
            // The BPE ranks are bundled in tiktoken-rs, so loading cannot fail.
            #[allow(clippy::expect_used)]
            let bpe = match encoding {
                Encoding::O200kBase => tiktoken_rs::o200k_base(),
                Encoding::Cl100kBase => tiktoken_rs::cl100k_base(),
            }
            .expect("bundled BPE ranks load");
            Tokenizer { encoding, bpe }
        })
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The number of tokens in `text`, special-token strings counted as text.
    pub fn count(&self, text: &str) -> usize {
        self.bpe.encode_ordinary(text).len()
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
}
