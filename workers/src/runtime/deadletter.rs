//! Dead letters: a trigger that keeps failing is copied to `DEADLETTER`
//! with the reason, and a `failed` event sends its conversation to a human.
//! Nothing is dropped silently: if the copy cannot be stored, the trigger
//! stays unacked and comes back.

use async_nats::jetstream;
use switchboard_engine::event::{Actor, Event, EventData, Failed};
use switchboard_engine::ids::{ConversationId, ConversationKey, Tenant};
use switchboard_engine::store::{AppendErrorKind, EventStore, IdempotencyKey};
use switchboard_engine::workflow::Agent;

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

/// The conversation a subject `conv.<tenant>.<id>.<type>` names, if valid.
fn conversation_of(subject: &str) -> Option<ConversationKey> {
    let mut tokens = subject.split('.');
    let (Some("conv"), Some(tenant), Some(id)) = (tokens.next(), tokens.next(), tokens.next())
    else {
        return None;
    };
    Some(ConversationKey::new(
        Tenant::new(tenant).ok()?,
        ConversationId::new(id).ok()?,
    ))
}

/// Copies the trigger to `DEADLETTER` and records the failure on the conversation.
pub(crate) async fn bury(
    store: &EventStore,
    message: &jetstream::Message,
    agent: Agent,
    error: &StepError,
    attempts: i64,
) -> Result<(), BuryError> {
    let seq = message.info().map(|i| i.stream_sequence).unwrap_or(0);
    let key = conversation_of(message.subject.as_str());
    let tenant = key.as_ref().map_or("unknown", |k| k.tenant.as_str());
    // Keep the event's own headers, but none of JetStream's control headers:
    // the original expectations and batch markers would make the copy fail.
    let mut headers = async_nats::HeaderMap::new();
    if let Some(original) = &message.headers {
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
    headers.insert(header::REASON, error.message.as_str());
    headers.insert(header::CLASS, error.class);
    headers.insert(header::AGENT, agent.as_str());
    headers.insert(header::SUBJECT, message.subject.as_str());
    headers.insert(header::SEQUENCE, seq.to_string().as_str());
    headers.insert(header::ATTEMPTS, attempts.to_string().as_str());
    headers.insert(
        "Nats-Msg-Id",
        format!("dlq-{}-{seq}", agent.as_str()).as_str(),
    );
    store
        .jetstream()
        .publish_with_headers(
            format!("dlq.{}.{tenant}", agent.as_str()),
            headers,
            message.payload.clone(),
        )
        .await
        .map_err(|e| BuryError(e.to_string()))?
        .await
        .map_err(|e| BuryError(e.to_string()))?;
    if let Some(key) = key {
        record_failure(store, &key, agent, error, attempts).await?;
    }
    Ok(())
}

/// Appends `failed` to the conversation's current turn, so the workflow
/// escalates it. A conversation without a turn has nothing to escalate.
async fn record_failure(
    store: &EventStore,
    key: &ConversationKey,
    agent: Agent,
    error: &StepError,
    attempts: i64,
) -> Result<(), BuryError> {
    for _ in 0..5 {
        let loaded = store
            .load(key)
            .await
            .map_err(|e| BuryError(e.to_string()))?;
        let state = loaded.fold();
        let Some(turn) = state.turn.as_ref() else {
            return Ok(());
        };
        if turn.failed.is_some() || turn.escalated.is_some() {
            return Ok(());
        }
        let failed = Event::caused_by(
            &turn.last,
            Actor::worker(agent.as_str()),
            EventData::Failed(Failed {
                step: agent.as_str().into(),
                error_class: error.class.into(),
                attempts: attempts.max(0) as u32,
                detail: error.message.chars().take(500).collect(),
            }),
        );
        let idempotency = IdempotencyKey::for_step(turn.last.id, "failed");
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
