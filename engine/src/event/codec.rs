//! The wire codec: `ce-*` headers plus a JSON body, decoded strictly.
//!
//! Decoding never panics: a foreign publisher can put anything on a
//! conversation subject, and every way it can be wrong is a [`DecodeError`]
//! with a kind the caller can match on. Older schema versions are upcast to
//! the current one here, so the rest of the system only sees current types.

use async_nats::HeaderMap;
use async_nats::header::HeaderName;
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;

use super::{Actor, Envelope, Event, EventData, EventType};
use crate::ids::{ConversationId, ConversationKey, EventId, Tenant};

/// CloudEvents spec version written and accepted.
pub const SPEC_VERSION: &str = "1.0";
/// `ce-source` written by Switchboard producers.
pub const SOURCE: &str = "switchboard";

/// Header names. CloudEvents attributes use the `ce-` prefix of its binary
/// content mode; Switchboard's extension attributes follow the same rule.
pub mod header {
    #![allow(missing_docs)]
    pub const ID: &str = "ce-id";
    pub const SOURCE: &str = "ce-source";
    pub const TYPE: &str = "ce-type";
    pub const SUBJECT: &str = "ce-subject";
    pub const TIME: &str = "ce-time";
    pub const SPEC_VERSION: &str = "ce-specversion";
    pub const DATA_SCHEMA: &str = "ce-dataschema";
    pub const TENANT: &str = "ce-tenant";
    pub const CONVERSATION: &str = "ce-conversation";
    pub const CAUSATION: &str = "ce-causation";
    pub const CORRELATION: &str = "ce-correlation";
    pub const ACTOR: &str = "ce-actor";
    pub const CONTENT_TYPE: &str = "content-type";
}

/// What went wrong when decoding; callers match on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// A required `ce-*` header is absent (or the message has no headers).
    MissingHeader,
    /// A header is present but malformed (bad UUID, time, id, actor...).
    InvalidHeader,
    /// `ce-type` names no event in the catalog.
    UnknownType,
    /// The schema version is not one this build can read.
    UnsupportedVersion,
    /// The body is not JSON.
    InvalidJson,
    /// The body is JSON but does not match the type's schema (missing or
    /// unknown field, wrong type).
    InvalidData,
    /// The headers name a different conversation or type than the subject.
    SubjectMismatch,
}

/// A message that is not a valid Switchboard event.
///
/// Surfaces as: HTTP 400 at the gateway; dead-letter (term) in a worker; a
/// listed, skipped entry in `load` and `replay`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    kind: DecodeErrorKind,
    message: String,
}

impl DecodeError {
    /// A new error of `kind`.
    pub fn new(kind: DecodeErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }
}

/// An event encoded for publishing.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// `conv.<tenant>.<conversation>.<type>`.
    pub subject: String,
    /// The `ce-*` headers.
    pub headers: HeaderMap,
    /// The JSON body.
    pub payload: Bytes,
}

impl Encoded {
    /// Bytes this message occupies on the wire, headers included (an upper
    /// bound of what the server counts against its size limits).
    pub fn wire_size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, vs)| {
                vs.iter()
                    .map(|v| AsRef::<str>::as_ref(k).len() + v.as_str().len() + 4)
                    .sum::<usize>()
            })
            .sum();
        self.subject.len() + headers + 12 + self.payload.len()
    }
}

/// Encodes an event. Serialising our own types cannot fail.
pub fn encode(event: &Event) -> Encoded {
    let env = &event.envelope;
    let event_type = event.event_type();
    let mut headers = HeaderMap::new();
    headers.insert(name(header::SPEC_VERSION), SPEC_VERSION);
    headers.insert(name(header::ID), env.id.to_string());
    headers.insert(name(header::SOURCE), SOURCE);
    headers.insert(name(header::TYPE), event_type.as_str());
    headers.insert(name(header::SUBJECT), env.conversation.to_string());
    headers.insert(
        name(header::TIME),
        env.time.to_rfc3339_opts(SecondsFormat::Micros, true),
    );
    headers.insert(
        name(header::DATA_SCHEMA),
        event_type.schema_uri(event_type.current_version()),
    );
    headers.insert(name(header::TENANT), env.conversation.tenant.as_str());
    headers.insert(name(header::CONVERSATION), env.conversation.id.as_str());
    if let Some(causation) = env.causation {
        headers.insert(name(header::CAUSATION), causation.to_string());
    }
    headers.insert(name(header::CORRELATION), env.correlation.to_string());
    headers.insert(name(header::ACTOR), env.actor.as_str());
    headers.insert(name(header::CONTENT_TYPE), "application/json");
    // Serialising plain data structs with string keys cannot fail.
    let payload = serde_json::to_vec(&event.data).expect("event payloads always serialise");
    Encoded {
        subject: env.conversation.subject(event_type.as_str()),
        headers,
        payload: Bytes::from(payload),
    }
}

/// A header name known at compile time: no validation or allocation per
/// use, where a `&str` name is checked and copied every time.
pub(crate) fn name(value: &'static str) -> HeaderName {
    HeaderName::from_static(value)
}

fn required<'a>(headers: &'a HeaderMap, key: &'static str) -> Result<&'a str, DecodeError> {
    headers.get(name(key)).map(|v| v.as_str()).ok_or_else(|| {
        DecodeError::new(
            DecodeErrorKind::MissingHeader,
            format!("missing header {key}"),
        )
    })
}

fn invalid(name: &str, value: &str, reason: impl std::fmt::Display) -> DecodeError {
    DecodeError::new(
        DecodeErrorKind::InvalidHeader,
        format!("header {name} = {value:?} is invalid: {reason}"),
    )
}

fn parse_event_id(headers: &HeaderMap, name: &'static str) -> Result<EventId, DecodeError> {
    let value = required(headers, name)?;
    value.parse().map_err(|e| invalid(name, value, e))
}

/// Reads the schema version from `ce-dataschema`, checking it names `event_type`.
fn schema_version(headers: &HeaderMap, event_type: EventType) -> Result<u32, DecodeError> {
    let value = required(headers, header::DATA_SCHEMA)?;
    let prefix = format!("urn:switchboard:schema:{}:v", event_type.as_str());
    value
        .strip_prefix(&prefix)
        .and_then(|v| v.parse::<u32>().ok())
        .ok_or_else(|| {
            invalid(
                header::DATA_SCHEMA,
                value,
                format!("expected {prefix}<version>"),
            )
        })
}

fn decode_envelope(headers: &HeaderMap) -> Result<Envelope, DecodeError> {
    let spec = required(headers, header::SPEC_VERSION)?;
    if spec != SPEC_VERSION {
        return Err(invalid(
            header::SPEC_VERSION,
            spec,
            "only CloudEvents 1.0 is supported",
        ));
    }
    let tenant = required(headers, header::TENANT)?;
    let tenant = Tenant::new(tenant).map_err(|e| invalid(header::TENANT, tenant, e))?;
    let conversation = required(headers, header::CONVERSATION)?;
    let conversation = ConversationId::new(conversation)
        .map_err(|e| invalid(header::CONVERSATION, conversation, e))?;
    let time = required(headers, header::TIME)?;
    let time = DateTime::parse_from_rfc3339(time)
        .map_err(|e| invalid(header::TIME, time, e))?
        .with_timezone(&Utc);
    let causation = match headers.get(name(header::CAUSATION)) {
        Some(_) => Some(parse_event_id(headers, header::CAUSATION)?),
        None => None,
    };
    Ok(Envelope {
        id: parse_event_id(headers, header::ID)?,
        conversation: ConversationKey::new(tenant, conversation),
        time,
        causation,
        correlation: parse_event_id(headers, header::CORRELATION)?,
        actor: Actor::parse(required(headers, header::ACTOR)?)?,
    })
}

/// Older schema versions, each with the function that lifts it one version.
/// Every event type is at version 1 today, so the chain is empty; a v2 adds
/// `(type, 1, lift_v1_to_v2)` here and a `schemas/<type>/v2.json`.
type Upcaster = fn(serde_json::Value) -> serde_json::Value;
const UPCASTERS: &[(EventType, u32, Upcaster)] = &[];

/// Lifts a payload of `version` to the current version of `event_type`.
pub fn upcast(
    event_type: EventType,
    version: u32,
    mut value: serde_json::Value,
) -> Result<serde_json::Value, DecodeError> {
    let current = event_type.current_version();
    let unsupported = || {
        DecodeError::new(
            DecodeErrorKind::UnsupportedVersion,
            format!(
                "{event_type} schema version {version} is not supported (this build reads up to v{current})"
            ),
        )
    };
    if version == 0 || version > current {
        return Err(unsupported());
    }
    for from in version..current {
        let (_, _, lift) = UPCASTERS
            .iter()
            .find(|(t, v, _)| *t == event_type && *v == from)
            .ok_or_else(unsupported)?;
        value = lift(value);
    }
    Ok(value)
}

fn classify_json_error(err: serde_json::Error) -> DecodeError {
    let kind = match err.classify() {
        serde_json::error::Category::Data => DecodeErrorKind::InvalidData,
        _ => DecodeErrorKind::InvalidJson,
    };
    DecodeError::new(kind, format!("body: {err}"))
}

fn parse_as<T: DeserializeOwned>(
    payload: &[u8],
    upcast_from: Option<serde_json::Value>,
) -> Result<T, DecodeError> {
    match upcast_from {
        Some(value) => serde_json::from_value(value).map_err(classify_json_error),
        None => serde_json::from_slice(payload).map_err(classify_json_error),
    }
}

/// Decodes a payload of a known type and version into typed data.
pub fn decode_data(
    event_type: EventType,
    version: u32,
    payload: &[u8],
) -> Result<EventData, DecodeError> {
    let lifted = if version == event_type.current_version() {
        None
    } else {
        let value: serde_json::Value =
            serde_json::from_slice(payload).map_err(classify_json_error)?;
        Some(upcast(event_type, version, value)?)
    };
    Ok(match event_type {
        EventType::Received => EventData::Received(parse_as(payload, lifted)?),
        EventType::Screened => EventData::Screened(parse_as(payload, lifted)?),
        EventType::Classified => EventData::Classified(parse_as(payload, lifted)?),
        EventType::Retrieved => EventData::Retrieved(parse_as(payload, lifted)?),
        EventType::Drafted => EventData::Drafted(parse_as(payload, lifted)?),
        EventType::Validated => EventData::Validated(parse_as(payload, lifted)?),
        EventType::Escalated => EventData::Escalated(parse_as(payload, lifted)?),
        EventType::Responded => EventData::Responded(parse_as(payload, lifted)?),
        EventType::HumanReplied => EventData::HumanReplied(parse_as(payload, lifted)?),
        EventType::Closed => EventData::Closed(parse_as(payload, lifted)?),
        EventType::Failed => EventData::Failed(parse_as(payload, lifted)?),
        EventType::Erased => EventData::Erased(parse_as(payload, lifted)?),
    })
}

/// Decodes a message read from `subject`. The envelope must agree with the
/// subject: a message whose headers claim another conversation or type is
/// rejected rather than trusted.
pub fn decode(
    subject: &str,
    headers: Option<&HeaderMap>,
    payload: &[u8],
) -> Result<Event, DecodeError> {
    let headers = headers.ok_or_else(|| {
        DecodeError::new(DecodeErrorKind::MissingHeader, "message has no headers")
    })?;
    let event_type: EventType = required(headers, header::TYPE)?.parse()?;
    let version = schema_version(headers, event_type)?;
    let envelope = decode_envelope(headers)?;
    let expected = envelope.conversation.subject(event_type.as_str());
    if !crate::subject::stored_as(subject, &expected) {
        return Err(DecodeError::new(
            DecodeErrorKind::SubjectMismatch,
            format!("headers say {expected} but the message was on {subject}"),
        ));
    }
    let data = decode_data(event_type, version, payload)?;
    Ok(Event { envelope, data })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Customer, CustomerTier, Received, Responded};

    fn received() -> Event {
        let key = ConversationKey::parse("acme/c1").expect("valid");
        Event::new_root(
            key,
            Actor::channel("web"),
            EventData::Received(Received {
                message_id: "m1".into(),
                channel: "web".into(),
                customer: Customer {
                    id: "cust-1".into(),
                    tier: CustomerTier::Vip,
                },
                language: "en".into(),
                text: "where is my order #1001?".into(),
            }),
        )
    }

    #[test]
    fn round_trips_every_header() {
        let event = received();
        let wire = encode(&event);
        assert_eq!(wire.subject, "conv.acme.c1.received");
        let back = decode(&wire.subject, Some(&wire.headers), &wire.payload).expect("decodes");
        let partitioned = format!("{}.5", wire.subject);
        let stored = decode(&partitioned, Some(&wire.headers), &wire.payload)
            .expect("a partitioned stream's subject decodes too");
        assert_eq!(stored.envelope.id, event.envelope.id);
        assert_eq!(
            kind_of(
                "conv.acme.c1.received.x",
                Some(&wire.headers),
                &wire.payload
            ),
            DecodeErrorKind::SubjectMismatch
        );
        // Time is written with microsecond precision.
        assert_eq!(back.envelope.id, event.envelope.id);
        assert_eq!(back.data, event.data);
        assert!(
            (back.envelope.time - event.envelope.time)
                .num_microseconds()
                .unwrap_or(i64::MAX)
                .abs()
                < 1
        );
        let caused = Event::caused_by(
            &back.envelope,
            Actor::worker("critic"),
            EventData::Responded(Responded { text: "hi".into() }),
        );
        let wire = encode(&caused);
        let back = decode(&wire.subject, Some(&wire.headers), &wire.payload).expect("decodes");
        assert_eq!(back.envelope.causation, Some(event.envelope.id));
        assert_eq!(back.envelope.correlation, event.envelope.id);
    }

    fn kind_of(subject: &str, headers: Option<&HeaderMap>, payload: &[u8]) -> DecodeErrorKind {
        decode(subject, headers, payload)
            .expect_err("must not decode")
            .kind()
    }

    #[test]
    fn strict_decoding_errors_have_kinds() {
        let wire = encode(&received());
        let s = wire.subject.as_str();
        assert_eq!(
            kind_of(s, None, &wire.payload),
            DecodeErrorKind::MissingHeader
        );
        assert_eq!(
            kind_of(s, Some(&wire.headers), b"{not json"),
            DecodeErrorKind::InvalidJson
        );
        assert_eq!(
            kind_of(s, Some(&wire.headers), b"{}"),
            DecodeErrorKind::InvalidData
        );
        let mut extra: serde_json::Value = serde_json::from_slice(&wire.payload).expect("json");
        extra["surprise"] = serde_json::json!(1);
        let extra = serde_json::to_vec(&extra).expect("json");
        assert_eq!(
            kind_of(s, Some(&wire.headers), &extra),
            DecodeErrorKind::InvalidData
        );
        assert_eq!(
            kind_of("conv.acme.c2.received", Some(&wire.headers), &wire.payload),
            DecodeErrorKind::SubjectMismatch
        );

        let mut h = wire.headers.clone();
        h.insert(header::TYPE, "teleported");
        assert_eq!(
            kind_of(s, Some(&h), &wire.payload),
            DecodeErrorKind::UnknownType
        );
        for version in [
            "urn:switchboard:schema:received:v2",
            "urn:switchboard:schema:received:v0",
        ] {
            let mut h = wire.headers.clone();
            h.insert(header::DATA_SCHEMA, version);
            assert_eq!(
                kind_of(s, Some(&h), &wire.payload),
                DecodeErrorKind::UnsupportedVersion
            );
        }
        for (name, value) in [
            (header::ID, "nope"),
            (header::TENANT, "a.b"),
            (header::TIME, "yesterday"),
            (header::ACTOR, "robot"),
            (header::DATA_SCHEMA, "urn:switchboard:schema:closed:v1"),
        ] {
            let mut h = wire.headers.clone();
            h.insert(name, value);
            assert_eq!(
                kind_of(s, Some(&h), &wire.payload),
                DecodeErrorKind::InvalidHeader,
                "{name}"
            );
        }
    }
}
