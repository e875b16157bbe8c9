//! Loading one conversation with batched direct gets.
//!
//! One request to `$JS.API.DIRECT.GET.<stream>` with `next_by_subj` set to
//! the conversation's wildcard returns up to `batch` matching messages and
//! then an end-of-batch status (204). Only the conversation's own subjects
//! are read, whatever the size of the stream. Messages that do not decode are
//! reported beside the events, never dropped silently and never fatal.

use std::sync::Arc;
use std::time::Duration;

use async_nats::StatusCode;
use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::stream::DirectGetErrorKind;
use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::cipher::CipherErrorKind;
use super::error::{LoadError, LoadErrorKind, error_chain};
use super::{EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT, EventStore, Until};
use crate::conversation::Conversation;
use crate::event::codec::{DecodeError, DecodeErrorKind, decode, name};
use crate::event::{Event, EventData, StoredEvent, personal};
use crate::ids::{ConversationKey, StreamSeq};

/// A message on the conversation's subjects that is not a valid event.
#[derive(Debug, Clone)]
pub struct RejectedMessage {
    /// Its stream sequence.
    pub seq: StreamSeq,
    /// The subject it was published on.
    pub subject: String,
    /// Why it was rejected.
    pub error: DecodeError,
}

/// A conversation as read from the stream.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The conversation.
    pub key: ConversationKey,
    /// Valid events, in stream order.
    pub events: Vec<StoredEvent>,
    /// Messages that failed to decode, in stream order.
    pub rejected: Vec<RejectedMessage>,
    /// Sequence of the last message read, valid or not: the version to
    /// append against.
    pub version: StreamSeq,
    /// The events folded so far, kept up to date as they are added.
    state: Conversation,
    /// What this copy holds in memory, roughly (see [`Loaded::bytes`]).
    bytes: usize,
}

impl Loaded {
    /// Nothing read yet: the conversation as of version zero.
    pub(crate) fn empty(key: &ConversationKey) -> Self {
        Self {
            key: key.clone(),
            events: Vec::new(),
            rejected: Vec::new(),
            version: StreamSeq::ZERO,
            state: Conversation::default(),
            bytes: std::mem::size_of::<Self>(),
        }
    }

    /// Roughly what this copy holds in memory: its own size, and per event
    /// its struct and the length of its payload as JSON (the strings it
    /// owns). What the conversation cache is bounded by, with its entries.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The valid events folded; its version is the last message read. Kept
    /// as events are added, so asking costs nothing.
    pub fn conversation(&self) -> &Conversation {
        &self.state
    }

    /// An owned copy of [`conversation`](Self::conversation).
    pub fn fold(&self) -> Conversation {
        self.state.clone()
    }

    /// Adds the next event of the conversation and folds it.
    pub(crate) fn push_event(&mut self, stored: StoredEvent) {
        if matches!(stored.event.data, EventData::Erased(_)) {
            self.erase_before();
        }
        // Folded first: the fold skips events at or below its version.
        self.state.apply(&stored);
        self.advance(stored.seq);
        self.bytes += event_bytes(&stored);
        self.events.push(stored);
    }

    /// The conversation's key was shredded: whatever was read before (a
    /// copy cached while the key existed, or opened with a key cached
    /// elsewhere) reads as erased, and the state is folded again from it.
    fn erase_before(&mut self) {
        let mut changed = false;
        for stored in &mut self.events {
            changed |= personal::erase(&mut stored.event.data);
        }
        if changed {
            let version = self.state.version;
            self.state = Conversation::fold(&self.events);
            self.state.version = self.state.version.max(version);
        }
    }

    /// Adds the next message, which is not a valid event of the conversation.
    fn push_rejected(&mut self, rejected: RejectedMessage) {
        self.advance(rejected.seq);
        self.bytes += std::mem::size_of::<RejectedMessage>();
        self.rejected.push(rejected);
    }

    fn advance(&mut self, seq: StreamSeq) {
        self.version = self.version.max(seq);
        self.state.version = self.state.version.max(self.version);
    }
}

/// An event's memory, roughly: its struct plus its payload's JSON length,
/// counted without building the JSON.
fn event_bytes(stored: &StoredEvent) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // A payload that cannot be written out counts as its struct alone.
    let _ = serde_json::to_writer(&mut count, &stored.event.data);
    std::mem::size_of::<StoredEvent>() + count.0
}

const EOB: u16 = 204;

/// Most messages followed back by [`chain_back`] before a
/// conversation is read in full instead.
const MAX_WALK: usize = 64;

type Stream = async_nats::jetstream::stream::Stream<()>;

fn stored_at(message: &StreamMessage) -> DateTime<Utc> {
    DateTime::from_timestamp(message.time.unix_timestamp(), message.time.nanosecond())
        .unwrap_or_default()
}

impl EventStore {
    /// Reads all of a conversation.
    pub async fn load(&self, key: &ConversationKey) -> Result<Loaded, LoadError> {
        self.load_until(key, Until::End).await
    }

    /// Reads a conversation up to a sequence or a time (replay to a point).
    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %key.tenant, conversation = %key.id))]
    pub async fn load_until(
        &self,
        key: &ConversationKey,
        until: Until,
    ) -> Result<Loaded, LoadError> {
        let mut loaded = Loaded::empty(key);
        self.read_into(&mut loaded, until).await?;
        Ok(loaded)
    }

    /// Reads all of a conversation like [`load`](Self::load), but starts
    /// from the version this store last read it at (see [`CacheOptions`]):
    /// only the messages appended since are fetched. Without a cache
    /// (`StoreOptions::cache` is `None`) this is `load`.
    ///
    /// [`CacheOptions`]: super::CacheOptions
    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %key.tenant, conversation = %key.id))]
    pub async fn load_cached(&self, key: &ConversationKey) -> Result<Arc<Loaded>, LoadError> {
        let Some(cache) = &self.cache else {
            return Ok(Arc::new(self.load(key).await?));
        };
        let mut loaded = cache
            .get(key)
            .map_or_else(|| Loaded::empty(key), Arc::unwrap_or_clone);
        self.read_into(&mut loaded, Until::End).await?;
        let loaded = Arc::new(loaded);
        cache.put(loaded.clone());
        Ok(loaded)
    }

    /// The conversation as of at least `seq` (the stream sequence of an
    /// event of it that the caller has seen, e.g. a trigger): a cached copy
    /// that already reaches `seq` is returned without I/O, a shorter one is
    /// extended message by message up to `seq`, and without one the whole
    /// conversation is read. Events after `seq` may be missing; a decision on
    /// this state is checked by the append's expected version, and a
    /// conflict names the version to ask for next.
    ///
    /// This is what workers use: with many conversations in flight, asking
    /// JetStream for "everything after" a version makes it walk the stream
    /// to its end, while asking for the next message stops at the trigger.
    ///
    /// On a replicated stream a direct get may be answered by a replica
    /// that has not applied `seq` yet (the consumer delivered it from the
    /// leader): a read that falls short of `seq` is tried again for up to
    /// the store's timeout, then fails as `Unavailable`, never returning a
    /// state without the trigger, on which an agent would decide that
    /// nothing is to be done. (Found by `bench pipeline --cluster
    /// --durable`: one conversation in 2,500 was acked unanswered.)
    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %key.tenant, conversation = %key.id, seq = seq.get()))]
    pub async fn load_at_least(
        &self,
        key: &ConversationKey,
        seq: StreamSeq,
    ) -> Result<Arc<Loaded>, LoadError> {
        let deadline = tokio::time::Instant::now() + self.options.timeout;
        let mut pause = Duration::from_millis(2);
        loop {
            let loaded = self.read_at_least(key, seq).await?;
            if loaded.version >= seq {
                return Ok(loaded);
            }
            if tokio::time::Instant::now() + pause > deadline {
                return Err(LoadError::new(
                    LoadErrorKind::Unavailable,
                    format!(
                        "{key}: read up to {} but the trigger is at {seq}: a replica is behind",
                        loaded.version
                    ),
                ));
            }
            tracing::debug!(%key, read = loaded.version.get(), seq = seq.get(), "read fell short of the trigger; reading again");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// One attempt of [`Self::load_at_least`], which may fall short.
    async fn read_at_least(
        &self,
        key: &ConversationKey,
        seq: StreamSeq,
    ) -> Result<Arc<Loaded>, LoadError> {
        let Some(cache) = &self.cache else {
            return Ok(Arc::new(self.load(key).await?));
        };
        let held = match cache.get(key) {
            Some(held) if held.version < seq => cache.settled(key, seq, self.options.timeout).await,
            held => held,
        };
        if let Some(held) = held.as_ref().filter(|h| h.version >= seq) {
            return Ok(held.clone());
        }
        let stream = self
            .js
            .get_stream_no_info(&self.options.stream)
            .await
            .map_err(|e| LoadError::new(LoadErrorKind::Unavailable, error_chain(&e)))?;
        let mut loaded = match held {
            Some(held) => Arc::unwrap_or_clone(held),
            // Follow the trigger's expectations back to the first event
            // (one lookup for a new conversation); failing that, read it
            // all in batches.
            None => match self.walk_back(&stream, key, seq).await? {
                Some(first) => first,
                None => {
                    tracing::debug!(%key, seq = seq.get(), "expectation chain broken; reading the conversation in full");
                    return self.load_cached(key).await;
                }
            },
        };
        self.extend_to(&stream, &mut loaded, seq).await?;
        let loaded = Arc::new(loaded);
        cache.put(loaded.clone());
        Ok(loaded)
    }

    /// The conversation up to the message at `seq`, read by following the
    /// chain of expectations back from it: one direct get by sequence per
    /// event instead of a wildcard walk of the message block from its
    /// start, which costs the server a scan of every message in the block
    /// (what a worker that first sees a conversation mid-way, a single-agent
    /// worker or a replica that took a partition over, would otherwise pay
    /// per step). `None` when the chain cannot be followed (a message
    /// without the expectation, a foreign one, more than [`MAX_WALK`]
    /// messages), and the caller reads the conversation in full.
    ///
    /// The proof is the server's own check: a message stored with
    /// `Nats-Expected-Last-Subject-Sequence: p` over exactly the
    /// conversation's wildcard (as [`EventStore::append`] writes the first
    /// message of every append) was stored when the conversation's last
    /// message was `p`, so nothing of the conversation lies between the two,
    /// and nothing stored later can come before it; `p = 0` is the
    /// conversation's first message. Being the first message on the
    /// `received` subject proves nothing: a `human_replied`, a `closed` or
    /// an earlier turn may precede it, and a state folded without them
    /// would let the agents answer a conversation a human owns.
    async fn walk_back(
        &self,
        stream: &Stream,
        key: &ConversationKey,
        seq: StreamSeq,
    ) -> Result<Option<Loaded>, LoadError> {
        let Some(chain) = chain_back(stream, key, seq, 0).await? else {
            return Ok(None);
        };
        let mut loaded = Loaded::empty(key);
        for message in chain {
            self.push_message(&mut loaded, message).await?;
        }
        Ok(Some(loaded))
    }

    /// Reads the conversation's messages after `loaded.version` until it
    /// reaches `seq` (or the conversation ends): by the expectation chain
    /// back from `seq` when it leads to `loaded.version`, else one at a time
    /// forward (each a scan of the stream from the version).
    async fn extend_to(
        &self,
        stream: &Stream,
        loaded: &mut Loaded,
        seq: StreamSeq,
    ) -> Result<(), LoadError> {
        if loaded.version >= seq {
            return Ok(());
        }
        if let Some(chain) = chain_back(stream, &loaded.key, seq, loaded.version.get()).await? {
            for message in chain {
                self.push_message(loaded, message).await?;
            }
            return Ok(());
        }
        tracing::debug!(key = %loaded.key, from = loaded.version.get(), seq = seq.get(), "expectation chain broken; reading forward");
        let wildcard = loaded.key.wildcard();
        while loaded.version < seq {
            let next = loaded.version.get() + 1;
            let Some(message) = next_for_subject(stream, &wildcard, next).await? else {
                break;
            };
            self.push_message(loaded, message).await?;
        }
        Ok(())
    }

    /// Reads the conversation's messages after `loaded.version` into it.
    async fn read_into(&self, loaded: &mut Loaded, until: Until) -> Result<(), LoadError> {
        let wildcard = loaded.key.wildcard();
        let mut from = loaded.version.get() + 1;
        loop {
            let (messages, more) = self.direct_get_batch(&wildcard, from).await?;
            for message in messages {
                if past(&message, until) {
                    return Ok(());
                }
                from = message.sequence + 1;
                self.push_message(loaded, message).await?;
            }
            if !more {
                return Ok(());
            }
        }
    }

    /// One batched direct get from stream sequence `from`. Returns the
    /// messages and whether more match beyond them.
    async fn direct_get_batch(
        &self,
        wildcard: &str,
        from: u64,
    ) -> Result<(Vec<StreamMessage>, bool), LoadError> {
        let unavailable =
            |e: &dyn std::error::Error| LoadError::new(LoadErrorKind::Unavailable, error_chain(e));
        let inbox = self.client.new_inbox();
        let mut replies = self
            .client
            .subscribe(inbox.clone())
            .await
            .map_err(|e| unavailable(&e))?;
        let request = serde_json::json!({
            "seq": from,
            "next_by_subj": wildcard,
            "batch": self.options.load_batch,
        });
        self.client
            .publish_with_reply(
                format!("$JS.API.DIRECT.GET.{}", self.options.stream),
                inbox,
                request.to_string().into(),
            )
            .await
            .map_err(|e| unavailable(&e))?;
        let mut messages = Vec::new();
        let mut pending = 0u64;
        loop {
            let reply = tokio::time::timeout(self.options.timeout, replies.next())
                .await
                .map_err(|_| timed_out(self.options.timeout))?
                .ok_or_else(|| {
                    LoadError::new(LoadErrorKind::Unavailable, "connection closed during load")
                })?;
            match reply.status {
                Some(s) if s.as_u16() == EOB => break,
                Some(StatusCode::NOT_FOUND) => break,
                Some(StatusCode::NO_RESPONDERS) => {
                    return Err(LoadError::new(
                        LoadErrorKind::Rejected,
                        format!(
                            "no stream {} answers direct gets; run `switchboard streams apply`",
                            self.options.stream
                        ),
                    ));
                }
                Some(s) => {
                    return Err(LoadError::new(
                        LoadErrorKind::Rejected,
                        format!(
                            "direct get answered {s}: {}",
                            reply.description.unwrap_or_default()
                        ),
                    ));
                }
                None => {}
            }
            pending = reply
                .headers
                .as_ref()
                .and_then(|h| h.get(name("Nats-Num-Pending")))
                .and_then(|v| v.as_str().parse().ok())
                .unwrap_or(0);
            let message = StreamMessage::try_from(reply).map_err(|e| {
                LoadError::new(
                    LoadErrorKind::Rejected,
                    format!("malformed direct get reply: {e}"),
                )
            })?;
            messages.push(message);
        }
        Ok((messages, pending > 0))
    }
}

/// The conversation's messages after `floor` up to the one at `seq`, in
/// order, found by following their expectations back from `seq` (see
/// [`EventStore::walk_back`] for why that is proof); `None` when a message
/// on the way does not prove its predecessor, or the walk would pass
/// `floor` (a version of the conversation the caller already holds) or
/// take more than [`MAX_WALK`] lookups.
async fn chain_back(
    stream: &Stream,
    key: &ConversationKey,
    seq: StreamSeq,
    floor: u64,
) -> Result<Option<Vec<StreamMessage>>, LoadError> {
    let mut chain = Vec::new();
    let mut at = seq.get();
    while at > floor {
        if chain.len() >= MAX_WALK {
            return Ok(None);
        }
        let message = match stream.direct_get(at).await {
            Ok(message) => message,
            Err(e) if e.kind() == DirectGetErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LoadError::new(LoadErrorKind::Unavailable, error_chain(&e))),
        };
        let ours = crate::subject::parse_event(message.subject.as_str())
            .is_ok_and(|parsed| parsed.key == *key);
        let previous = expected_before(&message, key).filter(|p| *p < at && *p >= floor && ours);
        let Some(previous) = previous else {
            return Ok(None);
        };
        chain.push(message);
        at = previous;
    }
    chain.reverse();
    Ok(Some(chain))
}

/// The first message on `subject` from stream sequence `from`, if any.
async fn next_for_subject(
    stream: &Stream,
    subject: &str,
    from: u64,
) -> Result<Option<StreamMessage>, LoadError> {
    match stream
        .direct_get_next_for_subject(subject, Some(from))
        .await
    {
        Ok(message) => Ok(Some(message)),
        Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
        Err(e) => Err(LoadError::new(LoadErrorKind::Unavailable, error_chain(&e))),
    }
}

/// The conversation's last sequence when the server stored `message`, if
/// it was stored only after checking it: its expectation headers, which
/// JetStream keeps on the stored message, name a version over exactly the
/// conversation's wildcard.
fn expected_before(message: &StreamMessage, key: &ConversationKey) -> Option<u64> {
    let header = |n: &'static str| message.headers.get(name(n)).map(|v| v.as_str());
    if header(EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT) != Some(key.wildcard().as_str()) {
        return None;
    }
    header("Nats-Expected-Last-Subject-Sequence")?.parse().ok()
}

fn timed_out(after: Duration) -> LoadError {
    LoadError::new(
        LoadErrorKind::Unavailable,
        format!("no answer from JetStream within {after:?}"),
    )
}

fn past(message: &StreamMessage, until: Until) -> bool {
    match until {
        Until::End => false,
        Until::Seq(seq) => message.sequence > seq.get(),
        Until::Time(time) => stored_at(message) > time,
    }
}

/// Adds a message read from the conversation's subjects: an event, or a
/// rejected message. Either way it is the version now reached.
fn push_decoded(loaded: &mut Loaded, message: &StreamMessage, decoded: Result<Event, DecodeError>) {
    let seq = StreamSeq::new(message.sequence);
    match decoded {
        Ok(event) if event.envelope.conversation == loaded.key => loaded.push_event(StoredEvent {
            seq,
            stored_at: stored_at(message),
            event,
        }),
        Ok(event) => loaded.push_rejected(RejectedMessage {
            seq,
            subject: message.subject.to_string(),
            error: DecodeError::new(
                DecodeErrorKind::SubjectMismatch,
                format!(
                    "event of {} found under {}",
                    event.envelope.conversation, loaded.key
                ),
            ),
        }),
        Err(error) => {
            tracing::warn!(seq = seq.get(), subject = %message.subject, error = %error, "undecodable message in conversation");
            loaded.push_rejected(RejectedMessage {
                seq,
                subject: message.subject.to_string(),
                error,
            })
        }
    }
}

impl EventStore {
    /// Decodes a message, opens its personal texts, and adds it.
    async fn push_message(
        &self,
        loaded: &mut Loaded,
        message: StreamMessage,
    ) -> Result<(), LoadError> {
        let mut decoded = decode(
            message.subject.as_str(),
            Some(&message.headers),
            &message.payload,
        );
        if let (Ok(event), Some(cipher)) = (&mut decoded, &self.cipher) {
            match cipher.open(event).await {
                Ok(()) => {}
                Err(e) if e.kind() == CipherErrorKind::Unavailable => {
                    return Err(LoadError::new(LoadErrorKind::Unavailable, e.to_string()));
                }
                Err(e) => {
                    decoded = Err(DecodeError::new(
                        DecodeErrorKind::InvalidData,
                        e.to_string(),
                    ))
                }
            }
        }
        push_decoded(loaded, &message, decoded);
        Ok(())
    }
}
