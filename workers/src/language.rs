//! The customer's language: detection and the languages answers are
//! written in.
//!
//! Switchboard answers in English, French (Canada) and Spanish. Detection
//! uses `whatlang` restricted to those three (trigram profiles, no model
//! files, deterministic). On very short messages trigrams say little
//! ("merci", "hola"), so a handful of unmistakable greeting and courtesy
//! words decide first; anything else that is not clearly French or
//! Spanish is English, the tenant's default.

use std::sync::LazyLock;

use whatlang::{Detector, Lang};

/// A language Switchboard writes answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Language {
    /// English, the default.
    #[default]
    En,
    /// French (Canada).
    Fr,
    /// Spanish.
    Es,
}

impl Language {
    /// Every supported language.
    pub const ALL: [Language; 3] = [Language::En, Language::Fr, Language::Es];

    /// The BCP-47 primary tag: `en`, `fr`, `es`.
    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
            Language::Es => "es",
        }
    }

    /// The language of a BCP-47 tag (`fr-CA` is French); `None` for a
    /// language answers are not written in.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next().unwrap_or(tag);
        Self::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(primary))
    }

    /// The language to answer a customer whose message is tagged `tag`:
    /// English for any language answers are not written in.
    pub fn for_answer(tag: &str) -> Self {
        Self::from_tag(tag).unwrap_or_default()
    }
}

static DETECTOR: LazyLock<Detector> =
    LazyLock::new(|| Detector::with_allowlist(vec![Lang::Eng, Lang::Fra, Lang::Spa]));

/// Words that settle the language of a short message on their own.
const MARKERS: &[(&str, Language)] = &[
    ("bonjour", Language::Fr),
    ("bonsoir", Language::Fr),
    ("salut", Language::Fr),
    ("merci", Language::Fr),
    ("allo", Language::Fr),
    ("allô", Language::Fr),
    ("svp", Language::Fr),
    ("hola", Language::Es),
    ("gracias", Language::Es),
    ("buenos", Language::Es),
    ("buenas", Language::Es),
    ("hello", Language::En),
    ("hi", Language::En),
    ("hey", Language::En),
    ("thanks", Language::En),
    ("thank", Language::En),
];

/// Function words that belong to one of the three languages only: on a
/// short message they say more than letter trigrams do.
const FUNCTION_WORDS: &[(&str, Language)] = &[
    ("the", Language::En),
    ("my", Language::En),
    ("is", Language::En),
    ("do", Language::En),
    ("does", Language::En),
    ("you", Language::En),
    ("your", Language::En),
    ("i", Language::En),
    ("what", Language::En),
    ("how", Language::En),
    ("can", Language::En),
    ("to", Language::En),
    ("of", Language::En),
    ("and", Language::En),
    ("it", Language::En),
    ("where", Language::En),
    ("when", Language::En),
    ("want", Language::En),
    ("please", Language::En),
    ("je", Language::Fr),
    ("ma", Language::Fr),
    ("mon", Language::Fr),
    ("mes", Language::Fr),
    ("le", Language::Fr),
    ("les", Language::Fr),
    ("est", Language::Fr),
    ("vous", Language::Fr),
    ("votre", Language::Fr),
    ("vos", Language::Fr),
    ("pour", Language::Fr),
    ("une", Language::Fr),
    ("des", Language::Fr),
    ("pas", Language::Fr),
    ("ne", Language::Fr),
    ("où", Language::Fr),
    ("veux", Language::Fr),
    ("quels", Language::Fr),
    ("avec", Language::Fr),
    ("combien", Language::Fr),
    ("mi", Language::Es),
    ("mis", Language::Es),
    ("el", Language::Es),
    ("los", Language::Es),
    ("las", Language::Es),
    ("es", Language::Es),
    ("una", Language::Es),
    ("por", Language::Es),
    ("para", Language::Es),
    ("quiero", Language::Es),
    ("cómo", Language::Es),
    ("dónde", Language::Es),
    ("está", Language::Es),
    ("cuál", Language::Es),
    ("tengo", Language::Es),
    ("su", Language::Es),
    ("del", Language::Es),
    ("con", Language::Es),
    ("cuánto", Language::Es),
];

/// `c` without its French or Spanish accent (`é` → `e`, `ñ` → `n`); any
/// other character unchanged. Lexicons written without accents match
/// customers who type them and customers who do not.
pub fn unaccent(c: char) -> char {
    match c {
        'à' | 'â' | 'á' | 'ä' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'î' | 'ï' | 'í' => 'i',
        'ô' | 'ó' | 'ö' => 'o',
        'ù' | 'û' | 'ú' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        c => c,
    }
}

/// The language `text` is written in: a greeting or courtesy word decides
/// a very short message; then the language with the most of its own
/// function words, when one has more than the others; then whatlang when
/// it is reliable; English otherwise.
pub fn detect(text: &str) -> Language {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() <= 3
        && let Some(language) = vote(&words, MARKERS)
    {
        return language;
    }
    if let Some(language) = vote(&words, FUNCTION_WORDS) {
        return language;
    }
    match DETECTOR.detect(text) {
        Some(info) if info.is_reliable() => match info.lang() {
            Lang::Fra => Language::Fr,
            Lang::Spa => Language::Es,
            _ => Language::En,
        },
        _ => vote(&words, MARKERS).unwrap_or_default(),
    }
}

/// The language with strictly the most words of `table` in `words`.
fn vote(words: &[&str], table: &[(&str, Language)]) -> Option<Language> {
    let mut counts = [0usize; 3];
    for w in words {
        if let Some((_, l)) = table.iter().find(|(m, _)| m == w) {
            counts[*l as usize] += 1;
        }
    }
    let best = (0..3).max_by_key(|&i| counts[i])?;
    let unique = counts.iter().filter(|&&c| c == counts[best]).count() == 1;
    (counts[best] > 0 && unique).then(|| Language::ALL[best])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Short customer messages written for this test, with their language.
    const SAMPLES: &[(&str, Language)] = &[
        ("Where is my order?", Language::En),
        ("hi", Language::En),
        ("thanks a lot!", Language::En),
        ("My brewer won't turn on", Language::En),
        ("How long does shipping to Texas take?", Language::En),
        ("Can I return opened pods?", Language::En),
        ("cancel order 10234 please", Language::En),
        ("What are your opening hours?", Language::En),
        ("Do my points expire?", Language::En),
        ("I want a refund", Language::En),
        ("tracking number for 10600", Language::En),
        ("Is the brewer in stock?", Language::En),
        ("Bonjour", Language::Fr),
        ("merci beaucoup", Language::Fr),
        ("Où est ma commande ?", Language::Fr),
        ("Quels sont vos horaires d'ouverture ?", Language::Fr),
        ("Je veux annuler ma commande", Language::Fr),
        ("Ma cafetière ne fonctionne plus", Language::Fr),
        ("Combien de temps prend la livraison?", Language::Fr),
        ("Est-ce que je peux retourner mes capsules?", Language::Fr),
        ("Mes points expirent-ils ?", Language::Fr),
        ("Je voudrais un remboursement", Language::Fr),
        ("Livrez-vous au Québec?", Language::Fr),
        ("allo, j'ai une question", Language::Fr),
        ("Hola", Language::Es),
        ("muchas gracias", Language::Es),
        ("¿Dónde está mi pedido?", Language::Es),
        ("¿Cuál es su horario de atención?", Language::Es),
        ("Quiero cancelar mi pedido", Language::Es),
        ("Mi cafetera no funciona", Language::Es),
        ("¿Cuánto tarda el envío a México?", Language::Es),
        ("¿Puedo devolver las cápsulas abiertas?", Language::Es),
        ("¿Mis puntos caducan?", Language::Es),
        ("Quiero un reembolso", Language::Es),
        ("buenos días, tengo una pregunta", Language::Es),
        ("necesito ayuda con mi cuenta", Language::Es),
    ];

    #[test]
    fn given_short_messages_in_three_languages_when_detected_then_at_least_nine_in_ten_are_right() {
        let wrong: Vec<_> = SAMPLES
            .iter()
            .filter(|(text, want)| detect(text) != *want)
            .map(|(text, want)| format!("{text:?}: want {want:?}, got {:?}", detect(text)))
            .collect();
        let right = SAMPLES.len() - wrong.len();
        println!(
            "language detection: {right}/{} right; wrong: {wrong:?}",
            SAMPLES.len()
        );
        assert!(right * 10 >= SAMPLES.len() * 9, "wrong: {wrong:#?}");
    }

    #[test]
    fn given_a_tag_when_parsed_then_regions_map_and_other_languages_fall_back_to_english() {
        assert_eq!(Language::from_tag("fr-CA"), Some(Language::Fr));
        assert_eq!(Language::from_tag("ES"), Some(Language::Es));
        assert_eq!(Language::from_tag("de"), None);
        assert_eq!(Language::for_answer("de"), Language::En);
    }

    #[test]
    fn given_the_same_text_when_detected_twice_then_the_answer_is_the_same() {
        for (text, _) in SAMPLES {
            assert_eq!(detect(text), detect(text));
        }
    }
}
