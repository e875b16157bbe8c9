//! Appending events: single publish or atomic batch, with the conversation's
//! expected version and deterministic message ids.

use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream::message::PublishMessage;

use super::batch::{guarded, prepare};
use super::cipher::CipherErrorKind;
use super::error::{AppendError, AppendErrorKind, error_chain};
use super::{Appended, EventStore, IdempotencyKey};
use crate::event::Event;
use crate::event::codec::{Encoded, encode};
use crate::ids::{ConversationKey, StreamSeq};

/// JetStream's limit on messages in one atomic batch.
pub const MAX_BATCH: usize = 1000;

impl EventStore {
    /// Appends `events` to `key` if the conversation is still at `expected`
    /// (`StreamSeq::ZERO` for a new conversation). Several events are stored
    /// atomically: all or none. Retrying with the same `idempotency` key
    /// stores nothing new and reports [`AppendErrorKind::Duplicate`].
    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %key.tenant, conversation = %key.id, expected = expected.get(), events = events.len()))]
    pub async fn append(
        &self,
        key: &ConversationKey,
        expected: StreamSeq,
        events: &[Event],
        idempotency: &IdempotencyKey,
    ) -> Result<Appended, AppendError> {
        let sealed;
        // Events that encode_checked will refuse are not sealed: no key is
        // made for a caller's mistake.
        let refused = events.is_empty() || events.iter().any(|e| &e.envelope.conversation != key);
        let to_store = match &self.cipher {
            Some(cipher) if !refused => {
                let mut copy = events.to_vec();
                cipher.seal(key, &mut copy).await.map_err(|e| {
                    let kind = match e.kind() {
                        CipherErrorKind::Unavailable => AppendErrorKind::Unavailable,
                        _ => AppendErrorKind::Rejected,
                    };
                    AppendError::new(kind, e.to_string())
                })?;
                sealed = copy;
                &sealed[..]
            }
            _ => events,
        };
        let encoded = self.encode_checked(key, to_store)?;
        let _pending = self
            .cache
            .as_ref()
            .and_then(|cache| cache.begin_append(key, expected));
        let result = if encoded.len() == 1 {
            self.publish_one(key, expected, encoded, idempotency).await
        } else {
            let prepared = prepare(key, expected, encoded, idempotency);
            if self.options.group_commit {
                self.group_commit(prepared).await
            } else {
                self.publish_batch(prepared).await
            }
        };
        let result = match result {
            Err(e) if e.kind() == AppendErrorKind::Conflict => Err(self
                .explain_conflict(key, expected, events.len(), idempotency)
                .await),
            Err(e) if e.kind() == AppendErrorKind::Duplicate && e.actual_version().is_none() => {
                // A batch retried with a current expectation: the server names
                // no sequence, so report the conversation's version.
                let explained = self
                    .explain_conflict(key, expected, events.len(), idempotency)
                    .await;
                Err(match explained.actual_version() {
                    Some(seq) => AppendError::duplicate(seq),
                    None => explained,
                })
            }
            other => other,
        };
        if let (Ok(appended), Some(cache)) = (&result, &self.cache) {
            cache.write_through(key, expected, events, *appended);
        }
        result
    }

    /// Validates and encodes before any I/O.
    fn encode_checked(
        &self,
        key: &ConversationKey,
        events: &[Event],
    ) -> Result<Vec<Encoded>, AppendError> {
        if events.is_empty() || events.len() > MAX_BATCH {
            return Err(AppendError::new(
                AppendErrorKind::InvalidId,
                format!(
                    "an append holds 1 to {MAX_BATCH} events, not {}",
                    events.len()
                ),
            ));
        }
        events
            .iter()
            .map(|event| {
                if &event.envelope.conversation != key {
                    return Err(AppendError::new(
                        AppendErrorKind::InvalidId,
                        format!(
                            "event {} belongs to {}, not {key}",
                            event.envelope.id, event.envelope.conversation
                        ),
                    ));
                }
                let wire = encode(event);
                let size = wire.wire_size();
                if size > self.options.max_event_bytes {
                    return Err(AppendError::new(
                        AppendErrorKind::TooLarge,
                        format!(
                            "{} event is {size} bytes encoded; the limit is {} bytes",
                            event.event_type(),
                            self.options.max_event_bytes
                        ),
                    ));
                }
                Ok(wire)
            })
            .collect()
    }

    async fn publish_one(
        &self,
        key: &ConversationKey,
        expected: StreamSeq,
        mut encoded: Vec<Encoded>,
        idempotency: &IdempotencyKey,
    ) -> Result<Appended, AppendError> {
        let Some(wire) = encoded.pop() else {
            return Err(AppendError::new(
                AppendErrorKind::InvalidId,
                "nothing to append",
            ));
        };
        let mut headers = guarded(key, expected, wire.headers);
        headers.insert(NATS_MESSAGE_ID, idempotency.message_id(0));
        let message = PublishMessage::build()
            .payload(wire.payload)
            .headers(headers);
        let ack = self
            .js
            .send_publish(wire.subject, message)
            .await
            .map_err(AppendError::from_publish)?
            .await
            .map_err(AppendError::from_publish)?;
        let seq = StreamSeq::new(ack.sequence);
        if ack.duplicate {
            return Err(AppendError::duplicate(seq));
        }
        Ok(Appended {
            first: seq,
            last: seq,
        })
    }

    /// After a wrong-last-sequence answer: was it our own earlier append
    /// (a retry after a lost ack) or someone else's? JetStream checks the
    /// expectation before deduplicating, so we compare the conversation's
    /// last message id with ours.
    async fn explain_conflict(
        &self,
        key: &ConversationKey,
        expected: StreamSeq,
        count: usize,
        idempotency: &IdempotencyKey,
    ) -> AppendError {
        let stream = match self.js.get_stream_no_info(&self.options.stream).await {
            Ok(s) => s,
            Err(e) => return AppendError::new(AppendErrorKind::Unavailable, error_chain(&e)),
        };
        match stream.direct_get_last_for_subject(key.wildcard()).await {
            Ok(last) => {
                let seq = StreamSeq::new(last.sequence);
                let ours = idempotency.message_id(count - 1);
                if last.headers.get(NATS_MESSAGE_ID).map(|v| v.as_str()) == Some(ours.as_str()) {
                    AppendError::duplicate(seq)
                } else {
                    AppendError::conflict(expected, seq)
                }
            }
            Err(e) if e.kind() == async_nats::jetstream::stream::DirectGetErrorKind::NotFound => {
                AppendError::conflict(expected, StreamSeq::ZERO)
            }
            Err(e) => AppendError::new(AppendErrorKind::Unavailable, error_chain(&e)),
        }
    }
}
