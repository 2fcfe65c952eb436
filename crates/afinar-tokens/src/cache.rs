//! Per-thread memo tables: counts of multi-token pieces, and counts of whole texts that
//! repeat (system prompts, canned answers).
//!
//! Per thread, so the hot path takes no lock and threads scale; bounded, so memory stays
//! flat on any input (a full table is cleared and refilled): at most about 8 MB per thread
//! and encoding (hot table 0.25 MB, piece memo 3 MB + 2 MB of keys, text memo 0.4 MB +
//! 2 MB of keys), allocated on first use.

use crate::vocab::hash;

#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: u64,
    off: u32,
    len: u32,
    count: u32,
}

const FREE: Entry = Entry {
    hash: 0,
    off: 0,
    len: 0,
    count: u32::MAX,
};

/// A bounded map from byte strings to counts.
#[derive(Debug)]
pub(crate) struct Memo {
    slots: Vec<Entry>,
    arena: Vec<u8>,
    used: usize,
    max_arena: usize,
}

impl Memo {
    pub(crate) fn new(slots: usize, max_arena: usize) -> Memo {
        Memo {
            slots: vec![FREE; slots.next_power_of_two()],
            arena: Vec::new(),
            used: 0,
            max_arena,
        }
    }

    #[inline]
    pub(crate) fn get(&self, key: &[u8], h: u64) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = (h >> 20) as usize & mask;
        loop {
            let e = &self.slots[i];
            if e.count == u32::MAX {
                return None;
            }
            if e.hash == h
                && e.len as usize == key.len()
                && self
                    .arena
                    .get(e.off as usize..e.off as usize + key.len())
                    .is_some_and(|k| {
                        // No memcmp call for short keys.
                        if key.len() <= 32 {
                            k.iter().zip(key).all(|(a, b)| a == b)
                        } else {
                            k == key
                        }
                    })
            {
                return Some(e.count);
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn insert(&mut self, key: &[u8], h: u64, count: u32) {
        if key.len() > self.max_arena || count == u32::MAX {
            return;
        }
        if (self.used + 1) * 2 > self.slots.len() || self.arena.len() + key.len() > self.max_arena {
            self.slots.fill(FREE);
            self.arena.clear();
            self.used = 0;
        }
        let mask = self.slots.len() - 1;
        let mut i = (h >> 20) as usize & mask;
        while self.slots[i].count != u32::MAX {
            i = (i + 1) & mask;
        }
        self.slots[i] = Entry {
            hash: h,
            off: self.arena.len() as u32,
            len: key.len() as u32,
            count,
        };
        self.arena.extend_from_slice(key);
        self.used += 1;
    }
}

/// Texts at least this long and at most [`TEXT_MAX`] bytes are memoised once seen twice.
pub(crate) const TEXT_MIN: usize = 32;
pub(crate) const TEXT_MAX: usize = 4096;
/// Pieces up to this length are memoised.
pub(crate) const PIECE_MAX: usize = 255;

/// Pieces up to this length go through the hot table.
pub(crate) const HOT_MAX: usize = 24;
const HOT_SLOTS: usize = 1 << 13;

/// A slot of the hot table: a piece (zero-padded words) and its count.
#[derive(Debug, Clone, Copy)]
struct Hot {
    w: [u64; 3],
    len: u32,
    count: u32,
}

/// One thread's working state for one encoding.
#[derive(Debug)]
pub(crate) struct Scratch {
    /// Direct-mapped counts of recent short pieces (256 KB, stays in L2): a hit costs one
    /// cache line, where the vocabulary table (4 MB) costs two misses.
    hot: Vec<Hot>,
    pub(crate) pieces: Memo,
    texts: Memo,
    /// Hashes of texts seen once (direct-mapped): a text enters `texts` on its second
    /// sighting, so unique texts cost one hash and no copy.
    seen: Vec<u64>,
    pub(crate) parts: Vec<(u32, u32)>,
}

impl Scratch {
    pub(crate) fn new() -> Scratch {
        Scratch {
            hot: vec![
                Hot {
                    w: [0; 3],
                    len: 0,
                    count: 0
                };
                HOT_SLOTS
            ],
            pieces: Memo::new(1 << 17, 1 << 21),
            texts: Memo::new(1 << 14, 2 << 20),
            seen: vec![0; 1 << 14],
            parts: Vec::with_capacity(LARGE_HINT),
        }
    }

    /// The hot-table count of the piece with words `w`, length `len` and hash `h`.
    #[inline(always)]
    pub(crate) fn hot_get(&self, w: &[u64; 3], len: usize, h: u64) -> Option<u32> {
        let e = &self.hot[h as usize & (HOT_SLOTS - 1)];
        (e.len as usize == len && e.w == *w).then_some(e.count)
    }

    #[inline(always)]
    pub(crate) fn hot_put(&mut self, w: [u64; 3], len: usize, h: u64, count: usize) {
        self.hot[h as usize & (HOT_SLOTS - 1)] = Hot {
            w,
            len: len as u32,
            count: u32::try_from(count).unwrap_or(u32::MAX),
        };
    }

    /// The memoised count of `text`, or `None` with the hash to pass to [`Self::remember`].
    #[inline]
    pub(crate) fn recall(&self, text: &[u8]) -> Result<u32, u64> {
        let h = hash(text);
        self.texts.get(text, h).ok_or(h)
    }

    pub(crate) fn remember(&mut self, text: &[u8], h: u64, count: usize) {
        let slot = (h as usize) & (self.seen.len() - 1);
        if self.seen[slot] == h {
            self.texts
                .insert(text, h, u32::try_from(count).unwrap_or(u32::MAX));
        } else {
            self.seen[slot] = h;
        }
    }
}

const LARGE_HINT: usize = 130;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_finds_what_it_stored_and_survives_overflow() {
        let mut m = Memo::new(8, 64);
        for i in 0..100u32 {
            let key = format!("key-{i}");
            m.insert(key.as_bytes(), hash(key.as_bytes()), i);
            assert_eq!(m.get(key.as_bytes(), hash(key.as_bytes())), Some(i));
        }
        assert_eq!(m.get(b"key-0", hash(b"key-0")), None);
    }
}
