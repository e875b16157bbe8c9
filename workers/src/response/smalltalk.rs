//! Messages that are only a greeting or only thanks.
//!
//! "Hi", "bonjour !", "thanks, that's all" ask nothing: answering them
//! with a policy passage or "I don't have the information" reads as a
//! broken bot. A message is small talk when, once its greeting or thanks
//! words and a few fillers ("there", "team", "so much") are removed,
//! nothing is left.

/// What a small-talk message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallTalk {
    /// A greeting with no question.
    Greeting,
    /// Thanks (or a goodbye) with no question.
    Thanks,
}

const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "hiya",
    "howdy",
    "yo",
    "morning",
    "afternoon",
    "evening",
    "good",
    "bonjour",
    "bonsoir",
    "salut",
    "allo",
    "allô",
    "coucou",
    "hola",
    "buenos",
    "buenas",
    "días",
    "dias",
    "tardes",
    "noches",
];

const THANKS: &[&str] = &[
    "thanks", "thank", "thx", "ty", "cheers", "bye", "goodbye", "merci", "gracias", "adiós",
    "adios", "revoir",
];

/// Words that may go with a greeting or thanks without asking anything.
const FILLERS: &[&str] = &[
    "there",
    "team",
    "all",
    "everyone",
    "folks",
    "you",
    "so",
    "much",
    "a",
    "lot",
    "very",
    "again",
    "that's",
    "thats",
    "it",
    "is",
    "that",
    "ok",
    "okay",
    "great",
    "perfect",
    "brewvi",
    "support",
    "for",
    "the",
    "help",
    "your",
    "bien",
    "beaucoup",
    "à",
    "au",
    "tous",
    "l'équipe",
    "équipe",
    "pour",
    "votre",
    "aide",
    "parfait",
    "d'accord",
    "c'est",
    "tout",
    "muchas",
    "mil",
    "por",
    "su",
    "ayuda",
    "todo",
    "equipo",
    "perfecto",
    "vale",
    "es",
    "eso",
];

/// Whether `text` is only a greeting or only thanks. Thanks wins when both
/// appear ("hi, thanks!" closes a conversation).
pub fn detect(text: &str) -> Option<SmallTalk> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() || words.len() > 8 {
        return None;
    }
    let (mut greeting, mut thanks) = (false, false);
    for w in &words {
        if THANKS.contains(w) {
            thanks = true;
        } else if GREETINGS.contains(w) {
            greeting = true;
        } else if !FILLERS.contains(w) {
            return None;
        }
    }
    match (greeting, thanks) {
        (_, true) => Some(SmallTalk::Thanks),
        (true, false) => Some(SmallTalk::Greeting),
        (false, false) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_greetings_and_thanks_in_three_languages_when_detected_then_they_are_small_talk() {
        for g in [
            "Hi",
            "hello there!",
            "Good morning",
            "Bonjour",
            "Hola, buenos días",
        ] {
            assert_eq!(detect(g), Some(SmallTalk::Greeting), "{g}");
        }
        for t in [
            "thanks!",
            "Thank you so much",
            "merci beaucoup",
            "muchas gracias",
        ] {
            assert_eq!(detect(t), Some(SmallTalk::Thanks), "{t}");
        }
    }

    #[test]
    fn given_a_greeting_with_a_question_when_detected_then_it_is_not_small_talk() {
        for q in [
            "Hi, where is my order?",
            "hello my brewer is broken",
            "thanks but I still have no refund",
            "Bonjour, où est ma commande ?",
        ] {
            assert_eq!(detect(q), None, "{q}");
        }
    }
}
