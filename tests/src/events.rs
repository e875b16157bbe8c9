//! Event builders shared by the workspace tests and the workers' tests.

use switchboard_engine::event::{Actor, Customer, CustomerTier, Event, EventData, Received};
use switchboard_engine::ids::ConversationKey;

/// A conversation key from `tenant/conversation`.
pub fn key(address: &str) -> ConversationKey {
    ConversationKey::parse(address).expect("test addresses are valid")
}

/// A customer message on the web channel, starting a turn.
pub fn customer_message(
    key: &ConversationKey,
    customer: &str,
    tier: CustomerTier,
    text: &str,
) -> Event {
    Event::new_root(
        key.clone(),
        Actor::channel("web"),
        EventData::Received(Received {
            message_id: uuid::Uuid::now_v7().to_string(),
            channel: "web".into(),
            customer: Customer {
                id: customer.into(),
                tier,
            },
            language: "en".into(),
            text: text.into(),
        }),
    )
}
