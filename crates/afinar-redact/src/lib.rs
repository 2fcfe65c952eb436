//! Find and mask personal data in training text: CPF, CNPJ, e-mail addresses, Brazilian
//! phone numbers and, optionally, names from a user-supplied list.
//!
//! The model: a [`Scanner`] turns a text into [`Finding`]s (kind, byte range, masked
//! preview that never shows the whole value); a [`Redactor`] replaces them, either with
//! placeholders (`[CPF]`, `[CNPJ]`, `[EMAIL]`, `[TELEFONE]`, `[NOME]`) or with consistent
//! fakes (same input, same key → same fake; CPF and CNPJ fakes have valid check digits and
//! keep the original's formatting) and returns [`Counts`] per kind.
//!
//! Numbers are confirmed, not guessed: a CPF or CNPJ must pass its check digits, and a
//! candidate must stand alone (not be part of a longer number such as `4.800.000,00`, a
//! date, a process number or a CEP, and not follow `R$`). Phones must have a phone's shape
//! (valid area code; 9-digit mobiles start with 9, 8-digit landlines with 2–5) and, without
//! an area code, a `-` or `.` in the middle; year ranges like `2019-2020` are not phones.
//! E-mails in reserved domains (`example.com`, `.test`, `.invalid`…) are not personal data
//! and are not reported, so fake e-mails are not found again.
//!
//! Scanning is cheap when there is nothing to find: a byte scan for digits and a `memchr`
//! for `@` run before any finer work (see `examples/bench_scan.rs`).
//!
//! ```
//! use afinar_redact::{Kind, Mode, Redactor, Scanner};
//!
//! let scanner = Scanner::new();
//! let text = "Meu CPF é 529.982.247-25, fone (11) 91234-5621, joao@empresa.com.br. \
//!             O limite é R$ 4.800.000,00 desde 01/01/2018.";
//! let found = scanner.scan(text);
//! let kinds: Vec<Kind> = found.iter().map(|f| f.kind).collect();
//! assert_eq!(kinds, [Kind::Cpf, Kind::Phone, Kind::Email]);
//! assert_eq!(found[0].preview, "***.982.247-**");
//! assert_eq!(found[1].preview, "(11) 9****-**21");
//! assert_eq!(found[2].preview, "j***@e***.com.br");
//!
//! let redactor = Redactor::new(scanner, Mode::Placeholder);
//! let (masked, counts) = redactor.redact(text);
//! assert_eq!(
//!     masked,
//!     "Meu CPF é [CPF], fone [TELEFONE], [EMAIL]. O limite é R$ 4.800.000,00 desde 01/01/2018."
//! );
//! assert_eq!((counts.cpf, counts.phone, counts.email, counts.total()), (1, 1, 1, 3));
//! ```

mod digits;
mod mask;
mod names;
mod scan;

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use digits::{cnpj_check_digits, cpf_check_digits};
pub use mask::{FakeKey, Mode, Redactor, placeholder};
pub use names::{NameList, fold};
pub use scan::{JsonFinding, MessageFinding, Scanner};

/// The kinds of personal data found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Cpf,
    Cnpj,
    Email,
    Phone,
    /// A name from the user's list.
    Name,
}

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::Cpf, Kind::Cnpj, Kind::Email, Kind::Phone, Kind::Name];

    /// The machine name (`cpf`, `email`…), as in JSON reports and `--deny-pii`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cpf => "cpf",
            Kind::Cnpj => "cnpj",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Name => "name",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Human form for messages: `CPF`, `CNPJ`, `e-mail`, `phone number`, `name`.
impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Cpf => "CPF",
            Kind::Cnpj => "CNPJ",
            Kind::Email => "e-mail",
            Kind::Phone => "phone number",
            Kind::Name => "name",
        })
    }
}

/// Accepts the machine names and their Portuguese forms (`telefone`, `nome`).
impl FromStr for Kind {
    type Err = RedactError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cpf" => Ok(Kind::Cpf),
            "cnpj" => Ok(Kind::Cnpj),
            "email" | "e-mail" => Ok(Kind::Email),
            "phone" | "telefone" | "fone" => Ok(Kind::Phone),
            "name" | "nome" => Ok(Kind::Name),
            _ => Err(RedactError::UnknownKind(s.to_owned())),
        }
    }
}

/// A set of kinds, parsed from `cpf,cnpj` or `all` (for `--deny-pii` and kind filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KindSet(u8);

impl KindSet {
    pub const ALL: KindSet = KindSet(0b1_1111);
    pub const EMPTY: KindSet = KindSet(0);

    pub fn with(self, kind: Kind) -> Self {
        KindSet(self.0 | kind.bit())
    }

    pub fn contains(self, kind: Kind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(move |k| self.contains(*k))
    }
}

impl Default for KindSet {
    fn default() -> Self {
        KindSet::ALL
    }
}

impl FromIterator<Kind> for KindSet {
    fn from_iter<I: IntoIterator<Item = Kind>>(iter: I) -> Self {
        iter.into_iter().fold(KindSet::EMPTY, KindSet::with)
    }
}

impl FromStr for KindSet {
    type Err = RedactError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("all") {
            return Ok(KindSet::ALL);
        }
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Kind::from_str)
            .collect()
    }
}

/// One piece of personal data in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    /// Byte range in the scanned text.
    pub range: Range<usize>,
    /// The value with most of it masked (`***.456.789-**`, `j***@e***.com.br`,
    /// `(11) 9****-**21`): safe to print in reports and logs.
    pub preview: String,
}

/// Replacements (or findings) per kind; what the manifest records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub cpf: u64,
    pub cnpj: u64,
    pub email: u64,
    pub phone: u64,
    pub name: u64,
}

impl Counts {
    pub fn get(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Cpf => self.cpf,
            Kind::Cnpj => self.cnpj,
            Kind::Email => self.email,
            Kind::Phone => self.phone,
            Kind::Name => self.name,
        }
    }

    pub fn add(&mut self, kind: Kind, n: u64) {
        let slot = match kind {
            Kind::Cpf => &mut self.cpf,
            Kind::Cnpj => &mut self.cnpj,
            Kind::Email => &mut self.email,
            Kind::Phone => &mut self.phone,
            Kind::Name => &mut self.name,
        };
        *slot += n;
    }

    pub fn total(&self) -> u64 {
        self.cpf + self.cnpj + self.email + self.phone + self.name
    }

    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// Counts the findings of one scan.
    pub fn of(findings: &[Finding]) -> Self {
        let mut c = Counts::default();
        for f in findings {
            c.add(f.kind, 1);
        }
        c
    }
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, rhs: Self) {
        for k in Kind::ALL {
            self.add(k, rhs.get(k));
        }
    }
}

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedactError {
    #[error("Unknown kind of personal data `{0}`; use cpf, cnpj, email, phone or name")]
    UnknownKind(String),
    #[error("The name list ({count} names) is too large to search; split it or remove entries")]
    NameList {
        count: usize,
        #[source]
        source: regex::Error,
    },
}
