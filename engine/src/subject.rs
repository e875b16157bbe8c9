//! The subject grammar, in one place.
//!
//! Every conversation event lives on `conv.<tenant>.<conversation>.<type>`
//! in the `CONVERSATIONS` stream; dead letters on `dlq.<agent>.<tenant>` in
//! `DEADLETTER`. Building and parsing those subjects anywhere else drifts
//! (a filter that forgets a token matches nothing, silently), so the
//! runtime, the projector, the gateway and the benches all ask here.
//!
//! A partitioned `CONVERSATIONS` stream (`partitions = N` in
//! `streams/streams.toml`) stores each event under its published subject
//! plus a partition token, `conv.<tenant>.<conversation>.<type>.<p>`, with
//! `p` in `0..N` a hash of tenant and conversation computed by the server
//! (a stream subject transform), so every event of one conversation is in
//! one partition and a consumer per partition can give each worker replica
//! its own conversations. Publishers never write the token: subjects are
//! published as four tokens (and permissions are granted on those), and
//! readers accept both forms.

use crate::event::EventType;
use crate::ids::{ConversationId, ConversationKey, InvalidId, Tenant};

/// The stream holding every conversation's events.
pub const CONVERSATIONS_STREAM: &str = "CONVERSATIONS";
/// The stream holding dead letters.
pub const DEADLETTER_STREAM: &str = "DEADLETTER";
/// First token of a conversation event's subject.
pub const CONVERSATION_PREFIX: &str = "conv";
/// First token of a dead letter's subject.
pub const DEADLETTER_PREFIX: &str = "dlq";

/// Every conversation event of every tenant: `conv.>`.
pub fn all_conversations() -> String {
    format!("{CONVERSATION_PREFIX}.>")
}

/// Every event of one tenant (a [`Tenant`], or a tenant token already
/// checked by its caller): `conv.<tenant>.>`.
pub fn tenant_events(tenant: impl std::fmt::Display) -> String {
    format!("{CONVERSATION_PREFIX}.{tenant}.>")
}

/// Every event of one type, all tenants: `conv.*.*.<type>`.
pub fn events_of_type(event_type: EventType) -> String {
    format!("{CONVERSATION_PREFIX}.*.*.{}", event_type.as_str())
}

/// One tenant's events of one type as published: `conv.<tenant>.*.<type>`
/// (a core subscription, or a stored filter on an unpartitioned stream).
pub fn tenant_events_of_type(tenant: impl std::fmt::Display, event_type: EventType) -> String {
    format!("{CONVERSATION_PREFIX}.{tenant}.*.{}", event_type.as_str())
}

/// Filters that find one tenant's stored events of one type whether or not
/// the stream is partitioned: `conv.<tenant>.*.<type>` and
/// `conv.<tenant>.*.<type>.*` (disjoint, so one consumer may hold both).
pub fn stored_tenant_events_of_type(
    tenant: impl std::fmt::Display,
    event_type: EventType,
) -> [String; 2] {
    let published = tenant_events_of_type(tenant, event_type);
    let partitioned = format!("{published}.*");
    [published, partitioned]
}

/// One partition of a partitioned stream: a number below its partition
/// count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition(u32);

impl Partition {
    /// Partition `n`.
    pub const fn new(n: u32) -> Self {
        Self(n)
    }

    /// Its number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Which stored events a consumer filter selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An unpartitioned stream: every event, four tokens.
    Unpartitioned,
    /// One partition of a partitioned stream.
    Partition(Partition),
}

/// Stored events of one type in `scope`: `conv.*.*.<type>` or
/// `conv.*.*.<type>.<p>`.
pub fn stored_events_of_type(event_type: EventType, scope: Scope) -> String {
    match scope {
        Scope::Unpartitioned => events_of_type(event_type),
        Scope::Partition(p) => format!("{}.{p}", events_of_type(event_type)),
    }
}

/// The largest partition count a stream may declare.
pub const MAX_PARTITIONS: u32 = 1024;

/// The stream subject transform that partitions conversation events into
/// `partitions` partitions: `(source, destination)`.
pub fn partition_transform(partitions: u32) -> (String, String) {
    let p = CONVERSATION_PREFIX;
    (
        format!("{p}.*.*.*"),
        format!(
            "{p}.{{{{wildcard(1)}}}}.{{{{wildcard(2)}}}}.{{{{wildcard(3)}}}}.{{{{partition({partitions},1,2)}}}}"
        ),
    )
}

/// The partition count of a stream whose subject transform destination is
/// `destination` ([`partition_transform`]'s), or `None` for any other.
pub fn partitions_of(source: &str, destination: &str) -> Option<u32> {
    let (expected_source, _) = partition_transform(1);
    if source != expected_source {
        return None;
    }
    let n: u32 = destination
        .split_once("{{partition(")?
        .1
        .split_once(',')?
        .0
        .trim()
        .parse()
        .ok()?;
    (partition_transform(n).1 == destination && (1..=MAX_PARTITIONS).contains(&n)).then_some(n)
}

/// Whether a message stored on `stored` is the event published on
/// `published`: the same subject, or it with a partition token.
pub fn stored_as(stored: &str, published: &str) -> bool {
    match stored.strip_prefix(published) {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('.')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

/// One event of a conversation: `conv.<tenant>.<conversation>.<type>`.
pub fn event(key: &ConversationKey, event_type: &str) -> String {
    format!(
        "{CONVERSATION_PREFIX}.{}.{}.{event_type}",
        key.tenant, key.id
    )
}

/// All of one conversation: `conv.<tenant>.<conversation>.>`.
pub fn conversation(key: &ConversationKey) -> String {
    format!("{CONVERSATION_PREFIX}.{}.{}.>", key.tenant, key.id)
}

/// Where an agent's dead letters for a tenant go: `dlq.<agent>.<tenant>`.
pub fn dead_letter(agent: &str, tenant: impl std::fmt::Display) -> String {
    format!("{DEADLETTER_PREFIX}.{agent}.{tenant}")
}

/// A conversation event's subject, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSubject {
    /// Whose conversation.
    pub key: ConversationKey,
    /// The event type token (not checked against the catalog: a foreign
    /// publisher's unknown type is still a subject of the conversation).
    pub event_type: String,
    /// Its partition, when stored in a partitioned stream.
    pub partition: Option<Partition>,
}

/// Why a subject is not a conversation event's subject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// Not four tokens starting with `conv` (and a partition number).
    #[error(
        "{0:?} is not a conversation subject (conv.<tenant>.<conversation>.<type>[.<partition>])"
    )]
    NotConversation(String),
    /// A token is not a valid tenant or conversation id.
    #[error("{subject:?}: {source}")]
    InvalidToken {
        /// The subject.
        subject: String,
        /// The bad token.
        source: InvalidId,
    },
}

/// Parses `conv.<tenant>.<conversation>.<type>`, with a partition token
/// when stored in a partitioned stream.
pub fn parse_event(subject: &str) -> Result<EventSubject, SubjectError> {
    let not = || SubjectError::NotConversation(subject.to_owned());
    let mut tokens = subject.split('.');
    let (Some(prefix), Some(tenant), Some(id), Some(event_type), partition, None) = (
        tokens.next(),
        tokens.next(),
        tokens.next(),
        tokens.next(),
        tokens.next(),
        tokens.next(),
    ) else {
        return Err(not());
    };
    if prefix != CONVERSATION_PREFIX || event_type.is_empty() {
        return Err(not());
    }
    let partition = match partition {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(Partition::new(p.parse().map_err(|_| not())?))
        }
        Some(_) => return Err(not()),
    };
    let invalid = |source| SubjectError::InvalidToken {
        subject: subject.to_owned(),
        source,
    };
    let key = ConversationKey::new(
        Tenant::new(tenant).map_err(invalid)?,
        ConversationId::new(id).map_err(invalid)?,
    );
    Ok(EventSubject {
        key,
        event_type: event_type.to_owned(),
        partition,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ConversationKey {
        ConversationKey::parse("acme/c1").expect("valid")
    }

    #[test]
    fn given_a_key_when_subjects_are_built_then_they_follow_the_grammar() {
        let tenant = Tenant::new("acme").expect("valid");
        assert_eq!(event(&key(), "received"), "conv.acme.c1.received");
        assert_eq!(conversation(&key()), "conv.acme.c1.>");
        assert_eq!(tenant_events(&tenant), "conv.acme.>");
        assert_eq!(events_of_type(EventType::Classified), "conv.*.*.classified");
        assert_eq!(
            tenant_events_of_type(&tenant, EventType::Responded),
            "conv.acme.*.responded"
        );
        assert_eq!(all_conversations(), "conv.>");
        assert_eq!(dead_letter("critic", &tenant), "dlq.critic.acme");
    }

    #[test]
    fn given_an_event_subject_when_parsed_then_the_parts_come_back() {
        let parsed = parse_event("conv.acme.c1.human_replied").expect("valid");
        assert_eq!(parsed.key, key());
        assert_eq!(parsed.event_type, "human_replied");
        assert_eq!(parsed.partition, None);
        let stored = parse_event("conv.acme.c1.human_replied.7").expect("valid");
        assert_eq!(stored.key, key());
        assert_eq!(stored.partition, Some(Partition::new(7)));
    }

    #[test]
    fn given_a_partition_count_when_the_transform_is_built_then_it_reads_back() {
        let (source, destination) = partition_transform(8);
        assert_eq!(source, "conv.*.*.*");
        assert_eq!(
            destination,
            "conv.{{wildcard(1)}}.{{wildcard(2)}}.{{wildcard(3)}}.{{partition(8,1,2)}}"
        );
        assert_eq!(partitions_of(&source, &destination), Some(8));
        assert_eq!(partitions_of("conv.>", &destination), None);
        assert_eq!(partitions_of(&source, "conv.{{wildcard(1)}}"), None);
        let p = Scope::Partition(Partition::new(3));
        assert_eq!(
            stored_events_of_type(EventType::Classified, p),
            "conv.*.*.classified.3"
        );
        assert_eq!(
            stored_events_of_type(EventType::Classified, Scope::Unpartitioned),
            "conv.*.*.classified"
        );
    }

    #[test]
    fn given_a_stored_subject_when_compared_then_only_its_own_partition_forms_match() {
        let published = "conv.acme.c1.received";
        assert!(stored_as(published, published));
        assert!(stored_as("conv.acme.c1.received.12", published));
        for other in [
            "conv.acme.c1.received.",
            "conv.acme.c1.received.x",
            "conv.acme.c1.received_x",
            "conv.acme.c10.received",
            "conv.acme.c1.receive",
        ] {
            assert!(!stored_as(other, published), "{other}");
        }
    }

    #[test]
    fn given_a_foreign_subject_when_parsed_then_it_is_refused_with_the_reason() {
        for bad in [
            "dlq.critic.acme",
            "conv.acme.c1",
            "conv.acme.c1.x.y",
            "conv.acme.c1.x.1.2",
            "conv.acme.c1.x.",
            "conv.acme.c1.",
        ] {
            assert!(
                matches!(parse_event(bad), Err(SubjectError::NotConversation(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_event("conv.ac!me.c1.received"),
            Err(SubjectError::InvalidToken { .. })
        ));
    }
}
