//! What a channel or a person asks to append, validated into events.
//!
//! The same request types are the bodies of the gateway's `POST`s and the
//! JSON lines `switchboard publish` reads, so both edges refuse the same
//! input with the same words. Building is pure: nothing here touches the log.

use serde::{Deserialize, Serialize};
use switchboard_engine::event::{
    Actor, Closed, Customer, CustomerTier, Event, EventData, HumanReplied, Received, Resolution,
};
use switchboard_engine::ids::ConversationKey;
use switchboard_engine::store::IdempotencyKey;

use super::IntakeError;

/// Longest message, reply or text accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// A customer message as a channel sends it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// The message text (at most 64 KiB).
    pub text: String,
    /// The channel it came from (`web`, `email`...; printable ASCII, at
    /// most 100 bytes).
    #[serde(default = "default_channel")]
    pub channel: String,
    /// The channel's id for the customer.
    #[serde(default = "default_customer")]
    pub customer: String,
    /// The customer's tier.
    #[serde(default)]
    #[schema(value_type = String, example = "standard")]
    pub tier: CustomerTier,
    /// BCP-47 language tag; detected from the text when absent.
    #[serde(default)]
    pub language: Option<String>,
    /// The channel's own message id: sending the same id twice stores the
    /// message once (default: the request's `Idempotency-Key`, else new).
    #[serde(default)]
    pub message_id: Option<String>,
}

fn default_channel() -> String {
    "api".into()
}
fn default_customer() -> String {
    "anonymous".into()
}

impl MessageRequest {
    /// A message with the defaults for everything but the text.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            channel: default_channel(),
            customer: default_customer(),
            tier: CustomerTier::Standard,
            language: None,
            message_id: None,
        }
    }
}

/// A human agent's answer to an escalated conversation.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// The human agent's id (printable ASCII, at most 100 bytes).
    pub agent_id: String,
    /// What they write to the customer.
    pub text: String,
}

/// Ending a conversation.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// `resolved`, `abandoned` or `escalated`.
    #[schema(value_type = String, example = "resolved")]
    pub resolution: Resolution,
    /// Customer satisfaction, 1 to 5, if given.
    #[serde(default)]
    pub satisfaction: Option<u8>,
    /// Who closes it (a human agent's id), recorded as the actor.
    pub agent_id: String,
}

/// A customer message checked and turned into its `received` event.
#[derive(Debug, Clone)]
pub struct CustomerMessage {
    /// The conversation it joins.
    pub key: ConversationKey,
    /// The event to append.
    pub event: Event,
    /// Makes the append idempotent per channel message.
    pub idempotency: IdempotencyKey,
}

impl CustomerMessage {
    /// Validates `request` for `key`. `fallback_id` (a request's
    /// `Idempotency-Key`) becomes the message id when the body has none.
    pub fn build(
        key: ConversationKey,
        request: MessageRequest,
        fallback_id: Option<&str>,
    ) -> Result<Self, IntakeError> {
        check_text("text", &request.text)?;
        check_actor_token("channel", &request.channel)?;
        check_token("customer", &request.customer)?;
        let message_id = request
            .message_id
            .or_else(|| fallback_id.map(str::to_owned))
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        check_token("message_id", &message_id)?;
        let language = match request.language {
            Some(tag) => check_language(tag)?,
            None => crate::language::detect(&request.text).tag().to_owned(),
        };
        let idempotency = IdempotencyKey::for_message(&key, &request.channel, &message_id);
        let event = Event::new_root(
            key.clone(),
            Actor::channel(&request.channel),
            EventData::Received(Received {
                message_id,
                channel: request.channel,
                customer: Customer {
                    id: request.customer,
                    tier: request.tier,
                },
                language,
                text: request.text,
            }),
        );
        Ok(Self {
            key,
            event,
            idempotency,
        })
    }

    /// The `received` payload.
    pub fn received(&self) -> Option<&Received> {
        match &self.event.data {
            EventData::Received(r) => Some(r),
            _ => None,
        }
    }
}

impl ReplyRequest {
    /// The `human_replied` payload and its actor, checked.
    pub fn payload(self) -> Result<(Actor, EventData), IntakeError> {
        check_actor_token("agent_id", &self.agent_id)?;
        check_text("text", &self.text)?;
        Ok((
            Actor::human(&self.agent_id),
            EventData::HumanReplied(HumanReplied {
                agent_id: self.agent_id,
                text: self.text,
            }),
        ))
    }
}

impl CloseRequest {
    /// The `closed` payload and its actor, checked.
    pub fn payload(self) -> Result<(Actor, EventData), IntakeError> {
        check_actor_token("agent_id", &self.agent_id)?;
        if let Some(s) = self.satisfaction.filter(|s| !(1..=5).contains(s)) {
            return Err(IntakeError::invalid(format!(
                "satisfaction is {s}; give 1 to 5, or leave it out"
            )));
        }
        Ok((
            Actor::human(&self.agent_id),
            EventData::Closed(Closed {
                resolution: self.resolution,
                satisfaction: self.satisfaction,
            }),
        ))
    }
}

fn check_text(field: &str, text: &str) -> Result<(), IntakeError> {
    if text.trim().is_empty() {
        return Err(IntakeError::invalid(format!("{field} is empty")));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(IntakeError::invalid(format!(
            "{field} is {} bytes; the limit is {MAX_TEXT_BYTES}",
            text.len()
        )));
    }
    Ok(())
}

/// Ids and names that go into actors and headers: printable ASCII, short.
fn check_token(field: &str, value: &str) -> Result<(), IntakeError> {
    if value.is_empty() || value.len() > 200 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(IntakeError::invalid(format!(
            "{field} {value:?} must be 1 to 200 printable ASCII characters without spaces"
        )));
    }
    Ok(())
}

/// The longest channel name or agent id: it becomes the event's actor
/// (`channel:<name>`, `human:<id>`), which readers take up to 200 bytes, so
/// a longer one would store an event nobody could read back.
pub const MAX_ACTOR_TOKEN: usize = 100;

fn check_actor_token(field: &str, value: &str) -> Result<(), IntakeError> {
    check_token(field, value)?;
    if value.len() > MAX_ACTOR_TOKEN {
        return Err(IntakeError::invalid(format!(
            "{field} is {} bytes; at most {MAX_ACTOR_TOKEN}",
            value.len()
        )));
    }
    Ok(())
}

fn check_language(tag: String) -> Result<String, IntakeError> {
    let valid = !tag.is_empty()
        && tag.len() <= 35
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(tag)
    } else {
        Err(IntakeError::invalid(format!(
            "language {tag:?} is not a BCP-47 tag"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ConversationKey {
        ConversationKey::parse("brewvi/c1").expect("valid")
    }

    fn language_of(message: &CustomerMessage) -> &str {
        message.received().map_or("", |r| r.language.as_str())
    }

    /// Found by the `message_request` fuzz target: a 195-byte channel was
    /// accepted, and its `channel:<name>` actor (over 200 bytes) made an
    /// event that no reader could decode.
    #[test]
    fn every_accepted_channel_and_agent_id_makes_an_event_that_decodes() {
        use switchboard_engine::event::codec::{decode, encode};
        for len in [1, MAX_ACTOR_TOKEN, MAX_ACTOR_TOKEN + 1, 192, 200] {
            let name = "c".repeat(len);
            let request = MessageRequest {
                channel: name.clone(),
                ..MessageRequest::text("hello")
            };
            match CustomerMessage::build(key(), request, None) {
                Ok(message) => {
                    let wire = encode(&message.event);
                    let back = decode(&wire.subject, Some(&wire.headers), &wire.payload);
                    assert_eq!(back.expect("decodes"), message.event, "{len}");
                }
                Err(e) => assert!(len > MAX_ACTOR_TOKEN, "{len}: {e}"),
            }
            let reply = ReplyRequest {
                agent_id: name.clone(),
                text: "hi".into(),
            };
            match reply.payload() {
                Ok((actor, _)) => assert!(Actor::parse(actor.as_str()).is_ok(), "{len}"),
                Err(e) => assert!(len > MAX_ACTOR_TOKEN, "{len}: {e}"),
            }
        }
    }

    #[test]
    fn given_no_language_when_built_then_it_is_detected_from_the_text() {
        let build = |t| CustomerMessage::build(key(), MessageRequest::text(t), None);
        assert_eq!(
            language_of(&build("Où est ma commande ?").expect("ok")),
            "fr"
        );
        assert_eq!(
            language_of(&build("¿Dónde está mi pedido?").expect("ok")),
            "es"
        );
        assert_eq!(language_of(&build("Where is my order?").expect("ok")), "en");
    }

    #[test]
    fn given_an_explicit_language_when_built_then_it_wins_and_a_bad_tag_is_refused() {
        let mut request = MessageRequest::text("Où est ma commande ?");
        request.language = Some("fr-CA".into());
        let given = CustomerMessage::build(key(), request, None).expect("valid");
        assert_eq!(language_of(&given), "fr-CA");
        let mut bad = MessageRequest::text("hello");
        bad.language = Some("en us!".into());
        let err = CustomerMessage::build(key(), bad, None).expect_err("bad tag");
        assert!(err.to_string().contains("not a BCP-47 tag"), "{err}");
    }

    #[test]
    fn given_an_idempotency_key_and_no_message_id_when_built_then_it_is_the_message_id() {
        let one =
            CustomerMessage::build(key(), MessageRequest::text("hi"), Some("k-1")).expect("valid");
        let two =
            CustomerMessage::build(key(), MessageRequest::text("hi"), Some("k-1")).expect("valid");
        assert_eq!(one.received().map(|r| r.message_id.as_str()), Some("k-1"));
        assert_eq!(one.idempotency, two.idempotency);
    }

    #[test]
    fn given_bad_fields_when_built_then_each_is_named() {
        let cases: [(MessageRequest, &str); 3] = [
            (MessageRequest::text("   "), "text is empty"),
            (
                MessageRequest::text("x".repeat(MAX_TEXT_BYTES + 1)),
                "the limit is",
            ),
            (
                MessageRequest {
                    channel: "we b".into(),
                    ..MessageRequest::text("hi")
                },
                "channel",
            ),
        ];
        for (request, words) in cases {
            let err = CustomerMessage::build(key(), request, None).expect_err("invalid");
            assert!(err.to_string().contains(words), "{err}");
        }
    }

    #[test]
    fn given_a_satisfaction_out_of_range_when_closing_then_it_is_refused() {
        let close = CloseRequest {
            resolution: Resolution::Resolved,
            satisfaction: Some(9),
            agent_id: "ana".into(),
        };
        let err = close.payload().expect_err("out of range");
        assert!(err.to_string().contains("give 1 to 5"), "{err}");
    }
}
