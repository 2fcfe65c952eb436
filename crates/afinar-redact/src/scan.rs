//! Detection: numbers (CPF, CNPJ, phones), e-mails and listed names.
//!
//! Numbers are found without regexes: the text is cut into *runs* of digit groups joined
//! by one `.`, `-`, `/` or space (a 2–3 digit group may sit in parentheses, an area code).
//! `.`, `-` and `/` glue a number together, so a candidate is a stretch of a run that
//! starts and ends at a space or at the run's edges: `4.800.000,00` or
//! `0001234-56.2024.8.26.0100` can never yield a CPF from their middle, while
//! `ano 2024 529.982.247-25` still does. Each candidate is then matched against the
//! formats of CNPJ, CPF and phone numbers and confirmed (check digits, area codes).

use std::ops::Range;

use afinar_core::{Example, Message, Preference, Role};
use serde::Serialize;

use crate::digits::{is_ddd, is_valid_cnpj, is_valid_cpf};
use crate::mask::preview;
use crate::names::NameList;
use crate::{Finding, Kind, KindSet};

/// Finds personal data in text. Cheap to clone; `Sync`, so one scanner serves all threads.
#[derive(Debug, Clone)]
pub struct Scanner {
    kinds: KindSet,
    names: Option<NameList>,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

/// A finding inside one message of an example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageFinding {
    /// 0-based index into the example's messages (for a [`Preference`]: the input
    /// messages, then the preferred, then the non-preferred reply).
    pub message: usize,
    pub role: Role,
    #[serde(flatten)]
    pub finding: Finding,
}

/// A finding inside a string of a JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsonFinding {
    /// Where the string is: `messages[1].content`, `prompt`, `preferred_output[0].content`.
    pub path: String,
    #[serde(flatten)]
    pub finding: Finding,
}

/// One step of a JSON path, linked to its parent on the stack.
struct PathStep<'a> {
    parent: Option<&'a PathStep<'a>>,
    seg: Seg<'a>,
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

impl PathStep<'_> {
    /// `messages[1].content`.
    fn spell(at: Option<&PathStep<'_>>) -> String {
        let mut steps = Vec::new();
        let mut cur = at;
        while let Some(step) = cur {
            steps.push(&step.seg);
            cur = step.parent;
        }
        let mut path = String::new();
        for seg in steps.into_iter().rev() {
            match seg {
                Seg::Key(k) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                }
                Seg::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        path
    }
}

impl Scanner {
    /// Looks for every kind (names only once a list is given with [`Scanner::with_names`]).
    pub fn new() -> Self {
        Self {
            kinds: KindSet::ALL,
            names: None,
        }
    }

    /// Also finds the names in `names` (case- and accent-insensitive, whole words).
    pub fn with_names(mut self, names: NameList) -> Self {
        self.names = Some(names);
        self
    }

    /// Only reports these kinds.
    pub fn with_kinds(mut self, kinds: KindSet) -> Self {
        self.kinds = kinds;
        self
    }

    pub fn kinds(&self) -> KindSet {
        self.kinds
    }

    /// The findings in `text`, in text order, never overlapping.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        self.scan_into(text, &mut out);
        out
    }

    /// Like [`Scanner::scan`], appending to `out` (reuse one vector across many texts).
    pub fn scan_into(&self, text: &str, out: &mut Vec<Finding>) {
        let mut raw: Vec<(Kind, Range<usize>)> = Vec::new();
        let numbers = self.kinds.contains(Kind::Cpf)
            || self.kinds.contains(Kind::Cnpj)
            || self.kinds.contains(Kind::Phone);
        if numbers {
            scan_numbers(text, &mut raw);
        }
        if self.kinds.contains(Kind::Email) {
            scan_emails(text, &mut raw);
        }
        if self.kinds.contains(Kind::Name)
            && let Some(names) = &self.names
        {
            names.find(text, &mut raw);
        }
        if raw.is_empty() {
            return;
        }
        raw.retain(|(k, _)| self.kinds.contains(*k));
        // Earliest first; at the same start the longer wins (`12345678909@x.com` is an e-mail).
        raw.sort_by(|a, b| a.1.start.cmp(&b.1.start).then(b.1.end.cmp(&a.1.end)));
        let mut last_end = 0;
        for (kind, range) in raw {
            if range.start < last_end {
                continue;
            }
            last_end = range.end;
            let preview = preview(kind, &text[range.clone()]);
            out.push(Finding {
                kind,
                range,
                preview,
            });
        }
    }

    /// Findings in every message of an example.
    pub fn scan_example(&self, example: &Example) -> Vec<MessageFinding> {
        self.scan_messages(example.messages.iter())
    }

    /// Findings in every message of a DPO example (input, preferred, non-preferred).
    pub fn scan_preference(&self, p: &Preference) -> Vec<MessageFinding> {
        self.scan_messages(p.input.iter().chain([&p.preferred, &p.non_preferred]))
    }

    /// Findings in every string value of a JSON document (one JSONL line, whatever its
    /// format: chat, prompt/completion, DPO, tool calls), in document order. Object keys
    /// and `role` values are not scanned.
    pub fn scan_json(&self, value: &serde_json::Value) -> Vec<JsonFinding> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        self.walk_json(value, None, &mut buf, &mut out);
        out
    }

    /// The path is a chain of stack frames, spelt out only for a finding: building it as
    /// a string for every value cost as much as the scan itself.
    fn walk_json(
        &self,
        value: &serde_json::Value,
        at: Option<&PathStep<'_>>,
        buf: &mut Vec<Finding>,
        out: &mut Vec<JsonFinding>,
    ) {
        use serde_json::Value;
        match value {
            Value::String(s) => {
                buf.clear();
                self.scan_into(s, buf);
                if !buf.is_empty() {
                    let path = PathStep::spell(at);
                    out.extend(buf.drain(..).map(|finding| JsonFinding {
                        path: path.clone(),
                        finding,
                    }));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let step = PathStep {
                        parent: at,
                        seg: Seg::Index(i),
                    };
                    self.walk_json(item, Some(&step), buf, out);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    if key == "role" {
                        continue;
                    }
                    let step = PathStep {
                        parent: at,
                        seg: Seg::Key(key),
                    };
                    self.walk_json(item, Some(&step), buf, out);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    fn scan_messages<'a>(
        &self,
        messages: impl Iterator<Item = &'a Message>,
    ) -> Vec<MessageFinding> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        for (i, m) in messages.enumerate() {
            buf.clear();
            self.scan_into(&m.content, &mut buf);
            out.extend(buf.drain(..).map(|finding| MessageFinding {
                message: i,
                role: m.role,
                finding,
            }));
        }
        out
    }
}

/// The alphanumeric CNPJ (issued since July 2026), formatted: `12.ABC.345/01DE-35`,
/// starting at `start`; tried where a run of exactly two digits follows a `-` (its check
/// digits). All-digit CNPJs are found with the other numbers.
fn alnum_cnpj_at(b: &[u8], start: usize) -> Option<Range<usize>> {
    const SHAPE: &[u8; 18] = b"xx.xxx.xxx/xxxx-dd";
    let end = start + SHAPE.len();
    let cand = b.get(start..end)?;
    let fits = cand.iter().zip(SHAPE).all(|(c, s)| match s {
        b'x' => c.is_ascii_digit() || c.is_ascii_uppercase(),
        b'd' => c.is_ascii_digit(),
        s => c == s,
    });
    let alone = start
        .checked_sub(1)
        .is_none_or(|i| !b[i].is_ascii_alphanumeric())
        && b.get(end).is_none_or(|c| !c.is_ascii_alphanumeric());
    if !(fits && alone && cand.iter().any(u8::is_ascii_uppercase)) {
        return None;
    }
    let v: Vec<u8> = cand
        .iter()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c - b'0')
        .collect();
    is_valid_cnpj(&v).then_some(start..end)
}

// ---------------------------------------------------------------------------------------
// Numbers

#[derive(Debug, Clone, Copy)]
struct Group {
    /// Span including the parentheses of a parenthesised group.
    start: usize,
    end: usize,
    /// The digits.
    ds: usize,
    de: usize,
    /// `(11)`: an area code in parentheses.
    paren: bool,
    /// What joins it to the previous group: `.` `-` `/` space, `)` (right after a
    /// parenthesised group), `(` (space and an unclosed parenthesis); 0 for the first.
    sep: u8,
}

impl Group {
    fn len(&self) -> usize {
        self.de - self.ds
    }
}

/// Where a candidate may begin or end inside a run.
fn is_soft(sep: u8) -> bool {
    matches!(sep, b' ' | b'(')
}

/// No candidate has more digits than `+55 (11) 91234-5678`'s 13 or a CNPJ's 14.
const MAX_DIGITS: usize = 14;
/// Nor fewer than a landline without area code.
const MIN_DIGITS: usize = 8;
/// Nor more groups than a spaced CNPJ (`12 345 678 0001 95`).
const MAX_GROUPS: usize = 5;

fn scan_numbers(text: &str, out: &mut Vec<(Kind, Range<usize>)>) {
    let b = text.as_bytes();
    let mut groups: Vec<Group> = Vec::new();
    let mut digits = Digits::new(b);
    let mut i = 0;
    while let Some(start) = digits.next(i) {
        // Fast path for the commonest run, a short lone number (`2024`, `81`, `18`).
        let q = digits.run_end(start);
        let lone = match b.get(q) {
            None => true,
            Some(b'.' | b'-' | b'/' | b' ' | b')') => !b
                .get(q + 1)
                .is_some_and(|c| c.is_ascii_digit() || *c == b'('),
            Some(_) => true,
        };
        if q - start == 2
            && start >= 16
            && b[start - 1] == b'-'
            && let Some(range) = alnum_cnpj_at(b, start - 16)
        {
            out.push((Kind::Cnpj, range));
        }
        let opened = start > 0 && b[start - 1] == b'(';
        if lone && !opened && q - start < MIN_DIGITS {
            i = q;
            continue;
        }
        let end = parse_run(b, start, &mut groups);
        let total: usize = groups.iter().map(Group::len).sum();
        if total >= MIN_DIGITS {
            classify_run(text, &groups, out);
        }
        i = end;
    }
}

/// The ASCII digits of a text as bit masks, 64 bytes at a time. Prose has a number every
/// ~50 bytes: one mask finds the next digit and the end of its run without a byte loop.
struct Digits<'a> {
    b: &'a [u8],
    /// The first byte the mask covers.
    base: usize,
    /// Bit `k` set: `b[base + k]` is a digit.
    mask: u64,
}

impl<'a> Digits<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self {
            b,
            base: 0,
            mask: digit_mask(b),
        }
    }

    fn load(&mut self, base: usize) {
        self.base = base;
        self.mask = digit_mask(self.b.get(base..).unwrap_or_default());
    }

    /// The first digit at or after `from`.
    fn next(&mut self, from: usize) -> Option<usize> {
        if from < self.base || from >= self.base + 64 {
            self.load(from);
        }
        let mut m = self.mask & (u64::MAX << (from - self.base));
        loop {
            if m != 0 {
                return Some(self.base + m.trailing_zeros() as usize);
            }
            if self.base + 64 >= self.b.len() {
                return None;
            }
            self.load(self.base + 64);
            m = self.mask;
        }
    }

    /// Where the run of digits that starts at `start` (just returned by `next`) ends.
    fn run_end(&self, start: usize) -> usize {
        let off = start - self.base;
        let ones = (!(self.mask >> off)).trailing_zeros() as usize;
        let mut q = start + ones;
        if off + ones == 64 {
            // The run reaches the end of the block.
            while q < self.b.len() && self.b[q].is_ascii_digit() {
                q += 1;
            }
        }
        q
    }
}

/// Bit `k` set where `b[k]` is an ASCII digit, for the first 64 bytes of `b`.
fn digit_mask(b: &[u8]) -> u64 {
    match b.first_chunk::<64>() {
        Some(block) => block_mask(block),
        None => {
            // The tail (and any short text), zero-padded: a byte loop here cost more
            // than all the full blocks.
            let mut block = [0u8; 64];
            block[..b.len()].copy_from_slice(b);
            block_mask(&block)
        }
    }
}

/// SSE2, 16 bytes per compare: `c - '0'` is a digit when `min(c - '0', 9)` leaves it be.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
fn block_mask(block: &[u8; 64]) -> u64 {
    use safe_arch::{
        cmp_eq_mask_i8_m128i, load_unaligned_m128i, min_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i, sub_i8_m128i,
    };
    let zero = set_splat_i8_m128i(b'0' as i8);
    let nine = set_splat_i8_m128i(9);
    let mut m = 0u64;
    for (k, part) in block.as_chunks::<16>().0.iter().enumerate() {
        let d = sub_i8_m128i(load_unaligned_m128i(part), zero);
        let is_digit = cmp_eq_mask_i8_m128i(min_u8_m128i(d, nine), d);
        m |= u64::from(move_mask_i8_m128i(is_digit) as u16) << (16 * k);
    }
    m
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn block_mask(block: &[u8; 64]) -> u64 {
    block
        .iter()
        .enumerate()
        .fold(0, |m, (k, c)| m | u64::from(c.is_ascii_digit()) << k)
}

/// Reads the run starting at the digit `first`; returns where it ends.
fn parse_run(b: &[u8], first: usize, groups: &mut Vec<Group>) -> usize {
    groups.clear();
    let mut p = first;
    let mut sep = 0u8;
    loop {
        let mut q = p;
        while q < b.len() && b[q].is_ascii_digit() {
            q += 1;
        }
        let opened = p > 0 && b[p - 1] == b'(';
        let paren = opened && (2..=3).contains(&(q - p)) && b.get(q) == Some(&b')');
        let (start, end) = if paren { (p - 1, q + 1) } else { (p, q) };
        if opened && !paren && sep == b' ' {
            sep = b'(';
        }
        groups.push(Group {
            start,
            end,
            ds: p,
            de: q,
            paren,
            sep,
        });
        let digit_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
        match b.get(end) {
            Some(&c @ (b'.' | b'-' | b'/' | b' ')) if digit_at(end + 1) => {
                sep = c;
                p = end + 1;
            }
            Some(b' ') if b.get(end + 1) == Some(&b'(') && digit_at(end + 2) => {
                sep = b' ';
                p = end + 2;
            }
            Some(c) if paren && c.is_ascii_digit() => {
                sep = b')';
                p = end;
            }
            _ => return end,
        }
    }
}

/// Tries every stretch of the run between soft boundaries, longest first, left to right.
fn classify_run(text: &str, groups: &[Group], out: &mut Vec<(Kind, Range<usize>)>) {
    let n = groups.len();
    let mut a = 0;
    while a < n {
        if a > 0 && !is_soft(groups[a].sep) {
            a += 1;
            continue;
        }
        let mut next = a + 1;
        for end in (a + 1..=(a + MAX_GROUPS).min(n)).rev() {
            if end < n && !is_soft(groups[end].sep) {
                continue;
            }
            if let Some(found) = classify(text, &groups[a..end]) {
                out.push(found);
                next = end;
                break;
            }
        }
        a = next;
    }
}

fn classify(text: &str, gs: &[Group]) -> Option<(Kind, Range<usize>)> {
    let b = text.as_bytes();
    let total: usize = gs.iter().map(Group::len).sum();
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&total) {
        return None;
    }
    let first = gs.first()?;
    let last = gs.last()?;
    let plus = !first.paren && first.start > 0 && b[first.start - 1] == b'+';
    if !plus && !left_ok(text, first.start) {
        return None;
    }
    if !right_ok(text, last.end) {
        return None;
    }
    let mut v = [0u8; MAX_DIGITS];
    let mut k = 0;
    for g in gs {
        for &d in &b[g.ds..g.de] {
            v[k] = d - b'0';
            k += 1;
        }
    }
    let v = &v[..total];
    let (lens, seps) = shape_of(gs);
    let (lens, seps) = (&lens[..gs.len()], &seps[..gs.len() - 1]);
    let range = first.start..last.end;
    let no_paren = !gs.iter().any(|g| g.paren);
    if no_paren && total == 14 && cnpj_shape(lens, seps) && is_valid_cnpj(v) {
        return Some((Kind::Cnpj, range));
    }
    if no_paren && total == 11 && cpf_shape(lens, seps) && is_valid_cpf(v) {
        return Some((Kind::Cpf, range));
    }
    if is_phone(gs, v, plus) {
        let start = if plus { range.start - 1 } else { range.start };
        if in_arithmetic(text, start, range.end) {
            return None;
        }
        return Some((Kind::Phone, start..range.end));
    }
    None
}

/// `5000-2800 = 2200`, `<<5000-2800=2200>>`, `x = 5000-2800`: a subtraction between
/// operators is not a phone number. Only looked at once a candidate has a phone's shape
/// (rare), so the scan's hot path does not change.
fn in_arithmetic(text: &str, start: usize, end: usize) -> bool {
    let op = |c: char| matches!(c, '=' | '+' | '*' | '×' | '÷');
    let mut after = text[end..].trim_start_matches(' ').chars();
    // `+55 11 …` right after is the next phone's country code, not a sum.
    let sum_after = match after.next() {
        Some('+') => !after.next().is_some_and(|c| c.is_ascii_digit()),
        Some(c) => op(c),
        None => false,
    };
    let before = text[..start].trim_end_matches(' ').chars().next_back();
    sum_after || before.is_some_and(|c| op(c) || c == '<')
}

/// Group lengths and the separators between groups (`gs` holds 1..=MAX_GROUPS groups).
fn shape_of(gs: &[Group]) -> ([usize; MAX_GROUPS], [u8; MAX_GROUPS]) {
    let mut lens = [0; MAX_GROUPS];
    let mut seps = [0; MAX_GROUPS];
    for (i, g) in gs.iter().enumerate().take(MAX_GROUPS) {
        lens[i] = g.len();
        if i > 0 {
            seps[i - 1] = g.sep;
        }
    }
    (lens, seps)
}

fn cpf_shape(lens: &[usize], seps: &[u8]) -> bool {
    match (lens, seps) {
        ([11], []) => true,
        ([9, 2], [s]) => matches!(s, b'-' | b'/' | b'.'),
        ([3, 3, 3, 2], [s1, s2, s3]) => {
            (s1 == s2 && matches!(s1, b'.' | b' ') && matches!(s3, b'-' | b'.' | b' ' | b'/'))
                || (*s1 == b'-' && *s2 == b'-' && *s3 == b'-')
        }
        _ => false,
    }
}

fn cnpj_shape(lens: &[usize], seps: &[u8]) -> bool {
    match (lens, seps) {
        ([14], []) => true,
        ([2, 3, 3, 4, 2], [s1, s2, s3, s4]) => {
            s1 == s2
                && matches!(s1, b'.' | b' ')
                && matches!(s3, b'/' | b' ' | b'.' | b'-')
                && matches!(s4, b'-' | b' ' | b'.' | b'/')
        }
        ([8, 4, 2], [s1, s2]) => *s1 == b'/' && matches!(s2, b'-' | b'/'),
        ([12, 2], [s]) => *s == b'-',
        _ => false,
    }
}

/// Digits of a subscriber number: 9 starting with 9 (mobile) or 8 starting with 2–5.
fn subscriber_ok(v: &[u8]) -> bool {
    (v.len() == 9 && v[0] == 9) || (v.len() == 8 && (2..=5).contains(&v[0]))
}

fn is_phone(gs: &[Group], v: &[u8], plus: bool) -> bool {
    let first = &gs[0];
    let starts_55 = v.len() > 2 && v[0] == 5 && v[1] == 5;
    if plus {
        // Only Brazilian numbers: +55.
        if !starts_55 {
            return false;
        }
        return match (gs.len(), first.len()) {
            (1, _) => area_and_subscriber(&v[2..]),
            (_, 2) => {
                matches!(gs[1].sep, b' ' | b'-' | b'.' | b'(') && with_area(&gs[1..], &v[2..], true)
            }
            (_, 4) => {
                is_ddd(v[2], v[3])
                    && matches!(gs[1].sep, b' ' | b'-')
                    && local(&gs[1..], &v[4..], true)
            }
            _ => false,
        };
    }
    // `55 11 91234-5678`; 55 is also an area code (Santa Maria), tried below.
    if starts_55
        && !first.paren
        && first.len() == 2
        && gs.len() > 2
        && matches!(gs[1].sep, b' ' | b'-')
        && with_area(&gs[1..], &v[2..], true)
    {
        return true;
    }
    with_area(gs, v, false) || local(gs, v, false)
}

/// `1191234-5678` as one group after a country code.
fn area_and_subscriber(v: &[u8]) -> bool {
    matches!(v.len(), 10 | 11) && is_ddd(v[0], v[1]) && subscriber_ok(&v[2..])
}

/// `gs` starts with an area code: `(11)`, `(011)`, `11 `, `011 `.
fn with_area(gs: &[Group], v: &[u8], country: bool) -> bool {
    let g = &gs[0];
    if gs.len() == 1 {
        // Bare `11912345678` is only a phone after `+55`; alone it is just a number.
        return country && !g.paren && area_and_subscriber(v);
    }
    let area_len = match g.len() {
        2 if is_ddd(v[0], v[1]) => 2,
        3 if v[0] == 0 && is_ddd(v[1], v[2]) => 3,
        _ => return false,
    };
    let sep = gs[1].sep;
    let sep_ok = if g.paren {
        matches!(sep, b' ' | b')')
    } else {
        matches!(sep, b' ' | b'-')
    };
    sep_ok && local(&gs[1..], &v[area_len..], true)
}

/// The subscriber number: `91234-5678`, `3456.7890`, `9 1234-5678`, `912345678`.
fn local(gs: &[Group], v: &[u8], area: bool) -> bool {
    if gs.iter().any(|g| g.paren) || !subscriber_ok(v) {
        return false;
    }
    let (lens, seps) = shape_of(gs);
    let (lens, seps) = (&lens[..gs.len()], &seps[..gs.len() - 1]);
    let joined = |s: u8| matches!(s, b'-' | b'.');
    match (lens, seps) {
        // Bare 8 or 9 digits only after an area code.
        ([8] | [9], []) => area,
        ([5, 4] | [4, 4], [s]) => {
            if area {
                joined(*s) || *s == b' '
            } else {
                // Without an area code the middle sign is what makes it a phone, and a
                // year range (`2019-2020`) has the same shape.
                joined(*s) && !(lens[0] == 4 && is_year(&v[..4]) && is_year(&v[4..]))
            }
        }
        ([1, 4, 4], [s1, s2]) => *s1 == b' ' && (joined(*s2) || (area && *s2 == b' ')),
        _ => false,
    }
}

fn is_year(v: &[u8]) -> bool {
    let y = v.iter().fold(0u32, |acc, d| acc * 10 + u32::from(*d));
    (1900..=2100).contains(&y)
}

/// The character before a candidate must not continue it: no letter or digit
/// (`nº` excepted), no `1,` or `3:` before, no `R$`/`US$` (money).
fn left_ok(text: &str, start: usize) -> bool {
    let mut before = text[..start].chars().rev();
    let Some(c) = before.next() else { return true };
    if c == '_' || (c.is_alphanumeric() && c != 'º' && c != 'ª') {
        return false;
    }
    if matches!(c, ',' | ':' | '.' | '-' | '/') && before.next().is_some_and(|d| d.is_ascii_digit())
    {
        return false;
    }
    if c == '$' {
        return false;
    }
    if c == ' ' || c == '\u{a0}' {
        return before.next() != Some('$');
    }
    true
}

/// The character after a candidate must not continue it: no letter, digit, `_`, `%`,
/// `@` (that is an e-mail), no decimal part (`,50`) or time (`:30`).
fn right_ok(text: &str, end: usize) -> bool {
    let mut after = text[end..].chars();
    let Some(c) = after.next() else { return true };
    if c == '_' || c == '%' || c == '@' || c.is_alphanumeric() {
        return false;
    }
    !(matches!(c, ',' | ':' | '.' | '-' | '/') && after.next().is_some_and(|d| d.is_ascii_digit()))
}

// ---------------------------------------------------------------------------------------
// E-mails

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-')
}

/// Longest local part or domain looked at: far beyond the RFC's 64/255, bounds the work.
const MAX_PART: usize = 256;

fn scan_emails(text: &str, out: &mut Vec<(Kind, Range<usize>)>) {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(off) = memchr::memchr(b'@', &b[from..]) {
        let at = from + off;
        from = at + 1;
        // Local part: back from `@`, then drop leading dots and dashes.
        let mut start = at;
        for (n, (i, c)) in text[..at].char_indices().rev().enumerate() {
            if n >= MAX_PART || !is_local_char(c) {
                break;
            }
            start = i;
        }
        while start < at && matches!(b[start], b'.' | b'-' | b'+') {
            start += 1;
        }
        if start == at {
            continue;
        }
        // Domain: forward from `@`, then drop a trailing sentence dot or dash.
        let mut end = at + 1;
        for (n, (i, c)) in text[at + 1..].char_indices().enumerate() {
            if n >= MAX_PART || !is_domain_char(c) {
                break;
            }
            end = at + 1 + i + c.len_utf8();
        }
        while end > at + 1 && matches!(b[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let domain = &text[at + 1..end];
        if !valid_domain(domain) || reserved_domain(domain) {
            continue;
        }
        out.push((Kind::Email, start..end));
        from = end;
    }
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let Some(tld) = labels.last() else {
        return false;
    };
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
        && tld.chars().count() >= 2
        && tld.chars().all(char::is_alphabetic)
}

/// RFC 2606 / 6761 names: documentation and test addresses, not anybody's data.
fn reserved_domain(domain: &str) -> bool {
    let d = domain.to_ascii_lowercase();
    let tld = d.rsplit('.').next().unwrap_or("");
    matches!(tld, "example" | "test" | "invalid" | "localhost")
        || ["example.com", "example.net", "example.org"]
            .iter()
            .any(|r| d == *r || d.strip_suffix(r).is_some_and(|s| s.ends_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every digit run as (start, end), found byte by byte.
    fn runs_naive(b: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let s = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                out.push((s, i));
            } else {
                i += 1;
            }
        }
        out
    }

    fn runs_masked(b: &[u8]) -> Vec<(usize, usize)> {
        let mut d = Digits::new(b);
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(s) = d.next(i) {
            let e = d.run_end(s);
            out.push((s, e));
            i = e;
        }
        out
    }

    #[test]
    fn digit_masks_agree_with_a_byte_loop_across_block_edges() {
        // Runs that start, end or lie exactly on the 64-byte block edges, long runs that
        // span several blocks, and texts of every length around one and two blocks.
        for len in [0, 1, 63, 64, 65, 127, 128, 129, 200] {
            for period in [1, 2, 3, 7, 63, 64, 65] {
                let b: Vec<u8> = (0..len)
                    .map(|i| if (i / period) % 2 == 0 { b'7' } else { b'x' })
                    .collect();
                assert_eq!(runs_masked(&b), runs_naive(&b), "len {len} period {period}");
            }
        }
        let long = "9".repeat(300);
        assert_eq!(runs_masked(long.as_bytes()), vec![(0, 300)]);
    }

    #[test]
    fn values_are_found_wherever_they_sit_against_the_blocks() {
        for pad in 0..140 {
            let text = format!(
                "{} CPF 529.982.247-25 e (11) 91234-5678 fim",
                "a".repeat(pad)
            );
            let found = kinds(&text);
            assert_eq!(
                found,
                vec![
                    (Kind::Cpf, "529.982.247-25".to_owned()),
                    (Kind::Phone, "(11) 91234-5678".to_owned())
                ],
                "pad {pad}"
            );
        }
    }

    proptest::proptest! {
        // A fixed seed and no persisted failures: a green run stays green (same cases
        // every run, on every machine).
        #![proptest_config(proptest::test_runner::Config {
            rng_seed: proptest::test_runner::RngSeed::Fixed(2026),
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        #[test]
        fn digit_masks_agree_with_a_byte_loop(b in proptest::collection::vec(
            proptest::sample::select(b"0123456789 .-/(a@\xc3".to_vec()), 0..300)) {
            proptest::prop_assert_eq!(runs_masked(&b), runs_naive(&b));
        }
    }

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        Scanner::new()
            .scan(text)
            .into_iter()
            .map(|f| (f.kind, text[f.range].to_owned()))
            .collect()
    }

    fn one(text: &str, kind: Kind, value: &str) {
        assert_eq!(kinds(text), vec![(kind, value.to_owned())], "in {text:?}");
    }

    fn none(text: &str) {
        assert_eq!(kinds(text), vec![], "in {text:?}");
    }

    #[test]
    fn cpf_in_every_format() {
        for v in [
            "529.982.247-25",
            "52998224725",
            "529982247-25",
            "529 982 247 25",
            "529.982.247.25",
            "529.982.247/25",
            "529-982-247-25",
        ] {
            one(&format!("CPF: {v}."), Kind::Cpf, v);
            one(&format!("({v})"), Kind::Cpf, v);
            one(v, Kind::Cpf, v);
        }
        one("nº52998224725", Kind::Cpf, "52998224725");
        one("ano 2024 529.982.247-25", Kind::Cpf, "529.982.247-25");
    }

    #[test]
    fn cpf_failing_check_digits_or_repeated_is_not_flagged() {
        for v in [
            "529.982.247-26",
            "52998224724",
            "111.111.111-11",
            "000.000.000-00",
            "123.456.789-00",
        ] {
            none(&format!("CPF {v}"));
        }
    }

    #[test]
    fn cpf_inside_longer_numbers_is_not_flagged() {
        none("52998224725123");
        none("1.529.982.247-25");
        none("R$ 52998224725");
        none("R$52998224725");
        none("0,52998224725");
        none("abc52998224725");
        none("52998224725kg");
        none("52998224725%");
        none("529.982.247-25,00");
        none("529.982.247-25.1");
    }

    #[test]
    fn cnpj_in_every_format() {
        for v in [
            "11.222.333/0001-81",
            "11222333000181",
            "11222333/0001-81",
            "112223330001-81",
            "11 222 333 0001 81",
            "11.222.333.0001-81",
        ] {
            one(&format!("CNPJ {v};"), Kind::Cnpj, v);
        }
        none("CNPJ 11.222.333/0001-82");
        none("CNPJ 11.111.111/1111-11");
        none("CNPJ 00.000.000/0000-00");
        one("CNPJ 12.ABC.345/01DE-35", Kind::Cnpj, "12.ABC.345/01DE-35");
        none("CNPJ 12.ABC.345/01DE-36");
    }

    #[test]
    fn phones() {
        for v in [
            "(11) 91234-5621",
            "(11)91234-5621",
            "(11) 9 1234-5621",
            "(11) 912345621",
            "(11) 3456-7890",
            "(011) 3456-7890",
            "11 91234-5621",
            "11 3456 7890",
            "11-3456-7890",
            "+55 11 91234-5621",
            "+55 (11) 91234-5621",
            "+5511912345621",
            "+55 11912345621",
            "55 11 91234-5621",
            "91234-5621",
            "3456-7890",
            "3456.7890",
            "9 1234-5621",
            "(55) 3222-1234",
        ] {
            one(&format!("Ligue {v}."), Kind::Phone, v);
        }
    }

    #[test]
    fn numbers_that_are_not_phones() {
        for t in [
            "Entre 2019-2020 e 2021.2022",
            "Compre 11912345621",
            "CEP 01310-100",
            "R$ 3456-7890",
            "1234-5678",
            "+1 415 555 2671",
            "3456 7890 unidades",
            "912345621 itens",
            "Processo 0001234-56.2024.8.26.0100",
            // GSM8K-style arithmetic
            "5000-2800 = 2200",
            "Sobram 5000-2800=2200 reais",
            "<<5000-2800=2200>>2200",
            "O saldo é = 5000-2800",
            "2 * 3456-7890",
            "3 × 5000-2800 ÷ 2",
            "5000-2800 + 100",
        ] {
            none(t);
        }
    }

    #[test]
    fn phones_next_to_arithmetic_are_still_found() {
        one(
            "5000-2800 = 2200; ligue (11) 98765-4321.",
            Kind::Phone,
            "(11) 98765-4321",
        );
        one(
            "Ligue +55 11 98765-4321 hoje",
            Kind::Phone,
            "+55 11 98765-4321",
        );
        one("fixo 11 3456-7890, ramal 2", Kind::Phone, "11 3456-7890");
        one("Telefone - 3456-7890", Kind::Phone, "3456-7890");
        one("Telefone: 3456-7890 (comercial)", Kind::Phone, "3456-7890");
        // Found by the property tests: the next phone's `+55` is not a sum.
        assert_eq!(
            kinds("(11) 90000-0000  +55 11 90000-0000"),
            vec![
                (Kind::Phone, "(11) 90000-0000".to_owned()),
                (Kind::Phone, "+55 11 90000-0000".to_owned())
            ]
        );
    }

    #[test]
    fn an_unknown_area_code_still_leaves_the_subscriber_number() {
        one("(20) 3456-7890", Kind::Phone, "3456-7890");
        none("(20) 34567890");
    }

    #[test]
    fn money_dates_percentages_and_laws() {
        none(
            "O limite é R$ 4.800.000,00 (R$ 81.000 para o MEI) desde 01/01/2018; alíquota de \
             15,5% a 33%. LC 123/2006, art. 18-A, Resolução CGSN nº 140/2018, CEP 70040-906, \
             2024-03-15, 15.03.2024, 3.600.000, 4800000, 1.234.567.890,12 e 12:30.",
        );
    }

    #[test]
    fn emails() {
        one(
            "Escreva para joao.silva@empresa.com.br.",
            Kind::Email,
            "joao.silva@empresa.com.br",
        );
        one(
            "<maria+nf@contab.adv.br>",
            Kind::Email,
            "maria+nf@contab.adv.br",
        );
        one("e-mail: joão@empresa.com", Kind::Email, "joão@empresa.com");
        assert_eq!(
            kinds("[ana@x.com.br](mailto:ana@x.com.br)"),
            vec![
                (Kind::Email, "ana@x.com.br".into()),
                (Kind::Email, "ana@x.com.br".into())
            ]
        );
        none("@usuario no Instagram, a@b, a@b.c, x@.com, user@localhost");
        none("teste@example.com, a@sub.example.org, b@loja.test");
    }

    #[test]
    fn overlapping_candidates_keep_the_longer() {
        one(
            "52998224725@empresa.com",
            Kind::Email,
            "52998224725@empresa.com",
        );
    }

    #[test]
    fn json_documents_are_scanned_string_by_string() {
        let line: serde_json::Value = serde_json::from_str(
            r#"{"messages":[{"role":"user","content":"CPF 529.982.247-25"},
                {"role":"assistant","content":[{"type":"text","text":"ok, ana@empresa.com.br"}]}],
                "note":12345678909}"#,
        )
        .unwrap();
        let found: Vec<(String, Kind, String)> = Scanner::new()
            .scan_json(&line)
            .into_iter()
            .map(|f| (f.path, f.finding.kind, f.finding.preview))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "messages[0].content".into(),
                    Kind::Cpf,
                    "***.982.247-**".into()
                ),
                (
                    "messages[1].content[0].text".into(),
                    Kind::Email,
                    "a***@e***.com.br".into()
                ),
            ]
        );
    }

    #[test]
    fn kinds_filter() {
        let s = Scanner::new().with_kinds("cpf".parse().unwrap());
        let found = s.scan("529.982.247-25 e joao@empresa.com e (11) 91234-5621");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, Kind::Cpf);
    }
}
