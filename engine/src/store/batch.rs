//! Atomic multi-event appends, and group commit of many of them.
//!
//! A step that emits several events stores them with a JetStream atomic
//! batch (ADR-50): messages 1..n-1 go out as core publishes carrying the
//! batch headers, the last as a JetStream publish with the commit header,
//! whose ack reports the whole batch. The expectation on each append's first
//! message guards it: a stale one stores nothing.
//!
//! nats-server stages every atomic batch of a file-backed stream in its own
//! on-disk store before committing it (a directory and synced metadata per
//! batch), so each batch has a fixed cost of milliseconds, paid one batch at
//! a time per stream. The [`GroupCommitter`] amortises it: appends from
//! different conversations that arrive while a batch is in flight are
//! committed together in the next one, each keeping its own expectation and
//! message ids. The group is atomic as a whole, so if any member is refused
//! (a conflict, a duplicate) nothing is stored and every member is retried
//! alone to get its own answer. An idle store sends each append at once.
//! Up to [`GROUPS_IN_FLIGHT`] groups are in flight together, never two
//! holding the same conversation, so appends to one conversation keep their
//! order.

use std::collections::{HashSet, VecDeque};

use async_nats::HeaderMap;
use async_nats::header::{NATS_BATCH_COMMIT, NATS_BATCH_ID, NATS_BATCH_SEQUENCE, NATS_MESSAGE_ID};
use async_nats::jetstream::context::Context;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::publish::PublishAck;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};

use super::append::MAX_BATCH;
use super::error::{AppendError, AppendErrorKind, error_chain};
use super::{Appended, EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT, EventStore, IdempotencyKey};
use crate::event::codec::{Encoded, name};
use crate::ids::{ConversationKey, StreamSeq};

/// Groups committed at once. The server takes them in turn, but while one
/// is being stored the next is already on its way.
const GROUPS_IN_FLIGHT: usize = 4;

/// Members of a failed group retried alone at once (the server allows 50
/// in-flight batches per stream by default).
const FALLBACK_CONCURRENCY: usize = 8;

/// Adds the conversation-wide expectation headers.
pub(crate) fn guarded(
    key: &ConversationKey,
    expected: StreamSeq,
    mut headers: HeaderMap,
) -> HeaderMap {
    headers.insert(
        name("Nats-Expected-Last-Subject-Sequence"),
        expected.get().to_string(),
    );
    headers.insert(name(EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT), key.wildcard());
    headers
}

/// One message ready for a batch: subject, headers (with message id and, on
/// an append's first message, the expectation), body.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    subject: String,
    headers: HeaderMap,
    payload: Bytes,
}

/// An append ready to send.
#[derive(Debug)]
pub(crate) struct Prepared {
    conversation: String,
    messages: Vec<Outgoing>,
}

/// Adds message ids and the expectation to an append's encoded events.
pub(crate) fn prepare(
    key: &ConversationKey,
    expected: StreamSeq,
    encoded: Vec<Encoded>,
    idempotency: &IdempotencyKey,
) -> Prepared {
    let messages = encoded
        .into_iter()
        .enumerate()
        .map(|(index, wire)| {
            let mut headers = if index == 0 {
                guarded(key, expected, wire.headers)
            } else {
                wire.headers
            };
            headers.insert(NATS_MESSAGE_ID, idempotency.message_id(index));
            Outgoing {
                subject: wire.subject,
                headers,
                payload: wire.payload,
            }
        })
        .collect();
    Prepared {
        conversation: key.wildcard(),
        messages,
    }
}

/// Sends messages as one atomic batch and returns the commit's ack.
async fn send_atomic(
    client: &async_nats::Client,
    js: &Context,
    messages: Vec<Outgoing>,
) -> Result<PublishAck, AppendError> {
    let batch_id = client
        .new_inbox()
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_owned();
    let count = messages.len();
    for (index, mut m) in messages.into_iter().enumerate() {
        m.headers.insert(NATS_BATCH_ID, batch_id.as_str());
        m.headers
            .insert(NATS_BATCH_SEQUENCE, (index + 1).to_string());
        if index + 1 < count {
            client
                .publish_with_headers(m.subject, m.headers, m.payload)
                .await
                .map_err(|e| AppendError::new(AppendErrorKind::Unavailable, error_chain(&e)))?;
        } else {
            m.headers.insert(NATS_BATCH_COMMIT, "1");
            let message = PublishMessage::build()
                .payload(m.payload)
                .headers(m.headers);
            return js
                .send_publish(m.subject, message)
                .await
                .map_err(AppendError::from_publish)?
                .await
                .map_err(AppendError::from_publish);
        }
    }
    Err(AppendError::new(
        AppendErrorKind::InvalidId,
        "nothing to append",
    ))
}

/// Sends one append as its own atomic batch.
async fn send_alone(
    client: &async_nats::Client,
    js: &Context,
    prepared: Prepared,
) -> Result<Appended, AppendError> {
    let count = prepared.messages.len() as u64;
    let ack = send_atomic(client, js, prepared.messages).await?;
    let last = StreamSeq::new(ack.sequence);
    if ack.duplicate {
        return Err(AppendError::duplicate(last));
    }
    Ok(Appended {
        first: StreamSeq::new(ack.sequence + 1 - count),
        last,
    })
}

impl EventStore {
    /// One append as one atomic batch, without grouping.
    pub(crate) async fn publish_batch(&self, prepared: Prepared) -> Result<Appended, AppendError> {
        send_alone(&self.client, &self.js, prepared).await
    }

    /// One append through the group committer (started on first use).
    pub(crate) async fn group_commit(&self, prepared: Prepared) -> Result<Appended, AppendError> {
        let sender = self.group.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let committer = GroupCommitter {
                sender: Sender {
                    client: self.client.clone(),
                    js: self.js.clone(),
                },
                rx,
                deferred: VecDeque::new(),
                busy: HashSet::new(),
            };
            tokio::spawn(committer.run());
            tx
        });
        let (reply, answer) = oneshot::channel();
        sender.send(Request { prepared, reply }).map_err(|_| {
            AppendError::new(
                AppendErrorKind::Unavailable,
                "the group committer has stopped",
            )
        })?;
        answer.await.map_err(|_| {
            AppendError::new(
                AppendErrorKind::Unavailable,
                "the group committer dropped the append",
            )
        })?
    }
}

/// An append waiting for the committer.
#[derive(Debug)]
pub(crate) struct Request {
    prepared: Prepared,
    reply: oneshot::Sender<Result<Appended, AppendError>>,
}

/// Owns the batches of one [`EventStore`] and its clones; ends when they are
/// all dropped (the channel closes) and its groups are answered.
struct GroupCommitter {
    sender: Sender,
    rx: mpsc::UnboundedReceiver<Request>,
    /// Appends held back because their conversation was already in a group.
    deferred: VecDeque<Request>,
    /// Conversations in groups that are in flight.
    busy: HashSet<String>,
}

/// What sends batches: cheap to clone into each group's task.
#[derive(Clone)]
struct Sender {
    client: async_nats::Client,
    js: Context,
}

impl GroupCommitter {
    async fn run(mut self) {
        let mut in_flight = futures::stream::FuturesUnordered::new();
        let mut open = true;
        while open || !in_flight.is_empty() {
            tokio::select! {
                Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                    for conversation in done {
                        self.busy.remove(&conversation);
                    }
                }
                group = self.next_group(), if open && in_flight.len() < GROUPS_IN_FLIGHT => {
                    let Some(group) = group else {
                        open = false;
                        continue;
                    };
                    let conversations: Vec<String> =
                        group.iter().map(|r| r.prepared.conversation.clone()).collect();
                    self.busy.extend(conversations.iter().cloned());
                    let sender = self.sender.clone();
                    in_flight.push(async move {
                        sender.commit(group).await;
                        conversations
                    });
                }
            }
        }
    }

    /// Waits for one append whose conversation is not in flight, then takes
    /// whatever else is waiting, up to the batch limit and at most one
    /// append per conversation. Cancel-safe: it only awaits the channel.
    async fn next_group(&mut self) -> Option<Vec<Request>> {
        let first = loop {
            let eligible = self
                .deferred
                .iter()
                .position(|r| !self.busy.contains(&r.prepared.conversation));
            if let Some(r) = eligible.and_then(|i| self.deferred.remove(i)) {
                break r;
            }
            let r = self.rx.recv().await?;
            if self.busy.contains(&r.prepared.conversation) {
                self.deferred.push_back(r);
            } else {
                break r;
            }
        };
        let mut size = first.prepared.messages.len();
        let mut seen = HashSet::from([first.prepared.conversation.clone()]);
        let mut group = vec![first];
        let mut held = VecDeque::new();
        let mut candidates = std::mem::take(&mut self.deferred);
        loop {
            let Some(next) = candidates.pop_front().or_else(|| self.rx.try_recv().ok()) else {
                break;
            };
            let n = next.prepared.messages.len();
            if size + n > MAX_BATCH {
                held.push_back(next);
                held.extend(candidates.drain(..));
                break;
            }
            let conversation = &next.prepared.conversation;
            if !self.busy.contains(conversation) && seen.insert(conversation.clone()) {
                size += n;
                group.push(next);
            } else {
                held.push_back(next);
            }
        }
        self.deferred = held;
        Some(group)
    }
}

impl Sender {
    async fn commit(&self, mut group: Vec<Request>) {
        if group.len() == 1 {
            if let Some(only) = group.pop() {
                let result = send_alone(&self.client, &self.js, only.prepared).await;
                let _ = only.reply.send(result);
            }
            return;
        }
        // Cloned (cheaply: bodies are shared) so members can be retried alone.
        let counts: Vec<usize> = group.iter().map(|r| r.prepared.messages.len()).collect();
        let messages: Vec<Outgoing> = group
            .iter()
            .flat_map(|r| r.prepared.messages.iter().cloned())
            .collect();
        let total = messages.len() as u64;
        match send_atomic(&self.client, &self.js, messages).await {
            Ok(ack) if !ack.duplicate => {
                let mut next = ack.sequence + 1 - total;
                for (request, count) in group.into_iter().zip(counts) {
                    let first = StreamSeq::new(next);
                    next += count as u64;
                    let _ = request.reply.send(Ok(Appended {
                        first,
                        last: StreamSeq::new(next - 1),
                    }));
                }
            }
            outcome => {
                tracing::debug!(members = group.len(), error = ?outcome.err(), "group refused; retrying members alone");
                self.retry_alone(group).await;
            }
        }
    }

    /// The group stored nothing: every member is sent alone, for its own answer.
    async fn retry_alone(&self, group: Vec<Request>) {
        futures::stream::iter(group)
            .map(|request| async move {
                let result = send_alone(&self.client, &self.js, request.prepared).await;
                let _ = request.reply.send(result);
            })
            .buffer_unordered(FALLBACK_CONCURRENCY)
            .collect::<()>()
            .await;
    }
}
