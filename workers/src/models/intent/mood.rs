//! Frustration and urgency read over the whole conversation, not only the
//! latest message (DESIGN §3, "very negative sentiment").
//!
//! A customer rarely writes one furious message: "my order is late", then
//! "still nothing today", then "this is getting frustrating, twelve days".
//! Each message alone is only negative; together they need a human. The
//! conversation's score is the latest message's lexicon score plus the
//! negative part of the earlier ones, each weighed less the further back it
//! is. It only hands over when the latest message is itself negative: a
//! polite closing after a bad start is not a new reason to escalate.

use switchboard_engine::event::Sentiment;

use super::sentiment::{VERY_NEGATIVE, score};

/// How much an earlier message counts per turn back (the previous one 0.6,
/// the one before 0.36, ...).
const DECAY: f32 = 0.6;

/// The latest message must be at least this negative for the conversation
/// to make it very negative.
const LATEST_FLOOR: f32 = -1.0;

/// The conversation's score: the latest message plus the decayed heat of
/// the earlier ones (`past` oldest first). Lower is angrier.
pub fn conversation_score(past: &[String], latest: &str) -> f32 {
    let mut weight = 1.0;
    let mut total = score(latest);
    for earlier in past.iter().rev() {
        weight *= DECAY;
        total += weight * score(earlier).min(0.0);
    }
    total
}

/// The sentiment to record for `latest` given the earlier messages: the
/// message's own `sentiment`, raised to very negative when the heat of the
/// conversation reaches it and the latest message is itself negative.
pub fn in_conversation(sentiment: Sentiment, past: &[String], latest: &str) -> Sentiment {
    if sentiment == Sentiment::VeryNegative || past.is_empty() {
        return sentiment;
    }
    let own = score(latest);
    if own <= LATEST_FLOOR && conversation_score(past, latest) <= VERY_NEGATIVE {
        Sentiment::VeryNegative
    } else {
        sentiment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn past(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn given_frustration_building_over_turns_when_the_latest_is_negative_then_very_negative() {
        let earlier = past(&["My order is late", "Still nothing today"]);
        let latest = "This is getting frustrating, I've now waited 12 days";
        assert_ne!(super::super::sentiment(latest).0, Sentiment::VeryNegative);
        assert_eq!(
            in_conversation(Sentiment::Negative, &earlier, latest),
            Sentiment::VeryNegative
        );
    }

    #[test]
    fn given_an_angry_start_when_the_customer_thanks_then_the_closing_stays_as_it_is() {
        let earlier = past(&["This is ridiculous, my order is two weeks late and nobody answers"]);
        assert_eq!(
            in_conversation(
                Sentiment::Positive,
                &earlier,
                "ok great, thanks for sorting it"
            ),
            Sentiment::Positive
        );
    }

    #[test]
    fn given_a_calm_conversation_when_a_mildly_negative_message_comes_then_it_stays_negative() {
        let earlier = past(&["Where is my order?", "It's #10234"]);
        let latest = "a bit disappointed it's late";
        assert_eq!(
            in_conversation(Sentiment::Negative, &earlier, latest),
            Sentiment::Negative
        );
    }

    #[test]
    fn earlier_messages_count_less_the_further_back_they_are() {
        let angry = "I'm fed up, this is unacceptable";
        let near = conversation_score(&past(&["hello", angry]), "still not here");
        let far = conversation_score(&past(&[angry, "hello"]), "still not here");
        assert!(near < far, "{near} vs {far}");
        assert_eq!(
            conversation_score(&[], "still not here"),
            score("still not here")
        );
    }
}
