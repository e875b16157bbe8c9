//! What a message means given the conversation so far.
//!
//! Three decisions need the earlier turns, and all are made here for the
//! local and the remote classifier alike:
//! - **Follow-ups continue the open intent.** A reply that only supplies
//!   what the agent asked for ("it's #10234", an e-mail address), or a short
//!   reply the model cannot place, is classified as the previous turn's
//!   intent, confidently, and is never "repeated contact".
//! - **Repeated contact** (DESIGN §3) is a new contact about a problem
//!   already raised in this conversation: a problem intent after an
//!   earlier problem turn *and* wording that says the problem persists
//!   ("still", "again", "you told me"). Every earlier turn was answered
//!   (a turn handed to a human leaves the conversation with the human), so
//!   this is a problem already answered that the customer says is
//!   unresolved. Wording that says the answer did not work ("like you
//!   suggested, nothing changed", "you confirmed ... but") counts whatever
//!   intent the model reads; softer wording ("still") only on a problem
//!   intent. A second, different question is not one, nor is a polite
//!   closing or "never mind, it works again".
//! - **Frustration builds up** over the turns ([`super::mood`]).

use std::sync::LazyLock;

use regex::Regex;
use switchboard_engine::event::{Classified, Intent, Sentiment, Signal};
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
        r"|\bi was (told|promised)\b|\b(didn'?t|did not|doesn'?t|does not|don'?t|do not|hasn'?t|has not|haven'?t|have not|never) ",
        r"(work|help|arrive|arrived|come|came|change|changed|show|turn|get|got|receive|received|fix|fixed)",
        r"|\bno (update|change|news|progress|reply|response)\b|\bsame (problem|issue|thing)\b",
        r"|\bnothing (has )?(happened|changed|arrived)\b|\bit'?s been (\w+ )?(days|weeks)\b",
    ))
    .expect("compiled-in pattern is valid")
});

/// The answer given did not solve it: strong enough whatever the intent.
static UNRESOLVED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\b(like|as) you (said|suggested|told me|asked|recommended|advised)\b",
        r"|\b(your|the) (colleague|agent|team|rep|representative|support|email|bot|chat)\w* (said|told|says|promised|confirmed)\b",
        r"|\byou (confirmed|promised|assured)\b|\b(link|steps|instructions|fix|code|tracking) you (sent|gave)\b",
        r"|\bnothing (has )?(changed|happened|worked|come|arrived)\b|\b(didn'?t|did not|doesn'?t|does not|don'?t|do not) (work|help|fix)\b|\bwhy (promise|say|tell me)\b|\bbroken promise\b",
        r"|\b(your|the) (advice|steps|instructions|suggestions?|fix|reset)\b[^.!?]{0,20}\b(made|make|makes|making) (it|things|this|the \w+) (even |more |much )*(worse|more worse)\b|\bnow (it|the \w+) (shows?|gives?|says) (an )?error (all the time|every time|constantly)\b",
        r"|\bsame (error|problem|issue|message|result|fault|thing)\b[^.!?]{0,30}\b(every|again|still)\b|\b(updated|rebooted|restarted|reset|wiped|cleaned|descaled|tried)\b[^?]{0,80}\bsame (error|problem|issue|message|result)\b",
        r"|\bstill (not|no\b|nothing|won'?t|doesn'?t|isn'?t|hasn'?t|haven'?t|can'?t|the same|broken|cold|waiting)",
        r"|\b(tried|done) (it |that |this )?(\d+|two|three|four|five|several|many|multiple) times\b",
        r"|\bnever (arrives|arrived|came|comes|showed|shows)\b|\bit'?s not here\b",
        r"|\banother (week|day|month)\b",
        r"|\bstill (leak\w*|happen\w*|doing (it|that|the same)|drip\w*|dead|faulty|wrong|late|missing|broken)\b|\b(exactly |just )?(like|same as) before\b",
        r"|\b(reset|descaled|restarted|rebooted|unplugged|cleaned|charged|reinstalled|tried)\b[^?]{0,80}\bnothing\b",
    ))
    .expect("compiled-in pattern is valid")
});

/// The customer says it is solved or lets it go.
static RESOLVED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\bworks? (fine|again|now)\b|\bworking (again|now|fine)\b|\bnever ?mind\b|\ball (sorted|good|set)\b",
        r"|\b(that|it|this) (worked|fixed it|did the trick|helped)\b|\bfair enough\b|\b(problem|issue) (solved|fixed|resolved)\b",
        r"|\bno (need|worries)\b|\bgot it now\b|\bfound (it|them|the (parcel|package|box|order))\b|\bthanks anyway\b|\bno (complaints|problem|problems|big deal|biggie)\b|\b(sorted|fixed|resolved|handled|replaced|sent (me )?a new one)\b[^.!?]{0,30}\b(fast|quickly|same day|right away|in no time|straight away)\b|\b(your team|you guys|you|they) (sorted|fixed|resolved|handled) it\b|\bwe'?re (good|fine|all set|sorted)\b|\b(i'?m|i am) (good|fine|sorted|all set) now\b|\b(figured|sorted|worked) it out\b|\bfixed it( myself)?\b|\b(paired|connected|synced) (right away|fine|now|again)\b|\b(turned|showed) up\b[^.!?]{0,30}\b(after all|now|finally|today)\b",
    ))
    .expect("compiled-in pattern is valid")
});

/// Order numbers, e-mail addresses and phone numbers.
static ENTITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)[\w.+-]+@[\w-]+\.[\w.-]+|\b(ord-?)?#?\d[\d -]{2,}\d\b|#\d+",
        // A street address: number, name, kind, then anything to the end.
        r"|\b\d{1,6}\s+[a-z][a-z'-]*(\s+[a-z][a-z'-]*){0,3}\s+(st|street|ave|avenue|rd|road|blvd|boulevard|lane|ln|dr|drive|way|ct|court|pl|place|crescent|terrace|rue|calle|avenida)\b.*$",
    ))
        .expect("compiled-in pattern is valid")
});

/// Words that carry no request of their own in a reply.
const FILLER: &[&str] = &[
    "my", "order", "number", "no", "is", "it", "it's", "its", "here", "sure", "ok", "okay", "yes",
    "yeah", "yep", "the", "email", "e-mail", "mail", "address", "this", "that", "one", "sorry",
    "forgot", "to", "mention", "and", "thanks", "thank", "you", "of", "for", "hi", "was", "used",
    "i", "under", "name", "phone", "a", "an", "on", "account", "ord", "oh", "right", "should",
    "be", "think", "in", "with", "me", "please", "pls", "that's", "thats", "there", "you", "go",
    "new", "updated", "shipping", "delivery", "send", "to",
];

/// `classified` for `text`, given the intents and the customer's messages of
/// the earlier turns (oldest first).
pub fn in_context(
    mut c: Classified,
    text: &str,
    past: &[Intent],
    past_messages: &[String],
) -> Classified {
    c.sentiment = super::mood::in_conversation(c.sentiment, past_messages, text);
    if is_unplaced_what_if(&c, text) || (past.is_empty() && is_calm_unplaced_question(&c, text)) {
        return follow_up(c, Intent::GeneralInquiry);
    }
    let Some(&open) = past.last() else {
        return if is_remark(&c, text) {
            follow_up(c, Intent::Feedback)
        } else {
            c
        };
    };
    if RESOLVED.is_match(text) && c.confidence < FOLLOW_UP_CONFIDENCE {
        // "Never mind, found it, thanks anyway": a closing, whatever the
        // model makes of its words.
        return follow_up(c, Intent::GeneralInquiry);
    }
    if is_info_reply(text) || is_unclear_short_reply(&c, text) {
        return follow_up(c, open);
    }
    if is_refund_amount_reply(&c, text, open) {
        c.intent = open;
    }
    // The model may name a neighbour of the earlier problem ("it still
    // hasn't come through" after a refund question reads as an order
    // status): any problem intent after an earlier problem counts.
    if is_repeated_contact(c.intent, text, past) && !c.signals.contains(&Signal::RepeatContact) {
        c.signals.push(Signal::RepeatContact);
    }
    c
}

/// `c` read as a follow-up in the conversation: `intent`, at least the
/// follow-up confidence, and never repeated contact.
fn follow_up(mut c: Classified, intent: Intent) -> Classified {
    c.intent = intent;
    c.confidence = c.confidence.max(FOLLOW_UP_CONFIDENCE);
    c.signals.retain(|s| *s != Signal::RepeatContact);
    c
}

/// "It was $180" after a refund request: the amount belongs to the open
/// refund (the refund rule reads the amount of a refund intent). A question
/// about another price ("and how much is the $60 grinder?") is not one.
fn is_refund_amount_reply(c: &Classified, text: &str, open: Intent) -> bool {
    const REFUNDS: [Intent; 2] = [Intent::RefundStatus, Intent::ReturnRequest];
    REFUNDS.contains(&open)
        && !REFUNDS.contains(&c.intent)
        && c.entities.amount.is_some()
        && !text.contains('?')
}

/// A problem already answered that the customer says is unresolved.
///
/// The earlier turns may not have been read as a problem ("the seal on the
/// mug", "cleaned it like the guide said"): wording that says the answer
/// did not work, on a message read as a problem, is enough then.
fn is_repeated_contact(intent: Intent, text: &str, past: &[Intent]) -> bool {
    if RESOLVED.is_match(text) {
        return false;
    }
    let problem_now = PROBLEMS.contains(&intent);
    if past.iter().any(|i| PROBLEMS.contains(i)) {
        UNRESOLVED.is_match(text) || (problem_now && PERSISTS.is_match(text))
    } else {
        problem_now && UNRESOLVED.is_match(text)
    }
}

/// Below the workflow's confidence floor with no signal: the model could
/// not place the message and no rule claims it.
fn unsure_without_signal(c: &Classified) -> bool {
    c.confidence < Policy::default().min_confidence && c.signals.is_empty()
}

/// Below the workflow's confidence floor, a short reply in a conversation
/// with an open intent is read as being about that intent ("ok and when
/// then?", "the blue one"): in a dialogue that is what short replies are,
/// and a hand-off for it would be needless. A reply that opens as a
/// continuation ("ok, and ...", "thanks! ...") may be a little longer.
fn is_unclear_short_reply(c: &Classified, text: &str) -> bool {
    const SHORT_WORDS: usize = 12;
    const CONTINUATION_WORDS: usize = 18;
    let words = text.split_whitespace().count();
    let limit = if CONTINUES.is_match(text) {
        CONTINUATION_WORDS
    } else {
        SHORT_WORDS
    };
    unsure_without_signal(c) && words <= limit
}

/// Below the confidence floor, a first message that asks nothing and is
/// content (an acknowledgement, praise, "works fine") is a remark: feedback,
/// not a question the model failed to place ("k", "nice touch!", "a bit
/// loud, but it works fine"). A hand-off for it would be needless.
fn is_remark(c: &Classified, text: &str) -> bool {
    let resolved = RESOLVED.is_match(text);
    unsure_without_signal(c)
        && !text.contains('?')
        && !REQUESTS.is_match(text)
        && (resolved || !TROUBLE.is_match(text))
        && (ACKNOWLEDGES.is_match(text) || resolved || c.sentiment == Sentiment::Positive)
}

/// Below the confidence floor, a question about what would happen some day
/// ("what if I'm not home when the courier comes?") with no signal: a
/// general question for retrieval to answer, not a hand-off.
fn is_unplaced_what_if(c: &Classified, text: &str) -> bool {
    unsure_without_signal(c) && super::signals::asks_what_if(text)
}

/// Below the confidence floor, a first message that is a calm question
/// with no trouble in it ("will the brewer fit under my cabinets?", "does
/// the 20 oz mug fit a cup holder?"): a general question for retrieval,
/// not a hand-off. Trouble words, a negative mood or any signal keep the
/// low-confidence rule.
fn is_calm_unplaced_question(c: &Classified, text: &str) -> bool {
    unsure_without_signal(c)
        && text.contains('?')
        && matches!(c.sentiment, Sentiment::Neutral | Sentiment::Positive)
        && !TROUBLE.is_match(text)
}

/// Words that report trouble or ask for something done to an order.
static TROUBLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(not|never|no|isn'?t|doesn'?t|didn'?t|won'?t|can'?t|haven'?t|hasn'?t|wasn'?t|broken|broke|missing|wrong|late|damaged|charged|charge|refund|cancel\w*|return|lost|stolen|leak\w*|stuck|error|problem|issue|complain\w*|still|again|why|account|password|login|(credit|debit|bank|payment) card|card (was |got )?(declined|charged|stolen)|payment|bill\w*)\b",
    )
    .expect("compiled-in pattern is valid")
});

/// Words that make a message a request or a question.
static REQUESTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(please|pls|plz|can|could|would|will you|help|need|want|wanna|'d like|how|where|when|why|what|which|who|whether|if)\b",
    )
    .expect("compiled-in pattern is valid")
});

/// An acknowledgement with nothing else in it.
static ACKNOWLEDGES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[^\p{L}\p{N}]*$|^\W*(k|kk|ok|okay|okey|oki|okie|cool|nice|great|thanks|thank you|thx|ty|ta|cheers|sweet|lol|haha|noted|got it|gotcha|got ya|will do|sounds good|perfect|awesome|understood|alright|all right|fine|sure|merci|gracias|vale|d'accord|parfait|perfecto|genial)\W*$")
        .expect("compiled-in pattern is valid")
});

/// The opening of a reply that continues the dialogue.
static CONTINUES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(ok(ay)?|and|also|so|great|thanks|thank you|cool|alright|all right|right|perfect|got it|sure|yes|yeah|no worries|oh|one more thing|btw|by the way|another thing|quick one)\b")
        .expect("compiled-in pattern is valid")
});

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

    fn without_messages(c: Classified, text: &str, past: &[Intent]) -> Classified {
        in_context(c, text, past, &[])
    }

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
        let c = without_messages(
            classified(Intent::OrderStatus, 0.3),
            "sure, it's #10234",
            &[Intent::RefundStatus],
        );
        assert_eq!(c.intent, Intent::RefundStatus);
        assert!(c.confidence >= FOLLOW_UP_CONFIDENCE);
        assert!(!c.signals.contains(&Signal::RepeatContact));
        let email = without_messages(
            classified(Intent::AccountHelp, 0.4),
            "sarah.m@example.com",
            &[Intent::OrderStatus],
        );
        assert_eq!(email.intent, Intent::OrderStatus);
    }

    #[test]
    fn given_an_answered_problem_when_it_persists_then_it_is_repeated_contact() {
        let c = without_messages(
            classified(Intent::RefundStatus, 0.9),
            "The refund still hasn't shown up, you said 5 days",
            &[Intent::RefundStatus],
        );
        assert!(c.signals.contains(&Signal::RepeatContact));
    }

    #[test]
    fn given_a_problem_when_the_customer_says_it_is_solved_then_a_confident_closing() {
        for text in [
            "Found it! It was behind the planter. Thanks anyway.",
            "Never mind - the drip tray wasn't clicked in. All good now",
        ] {
            let c = without_messages(
                classified(Intent::Complaint, 0.3),
                text,
                &[Intent::TechnicalSupport],
            );
            assert_eq!(c.intent, Intent::GeneralInquiry, "{text}");
            assert!(
                c.confidence >= FOLLOW_UP_CONFIDENCE && c.signals.is_empty(),
                "{text}"
            );
        }
    }

    #[test]
    fn given_an_answered_question_when_the_customer_asks_another_or_thanks_then_no_repeat() {
        let another = without_messages(
            classified(Intent::ShippingEstimate, 0.9),
            "and how long to Canada?",
            &[Intent::ShippingEstimate],
        );
        assert!(another.signals.is_empty());
        let thanks = without_messages(
            classified(Intent::GeneralInquiry, 0.9),
            "ok that works, thanks!",
            &[Intent::OrderStatus],
        );
        assert!(thanks.signals.is_empty());
        let new_problem = without_messages(
            classified(Intent::OrderStatus, 0.9),
            "Also where is my other order, 10156?",
            &[Intent::OrderStatus],
        );
        assert!(new_problem.signals.is_empty(), "no persistence wording");
    }

    #[test]
    fn given_an_open_question_when_a_short_reply_is_unclear_then_it_continues() {
        let c = without_messages(
            classified(Intent::Feedback, 0.3),
            "ok and the blue one?",
            &[Intent::ProductInquiry],
        );
        assert_eq!(c.intent, Intent::ProductInquiry);
        let long = without_messages(
            classified(Intent::Feedback, 0.3),
            "I have a completely different question now, about something else entirely, nothing to do with that one",
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
        assert_eq!(without_messages(c.clone(), "#10234", &[]), c);
    }

    #[test]
    fn given_an_answer_that_did_not_help_when_the_model_reads_another_intent_then_repeated() {
        let c = without_messages(
            classified(Intent::Feedback, 0.8),
            "I held the button for 10 seconds like you suggested, nothing changed",
            &[Intent::TechnicalSupport],
        );
        assert!(c.signals.contains(&Signal::RepeatContact));
        let confirmed = without_messages(
            classified(Intent::GeneralInquiry, 0.8),
            "You confirmed the change yesterday, but it went to my old flat",
            &[Intent::AccountHelp],
        );
        assert!(confirmed.signals.contains(&Signal::RepeatContact));
    }

    #[test]
    fn given_an_answered_problem_when_the_customer_says_it_works_again_then_no_repeat() {
        let c = without_messages(
            classified(Intent::TechnicalSupport, 0.8),
            "Never mind, I updated it and it works again. Thanks anyway!",
            &[Intent::TechnicalSupport],
        );
        assert!(c.signals.is_empty());
    }

    #[test]
    fn given_no_earlier_problem_when_the_wording_sounds_unresolved_then_no_repeat() {
        let c = without_messages(
            classified(Intent::ProductInquiry, 0.8),
            "like you said, the dark roast is still not in stock?",
            &[Intent::ProductInquiry],
        );
        assert!(c.signals.is_empty());
    }

    #[test]
    fn given_an_open_question_when_a_continuation_is_unclear_then_it_continues() {
        let c = without_messages(
            classified(Intent::AccountHelp, 0.3),
            "Ok, and will I get an email when it ships?",
            &[Intent::OrderStatus],
        );
        assert_eq!(c.intent, Intent::OrderStatus);
    }

    #[test]
    fn given_earlier_frustration_when_the_latest_message_adds_to_it_then_very_negative() {
        let mut c = classified(Intent::OrderStatus, 0.9);
        c.sentiment = Sentiment::Negative;
        let past = vec![
            "my order is late".to_owned(),
            "still nothing today".to_owned(),
        ];
        let got = in_context(
            c,
            "This is getting frustrating, I've now waited 12 days",
            &[Intent::OrderStatus, Intent::OrderStatus],
            &past,
        );
        assert_eq!(got.sentiment, Sentiment::VeryNegative);
    }

    #[test]
    fn given_an_open_refund_when_the_customer_gives_the_amount_then_it_is_the_refund() {
        let mut c = classified(Intent::Complaint, 0.8);
        c.entities.amount = Some(180.0);
        let got = without_messages(
            c.clone(),
            "It was $180 and I only had it a week",
            &[Intent::RefundStatus],
        );
        assert_eq!(got.intent, Intent::RefundStatus);
        let question = without_messages(
            c,
            "and how much is the $180 grinder?",
            &[Intent::RefundStatus],
        );
        assert_eq!(question.intent, Intent::Complaint);
    }

    #[test]
    fn given_a_first_message_that_asks_nothing_and_is_content_when_unsure_then_feedback_not_a_hand_off()
     {
        for (text, sentiment) in [
            ("k", Sentiment::Neutral),
            (
                "my order came with a bonus sample, nice touch!",
                Sentiment::Positive,
            ),
            (
                "The grinder is a bit louder than I expected, but it works fine.",
                Sentiment::Neutral,
            ),
        ] {
            let mut unsure = classified(Intent::Complaint, 0.3);
            unsure.sentiment = sentiment;
            let c = without_messages(unsure, text, &[]);
            assert_eq!(c.intent, Intent::Feedback, "{text}");
            assert!(c.confidence >= Policy::default().min_confidence, "{text}");
        }
        // A request, or trouble, stays as the model read it.
        for text in [
            "Love it, but can you cancel my next box",
            "nice, but the lid is broken",
        ] {
            let mut unsure = classified(Intent::Cancellation, 0.3);
            unsure.sentiment = Sentiment::Positive;
            let c = without_messages(unsure, text, &[]);
            assert_eq!(c.intent, Intent::Cancellation, "{text}");
            assert!(c.confidence < Policy::default().min_confidence, "{text}");
        }
    }

    #[test]
    fn given_an_unplaced_question_about_what_would_happen_then_a_general_question() {
        let c = without_messages(
            classified(Intent::OrderStatus, 0.3),
            "What if I'm not home when the courier comes?",
            &[],
        );
        assert_eq!(c.intent, Intent::GeneralInquiry);
        assert!(c.confidence >= Policy::default().min_confidence);
        // Something that did happen is not a what-if.
        let happened = without_messages(
            classified(Intent::OrderStatus, 0.3),
            "What if the courier never came yesterday? It did not.",
            &[],
        );
        assert_eq!(happened.intent, Intent::OrderStatus);
    }

    #[test]
    fn given_earlier_turns_not_read_as_a_problem_when_the_advice_failed_then_repeated_contact() {
        let c = without_messages(
            classified(Intent::Complaint, 0.6),
            "STILL LEAKING. soaked my laptop bag this time. what now???",
            &[Intent::ProductInquiry, Intent::ProductInquiry],
        );
        assert!(c.signals.contains(&Signal::RepeatContact));
        // Without a problem now or before, "still" is not one.
        let asked = without_messages(
            classified(Intent::ProductInquiry, 0.8),
            "Is the blue mug still not in stock?",
            &[Intent::ProductInquiry],
        );
        assert!(!asked.signals.contains(&Signal::RepeatContact));
    }

    #[test]
    fn given_a_calm_first_question_the_model_cannot_place_then_a_general_question_but_trouble_keeps_the_rule()
     {
        let calm = without_messages(
            classified(Intent::ProductInquiry, 0.3),
            "will the premium brewer fit under my cabinets? they're about 15 inches up",
            &[],
        );
        assert_eq!(calm.intent, Intent::GeneralInquiry);
        for text in ["why was I charged for this?", "is my order lost?"] {
            let trouble = without_messages(classified(Intent::OrderStatus, 0.3), text, &[]);
            assert!(
                trouble.confidence < Policy::default().min_confidence,
                "{text}"
            );
        }
    }

    #[test]
    fn given_an_open_question_when_the_customer_sends_an_address_or_an_emoji_then_no_hand_off() {
        let address = without_messages(
            classified(Intent::AccountHelp, 0.3),
            "New address: 1180 Birch Street, Unit 4, Eugene OR 97401",
            &[Intent::SubscriptionManagement],
        );
        assert_eq!(address.intent, Intent::SubscriptionManagement);
        assert!(address.confidence >= Policy::default().min_confidence);
        let emoji = without_messages(classified(Intent::Complaint, 0.2), "🙂☕", &[]);
        assert_eq!(emoji.intent, Intent::Feedback);
        assert!(emoji.confidence >= Policy::default().min_confidence);
    }

    #[test]
    fn given_steps_tried_when_the_same_error_comes_back_then_repeated_contact() {
        let c = without_messages(
            classified(Intent::TechnicalSupport, 0.9),
            "Updated the app, rebooted the machine, wiped the window like your article says. Same error, every pod. Your steps don't work.",
            &[Intent::TechnicalSupport],
        );
        assert!(c.signals.contains(&Signal::RepeatContact));
    }

    #[test]
    fn given_a_past_problem_resolved_happily_when_unsure_then_feedback() {
        for text in [
            "Last month my box came crushed and you sent a new one super fast, so thanks again!",
            "The travel mug is smaller than it looked haha, but it fits my cupholder so no complaints",
        ] {
            let c = without_messages(classified(Intent::Complaint, 0.3), text, &[]);
            assert_eq!(c.intent, Intent::Feedback, "{text}");
        }
    }
}
