//! One message: decode the trigger, load, decide, act, append, ack.

use std::sync::Arc;

use async_nats::jetstream::{self, AckKind};
use switchboard_engine::event::codec::decode;
use switchboard_engine::event::{Actor, Envelope, Event, EventData};
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::store::{AppendErrorKind, EventStore, IdempotencyKey};
use switchboard_engine::workflow::{Step, next_step_with};

use super::{StepError, Worker, WorkerOptions, deadletter};

/// What became of a message (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// This agent's step was done and its events appended.
    Appended(Step),
    /// The step had been done already (redelivery, or another replica).
    AlreadyDone(Step),
    /// The next step belongs to another agent.
    NotMine,
    /// The conversation needs nothing now.
    NothingToDo,
}

pub(crate) struct Handler<W> {
    store: EventStore,
    worker: Arc<W>,
    options: Arc<WorkerOptions>,
}

impl<W> Clone for Handler<W> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            worker: self.worker.clone(),
            options: self.options.clone(),
        }
    }
}

impl<W: Worker> Handler<W> {
    pub(crate) fn new(store: EventStore, worker: Arc<W>, options: WorkerOptions) -> Self {
        Self {
            store,
            worker,
            options: Arc::new(options),
        }
    }

    /// Processes one message and acks, naks or dead-letters it.
    pub(crate) async fn handle(&self, message: jetstream::Message) {
        let agent = self.worker.agent().as_str();
        let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
        match self.process(&message).await {
            Ok(outcome) => {
                tracing::debug!(agent, subject = %message.subject, ?outcome, "processed");
                // A plain ack: should it be lost, the redelivery finds the
                // step done (same idempotency key) and changes nothing, so
                // waiting for the server's confirmation buys nothing.
                if let Err(e) = message.ack().await {
                    tracing::warn!(agent, error = %e, "ack failed; the message will be redelivered");
                }
            }
            Err(e) if e.retryable && delivered < self.options.max_deliver => {
                let delay = self
                    .options
                    .backoff
                    .get((delivered.max(1) - 1) as usize)
                    .or(self.options.backoff.last())
                    .copied();
                tracing::warn!(agent, subject = %message.subject, delivered, error = %e, "step failed; will retry");
                if let Err(e) = message.ack_with(AckKind::Nak(delay)).await {
                    tracing::warn!(agent, error = %e, "nak failed; the message will be redelivered after ack wait");
                }
            }
            Err(e) => {
                tracing::error!(agent, subject = %message.subject, delivered, error = %e, "giving up: dead-lettering");
                match deadletter::bury(&self.store, &message, self.worker.agent(), &e, delivered)
                    .await
                {
                    Ok(()) => {
                        if let Err(e) = message.ack_with(AckKind::Term).await {
                            tracing::warn!(agent, error = %e, "term failed after dead-lettering");
                        }
                    }
                    Err(bury) => {
                        tracing::error!(agent, error = %bury, "dead-lettering failed; leaving the message for redelivery");
                        let _ = message
                            .ack_with(AckKind::Nak(self.options.backoff.last().copied()))
                            .await;
                    }
                }
            }
        }
    }

    async fn process(&self, message: &jetstream::Message) -> Result<Outcome, StepError> {
        let trigger = decode(
            message.subject.as_str(),
            message.headers.as_ref(),
            &message.payload,
        )
        .map_err(|e| {
            StepError::permanent(
                "decode",
                format!("trigger does not decode ({:?}): {e}", e.kind()),
            )
        })?;
        let key = trigger.envelope.conversation.clone();
        // The conversation reaches at least the trigger; after a conflict, at
        // least the version the conflict named.
        let mut at_least = StreamSeq::new(message.info().map(|i| i.stream_sequence).unwrap_or(0));
        for _ in 0..=self.options.conflict_retries {
            match self.decide_and_append(&key, at_least).await? {
                Ok(outcome) => return Ok(outcome),
                Err(actual) => at_least = at_least.max(actual),
            }
        }
        Err(StepError::transient(
            "conflict",
            format!(
                "{key} kept changing while {} worked on it",
                self.worker.agent().as_str()
            ),
        ))
    }

    /// One round on the conversation as of at least `at_least`. An inner
    /// `Err` is a conflict carrying the actual version: reload and decide again.
    async fn decide_and_append(
        &self,
        key: &ConversationKey,
        at_least: StreamSeq,
    ) -> Result<Result<Outcome, StreamSeq>, StepError> {
        let loaded = self
            .store
            .load_at_least(key, at_least)
            .await
            .map_err(|e| StepError::transient("load", e.to_string()))?;
        let state = loaded.fold();
        let Some(step) = next_step_with(&state, &self.options.policy) else {
            return Ok(Ok(Outcome::NothingToDo));
        };
        if step.agent() != self.worker.agent() {
            return Ok(Ok(Outcome::NotMine));
        }
        let Some(cause) = state.turn.as_ref().map(|t| t.last.clone()) else {
            return Ok(Ok(Outcome::NothingToDo));
        };
        let data = self.worker.act(step, &state).await?;
        let events = chain(&cause, Actor::worker(self.worker.agent().as_str()), data);
        let idempotency = IdempotencyKey::for_step(cause.id, &step.name());
        match self
            .store
            .append(key, state.version, &events, &idempotency)
            .await
        {
            Ok(_) => {
                tracing::info!(tenant = %key.tenant, conversation = %key.id, step = %step.name(), "step done");
                Ok(Ok(Outcome::Appended(step)))
            }
            Err(e) if e.kind() == AppendErrorKind::Duplicate => Ok(Ok(Outcome::AlreadyDone(step))),
            Err(e) if e.kind() == AppendErrorKind::Conflict => Ok(Err(e
                .actual_version()
                .unwrap_or(StreamSeq::new(state.version.get() + 1)))),
            Err(e) if e.kind() == AppendErrorKind::Unavailable => {
                Err(StepError::transient("unavailable", e.to_string()))
            }
            Err(e) => Err(StepError::permanent("append", e.to_string())),
        }
    }
}

/// Wraps the step's payloads in envelopes: the first reacts to `cause`,
/// each later one to the event before it.
pub(crate) fn chain(cause: &Envelope, actor: Actor, data: Vec<EventData>) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::with_capacity(data.len());
    for d in data {
        let previous = events
            .last()
            .map(|e| e.envelope.clone())
            .unwrap_or_else(|| cause.clone());
        events.push(Event::caused_by(&previous, actor.clone(), d));
    }
    events
}
