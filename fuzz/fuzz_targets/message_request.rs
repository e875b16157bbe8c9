//! A channel's message as the gateway receives it: a JSON body and an
//! `Idempotency-Key` for a conversation address. Validation never panics,
//! and a message it accepts becomes a `received` event that encodes and
//! decodes back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_engine::event::codec::{decode, encode};
use switchboard_engine::ids::ConversationKey;
use switchboard_workers::intake::{CustomerMessage, MessageRequest};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\n');
    let address = parts.next().unwrap_or_default();
    let fallback = parts.next().filter(|f| !f.is_empty());
    let body = parts.next().unwrap_or_default();
    let Ok(key) = ConversationKey::parse(address) else {
        return;
    };
    let Ok(request) = serde_json::from_str::<MessageRequest>(body) else {
        return;
    };
    if let Ok(message) = CustomerMessage::build(key, request, fallback) {
        let encoded = encode(&message.event);
        let again = decode(&encoded.subject, Some(&encoded.headers), &encoded.payload)
            .expect("an accepted message decodes");
        assert_eq!(again, message.event);
    }
});
