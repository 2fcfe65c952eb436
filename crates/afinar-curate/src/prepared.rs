//! What dedupe, split and leakage compute once per example: exact key, question and
//! answer digests, LSH bands and a small sketch of the shingle set that rules out most
//! candidate pairs without comparing their shingles.

use std::borrow::Borrow;

use afinar_core::Example;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::minhash::{self, BANDS, Bands};
use crate::text;

/// Buckets of a [`Fingerprint`]'s shingle sketch.
const SKETCH: usize = 256;

/// Per-example comparison data, with a [`Sketch`] and [`BANDS`](minhash::BANDS) band
/// hashes: about 640 bytes in all, whatever the text's length. The shingle sets
/// themselves are not kept (they took several times the text's size): the few candidate
/// pairs that pass the sketch have them computed again.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fingerprint {
    /// A 128-bit digest of [`text::example_key`]: equal for exact duplicates.
    pub key: [u8; 16],
    /// A digest of the folded question; 0 when it is empty.
    pub question: u128,
    /// A digest of the folded answer; 0 when it is empty.
    pub answer: u128,
    /// Distinct 32-bit shingle hashes of question and answer.
    size: u32,
    /// A count of the sketch stopped at 255.
    saturated: bool,
}

/// How many of an example's distinct shingle hashes fall in each of [`SKETCH`] ranges
/// of values (by their top 8 bits), saturating. Aligned to cache lines: the pair filter
/// reads them in random order.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct Sketch([u8; SKETCH]);

impl Default for Sketch {
    fn default() -> Self {
        Self([0; SKETCH])
    }
}

/// Per-example comparison data, in input order.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub items: Vec<Fingerprint>,
    sketches: Vec<Sketch>,
    /// Band-major, `bands[b * n + i]`, so building one band's buckets reads one run of
    /// memory.
    bands: Vec<u64>,
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
    pub fn new<E: Borrow<Example> + Sync>(examples: &[E]) -> Self {
        const CHUNK: usize = 256;
        let n = examples.len();
        let mut items = vec![Fingerprint::default(); n];
        let mut sketches = vec![Sketch::default(); n];
        let mut bands = vec![0u64; BANDS * n];
        if n > 0 {
            // Each chunk of examples writes its piece of every band's run.
            let chunks = n.div_ceil(CHUNK);
            let mut pieces: Vec<Vec<&mut [u64]>> =
                (0..chunks).map(|_| Vec::with_capacity(BANDS)).collect();
            for run in bands.chunks_mut(n) {
                for (c, piece) in run.chunks_mut(CHUNK).enumerate() {
                    pieces[c].push(piece);
                }
            }
            items
                .par_chunks_mut(CHUNK)
                .zip(sketches.par_chunks_mut(CHUNK))
                .zip(examples.par_chunks(CHUNK))
                .zip(pieces.into_par_iter())
                .for_each_init(Scratch::default, |s, (((fps, sks), exs), mut runs)| {
                    for (k, ex) in exs.iter().enumerate() {
                        let (fp, sketch, row) = fingerprint(ex.borrow(), s);
                        fps[k] = fp;
                        sks[k] = sketch;
                        for (run, h) in runs.iter_mut().zip(row) {
                            run[k] = h;
                        }
                    }
                });
        }
        Self {
            items,
            sketches,
            bands,
        }
    }

    /// The hash of band `b` of example `i` (0 for an empty shingle set).
    pub fn band(&self, i: usize, b: usize) -> u64 {
        self.bands[b * self.items.len() + i]
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn key(&self, i: usize) -> [u8; 16] {
        self.items[i].key
    }

    /// False when the two examples' question-and-answer Jaccard similarity is surely
    /// below `t`: the sketch bounds the common shingles by the sum over buckets of the
    /// smaller count, and [`text::jaccard_at_least`] needs as many as this computes.
    fn may_reach(&self, i: usize, j: usize, t: f64) -> bool {
        let (a, b) = (&self.items[i], &self.items[j]);
        let (la, lb) = (a.size as usize, b.size as usize);
        if la == 0 && lb == 0 {
            return true;
        }
        let needed = (t * (la + lb) as f64 / (1.0 + t)).ceil() as usize;
        if la.min(lb) < needed {
            return false;
        }
        if a.saturated || b.saturated {
            return true;
        }
        let bound: u32 = self.sketches[i]
            .0
            .iter()
            .zip(&self.sketches[j].0)
            .map(|(&x, &y)| u32::from(x.min(y)))
            .sum();
        bound as usize >= needed
    }

    /// The candidate pairs whose exact question-and-answer Jaccard similarity is at least
    /// `t`, with it, in the order given. `examples` are the ones prepared.
    pub fn similar_pairs<E: Borrow<Example> + Sync>(
        &self,
        examples: &[E],
        pairs: &[(u32, u32)],
        t: f64,
    ) -> Vec<(u32, u32, f64)> {
        let survivors: Vec<(u32, u32)> = pairs
            .par_iter()
            .copied()
            .filter(|&(i, j)| self.may_reach(i as usize, j as usize, t))
            .collect();
        // In chunks, so the shingle sets held at once stay few whatever the data.
        let mut out = Vec::new();
        for chunk in survivors.chunks(1 << 14) {
            let mut members: Vec<u32> = chunk.iter().flat_map(|&(i, j)| [i, j]).collect();
            members.par_sort_unstable();
            members.dedup();
            let sets: Vec<Vec<u32>> = members
                .par_iter()
                .map_init(
                    || (String::new(), String::new()),
                    |(q, a), &i| {
                        text::fold_question_answer(examples[i as usize].borrow(), q, a);
                        text::shingle_set32(q, a)
                    },
                )
                .collect();
            let set = |i: u32| -> &[u32] {
                members
                    .binary_search(&i)
                    .map_or(&[][..], |k| sets[k].as_slice())
            };
            out.par_extend(chunk.par_iter().filter_map(|&(i, j)| {
                text::jaccard_at_least(set(i), set(j), t).map(|s| (i, j, s))
            }));
        }
        out
    }
}

fn fingerprint(ex: &Example, s: &mut Scratch) -> (Fingerprint, Sketch, Bands) {
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

    // Distinct 32-bit shingle hashes, by open addressing (the hashes are uniform, so
    // their low bits index the table directly).
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
    let mut counts = [0u8; SKETCH];
    let mut saturated = false;
    for &x in s.distinct.iter() {
        let c = &mut counts[(x >> 24) as usize];
        if *c == u8::MAX {
            saturated = true;
        } else {
            *c += 1;
        }
    }
    let fp = Fingerprint {
        key,
        question: digest(&s.question),
        answer: digest(&s.answer),
        size: s.distinct.len() as u32,
        saturated,
    };
    // MinHash takes the minimum per bin: the order of the set does not matter.
    let bands = minhash::Hasher::new().bands(&s.distinct);
    (fp, Sketch(counts), bands)
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
    fn key_digest_is_that_of_the_example_key() {
        let ex = Example::single_turn(
            Some("Sistema"),
            "Qual o prazo?",
            "Até 31/3.",
            Origin::line("a", 1),
        );
        let p = Prepared::new(std::slice::from_ref(&ex));
        let d = Sha256::digest(text::example_key(&ex).as_bytes());
        assert_eq!(p.key(0)[..], d[..16]);
    }

    #[test]
    fn sketch_never_rules_out_a_pair_at_the_threshold() {
        let q = "Qual o limite de faturamento do MEI para o ano de abertura?";
        let a = "O MEI pode faturar até R$ 81.000,00 por ano, ou R$ 6.750,00 por mês.";
        let exs = vec![
            Example::single_turn(None, q, a, Origin::line("a", 1)),
            Example::single_turn(None, "Quanto o MEI pode faturar?", a, Origin::line("a", 2)),
            Example::single_turn(
                None,
                "Qual o prazo da DEFIS?",
                "Até 31 de março.",
                Origin::line("a", 3),
            ),
        ];
        let p = Prepared::new(&exs);
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
}
