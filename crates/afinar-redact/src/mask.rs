//! Masked previews, placeholders and consistent fakes.

use std::borrow::Cow;
use std::fmt;

use afinar_core::{Example, Message, Preference};
use sha2::{Digest, Sha256};

use crate::digits::{cnpj_check_digits, cpf_check_digits, is_valid_cnpj, is_valid_cpf};
use crate::names::fold;
use crate::{Counts, Kind, KindSet, Scanner};

/// What a redaction puts in place of a value.
#[derive(Debug, Clone)]
pub enum Mode {
    /// `[CPF]`, `[CNPJ]`, `[EMAIL]`, `[TELEFONE]`, `[NOME]` (see [`placeholder`]).
    /// Masking twice changes nothing.
    Placeholder,
    /// A fake of the same kind and format, derived from the value and the key: the same
    /// value gives the same fake in every example, run and thread. Fake CPF and CNPJ
    /// have valid check digits, so a later scan finds them again (as it would any valid
    /// number); fake e-mails are in `example.com`, which scans ignore.
    Fake(FakeKey),
}

/// The secret behind fakes. Anyone holding it can test guesses (a CPF has only 10⁹
/// possible bases), so keep it out of the dataset and out of version control.
#[derive(Clone)]
pub struct FakeKey([u8; 32]);

impl FakeKey {
    /// Any secret (a passphrase, the bytes of a key file).
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(b"afinar-redact key v1\0");
        h.update(secret);
        Self(h.finalize().into())
    }
}

/// Never prints the key.
impl fmt::Debug for FakeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FakeKey(…)")
    }
}

/// The placeholder text of a kind. Portuguese, like the data it stands in.
pub fn placeholder(kind: Kind) -> &'static str {
    match kind {
        Kind::Cpf => "[CPF]",
        Kind::Cnpj => "[CNPJ]",
        Kind::Email => "[EMAIL]",
        Kind::Phone => "[TELEFONE]",
        Kind::Name => "[NOME]",
    }
}

/// Finds and replaces personal data. `Sync`; holds no mutable state.
#[derive(Debug, Clone)]
pub struct Redactor {
    scanner: Scanner,
    mode: Mode,
}

impl Redactor {
    pub fn new(scanner: Scanner, mode: Mode) -> Self {
        Self { scanner, mode }
    }

    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The text with every finding replaced, and how many of each kind were replaced.
    /// Borrows the input when there was nothing to replace.
    pub fn redact<'a>(&self, text: &'a str) -> (Cow<'a, str>, Counts) {
        let findings = self.scanner.scan(text);
        if findings.is_empty() {
            return (Cow::Borrowed(text), Counts::default());
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for f in &findings {
            out.push_str(&text[last..f.range.start]);
            out.push_str(&self.replacement(f.kind, &text[f.range.clone()]));
            last = f.range.end;
        }
        out.push_str(&text[last..]);
        (Cow::Owned(out), Counts::of(&findings))
    }

    /// Redacts `text` in place.
    pub fn redact_string(&self, text: &mut String) -> Counts {
        let (new, counts) = self.redact(text);
        if let Cow::Owned(new) = new {
            *text = new;
        }
        counts
    }

    /// Redacts the content of every message.
    pub fn redact_example(&self, example: &mut Example) -> Counts {
        self.redact_messages(example.messages.iter_mut())
    }

    /// Redacts the input messages and both replies.
    pub fn redact_preference(&self, p: &mut Preference) -> Counts {
        self.redact_messages(
            p.input
                .iter_mut()
                .chain([&mut p.preferred, &mut p.non_preferred]),
        )
    }

    fn redact_messages<'a>(&self, messages: impl Iterator<Item = &'a mut Message>) -> Counts {
        let mut counts = Counts::default();
        for m in messages {
            counts += self.redact_string(&mut m.content);
        }
        counts
    }

    /// What replaces `value` (a value of kind `kind`, as found in the text).
    pub fn replacement(&self, kind: Kind, value: &str) -> String {
        match &self.mode {
            Mode::Placeholder => placeholder(kind).to_owned(),
            Mode::Fake(key) => fake(key, kind, value),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Previews

/// The value with most of it hidden, keeping its shape.
pub(crate) fn preview(kind: Kind, value: &str) -> String {
    match kind {
        // `***.456.789-**`: the middle six digits, as gov.br shows CPFs.
        Kind::Cpf => mask_slots(value, |i, _| (3..9).contains(&i)),
        // `**.345.678/****-**`
        Kind::Cnpj => mask_slots(value, |i, _| (2..8).contains(&i)),
        // `(11) 9****-**21`: country and area code, the mobile 9, the last two digits.
        Kind::Phone => {
            let n = value.bytes().filter(u8::is_ascii_digit).count();
            mask_slots(value, |i, _| i + 8 < n || i + 2 >= n)
        }
        Kind::Email => {
            let (local, domain) = value.rsplit_once('@').unwrap_or((value, ""));
            let (first_label, rest) = domain.split_once('.').unwrap_or((domain, ""));
            format!(
                "{}***@{}***.{rest}",
                first_char(local),
                first_char(first_label)
            )
        }
        Kind::Name => value
            .split_whitespace()
            .map(|w| format!("{}***", first_char(w)))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn first_char(s: &str) -> &str {
    s.chars().next().map_or("", |c| &s[..c.len_utf8()])
}

/// Replaces the alphanumeric characters (the "slots") not kept by `keep(index, char)` with `*`.
fn mask_slots(value: &str, keep: impl Fn(usize, char) -> bool) -> String {
    let mut i = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_ascii_alphanumeric() {
                return c;
            }
            let kept = keep(i, c);
            i += 1;
            if kept { c } else { '*' }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Fakes

/// 32 pseudo-random bytes from the key, the kind, the canonical value and a counter.
fn prf(key: &FakeKey, kind: Kind, canonical: &str, counter: u32) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(key.0);
    h.update(kind.as_str().as_bytes());
    h.update([0]);
    h.update(counter.to_le_bytes());
    h.update(canonical.as_bytes());
    h.finalize().into()
}

fn digit_stream(bytes: [u8; 32]) -> impl Iterator<Item = u8> {
    bytes.into_iter().map(|b| b % 10)
}

/// Writes `new` into the slots (ASCII alphanumerics) of `template`, keeping everything else.
fn fill_slots(template: &str, new: &[u8]) -> String {
    let mut it = new.iter();
    template
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                it.next().map_or(c, |&b| char::from(b))
            } else {
                c
            }
        })
        .collect()
}

fn slots(value: &str) -> Vec<u8> {
    value.bytes().filter(u8::is_ascii_alphanumeric).collect()
}

fn to_ascii(values: &[u8]) -> Vec<u8> {
    values.iter().map(|v| v + b'0').collect()
}

fn fake(key: &FakeKey, kind: Kind, value: &str) -> String {
    match kind {
        Kind::Cpf => fake_cpf(key, value),
        Kind::Cnpj => fake_cnpj(key, value),
        Kind::Phone => fake_phone(key, value),
        Kind::Email => fake_email(key, value),
        Kind::Name => fake_name(key, value),
    }
}

/// Same formatting, new base, valid check digits; keyed on the digits only, so
/// `529.982.247-25` and `52998224725` get the same fake.
fn fake_cpf(key: &FakeKey, value: &str) -> String {
    let original = slots(value);
    let canonical = String::from_utf8_lossy(&original).into_owned();
    for counter in 0.. {
        let mut base = [0u8; 9];
        for (slot, d) in base
            .iter_mut()
            .zip(digit_stream(prf(key, Kind::Cpf, &canonical, counter)))
        {
            *slot = d;
        }
        let dv = cpf_check_digits(&base);
        let mut all: Vec<u8> = base.to_vec();
        all.extend(dv);
        let ascii = to_ascii(&all);
        if is_valid_cpf(&all) && ascii != original {
            return fill_slots(value, &ascii);
        }
    }
    unreachable!("the counter is unbounded")
}

/// A new root (first eight characters), the same branch (`0001`), valid check digits.
/// Keyed on the root, so every branch of one company maps to one fake company.
fn fake_cnpj(key: &FakeKey, value: &str) -> String {
    let original = slots(value);
    if original.len() != 14 {
        return placeholder(Kind::Cnpj).to_owned();
    }
    let canonical = String::from_utf8_lossy(&original[..8]).to_ascii_uppercase();
    for counter in 0.. {
        let mut base = [0u8; 12];
        for (slot, d) in
            base[..8]
                .iter_mut()
                .zip(digit_stream(prf(key, Kind::Cnpj, &canonical, counter)))
        {
            *slot = d;
        }
        for (slot, b) in base[8..].iter_mut().zip(&original[8..12]) {
            *slot = b.to_ascii_uppercase() - b'0';
        }
        let dv = cnpj_check_digits(&base);
        let mut all: Vec<u8> = base.to_vec();
        all.extend(dv);
        let ascii: Vec<u8> = to_ascii(&all);
        if is_valid_cnpj(&all) && ascii != original {
            return fill_slots(value, &ascii);
        }
    }
    unreachable!("the counter is unbounded")
}

/// Keeps country code, area code and everything before the last eight digits (so a
/// mobile keeps its 9); the last eight are new, a landline's still starting with 2–5.
fn fake_phone(key: &FakeKey, value: &str) -> String {
    let original: Vec<u8> = value.bytes().filter(u8::is_ascii_digit).collect();
    let n = original.len();
    if n < 8 {
        return placeholder(Kind::Phone).to_owned();
    }
    // Keyed without the country code, so `+55 11 …` and `(11) …` agree.
    let canonical = String::from_utf8_lossy(
        original
            .strip_prefix(b"55")
            .filter(|r| r.len() >= 10)
            .unwrap_or(&original),
    )
    .into_owned();
    let landline = (b'2'..=b'5').contains(&original[n - 8]);
    for counter in 0.. {
        let r = prf(key, Kind::Phone, &canonical, counter);
        let mut new = original.clone();
        new[n - 8] = if landline {
            b'2' + r[0] % 4
        } else {
            b'6' + r[0] % 4
        };
        for (slot, d) in new[n - 7..].iter_mut().zip(digit_stream(r).skip(1)) {
            *slot = d + b'0';
        }
        if new == original {
            continue;
        }
        // A fake must still read as a phone: `2454-4969` must not become the year range
        // `2012-2091`, which the scanner rightly passes over.
        let fake = fill_digits(value, &new);
        let found = Scanner::new()
            .with_kinds(KindSet::EMPTY.with(Kind::Phone))
            .scan(&fake);
        if matches!(found.as_slice(), [f] if f.range == (0..fake.len())) {
            return fake;
        }
    }
    unreachable!("the counter is unbounded")
}

fn fill_digits(template: &str, new: &[u8]) -> String {
    let mut it = new.iter();
    template
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                it.next().map_or(c, |&b| char::from(b))
            } else {
                c
            }
        })
        .collect()
}

/// `usuario.1a2b3c4d@example.com`: a reserved domain, so nobody receives mail there.
fn fake_email(key: &FakeKey, value: &str) -> String {
    let r = prf(key, Kind::Email, &value.to_lowercase(), 0);
    let hex: String = r[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("usuario.{hex}@example.com")
}

const FIRST_NAMES: [&str; 16] = [
    "Ana", "Bruno", "Carla", "Diego", "Elisa", "Fábio", "Gabriela", "Heitor", "Isabel", "Júlio",
    "Larissa", "Marcos", "Natália", "Otávio", "Paula", "Rafael",
];
const SURNAMES: [&str; 16] = [
    "Almeida", "Barbosa", "Cardoso", "Duarte", "Esteves", "Ferraz", "Gomes", "Honorato", "Inácio",
    "Jardim", "Lacerda", "Moreira", "Nogueira", "Pacheco", "Queiroz", "Rezende",
];

/// A fictitious name with as many parts as the original (one or two or more).
fn fake_name(key: &FakeKey, value: &str) -> String {
    let canonical = fold(value).split_whitespace().collect::<Vec<_>>().join(" ");
    let r = prf(key, Kind::Name, &canonical, 0);
    let first = FIRST_NAMES[usize::from(r[0] % 16)];
    let name = if value.split_whitespace().count() > 1 {
        format!("{first} {}", SURNAMES[usize::from(r[1] % 16)])
    } else {
        first.to_owned()
    };
    if value.chars().any(char::is_lowercase) {
        name
    } else {
        name.to_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digits::values;

    fn key() -> FakeKey {
        FakeKey::from_secret(b"teste")
    }

    #[test]
    fn previews_never_show_the_whole_value() {
        assert_eq!(preview(Kind::Cpf, "123.456.789-09"), "***.456.789-**");
        assert_eq!(preview(Kind::Cpf, "12345678909"), "***456789**");
        assert_eq!(
            preview(Kind::Cnpj, "11.222.333/0001-81"),
            "**.222.333/****-**"
        );
        assert_eq!(preview(Kind::Phone, "(11) 91234-5621"), "(11) 9****-**21");
        assert_eq!(preview(Kind::Phone, "+55 11 3456-7890"), "+55 11 ****-**90");
        assert_eq!(preview(Kind::Phone, "3456-7890"), "****-**90");
        assert_eq!(
            preview(Kind::Email, "joao@empresa.com.br"),
            "j***@e***.com.br"
        );
        assert_eq!(preview(Kind::Email, "élida@gmail.com"), "é***@g***.com");
        assert_eq!(preview(Kind::Name, "Maria da Silva"), "M*** d*** S***");
    }

    #[test]
    fn fakes_keep_format_and_validity() {
        let k = key();
        let cpf = fake(&k, Kind::Cpf, "529.982.247-25");
        assert_eq!(cpf.len(), 14);
        assert_eq!((&cpf[3..4], &cpf[7..8], &cpf[11..12]), (".", ".", "-"));
        assert!(is_valid_cpf(&values(slots(&cpf).as_slice()).unwrap()));
        assert_ne!(cpf, "529.982.247-25");
        // keyed on the digits: the bare form gets the same digits
        assert_eq!(
            fake(&k, Kind::Cpf, "52998224725"),
            slots(&cpf)
                .iter()
                .map(|b| char::from(*b))
                .collect::<String>()
        );

        let cnpj = fake(&k, Kind::Cnpj, "11.222.333/0001-81");
        assert!(cnpj.contains("/0001-"), "{cnpj}");
        assert!(is_valid_cnpj(&values(&slots(&cnpj)).unwrap()));
        let other_branch = fake(&k, Kind::Cnpj, "11.222.333/0002-62");
        assert_eq!(cnpj[..10], other_branch[..10], "one company, one fake root");

        let phone = fake(&k, Kind::Phone, "(11) 91234-5621");
        assert!(
            phone.starts_with("(11) 9") && phone.len() == 15 && &phone[10..11] == "-",
            "{phone}"
        );
        let land = fake(&k, Kind::Phone, "3456-7890");
        assert!((b'2'..=b'5').contains(&land.as_bytes()[0]), "{land}");

        let email = fake(&k, Kind::Email, "Joao@Empresa.com.br");
        assert!(email.starts_with("usuario.") && email.ends_with("@example.com"));
        assert_eq!(email, fake(&k, Kind::Email, "joao@empresa.com.br"));

        assert_eq!(fake(&k, Kind::Name, "José").split(' ').count(), 1);
        assert_eq!(fake(&k, Kind::Name, "Jose"), fake(&k, Kind::Name, "josé"));
    }

    #[test]
    fn preferences_are_redacted_in_every_message() {
        use afinar_core::{Origin, Role};
        let msg = |role, text: &str| Message::new(role, text);
        let mut p = Preference {
            input: vec![msg(Role::User, "Meu CPF é 529.982.247-25")],
            preferred: msg(Role::Assistant, "Anotei o CPF 529.982.247-25."),
            non_preferred: msg(Role::Assistant, "Ligue (11) 91234-5621 ou joao@empresa.com"),
            origin: Origin::line("dpo.jsonl", 1),
            meta: Default::default(),
        };
        let r = Redactor::new(Scanner::new(), Mode::Placeholder);
        let counts = r.redact_preference(&mut p);
        assert_eq!(
            (counts.cpf, counts.phone, counts.email, counts.total()),
            (2, 1, 1, 4)
        );
        assert_eq!(p.preferred.content, "Anotei o CPF [CPF].");
        assert_eq!(p.non_preferred.content, "Ligue [TELEFONE] ou [EMAIL]");
        assert_eq!(
            serde_json::to_string(&counts).unwrap(),
            r#"{"cpf":2,"cnpj":0,"email":1,"phone":1,"name":0}"#
        );
    }

    #[test]
    fn shareable_across_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Redactor>();
        send_sync::<Scanner>();
    }

    #[test]
    fn fakes_depend_on_the_key() {
        let a = fake(&FakeKey::from_secret(b"a"), Kind::Cpf, "52998224725");
        let b = fake(&FakeKey::from_secret(b"b"), Kind::Cpf, "52998224725");
        assert_ne!(a, b);
        assert_eq!(format!("{:?}", key()), "FakeKey(…)");
    }
}
