//! Appending events: single publish or atomic batch, with the conversation's
//! expected version and deterministic message ids.

use async_nats::HeaderMap;
use async_nats::header::{NATS_BATCH_COMMIT, NATS_BATCH_ID, NATS_BATCH_SEQUENCE, NATS_MESSAGE_ID};
use async_nats::jetstream::message::PublishMessage;

use super::error::{AppendError, AppendErrorKind, error_chain};
use super::{Appended, EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT, EventStore, IdempotencyKey};
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
        let encoded = self.encode_checked(key, events)?;
        let result = if encoded.len() == 1 {
            self.publish_one(key, expected, encoded, idempotency).await
        } else {
            self.publish_batch(key, expected, encoded, idempotency)
                .await
        };
        match result {
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
        }
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

    fn guarded(key: &ConversationKey, expected: StreamSeq, mut headers: HeaderMap) -> HeaderMap {
        headers.insert(
            "Nats-Expected-Last-Subject-Sequence",
            expected.get().to_string().as_str(),
        );
        headers.insert(
            EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT,
            key.wildcard().as_str(),
        );
        headers
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
        let mut headers = Self::guarded(key, expected, wire.headers);
        headers.insert(NATS_MESSAGE_ID, idempotency.message_id(0).as_str());
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

    /// ADR-50 atomic batch: messages 1..n-1 as core publishes carrying the
    /// batch headers, the last as a JetStream publish with the commit header;
    /// its ack reports the whole batch. The expectation on the first message
    /// guards the batch: a stale one stores nothing.
    async fn publish_batch(
        &self,
        key: &ConversationKey,
        expected: StreamSeq,
        encoded: Vec<Encoded>,
        idempotency: &IdempotencyKey,
    ) -> Result<Appended, AppendError> {
        let batch_id = self
            .client
            .new_inbox()
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_owned();
        let count = encoded.len();
        let mut last = None;
        for (index, wire) in encoded.into_iter().enumerate() {
            let mut headers = if index == 0 {
                Self::guarded(key, expected, wire.headers)
            } else {
                wire.headers
            };
            headers.insert(NATS_MESSAGE_ID, idempotency.message_id(index).as_str());
            headers.insert(NATS_BATCH_ID, batch_id.as_str());
            headers.insert(NATS_BATCH_SEQUENCE, (index + 1).to_string().as_str());
            if index + 1 < count {
                self.client
                    .publish_with_headers(wire.subject, headers, wire.payload)
                    .await
                    .map_err(|e| AppendError::new(AppendErrorKind::Unavailable, error_chain(&e)))?;
            } else {
                headers.insert(NATS_BATCH_COMMIT, "1");
                last = Some((
                    wire.subject,
                    PublishMessage::build()
                        .payload(wire.payload)
                        .headers(headers),
                ));
            }
        }
        let Some((subject, message)) = last else {
            return Err(AppendError::new(
                AppendErrorKind::InvalidId,
                "nothing to append",
            ));
        };
        let ack = self
            .js
            .send_publish(subject, message)
            .await
            .map_err(AppendError::from_publish)?
            .await
            .map_err(AppendError::from_publish)?;
        let last = StreamSeq::new(ack.sequence);
        if ack.duplicate {
            return Err(AppendError::duplicate(last));
        }
        let first = StreamSeq::new(ack.sequence + 1 - count as u64);
        Ok(Appended { first, last })
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
