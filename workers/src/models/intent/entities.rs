//! Entity extraction: order number (BrewVi's `#10234`, `ORD-10234`, "order
//! 10234"), e-mail, phone, product (from the tenant's catalog, with common
//! short names) and a money amount.
//!
//! The catalog here is the demo tenant's; a tenant-specific catalog can be
//! passed to [`extract_entities`].

use std::sync::LazyLock;

use regex::Regex;
use switchboard_engine::event::Entities;

use crate::models::critic::{PiiKind, find_pii};

/// A product as the customer may name it: canonical name and lower-case
/// aliases (the canonical name is matched too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The catalog name reported in `Entities::product`.
    pub name: &'static str,
    /// Lower-case phrases that mean this product (longest first wins).
    pub aliases: &'static [&'static str],
}

/// BrewVi Coffee's catalog (from its product feed), with short names.
pub const BREWVI_PRODUCTS: &[Product] = &[
    Product {
        name: "Premium Single-Serve Coffee Brewer",
        aliases: &[
            "premium brewer",
            "single-serve brewer",
            "premium single-serve",
            "brwr-prem",
        ],
    },
    Product {
        name: "The Bruvi Bundle",
        aliases: &["bruvi bundle", "brwr-bndl"],
    },
    Product {
        name: "Certified Pre-Owned Brewer",
        aliases: &[
            "pre-owned brewer",
            "preowned brewer",
            "refurbished brewer",
            "pre-owned",
        ],
    },
    Product {
        name: "Lamill Signature Blend Coffee Pods (Medium Roast)",
        aliases: &["lamill", "signature blend"],
    },
    Product {
        name: "Equator Guatemala Huehuetenango Coffee Pods (Light Roast)",
        aliases: &["equator", "guatemala", "huehuetenango"],
    },
    Product {
        name: "Klatch Midnight Blend Coffee Pods (Dark Roast)",
        aliases: &["klatch", "midnight blend"],
    },
    Product {
        name: "Joyride Double Shot Espresso Pods",
        aliases: &["joyride", "espresso pods", "double shot"],
    },
    Product {
        name: "Saka Matcha Latte Pods",
        aliases: &["matcha", "saka"],
    },
    Product {
        name: "Masala Chai Latte Pods",
        aliases: &["chai", "masala"],
    },
    Product {
        name: "The Explorer Pack Variety",
        aliases: &["explorer pack", "explorer"],
    },
    Product {
        name: "Office Variety Pack",
        aliases: &["office variety", "office pack"],
    },
    Product {
        name: "Descaling Solution (3-pack)",
        aliases: &["descaling solution", "descaler", "descaling"],
    },
    Product {
        name: "Cleaning Pods (10-pack)",
        aliases: &["cleaning pods", "cleaning pod"],
    },
    Product {
        name: "Insulated Travel Mug (20 oz)",
        aliases: &["travel mug", "mug"],
    },
    Product {
        name: "Virtual Gift Card",
        aliases: &["virtual gift card", "e-gift card", "egift"],
    },
    Product {
        name: "Physical Gift Card",
        aliases: &["physical gift card", "gift card"],
    },
    Product {
        name: "Premium Single-Serve Coffee Brewer",
        aliases: &["brewer", "coffee machine", "machine"],
    },
];

fn regex(pattern: &str) -> Regex {
    // Literal patterns, exercised by the unit tests.
    Regex::new(pattern).expect("compiled-in entity pattern is valid")
}

/// `#10234`, `ORD-10234`, `order 10234`, `order number: 10234`, `order no. 10234`.
static ORDER: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)(?:#\s?|\bord-|\border\s*(?:number|num|no\.?|id)?\s*[:#]?\s*#?)(\d{4,6})\b")
});
/// `$24.99`, `24.99 dollars`, `USD 50`.
static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\$\s?(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)|\b(\d+(?:\.\d{1,2})?)\s?(?:dollars|usd|bucks)\b|\busd\s?(\d+(?:\.\d{1,2})?)",
    )
});

/// Extract entities from `text` using `catalog` for product names.
pub fn extract_entities(text: &str, catalog: &[Product]) -> Entities {
    let pii = find_pii(text);
    let first = |kind: PiiKind| {
        pii.iter()
            .find(|s| s.kind == kind)
            .map(|s| text[s.start..s.end].to_owned())
    };
    Entities {
        order_number: ORDER
            .captures(text)
            .and_then(|c| c.get(1))
            .map(|m| format!("#{}", m.as_str())),
        email: first(PiiKind::Email),
        phone: first(PiiKind::Phone),
        product: product(text, catalog),
        amount: amount(text),
        days_ago: days_ago(text),
    }
}

/// "3 weeks ago", "two months ago", "over a month ago", "last year".
static AGO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\b(?:(over|more than|about|almost|nearly)\s+)?(\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a couple of|a few|few|several)",
        r"\s+(day|week|month|year)s?\s+(ago|back|since|old)\b|\blast (week|month|year)\b",
    ))
    .expect("compiled-in pattern is valid")
});

/// The largest "… ago" the text states, in days.
fn days_ago(text: &str) -> Option<u32> {
    AGO.captures_iter(text)
        .filter_map(|c| {
            if let Some(unit) = c.get(5) {
                return Some(unit_days(unit.as_str()));
            }
            let count = count_of(c.get(2)?.as_str())?;
            let more = c.get(1).is_some_and(|m| {
                let m = m.as_str().to_lowercase();
                m == "over" || m == "more than"
            });
            Some(count * unit_days(c.get(3)?.as_str()) + u32::from(more))
        })
        .max()
}

fn unit_days(unit: &str) -> u32 {
    match unit.to_lowercase().as_str() {
        "week" => 7,
        "month" => 30,
        "year" => 365,
        _ => 1,
    }
}

fn count_of(word: &str) -> Option<u32> {
    const WORDS: &[&str] = &[
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve",
    ];
    let w = word.to_lowercase();
    if let Ok(n) = w.parse() {
        return Some(n);
    }
    match w.as_str() {
        "a" | "an" => Some(1),
        "a couple of" => Some(2),
        "a few" | "few" | "several" => Some(3),
        _ => WORDS.iter().position(|x| *x == w).map(|i| i as u32 + 1),
    }
}

fn product(text: &str, catalog: &[Product]) -> Option<String> {
    let lower = text.to_lowercase();
    let mut best: Option<(usize, &'static str)> = None;
    for p in catalog {
        let names =
            std::iter::once(p.name.to_lowercase()).chain(p.aliases.iter().map(|a| (*a).to_owned()));
        for alias in names {
            let hit = lower
                .match_indices(&alias)
                .any(|(i, _)| word_bounded(&lower, i, i + alias.len()));
            if hit && best.is_none_or(|(len, _)| alias.len() > len) {
                best = Some((alias.len(), p.name));
            }
        }
    }
    best.map(|(_, name)| name.to_owned())
}

fn word_bounded(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

fn amount(text: &str) -> Option<f64> {
    let caps = AMOUNT.captures(text)?;
    let raw = caps
        .get(1)
        .or_else(|| caps.get(2))
        .or_else(|| caps.get(3))?
        .as_str();
    raw.replace(',', "").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_long_ago_is_read_in_days() {
        assert_eq!(days_ago("I bought it two months ago"), Some(60));
        assert_eq!(days_ago("got it 3 weeks ago"), Some(21));
        assert_eq!(days_ago("over a month ago, I think"), Some(31));
        assert_eq!(days_ago("ordered last week"), Some(7));
        assert_eq!(days_ago("a couple of days ago"), Some(2));
        assert_eq!(days_ago("where is my order"), None);
    }

    #[test]
    fn extracts_brewvi_entities() {
        let e = extract_entities(
            "Order ORD-10234: the Klatch Midnight Blend pods were stale, refund $25.99 to jo@example.com or call 555-201-3344",
            BREWVI_PRODUCTS,
        );
        assert_eq!(e.order_number.as_deref(), Some("#10234"));
        assert_eq!(
            e.product.as_deref(),
            Some("Klatch Midnight Blend Coffee Pods (Dark Roast)")
        );
        assert_eq!(e.amount, Some(25.99));
        assert_eq!(e.email.as_deref(), Some("jo@example.com"));
        assert_eq!(e.phone.as_deref(), Some("555-201-3344"));
    }

    #[test]
    fn order_number_forms() {
        for text in [
            "where is #10234",
            "order 10234 please",
            "order number: 10234",
            "ORD-10234",
        ] {
            assert_eq!(
                extract_entities(text, BREWVI_PRODUCTS)
                    .order_number
                    .as_deref(),
                Some("#10234"),
                "{text}"
            );
        }
        assert_eq!(
            extract_entities("I paid 30 dollars", BREWVI_PRODUCTS).amount,
            Some(30.0)
        );
        assert_eq!(
            extract_entities("my machine is broken", BREWVI_PRODUCTS)
                .product
                .as_deref(),
            Some("Premium Single-Serve Coffee Brewer")
        );
        assert_eq!(
            extract_entities("hello", BREWVI_PRODUCTS),
            Entities::default()
        );
    }
}
