//! Validated identifiers: tenants, conversations, events, stream sequences.
//!
//! Tenants and conversation ids become NATS subject tokens
//! (`conv.<tenant>.<conversation>.<type>`), so an invalid one could widen a
//! subscription (`*`, `>`) or split a token (`.`). Each newtype validates on
//! construction; once a value exists it is safe to put in a subject, and no
//! I/O ever sees an unchecked id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest tenant or conversation token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 128;

/// Why a string is not a valid subject token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidId {
    /// The token is empty.
    #[error("{what} must not be empty")]
    Empty {
        /// Which kind of id was being parsed.
        what: &'static str,
    },
    /// The token is longer than [`MAX_TOKEN_LEN`].
    #[error("{what} is {len} bytes long; the limit is {MAX_TOKEN_LEN}")]
    TooLong {
        /// Which kind of id was being parsed.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The token holds a character that cannot appear in a subject token.
    #[error(
        "{what} {value:?} contains {ch:?}, which is not allowed (only letters, digits, '-' and '_')"
    )]
    BadChar {
        /// Which kind of id was being parsed.
        what: &'static str,
        /// The rejected value.
        value: String,
        /// The first offending character.
        ch: char,
    },
    /// A conversation address without the `/` between tenant and
    /// conversation id.
    #[error(
        "conversation address {value:?} has no '/': expected tenant/conversation, e.g. brewvi/c1"
    )]
    NotAnAddress {
        /// The rejected value.
        value: String,
    },
    /// The event id is not a UUID.
    #[error("event id {value:?} is not a UUID: {reason}")]
    NotUuid {
        /// The rejected value.
        value: String,
        /// What the UUID parser said.
        reason: String,
    },
}

/// Checks one subject token. Only ASCII letters, digits, `-` and `_` are
/// allowed: this excludes `.`, `*`, `>`, whitespace and control characters,
/// and keeps tokens readable in logs and safe in file names.
fn validate_token(what: &'static str, value: &str) -> Result<(), InvalidId> {
    if value.is_empty() {
        return Err(InvalidId::Empty { what });
    }
    if value.len() > MAX_TOKEN_LEN {
        return Err(InvalidId::TooLong {
            what,
            len: value.len(),
        });
    }
    if let Some(ch) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(InvalidId::BadChar {
            what,
            value: value.to_owned(),
            ch,
        });
    }
    Ok(())
}

macro_rules! token_newtype {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps a token.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidId> {
                let value = value.into();
                validate_token($what, &value)?;
                Ok(Self(value))
            }

            /// The token as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "pattern": "^[A-Za-z0-9_-]{1,128}$"
                })
            }
        }
    };
}

token_newtype!(
    /// A tenant: one customer-service organisation. A subject token.
    Tenant,
    "tenant"
);
token_newtype!(
    /// A conversation id, unique within its tenant. A subject token.
    ConversationId,
    "conversation id"
);

/// A conversation's full address: tenant plus conversation id.
///
/// This is the unit of consistency: every append is checked against the last
/// sequence on the conversation's subjects.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConversationKey {
    /// The tenant the conversation belongs to.
    pub tenant: Tenant,
    /// The conversation within the tenant.
    pub id: ConversationId,
}

impl ConversationKey {
    /// Builds a key from validated parts.
    pub fn new(tenant: Tenant, id: ConversationId) -> Self {
        Self { tenant, id }
    }

    /// Parses `tenant/conversation`, the form the CLI and logs use.
    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        let (tenant, id) = value
            .split_once('/')
            .ok_or_else(|| InvalidId::NotAnAddress {
                value: value.to_owned(),
            })?;
        Ok(Self::new(Tenant::new(tenant)?, ConversationId::new(id)?))
    }

    /// The subject for one event of this conversation:
    /// `conv.<tenant>.<conversation>.<event_type>`.
    pub fn subject(&self, event_type: &str) -> String {
        crate::subject::event(self, event_type)
    }

    /// The wildcard covering all of this conversation's events:
    /// `conv.<tenant>.<conversation>.>`.
    pub fn wildcard(&self) -> String {
        crate::subject::conversation(self)
    }
}

impl fmt::Display for ConversationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.tenant, self.id)
    }
}

/// An event id: a UUIDv7, so ids sort by creation time.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct EventId(uuid::Uuid);

impl EventId {
    /// A fresh time-ordered id.
    pub fn new_v7() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    /// Wraps an existing UUID.
    pub fn from_uuid(uuid: uuid::Uuid) -> Self {
        Self(uuid)
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl FromStr for EventId {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s)
            .map(Self)
            .map_err(|e| InvalidId::NotUuid {
                value: s.to_owned(),
                reason: e.to_string(),
            })
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A JetStream stream sequence. `StreamSeq::ZERO` means "nothing yet": it is
/// the expected version of a conversation that has no events.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct StreamSeq(u64);

impl StreamSeq {
    /// The version of an empty conversation.
    pub const ZERO: StreamSeq = StreamSeq(0);

    /// Wraps a raw sequence.
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    /// The raw sequence.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for StreamSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_reject_subject_metacharacters() {
        for bad in ["", "a.b", "a*", ">", "a b", "a\tb", "é", "a/b"] {
            assert!(Tenant::new(bad).is_err(), "{bad:?} should be rejected");
            assert!(
                ConversationId::new(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        assert!(Tenant::new("x".repeat(MAX_TOKEN_LEN + 1)).is_err());
    }

    #[test]
    fn tokens_accept_ordinary_ids() {
        for good in ["brewvi", "c-42", "ORDER_1", "0190a1b2-c3d4"] {
            assert_eq!(
                Tenant::new(good).map(|t| t.to_string()),
                Ok(good.to_owned())
            );
        }
    }

    #[test]
    fn deserialising_validates() {
        let bad: Result<Tenant, _> = serde_json::from_str("\"a.b\"");
        assert!(bad.is_err());
        let good: Tenant = serde_json::from_str("\"acme\"").expect("valid token");
        assert_eq!(good.as_str(), "acme");
    }

    #[test]
    fn conversation_key_subjects() {
        let key = ConversationKey::parse("acme/c1").expect("valid address");
        assert_eq!(key.subject("received"), "conv.acme.c1.received");
        assert_eq!(key.wildcard(), "conv.acme.c1.>");
        let missing = ConversationKey::parse("acme").expect_err("no '/'");
        assert_eq!(
            missing,
            InvalidId::NotAnAddress {
                value: "acme".into()
            }
        );
        assert!(missing.to_string().contains("has no '/'"), "{missing}");
        // A second '/' is a character the conversation id may not hold.
        let extra = ConversationKey::parse("acme/c/1").expect_err("two '/'");
        assert!(extra.to_string().contains("contains '/'"), "{extra}");
        assert!(ConversationKey::parse("acme/c.1").is_err());
    }

    #[test]
    fn event_id_parses_uuid_only() {
        assert!("not-a-uuid".parse::<EventId>().is_err());
        let id = EventId::new_v7();
        assert_eq!(id.to_string().parse::<EventId>(), Ok(id));
    }
}
