//! Event builders shared by the integration tests.

#![allow(dead_code)]

use switchboard_engine::event::*;
use switchboard_engine::ids::ConversationKey;

pub fn key(address: &str) -> ConversationKey {
    ConversationKey::parse(address).expect("test addresses are valid")
}

pub fn received(key: &ConversationKey, text: &str) -> Event {
    Event::new_root(
        key.clone(),
        Actor::channel("web"),
        EventData::Received(Received {
            message_id: uuid::Uuid::now_v7().to_string(),
            channel: "web".into(),
            customer: Customer {
                id: "cust-1".into(),
                tier: CustomerTier::Standard,
            },
            language: "en".into(),
            text: text.into(),
        }),
    )
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
