// ============================================================================================
// (a) crates/afinar-check/src/finding.rs — two codes, inside `codes! { … }`:
//
//     /// Personal data (CPF, CNPJ, e-mail, phone number, listed name) in a line.
//     PersonalData = "personal_data", Warning;
//     /// Personal data of a kind `--deny-pii` (or `--strict`) forbids.
//     PersonalDataDenied = "personal_data_denied", Error;
//
// (b) crates/afinar-check/Cargo.toml: afinar-redact.workspace = true
//     crates/afinar-check/src/lib.rs:  pub mod pii;
//
// (c) crates/afinar-check/src/pii.rs:
// ============================================================================================

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
            let code = if self.deny.contains(kind) { Code::PersonalDataDenied } else { Code::PersonalData };
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

// ============================================================================================
// (d) src/commands/check.rs
//
// imports:
//     use std::sync::Arc;
//     use afinar_redact::{KindSet, NameList, RedactError, Scanner};
//
// fields of `Args`:
//
//     /// Do not look for personal data (CPF, CNPJ, e-mails, phone numbers).
//     #[arg(long)]
//     no_pii: bool,
//     /// Make personal data an error (exit 1) instead of a warning.
//     #[arg(long)]
//     strict: bool,
//     /// Kinds of personal data that are errors (exit 1), for a CI gate: `cpf,cnpj`, or
//     /// `all` (kinds: cpf, cnpj, email, phone, name).
//     #[arg(long, value_name = "KINDS", value_parser = parse_kinds)]
//     deny_pii: Option<KindSet>,
//     /// Also report the names listed in FILE (one per line; case and accents ignored).
//     #[arg(long, value_name = "FILE")]
//     pii_names: Option<PathBuf>,
//
// in `run`, after `opts.max_tokens = args.max_tokens;`:
//
//     if let Some(rule) = pii_rule(&args)? {
//         opts.extra_rules.push(rule);
//     }
//
// functions:
//
//     fn parse_kinds(s: &str) -> Result<KindSet, String> {
//         s.parse().map_err(|e: RedactError| e.to_string())
//     }
//
//     /// The personal-data rule, on by default; `--strict` denies every kind.
//     fn pii_rule(args: &Args) -> anyhow::Result<Option<Arc<dyn afinar_check::rules::LineRule>>> {
//         if args.no_pii {
//             return Ok(None);
//         }
//         let mut scanner = Scanner::new();
//         if let Some(path) = &args.pii_names {
//             let text = std::fs::read_to_string(path)
//                 .with_context(|| format!("Cannot read the name list `{}`", path.display()))?;
//             let names = NameList::parse(&text)
//                 .with_context(|| format!("Cannot use the name list `{}`", path.display()))?;
//             scanner = scanner.with_names(names);
//         }
//         let deny = if args.strict { KindSet::ALL } else { args.deny_pii.unwrap_or(KindSet::EMPTY) };
//         Ok(Some(Arc::new(afinar_check::pii::PersonalDataRule::new(scanner, deny))))
//     }
//
// EXAMPLES text:
//
//   # CI gate: fail if any unmasked CPF or CNPJ is left (other personal data warns)
//   afinar check train.jsonl --deny-pii cpf,cnpj --format github
//
// and add personal_data (warning) and personal_data_denied (error) to the list of rule codes.
// ============================================================================================
