use thiserror::Error;

/// What can go wrong in curation: only bad options, since every example is usable.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum CurateError {
    #[error(
        "Near-duplicate threshold `{value}` is out of range; use a similarity above 0 and at most 1, such as 0.5"
    )]
    Threshold { value: f64 },
    #[error(
        "Validation fraction `{value}` is out of range; use a fraction between 0 and 1 (such as 0.1) or a count (such as 50)"
    )]
    Fraction { value: f64 },
    #[error("Validation count `{count}` leaves no training examples out of {total}; ask for fewer")]
    Count { count: usize, total: usize },
    #[error("There are {total} examples; a split needs at least 2")]
    TooFew { total: usize },
    #[error("No example has the field `{field}` to stratify by; fields present: {present}")]
    NoStratum { field: String, present: String },
}
