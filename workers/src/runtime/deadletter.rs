//! Dead letters: a message that cannot be processed is copied to
//! `DEADLETTER` with the reason, and a `failed` event sends its conversation
//! to a human. Nothing is dropped silently: if the copy cannot be stored,
//! the trigger stays unacked and comes back.
//!
//! Every path that gives up on a message comes here: a step that keeps
//! failing or panics ([`super::handle`]), a message whose every delivery
//! crashed or hung its process ([`super::advisory`]), and a message no agent
//! can read (the sentry). They agree on one dead letter per stored message
//! (its `Nats-Msg-Id` is the message's stream sequence) and one `failed` per
//! turn, on the turn the message belongs to (its correlation), so a turn
//! that fails once under several triggers is reported once.
//!
//! A message that reads as an event but whose turn was answered meanwhile
//! (its deliveries were cut by crashes, and a redelivery of another
//! trigger, or another replica, finished the turn) is dead-lettered without
//! a `failed`: the customer has the answer, and a hand-off would send a
//! second notice for a turn no agent has anything left to do on. A message
//! no agent can read still fails its turn, answered or not.

use async_nats::HeaderMap;
use bytes::Bytes;
use switchboard_engine::event::codec::header as ce;
use switchboard_engine::event::{Actor, Event, EventData, Failed};
use switchboard_engine::ids::{ConversationKey, EventId};
use switchboard_engine::store::{AppendErrorKind, EventStore, IdempotencyKey};

use super::StepError;

/// Header names on a dead letter.
pub mod header {
    #![allow(missing_docs)]
    pub const REASON: &str = "Switchboard-Reason";
    pub const CLASS: &str = "Switchboard-Error-Class";
    pub const AGENT: &str = "Switchboard-Agent";
    pub const SUBJECT: &str = "Switchboard-Original-Subject";
    pub const SEQUENCE: &str = "Switchboard-Original-Sequence";
    pub const ATTEMPTS: &str = "Switchboard-Attempts";
}

/// Why a dead letter could not be stored.
#[derive(Debug, thiserror::Error)]
#[error("dead letter not stored: {0}")]
pub struct BuryError(String);

/// A message of `CONVERSATIONS` given up on.
#[derive(Debug, Clone)]
pub(crate) struct Letter {
    /// The subject it was stored on.
    pub subject: String,
    /// Its headers, as stored.
    pub headers: Option<HeaderMap>,
    /// Its body, as stored.
    pub payload: Bytes,
    /// Its stream sequence.
    pub seq: u64,
}

impl Letter {
    /// The letter of a delivered message.
    pub fn of(message: &async_nats::jetstream::Message) -> Self {
        Self {
            subject: message.subject.to_string(),
            headers: message.headers.clone(),
            payload: message.payload.clone(),
            seq: message.info().map(|i| i.stream_sequence).unwrap_or(0),
        }
    }

    /// The conversation its subject `conv.<tenant>.<id>.…` names, if valid.
    pub fn conversation(&self) -> Option<ConversationKey> {
        switchboard_engine::subject::parse_event(&self.subject)
            .ok()
            .map(|s| s.key)
    }

    /// Whether it reads as an event of the catalog.
    fn decodes(&self) -> bool {
        switchboard_engine::event::codec::decode(
            &self.subject,
            self.headers.as_ref(),
            &self.payload,
        )
        .is_ok()
    }

    /// The customer message it belongs to (`ce-correlation`), if readable.
    fn correlation(&self) -> Option<EventId> {
        let value = self.headers.as_ref()?.get(ce::CORRELATION)?;
        value.as_str().parse().ok()
    }
}

/// What [`bury`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Buried {
    /// A dead letter was stored (or already was) and the failure recorded.
    Stored,
    /// The message's turn had already failed: it was dead-lettered then,
    /// and this message adds nothing.
    TurnAlreadyFailed,
}

/// Who gave up, and why.
pub(crate) struct Reason<'a> {
    /// The agent (or `sentry`) giving up.
    pub by: &'a str,
    /// The error.
    pub error: &'a StepError,
    /// Deliveries made.
    pub attempts: i64,
}

/// Copies the message to `DEADLETTER` and records the failure on the turn
/// it belongs to.
pub(crate) async fn bury(
    store: &EventStore,
    letter: &Letter,
    reason: &Reason<'_>,
) -> Result<Buried, BuryError> {
    let key = letter.conversation();
    if let Some(key) = &key
        && turn_already_failed(store, key, letter.correlation()).await?
    {
        return Ok(Buried::TurnAlreadyFailed);
    }
    store_letter(store, letter, reason, key.as_ref()).await?;
    if let Some(key) = key {
        record_failure(store, &key, letter, reason).await?;
    }
    Ok(Buried::Stored)
}

async fn store_letter(
    store: &EventStore,
    letter: &Letter,
    reason: &Reason<'_>,
    key: Option<&ConversationKey>,
) -> Result<(), BuryError> {
    let tenant = key.map_or("unknown", |k| k.tenant.as_str());
    // Keep the event's own headers, but none of JetStream's control headers:
    // the original expectations and batch markers would make the copy fail.
    let mut headers = HeaderMap::new();
    if let Some(original) = &letter.headers {
        for (name, values) in original.iter() {
            let name: &str = name.as_ref();
            if name.starts_with("Nats-") {
                continue;
            }
            for value in values {
                headers.append(name, value.as_str());
            }
        }
    }
    let detail: String = reason.error.message.chars().take(1_000).collect();
    headers.insert(header::REASON, detail.as_str());
    headers.insert(header::CLASS, reason.error.class);
    headers.insert(header::AGENT, reason.by);
    headers.insert(header::SUBJECT, letter.subject.as_str());
    headers.insert(header::SEQUENCE, letter.seq.to_string().as_str());
    headers.insert(header::ATTEMPTS, reason.attempts.to_string().as_str());
    // One dead letter per stored message, whichever path gives up on it.
    headers.insert("Nats-Msg-Id", format!("dlq-{}", letter.seq).as_str());
    store
        .jetstream()
        .publish_with_headers(
            switchboard_engine::subject::dead_letter(reason.by, tenant),
            headers,
            letter.payload.clone(),
        )
        .await
        .map_err(|e| BuryError(e.to_string()))?
        .await
        .map_err(|e| BuryError(e.to_string()))?;
    Ok(())
}

/// Whether the turn `correlation` names (the current one when unknown)
/// has a failure recorded already.
async fn turn_already_failed(
    store: &EventStore,
    key: &ConversationKey,
    correlation: Option<EventId>,
) -> Result<bool, BuryError> {
    let loaded = store
        .load(key)
        .await
        .map_err(|e| BuryError(e.to_string()))?;
    let state = loaded.conversation();
    Ok(state.turn.as_ref().is_some_and(|turn| {
        correlation.is_none_or(|c| c == turn.received_envelope.id) && turn.failed.is_some()
    }))
}

/// Appends `failed` to the turn the message belongs to, so the workflow
/// escalates it: the current turn when the message is of it (or names no
/// turn). A failure of an earlier turn, already followed by a newer
/// customer message, stays in the dead letter only: that turn is over.
/// A conversation without a customer message has nothing to escalate, nor
/// has a turn answered since, unless the message is unreadable.
async fn record_failure(
    store: &EventStore,
    key: &ConversationKey,
    letter: &Letter,
    reason: &Reason<'_>,
) -> Result<(), BuryError> {
    let correlation = letter.correlation();
    for _ in 0..5 {
        let loaded = store
            .load(key)
            .await
            .map_err(|e| BuryError(e.to_string()))?;
        let state = loaded.fold();
        let Some(turn) = state.turn.as_ref() else {
            return Ok(());
        };
        let of_this_turn = correlation.is_none_or(|c| c == turn.received_envelope.id);
        if !of_this_turn || turn.failed.is_some() || turn.escalated.is_some() {
            return Ok(());
        }
        if turn.responded.is_some() && letter.decodes() {
            tracing::info!(conversation = %key, by = reason.by, "dead-lettered a message of a turn answered since: no hand-off");
            return Ok(());
        }
        let failed = Event::caused_by(
            &turn.last,
            Actor::worker(reason.by),
            EventData::Failed(Failed {
                step: reason.by.into(),
                error_class: reason.error.class.into(),
                attempts: reason.attempts.max(0) as u32,
                detail: reason.error.message.chars().take(500).collect(),
            }),
        );
        let idempotency = IdempotencyKey::for_step(turn.received_envelope.id, "failed");
        match store
            .append(key, state.version, &[failed], &idempotency)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == AppendErrorKind::Duplicate => return Ok(()),
            Err(e) if e.kind() == AppendErrorKind::Conflict => continue,
            Err(e) => return Err(BuryError(e.to_string())),
        }
    }
    Err(BuryError(format!(
        "{key} kept changing while recording the failure"
    )))
}
