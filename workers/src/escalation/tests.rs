//! Given a folded conversation, when escalated for a reason, then this
//! priority, queue and summary.

use chrono::{TimeZone, Utc};
use switchboard_engine::conversation::Conversation;
use switchboard_engine::event::{
    Actor, Classified, Customer, CustomerTier, Entities, EscalationReason, Event, EventData,
    Intent, Priority, Received, Sentiment, Signal, StoredEvent,
};
use switchboard_engine::ids::{ConversationKey, StreamSeq};

use super::{decide, queue};

const TEXT: &str = "I'm jane.doe@example.com, call me on +1 415 555 0199. The pod burned my hand!";

fn conversation(tier: CustomerTier, classified: Classified) -> Conversation {
    let key = ConversationKey::parse("brewvi/c1").expect("valid key");
    let received = EventData::Received(Received {
        message_id: "m1".into(),
        channel: "web".into(),
        customer: Customer {
            id: "persona_001".into(),
            tier,
        },
        language: "en".into(),
        text: TEXT.into(),
    });
    let first = Event::new_root(key, Actor::channel("web"), received);
    let second = Event::caused_by(
        &first.envelope,
        Actor::worker("intent"),
        EventData::Classified(classified),
    );
    let at = Utc
        .with_ymd_and_hms(2026, 1, 25, 12, 0, 0)
        .single()
        .expect("valid date");
    let stored: Vec<StoredEvent> = [first, second]
        .into_iter()
        .enumerate()
        .map(|(i, event)| StoredEvent {
            seq: StreamSeq::new(i as u64 + 1),
            stored_at: at,
            event,
        })
        .collect();
    Conversation::fold(&stored)
}

fn classified(intent: Intent, sentiment: Sentiment, signals: Vec<Signal>) -> Classified {
    Classified {
        intent,
        confidence: 0.82,
        sentiment,
        entities: Entities {
            order_number: Some("#10234".into()),
            email: Some("jane.doe@example.com".into()),
            phone: Some("+1 415 555 0199".into()),
            product: Some("jane.doe@example.com".into()),
            amount: None,
            days_ago: None,
        },
        signals,
        model: None,
    }
}

fn standard(intent: Intent, sentiment: Sentiment) -> Conversation {
    conversation(
        CustomerTier::Standard,
        classified(intent, sentiment, Vec::new()),
    )
}

#[test]
fn health_and_safety_is_urgent_in_the_safety_queue() {
    let c = conversation(
        CustomerTier::Standard,
        classified(
            Intent::Complaint,
            Sentiment::Negative,
            vec![Signal::HealthOrSafety],
        ),
    );
    let e = decide(&c, EscalationReason::HealthOrSafety);
    assert_eq!(e.priority, Priority::Urgent);
    assert_eq!(e.queue, queue::SAFETY);
    assert_eq!(e.reason, EscalationReason::HealthOrSafety);
}

#[test]
fn safety_stays_in_safety_even_for_a_vip() {
    let c = conversation(
        CustomerTier::Vip,
        classified(Intent::Complaint, Sentiment::Negative, vec![]),
    );
    let e = decide(&c, EscalationReason::HealthOrSafety);
    assert_eq!(
        (e.priority, e.queue.as_str()),
        (Priority::Urgent, queue::SAFETY)
    );
}

#[test]
fn legal_threats_are_high_in_the_legal_queue() {
    let e = decide(
        &standard(Intent::Complaint, Sentiment::Negative),
        EscalationReason::LegalThreat,
    );
    assert_eq!(
        (e.priority, e.queue.as_str()),
        (Priority::High, queue::LEGAL)
    );
}

#[test]
fn vip_complaints_are_high_in_the_vip_queue() {
    let c = conversation(
        CustomerTier::Vip,
        classified(Intent::Complaint, Sentiment::Negative, vec![]),
    );
    let e = decide(&c, EscalationReason::VipComplaint);
    assert_eq!((e.priority, e.queue.as_str()), (Priority::High, queue::VIP));
}

#[test]
fn a_vip_is_never_below_high() {
    let c = conversation(
        CustomerTier::Vip,
        classified(Intent::GeneralInquiry, Sentiment::Neutral, vec![]),
    );
    let e = decide(&c, EscalationReason::LowConfidence);
    assert_eq!((e.priority, e.queue.as_str()), (Priority::High, queue::VIP));
}

#[test]
fn low_confidence_is_low_unless_the_customer_is_unhappy() {
    let calm = decide(
        &standard(Intent::GeneralInquiry, Sentiment::Neutral),
        EscalationReason::LowConfidence,
    );
    assert_eq!(
        (calm.priority, calm.queue.as_str()),
        (Priority::Low, queue::GENERAL)
    );
    let upset = decide(
        &standard(Intent::GeneralInquiry, Sentiment::Negative),
        EscalationReason::LowConfidence,
    );
    assert_eq!(upset.priority, Priority::Normal);
}

#[test]
fn refunds_and_billing_go_to_billing() {
    let refund = decide(
        &standard(Intent::ReturnRequest, Sentiment::Neutral),
        EscalationReason::RefundPolicy,
    );
    assert_eq!(
        (refund.priority, refund.queue.as_str()),
        (Priority::Normal, queue::BILLING)
    );
    let billing = decide(
        &standard(Intent::BillingIssue, Sentiment::Neutral),
        EscalationReason::HumanRequested,
    );
    assert_eq!(billing.queue, queue::BILLING);
}

#[test]
fn blocked_input_goes_to_trust_with_high_priority() {
    let e = decide(
        &standard(Intent::GeneralInquiry, Sentiment::Neutral),
        EscalationReason::BlockedInput,
    );
    assert_eq!(
        (e.priority, e.queue.as_str()),
        (Priority::High, queue::TRUST)
    );
}

#[test]
fn the_summary_names_the_case_without_the_customers_contact_details() {
    let c = conversation(
        CustomerTier::Member,
        classified(
            Intent::Complaint,
            Sentiment::VeryNegative,
            vec![Signal::HealthOrSafety],
        ),
    );
    let summary = decide(&c, EscalationReason::HealthOrSafety).summary;
    for expected in [
        "health or safety",
        "COMPLAINT",
        "very negative",
        "#10234",
        "member",
        "email, phone",
    ] {
        assert!(
            summary.contains(expected),
            "{expected:?} missing from {summary:?}"
        );
    }
    for leaked in ["jane", "example.com", "@", "415", "0199", "burned"] {
        assert!(
            !summary.contains(leaked),
            "{leaked:?} leaked into {summary:?}"
        );
    }
}

#[test]
fn decide_is_deterministic() {
    let c = standard(Intent::OrderStatus, Sentiment::Negative);
    assert_eq!(
        decide(&c, EscalationReason::RepeatedContact),
        decide(&c, EscalationReason::RepeatedContact)
    );
}
