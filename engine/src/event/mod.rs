//! Events: the catalog of payloads, the envelope and the wire codec.
//!
//! An [`Event`] is an [`Envelope`] (CloudEvents attributes plus Switchboard's
//! own: tenant, conversation, causation, correlation, actor) and an
//! [`EventData`] payload. On the wire the envelope travels as `ce-*` NATS
//! headers and the payload as the JSON body ([`codec`]). The stream sequence
//! is never stored in the event: it is read from JetStream ([`StoredEvent`]).

pub mod catalog;
pub mod codec;
pub mod personal;
pub mod schema;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;

pub use catalog::*;
pub use codec::{DecodeError, DecodeErrorKind};

use crate::ids::{ConversationKey, EventId, StreamSeq};

/// The type of an event: the `type` attribute and the last subject token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum EventType {
    Received,
    Screened,
    Classified,
    Retrieved,
    Drafted,
    Validated,
    Escalated,
    Responded,
    HumanReplied,
    Closed,
    Failed,
    Erased,
}

impl EventType {
    /// Every event type, in catalog order.
    pub const ALL: [EventType; 12] = [
        EventType::Received,
        EventType::Screened,
        EventType::Classified,
        EventType::Retrieved,
        EventType::Drafted,
        EventType::Validated,
        EventType::Escalated,
        EventType::Responded,
        EventType::HumanReplied,
        EventType::Closed,
        EventType::Failed,
        EventType::Erased,
    ];

    /// The name used in `ce-type` and in subjects.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::Received => "received",
            EventType::Screened => "screened",
            EventType::Classified => "classified",
            EventType::Retrieved => "retrieved",
            EventType::Drafted => "drafted",
            EventType::Validated => "validated",
            EventType::Escalated => "escalated",
            EventType::Responded => "responded",
            EventType::HumanReplied => "human_replied",
            EventType::Closed => "closed",
            EventType::Failed => "failed",
            EventType::Erased => "erased",
        }
    }

    /// The schema version this build writes. Older versions are upcast on
    /// read ([`codec::upcast`]).
    pub const fn current_version(self) -> u32 {
        1
    }

    /// The `dataschema` URI for a version of this type; the same string is the
    /// `$id` of `schemas/<type>/v<version>.json`.
    pub fn schema_uri(self, version: u32) -> String {
        format!("urn:switchboard:schema:{}:v{}", self.as_str(), version)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = DecodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                DecodeError::new(
                    DecodeErrorKind::UnknownType,
                    format!("unknown event type {s:?}"),
                )
            })
    }
}

/// A typed payload: one variant per catalog entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(missing_docs)]
pub enum EventData {
    Received(Received),
    Screened(Screened),
    Classified(Classified),
    Retrieved(Retrieved),
    Drafted(Drafted),
    Validated(Validated),
    Escalated(Escalated),
    Responded(Responded),
    HumanReplied(HumanReplied),
    Closed(Closed),
    Failed(Failed),
    Erased(Erased),
}

impl EventData {
    /// The type of this payload.
    pub fn event_type(&self) -> EventType {
        match self {
            EventData::Received(_) => EventType::Received,
            EventData::Screened(_) => EventType::Screened,
            EventData::Classified(_) => EventType::Classified,
            EventData::Retrieved(_) => EventType::Retrieved,
            EventData::Drafted(_) => EventType::Drafted,
            EventData::Validated(_) => EventType::Validated,
            EventData::Escalated(_) => EventType::Escalated,
            EventData::Responded(_) => EventType::Responded,
            EventData::HumanReplied(_) => EventType::HumanReplied,
            EventData::Closed(_) => EventType::Closed,
            EventData::Failed(_) => EventType::Failed,
            EventData::Erased(_) => EventType::Erased,
        }
    }
}

/// Who produced an event: `worker:<name>@<version>`, `channel:<name>` or
/// `human:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor(String);

impl Actor {
    /// A Switchboard worker at this build's version.
    pub fn worker(name: &str) -> Self {
        Self(format!("worker:{name}@{}", env!("CARGO_PKG_VERSION")))
    }

    /// A channel adapter.
    pub fn channel(name: &str) -> Self {
        Self(format!("channel:{name}"))
    }

    /// A human agent.
    pub fn human(id: &str) -> Self {
        Self(format!("human:{id}"))
    }

    /// Parses an actor header: a known prefix, printable ASCII, at most 200 bytes.
    pub fn parse(value: &str) -> Result<Self, DecodeError> {
        let known = ["worker:", "channel:", "human:"]
            .iter()
            .any(|p| value.starts_with(p) && value.len() > p.len());
        let printable = value.len() <= 200 && value.bytes().all(|b| b.is_ascii_graphic());
        if known && printable {
            Ok(Self(value.to_owned()))
        } else {
            Err(DecodeError::new(
                DecodeErrorKind::InvalidHeader,
                format!(
                    "actor {value:?} is not worker:, channel: or human: followed by printable text"
                ),
            ))
        }
    }

    /// The actor as written in `ce-actor`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The event's attributes, carried as `ce-*` headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// `ce-id`: unique id of this event.
    pub id: EventId,
    /// `ce-tenant` and `ce-conversation`: the conversation it belongs to.
    pub conversation: ConversationKey,
    /// `ce-time`: when the producer created it.
    pub time: DateTime<Utc>,
    /// `ce-causation`: the event this one reacts to (none for `received`).
    pub causation: Option<EventId>,
    /// `ce-correlation`: the id of the customer message that started the chain.
    pub correlation: EventId,
    /// `ce-actor`: who produced it.
    pub actor: Actor,
}

/// An event ready to append or just decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Attributes.
    pub envelope: Envelope,
    /// Payload.
    pub data: EventData,
}

impl Event {
    /// A new event that starts a chain (a customer message): its correlation
    /// is its own id.
    pub fn new_root(conversation: ConversationKey, actor: Actor, data: EventData) -> Self {
        let id = EventId::new_v7();
        Self {
            envelope: Envelope {
                id,
                conversation,
                time: now(),
                causation: None,
                correlation: id,
                actor,
            },
            data,
        }
    }

    /// A new event reacting to `cause`: same conversation and correlation.
    pub fn caused_by(cause: &Envelope, actor: Actor, data: EventData) -> Self {
        Self {
            envelope: Envelope {
                id: EventId::new_v7(),
                conversation: cause.conversation.clone(),
                time: now(),
                causation: Some(cause.id),
                correlation: cause.correlation,
                actor,
            },
            data,
        }
    }

    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.data.event_type()
    }
}

/// The time to stamp on a new event: now, to the microsecond the wire
/// carries, so an event reads back exactly as it was written.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// An event as read back from the stream, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Stream sequence: the conversation's version after this event.
    pub seq: StreamSeq,
    /// When JetStream stored it.
    pub stored_at: DateTime<Utc>,
    /// The event.
    pub event: Event,
}
