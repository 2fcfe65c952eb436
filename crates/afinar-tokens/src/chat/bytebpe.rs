//! The fast path for byte-level BPE tokenizers (Qwen2, Qwen2.5, Qwen3, Llama 3 and their
//! fine-tunes): the same ids and offsets as the `tokenizers` crate, several times faster.
//!
//! `tokenizers` builds a normalized string with per-byte alignments for every piece and
//! runs a backtracking regex; both dominate a count. Here, for the tokenizer.json shapes
//! those models use (and only those: anything else keeps the `tokenizers` path):
//!
//! * added tokens are split off with the same leftmost-longest Aho-Corasick automaton;
//! * the NFC normalizer is checked, not applied: a segment NFC would change sends the whole
//!   text back to `tokenizers`, so offsets never need remapping;
//! * the split regex is one of the hand-written scanners of `pretok.rs`;
//! * BPE applies the merges in rank order, leftmost first (what `Word::merge_all` does),
//!   on raw bytes, and each thread memoises the pieces it has seen.
//!
//! Equality with `tokenizers` (ids and offsets) is tested on random text in
//! `tests/hf_oracle.rs`, and counts against Python transformers.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::{AhoCorasick, MatchKind};
use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::Value;

use crate::pretok::hf_next;

/// One token: its id and its byte span in the encoded text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tok {
    pub(crate) id: u32,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Qwen2, Qwen2.5 and Qwen3: one digit per piece.
const QWEN_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Llama 3, 3.1, 3.2, 3.3: up to three digits.
const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Pieces longer than this are not memoised (long runs of spaces or symbols are rare and
/// would fill the table).
const MEMO_PIECE_MAX: usize = 64;
/// Entries per thread before the table is cleared.
const MEMO_MAX: usize = 1 << 17;

static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

/// Piece bytes → (id, byte length) of its tokens.
type Memo = FxHashMap<Box<[u8]>, Box<[(u32, u16)]>>;

thread_local! {
    /// Piece bytes → (id, byte length) of its tokens, for the tokenizer `owner`.
    static MEMO: RefCell<(u64, Memo)> =
        RefCell::new((0, FxHashMap::default()));
}

pub(crate) struct ByteBpe {
    /// Raw token bytes → id.
    ids: FxHashMap<Box<[u8]>, u32>,
    /// `(left << 32) | right` → `(rank << 32) | merged id`.
    merges: FxHashMap<u64, u64>,
    byte_ids: [u32; 256],
    ignore_merges: bool,
    /// 1 (Qwen) or 3 (Llama 3) digits per piece.
    digits: usize,
    added: AhoCorasick,
    added_ids: Vec<u32>,
    /// Indexed by token id: whether it is a special added token.
    special: Vec<bool>,
    nfc: bool,
    /// The ByteLevel post-processor's `trim_offsets` and `add_prefix_space`.
    trim_offsets: Option<bool>,
    owner: u64,
}

impl std::fmt::Debug for ByteBpe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteBpe")
            .field("vocab", &self.ids.len())
            .field("merges", &self.merges.len())
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

/// GPT-2's byte → character table of byte-level BPE, as its inverse (character → byte).
fn char_to_byte() -> HashMap<char, u8> {
    let mut printable: Vec<u32> = (u32::from('!')..=u32::from('~')).collect();
    printable.extend(u32::from('¡')..=u32::from('¬'));
    printable.extend(u32::from('®')..=u32::from('ÿ'));
    let mut map = HashMap::with_capacity(256);
    let mut extra = 0u32;
    for b in 0..=255u32 {
        let c = if printable.contains(&b) {
            b
        } else {
            extra += 1;
            255 + extra
        };
        if let (Some(ch), Ok(byte)) = (char::from_u32(c), u8::try_from(b)) {
            map.insert(ch, byte);
        }
    }
    map
}

fn is_null_or_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    }
}

/// The ByteLevel post-processor's (trim_offsets, add_prefix_space), direct or in a
/// Sequence; `Some(None)` when there is none (offsets untouched); `None` when the
/// post-processor is something this path does not know.
fn byte_level_trim(pp: &Value) -> Option<Option<(bool, bool)>> {
    match pp.get("type").and_then(Value::as_str) {
        None if pp.is_null() => Some(None),
        Some("ByteLevel") => Some(Some((
            pp.get("trim_offsets")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            pp.get("add_prefix_space")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        ))),
        // Only adds special tokens, which a rendered template never asks for.
        Some("TemplateProcessing") => Some(None),
        Some("Sequence") => {
            let mut found = None;
            for p in pp.get("processors")?.as_array()? {
                if let Some(t) = byte_level_trim(p)? {
                    if found.is_some() {
                        return None;
                    }
                    found = Some(t);
                }
            }
            Some(found)
        }
        _ => None,
    }
}

/// The parts of tokenizer.json this path reads; strings borrow from the file.
#[derive(Deserialize)]
struct Json<'a> {
    #[serde(default)]
    normalizer: Value,
    #[serde(default)]
    pre_tokenizer: Value,
    #[serde(default)]
    post_processor: Value,
    #[serde(default)]
    added_tokens: Vec<Value>,
    #[serde(borrow)]
    model: ModelJson<'a>,
}

#[derive(Deserialize)]
struct ModelJson<'a> {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    dropout: Value,
    #[serde(default)]
    continuing_subword_prefix: Value,
    #[serde(default)]
    end_of_word_suffix: Value,
    #[serde(default)]
    byte_fallback: Value,
    #[serde(default)]
    ignore_merges: Value,
    #[serde(borrow)]
    vocab: HashMap<Cow<'a, str>, u32>,
    #[serde(borrow)]
    merges: Vec<MergeJson<'a>>,
}

/// A merge: `"a b"` (older files) or `["a", "b"]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum MergeJson<'a> {
    Line(#[serde(borrow)] Cow<'a, str>),
    Pair(#[serde(borrow)] Cow<'a, str>, #[serde(borrow)] Cow<'a, str>),
}

impl ByteBpe {
    /// The fast path for this tokenizer.json, when it has the shape this path reproduces
    /// exactly; `None` otherwise (the `tokenizers` crate is used instead).
    pub(crate) fn from_json(text: &str) -> Option<ByteBpe> {
        let tj: Json<'_> = serde_json::from_str(text).ok()?;
        let nfc = match &tj.normalizer {
            Value::Null => false,
            n if n.get("type").and_then(Value::as_str) == Some("NFC") => true,
            _ => return None,
        };
        let pre = &tj.pre_tokenizer;
        if pre.get("type").and_then(Value::as_str) != Some("Sequence") {
            return None;
        }
        let [split, bytelevel] = pre.get("pretokenizers")?.as_array()?.as_slice() else {
            return None;
        };
        if split.get("type").and_then(Value::as_str) != Some("Split")
            || split.get("behavior").and_then(Value::as_str) != Some("Isolated")
            || split.get("invert").and_then(Value::as_bool) != Some(false)
        {
            return None;
        }
        let digits = match split.get("pattern")?.get("Regex")?.as_str()? {
            QWEN_SPLIT => 1,
            LLAMA3_SPLIT => 3,
            _ => return None,
        };
        if bytelevel.get("type").and_then(Value::as_str) != Some("ByteLevel")
            || bytelevel.get("add_prefix_space").and_then(Value::as_bool) != Some(false)
            || bytelevel.get("use_regex").and_then(Value::as_bool) != Some(false)
        {
            return None;
        }
        let trim = byte_level_trim(&tj.post_processor)?;
        let model = &tj.model;
        if model.kind.as_deref() != Some("BPE")
            || !model.dropout.is_null()
            || !is_null_or_empty(Some(&model.continuing_subword_prefix))
            || !is_null_or_empty(Some(&model.end_of_word_suffix))
            || model.byte_fallback.as_bool() == Some(true)
        {
            return None;
        }
        let ignore_merges = model.ignore_merges.as_bool().unwrap_or(false);

        let to_byte = char_to_byte();
        let raw = |s: &str| -> Option<Box<[u8]>> {
            s.chars().map(|c| to_byte.get(&c).copied()).collect()
        };
        let mut ids = FxHashMap::default();
        ids.reserve(model.vocab.len());
        for (s, &id) in &model.vocab {
            // A token outside the byte alphabet can never come out of byte-level pieces.
            if let Some(b) = raw(s) {
                ids.insert(b, id);
            }
        }
        let mut byte_ids = [0u32; 256];
        for (b, slot) in byte_ids.iter_mut().enumerate() {
            *slot = *ids.get(&[b as u8][..])?;
        }
        let mut merges = FxHashMap::default();
        merges.reserve(model.merges.len());
        let mut joined = String::new();
        for (rank, m) in model.merges.iter().enumerate() {
            let (a, b) = match m {
                MergeJson::Line(s) => s.split_once(' ')?,
                MergeJson::Pair(a, b) => (a.as_ref(), b.as_ref()),
            };
            let (ia, ib) = (*model.vocab.get(a)?, *model.vocab.get(b)?);
            joined.clear();
            joined.push_str(a);
            joined.push_str(b);
            let new = *model.vocab.get(joined.as_str())?;
            // As `tokenizers` collects them into a map: a repeated pair keeps its last rank.
            merges.insert(
                (u64::from(ia) << 32) | u64::from(ib),
                ((rank as u64) << 32) | u64::from(new),
            );
        }

        let mut contents = Vec::new();
        let mut added_ids = Vec::new();
        let mut special = Vec::new();
        for t in &tj.added_tokens {
            let flag = |k: &str| t.get(k).and_then(Value::as_bool).unwrap_or(false);
            // Stripping, single-word and normalized matching are what this path leaves out.
            if flag("lstrip") || flag("rstrip") || flag("single_word") || flag("normalized") {
                return None;
            }
            contents.push(t.get("content")?.as_str()?.to_owned());
            let id = u32::try_from(t.get("id")?.as_u64()?).ok()?;
            added_ids.push(id);
            if flag("special") {
                let i = id as usize;
                if i >= special.len() {
                    special.resize(i + 1, false);
                }
                special[i] = true;
            }
        }
        let added = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&contents)
            .ok()?;
        Some(ByteBpe {
            ids,
            merges,
            byte_ids,
            ignore_merges,
            digits,
            added,
            added_ids,
            special,
            nfc,
            trim_offsets: trim.and_then(|(trim, prefix)| trim.then_some(prefix)),
            owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Indexed by token id: whether it is a special added token.
    pub(crate) fn special(&self) -> &[bool] {
        &self.special
    }

    /// The tokens of `text` (no special tokens added) into `out`; `false` when a segment
    /// is not in NFC and the caller must use `tokenizers`.
    pub(crate) fn encode(&self, text: &str, out: &mut Vec<Tok>) -> bool {
        out.clear();
        let mut at = 0;
        for m in self.added.find_iter(text) {
            if !self.segment(text, at, m.start(), out) {
                return false;
            }
            out.push(Tok {
                id: self.added_ids[m.pattern().as_usize()],
                start: m.start(),
                end: m.end(),
            });
            at = m.end();
        }
        if !self.segment(text, at, text.len(), out) {
            return false;
        }
        if let Some(prefix) = self.trim_offsets {
            trim(text, out, prefix, |id| self.added_ids.contains(&id));
        }
        true
    }

    fn segment(&self, text: &str, start: usize, end: usize, out: &mut Vec<Tok>) -> bool {
        let seg = &text[start..end];
        if seg.is_empty() {
            return true;
        }
        if self.nfc && !is_nfc(seg) {
            return false;
        }
        let b = seg.as_bytes();
        MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            if memo.0 != self.owner {
                memo.0 = self.owner;
                memo.1.clear();
            }
            let mut i = 0;
            while i < b.len() {
                let e = hf_next(b, i, self.digits);
                self.piece(&b[i..e], start + i, &mut memo.1, out);
                i = e;
            }
        });
        true
    }

    fn piece(&self, p: &[u8], at: usize, memo: &mut Memo, out: &mut Vec<Tok>) {
        if p.len() == 1 {
            out.push(Tok {
                id: self.byte_ids[usize::from(p[0])],
                start: at,
                end: at + 1,
            });
            return;
        }
        if self.ignore_merges
            && let Some(&id) = self.ids.get(p)
        {
            out.push(Tok {
                id,
                start: at,
                end: at + p.len(),
            });
            return;
        }
        // A token that ends inside a character spans the whole character, as the
        // alignments `tokenizers` keeps per character make it.
        let ascii = p.is_ascii();
        let push_all = |toks: &[(u32, u16)], out: &mut Vec<Tok>| {
            let mut s = 0;
            for &(id, len) in toks {
                let e = s + usize::from(len);
                let (mut a, mut z) = (s, e);
                if !ascii {
                    while a > 0 && !is_boundary(p, a) {
                        a -= 1;
                    }
                    while z < p.len() && !is_boundary(p, z) {
                        z += 1;
                    }
                }
                out.push(Tok {
                    id,
                    start: at + a,
                    end: at + z,
                });
                s = e;
            }
        };
        if let Some(toks) = memo.get(p) {
            push_all(toks, out);
            return;
        }
        let toks = self.merge(p);
        push_all(&toks, out);
        if p.len() <= MEMO_PIECE_MAX {
            if memo.len() >= MEMO_MAX {
                memo.clear();
            }
            memo.insert(p.into(), toks.into_boxed_slice());
        }
    }

    /// BPE on one piece: the lowest-ranked adjacent pair is merged first, the leftmost of
    /// equal ones, until no pair has a merge.
    fn merge(&self, p: &[u8]) -> Vec<(u32, u16)> {
        let mut syms: Vec<(u32, u16)> = p
            .iter()
            .map(|&b| (self.byte_ids[usize::from(b)], 1))
            .collect();
        let pair = |a: (u32, u16), b: (u32, u16)| {
            self.merges
                .get(&((u64::from(a.0) << 32) | u64::from(b.0)))
                .copied()
                .unwrap_or(u64::MAX)
        };
        let mut ranks: Vec<u64> = syms.windows(2).map(|w| pair(w[0], w[1])).collect();
        // Ranks sit in the high half, so the minimum is the lowest rank; `min_by_key`
        // keeps the first of equal keys, the leftmost pair.
        while let Some((i, &best)) = ranks
            .iter()
            .enumerate()
            .min_by_key(|&(i, &r)| (r >> 32, i))
            .filter(|&(_, &r)| r != u64::MAX)
        {
            syms[i] = ((best & 0xffff_ffff) as u32, syms[i].1 + syms[i + 1].1);
            syms.remove(i + 1);
            ranks.remove(i);
            if i < ranks.len() {
                ranks[i] = pair(syms[i], syms[i + 1]);
            }
            if i > 0 {
                ranks[i - 1] = pair(syms[i - 1], syms[i]);
            }
        }
        syms
    }
}

/// Whether a character starts at `i` of UTF-8 `b` (or `i` is its end).
#[inline]
fn is_boundary(b: &[u8], i: usize) -> bool {
    b.get(i).is_none_or(|&c| (c as i8) >= -0x40)
}

/// Whether NFC leaves `s` as it is (the normalizer crate `tokenizers` itself uses).
fn is_nfc(s: &str) -> bool {
    use unicode_normalization_alignments::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    if s.is_ascii() {
        return true;
    }
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => true,
        _ => s.chars().nfc().map(|(c, _)| c).eq(s.chars()),
    }
}

/// The ByteLevel post-processor's `trim_offsets`: leading and trailing spaces of a token
/// are left out of its offsets (`tokenizers`' `process_offsets`). It counts characters of
/// the token's string, where a byte-level token's only white space is `Ġ` (a space
/// byte) and an added token's is its own white space, and adds that count to byte
/// offsets; so does this.
fn trim(text: &str, out: &mut [Tok], add_prefix_space: bool, is_added: impl Fn(u32) -> bool) {
    for (i, t) in out.iter_mut().enumerate() {
        let tok = &text[t.start..t.end];
        let (mut lead, trail) = if is_added(t.id) {
            (
                tok.chars().take_while(|c| c.is_whitespace()).count(),
                tok.chars().rev().take_while(|c| c.is_whitespace()).count(),
            )
        } else {
            (
                tok.bytes().take_while(|&c| c == b' ').count(),
                tok.bytes().rev().take_while(|&c| c == b' ').count(),
            )
        };
        if lead > 0 {
            if (i == 0 || t.start == 0) && add_prefix_space && lead == 1 {
                lead = 0;
            }
            t.start = (t.start + lead).min(t.end);
        }
        if trail > 0 && t.end >= trail {
            t.end = (t.end - trail).max(t.start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A toy byte-level tokenizer.json: merges "a b" → "ab", "ab c" → "abc", "Ġ a" → "Ġa".
    fn toy() -> Value {
        let to_byte = char_to_byte();
        let mut vocab = serde_json::Map::new();
        let mut chars: Vec<(char, u8)> = to_byte.into_iter().collect();
        chars.sort_by_key(|&(_, b)| b);
        for (c, b) in chars {
            vocab.insert(c.to_string(), json!(b));
        }
        for (i, t) in ["ab", "abc", "Ġa", "bc"].iter().enumerate() {
            vocab.insert((*t).into(), json!(256 + i));
        }
        json!({
            "normalizer": {"type": "NFC"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": QWEN_SPLIT}, "behavior": "Isolated", "invert": false},
                {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}
            ]},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
            "added_tokens": [{"id": 300, "content": "<|im_end|>", "special": true,
                "lstrip": false, "rstrip": false, "normalized": false, "single_word": false}],
            "model": {"type": "BPE", "dropout": null, "continuing_subword_prefix": "",
                "end_of_word_suffix": "", "byte_fallback": false, "ignore_merges": false,
                "vocab": vocab, "merges": [["a", "b"], ["b", "c"], ["ab", "c"], ["Ġ", "a"]]}
        })
    }

    fn ids(bpe: &ByteBpe, text: &str) -> Vec<(u32, usize, usize)> {
        let mut out = Vec::new();
        assert!(bpe.encode(text, &mut out));
        out.iter().map(|t| (t.id, t.start, t.end)).collect()
    }

    #[test]
    fn merges_in_rank_order_and_splits_added_tokens() {
        let bpe = ByteBpe::from_json(&toy().to_string()).unwrap();
        // "abc": (a,b) has rank 0, so ab then abc; (b,c) never gets its turn.
        assert_eq!(ids(&bpe, "abc"), [(257, 0, 3)]);
        // " abc": (a,b) comes before (Ġ,a), which then has no `a` left to merge.
        assert_eq!(
            ids(&bpe, "x abc<|im_end|>"),
            [
                (u32::from(b'x'), 0, 1),
                (32, 1, 2),
                (257, 2, 5),
                (300, 5, 15)
            ]
        );
        assert_eq!(ids(&bpe, "x a"), [(u32::from(b'x'), 0, 1), (258, 1, 3)]);
        // Twice: the second comes from the memo.
        assert_eq!(ids(&bpe, "abc abc"), [(257, 0, 3), (32, 3, 4), (257, 4, 7)]);
        // A token inside a character spans the whole character.
        assert_eq!(ids(&bpe, "é"), [(0xc3, 0, 2), (0xa9, 0, 2)]);
    }

    #[test]
    fn text_nfc_would_change_goes_back_to_tokenizers() {
        let bpe = ByteBpe::from_json(&toy().to_string()).unwrap();
        let mut out = Vec::new();
        assert!(bpe.encode("Olá, é", &mut out));
        assert!(!bpe.encode("e\u{301}", &mut out));
    }

    #[test]
    fn other_shapes_are_left_to_tokenizers() {
        let mut t = toy();
        t["normalizer"] = json!({"type": "NFKC"});
        assert!(ByteBpe::from_json(&t.to_string()).is_none());
        let mut t = toy();
        t["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = json!("\\s+");
        assert!(ByteBpe::from_json(&t.to_string()).is_none());
        let mut t = toy();
        t["added_tokens"][0]["lstrip"] = json!(true);
        assert!(ByteBpe::from_json(&t.to_string()).is_none());
        let mut t = toy();
        t["model"]["byte_fallback"] = json!(true);
        assert!(ByteBpe::from_json(&t.to_string()).is_none());
    }

    #[test]
    fn trims_offsets_like_the_byte_level_post_processor() {
        let text = "a  b";
        let mut toks = vec![
            Tok {
                id: 0,
                start: 0,
                end: 1,
            },
            Tok {
                id: 1,
                start: 1,
                end: 3,
            },
            Tok {
                id: 2,
                start: 3,
                end: 4,
            },
        ];
        trim(text, &mut toks, false, |_| false);
        assert_eq!((toks[1].start, toks[1].end), (3, 3));
    }
}
