//! What dedupe, split and leakage compute once per example (exact key, question and
//! answer digests, MinHash signatures), and the search for pairs at or above a threshold.
//!
//! Small inputs (up to [`EXHAUSTIVE`] examples) compare every pair's estimate, so no pair
//! at or above the threshold is ever missed. Larger ones take LSH candidates from
//! signatures weighted by how common each shingle is ([`Weights`]). Either way a pair is
//! compared exactly only when the estimate allows it to reach the threshold, and the
//! shingle sets are never kept: the few pairs compared have theirs computed again.

use std::borrow::Borrow;

use afinar_core::Example;
use afinar_core::count::thousands;
use afinar_core::progress::{Progress, Unit};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::minhash::{self, Banding, Candidates, EstimateSignature, LshSignature};
use crate::text;

/// Up to this many examples, every pair's estimate is compared (at most two million
/// pairs, a few milliseconds each thousand); past it, LSH picks the pairs.
pub(crate) const EXHAUSTIVE: usize = 2048;

/// Per-example comparison data: about 600 bytes with its signatures, whatever the text's
/// length.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fingerprint {
    /// A 128-bit digest of [`text::example_key`]: equal for exact duplicates.
    pub key: [u8; 16],
    /// A digest of the folded question; 0 when it is empty.
    pub question: u128,
    /// A digest of the folded answer; 0 when it is empty.
    pub answer: u128,
    /// A digest of the figures of the folded answer ([`text::numbers`]): a pair whose
    /// digests differ holds different figures and is never merged.
    pub figures: u64,
}

/// How pairs at or above the threshold are looked for.
#[derive(Debug)]
enum Search {
    /// Exact duplicates only: no signatures.
    None,
    /// Every pair's estimate.
    Exhaustive,
    /// LSH bands of the weighted signatures.
    Lsh(Banding),
}

/// Per-example comparison data, in input order.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub items: Vec<Fingerprint>,
    /// Each item's count of distinct 32-bit shingle hashes (question and answer). Apart
    /// from the fingerprints: the pair filters read sizes for millions of pairs, and a
    /// compact array stays in cache where the fingerprints do not.
    sizes: Vec<u32>,
    estimates: Vec<EstimateSignature>,
    lsh: Vec<LshSignature>,
    search: Search,
}

/// Buffers one thread reuses from example to example.
#[derive(Default)]
struct Scratch {
    message: String,
    question: String,
    answer: String,
    /// Open-addressing set of 32-bit shingle hashes (0 marks a free slot).
    table: Vec<u32>,
    distinct: Vec<u32>,
}

impl Prepared {
    /// Fingerprints, and the signatures a search at `threshold` needs (none for `None`:
    /// exact duplicates only).
    pub fn new<E: Borrow<Example> + Sync>(
        examples: &[E],
        threshold: Option<f64>,
        progress: &dyn Progress,
    ) -> Self {
        let n = examples.len();
        let search = match threshold {
            None => Search::None,
            Some(_) if n <= EXHAUSTIVE => Search::Exhaustive,
            Some(t) => Search::Lsh(Banding::for_threshold(t)),
        };
        let weights = match search {
            Search::Lsh(_) => Weights::from_sample(examples),
            _ => Weights::default(),
        };
        let want_estimates = !matches!(search, Search::None);
        let want_lsh = matches!(search, Search::Lsh(_));
        const CHUNK: usize = 256;
        let mut items = vec![Fingerprint::default(); n];
        let mut estimates = vec![[0u8; minhash::ESTIMATE_BINS]; if want_estimates { n } else { 0 }];
        let mut lsh = vec![[0u16; minhash::BINS]; if want_lsh { n } else { 0 }];
        let chunks = n.div_ceil(CHUNK);
        let mut estimate_chunks: Vec<&mut [EstimateSignature]> =
            estimates.chunks_mut(CHUNK).collect();
        estimate_chunks.resize_with(chunks, Default::default);
        let mut lsh_chunks: Vec<&mut [LshSignature]> = lsh.chunks_mut(CHUNK).collect();
        lsh_chunks.resize_with(chunks, Default::default);
        progress.begin(
            &format!("Fingerprinting {} examples", thousands(n as u64)),
            Some(n as u64),
            Unit::Rows,
        );
        let mut sizes = vec![0u32; n];
        items
            .par_chunks_mut(CHUNK)
            .zip(sizes.par_chunks_mut(CHUNK))
            .zip(examples.par_chunks(CHUNK))
            .zip(
                estimate_chunks
                    .into_par_iter()
                    .zip(lsh_chunks.into_par_iter()),
            )
            .for_each_init(Scratch::default, |s, (((fps, szs), exs), (ests, sigs))| {
                progress.advance(exs.len() as u64);
                for (k, ex) in exs.iter().enumerate() {
                    fps[k] = fingerprint(ex.borrow(), s);
                    szs[k] = s.distinct.len() as u32;
                    if let Some(e) = ests.get_mut(k) {
                        *e = minhash::estimate_signature(&s.distinct);
                    }
                    if let Some(l) = sigs.get_mut(k) {
                        *l = minhash::lsh_signature(&s.distinct, |x| weights.weight(x));
                    }
                }
            });
        progress.end();
        Self {
            items,
            sizes,
            estimates,
            lsh,
            search,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn key(&self, i: usize) -> [u8; 16] {
        self.items[i].key
    }

    /// False when the sizes alone rule out similarity `t`: [`text::jaccard_at_least`]
    /// needs as many common shingles as this computes.
    fn sizes_allow(&self, i: usize, j: usize, t: f64) -> bool {
        let (la, lb) = (self.sizes[i] as usize, self.sizes[j] as usize);
        if la == 0 && lb == 0 {
            return true;
        }
        let needed = (t * (la + lb) as f64 / (1.0 + t)).ceil() as usize;
        la.min(lb) >= needed
    }

    /// False when the pair surely stays below `t`: by the sizes, or by the signatures'
    /// estimate ([`minhash::may_reach`]).
    pub fn may_reach(&self, i: usize, j: usize, t: f64) -> bool {
        if !self.sizes_allow(i, j, t) {
            return false;
        }
        if self.estimates.is_empty() {
            return true;
        }
        let (la, lb) = (self.sizes[i] as usize, self.sizes[j] as usize);
        if la == 0 && lb == 0 {
            return true;
        }
        minhash::may_reach(&self.estimates[i], &self.estimates[j], la, lb, t)
    }

    /// The pairs `(i, j)`, `i < j`, of examples of one class (`member`: `None` leaves an
    /// example out) passing `keep` that may reach `t` (every pair on small inputs, the
    /// LSH candidates on large ones), each kept only when [`Self::may_reach`] allows it;
    /// sorted. With `want_skipped`, the LSH buckets skipped as too big too.
    pub fn candidates(
        &self,
        t: f64,
        member: impl Fn(u32) -> Option<u64> + Sync,
        keep: impl Fn(u32, u32) -> bool + Sync,
        want_skipped: bool,
        progress: &dyn Progress,
    ) -> Candidates {
        match &self.search {
            Search::None => Candidates::default(),
            Search::Exhaustive => Candidates {
                pairs: self.all_pairs(t, member, keep),
                skipped: Vec::new(),
            },
            Search::Lsh(banding) => {
                assert_eq!(self.lsh.len(), self.len(), "candidates after release_lsh");
                minhash::candidates(
                    self.len(),
                    banding.bands,
                    |i, band| {
                        if self.sizes[i] == 0 {
                            0
                        } else {
                            banding.key(&self.lsh[i], band)
                        }
                    },
                    member,
                    |i, j| keep(i, j) && self.may_reach(i as usize, j as usize, t),
                    want_skipped,
                    progress,
                )
            }
        }
    }

    /// Frees the LSH signatures, once [`Self::candidates`] is no longer needed (it
    /// must not be called after).
    pub fn release_lsh(&mut self) {
        self.lsh = Vec::new();
    }

    /// Whether [`Self::candidates`] compares every pair.
    pub fn is_exhaustive(&self) -> bool {
        matches!(self.search, Search::Exhaustive)
    }

    /// Every pair `(i, j)`, `i < j`, of examples of one class (as for
    /// [`Self::candidates`]) passing `keep` that [`Self::may_reach`] allows at `t`,
    /// sorted. Quadratic: for small inputs.
    pub fn all_pairs(
        &self,
        t: f64,
        member: impl Fn(u32) -> Option<u64> + Sync,
        keep: impl Fn(u32, u32) -> bool + Sync,
    ) -> Vec<(u32, u32)> {
        let classes: Vec<Option<u64>> = (0..self.len() as u32).map(&member).collect();
        let members: Vec<u32> = (0..self.len() as u32)
            .filter(|&i| classes[i as usize].is_some())
            .collect();
        let keep = |i: u32, j: u32| {
            classes[i as usize] == classes[j as usize]
                && keep(i, j)
                && self.may_reach(i as usize, j as usize, t)
        };
        members
            .par_iter()
            .enumerate()
            .flat_map_iter(|(a, &i)| {
                let keep = &keep;
                members[a + 1..]
                    .iter()
                    .filter(move |&&j| keep(i, j))
                    .map(move |&j| (i, j))
            })
            .collect()
    }

    /// `pairs` kept only where [`Self::may_reach`] allows `t`, in order.
    pub fn reachable(&self, pairs: &[(u32, u32)], t: f64) -> Vec<(u32, u32)> {
        pairs
            .par_iter()
            .copied()
            .filter(|&(i, j)| self.may_reach(i as usize, j as usize, t))
            .collect()
    }

    /// The pairs whose exact question-and-answer Jaccard similarity is at least `t`, with
    /// it, in the order given. `examples` are the ones prepared. Only the sizes are
    /// checked first: callers filter by the estimate where they mean to.
    pub fn similar_pairs<E: Borrow<Example> + Sync>(
        &self,
        examples: &[E],
        pairs: &[(u32, u32)],
        t: f64,
    ) -> Vec<(u32, u32, f64)> {
        self.similar_pairs_within(
            examples,
            pairs,
            t,
            SETS_BUDGET,
            &afinar_core::progress::Silent,
        )
    }

    /// [`Self::similar_pairs`], telling `progress` the pairs compared.
    pub fn similar_pairs_reporting<E: Borrow<Example> + Sync>(
        &self,
        examples: &[E],
        pairs: &[(u32, u32)],
        t: f64,
        progress: &dyn Progress,
    ) -> Vec<(u32, u32, f64)> {
        self.similar_pairs_within(examples, pairs, t, SETS_BUDGET, progress)
    }

    /// [`Self::similar_pairs`] holding at most `budget` shingle hashes at once (but
    /// always a pair's two sets).
    fn similar_pairs_within<E: Borrow<Example> + Sync>(
        &self,
        examples: &[E],
        pairs: &[(u32, u32)],
        t: f64,
        budget: usize,
        progress: &dyn Progress,
    ) -> Vec<(u32, u32, f64)> {
        let survivors: Vec<(u32, u32)> = pairs
            .par_iter()
            .copied()
            .filter(|&(i, j)| self.sizes_allow(i as usize, j as usize, t))
            .collect();
        // Each example's set is computed once per chunk of pairs, and the chunks are as
        // large as [`SETS_BUDGET`] allows (the sizes are known): on 200,000 FAQ rows the
        // half-million pairs split wants links for fit in one, where fixed chunks of
        // pairs computed every set four times over.
        let mut out = Vec::new();
        let mut start = 0;
        progress.begin(
            &format!(
                "Comparing {} candidate pairs",
                thousands(survivors.len() as u64)
            ),
            Some(survivors.len() as u64),
            Unit::Counted("pairs"),
        );
        while start < survivors.len() {
            let (end, members) = self.chunk_within_budget(&survivors, start, budget);
            let size = |i: u32| self.sizes[i as usize] as usize;
            let sets = FlatSets::build(&members, size, |i, q, a, set| {
                text::fold_question_answer(examples[i as usize].borrow(), q, a);
                text::shingle_set32_into(q, a, set);
            });
            out.par_extend(survivors[start..end].par_iter().filter_map(|&(i, j)| {
                text::jaccard_at_least(sets.get(&members, i), sets.get(&members, j), t)
                    .map(|s| (i, j, s))
            }));
            progress.advance((end - start) as u64);
            start = end;
        }
        progress.end();
        out
    }

    /// The pairs from `start` on whose examples' sets fit in `budget` hashes together
    /// (at least one pair): where they end, and their examples, sorted.
    fn chunk_within_budget(
        &self,
        pairs: &[(u32, u32)],
        start: usize,
        budget: usize,
    ) -> (usize, Vec<u32>) {
        let mut seen = std::collections::HashSet::new();
        let mut held = 0usize;
        let mut end = start;
        while end < pairs.len() {
            let (i, j) = pairs[end];
            let more: usize = [i, j]
                .into_iter()
                .filter(|x| !seen.contains(x))
                .map(|x| self.sizes[x as usize] as usize)
                .sum();
            if held + more > budget && end > start {
                break;
            }
            held += more;
            seen.insert(i);
            seen.insert(j);
            end += 1;
        }
        let mut members: Vec<u32> = seen.into_iter().collect();
        members.sort_unstable();
        (end, members)
    }
}

/// The most shingle hashes [`Prepared::similar_pairs`] holds at once: 256 MB.
const SETS_BUDGET: usize = 64 << 20;

/// Sorted, repeat-free shingle sets of some examples, end to end in one buffer.
struct FlatSets {
    hashes: Vec<u32>,
    /// Where each member's set ends in `hashes`, in the members' order.
    ends: Vec<usize>,
}

impl FlatSets {
    /// The sets of `members` (sorted), `fill` writing an example's set into the buffer it
    /// is given; each set is `sizes` long (the prepared sizes), so it is written in
    /// place.
    fn build(
        members: &[u32],
        sizes: impl Fn(u32) -> usize,
        fill: impl Fn(u32, &mut String, &mut String, &mut Vec<u32>) + Sync,
    ) -> Self {
        let mut ends = Vec::with_capacity(members.len());
        let mut total = 0;
        for &i in members {
            total += sizes(i);
            ends.push(total);
        }
        let mut hashes = vec![0u32; total];
        let mut slots: Vec<(u32, &mut [u32])> = Vec::with_capacity(members.len());
        let mut rest = hashes.as_mut_slice();
        for &i in members {
            let (slot, tail) = rest.split_at_mut(sizes(i));
            slots.push((i, slot));
            rest = tail;
        }
        slots.par_iter_mut().for_each_init(
            || (String::new(), String::new(), Vec::new()),
            |(q, a, set), (i, slot)| {
                fill(*i, q, a, set);
                // The size is the count of these very hashes (`distinct_shingles`).
                debug_assert_eq!(set.len(), slot.len());
                let n = set.len().min(slot.len());
                slot[..n].copy_from_slice(&set[..n]);
            },
        );
        drop(slots);
        Self { hashes, ends }
    }

    /// The set of example `i`, one of `members`.
    fn get(&self, members: &[u32], i: u32) -> &[u32] {
        members.binary_search(&i).map_or(&[][..], |k| {
            let start = if k == 0 { 0 } else { self.ends[k - 1] };
            &self.hashes[start..self.ends[k]]
        })
    }
}

/// Shingles common to a large share of the corpus, with their weight in the LSH
/// signature: `sqrt(COMMON_SHARE / frequency)` where a shingle is in a `frequency` share
/// of the examples, above [`COMMON_SHARE`]. The
/// frequencies come from a sample of at most [`SAMPLE`] examples chosen by content, so
/// they do not depend on input order. Everything else weighs 1.
#[derive(Debug, Default)]
struct Weights {
    /// Open addressing by the hash's low bits, each shingle beside its weight (one cache
    /// line read per lookup); 0 marks a free slot (shingle hash 0 is never weighted).
    table: Vec<(u32, f32)>,
}

/// A shingle in more than this share of the examples is common. Measured on the
/// benchmark's FAQ text (`bench/gen_faq.py`): weighted so, unrelated pairs score a median
/// 0.05 (0.12 unweighted) and at most 0.17, while every pair at or above 0.5 unweighted
/// stays at or above 0.5. Dropping common shingles instead lost near duplicates whose
/// shared answer is all common phrases.
const COMMON_SHARE: f64 = 0.02;
/// Examples whose shingles are counted.
const SAMPLE: usize = 8192;

impl Weights {
    fn from_sample<E: Borrow<Example> + Sync>(examples: &[E]) -> Self {
        let n = examples.len();
        if n == 0 {
            return Self::default();
        }
        // By a hash of the content, so the same examples are drawn in any order.
        let chosen: Vec<usize> = (0..n)
            .into_par_iter()
            .filter(|&i| {
                n <= SAMPLE || content_hash(examples[i].borrow()) % n as u64 <= SAMPLE as u64
            })
            .collect();
        let mut all: Vec<u32> = chosen
            .par_chunks(64)
            .map_init(Scratch::default, |s, chunk| {
                let mut out = Vec::new();
                for &i in chunk {
                    let ex = examples[i].borrow();
                    text::fold_question_answer(ex, &mut s.question, &mut s.answer);
                    distinct_shingles(s);
                    out.extend(s.distinct.iter().copied().filter(|&x| x != 0));
                }
                out
            })
            .flatten()
            .collect();
        all.par_sort_unstable();
        let sampled = chosen.len() as f64;
        let share = COMMON_SHARE;
        let mut common: Vec<(u32, f32)> = Vec::new();
        let mut start = 0;
        while start < all.len() {
            let mut end = start + 1;
            while end < all.len() && all[end] == all[start] {
                end += 1;
            }
            let frequency = (end - start) as f64 / sampled;
            if frequency > share {
                common.push((all[start], (share / frequency).sqrt() as f32));
            }
            start = end;
        }
        drop(all);
        let slots = (common.len() * 2).next_power_of_two().max(16);
        let mut table = vec![(0u32, 1f32); slots];
        for (x, w) in common {
            let mut at = x as usize & (slots - 1);
            while table[at].0 != 0 {
                at = (at + 1) & (slots - 1);
            }
            table[at] = (x, w);
        }
        Self { table }
    }

    fn weight(&self, x: u32) -> f32 {
        if self.table.is_empty() || x == 0 {
            return 1.0;
        }
        let mask = self.table.len() - 1;
        let mut at = x as usize & mask;
        loop {
            match self.table[at] {
                (0, _) => return 1.0,
                (k, w) if k == x => return w,
                _ => at = (at + 1) & mask,
            }
        }
    }
}

/// A hash of the question and answer as written (their length and first bytes), for
/// drawing the sample.
fn content_hash(ex: &Example) -> u64 {
    let mut h = 0u64;
    for m in &ex.messages {
        let bytes = m.content.as_bytes();
        h = text::hash_bytes(&bytes[..bytes.len().min(64)], h ^ bytes.len() as u64);
    }
    h
}

/// The distinct 32-bit shingle hashes of `s.question` and `s.answer` into `s.distinct`,
/// in text order, by open addressing (the hashes are uniform, so their low bits index
/// the table directly).
fn distinct_shingles(s: &mut Scratch) {
    let bound = s.question.len() + s.answer.len() + 2;
    let slots = (2 * bound).next_power_of_two().max(64);
    s.table.clear();
    s.table.resize(slots, 0);
    s.distinct.clear();
    let mask = slots - 1;
    let mut zero_seen = false;
    let (table, distinct) = (&mut s.table, &mut s.distinct);
    text::for_each_shingle(&s.question, &s.answer, |h| {
        let x = h as u32;
        if x == 0 {
            if !zero_seen {
                zero_seen = true;
                distinct.push(0);
            }
            return;
        }
        let mut at = x as usize & mask;
        loop {
            let slot = table[at];
            if slot == x {
                return;
            }
            if slot == 0 {
                table[at] = x;
                distinct.push(x);
                return;
            }
            at = (at + 1) & mask;
        }
    });
}

/// The fingerprint of an example; leaves its distinct shingles in `s.distinct`.
fn fingerprint(ex: &Example, s: &mut Scratch) -> Fingerprint {
    // The key digest is fed message by message: the same bytes as hashing
    // `text::example_key`, without building it.
    let mut key_hash = Sha256::new();
    let mut question_seen = false;
    let mut answer_seen = false;
    for m in &ex.messages {
        text::fold_into(&m.content, &mut s.message);
        key_hash.update(text::role_tag(m.role).as_bytes());
        key_hash.update([1u8]);
        key_hash.update(s.message.as_bytes());
        key_hash.update([2u8]);
        match m.role {
            afinar_core::Role::User if !question_seen => {
                question_seen = true;
                std::mem::swap(&mut s.question, &mut s.message);
            }
            // The answer is the last assistant message.
            afinar_core::Role::Assistant => {
                answer_seen = true;
                std::mem::swap(&mut s.answer, &mut s.message);
            }
            _ => {}
        }
    }
    if !question_seen {
        s.question.clear();
    }
    if !answer_seen {
        s.answer.clear();
    }
    let mut key = [0u8; 16];
    key.copy_from_slice(&key_hash.finalize()[..16]);
    distinct_shingles(s);
    Fingerprint {
        key,
        question: digest(&s.question),
        answer: digest(&s.answer),
        figures: figures_digest(&s.answer),
    }
}

/// FNV-1a over the figures of a folded text, each ended by a separator.
fn figures_digest(folded: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for n in text::numbers(folded) {
        for b in n.bytes().chain([b' ']) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A 128-bit digest of a folded text, 0 for the empty text.
fn digest(folded: &str) -> u128 {
    if folded.is_empty() {
        return 0;
    }
    let d = Sha256::digest(folded.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    u128::from_le_bytes(b).max(1)
}

/// Checks a near-duplicate threshold.
pub(crate) fn check_threshold(t: f64) -> Result<f64, crate::CurateError> {
    if t.is_finite() && t > 0.0 && t <= 1.0 {
        Ok(t)
    } else {
        Err(crate::CurateError::Threshold { value: t })
    }
}

#[cfg(test)]
mod tests {
    use afinar_core::Origin;

    use super::*;

    #[test]
    fn figures_digest_tells_different_figures_apart() {
        let d = |t: &str| figures_digest(&text::fold(t));
        assert_eq!(d("R$ 4,8 milhões em 2024"), d("até r$ 4,8 milhões (2024)"));
        assert_ne!(d("R$ 4,8 milhões"), d("R$ 3,6 milhões"));
        // The separator keeps `48` from matching `4` then `8`.
        assert_ne!(d("48"), d("4 8"));
        assert_eq!(d("sem números"), d("nenhum"));
    }

    #[test]
    fn key_digest_is_that_of_the_example_key() {
        let ex = Example::single_turn(
            Some("Sistema"),
            "Qual o prazo?",
            "Até 31/3.",
            Origin::line("a", 1),
        );
        let p = Prepared::new(
            std::slice::from_ref(&ex),
            None,
            &afinar_core::progress::Silent,
        );
        let d = Sha256::digest(text::example_key(&ex).as_bytes());
        assert_eq!(p.key(0)[..], d[..16]);
    }

    fn faq() -> Vec<Example> {
        let q = "Qual o limite de faturamento do MEI para o ano de abertura?";
        let a = "O MEI pode faturar até R$ 81.000,00 por ano, ou R$ 6.750,00 por mês.";
        vec![
            Example::single_turn(None, q, a, Origin::line("a", 1)),
            Example::single_turn(None, "Quanto o MEI pode faturar?", a, Origin::line("a", 2)),
            Example::single_turn(
                None,
                "Qual o prazo da DEFIS?",
                "Até 31 de março.",
                Origin::line("a", 3),
            ),
        ]
    }

    #[test]
    fn filters_never_rule_out_a_pair_at_the_threshold() {
        let exs = faq();
        let p = Prepared::new(&exs, Some(0.5), &afinar_core::progress::Silent);
        let sets: Vec<Vec<u32>> = exs
            .iter()
            .map(|e| {
                let (q, a) = text::question_answer(e);
                text::shingle_set32(&q, &a)
            })
            .collect();
        for (i, j) in [(0, 1), (0, 2), (1, 2)] {
            let s = text::jaccard(&sets[i], &sets[j]);
            for t in [0.05, 0.1, 0.2, 0.3, 0.5, s, 0.9, 1.0] {
                if text::jaccard_at_least(&sets[i], &sets[j], t).is_some() {
                    assert!(p.may_reach(i, j, t), "{i} {j} {t}");
                }
            }
            let found = p.similar_pairs(&exs, &[(i as u32, j as u32)], s);
            assert_eq!(found, vec![(i as u32, j as u32, s)]);
        }
    }

    #[test]
    fn similar_pairs_are_the_same_whatever_the_budget() {
        let mut exs = faq();
        for k in 0..40 {
            let mut ex = exs[k % 3].clone();
            ex.messages[0].content = format!("{} Variação {k}.", ex.messages[0].content);
            exs.push(ex);
        }
        let p = Prepared::new(&exs, Some(0.3), &afinar_core::progress::Silent);
        let n = exs.len() as u32;
        let pairs: Vec<(u32, u32)> = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .collect();
        let all = p.similar_pairs(&exs, &pairs, 0.3);
        assert!(all.len() > 100, "{}", all.len());
        // One pair at a time, a few, or all at once: the same pairs in the same order.
        for budget in [0, 1, 200, 5_000] {
            assert_eq!(
                p.similar_pairs_within(&exs, &pairs, 0.3, budget, &afinar_core::progress::Silent),
                all,
                "{budget}"
            );
        }
    }

    /// A corpus past [`EXHAUSTIVE`] where every answer shares a long common passage: the
    /// LSH still finds the rewordings and leaves the unrelated pairs out.
    #[test]
    fn lsh_on_a_large_corpus_finds_rewordings_despite_common_text() {
        let boilerplate = "Para a opção é preciso que a empresa não tenha débitos com o INSS e que a receita bruta fique abaixo do limite do Simples Nacional no ano-calendário";
        let word = |k: usize| -> String {
            let letters = ['q', 'w', 'x', 'z', 'k', 'y', 'j', 'v', 'b', 'h'];
            let mut k = k * 7919 + 13;
            let mut s = String::new();
            for _ in 0..6 {
                s.push(letters[k % 10]);
                k /= 10;
            }
            s
        };
        let n = EXHAUSTIVE + 500;
        let mut exs: Vec<Example> = (0..n)
            .map(|k| {
                Example::single_turn(
                    None,
                    format!("Como fica o caso {} do cliente {}?", word(k), word(k + n)),
                    format!(
                        "{boilerplate}. Caso {}: {}.",
                        word(k),
                        (1..=25)
                            .map(|w| word(w * n + k))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    Origin::line("big.jsonl", k as u64 + 1),
                )
            })
            .collect();
        // Rewordings of every 50th example: another question, the same answer.
        let originals: Vec<usize> = (0..n).step_by(50).collect();
        for &k in &originals {
            let mut ex = exs[k].clone();
            ex.messages[0].content = format!("Dúvida: como fica o caso {}?", word(k));
            exs.push(ex);
        }
        let p = Prepared::new(&exs, Some(0.5), &afinar_core::progress::Silent);
        assert!(matches!(p.search, Search::Lsh(_)));
        let found = p.candidates(
            0.5,
            |_| Some(0),
            |_, _| true,
            false,
            &afinar_core::progress::Silent,
        );
        let similar = p.similar_pairs(&exs, &found.pairs, 0.5);
        let pairs: Vec<(u32, u32)> = similar.iter().map(|&(i, j, _)| (i, j)).collect();
        let expected: Vec<(u32, u32)> = originals
            .iter()
            .enumerate()
            .map(|(r, &k)| (k as u32, (n + r) as u32))
            .collect();
        assert_eq!(pairs, expected);
        // The common passage is down-weighted, so unrelated pairs are rarely candidates:
        // fewer than one per example, of the 3.4 million pairs.
        assert!(found.pairs.len() < exs.len(), "{}", found.pairs.len());
    }

    #[test]
    fn common_shingles_weigh_less_and_the_sample_ignores_order() {
        let exs: Vec<Example> = (0..3000)
            .map(|k| {
                Example::single_turn(
                    None,
                    format!("Pergunta {k} sobre o Simples Nacional?"),
                    format!("Resposta número {k}."),
                    Origin::line("a", k as u64 + 1),
                )
            })
            .collect();
        let w = Weights::from_sample(&exs);
        let common = text::shingle_set32("", "simples nacional");
        let mut reversed = exs.clone();
        reversed.reverse();
        let wr = Weights::from_sample(&reversed);
        assert_eq!(w.table, wr.table);
        // Question shingles of the shared phrase: in every example.
        let q = text::shingle_set32("sobre o simples nacional", "");
        assert!(
            q.iter().all(|&x| w.weight(x) < 0.7),
            "{:?}",
            q.iter().map(|&x| w.weight(x)).collect::<Vec<_>>()
        );
        assert!(common.iter().all(|&x| w.weight(x) == 1.0));
    }
}
