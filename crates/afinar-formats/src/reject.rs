use afinar_core::Origin;
use serde::Serialize;

/// A row, line or example that could not be used, with why and its raw text, so nothing
/// is lost: rejects are written one JSON line each as `{origin, reason, raw}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    pub origin: Origin,
    pub reason: String,
    pub raw: String,
}

impl Reject {
    pub fn new(origin: Origin, reason: impl Into<String>, raw: impl Into<String>) -> Self {
        Self {
            origin,
            reason: reason.into(),
            raw: raw.into(),
        }
    }
}
