//! Sealing personal text at the store boundary (crypto-shredding).
//!
//! The event store is given a [`Cipher`]: [`EventStore::append`] seals the
//! personal texts of each event ([`crate::event::personal`]) before
//! encoding, and every read opens them after decoding, so the agents, the
//! fold and the workflow only ever see plain events and never know keys
//! exist. What the cipher keeps its keys in (a KV bucket wrapped by a tenant
//! key, in the workers crate) is its own business; once a conversation's key
//! is shredded, `open` yields [`crate::event::personal::ERASED`] for each of
//! its texts instead of failing.
//!
//! [`EventStore::append`]: super::EventStore::append

use std::fmt;

use crate::event::Event;
use crate::ids::ConversationKey;

/// What went wrong sealing or opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CipherErrorKind {
    /// The key store could not be reached. Append and load fail as
    /// `Unavailable` (worker: nak with delay; HTTP 503).
    Unavailable,
    /// A sealed text is malformed or fails authentication under the key
    /// that should open it (tampering, or a foreign publisher): the message
    /// is listed as rejected, like any undecodable one.
    Invalid,
}

/// A failure to seal or open.
#[derive(Debug, Clone, thiserror::Error)]
#[error("personal data cipher ({kind:?}): {message}")]
pub struct CipherError {
    kind: CipherErrorKind,
    message: String,
}

impl CipherError {
    /// A new error of `kind`.
    pub fn new(kind: CipherErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> CipherErrorKind {
        self.kind
    }
}

/// Seals and opens the personal texts of events, in place.
#[async_trait::async_trait]
pub trait Cipher: Send + Sync + fmt::Debug {
    /// Seals the personal texts of `events`, all of conversation `key`, in
    /// place (creating the conversation's data key on first use).
    async fn seal(&self, key: &ConversationKey, events: &mut [Event]) -> Result<(), CipherError>;

    /// Opens the sealed texts of `event` in place; a text whose key was
    /// shredded becomes [`crate::event::personal::ERASED`]. Texts that are
    /// not sealed (written before encryption was on) are left as they are.
    async fn open(&self, event: &mut Event) -> Result<(), CipherError>;

    /// Forgets any cached key of `key` (its conversation was erased).
    fn forget(&self, key: &ConversationKey);
}
