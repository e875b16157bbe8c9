//! Checksum validators for structured personal data: payment cards (Luhn),
//! IBANs (ISO 13616 mod-97) and US social security numbers (SSA rules).
//!
//! A pattern alone flags every long digit run; the checksums are what keep
//! order numbers and SKUs from being redacted as card numbers.

/// True when `digits` (ASCII digits only, other characters ignored) pass the
/// Luhn check and have a payment-card length (12..=19).
pub fn luhn_valid(number: &str) -> bool {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(12..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// True when `iban` (spaces allowed, any case) has a plausible shape and its
/// mod-97 checksum is 1.
pub fn iban_valid(iban: &str) -> bool {
    let compact: Vec<char> = iban
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !(15..=34).contains(&compact.len()) || !compact.iter().all(char::is_ascii_alphanumeric) {
        return false;
    }
    let shape_ok = compact[..2].iter().all(char::is_ascii_alphabetic)
        && compact[2..4].iter().all(char::is_ascii_digit);
    if !shape_ok {
        return false;
    }
    // Move the country code and check digits to the end, letters become
    // 10..=35, and reduce digit by digit so no big integers are needed.
    let rotated = compact[4..].iter().chain(compact[..4].iter());
    let mut remainder: u32 = 0;
    for c in rotated {
        let Some(value) = c.to_digit(36) else {
            return false;
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// True when `ssn` (`AAA-GG-SSSS`, dashes or spaces optional) follows the
/// SSA's issuing rules: area not 000, 666 or 900-999; group not 00; serial
/// not 0000.
pub fn ssn_valid(ssn: &str) -> bool {
    let digits: String = ssn.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 9 {
        return false;
    }
    let (area, rest) = digits.split_at(3);
    let (group, serial) = rest.split_at(2);
    let area_ok = area != "000" && area != "666" && !area.starts_with('9');
    area_ok && group != "00" && serial != "0000"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_valid_cards_and_rejects_typos() {
        assert!(luhn_valid("4111 1111 1111 1111"));
        assert!(luhn_valid("5500-0000-0000-0004"));
        assert!(luhn_valid("378282246310005"));
        assert!(!luhn_valid("4111 1111 1111 1112"));
        assert!(!luhn_valid("1234567890123456"));
        // Too short to be a card even if the checksum works.
        assert!(!luhn_valid("18"));
    }

    #[test]
    fn iban_checks_mod_97() {
        assert!(iban_valid("GB82 WEST 1234 5698 7654 32"));
        assert!(iban_valid("de89370400440532013000"));
        assert!(!iban_valid("GB82 WEST 1234 5698 7654 33"));
        assert!(!iban_valid("1282WEST12345698765432"));
        assert!(!iban_valid("GB82"));
    }

    #[test]
    fn ssn_follows_ssa_rules() {
        assert!(ssn_valid("123-45-6789"));
        assert!(ssn_valid("853-37-1694"));
        assert!(!ssn_valid("000-12-3456"));
        assert!(!ssn_valid("666-12-3456"));
        assert!(!ssn_valid("912-12-3456"));
        assert!(!ssn_valid("123-00-4567"));
        assert!(!ssn_valid("123-45-0000"));
        assert!(!ssn_valid("123-45-678"));
    }
}
