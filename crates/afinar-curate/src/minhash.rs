//! MinHash signatures and LSH banding: which pairs are worth comparing exactly.
//!
//! Each example's shingle set gets [`HASHES`] minimum hash values; the signature is cut
//! into [`BANDS`] bands of [`ROWS`] values, and two examples become a *candidate pair*
//! when any band is identical. The chance that a pair with Jaccard similarity `s` becomes
//! a candidate is `1 - (1 - s^ROWS)^BANDS`: 0.996 at s = 0.5, 0.9999 at s = 0.6, 0.04
//! at s = 0.1 and 4e-5 at s = 0.01, so near duplicates are found while the work stays
//! close to linear. Candidates are then compared exactly ([`crate::text::jaccard`]), so
//! MinHash only decides what is compared, never what is merged.
//!
//! Written here rather than taken from a crate: gaoya (the best-known Rust MinHash/LSH)
//! pulls fifteen dependencies including a pre-release smallvec, returns hash sets whose
//! order varies run to run, and merges on *estimated* similarity; we need exact
//! similarity for the "never merges below the threshold" guarantee, byte-identical
//! results at any thread count, and hash values that never change with a dependency.

use rayon::prelude::*;

use crate::text::mix64;

/// Hash functions per signature.
pub const HASHES: usize = BANDS * ROWS;
/// Bands per signature.
pub const BANDS: usize = 42;
/// Signature values per band.
pub const ROWS: usize = 3;

/// Multipliers and xor masks of the hash family `h_k(x) = hi32((x ^ s_k) * m_k)`, fixed
/// (derived from constants) so signatures are the same on every run and machine.
struct Family {
    xor: [u64; HASHES],
    mul: [u64; HASHES],
}

impl Family {
    fn new() -> Self {
        let mut xor = [0u64; HASHES];
        let mut mul = [0u64; HASHES];
        for k in 0..HASHES {
            xor[k] = mix64(0x5eed_0000 + k as u64);
            mul[k] = mix64(0xa11c_e000 + k as u64) | 1;
        }
        Self { xor, mul }
    }
}

/// The LSH band hashes of one shingle set: all we keep of its signature. All zero for
/// an empty set, which matches nothing (a band hash is never zero).
pub type Bands = [u64; BANDS];

/// Computes band hashes; build one with [`Hasher::new`] and share it between threads.
#[derive(Debug)]
pub struct Hasher {
    family: Family,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    pub fn new() -> Self {
        Self { family: Family::new() }
    }

    /// The band hashes of a sorted, repeat-free shingle set.
    pub fn bands(&self, set: &[u64]) -> Bands {
        let mut bands = [0u64; BANDS];
        if set.is_empty() {
            return bands;
        }
        let sig = signature(&self.family, set);
        for (band, out) in bands.iter_mut().enumerate() {
            *out = band_hash(band, &sig[band * ROWS..(band + 1) * ROWS]);
        }
        bands
    }
}

impl std::fmt::Debug for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Family")
    }
}

fn signature(family: &Family, set: &[u64]) -> [u32; HASHES] {
    let mut sig = [u32::MAX; HASHES];
    for &x in set {
        for k in 0..HASHES {
            let h = ((x ^ family.xor[k]).wrapping_mul(family.mul[k]) >> 32) as u32;
            sig[k] = sig[k].min(h);
        }
    }
    sig
}

/// Every pair `(i, j)`, `i < j`, that shares at least one band, sorted and without
/// repeats. `keep` filters pairs early (leakage keeps only train × validation pairs).
pub fn candidate_pairs(bands: &[Bands], keep: impl Fn(u32, u32) -> bool + Sync) -> Vec<(u32, u32)> {
    let mut pairs: Vec<(u32, u32)> = (0..BANDS)
        .into_par_iter()
        .flat_map_iter(|band| {
            let mut keyed: Vec<(u64, u32)> = bands
                .iter()
                .enumerate()
                .filter(|(_, b)| b[band] != 0)
                .map(|(i, b)| (b[band], i as u32))
                .collect();
            keyed.sort_unstable();
            let mut out = Vec::new();
            let mut start = 0;
            while start < keyed.len() {
                let mut end = start + 1;
                while end < keyed.len() && keyed[end].0 == keyed[start].0 {
                    end += 1;
                }
                for a in start..end {
                    for b in a + 1..end {
                        let (i, j) = (keyed[a].1, keyed[b].1);
                        if keep(i, j) {
                            out.push((i, j));
                        }
                    }
                }
                start = end;
            }
            out
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

fn band_hash(band: usize, values: &[u32]) -> u64 {
    let mut h = mix64(band as u64 + 1);
    for &v in values {
        h = mix64(h ^ u64::from(v));
    }
    h.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{fold, shingles};

    #[test]
    fn identical_sets_share_every_band_and_different_ones_none() {
        let a = shingles(&fold("Qual o limite do MEI?"), &fold("R$ 81 mil por ano."));
        let b = shingles(&fold("Qual é o prazo da DEFIS?"), &fold("Até 31 de março do ano seguinte."));
        let h = Hasher::new();
        let bands = [h.bands(&a), h.bands(&a), h.bands(&b)];
        assert_eq!(bands[0], bands[1]);
        assert_eq!(candidate_pairs(&bands, |_, _| true), vec![(0, 1)]);
    }

    #[test]
    fn empty_sets_are_never_candidates() {
        let h = Hasher::new();
        assert!(candidate_pairs(&[h.bands(&[]), h.bands(&[])], |_, _| true).is_empty());
    }
}
