//! Retrieval over the built-in BrewVi knowledge base: ranking, look-ups, errors.

use std::collections::HashSet;

use chrono::{DateTime, TimeZone, Utc};
use switchboard_engine::event::{Classified, Entities, Intent, Record, Sentiment};

use super::*;

fn kb() -> KnowledgeBase {
    KnowledgeBase::builtin().expect("the shipped knowledge base loads")
}

fn classified(intent: Intent, entities: Entities) -> Classified {
    Classified {
        intent,
        confidence: 0.9,
        sentiment: Sentiment::Neutral,
        entities,
        signals: Vec::new(),
        model: None,
    }
}

fn with_order(number: &str) -> Entities {
    Entities {
        order_number: Some(number.into()),
        ..Entities::default()
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 25, 12, 0, 0)
        .single()
        .expect("a valid fixed date")
}

fn record<'a>(retrieved: &'a Retrieved, kind: &str) -> Option<&'a Record> {
    retrieved.records.iter().find(|r| r.kind == kind)
}

fn top_source(question: &str, intent: Intent) -> String {
    let r = kb().retrieve(
        question,
        &classified(intent, Entities::default()),
        "anon",
        now(),
    );
    r.passages
        .first()
        .map(|p| p.source_id.clone())
        .unwrap_or_default()
}

#[test]
fn builtin_and_directory_give_the_same_passages() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/kb/brewvi");
    let loaded = KnowledgeBase::load(dir).expect("the repo's kb directory loads");
    let builtin = kb();
    assert!(builtin.source_ids().count() > 30);
    assert!(builtin.source_ids().eq(loaded.source_ids()));
}

#[test]
fn ranks_the_return_window_first() {
    let q = "How many days do I have to return my brewer after it was delivered?";
    assert_eq!(top_source(q, Intent::ReturnRequest), "returns.window");
}

#[test]
fn ranks_shipping_costs_first() {
    let q = "How much does shipping cost for a box of pods?";
    assert_eq!(top_source(q, Intent::ShippingEstimate), "shipping.costs");
}

#[test]
fn ranks_loyalty_earning_first() {
    let q = "How many points do I earn for every dollar I spend?";
    assert_eq!(top_source(q, Intent::LoyaltyProgram), "loyalty.earning");
}

#[test]
fn ranks_free_shipping_first() {
    let q = "Is shipping free if my order is over $75?";
    assert_eq!(top_source(q, Intent::ShippingEstimate), "shipping.free");
}

#[test]
fn passages_come_best_first_with_scores() {
    let r = kb().retrieve(
        "can I return opened pods?",
        &classified(Intent::ReturnRequest, Entities::default()),
        "anon",
        now(),
    );
    assert_eq!(r.passages.len(), TOP_K);
    assert!(r.passages.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(r.passages.iter().all(|p| p.score > 0.0));
}

#[test]
fn a_message_of_stop_words_finds_no_passage() {
    let r = kb()
        .search("How do I do it, please?", 3)
        .expect("search runs");
    assert!(r.is_empty());
}

#[test]
fn order_lookup_computes_ages_from_now() {
    let r = kb().retrieve(
        "where is my order #10234?",
        &classified(Intent::OrderStatus, with_order("#10234")),
        "persona_001",
        now(),
    );
    let order = record(&r, "order").expect("the customer's own order is found");
    assert_eq!(order.id, "ORD-10234");
    let f = &order.fields;
    assert_eq!(f["status"], "shipped");
    assert_eq!(f["carrier"], "USPS");
    assert_eq!(f["tracking"], "9400123456789");
    assert_eq!(f["total"].as_f64(), Some(86.37));
    assert_eq!(f["ordered_at"], "2026-01-15");
    assert_eq!(f["days_since_order"].as_i64(), Some(10));
    assert!(!f.contains_key("customer_email"));
}

#[test]
fn delivered_orders_carry_days_since_delivery() {
    let r = kb().retrieve(
        "return ORD-10156",
        &classified(Intent::ReturnRequest, with_order("ORD-10156")),
        "persona_001",
        now(),
    );
    let f = &record(&r, "order").expect("found").fields;
    assert_eq!(f["delivered_at"], "2025-12-15");
    assert_eq!(f["days_since_delivery"].as_i64(), Some(41));
    assert_eq!(f["days_since_order"].as_i64(), Some(46));
}

#[test]
fn unknown_or_foreign_orders_give_no_record() {
    let kb = kb();
    let unknown = classified(Intent::OrderStatus, with_order("#99999"));
    let r = kb.retrieve("where is #99999", &unknown, "persona_001", now());
    assert!(record(&r, "order").is_none());
    // 9876 exists but belongs to persona_003.
    let foreign = classified(Intent::OrderStatus, with_order("9876"));
    let r = kb.retrieve("where is 9876", &foreign, "persona_001", now());
    assert!(record(&r, "order").is_none());
}

#[test]
fn the_checkout_email_proves_ownership() {
    let entities = Entities {
        order_number: Some("#9876".into()),
        email: Some("Michael.Torres@email.com".into()),
        ..Entities::default()
    };
    let r = kb().retrieve(
        "order 9876",
        &classified(Intent::OrderStatus, entities),
        "web-visitor-17",
        now(),
    );
    assert_eq!(record(&r, "order").map(|o| o.id.as_str()), Some("ORD-9876"));
}

#[test]
fn finds_products_and_the_loyalty_account() {
    let r = kb().retrieve(
        "Is the matcha vegan? And how many points do I have?",
        &classified(Intent::ProductInquiry, Entities::default()),
        "persona_001",
        now(),
    );
    let product = record(&r, "product").expect("matcha is named");
    assert_eq!(product.id, "PROD-030");
    let account = record(&r, "loyalty_account").expect("persona_001 has an account");
    assert_eq!(account.fields["points_balance"].as_u64(), Some(475));
}

#[test]
fn a_missing_directory_is_an_io_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = KnowledgeBase::load(dir.path().join("nope")).expect_err("no files");
    assert_eq!(err.kind(), KbErrorKind::Io);
}

#[test]
fn a_malformed_file_is_a_decode_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/kb/brewvi");
    for name in ["policies.md", "faq.md", "products.json", "loyalty.json"] {
        std::fs::copy(format!("{src}/{name}"), dir.path().join(name)).expect("copy kb file");
    }
    std::fs::write(
        dir.path().join("orders.json"),
        "{\"orders\": [{\"id\": 1}]}",
    )
    .expect("write file");
    let err = KnowledgeBase::load(dir.path()).expect_err("bad orders");
    assert_eq!(err.kind(), KbErrorKind::Decode);
    assert_eq!(err.file(), "orders.json");
}

#[test]
fn the_intent_prefers_its_policy_family() {
    let q = "I want to return my order, the pods taste stale";
    let top = top_source(q, Intent::ReturnRequest);
    assert!(top.starts_with("returns."), "got {top}");
}

#[test]
fn given_opening_hours_when_retrieved_then_the_contact_passage_ranks_first() {
    for q in [
        "What are your opening hours?",
        "what time do you close on Saturday",
    ] {
        assert_eq!(
            top_source(q, Intent::GeneralInquiry),
            "contact.support",
            "{q}"
        );
    }
}

#[test]
fn given_a_broken_brewer_when_retrieved_then_troubleshooting_or_warranty_ranks_first() {
    let q = "My Premium Single-Serve Coffee Brewer stopped working";
    let top = top_source(q, Intent::TechnicalSupport);
    assert!(
        ["faq.brewer_troubleshooting", "faq.brewer_warranty"].contains(&top.as_str()),
        "got {top}"
    );
}

#[test]
fn given_cancelling_one_order_before_dispatch_when_retrieved_then_order_cancellation_ranks_first() {
    let q = "Please cancel my order before it ships, I ordered by mistake";
    assert_eq!(top_source(q, Intent::Cancellation), "orders.cancel");
    let sub = "I want to cancel my auto-delivery subscription";
    assert_eq!(
        top_source(sub, Intent::SubscriptionManagement),
        "subscriptions.cancel"
    );
}

#[test]
fn given_delivery_to_a_us_state_when_retrieved_then_domestic_transit_times_rank_first() {
    for q in [
        "How long does delivery take to Texas?",
        "how many days to ship to New York",
    ] {
        assert_eq!(
            top_source(q, Intent::ShippingEstimate),
            "shipping.transit_times",
            "{q}"
        );
    }
    let abroad = "Do you deliver to the UK?";
    assert_eq!(
        top_source(abroad, Intent::ShippingEstimate),
        "shipping.international"
    );
}

#[test]
fn given_a_question_when_retrieved_then_five_passages_carry_scores_and_languages() {
    let r = kb().retrieve(
        "How long will my refund take after you receive my return?",
        &classified(Intent::RefundStatus, Entities::default()),
        "anon",
        now(),
    );
    assert_eq!(r.passages.len(), 5);
    assert!(r.passages.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(
        r.passages
            .iter()
            .all(|p| p.language.as_deref() == Some("en"))
    );
    let ids: HashSet<&str> = r.passages.iter().map(|p| p.source_id.as_str()).collect();
    assert_eq!(
        ids.len(),
        5,
        "a source appears once whatever its translations"
    );
}

#[test]
fn given_a_french_question_when_retrieved_then_the_french_version_is_returned() {
    let r = kb().retrieve_in(
        "Combien de jours ai-je pour retourner un produit ?",
        "fr-CA",
        &classified(Intent::ReturnRequest, Entities::default()),
        "anon",
        now(),
    );
    let top = r.passages.first().expect("a passage");
    assert_eq!(top.source_id, "returns.window");
    assert_eq!(top.language.as_deref(), Some("fr"));
    assert!(top.text.contains("30 jours"), "{}", top.text);
}

#[test]
fn given_a_translation_of_an_unknown_source_id_when_loaded_then_the_file_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/kb/brewvi");
    for name in [
        "policies.md",
        "faq.md",
        "products.json",
        "orders.json",
        "loyalty.json",
    ] {
        std::fs::copy(format!("{src}/{name}"), dir.path().join(name)).expect("copy kb file");
    }
    std::fs::write(
        dir.path().join("translations.fr.md"),
        "# FR\n\n## nope.missing: Rien\nTexte.\n",
    )
    .expect("write file");
    let err = KnowledgeBase::load(dir.path()).expect_err("orphan translation");
    assert_eq!(err.kind(), KbErrorKind::Format);
    assert_eq!(err.file(), "translations.fr.md");
}
