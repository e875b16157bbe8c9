//! The subject grammar, in one place.
//!
//! Every conversation event lives on `conv.<tenant>.<conversation>.<type>`
//! in the `CONVERSATIONS` stream; dead letters on `dlq.<agent>.<tenant>` in
//! `DEADLETTER`. Building and parsing those subjects anywhere else drifts
//! (a filter that forgets a token matches nothing, silently), so the
//! runtime, the projector, the gateway and the benches all ask here.

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

/// One tenant's events of one type: `conv.<tenant>.*.<type>`.
pub fn tenant_events_of_type(tenant: impl std::fmt::Display, event_type: EventType) -> String {
    format!("{CONVERSATION_PREFIX}.{tenant}.*.{}", event_type.as_str())
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
}

/// Why a subject is not a conversation event's subject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// Not four tokens starting with `conv`.
    #[error("{0:?} is not a conversation subject (conv.<tenant>.<conversation>.<type>)")]
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

/// Parses `conv.<tenant>.<conversation>.<type>`.
pub fn parse_event(subject: &str) -> Result<EventSubject, SubjectError> {
    let not = || SubjectError::NotConversation(subject.to_owned());
    let mut tokens = subject.split('.');
    let (Some(prefix), Some(tenant), Some(id), Some(event_type), None) = (
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
    }

    #[test]
    fn given_a_foreign_subject_when_parsed_then_it_is_refused_with_the_reason() {
        for bad in [
            "dlq.critic.acme",
            "conv.acme.c1",
            "conv.acme.c1.x.y",
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
