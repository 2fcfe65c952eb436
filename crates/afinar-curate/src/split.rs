//! A seeded, stratified split that never puts near duplicates on both sides.
//!
//! Decisions never depend on input order or thread count: examples are joined into
//! groups (exact and near duplicates, transitively), each group is ranked by a seeded
//! hash of its content, and each stratum sends its lowest-ranked groups to validation
//! until its share is met.

use std::collections::{BTreeMap, BTreeSet};

use std::borrow::Borrow;

use afinar_core::Example;
use rayon::prelude::*;
use serde::Serialize;

use crate::dedupe::KeptLinks;
use crate::prepared::{Prepared, check_threshold};
use crate::{CurateError, DEFAULT_NEAR_THRESHOLD, text};

/// How big the validation set is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Validation {
    /// A share of all examples, strictly between 0 and 1.
    Fraction(f64),
    /// A number of examples.
    Count(usize),
}

/// A validation size that is neither a fraction nor a count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is neither a fraction (such as 0.1 or 10%) nor a count (such as 50)")]
pub struct BadValidation(pub String);

impl std::str::FromStr for Validation {
    type Err = BadValidation;

    /// `0.1` or `10%` is a fraction, `50` a count.
    fn from_str(s: &str) -> Result<Self, BadValidation> {
        let s = s.trim();
        let bad = || BadValidation(s.to_owned());
        if let Some(pct) = s.strip_suffix('%') {
            let p: f64 = pct.trim().parse().map_err(|_| bad())?;
            return Ok(Self::Fraction(p / 100.0));
        }
        if let Ok(n) = s.parse::<usize>() {
            return Ok(Self::Count(n));
        }
        s.parse::<f64>().map(Self::Fraction).map_err(|_| bad())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SplitOptions {
    pub validation: Validation,
    pub seed: u64,
    /// The meta field whose values are the strata.
    pub stratify: Option<String>,
    /// Near duplicates at or above this similarity stay on one side; `None` joins exact
    /// duplicates only.
    pub near: Option<f64>,
}

impl Default for SplitOptions {
    fn default() -> Self {
        Self {
            validation: Validation::Fraction(0.1),
            seed: 42,
            stratify: None,
            near: Some(DEFAULT_NEAR_THRESHOLD),
        }
    }
}

/// Indices into the input, each list in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Split {
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
    /// Sizes per stratum, by name (one stratum named `all` when not stratified).
    pub strata: Vec<Stratum>,
    /// Groups of two or more examples kept on one side because they are duplicates.
    pub joined_groups: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stratum {
    /// The field's value; empty for examples without the field.
    pub name: String,
    pub total: usize,
    pub train: usize,
    pub validation: usize,
}

/// Splits examples into training and validation.
pub fn split<E: Borrow<Example> + Sync>(
    examples: &[E],
    opts: &SplitOptions,
) -> Result<Split, CurateError> {
    split_reporting(examples, opts, &afinar_core::progress::Silent)
}

/// [`split`], telling `progress` how far the search for near duplicates got.
pub fn split_reporting<E: Borrow<Example> + Sync>(
    examples: &[E],
    opts: &SplitOptions,
    progress: &dyn afinar_core::progress::Progress,
) -> Result<Split, CurateError> {
    let (wanted, threshold) = check(examples, opts)?;
    let prep = Prepared::new(examples, threshold, progress);
    let keys: Vec<[u8; 16]> = prep.items.iter().map(|f| f.key).collect();
    let links = match threshold {
        Some(t) => near_links(examples, &prep, t, progress),
        None => Vec::new(),
    };
    drop(prep);
    Ok(assign(examples, &keys, &links, wanted, opts))
}

/// [`split`] of the examples [`crate::dedupe_with_links`] kept, with the links it found:
/// the same result without folding and comparing the examples again. Falls back to
/// [`split`] when the links were found at another threshold or for other examples.
pub fn split_with_links<E: Borrow<Example> + Sync>(
    examples: &[E],
    links: &KeptLinks,
    opts: &SplitOptions,
) -> Result<Split, CurateError> {
    if links.keys.len() != examples.len() || links.near != opts.near {
        return split(examples, opts);
    }
    let (wanted, _) = check(examples, opts)?;
    Ok(assign(examples, &links.keys, &links.links, wanted, opts))
}

/// The validation size asked for and the near threshold, checked.
fn check<E: Borrow<Example>>(
    examples: &[E],
    opts: &SplitOptions,
) -> Result<(usize, Option<f64>), CurateError> {
    let n = examples.len();
    if n < 2 {
        return Err(CurateError::TooFew { total: n });
    }
    let wanted = match opts.validation {
        Validation::Fraction(f) if f.is_finite() && f > 0.0 && f < 1.0 => {
            ((f * n as f64).round() as usize).clamp(1, n - 1)
        }
        Validation::Fraction(f) => return Err(CurateError::Fraction { value: f }),
        Validation::Count(c) if c >= 1 && c < n => c,
        Validation::Count(c) => return Err(CurateError::Count { count: c, total: n }),
    };
    let threshold = opts.near.map(check_threshold).transpose()?;
    if let Some(field) = &opts.stratify
        && !examples.iter().any(|e| e.borrow().meta.contains_key(field))
    {
        let present: BTreeSet<&str> = examples
            .iter()
            .flat_map(|e| e.borrow().meta.keys().map(String::as_str))
            .collect();
        let present = if present.is_empty() {
            "none (JSONL written by afinar carries no meta; split the source CSV or JSONL)"
                .to_owned()
        } else {
            present
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(CurateError::NoStratum {
            field: field.clone(),
            present,
        });
    }
    Ok((wanted, threshold))
}

/// Near-duplicate pairs at or above `t` among the first example of each exact key.
fn near_links<E: Borrow<Example> + Sync>(
    examples: &[E],
    prep: &Prepared,
    t: f64,
    progress: &dyn afinar_core::progress::Progress,
) -> Vec<(u32, u32)> {
    let n = prep.len();
    let mut first: std::collections::HashMap<[u8; 16], usize> =
        std::collections::HashMap::with_capacity(n);
    let mut unique = vec![true; n];
    for (i, fp) in prep.items.iter().enumerate() {
        if *first.entry(fp.key).or_insert(i) != i {
            unique[i] = false;
        }
    }
    drop(first);
    // One example per exact key is enough to find the near pairs.
    let pairs = prep
        .candidates(
            t,
            |i| unique[i as usize].then_some(0),
            |_, _| true,
            false,
            progress,
        )
        .pairs;
    prep.similar_pairs_reporting(examples, &pairs, t, progress)
        .into_iter()
        .map(|(i, j, _)| (i, j))
        .collect()
}

/// Groups the examples by their keys and links, ranks the groups, and fills each
/// stratum's validation quota.
fn assign<E: Borrow<Example> + Sync>(
    examples: &[E],
    keys: &[[u8; 16]],
    links: &[(u32, u32)],
    wanted: usize,
    opts: &SplitOptions,
) -> Split {
    let n = examples.len();
    let groups = groups(keys, links);

    // Each example's stratum, read in input order on every core: read in rank order,
    // each example's fields were a cache miss, most of a split given dedupe's links.
    let strata_of: Vec<&str> = examples
        .par_iter()
        .map(|e| match &opts.stratify {
            None => "all",
            Some(field) => e.borrow().meta.get(field).map_or("", |v| v.trim()),
        })
        .collect();

    // Rank: a seeded hash of the group's smallest content key; the key breaks ties. A
    // group's stratum is that of its member with the smallest content key.
    let mut ranked: Vec<(u64, [u8; 16], usize, &Vec<usize>)> = groups
        .par_iter()
        .map(|g| {
            let first = g.iter().copied().min_by_key(|&i| keys[i]).unwrap_or(0);
            (
                text::hash_bytes(&keys[first], opts.seed),
                keys[first],
                first,
                g,
            )
        })
        .collect();
    ranked.par_sort_unstable_by_key(|a| (a.0, a.1));
    let mut by_stratum: BTreeMap<&str, Vec<&Vec<usize>>> = BTreeMap::new();
    for &(_, _, first, g) in &ranked {
        by_stratum.entry(strata_of[first]).or_default().push(g);
    }

    let sizes: Vec<usize> = by_stratum
        .values()
        .map(|gs| gs.iter().map(|g| g.len()).sum())
        .collect();
    let quotas = quotas(&sizes, wanted, n);
    let mut in_validation = vec![false; n];
    let mut strata = Vec::with_capacity(by_stratum.len());
    for ((name, gs), (&total, &quota)) in by_stratum.iter().zip(sizes.iter().zip(&quotas)) {
        let mut taken = 0;
        for g in gs {
            if taken + g.len() <= quota {
                taken += g.len();
                for &i in g.iter() {
                    in_validation[i] = true;
                }
            }
            if taken == quota {
                break;
            }
        }
        strata.push(Stratum {
            name: (*name).to_owned(),
            total,
            train: total - taken,
            validation: taken,
        });
    }
    let (validation, train): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| in_validation[i]);
    Split {
        train,
        validation,
        strata,
        joined_groups: groups.iter().filter(|g| g.len() > 1).count(),
    }
}

/// Validation examples per stratum: proportional by largest remainder (ties to the
/// earlier stratum), then at least one on each side of every stratum of two or more.
/// Each quota is within one example of its exact share.
fn quotas(sizes: &[usize], wanted: usize, total: usize) -> Vec<usize> {
    let exact: Vec<f64> = sizes
        .iter()
        .map(|&s| s as f64 * wanted as f64 / total as f64)
        .collect();
    let mut q: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let short = wanted.saturating_sub(q.iter().sum());
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &s in order.iter().take(short) {
        q[s] += 1;
    }
    for (q, &size) in q.iter_mut().zip(sizes) {
        if size >= 2 {
            *q = (*q).clamp(1, size - 1);
        }
    }
    q
}

/// Examples joined by exact or near duplication, transitively: a union-find over every
/// matching pair, so the groups do not depend on input order.
fn groups(keys: &[[u8; 16]], links: &[(u32, u32)]) -> Vec<Vec<usize>> {
    let n = keys.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let union = |parent: &mut Vec<usize>, a: usize, b: usize| {
        let (ra, rb) = (find(parent, a), find(parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    };
    let mut first: std::collections::HashMap<[u8; 16], usize> =
        std::collections::HashMap::with_capacity(n);
    for (i, key) in keys.iter().enumerate() {
        let f = *first.entry(*key).or_insert(i);
        if f != i {
            union(&mut parent, f, i);
        }
    }
    drop(first);
    for &(i, j) in links {
        union(&mut parent, i as usize, j as usize);
    }
    // The root is the smallest member, so groups appear in order of their roots.
    let mut group_of = vec![usize::MAX; n];
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in 0..n {
        let root = find(&mut parent, i);
        if root == i {
            group_of[i] = groups.len();
            groups.push(vec![i]);
        } else {
            groups[group_of[root]].push(i);
        }
    }
    groups
}
