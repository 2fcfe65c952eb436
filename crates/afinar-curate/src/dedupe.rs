//! Exact and near duplicates, and conflicting answers.

use std::collections::HashMap;

use afinar_core::progress::{Progress, Silent};
use afinar_core::{Example, Origin};
use rayon::prelude::*;
use serde::Serialize;

use crate::prepared::{EXHAUSTIVE, Prepared, check_threshold};
use crate::{CurateError, DEFAULT_NEAR_THRESHOLD, minhash, text};

/// Identical answers in a bucket at most this big are compared pairwise on top of the LSH
/// candidates, so a reworded question with the same answer is always compared. Larger
/// buckets ("Sim.") are left to LSH to keep the work linear.
const SAME_ANSWER_BUCKET: usize = 64;

/// How duplicates are found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DedupeOptions {
    /// The near-duplicate threshold, or `None` for exact duplicates only.
    pub near: Option<f64>,
}

impl Default for DedupeOptions {
    fn default() -> Self {
        Self {
            near: Some(DEFAULT_NEAR_THRESHOLD),
        }
    }
}

/// The examples that survive, in input order, and what happened to the others.
#[derive(Debug)]
pub struct DedupeOutput {
    pub kept: Vec<Example>,
    /// Where each kept example was in the input (increasing), so a caller can carry
    /// its own data alongside.
    pub kept_indices: Vec<usize>,
    pub report: DedupeReport,
}

/// Everything dedupe decided, for the report file and the summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DedupeReport {
    pub examples: usize,
    pub kept: usize,
    pub dropped: usize,
    /// The near threshold used, or `null` with `--exact-only`.
    pub near_threshold: Option<f64>,
    /// One per kept example that absorbed others, in input order.
    pub groups: Vec<Group>,
    /// Kept examples that answer the same question differently, in input order.
    pub conflicts: Vec<Conflict>,
}

/// A kept example and the copies dropped in its favour.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    pub kept: Origin,
    pub dropped: Vec<Dropped>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Dropped {
    pub origin: Origin,
    /// Jaccard similarity to the kept example (1 for exact copies), rounded to 3 places.
    pub similarity: f64,
    pub reason: Reason,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// Every message equal after folding.
    Exact,
    /// Question and answer similar at or above the threshold, same figures.
    Near,
}

/// Examples kept side by side that answer the same (folded) question differently.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Conflict {
    /// The question as the first of them writes it.
    pub question: String,
    pub origins: Vec<Origin>,
    pub reason: ConflictReason,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConflictReason {
    /// The answers state different numbers (a limit, a rate, a date).
    DifferentFigures,
    /// The answers say different things.
    DifferentAnswers,
}

/// Removes exact and near duplicates, keeping the first copy in input order, and finds
/// conflicting answers.
pub fn dedupe(examples: Vec<Example>, opts: &DedupeOptions) -> Result<DedupeOutput, CurateError> {
    dedupe_reporting(examples, opts, &Silent)
}

/// [`dedupe`], telling `progress` how far each step got (examples fingerprinted, bands
/// searched, pairs compared).
pub fn dedupe_reporting(
    examples: Vec<Example>,
    opts: &DedupeOptions,
    progress: &dyn Progress,
) -> Result<DedupeOutput, CurateError> {
    run(examples, opts, false, progress).map(|(out, _)| out)
}

/// [`dedupe`], and what [`crate::split_with_links`] needs to split the kept examples
/// without folding, shingling and comparing them again. The output is the same as
/// [`dedupe`]'s.
pub fn dedupe_with_links(
    examples: Vec<Example>,
    opts: &DedupeOptions,
) -> Result<(DedupeOutput, KeptLinks), CurateError> {
    dedupe_with_links_reporting(examples, opts, &Silent)
}

/// [`dedupe_with_links`], telling `progress` how far each step got.
pub fn dedupe_with_links_reporting(
    examples: Vec<Example>,
    opts: &DedupeOptions,
    progress: &dyn Progress,
) -> Result<(DedupeOutput, KeptLinks), CurateError> {
    let (out, links) = run(examples, opts, true, progress)?;
    Ok((out, links.unwrap_or_default()))
}

/// What a split of dedupe's kept examples needs from dedupe: each one's content key and
/// the near-duplicate pairs among them, exactly as [`crate::split`] would find them at
/// the same threshold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeptLinks {
    /// The near threshold the links were found at (`None`: exact duplicates only).
    pub(crate) near: Option<f64>,
    /// Per kept example, in order.
    pub(crate) keys: Vec<[u8; 16]>,
    /// Pairs `(i, j)`, `i < j`, of kept examples at or above the threshold, sorted.
    pub(crate) links: Vec<(u32, u32)>,
}

impl KeptLinks {
    /// The number of kept examples these links describe.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn run(
    examples: Vec<Example>,
    opts: &DedupeOptions,
    want_links: bool,
    progress: &dyn Progress,
) -> Result<(DedupeOutput, Option<KeptLinks>), CurateError> {
    let threshold = opts.near.map(check_threshold).transpose()?;
    let mut prep = Prepared::new(&examples, threshold, progress);
    let n = prep.len();

    // rep[i]: the kept example that i is a copy of (itself when kept).
    let mut rep: Vec<usize> = (0..n).collect();
    let mut exact_first: HashMap<[u8; 16], usize> = HashMap::with_capacity(n);
    for (i, fp) in prep.items.iter().enumerate() {
        let first = *exact_first.entry(fp.key).or_insert(i);
        rep[i] = first;
    }
    drop(exact_first);
    let mut similarity = vec![1.0f64; n];
    let mut near = Near::default();

    if let Some(t) = threshold {
        let unique: Vec<bool> = (0..n).map(|i| rep[i] == i).collect();
        near = near_merges(&examples, &mut prep, t, &unique, want_links, progress);
        let merges = &near.merges;
        // Greedy in input order: an example joins the earliest kept example it matches,
        // so each dropped copy is itself at or above the threshold to the one kept.
        let mut k = 0;
        for j in 0..n {
            while k < merges.len() && merges[k].1 < j as u32 {
                k += 1;
            }
            let start = k;
            let mut end = k;
            while end < merges.len() && merges[end].1 == j as u32 {
                end += 1;
            }
            // merges is sorted by (j, i): the first kept i wins.
            if let Some(&(i, _, s)) = merges[start..end]
                .iter()
                .find(|m| rep[m.0 as usize] == m.0 as usize)
            {
                rep[j] = i as usize;
                similarity[j] = s;
            }
            k = end;
        }
        // Exact copies follow the example they copy, wherever it went.
        for i in 0..n {
            let first = rep[i];
            if first != i && prep.key(first) == prep.key(i) && rep[first] != first {
                rep[i] = rep[first];
                similarity[i] = similarity[first];
            }
        }
    }

    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        if rep[i] != i {
            members[rep[i]].push(i);
        }
    }
    let groups: Vec<Group> = members
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.is_empty())
        .map(|(k, m)| Group {
            kept: examples[k].origin.clone(),
            dropped: m
                .iter()
                .map(|&i| Dropped {
                    origin: examples[i].origin.clone(),
                    similarity: round3(similarity[i]),
                    reason: if prep.key(i) == prep.key(k) {
                        Reason::Exact
                    } else {
                        Reason::Near
                    },
                })
                .collect(),
        })
        .collect();
    drop(members);
    let conflicts = conflicts(&examples, &prep, &rep);
    let links = want_links.then(|| kept_links(&examples, &prep, &rep, threshold, near));

    let kept_indices: Vec<usize> = (0..n).filter(|&i| rep[i] == i).collect();
    let kept: Vec<Example> = examples
        .into_iter()
        .enumerate()
        .filter(|(i, _)| rep[*i] == *i)
        .map(|(_, e)| e)
        .collect();
    let report = DedupeReport {
        examples: n,
        kept: kept.len(),
        dropped: n - kept.len(),
        near_threshold: threshold,
        groups,
        conflicts,
    };
    Ok((
        DedupeOutput {
            kept,
            kept_indices,
            report,
        },
        links,
    ))
}

/// What the near-duplicate search found.
#[derive(Debug, Default)]
struct Near {
    /// Pairs that may be merged, sorted by `(j, i)`.
    merges: Vec<(u32, u32, f64)>,
    /// Candidate pairs (without the identical-answer ones), when links are wanted.
    lsh: minhash::Candidates,
    /// The candidates at or above the threshold, sorted.
    lsh_similar: Vec<(u32, u32)>,
}

/// Pairs `(i, j, similarity)`, `i < j`, both `unique`, that may be merged: question and
/// answer at or above `t`, answers alone at or above `t` (so one long question cannot
/// carry "Sim." and "Não." into one), and the same figures. Sorted by `(j, i)`.
fn near_merges(
    examples: &[Example],
    prep: &mut Prepared,
    t: f64,
    unique: &[bool],
    want_links: bool,
    progress: &dyn Progress,
) -> Near {
    // A pair whose answers hold different figures is never merged: without links to
    // find, such candidates are not even measured (on FAQ text, most of them).
    let figures_only = !want_links;
    let items = &prep.items;
    let lsh = prep.candidates(
        t,
        |i| {
            unique[i as usize].then(|| {
                if figures_only {
                    items[i as usize].figures
                } else {
                    0
                }
            })
        },
        |_, _| true,
        want_links,
        progress,
    );
    // The bands are done with: their signatures are a third of what dedupe holds.
    prep.release_lsh();
    // Identical answers: always compare (small buckets only).
    let items = &prep.items;
    let by_answer = by_digest(items.len(), |i| {
        (unique[i] && items[i].answer != 0).then_some(items[i].answer)
    });
    let mut same_answer: Vec<(u32, u32)> = Vec::new();
    for bucket in by_answer
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|b| b.len() > 1 && b.len() <= SAME_ANSWER_BUCKET)
    {
        for (x, &(_, i)) in bucket.iter().enumerate() {
            same_answer.extend(bucket[x + 1..].iter().map(|&(_, j)| (i, j)));
        }
    }
    drop(by_answer);
    let similar = if same_answer.is_empty() {
        prep.similar_pairs_reporting(examples, &lsh.pairs, t, progress)
    } else {
        same_answer.extend_from_slice(&lsh.pairs);
        same_answer.par_sort_unstable();
        same_answer.dedup();
        prep.similar_pairs_reporting(examples, &same_answer, t, progress)
    };
    drop(same_answer);
    let mut merges: Vec<(u32, u32, f64)> = similar
        .par_iter()
        .copied()
        .filter(|&(i, j, _)| {
            let (mut aa, mut ab) = (String::new(), String::new());
            text::fold_answer(&examples[i as usize], &mut aa);
            text::fold_answer(&examples[j as usize], &mut ab);
            text::numbers(&aa) == text::numbers(&ab)
                && text::jaccard(&text::shingles("", &aa), &text::shingles("", &ab)) >= t
        })
        .collect();
    merges.sort_unstable_by_key(|&(i, j, _)| (j, i));
    let lsh_similar = if want_links {
        similar
            .iter()
            .filter(|&&(i, j, _)| lsh.pairs.binary_search(&(i, j)).is_ok())
            .map(|&(i, j, _)| (i, j))
            .collect()
    } else {
        Vec::new()
    };
    Near {
        merges,
        lsh: if want_links { lsh } else { Default::default() },
        lsh_similar,
    }
}

/// The links among kept examples that [`crate::split`] would find on them: the similar
/// candidate pairs of dedupe whose ends are both kept, and the pairs of buckets dedupe
/// skipped as too big that the dropped examples shrink back under
/// [`minhash::MAX_BUCKET`]. When few enough examples are kept for split to compare every
/// pair, every pair of them. (On large inputs split alone weighs shingles by how common
/// they are among the kept examples, dedupe among all of them: a pair near the threshold
/// can then be a candidate for one and not the other, as rarely as the LSH misses one.)
fn kept_links(
    examples: &[Example],
    prep: &Prepared,
    rep: &[usize],
    threshold: Option<f64>,
    near: Near,
) -> KeptLinks {
    let kept = |i: u32| rep[i as usize] == i as usize;
    let mut new_index = vec![u32::MAX; rep.len()];
    let mut keys = Vec::new();
    for (i, &r) in rep.iter().enumerate() {
        if r == i {
            new_index[i] = keys.len() as u32;
            keys.push(prep.key(i));
        }
    }
    if let Some(t) = threshold
        && keys.len() <= EXHAUSTIVE
        && !prep.is_exhaustive()
    {
        let pairs = prep.all_pairs(t, |i| kept(i).then_some(0), |_, _| true);
        let links = prep
            .similar_pairs(examples, &pairs, t)
            .into_iter()
            .map(|(i, j, _)| (new_index[i as usize], new_index[j as usize]))
            .collect();
        return KeptLinks {
            near: threshold,
            keys,
            links,
        };
    }
    let mut links: Vec<(u32, u32)> = near
        .lsh_similar
        .iter()
        .filter(|&&(i, j)| kept(i) && kept(j))
        .map(|&(i, j)| (new_index[i as usize], new_index[j as usize]))
        .collect();
    if let Some(t) = threshold {
        let mut extra: Vec<(u32, u32)> = Vec::new();
        for bucket in &near.lsh.skipped {
            let members: Vec<u32> = bucket.iter().copied().filter(|&i| kept(i)).collect();
            if members.len() < 2 || members.len() > minhash::MAX_BUCKET {
                continue;
            }
            for (x, &i) in members.iter().enumerate() {
                for &j in &members[x + 1..] {
                    if near.lsh.pairs.binary_search(&(i, j)).is_err() {
                        extra.push((i, j));
                    }
                }
            }
        }
        extra.par_sort_unstable();
        extra.dedup();
        let extra = prep.reachable(&extra, t);
        links.extend(
            prep.similar_pairs(examples, &extra, t)
                .into_iter()
                .map(|(i, j, _)| (new_index[i as usize], new_index[j as usize])),
        );
        links.sort_unstable();
        links.dedup();
    }
    KeptLinks {
        near: threshold,
        keys,
        links,
    }
}

fn conflicts(examples: &[Example], prep: &Prepared, rep: &[usize]) -> Vec<Conflict> {
    let items = &prep.items;
    let by_question = by_digest(items.len(), |i| {
        (rep[i] == i && items[i].question != 0).then_some(items[i].question)
    });
    let answer = |i: u32| items[i as usize].answer;
    let groups: Vec<Vec<usize>> = by_question
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|m| m.len() > 1 && m.iter().any(|&(_, i)| answer(i) != answer(m[0].1)))
        .map(|m| m.iter().map(|&(_, i)| i as usize).collect())
        .collect();
    drop(by_question);
    // On every core, folding only the answers: thousands of groups on large inputs.
    let mut found: Vec<(usize, Conflict)> = groups
        .into_par_iter()
        .map(|m| {
            let answers: Vec<String> = m
                .iter()
                .map(|&i| {
                    let mut answer = String::new();
                    text::fold_answer(&examples[i], &mut answer);
                    answer
                })
                .collect();
            // Figures differ when answers that both state figures state different ones.
            let figures: Vec<Vec<&str>> = answers
                .iter()
                .map(|a| text::numbers(a))
                .filter(|f| !f.is_empty())
                .collect();
            let reason = if figures.iter().any(|f| *f != figures[0]) {
                ConflictReason::DifferentFigures
            } else {
                ConflictReason::DifferentAnswers
            };
            let conflict = Conflict {
                question: examples[m[0]].question().unwrap_or_default().to_owned(),
                origins: m.iter().map(|&i| examples[i].origin.clone()).collect(),
                reason,
            };
            (m[0], conflict)
        })
        .collect();
    found.sort_by_key(|(first, _)| *first);
    found.into_iter().map(|(_, c)| c).collect()
}

/// The examples `0..n` that have a digest, as `(digest, index)` sorted: those sharing a
/// digest are together, in index order. Sorted on every core, where a map of index lists
/// made an allocation per example on one core.
fn by_digest(n: usize, digest: impl Fn(usize) -> Option<u128> + Sync) -> Vec<(u128, u32)> {
    let mut keyed: Vec<(u128, u32)> = (0..n)
        .into_par_iter()
        .filter_map(|i| digest(i).map(|d| (d, i as u32)))
        .collect();
    keyed.par_sort_unstable();
    keyed
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use afinar_core::Origin;

    use super::*;
    use crate::{SplitOptions, split, split_with_links};

    /// Letters only, so suffixes change shingles and never figures.
    fn serial(n: usize) -> String {
        n.to_string()
            .chars()
            .map(|c| ['q', 'w', 'x', 'z', 'k', 'y', 'j', 'v', 'b', 'h'][c as usize - '0' as usize])
            .collect()
    }

    /// Every piece of work begun, with its total and the units advanced in it.
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<(String, Option<u64>, u64)>>);

    impl afinar_core::progress::Progress for Recorder {
        fn begin(&self, stage: &str, total: Option<u64>, _: afinar_core::progress::Unit) {
            self.0.lock().unwrap().push((stage.to_owned(), total, 0));
        }
        fn advance(&self, n: u64) {
            if let Some(last) = self.0.lock().unwrap().last_mut() {
                last.2 += n;
            }
        }
    }

    #[test]
    fn progress_counts_every_step_to_its_total_and_changes_nothing() {
        let n = crate::prepared::EXHAUSTIVE + 300;
        let word = |k: usize, w: u64| serial((text::mix64(k as u64 * 4 + w) % 10_000_000) as usize);
        let exs: Vec<Example> = (0..n)
            .map(|k| {
                // Every tenth example rewords the one before it.
                let base = k - usize::from(k % 10 == 9);
                Example::single_turn(
                    None,
                    format!(
                        "Pergunta {} sobre {} {}?",
                        word(base, 0),
                        word(base, 1),
                        k % 10 == 9
                    ),
                    format!(
                        "Resposta {} e {} e {}.",
                        word(base, 2),
                        word(base, 3),
                        word(base, 1)
                    ),
                    Origin::line("big.jsonl", k as u64 + 1),
                )
            })
            .collect();
        let opts = DedupeOptions::default();
        let heard = Recorder::default();
        let with = dedupe_reporting(exs.clone(), &opts, &heard).unwrap_or_else(|e| panic!("{e}"));
        let without = dedupe(exs, &opts).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(with.report, without.report);
        assert!(with.report.dropped > 0, "{:?}", with.report);
        let heard = heard.0.into_inner().unwrap();
        let names: Vec<&str> = heard.iter().map(|(s, _, _)| s.as_str()).collect();
        assert_eq!(names[0], "Fingerprinting 2,348 examples");
        assert_eq!(names[1], "Looking for near duplicates");
        assert!(names[2].starts_with("Comparing "), "{names:?}");
        for (stage, total, done) in &heard {
            assert_eq!(Some(*done), *total, "{stage}");
        }
        assert_eq!(
            heard[1].1,
            Some(minhash::Banding::for_threshold(0.5).bands as u64)
        );
    }

    #[test]
    fn links_cover_buckets_that_dropped_examples_had_made_too_big() {
        let question = "Como funciona a apuração do Simples Nacional para uma empresa que presta serviços e também vende mercadorias no mesmo mês?";
        let answer = "A receita de cada atividade é segregada no PGDAS-D: as vendas de mercadorias seguem o Anexo I e os serviços o anexo próprio da atividade, com a alíquota efetiva calculada sobre a receita bruta acumulada dos doze meses anteriores ao período de apuração, somando todas as atividades do estabelecimento e das filiais, e o valor devido é pago em guia única até o dia vinte do mês seguinte";
        let mut exs = Vec::new();
        let mut push = |system: Option<String>, answer: String| {
            let line = exs.len() as u64 + 1;
            exs.push(Example::single_turn(
                system.as_deref(),
                question,
                answer,
                Origin::line("big.jsonl", line),
            ));
        };
        // Answers ending in five, six or seven x's have the same shingles, so the same
        // bands, but are different answers.
        let ending =
            |xs: usize, figure: u8| format!("{answer} {}, limite {figure}.", "x".repeat(xs));
        // Kept: two examples that differ in a figure, so dedupe keeps both, though they
        // are near duplicates.
        push(None, ending(5, 1));
        push(None, ending(5, 2));
        // Dropped: copies of the first under other system prompts (an identical answer,
        // so dedupe compares them directly), filling every band's bucket past the cap.
        for k in 0..60 {
            push(Some(format!("Sistema {}", serial(k))), ending(5, 1));
        }
        // Two more families like it, each merged into its first example. Those two
        // stay, with the same bands as the first example: they met it only in buckets
        // too big to compare, so only the links of the shrunk buckets join them.
        for xs in [6, 7] {
            for k in 0..30 {
                push(Some(format!("Sistema {}", serial(k))), ending(xs, 1));
            }
        }
        // Unrelated examples, enough for dedupe and split to search by LSH, not by
        // comparing every pair.
        let filler = crate::prepared::EXHAUSTIVE + 100;
        let word = |k: usize, w: u64| serial((text::mix64(k as u64 * 4 + w) % 10_000_000) as usize);
        for k in 0..filler {
            let line = exs.len() as u64 + 1;
            exs.push(Example::single_turn(
                None,
                format!("Pergunta {} sobre {}?", word(k, 0), word(k, 1)),
                format!("Resposta {} e {}.", word(k, 2), word(k, 3)),
                Origin::line("big.jsonl", line),
            ));
        }
        let opts = DedupeOptions { near: Some(0.5) };
        let (out, links) = dedupe_with_links(exs, &opts).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.kept.len(), 4 + filler);
        let sopts = SplitOptions::default();
        let alone = split(&out.kept, &sopts).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(alone.joined_groups, 1, "{alone:?}");
        let linked = split_with_links(&out.kept, &links, &sopts).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(linked, alone);
    }
}
