//! What a message means given the conversation so far.
//!
//! Two decisions need the earlier turns, and both are made here for the
//! local and the remote classifier alike:
//! - **Follow-ups continue the open intent.** A reply that only supplies
//!   what the agent asked for ("it's #10234", an e-mail address), or a short
//!   reply the model cannot place, is classified as the previous turn's
//!   intent, confidently, and is never "repeated contact".
//! - **Repeated contact** (DESIGN §3) is a new contact about a problem
//!   already raised in this conversation: a problem intent after an
//!   earlier problem turn *and* wording that says the problem persists
//!   ("still", "again", "you told me"). A second, different question is
//!   not one, nor is a polite closing.

use std::sync::LazyLock;

use regex::Regex;
use switchboard_engine::event::{Classified, Intent, Signal};
use switchboard_engine::workflow::Policy;

/// Confidence given to a follow-up that continues the open intent.
const FOLLOW_UP_CONFIDENCE: f32 = 0.9;

/// Intents that name a problem the customer can come back about.
const PROBLEMS: &[Intent] = &[
    Intent::OrderStatus,
    Intent::TrackingUpdate,
    Intent::RefundStatus,
    Intent::ReturnRequest,
    Intent::Exchange,
    Intent::BillingIssue,
    Intent::TechnicalSupport,
    Intent::Complaint,
    Intent::AccountHelp,
    Intent::Cancellation,
    Intent::SubscriptionManagement,
];

static PERSISTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\b(still|again|anymore|any more)\b|\byou (said|told|promised|guys said)\b",
        r"|\bi was (told|promised)\b|\b(didn'?t|did not|doesn'?t|does not|hasn'?t|has not|haven'?t|have not|never) ",
        r"(work|help|arrive|arrived|come|came|change|changed|show|turn|get|got|receive|received|fix|fixed)",
        r"|\bno (update|change|news|progress|reply|response)\b|\bsame (problem|issue|thing)\b",
        r"|\bnothing (has )?(happened|changed|arrived)\b|\bit'?s been (\w+ )?(days|weeks)\b",
    ))
    .expect("compiled-in pattern is valid")
});

/// Order numbers, e-mail addresses and phone numbers.
static ENTITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[\w.+-]+@[\w-]+\.[\w.-]+|\b(ord-?)?#?\d[\d -]{2,}\d\b|#\d+")
        .expect("compiled-in pattern is valid")
});

/// Words that carry no request of their own in a reply.
const FILLER: &[&str] = &[
    "my", "order", "number", "no", "is", "it", "it's", "its", "here", "sure", "ok", "okay", "yes",
    "yeah", "yep", "the", "email", "e-mail", "mail", "address", "this", "that", "one", "sorry",
    "forgot", "to", "mention", "and", "thanks", "thank", "you", "of", "for", "hi", "was", "used",
    "i", "under", "name", "phone", "a", "an", "on", "account", "ord", "oh", "right", "should",
    "be", "think", "in", "with", "me", "please", "pls", "that's", "thats", "there", "you", "go",
];

/// `classified` for `text`, given the intents of the earlier turns.
pub fn in_context(mut c: Classified, text: &str, past: &[Intent]) -> Classified {
    let Some(&open) = past.last() else {
        return c;
    };
    if is_info_reply(text) || is_unclear_short_reply(&c, text) {
        c.intent = open;
        c.confidence = c.confidence.max(FOLLOW_UP_CONFIDENCE);
        c.signals.retain(|s| *s != Signal::RepeatContact);
        return c;
    }
    // The model may name a neighbour of the earlier problem ("it still
    // hasn't come through" after a refund question reads as an order
    // status): any problem intent after an earlier problem counts.
    let earlier_problem = past.iter().any(|i| PROBLEMS.contains(i));
    let repeated = PROBLEMS.contains(&c.intent) && earlier_problem && PERSISTS.is_match(text);
    if repeated && !c.signals.contains(&Signal::RepeatContact) {
        c.signals.push(Signal::RepeatContact);
    }
    c
}

/// Below the workflow's confidence floor, a short reply in a conversation
/// with an open intent is read as being about that intent ("ok and when
/// then?", "the blue one"): in a dialogue that is what short replies are,
/// and a hand-off for it would be needless.
fn is_unclear_short_reply(c: &Classified, text: &str) -> bool {
    const SHORT_WORDS: usize = 8;
    c.confidence < Policy::default().min_confidence
        && c.signals.is_empty()
        && text.split_whitespace().count() <= SHORT_WORDS
}

/// A reply that supplies an order number, e-mail or phone and says little
/// else.
fn is_info_reply(text: &str) -> bool {
    if !ENTITY.is_match(text) {
        return false;
    }
    let rest = ENTITY.replace_all(text, " ");
    let content = rest
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .filter(|w| !FILLER.contains(&w.to_lowercase().as_str()))
        .count();
    content <= 1
}

#[cfg(test)]
mod tests {
    use switchboard_engine::event::{Entities, Sentiment};

    use super::*;

    fn classified(intent: Intent, confidence: f32) -> Classified {
        Classified {
            intent,
            confidence,
            sentiment: Sentiment::Neutral,
            entities: Entities::default(),
            signals: Vec::new(),
            model: None,
        }
    }

    #[test]
    fn given_an_open_refund_question_when_the_customer_sends_the_order_number_then_it_continues() {
        let c = in_context(
            classified(Intent::OrderStatus, 0.3),
            "sure, it's #10234",
            &[Intent::RefundStatus],
        );
        assert_eq!(c.intent, Intent::RefundStatus);
        assert!(c.confidence >= FOLLOW_UP_CONFIDENCE);
        assert!(!c.signals.contains(&Signal::RepeatContact));
        let email = in_context(
            classified(Intent::AccountHelp, 0.4),
            "sarah.m@example.com",
            &[Intent::OrderStatus],
        );
        assert_eq!(email.intent, Intent::OrderStatus);
    }

    #[test]
    fn given_an_answered_problem_when_it_persists_then_it_is_repeated_contact() {
        let c = in_context(
            classified(Intent::RefundStatus, 0.9),
            "The refund still hasn't shown up, you said 5 days",
            &[Intent::RefundStatus],
        );
        assert!(c.signals.contains(&Signal::RepeatContact));
    }

    #[test]
    fn given_an_answered_question_when_the_customer_asks_another_or_thanks_then_no_repeat() {
        let another = in_context(
            classified(Intent::ShippingEstimate, 0.9),
            "and how long to Canada?",
            &[Intent::ShippingEstimate],
        );
        assert!(another.signals.is_empty());
        let thanks = in_context(
            classified(Intent::GeneralInquiry, 0.9),
            "ok that works, thanks!",
            &[Intent::OrderStatus],
        );
        assert!(thanks.signals.is_empty());
        let new_problem = in_context(
            classified(Intent::OrderStatus, 0.9),
            "Also where is my other order, 10156?",
            &[Intent::OrderStatus],
        );
        assert!(new_problem.signals.is_empty(), "no persistence wording");
    }

    #[test]
    fn given_an_open_question_when_a_short_reply_is_unclear_then_it_continues() {
        let c = in_context(
            classified(Intent::Feedback, 0.3),
            "ok and the blue one?",
            &[Intent::ProductInquiry],
        );
        assert_eq!(c.intent, Intent::ProductInquiry);
        let long = in_context(
            classified(Intent::Feedback, 0.3),
            "I have a completely different question now about something else entirely here",
            &[Intent::ProductInquiry],
        );
        assert_eq!(
            long.intent,
            Intent::Feedback,
            "long messages stand on their own"
        );
    }

    #[test]
    fn a_first_message_is_left_alone() {
        let c = classified(Intent::OrderStatus, 0.4);
        assert_eq!(in_context(c.clone(), "#10234", &[]), c);
    }
}
