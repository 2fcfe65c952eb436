//! Check digits of CPF and CNPJ, and the list of Brazilian area codes (DDD).

/// Mod-11 check digit over `digits` with `weights` (the rule CPF and CNPJ share).
fn mod11(digits: &[u8], weights: &[u32]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(weights)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    let r = sum % 11;
    if r < 2 { 0 } else { (11 - r) as u8 }
}

fn all_same(digits: &[u8]) -> bool {
    digits.windows(2).all(|w| w[0] == w[1])
}

/// The two check digits of a CPF whose first nine digits (values 0–9) are `base`.
pub fn cpf_check_digits(base: &[u8; 9]) -> [u8; 2] {
    let d1 = mod11(base, &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
    let mut ten = [0u8; 10];
    ten[..9].copy_from_slice(base);
    ten[9] = d1;
    let d2 = mod11(&ten, &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
    [d1, d2]
}

/// Eleven digit values (0–9): valid check digits and not one repeated digit
/// (`111.111.111-11` passes the arithmetic but is never issued).
pub fn is_valid_cpf(d: &[u8]) -> bool {
    let Ok(all) = <&[u8; 11]>::try_from(d) else {
        return false;
    };
    if all_same(all) {
        return false;
    }
    let mut base = [0u8; 9];
    base.copy_from_slice(&all[..9]);
    cpf_check_digits(&base) == [all[9], all[10]]
}

/// The two check digits of a CNPJ whose first twelve characters have values `base`
/// (digits 0–9; for the alphanumeric CNPJ a letter counts as its ASCII code minus 48).
pub fn cnpj_check_digits(base: &[u8; 12]) -> [u8; 2] {
    let d1 = mod11(base, &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
    let mut thirteen = [0u8; 13];
    thirteen[..12].copy_from_slice(base);
    thirteen[12] = d1;
    let d2 = mod11(&thirteen, &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
    [d1, d2]
}

/// Fourteen values: valid check digits and not one repeated digit.
pub fn is_valid_cnpj(d: &[u8]) -> bool {
    let Ok(all) = <&[u8; 14]>::try_from(d) else {
        return false;
    };
    if all_same(all) {
        return false;
    }
    let mut base = [0u8; 12];
    base.copy_from_slice(&all[..12]);
    cnpj_check_digits(&base) == [all[12], all[13]]
}

/// Brazilian area codes in use (Anatel): two digit values.
pub fn is_ddd(a: u8, b: u8) -> bool {
    matches!(
        a * 10 + b,
        11..=19
            | 21
            | 22
            | 24
            | 27
            | 28
            | 31..=35
            | 37
            | 38
            | 41..=49
            | 51
            | 53..=55
            | 61..=69
            | 71
            | 73..=75
            | 77
            | 79
            | 81..=89
            | 91..=99
    )
}

/// ASCII digits to values; `None` if any byte is not a digit.
#[cfg(test)]
pub fn values(ascii: &[u8]) -> Option<Vec<u8>> {
    ascii
        .iter()
        .map(|b| b.is_ascii_digit().then(|| b - b'0'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<u8> {
        values(s.as_bytes()).unwrap()
    }

    #[test]
    fn cpf_check_digits_known_values() {
        assert!(is_valid_cpf(&v("52998224725")));
        assert!(is_valid_cpf(&v("11144477735")));
        assert!(!is_valid_cpf(&v("52998224726")));
        assert!(
            !is_valid_cpf(&v("11111111111")),
            "repeated digits pass mod 11 but are invalid"
        );
        assert!(!is_valid_cpf(&v("00000000000")));
        assert!(!is_valid_cpf(&v("1234567890")));
    }

    #[test]
    fn cnpj_check_digits_known_values() {
        assert!(is_valid_cnpj(&v("11222333000181")));
        assert!(is_valid_cnpj(&v("11444777000161")));
        assert!(!is_valid_cnpj(&v("11222333000182")));
        assert!(!is_valid_cnpj(&v("00000000000000")));
        // Receita's published alphanumeric example 12.ABC.345/01DE-35
        let alnum: Vec<u8> = "12ABC34501DE35".bytes().map(|b| b - b'0').collect();
        assert!(is_valid_cnpj(&alnum));
    }

    #[test]
    fn area_codes() {
        assert!(is_ddd(1, 1) && is_ddd(6, 1) && is_ddd(9, 9) && is_ddd(2, 7));
        assert!(!is_ddd(2, 0) && !is_ddd(2, 3) && !is_ddd(5, 2) && !is_ddd(7, 2) && !is_ddd(1, 0));
    }
}
