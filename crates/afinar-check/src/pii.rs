//! Personal data: CPF, CNPJ, e-mails, phone numbers (and listed names) in any string of a
//! line, found with `afinar-redact`. Reported with a masked preview, never the value.

use afinar_redact::{KindSet, Scanner};

use crate::rules::{LineContext, LineRule};
use crate::{Code, Finding};

/// A warning per finding, or an error for the kinds in `deny` (`--deny-pii`; every kind
/// with `--strict`).
#[derive(Debug)]
pub struct PersonalDataRule {
    scanner: Scanner,
    deny: KindSet,
}

impl PersonalDataRule {
    pub fn new(scanner: Scanner, deny: KindSet) -> Self {
        Self { scanner, deny }
    }
}

impl LineRule for PersonalDataRule {
    fn check(&self, cx: &LineContext<'_>, out: &mut Vec<Finding>) {
        for f in self.scanner.scan_json(cx.value) {
            let kind = f.finding.kind;
            let code = if self.deny.contains(kind) {
                Code::PersonalDataDenied
            } else {
                Code::PersonalData
            };
            out.push(cx.finding(
                code,
                format!(
                    "{kind} `{}` in `{}`; mask it with `afinar convert --redact`, or remove it",
                    f.finding.preview, f.path
                ),
            ));
        }
    }
}
