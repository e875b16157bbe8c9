//! The conversation event store on JetStream.
//!
//! Every conversation is the set of subjects `conv.<tenant>.<id>.>` in the
//! `CONVERSATIONS` stream. [`EventStore::append`] extends one conversation
//! with optimistic concurrency over all of its subjects
//! (`Nats-Expected-Last-Subject-Sequence` plus `-Subject`), a deterministic
//! `Nats-Msg-Id`, and atomic batch publish when a step emits several events.
//! [`EventStore::load`] reads only that conversation's subjects with batched
//! direct gets, never scanning the stream.

mod append;
mod batch;
mod cache;
mod cipher;
mod error;
mod load;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::mpsc;

use async_nats::jetstream;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

pub use cache::CacheOptions;
pub use cipher::{Cipher, CipherError, CipherErrorKind};
pub use error::{AppendError, AppendErrorKind, LoadError, LoadErrorKind};
pub use load::{Loaded, RejectedMessage};

use crate::conversation::Conversation;
use crate::ids::{ConversationKey, EventId, StreamSeq};

/// The header that widens the expected-sequence check to a wildcard.
pub const EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT: &str =
    "Nats-Expected-Last-Subject-Sequence-Subject";

/// Settings of an [`EventStore`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The stream holding conversations. Default `CONVERSATIONS`.
    pub stream: String,
    /// Largest encoded event (headers plus body) accepted before any I/O.
    /// Default 256 KiB, the stream's `max_msg_size` in `streams/`.
    pub max_event_bytes: usize,
    /// How long to wait for an ack or a read. Default 5 s.
    pub timeout: Duration,
    /// Events fetched per direct-get request when loading. Default 256.
    pub load_batch: usize,
    /// Commit multi-event appends of different conversations together in
    /// one atomic batch when they arrive while another is in flight.
    /// Default true: nats-server pays a fixed cost per atomic batch.
    pub group_commit: bool,
    /// Keep recently loaded conversations so [`EventStore::load_cached`]
    /// reads only what was appended since. Default on; `None` turns it off.
    pub cache: Option<CacheOptions>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            stream: crate::subject::CONVERSATIONS_STREAM.into(),
            max_event_bytes: 256 * 1024,
            timeout: Duration::from_secs(5),
            load_batch: 256,
            group_commit: true,
            cache: Some(CacheOptions::default()),
        }
    }
}

/// A deterministic key that makes an append idempotent: the same key twice
/// stores the events once. Becomes `Nats-Msg-Id` (`<key>-<index>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key of a workflow step reacting to `causation`: a hash of both, so
    /// a redelivered trigger or a second replica produces the same key.
    pub fn for_step(causation: EventId, step: &str) -> Self {
        Self::hashed(&[causation.to_string().as_bytes(), b"/", step.as_bytes()])
    }

    /// The key of a customer message in `conversation`, from the channel's
    /// own message id. Channel message ids are unique only within what the
    /// channel serves, so the tenant and conversation are part of the key:
    /// the same id in two conversations is two messages, both stored.
    pub fn for_message(conversation: &ConversationKey, channel: &str, message_id: &str) -> Self {
        Self::hashed(&[
            b"msg",
            conversation.tenant.as_str().as_bytes(),
            conversation.id.as_str().as_bytes(),
            channel.as_bytes(),
            message_id.as_bytes(),
        ])
    }

    /// The key of a request made by a person or client outside the
    /// workflow (a human reply, a close), from the request's own
    /// idempotency key: the same request retried within the stream's
    /// duplicate window stores its event once.
    pub fn for_request(conversation: &ConversationKey, action: &str, request_key: &str) -> Self {
        Self::hashed(&[
            b"req",
            conversation.tenant.as_str().as_bytes(),
            conversation.id.as_str().as_bytes(),
            action.as_bytes(),
            request_key.as_bytes(),
        ])
    }

    /// A hash of `parts`, each prefixed with its length so that no two
    /// different lists of parts hash the same bytes (`"a/b" + "c"` is not
    /// `"a" + "b/c"`).
    fn hashed(parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        let digest = hasher.finalize();
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        Self(hex)
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `Nats-Msg-Id` of the event at `index` in an append.
    pub fn message_id(&self, index: usize) -> String {
        format!("{}-{}", self.0, index)
    }
}

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Sequence of the first event stored.
    pub first: StreamSeq,
    /// Sequence of the last event stored: the conversation's new version.
    pub last: StreamSeq,
}

/// How far to read a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Everything.
    End,
    /// Events with a stream sequence up to and including this one.
    Seq(StreamSeq),
    /// Events stored at or before this time.
    Time(DateTime<Utc>),
}

/// The event store: a cheap-to-clone handle over a NATS connection.
#[derive(Clone, Debug)]
pub struct EventStore {
    client: async_nats::Client,
    js: jetstream::Context,
    options: StoreOptions,
    /// The group committer's queue, started on the first multi-event append.
    group: Arc<OnceLock<mpsc::UnboundedSender<batch::Request>>>,
    /// Recently loaded conversations, shared by all clones.
    cache: Option<Arc<cache::ConversationCache>>,
    /// Seals personal text on append and opens it on load; `None` stores
    /// it as written.
    cipher: Option<Arc<dyn Cipher>>,
}

impl EventStore {
    /// A store over an existing connection. Makes no network call.
    pub fn new(client: async_nats::Client, options: StoreOptions) -> Self {
        let js = jetstream::ContextBuilder::new()
            .timeout(options.timeout)
            .max_ack_inflight(4096)
            .backpressure_on_inflight(true)
            .build(client.clone());
        let cache = options
            .cache
            .map(|c| Arc::new(cache::ConversationCache::new(c)));
        Self {
            client,
            js,
            options,
            group: Arc::new(OnceLock::new()),
            cache,
            cipher: None,
        }
    }

    /// This store with `cipher` sealing personal text on append and opening
    /// it on every read (see [`Cipher`]).
    pub fn with_cipher(mut self, cipher: Arc<dyn Cipher>) -> Self {
        self.cipher = Some(cipher);
        self
    }

    /// The cipher in force, if any: for readers of the stream that do not
    /// go through [`load`](Self::load) (the projector, live streams).
    pub fn cipher(&self) -> Option<&Arc<dyn Cipher>> {
        self.cipher.as_ref()
    }

    /// Forgets the cached copy of `key` and its cached key: after its
    /// personal data was erased, nothing this process holds may serve it.
    pub fn forget(&self, key: &ConversationKey) {
        if let Some(cache) = &self.cache {
            cache.remove(key);
        }
        if let Some(cipher) = &self.cipher {
            cipher.forget(key);
        }
    }

    /// The options in force.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// The JetStream context (for admin and benchmarks).
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// The underlying connection.
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// Loads and folds a conversation: the state the workflow decides on.
    pub async fn load_state(
        &self,
        key: &crate::ids::ConversationKey,
    ) -> Result<(Conversation, Loaded), LoadError> {
        let loaded = self.load(key).await?;
        Ok((loaded.fold(), loaded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_deterministic_and_distinct() {
        let cause = EventId::new_v7();
        assert_eq!(
            IdempotencyKey::for_step(cause, "screen"),
            IdempotencyKey::for_step(cause, "screen")
        );
        assert_ne!(
            IdempotencyKey::for_step(cause, "screen"),
            IdempotencyKey::for_step(cause, "classify")
        );
        assert_ne!(
            IdempotencyKey::for_step(cause, "screen"),
            IdempotencyKey::for_step(EventId::new_v7(), "screen")
        );
        let conv = ConversationKey::parse("acme/c1").expect("valid address");
        assert_eq!(
            IdempotencyKey::for_message(&conv, "web", "m1")
                .message_id(2)
                .len(),
            34
        );
    }

    #[test]
    fn message_keys_are_per_conversation() {
        let at = |address: &str| ConversationKey::parse(address).expect("valid address");
        let key = |address: &str, channel: &str, id: &str| {
            IdempotencyKey::for_message(&at(address), channel, id)
        };
        assert_eq!(key("acme/c1", "web", "m1"), key("acme/c1", "web", "m1"));
        // Another tenant, another conversation, another channel: another message.
        assert_ne!(key("acme/c1", "web", "m1"), key("other/c1", "web", "m1"));
        assert_ne!(key("acme/c1", "web", "m1"), key("acme/c2", "web", "m1"));
        assert_ne!(key("acme/c1", "web", "m1"), key("acme/c1", "mail", "m1"));
        // Parts cannot run into each other.
        assert_ne!(key("acme/c1", "a/b", "c"), key("acme/c1", "a", "b/c"));
        assert_ne!(key("ab/c", "web", "m1"), key("a/bc", "web", "m1"));
    }
}
