//! Personal data in free text: e-mail addresses, phone numbers, payment
//! cards (Luhn), US SSNs (SSA rules), IBANs (mod-97) and street addresses.
//!
//! Used both ways: the input critic redacts the customer's own data before
//! later steps see it, and the output critic looks for data in a draft that
//! the customer did not give us. Spans are byte offsets into the text.

use std::sync::LazyLock;

use regex::Regex;
use switchboard_engine::event::Redaction;

use super::checks::{iban_valid, luhn_valid, ssn_valid};

/// A kind of personal data the detector knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiKind {
    /// A payment card number that passes Luhn.
    Card,
    /// A US social security number.
    Ssn,
    /// An IBAN that passes mod-97.
    Iban,
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A street address (house number, street name, street type).
    Address,
}

impl PiiKind {
    /// The name used in [`Redaction::kind`] and audit records.
    pub fn name(self) -> &'static str {
        match self {
            PiiKind::Card => "card",
            PiiKind::Ssn => "ssn",
            PiiKind::Iban => "iban",
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::Address => "address",
        }
    }
}

/// One piece of personal data found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiSpan {
    /// What it is.
    pub kind: PiiKind,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl PiiSpan {
    /// The span as a [`Redaction`] for the `screened` event.
    pub fn to_redaction(&self) -> Redaction {
        Redaction {
            kind: self.kind.name().to_owned(),
            start: self.start,
            end: self.end,
        }
    }

    /// A comparable form of the value (digits only, or lower-cased), so the
    /// output critic can tell whether the customer gave it to us.
    pub fn normalized(&self, text: &str) -> String {
        let value = &text[self.start..self.end];
        match self.kind {
            PiiKind::Email | PiiKind::Iban | PiiKind::Address => value
                .chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_lowercase)
                .collect(),
            _ => value.chars().filter(char::is_ascii_digit).collect(),
        }
    }
}

fn regex(pattern: &str) -> Regex {
    // Every pattern in this module is a literal checked by the unit tests.
    Regex::new(pattern).expect("compiled-in PII pattern is valid")
}

/// Card numbers: 12-19 digits, optionally grouped by spaces or dashes.
static CARD: LazyLock<Regex> = LazyLock::new(|| regex(r"\d(?:[ -]?\d){11,18}"));
/// SSNs in their usual written form.
static SSN: LazyLock<Regex> = LazyLock::new(|| regex(r"\d{3}[- ]\d{2}[- ]\d{4}"));
/// IBANs: country, check digits, then 11-30 alphanumerics, maybe grouped.
static IBAN: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)[a-z]{2}\d{2}(?:[ ]?[a-z0-9]){11,30}"));
/// E-mail addresses (pragmatic, not RFC 5322).
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"));
/// Phone numbers: optional `+CC`, optional `(0)` or `(area)`, then 2-5
/// digit groups separated by space, dash or dot, optional extension; or one
/// run of 10-12 digits.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?:\+\d{1,3}[ .-]?)?(?:\(0\)[ ]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]\d{2,8}){1,4}(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?|\+?\d{10,12}",
    )
});
/// Street addresses: a house number, one to three capitalised words and a
/// street type.
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b\d{1,5}(?:\s+[A-Z][a-zA-Z]+){1,3}\s+(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Circle|Cir)\b",
    )
});
/// Dates look like phone numbers (`2024-05-01`, `12/05/2024`); skip them.
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})(?:$|[ T])")
});

/// A checksum or plausibility check on a candidate match.
type Validator = fn(&str) -> bool;

/// Every piece of personal data in `text`, sorted by start, not overlapping.
/// When two candidates overlap, the one with a checksum wins (card, SSN,
/// IBAN), then e-mail, phone and address.
pub fn find_pii(text: &str) -> Vec<PiiSpan> {
    let mut found: Vec<PiiSpan> = Vec::new();
    let detectors: [(PiiKind, &Regex, Validator); 6] = [
        (PiiKind::Card, &CARD, luhn_valid),
        (PiiKind::Ssn, &SSN, ssn_valid),
        (PiiKind::Iban, &IBAN, iban_valid),
        (PiiKind::Email, &EMAIL, |_| true),
        (PiiKind::Phone, &PHONE, phone_plausible),
        (PiiKind::Address, &ADDRESS, |_| true),
    ];
    for (kind, pattern, valid) in detectors {
        for m in pattern.find_iter(text) {
            let Some(end) = longest_valid(text, kind, m.start(), m.end(), valid) else {
                continue;
            };
            let span = PiiSpan {
                kind,
                start: m.start(),
                end,
            };
            if !found.iter().any(|f| overlaps(f, &span)) {
                found.push(span);
            }
        }
    }
    found.sort_by_key(|s| s.start);
    found
}

/// The end of the longest valid, standalone candidate starting at `start`.
/// Greedy patterns can swallow a following word ("GB82...32 to" for an
/// IBAN), so checksum kinds retry shorter prefixes of the match.
fn longest_valid(
    text: &str,
    kind: PiiKind,
    start: usize,
    end: usize,
    valid: fn(&str) -> bool,
) -> Option<usize> {
    // A '+' in front means an international phone number, not a card.
    if kind == PiiKind::Card && text[..start].ends_with('+') {
        return None;
    }
    let accept = |e: usize| {
        (kind == PiiKind::Address || standalone(text, start, e)) && valid(&text[start..e])
    };
    if accept(end) {
        return Some(end);
    }
    if !matches!(kind, PiiKind::Card | PiiKind::Iban) {
        return None;
    }
    let candidates = text[start..end]
        .char_indices()
        .map(|(i, c)| start + i + c.len_utf8());
    let ends: Vec<usize> = candidates.filter(|&e| e < end && e - start >= 12).collect();
    ends.into_iter().rev().find(|&e| accept(e))
}

fn overlaps(a: &PiiSpan, b: &PiiSpan) -> bool {
    a.start < b.end && b.start < a.end
}

/// The match is not glued to letters or digits on either side (so a digit
/// run inside an IBAN or an e-mail is not a phone).
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '@' || c == '_');
    !glued(before) && !glued(after)
}

fn phone_plausible(candidate: &str) -> bool {
    let digits = candidate.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&digits) && !DATE.is_match(candidate)
}

/// Replace each span of `text` by `[<kind> redacted]`. Spans are byte
/// offsets; overlapping, out-of-range or non-boundary spans are skipped
/// rather than panicking.
pub fn redact(text: &str, spans: &[Redaction]) -> String {
    let mut sorted: Vec<&Redaction> = spans.iter().collect();
    sorted.sort_by_key(|r| (r.start, r.end));
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for span in sorted {
        let usable = span.start >= cursor
            && span.start < span.end
            && span.end <= text.len()
            && text.is_char_boundary(span.start)
            && text.is_char_boundary(span.end);
        if !usable {
            continue;
        }
        out.push_str(&text[cursor..span.start]);
        out.push('[');
        out.push_str(&span.kind);
        out.push_str(" redacted]");
        cursor = span.end;
    }
    out.push_str(&text[cursor..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(PiiKind, &str)> {
        find_pii(text)
            .into_iter()
            .map(|s| (s.kind, &text[s.start..s.end]))
            .collect()
    }

    #[test]
    fn finds_each_kind() {
        let text = "Card 4111 1111 1111 1111, SSN 123-45-6789, IBAN GB82 WEST 1234 5698 7654 32, \
                    mail jo@example.com, call +1-555-201-3344, I live at 12 Elm Street.";
        let found = kinds(text);
        assert_eq!(
            found,
            vec![
                (PiiKind::Card, "4111 1111 1111 1111"),
                (PiiKind::Ssn, "123-45-6789"),
                (PiiKind::Iban, "GB82 WEST 1234 5698 7654 32"),
                (PiiKind::Email, "jo@example.com"),
                (PiiKind::Phone, "+1-555-201-3344"),
                (PiiKind::Address, "12 Elm Street"),
            ]
        );
    }

    #[test]
    fn ignores_order_numbers_dates_and_bad_checksums() {
        assert!(kinds("Order #10234 placed 2024-05-01 for $24.99").is_empty());
        assert!(
            kinds("card 4111 1111 1111 1112")
                .iter()
                .all(|(k, _)| *k != PiiKind::Card)
        );
    }

    #[test]
    fn redact_replaces_spans_by_byte_offset() {
        let text = "é mail jo@example.com now";
        let spans: Vec<Redaction> = find_pii(text).iter().map(PiiSpan::to_redaction).collect();
        assert_eq!(spans[0].start, 8);
        assert_eq!(redact(text, &spans), "é mail [email redacted] now");
        let bogus = [Redaction {
            kind: "x".into(),
            start: 1,
            end: 2,
        }];
        assert_eq!(
            redact(text, &bogus),
            text,
            "a span inside a char is skipped"
        );
    }
}
