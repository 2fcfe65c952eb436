//! The BPE vocabulary as compact tables, and tiktoken's merge rule.
//!
//! Memory: token bytes in one buffer plus an open-addressing index (~5 MB for o200k_base,
//! against 40+ MB for tiktoken-rs's hash maps of `Vec<u8>`).

/// Pieces at least this long use the heap-based merge (O(n log n)) instead of the simple
/// scan (O(n²), faster on short pieces). Both give tiktoken's result.
const LARGE_PIECE: usize = 128;

const EMPTY: u64 = 0;

#[derive(Debug)]
pub(crate) struct Vocab {
    /// Token bytes, concatenated in rank order.
    bytes: Vec<u8>,
    /// `bytes[starts[r]..starts[r + 1]]` is the token of rank `r`.
    starts: Vec<u32>,
    /// Open addressing, linear probing, indexed by the low hash bits; a slot packs
    /// `tag (17 high hash bits) | len (8) | offset in bytes (21) | rank + 1 (18)`, so a
    /// probe touches the slot and the token bytes only (0 = empty).
    table: Vec<u64>,
    /// One bit per token at `hash >> 32` (512 KB): most pieces that are not tokens are
    /// told apart here without touching the 4 MB table.
    filter: Vec<u64>,
    /// Which two-byte strings are tokens, one bit each (8 KB, stays in L1/L2).
    pair_bits: Vec<u64>,
    /// Ranks of the two-byte tokens, indexed by the two bytes (u32::MAX: no such token).
    pairs: Vec<u32>,
    max_len: usize,
}

const FILTER_BITS: usize = 1 << 22;

#[inline(always)]
fn filter_bit(h: u64) -> usize {
    (h >> 32) as usize & (FILTER_BITS - 1)
}

const RANK_BITS: u32 = 18;
const OFF_BITS: u32 = 21;
const LEN_SHIFT: u32 = RANK_BITS + OFF_BITS;
const TAG_SHIFT: u32 = LEN_SHIFT + 8;

/// A fast hash for short byte strings (8 bytes per multiply).
#[inline(always)]
pub(crate) fn hash(s: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (s.len() as u64).wrapping_mul(K);
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // A byte loop, not copy_from_slice: a variable-length copy is a memcpy call.
        let mut w = 0u64;
        for (k, &b) in rest.iter().enumerate() {
            w |= u64::from(b) << (8 * k);
        }
        h = (h.rotate_left(23) ^ w).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

/// `hash` of a string of at most 24 bytes given as its zero-padded little-endian words.
#[inline(always)]
pub(crate) fn hash_words(w: &[u64; 3], len: usize) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (len as u64).wrapping_mul(K);
    for &x in &w[..len.div_ceil(8)] {
        h = (h.rotate_left(23) ^ x).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

/// The zero-padded little-endian words of a string of at most 24 bytes.
#[inline(always)]
pub(crate) fn words(s: &[u8]) -> [u64; 3] {
    let mut w = [0u64; 3];
    for (k, &b) in s.iter().enumerate().take(24) {
        w[k / 8] |= u64::from(b) << (8 * (k % 8));
    }
    w
}

/// Byte equality without a `memcmp` call for the short strings tokens are.
#[inline(always)]
fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

impl Vocab {
    /// Loads the table written by `build.rs`: `u32` count, one length byte per token, then
    /// the token bytes.
    pub(crate) fn from_bin(data: &[u8]) -> Vocab {
        let n = data
            .get(..4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let n = n as usize;
        let lens = data.get(4..4 + n).unwrap_or(&[]);
        let bytes = data.get(4 + n..).unwrap_or(&[]).to_vec();
        let mut starts = Vec::with_capacity(n + 1);
        let mut at = 0u32;
        starts.push(0);
        for &l in lens {
            at += u32::from(l);
            starts.push(at);
        }
        let bits = (n * 2).next_power_of_two().trailing_zeros().max(4);
        assert!(
            n < (1 << RANK_BITS) && bytes.len() < (1 << OFF_BITS),
            "vocabulary too large"
        );
        let mut v = Vocab {
            bytes,
            starts,
            table: vec![EMPTY; 1 << bits],
            filter: vec![0; FILTER_BITS / 64],
            pair_bits: vec![0; (1 << 16) / 64],
            pairs: vec![u32::MAX; 1 << 16],
            max_len: lens.iter().copied().max().unwrap_or(0) as usize,
        };
        for rank in 0..lens.len() as u32 {
            let (s, e) = (
                v.starts[rank as usize] as usize,
                v.starts[rank as usize + 1] as usize,
            );
            let h = hash(&v.bytes[s..e]);
            let bit = filter_bit(h);
            v.filter[bit / 64] |= 1 << (bit % 64);
            let mask = v.table.len() - 1;
            let mut slot = h as usize & mask;
            while v.table[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            v.table[slot] = (h >> TAG_SHIFT << TAG_SHIFT)
                | ((e - s) as u64) << LEN_SHIFT
                | (s as u64) << RANK_BITS
                | u64::from(rank + 1);
            if e - s == 2 {
                let pair = usize::from(v.bytes[s]) << 8 | usize::from(v.bytes[s + 1]);
                v.pairs[pair] = rank;
                v.pair_bits[pair / 64] |= 1 << (pair % 64);
            }
        }
        v
    }

    pub(crate) fn len(&self) -> usize {
        self.starts.len() - 1
    }

    pub(crate) fn max_token_len(&self) -> usize {
        self.max_len
    }

    /// Whether the two bytes `s` are one token.
    #[inline(always)]
    pub(crate) fn is_pair_token(&self, s: &[u8]) -> bool {
        let pair = usize::from(s[0]) << 8 | usize::from(s[1]);
        self.pair_bits[pair / 64] & (1 << (pair % 64)) != 0
    }

    /// Whether `s` (with `h = hash(s)`, 3 bytes or more) may be a token: `false` is sure.
    #[inline(always)]
    pub(crate) fn may_be_token(&self, h: u64) -> bool {
        let bit = filter_bit(h);
        self.filter[bit / 64] & (1 << (bit % 64)) != 0
    }

    /// The rank of the token `s`, with `h = hash(s)`.
    #[inline]
    pub(crate) fn rank_hashed(&self, s: &[u8], h: u64) -> Option<u32> {
        if s.len() == 2 {
            let r = self.pairs[usize::from(s[0]) << 8 | usize::from(s[1])];
            return (r != u32::MAX).then_some(r);
        }
        if s.len() > self.max_len {
            return None;
        }
        let key = (h >> TAG_SHIFT << TAG_SHIFT) | (s.len() as u64) << LEN_SHIFT;
        let mask = self.table.len() - 1;
        let mut slot = h as usize & mask;
        loop {
            let e = self.table[slot];
            if e == EMPTY {
                return None;
            }
            if e >> LEN_SHIFT == key >> LEN_SHIFT {
                let off = (e >> RANK_BITS) as usize & ((1 << OFF_BITS) - 1);
                if self
                    .bytes
                    .get(off..off + s.len())
                    .is_some_and(|t| eq_bytes(t, s))
                {
                    return Some((e as u32 & ((1 << RANK_BITS) - 1)) - 1);
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    #[inline]
    pub(crate) fn rank(&self, s: &[u8]) -> Option<u32> {
        if s.len() == 2 {
            return self.rank_hashed(s, 0);
        }
        if s.len() == 1 {
            // Every byte is a token; ranks of single bytes are looked up like any other.
            return self.rank_hashed(s, hash(s));
        }
        if s.len() > self.max_len {
            return None;
        }
        let h = hash(s);
        if !self.may_be_token(h) {
            return None;
        }
        self.rank_hashed(s, h)
    }

    #[inline]
    fn rank_or_max(&self, s: &[u8]) -> u32 {
        self.rank(s).unwrap_or(u32::MAX)
    }

    /// Number of tokens of one piece (`piece.len() >= 2`, not itself a token), by
    /// tiktoken's rule: merge the adjacent pair whose concatenation has the lowest rank,
    /// leftmost first, until no pair is a token.
    pub(crate) fn count_merges(&self, piece: &[u8], parts: &mut Vec<(u32, u32)>) -> usize {
        if piece.len() >= LARGE_PIECE {
            return self.merge_large(piece, None);
        }
        self.merge_small(piece, parts);
        parts.len() - 1
    }

    /// The tokens of one piece.
    pub(crate) fn encode_piece(&self, piece: &[u8], out: &mut Vec<u32>) {
        if piece.len() == 1 || self.rank(piece).is_some() {
            out.push(self.rank_or_max(piece));
        } else if piece.len() >= LARGE_PIECE {
            self.merge_large(piece, Some(out));
        } else {
            let mut parts = Vec::new();
            self.merge_small(piece, &mut parts);
            for w in parts.windows(2) {
                out.push(self.rank_or_max(&piece[w[0].0 as usize..w[1].0 as usize]));
            }
        }
    }

    /// tiktoken's `_byte_pair_merge`: `parts` ends as the part starts plus a final
    /// `piece.len()` sentinel.
    fn merge_small(&self, piece: &[u8], parts: &mut Vec<(u32, u32)>) {
        parts.clear();
        let n = piece.len();
        let mut min = (u32::MAX, usize::MAX);
        for i in 0..n - 1 {
            let r = self.pairs[usize::from(piece[i]) << 8 | usize::from(piece[i + 1])];
            if r < min.0 {
                min = (r, i);
            }
            parts.push((i as u32, r));
        }
        parts.push(((n - 1) as u32, u32::MAX));
        parts.push((n as u32, u32::MAX));
        // The rank of merging part i with part i + 1, once part i + 1 is still present.
        let get = |parts: &[(u32, u32)], i: usize| -> u32 {
            if i + 3 < parts.len() {
                self.rank_or_max(&piece[parts[i].0 as usize..parts[i + 3].0 as usize])
            } else {
                u32::MAX
            }
        };
        while min.0 != u32::MAX {
            let i = min.1;
            if i > 0 {
                parts[i - 1].1 = get(parts, i - 1);
            }
            parts[i].1 = get(parts, i);
            parts.remove(i + 1);
            min = (u32::MAX, usize::MAX);
            for (j, &(_, r)) in parts[..parts.len() - 1].iter().enumerate() {
                if r < min.0 {
                    min = (r, j);
                }
            }
        }
    }

    /// Heap-based merge for long pieces, same result as the scan: pops the lowest
    /// (rank, start), skipping entries made stale by an earlier merge.
    fn merge_large(&self, piece: &[u8], out: Option<&mut Vec<u32>>) -> usize {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;

        let n = piece.len();
        // Part starting at i: ends at end[i]; the part before it starts at prev[i];
        // next_rank[i]: rank of merging it with the following part (u32::MAX: none).
        let mut end: Vec<usize> = (1..=n).collect();
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let mut next_rank = vec![u32::MAX; n];
        let mut heap = BinaryHeap::with_capacity(n);
        for i in 0..n - 1 {
            let r = self.pairs[usize::from(piece[i]) << 8 | usize::from(piece[i + 1])];
            if r != u32::MAX {
                next_rank[i] = r;
                heap.push(Reverse((r, i)));
            }
        }
        let mut parts = n;
        while let Some(Reverse((rank, left))) = heap.pop() {
            let right = end[left];
            if next_rank[left] != rank || right >= n {
                continue;
            }
            // Merge `left` with `right`.
            end[left] = end[right];
            next_rank[right] = u32::MAX;
            parts -= 1;
            if end[left] < n {
                prev[end[left]] = left;
                let r = self.rank_or_max(&piece[left..end[end[left]]]);
                next_rank[left] = r;
                if r != u32::MAX {
                    heap.push(Reverse((r, left)));
                }
            } else {
                next_rank[left] = u32::MAX;
            }
            if left > 0 {
                let p = prev[left];
                let r = self.rank_or_max(&piece[p..end[left]]);
                next_rank[p] = r;
                if r != u32::MAX {
                    heap.push(Reverse((r, p)));
                }
            }
        }
        if let Some(out) = out {
            let mut i = 0;
            while i < n {
                out.push(self.rank_or_max(&piece[i..end[i]]));
                i = end[i];
            }
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_differs_on_length_and_content() {
        assert_ne!(hash(b"a"), hash(b"a\0"));
        assert_ne!(hash(b"abcdefgh"), hash(b"abcdefgi"));
    }

    #[test]
    fn word_hash_equals_byte_hash() {
        for s in [
            "",
            "a",
            "abcdefgh",
            "abcdefghi",
            "ação e coração!!",
            "exactly twenty-four byte",
        ] {
            assert_eq!(
                hash_words(&words(s.as_bytes()), s.len()),
                hash(s.as_bytes()),
                "{s}"
            );
        }
    }
}
