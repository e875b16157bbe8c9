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

/// Retrieves and drafts a first attempt for a message in `language`.
fn draft_in(customer: &str, text: &str, language: &str, c: &Classified) -> (Retrieved, Drafted) {
    let kb = KnowledgeBase::builtin().expect("the shipped knowledge base loads");
    let retrieved = kb.retrieve_in(text, language, c, customer, now());
    let mut msg = received(customer, text);
    msg.language = language.into();
    let drafted = LocalResponder::new().draft(&msg, c, &retrieved, 1, &[]);
    (retrieved, drafted)
}

#[test]
fn given_a_bare_greeting_when_drafted_then_it_gets_a_greeting_and_an_offer_to_help() {
    let c = classified(Intent::GeneralInquiry, None);
    let (_, d) = draft_in("anon", "Hi there!", "en", &c);
    assert!(d.text.starts_with("Hi,"), "{:?}", d.text);
    assert!(d.text.contains("How can I help you today?"), "{:?}", d.text);
    assert!(!d.text.contains("don't have"), "{:?}", d.text);
    assert!(d.sources.is_empty(), "a greeting states no fact");
}

#[test]
fn given_thanks_when_drafted_then_it_gets_a_polite_close_even_on_a_retry() {
    let c = classified(Intent::Feedback, None);
    let (_, d) = draft_in("anon", "Thank you so much!", "en", &c);
    assert!(d.text.contains("You're very welcome"), "{:?}", d.text);
    let retrieved =
        KnowledgeBase::builtin()
            .expect("kb")
            .retrieve("Thank you so much!", &c, "anon", now());
    let retry = LocalResponder::new().draft(
        &received("anon", "Thank you so much!"),
        &c,
        &retrieved,
        2,
        &[],
    );
    assert!(
        retry.text.contains("You're very welcome"),
        "{:?}",
        retry.text
    );
}

#[test]
fn given_a_known_customer_when_greeted_then_the_draft_uses_their_name_and_cites_its_record() {
    let c = classified(Intent::GeneralInquiry, None);
    let (_, d) = draft_in("persona_001", "hello", "en", &c);
    assert!(d.text.starts_with("Hi Sarah,"), "{:?}", d.text);
    assert_eq!(d.sources, vec!["loyalty_account:persona_001".to_owned()]);
    let c = classified(Intent::OrderStatus, Some("#10234"));
    let (_, d) = draft_in("persona_001", "Where is order #10234?", "en", &c);
    assert!(d.text.starts_with("Hi Sarah,"), "{:?}", d.text);
}

#[test]
fn given_a_question_no_passage_answers_when_drafted_then_it_says_so_and_offers_a_human() {
    let c = classified(Intent::GeneralInquiry, None);
    let (r, d) = draft_in("anon", "Do you sell used cars or motorbikes?", "en", &c);
    assert!(
        r.passages.iter().all(|p| p.score < MIN_PASSAGE_SCORE),
        "{:?}",
        r.passages
    );
    assert!(
        d.text.contains("don't have information about that"),
        "{:?}",
        d.text
    );
    assert!(
        d.text.contains("member of our support team"),
        "{:?}",
        d.text
    );
    assert!(d.sources.is_empty());
}

#[test]
fn given_opening_hours_when_drafted_then_the_hours_are_quoted_from_the_contact_passage() {
    let c = classified(Intent::GeneralInquiry, None);
    let (_, d) = draft_in("anon", "What are your opening hours?", "en", &c);
    assert_eq!(
        d.sources.first().map(String::as_str),
        Some("contact.support")
    );
    assert!(
        d.text.contains("Monday to Friday 8am-8pm ET"),
        "{:?}",
        d.text
    );
}

#[test]
fn given_a_broken_brewer_when_drafted_then_it_troubleshoots_and_cites_the_warranty_not_sales_copy()
{
    let c = Classified {
        entities: Entities {
            product: Some("Premium Single-Serve Coffee Brewer".into()),
            ..Entities::default()
        },
        ..classified(Intent::TechnicalSupport, None)
    };
    let text = "My Premium Single-Serve Coffee Brewer stopped working and won't turn on";
    let (_, d) = draft_in("anon", text, "en", &c);
    assert_eq!(
        d.sources.first().map(String::as_str),
        Some("faq.brewer_troubleshooting"),
        "{:?}",
        d.sources
    );
    assert!(d.text.contains("2-year warranty"), "{:?}", d.text);
    assert!(!d.text.contains("in stock"), "no sales copy: {:?}", d.text);
}

#[test]
fn given_a_french_question_when_drafted_then_the_answer_is_in_french_from_the_french_passage() {
    let c = classified(Intent::GeneralInquiry, None);
    let (r, d) = draft_in("anon", "Quels sont vos horaires d'ouverture ?", "fr", &c);
    let top = r.passages.first().expect("a passage");
    assert_eq!(top.source_id, "contact.support");
    assert_eq!(top.language.as_deref(), Some("fr"));
    assert!(d.text.starts_with("Bonjour,"), "{:?}", d.text);
    assert!(d.text.contains("du lundi au vendredi"), "{:?}", d.text);
    assert!(!d.text.contains("qu'en anglais"), "{:?}", d.text);
}

#[test]
fn given_a_spanish_question_when_drafted_then_the_answer_is_in_spanish() {
    let c = classified(Intent::Cancellation, None);
    let (r, d) = draft_in(
        "anon",
        "Quiero cancelar mi pedido antes de que se envíe",
        "es",
        &c,
    );
    let top = r.passages.first().expect("a passage");
    assert_eq!(top.source_id, "orders.cancel");
    assert_eq!(top.language.as_deref(), Some("es"));
    assert!(d.text.starts_with("Hola:"), "{:?}", d.text);
    assert!(d.text.contains("se puede cancelar"), "{:?}", d.text);
}

#[test]
fn given_no_translation_when_drafted_then_the_english_passage_comes_with_a_note_in_the_customers_language()
 {
    let c = classified(Intent::ShippingEstimate, None);
    let (r, d) = draft_in(
        "anon",
        "Combien de temps prend la livraison en Alaska ?",
        "fr",
        &c,
    );
    let top = r.passages.first().expect("a passage");
    assert_eq!(top.source_id, "shipping.transit_times");
    assert_eq!(top.language.as_deref(), Some("en"));
    assert!(
        d.text.contains("Je n'ai cette information qu'en anglais :"),
        "{:?}",
        d.text
    );
    assert!(d.text.contains("Alaska and Hawaii"), "{:?}", d.text);
}

#[test]
fn given_an_unsupported_language_when_drafted_then_the_answer_is_in_english_without_a_note() {
    let c = classified(Intent::ReturnRequest, None);
    let (_, d) = draft_in(
        "anon",
        "How many days do I have to return a product?",
        "de",
        &c,
    );
    assert!(d.text.starts_with("Hi,"), "{:?}", d.text);
    assert!(d.text.contains("30 days"), "{:?}", d.text);
}

#[test]
fn given_a_french_greeting_or_spanish_thanks_when_drafted_then_the_reply_is_in_that_language() {
    let c = classified(Intent::GeneralInquiry, None);
    let (_, d) = draft_in("anon", "Bonjour !", "fr", &c);
    assert!(
        d.text.contains("Comment puis-je vous aider"),
        "{:?}",
        d.text
    );
    let (_, d) = draft_in("anon", "¡Muchas gracias!", "es", &c);
    assert!(d.text.contains("De nada"), "{:?}", d.text);
}

#[test]
fn given_a_french_customer_when_refused_or_handed_off_then_the_notice_is_in_french() {
    let findings = [InputFinding {
        kind: InputFindingKind::PromptInjection,
        rule: "ignore-previous".into(),
        score: 0.99,
    }];
    assert!(refusal_text_in(&findings, "fr-CA").contains("Désolé"));
    let escalated = Escalated {
        reason: EscalationReason::HealthOrSafety,
        priority: Priority::Urgent,
        queue: "safety".into(),
        summary: "Reason: health or safety.".into(),
    };
    let text = handoff_text_in(&escalated, "es");
    assert!(
        text.contains("con prioridad") && text.contains("emergencia"),
        "{text}"
    );
}

#[test]
fn given_drafts_that_quote_the_contact_passage_when_validated_then_the_critic_approves() {
    let c = classified(Intent::GeneralInquiry, None);
    let critic = crate::models::critic::LocalCritic::new(crate::models::critic::CriticConfig {
        business_domains: vec!["brewvi-demo.com".into(), "brewvi.com".into()],
        business_phones: vec!["1-800-555-2739".into()],
    });
    for (text, lang) in [
        ("What are your opening hours?", "en"),
        ("Quels sont vos horaires d'ouverture ?", "fr"),
    ] {
        let (_, d) = draft_in("anon", text, lang, &c);
        let v = critic.validation(&d.text, text);
        assert!(
            v.findings.is_empty(),
            "{text}: {:?} in {:?}",
            v.findings,
            d.text
        );
    }
}
