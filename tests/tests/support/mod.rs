//! Event builders shared by the integration tests.

#![allow(dead_code)]

use switchboard_engine::event::*;
use switchboard_engine::ids::ConversationKey;
use switchboard_engine::store::{Appended, EventStore, IdempotencyKey};
use switchboard_tests::events::customer_message;

pub use switchboard_tests::events::key;

/// A neutral classification with `intent` at `confidence`.
pub fn classified(intent: Intent, confidence: f32) -> EventData {
    EventData::Classified(Classified {
        intent,
        confidence,
        sentiment: Sentiment::Neutral,
        entities: Entities::default(),
        signals: vec![],
        model: None,
    })
}

/// A standard customer's message.
pub fn received(key: &ConversationKey, text: &str) -> Event {
    customer_message(key, "cust-1", CustomerTier::Standard, text)
}

pub fn responded(cause: &Event, text: &str) -> Event {
    Event::caused_by(
        &cause.envelope,
        Actor::worker("critic"),
        EventData::Responded(Responded { text: text.into() }),
    )
}

pub fn escalated(cause: &Event) -> Event {
    Event::caused_by(
        &cause.envelope,
        Actor::worker("escalation"),
        EventData::Escalated(Escalated {
            reason: EscalationReason::HumanRequested,
            priority: Priority::Normal,
            queue: "general".into(),
            summary: "customer asked for a person".into(),
        }),
    )
}

/// One event of every type in the catalog, each caused by the one before.
pub fn one_of_each(key: &ConversationKey) -> Vec<Event> {
    let first = received(key, "where is order #1001?");
    let after = |data: EventData| Event::caused_by(&first.envelope, Actor::worker("test"), data);
    let usage = ModelUsage {
        model: "local-test".into(),
        prompt_tokens: Some(10),
        completion_tokens: Some(5),
        cost_usd: Some(0.0001),
        latency_ms: Some(12),
        fallback: None,
    };
    let record = serde_json::json!({"status": "shipped", "total": 42.5});
    vec![
        first.clone(),
        after(EventData::Screened(Screened {
            verdict: ScreenVerdict::Allow,
            findings: vec![InputFinding {
                kind: InputFindingKind::Pii,
                rule: "email".into(),
                score: 0.9,
            }],
            redactions: vec![Redaction {
                kind: "email".into(),
                start: 3,
                end: 10,
            }],
            model: Some(usage.clone()),
        })),
        after(EventData::Classified(Classified {
            intent: Intent::OrderStatus,
            confidence: 0.93,
            sentiment: Sentiment::Neutral,
            entities: Entities {
                order_number: Some("#1001".into()),
                ..Entities::default()
            },
            signals: vec![Signal::RepeatContact],
            model: Some(usage.clone()),
        })),
        after(EventData::Retrieved(Retrieved {
            query: "order status".into(),
            passages: vec![Passage {
                source_id: "kb:shipping#1".into(),
                text: "We ship in 2 days.".into(),
                score: 3.2,
                language: None,
            }],
            records: vec![Record {
                kind: "order".into(),
                id: "1001".into(),
                fields: record.as_object().cloned().unwrap_or_default(),
            }],
        })),
        after(EventData::Drafted(Drafted {
            text: "Your order shipped.".into(),
            sources: vec!["order:1001".into()],
            attempt: 1,
            model: usage.clone(),
        })),
        after(EventData::Validated(Validated {
            verdict: ValidateVerdict::Approve,
            findings: vec![OutputFinding {
                kind: OutputFindingKind::Profanity,
                rule: "none".into(),
            }],
            attempt: 1,
            model: Some(usage),
        })),
        escalated(&first),
        responded(&first, "Your order shipped."),
        Event::new_root(
            key.clone(),
            Actor::human("agent-7"),
            EventData::HumanReplied(HumanReplied {
                agent_id: "agent-7".into(),
                text: "Hi, I'm Sam.".into(),
            }),
        ),
        after(EventData::Closed(Closed {
            resolution: Resolution::Resolved,
            satisfaction: Some(5),
        })),
        after(EventData::Failed(Failed {
            step: "classify".into(),
            error_class: "timeout".into(),
            attempts: 5,
            detail: "model timed out".into(),
        })),
        after(EventData::Erased(switchboard_engine::event::Erased {
            reason: switchboard_engine::event::ErasureReason::Request,
        })),
    ]
}

/// A fresh idempotency key, as a new step would have.
pub fn fresh_key() -> IdempotencyKey {
    IdempotencyKey::for_step(switchboard_engine::ids::EventId::new_v7(), "test")
}

/// Starts `conv` with a customer message; returns it and where it landed.
pub async fn open(store: &EventStore, conv: &ConversationKey) -> (Event, Appended) {
    let first = received(conv, "hi");
    let appended = store
        .append(
            conv,
            switchboard_engine::ids::StreamSeq::ZERO,
            std::slice::from_ref(&first),
            &fresh_key(),
        )
        .await
        .expect("first append");
    (first, appended)
}
