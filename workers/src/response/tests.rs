//! Drafts over the built-in knowledge base: grounded facts, citations,
//! questions for what is missing, conservative retries.

use chrono::{DateTime, TimeZone, Utc};
use switchboard_engine::event::{
    Classified, Customer, CustomerTier, Entities, Escalated, EscalationReason, InputFinding,
    InputFindingKind, Intent, OutputFinding, OutputFindingKind, Priority, Received, Retrieved,
    Sentiment,
};

use super::*;
use crate::knowledge::KnowledgeBase;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 25, 12, 0, 0)
        .single()
        .expect("valid date")
}

fn received(customer: &str, text: &str) -> Received {
    Received {
        message_id: "m1".into(),
        channel: "web".into(),
        customer: Customer {
            id: customer.into(),
            tier: CustomerTier::Standard,
        },
        language: "en".into(),
        text: text.into(),
    }
}

fn classified(intent: Intent, order: Option<&str>) -> Classified {
    Classified {
        intent,
        confidence: 0.9,
        sentiment: Sentiment::Neutral,
        entities: Entities {
            order_number: order.map(str::to_owned),
            ..Entities::default()
        },
        signals: Vec::new(),
        model: None,
    }
}

/// Retrieves and drafts attempt `attempt` for a message.
fn draft_for(
    customer: &str,
    text: &str,
    c: &Classified,
    attempt: u32,
    findings: &[OutputFinding],
) -> (Retrieved, Drafted) {
    let kb = KnowledgeBase::builtin().expect("the shipped knowledge base loads");
    let retrieved = kb.retrieve(text, c, customer, now());
    let msg = received(customer, text);
    let drafted = LocalResponder::new().draft(&msg, c, &retrieved, attempt, findings);
    (retrieved, drafted)
}

#[test]
fn tracking_answer_states_the_records_facts_and_cites_them() {
    let c = classified(Intent::TrackingUpdate, Some("#10234"));
    let (_, d) = draft_for("persona_001", "Where is order #10234?", &c, 1, &[]);
    for fact in [
        "#10234",
        "2026-01-20",
        "USPS",
        "9400123456789",
        "2026-01-25",
    ] {
        assert!(d.text.contains(fact), "{fact:?} missing from {:?}", d.text);
    }
    assert_eq!(
        d.sources.first().map(String::as_str),
        Some("order:ORD-10234")
    );
    assert_eq!(d.attempt, 1);
    assert_eq!(d.model.model, MODEL);
}

#[test]
fn no_tracking_number_is_invented_for_an_unshipped_order() {
    let c = classified(Intent::TrackingUpdate, Some("10600"));
    let (_, d) = draft_for("persona_003", "tracking for 10600 please", &c, 1, &[]);
    assert!(d.text.contains("has not shipped yet"), "{:?}", d.text);
    assert!(d.text.contains("no tracking number yet"), "{:?}", d.text);
    assert!(!d.text.contains("Tracking number:"));
    assert!(d.sources.contains(&"order:ORD-10600".to_owned()));
}

#[test]
fn asks_for_the_order_number_when_missing() {
    for intent in [
        Intent::OrderStatus,
        Intent::TrackingUpdate,
        Intent::RefundStatus,
    ] {
        let c = classified(intent, None);
        let (_, d) = draft_for("persona_001", "Where is my stuff?", &c, 1, &[]);
        assert!(d.text.contains("order number?"), "{intent:?}: {:?}", d.text);
        assert!(!d.sources.iter().any(|s| s.starts_with("order:")));
    }
}

#[test]
fn says_when_the_order_cannot_be_found() {
    let c = classified(Intent::OrderStatus, Some("#99999"));
    let (r, d) = draft_for("persona_001", "status of #99999", &c, 1, &[]);
    assert!(r.records.iter().all(|rec| rec.kind != "order"));
    assert!(
        d.text.contains("couldn't find an order #99999"),
        "{:?}",
        d.text
    );
    let (_, retry) = draft_for("persona_001", "status of #99999", &c, 2, &[]);
    assert!(
        !retry.text.contains("99999"),
        "retries do not echo customer values"
    );
}

#[test]
fn refunds_state_the_recorded_refund() {
    let c = classified(Intent::RefundStatus, Some("ORD-10387"));
    let (_, d) = draft_for(
        "persona_004",
        "did my refund for 10387 go through",
        &c,
        1,
        &[],
    );
    assert!(
        d.text.contains("$28.07") && d.text.contains("2026-01-05"),
        "{:?}",
        d.text
    );
}

#[test]
fn policy_answers_quote_and_cite_the_top_passage() {
    let c = classified(Intent::ShippingEstimate, None);
    let (r, d) = draft_for(
        "anon",
        "Is shipping free if my order is over $75?",
        &c,
        1,
        &[],
    );
    let top = r.passages.first().expect("a passage");
    assert_eq!(d.sources.first(), Some(&top.source_id));
    assert!(d.text.contains(&top.text));
}

#[test]
fn loyalty_answers_use_the_customers_own_account() {
    let c = classified(Intent::LoyaltyProgram, None);
    let (_, d) = draft_for("persona_001", "How many points do I have?", &c, 1, &[]);
    assert!(d.text.contains("475 BrewVi Rewards points"), "{:?}", d.text);
    assert!(
        d.sources
            .contains(&"loyalty_account:persona_001".to_owned())
    );
}

#[test]
fn the_customers_text_is_never_quoted() {
    let text = "My email is jane@example.com and phone 415-555-0199, where is #10234?";
    let c = classified(Intent::OrderStatus, Some("#10234"));
    let (_, d) = draft_for("persona_001", text, &c, 1, &[]);
    assert!(!d.text.contains("jane@example.com") && !d.text.contains("415-555-0199"));
}

#[test]
fn a_retry_after_a_pii_finding_drops_the_tracking_number_and_shortens() {
    let c = classified(Intent::TrackingUpdate, Some("#10234"));
    let q = "Where is order #10234?";
    let (_, first) = draft_for("persona_001", q, &c, 1, &[]);
    let findings = [OutputFinding {
        kind: OutputFindingKind::PiiLeak,
        rule: "long-digits".into(),
    }];
    let (_, second) = draft_for("persona_001", q, &c, 2, &findings);
    assert!(!second.text.contains("9400123456789"));
    assert!(second.text.contains("2026-01-20"), "the status fact stays");
    assert!(second.text.len() < first.text.len());
    assert_eq!(second.attempt, 2);
}

#[test]
fn an_ungrounded_finding_leaves_only_record_facts() {
    let c = classified(Intent::OrderStatus, Some("#10234"));
    let findings = [OutputFinding {
        kind: OutputFindingKind::Ungrounded,
        rule: "claim".into(),
    }];
    let (_, d) = draft_for("persona_001", "status of #10234", &c, 2, &findings);
    assert_eq!(d.sources, vec!["order:ORD-10234".to_owned()]);
}

#[test]
fn refusals_give_no_detail_of_the_detection() {
    let findings = [InputFinding {
        kind: InputFindingKind::PromptInjection,
        rule: "ignore-previous".into(),
        score: 0.99,
    }];
    let text = refusal_text(&findings);
    assert!(text.contains("can't help"));
    for detail in ["injection", "ignore-previous", "rule", "detected"] {
        assert!(
            !text.to_lowercase().contains(detail),
            "{detail:?} in {text:?}"
        );
    }
}

#[test]
fn handoff_notices_name_no_queue_and_add_safety_advice() {
    let safety = Escalated {
        reason: EscalationReason::HealthOrSafety,
        priority: Priority::Urgent,
        queue: "safety".into(),
        summary: "Reason: health or safety.".into(),
    };
    let text = handoff_text(&safety);
    assert!(text.contains("emergency services") && text.contains("as a priority"));
    let trust = Escalated {
        queue: "trust".into(),
        priority: Priority::Normal,
        ..safety
    };
    let text = handoff_text(&trust);
    assert!(!text.contains("trust") && !text.contains("Reason"));
    assert!(text.contains("within 24 hours"));
}
