//! Properties: masking is idempotent, no detected value survives, fakes are valid and stable.

use afinar_redact::{FakeKey, Kind, Mode, Redactor, Scanner, cnpj_check_digits, cpf_check_digits};
use proptest::prelude::*;

fn cpf_digits() -> impl Strategy<Value = String> {
    prop::array::uniform9(0u8..10)
        .prop_filter("repeated", |b| b.iter().any(|d| *d != b[0]))
        .prop_map(|b| {
            let dv = cpf_check_digits(&b);
            b.iter().chain(&dv).map(|d| char::from(b'0' + d)).collect()
        })
}

fn cnpj_digits() -> impl Strategy<Value = String> {
    (
        prop::array::uniform8(0u8..10),
        prop::array::uniform4(0u8..10),
    )
        .prop_map(|(root, branch)| {
            let mut b = [0u8; 12];
            b[..8].copy_from_slice(&root);
            b[8..].copy_from_slice(&branch);
            let dv = cnpj_check_digits(&b);
            b.iter().chain(&dv).map(|d| char::from(b'0' + d)).collect()
        })
}

/// Puts `d`'s digits into a template's `#` slots.
fn shape(template: &str, d: &str) -> String {
    let mut it = d.chars();
    template
        .chars()
        .map(|c| {
            if c == '#' {
                it.next().unwrap_or('0')
            } else {
                c
            }
        })
        .collect()
}

fn cpf() -> impl Strategy<Value = String> {
    let formats = prop::sample::select(vec![
        "###.###.###-##",
        "###########",
        "#########-##",
        "### ### ### ##",
    ]);
    (cpf_digits(), formats).prop_map(|(d, f)| shape(f, &d))
}

fn cnpj() -> impl Strategy<Value = String> {
    let formats = prop::sample::select(vec![
        "##.###.###/####-##",
        "##############",
        "########/####-##",
    ]);
    (cnpj_digits(), formats).prop_map(|(d, f)| shape(f, &d))
}

fn phone() -> impl Strategy<Value = String> {
    let ddd = prop::sample::select(vec![
        "11", "21", "31", "41", "51", "61", "71", "81", "91", "48", "85",
    ]);
    let formats = prop::sample::select(vec![
        "(DD) 9####-####",
        "(DD) L###-####",
        "DD 9####-####",
        "+55 DD 9####-####",
        "+55 (DD) L###-####",
        "9####-####",
        "L###-####",
    ]);
    (ddd, formats, prop::array::uniform8(0u8..10), 2u8..6)
        .prop_map(|(ddd, f, digits, land)| {
            let mut it = digits.iter();
            f.replace("DD", ddd)
                .chars()
                .map(|c| match c {
                    '#' => char::from(b'0' + it.next().copied().unwrap_or(0)),
                    'L' => char::from(b'0' + land),
                    c => c,
                })
                .collect::<String>()
        })
        // `2012-2091` is a year range, which the scanner rightly passes over.
        .prop_filter("year range", |p| {
            let year = |s: &str| s.parse::<u32>().is_ok_and(|y| (1900..=2100).contains(&y));
            !matches!(p.split_once('-'), Some((a, b)) if year(a) && year(b))
        })
}

fn email() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9._]{0,8}[a-z0-9]@[a-z]{2,8}\\.(com|com\\.br|org|adv\\.br)"
}

/// Ordinary text around the values, with its own money, dates and law numbers.
fn filler() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(" ".to_owned()),
        Just(" R$ 4.800.000,00 ".to_owned()),
        Just(", em 31/01/2025, ".to_owned()),
        Just(" (LC 123/2006, art. 18-A) ".to_owned()),
        Just(" 15,5% ".to_owned()),
        Just("\n- ".to_owned()),
        Just(" | ".to_owned()),
        "[a-zçãé ,.;:()\n-]{0,12}",
        "[ a-zA-Z0-9,.;:()$%/@\n-]{0,12}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![cpf(), cnpj(), phone(), email()]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec((filler(), value()), 0..6).prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(f, v)| [f, v, " ".to_owned()])
            .collect::<String>()
    })
}

fn values(scanner: &Scanner, text: &str) -> Vec<String> {
    scanner
        .scan(text)
        .into_iter()
        .map(|f| text[f.range].to_owned())
        .collect()
}

/// Whether text ending this way, then a space, would join a planted value into a longer
/// one (so the scanner would rightly report something else).
fn joins_the_value(filler: &str) -> bool {
    filler.ends_with(|c: char| c == '$' || c == ')' || c.is_ascii_digit())
}

fn planted_value_is_found(filler: &str, v: &str) -> Result<(), TestCaseError> {
    let t = format!("Dados:{filler} {v}. Obrigado");
    let found = values(&Scanner::new(), &t);
    prop_assert!(
        found.iter().any(|f| f == v),
        "{:?} not found in {:?}: {:?}",
        v,
        t,
        found
    );
    Ok(())
}

fn key() -> FakeKey {
    FakeKey::from_secret(b"proptest")
}

proptest! {
    // A fixed seed and no persisted failures: a green run stays green (same cases
    // every run, on every machine).
    #![proptest_config(ProptestConfig {
        cases: 512,
        rng_seed: proptest::test_runner::RngSeed::Fixed(2026),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn placeholder_masking_is_idempotent_and_leaves_nothing(t in text()) {
        let r = Redactor::new(Scanner::new(), Mode::Placeholder);
        let (once, counts) = r.redact(&t);
        let (twice, again) = r.redact(&once);
        prop_assert_eq!(&twice, &once);
        prop_assert!(again.is_empty());
        prop_assert_eq!(counts.total() as usize, r.scanner().scan(&t).len());
        prop_assert!(r.scanner().scan(&once).is_empty(), "{:?}", r.scanner().scan(&once));
    }

    #[test]
    fn no_detected_value_survives_either_mode(t in text()) {
        let scanner = Scanner::new();
        let before = values(&scanner, &t);
        for mode in [Mode::Placeholder, Mode::Fake(key())] {
            let r = Redactor::new(scanner.clone(), mode);
            let (masked, _) = r.redact(&t);
            let after = values(&scanner, &masked);
            for v in &before {
                prop_assert!(!after.contains(v), "`{}` survived in {:?}", v, masked);
            }
        }
    }

    /// Any text before a value, except what would make it another value: a currency sign
    /// (`$ 529.982.247-25` is money), a digit (`9 2000-0000` is a whole mobile number) or
    /// a closing parenthesis (`(11) 2000-0000` takes the area code).
    #[test]
    fn planted_values_are_found(v in value(), f in filler().prop_filter("joins the value", |f| !joins_the_value(f))) {
        planted_value_is_found(&f, &v)?;
    }

    #[test]
    fn fakes_are_valid_same_format_and_stable(v in prop_oneof![cpf(), cnpj(), phone()]) {
        let scanner = Scanner::new();
        let kind = scanner.scan(&v)[0].kind;
        let r = Redactor::new(scanner.clone(), Mode::Fake(key()));
        let fake = r.replacement(kind, &v);
        prop_assert_ne!(&fake, &v);
        // The same skeleton: separators where they were.
        let skeleton = |s: &str| s.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect::<String>();
        prop_assert_eq!(skeleton(&fake), skeleton(&v));
        // Valid: found again, as the same kind, whole.
        let again = scanner.scan(&fake);
        prop_assert_eq!(again.len(), 1, "{:?} → {:?}", v, fake);
        prop_assert_eq!(again[0].kind, kind);
        prop_assert_eq!(again[0].range.clone(), 0..fake.len());
        // Stable across redactors (and so across runs and threads).
        let other = Redactor::new(Scanner::new(), Mode::Fake(key()));
        prop_assert_eq!(other.replacement(kind, &v), fake);
    }

    #[test]
    fn fake_emails_are_reserved_and_not_found_again(v in email()) {
        let r = Redactor::new(Scanner::new(), Mode::Fake(key()));
        let fake = r.replacement(Kind::Email, &v);
        prop_assert!(fake.ends_with("@example.com"));
        prop_assert!(r.scanner().scan(&fake).is_empty());
    }
}

/// Cases proptest once found (they were in a regressions file, which is no longer read).
#[test]
fn past_failures_stay_fixed() {
    for v in ["2454-4969", "2000-0000"] {
        planted_value_is_found(" ", v).unwrap();
        planted_value_is_found("", v).unwrap();
    }
    // The flake: a generated filler ending in a digit made `9 2000-0000`, one mobile number.
    assert!(joins_the_value("abc 9"));
    assert!(joins_the_value("(11)"));
    assert!(!joins_the_value("abc 9 "));
    let t = "Dados:9 2000-0000. Obrigado";
    assert_eq!(values(&Scanner::new(), t), ["9 2000-0000"]);
}
