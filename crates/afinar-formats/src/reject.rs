use afinar_core::Origin;
use serde::Serialize;

/// A row, line or example that could not be used, with why and its raw text, so nothing
/// is lost: rejects are written one JSON line each as `{origin, reason, raw}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    pub origin: Origin,
    /// A stable snake_case code for the cause (`invalid_json`, `empty_answer`…), so
    /// rejects can be counted per cause whatever the message says.
    #[serde(skip)]
    pub code: &'static str,
    pub reason: String,
    pub raw: String,
}

impl Reject {
    /// The code of a reject whose cause has no more specific one.
    pub const UNCLASSIFIED: &'static str = "invalid_row";

    pub fn new(origin: Origin, reason: impl Into<String>, raw: impl Into<String>) -> Self {
        Self {
            origin,
            code: Self::UNCLASSIFIED,
            reason: reason.into(),
            raw: raw.into(),
        }
    }

    /// Sets the stable code of the cause.
    #[must_use]
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }
}
