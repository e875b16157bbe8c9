//! One message: decode the trigger, load, decide, act, append (again while
//! the next step is this worker's), ack.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

use futures::FutureExt;

use async_nats::jetstream::{self, AckKind};
use switchboard_engine::event::codec::decode;
use switchboard_engine::event::{Actor, Envelope, Event, EventData};
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::store::{AppendErrorKind, EventStore, IdempotencyKey};
use switchboard_engine::workflow::{Agent, Step, next_step_with};
use tokio::sync::Semaphore;

use super::turns::Turns;
use super::{StepError, Worker, WorkerOptions, deadletter, metric};

/// What became of a message (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Steps of this worker were done and their events appended; the last
    /// one is named, and how many were done.
    Appended(Step, usize),
    /// The step had been done already (redelivery, or another replica).
    AlreadyDone(Step),
    /// The next step belongs to an agent this worker does not host.
    NotMine,
    /// The conversation needs nothing now.
    NothingToDo,
}

/// A step that failed, and the agent it belongs to (named on the dead letter).
pub(crate) struct Failure {
    agent: Agent,
    error: StepError,
}

/// What one round on the conversation came to.
enum Round {
    /// The step's events were appended; the conversation is now at `version`.
    Appended(Step, StreamSeq),
    /// Stop here, with this outcome.
    Stop(Outcome),
    /// Nothing for this worker to do in the conversation as of this version.
    Settled(Outcome, StreamSeq),
    /// Someone else moved the conversation to (at least) this version.
    Conflict(StreamSeq),
}

/// Steps carried through in one message at most: a bound on any cycle.
const MAX_STEPS_PER_MESSAGE: usize = 16;

/// Conversations whose settled version is remembered (a key and a number
/// each, some 150 bytes with the cache's own). It answers redeliveries and
/// late triggers of a conversation that has just settled, so it needs the
/// conversations of the last seconds, not of the last hour: 100,000 grew
/// for minutes under steady load (to about 15 MB).
const SETTLED_CAPACITY: usize = 10_000;

pub(crate) struct Handler<W> {
    store: EventStore,
    worker: Arc<W>,
    options: Arc<WorkerOptions>,
    turns: Arc<Turns>,
    /// Work permits: messages past their conversation's turn.
    working: Arc<Semaphore>,
    /// The version at which each conversation last needed nothing from this
    /// worker. A message of an event at or below it (typically one this
    /// worker appended while carrying the conversation on) would be decided
    /// on that same state or a later one: it is acked without a load.
    settled: Arc<quick_cache::sync::Cache<ConversationKey, StreamSeq>>,
    label: Arc<str>,
}

impl<W> Clone for Handler<W> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            worker: self.worker.clone(),
            options: self.options.clone(),
            turns: self.turns.clone(),
            working: self.working.clone(),
            settled: self.settled.clone(),
            label: self.label.clone(),
        }
    }
}

impl<W: Worker> Handler<W> {
    pub(crate) fn new(store: EventStore, worker: Arc<W>, options: WorkerOptions) -> Self {
        let label = super::worker_label(worker.agents()).into();
        Self {
            store,
            worker,
            working: Arc::new(Semaphore::new(options.concurrency.max(1))),
            options: Arc::new(options),
            turns: Arc::default(),
            settled: Arc::new(quick_cache::sync::Cache::new(SETTLED_CAPACITY)),
            label,
        }
    }

    /// How the worker is named in logs and metrics.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// The worker's settings.
    pub(crate) fn options(&self) -> &WorkerOptions {
        &self.options
    }

    /// Processes one message and acks, naks or dead-letters it. While it is
    /// held (waiting for its turn or worked on) it is kept from redelivery
    /// with in-progress acks; a panic anywhere in it dead-letters it.
    pub(crate) async fn handle(&self, message: jetstream::Message) {
        let worker = &*self.label;
        let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
        if delivered > 1 {
            metrics::counter!(metric::REDELIVERIES, "worker" => self.label.to_string())
                .increment(1);
        }
        let work = AssertUnwindSafe(self.process(&message)).catch_unwind();
        let result = tokio::select! {
            result = work => result,
            never = keep_alive(&message, self.options.ack_wait / 3) => match never {},
        };
        let result = result.unwrap_or_else(|panic| {
            Err(Failure {
                agent: self.first_agent(),
                error: StepError::permanent("panic", panic_message(panic.as_ref())),
            })
        });
        match result {
            Ok(outcome) => {
                tracing::debug!(worker, subject = %message.subject, ?outcome, "processed");
                let trigger = switchboard_engine::subject::parse_event(&message.subject)
                    .map(|s| s.event_type)
                    .unwrap_or_default();
                metrics::counter!(metric::EVENTS_PROCESSED, "type" => trigger, "worker" => worker.to_owned())
                    .increment(1);
                // A plain ack: should it be lost, the redelivery finds the
                // step done (same idempotency key) and changes nothing, so
                // waiting for the server's confirmation buys nothing.
                if let Err(e) = message.ack().await {
                    tracing::warn!(worker, error = %e, "ack failed; the message will be redelivered");
                }
            }
            Err(Failure { error, .. })
                if error.retryable && delivered < self.options.max_deliver =>
            {
                let delay = self
                    .options
                    .backoff
                    .get((delivered.max(1) - 1) as usize)
                    .or(self.options.backoff.last())
                    .copied();
                tracing::warn!(worker, subject = %message.subject, delivered, class = error.class, error = %error, "step failed; will retry");
                if let Err(e) = message.ack_with(AckKind::Nak(delay)).await {
                    tracing::warn!(worker, error = %e, "nak failed; the message will be redelivered after ack wait");
                }
            }
            Err(Failure { agent, error }) => self.give_up(&message, agent, &error, delivered).await,
        }
    }

    /// Dead-letters the message and terminates its delivery; if the dead
    /// letter cannot be stored, the message is left for redelivery.
    async fn give_up(
        &self,
        message: &jetstream::Message,
        agent: Agent,
        error: &StepError,
        delivered: i64,
    ) {
        let worker = &*self.label;
        tracing::error!(worker, agent = agent.as_str(), subject = %message.subject, delivered, class = error.class, error = %error, "giving up: dead-lettering");
        let reason = deadletter::Reason {
            by: agent.as_str(),
            error,
            attempts: delivered,
        };
        let letter = deadletter::Letter::of(message);
        // In the conversation's turn: another trigger of the same turn
        // giving up at the same moment then finds this failure recorded.
        let _turn = match letter.conversation() {
            Some(key) => Some(self.turns.take(&key).await),
            None => None,
        };
        match deadletter::bury(&self.store, &letter, &reason).await {
            Ok(buried) => {
                metrics::counter!(metric::DEAD_LETTERS, "by" => agent.as_str())
                    .increment(u64::from(buried == deadletter::Buried::Stored));
                if let Err(e) = message.ack_with(AckKind::Term).await {
                    tracing::warn!(worker, error = %e, "term failed after dead-lettering");
                }
            }
            Err(bury) => {
                tracing::error!(worker, error = %bury, "dead-lettering failed; leaving the message for redelivery");
                let _ = message
                    .ack_with(AckKind::Nak(self.options.backoff.last().copied()))
                    .await;
            }
        }
    }

    /// Decides and acts on the conversation the message belongs to, one
    /// step after another while the next step is one of this worker's: a
    /// worker hosting every agent carries a message to its answer here, and
    /// the deliveries of the events it appended on the way find nothing left.
    async fn process(&self, message: &jetstream::Message) -> Result<Outcome, Failure> {
        let trigger = self.trigger_of(message)?;
        // Nothing this worker hosts can follow that event: no load.
        if !self
            .worker
            .agents()
            .iter()
            .any(|a| a.wakes_on(&trigger.data))
        {
            return Ok(Outcome::NotMine);
        }
        let key = trigger.envelope.conversation;
        let _turn = self.turns.take(&key).await;
        // The conversation reaches at least the trigger.
        let at_least = StreamSeq::new(message.info().map(|i| i.stream_sequence).unwrap_or(0));
        if at_least > StreamSeq::ZERO && self.settled.get(&key).is_some_and(|v| v >= at_least) {
            return Ok(Outcome::NothingToDo);
        }
        // The semaphore is never closed.
        let _permit = self.working.acquire().await;
        self.carry(key, at_least).await
    }

    /// The event a message carries; one that does not decode is a permanent
    /// failure.
    fn trigger_of(&self, message: &jetstream::Message) -> Result<Event, Failure> {
        decode(
            message.subject.as_str(),
            message.headers.as_ref(),
            &message.payload,
        )
        .map_err(|e| Failure {
            agent: self.first_agent(),
            error: StepError::permanent(
                "decode",
                format!("trigger does not decode ({:?}): {e}", e.kind()),
            ),
        })
    }

    /// Rounds on the conversation while they append: after a conflict it is
    /// read at least up to the version the conflict named, after a step up to
    /// its events.
    async fn carry(
        &self,
        key: ConversationKey,
        mut at_least: StreamSeq,
    ) -> Result<Outcome, Failure> {
        let (mut done, mut last, mut conflicts) = (0, None, 0);
        let outcome =
            |o: Outcome, last: Option<Step>, done| last.map_or(o, |s| Outcome::Appended(s, done));
        while done < MAX_STEPS_PER_MESSAGE {
            match self.round(&key, at_least).await? {
                Round::Appended(step, version) => {
                    (done, last, at_least) = (done + 1, Some(step), version);
                }
                Round::Stop(o) => return Ok(outcome(o, last, done)),
                Round::Settled(o, version) => {
                    self.settled.insert(key, version);
                    return Ok(outcome(o, last, done));
                }
                Round::Conflict(actual) if conflicts < self.options.conflict_retries => {
                    conflicts += 1;
                    metrics::counter!(metric::CONFLICTS, "worker" => self.label.to_string())
                        .increment(1);
                    at_least = at_least.max(actual);
                }
                Round::Conflict(_) => {
                    return Err(Failure {
                        agent: self.first_agent(),
                        error: StepError::transient(
                            "conflict",
                            format!("{key} kept changing while {} worked on it", self.label),
                        ),
                    });
                }
            }
        }
        Ok(outcome(Outcome::NothingToDo, last, done))
    }

    /// The agent named for failures that happen before a step is known.
    fn first_agent(&self) -> Agent {
        self.worker
            .agents()
            .first()
            .copied()
            .unwrap_or(Agent::Escalation)
    }

    /// One round on the conversation as of at least `at_least`: decide, and
    /// if the step is this worker's, act and append.
    async fn round(&self, key: &ConversationKey, at_least: StreamSeq) -> Result<Round, Failure> {
        let loaded = self
            .store
            .load_at_least(key, at_least)
            .await
            .map_err(|e| Failure {
                agent: self.first_agent(),
                error: StepError::transient("load", e.to_string()),
            })?;
        let state = loaded.conversation();
        let Some(step) = next_step_with(state, &self.options.policy) else {
            return Ok(Round::Settled(Outcome::NothingToDo, state.version));
        };
        if !self.worker.agents().contains(&step.agent()) {
            return Ok(Round::Settled(Outcome::NotMine, state.version));
        }
        let Some(cause) = state.turn.as_ref().map(|t| t.last.clone()) else {
            return Ok(Round::Settled(Outcome::NothingToDo, state.version));
        };
        let agent = step.agent();
        let failed = |error| Failure { agent, error };
        // An unknown tenant's conversation gets no answer, only a human.
        if !matches!(step, Step::Escalate { .. }) && !self.options.serves(&key.tenant) {
            return Err(failed(StepError::permanent(
                "tenant",
                format!("tenant {} is not served here", key.tenant),
            )));
        }
        let timeout = self.options.step_timeout;
        let started = std::time::Instant::now();
        // Open until this round ends: the step's span in its turn's trace.
        let span =
            crate::telemetry::step_span(key, &step.name(), agent.as_str(), cause.correlation);
        let act = self.worker.act(step, state).instrument(span.clone());
        let acted = tokio::time::timeout(timeout, act).await;
        metrics::histogram!(metric::STEP_SECONDS, "step" => step_label(step), "agent" => agent.as_str())
            .record(started.elapsed().as_secs_f64());
        let data = acted
            .map_err(|_| {
                failed(StepError::transient(
                    "timeout",
                    format!("step {} took longer than {timeout:?}", step.name()),
                ))
            })?
            .map_err(failed)?;
        let events = chain(&cause, Actor::worker(agent.as_str()), data);
        let idempotency = IdempotencyKey::for_step(cause.id, &step.name());
        let version = state.version;
        // Not held across the append, which can then extend the cached copy
        // in place instead of copying it.
        drop(loaded);
        let append = self.store.append(key, version, &events, &idempotency);
        match append.instrument(span).await {
            Ok(appended) => {
                count_appended(&events, agent.as_str());
                tracing::info!(tenant = %key.tenant, conversation = %key.id, step = %step.name(), "step done");
                Ok(Round::Appended(step, appended.last))
            }
            // Its events are stored and their deliveries carry on from them.
            Err(e) if e.kind() == AppendErrorKind::Duplicate => {
                Ok(Round::Stop(Outcome::AlreadyDone(step)))
            }
            Err(e) if e.kind() == AppendErrorKind::Conflict => Ok(Round::Conflict(
                e.actual_version()
                    .unwrap_or(StreamSeq::new(version.get() + 1)),
            )),
            Err(e) if e.kind() == AppendErrorKind::Unavailable => {
                Err(failed(StepError::transient("unavailable", e.to_string())))
            }
            Err(e) => Err(failed(StepError::permanent("append", e.to_string()))),
        }
    }
}

/// A step's metric label: its name without the attempt number.
fn step_label(step: Step) -> &'static str {
    match step {
        Step::Screen => "screen",
        Step::Refuse => "refuse",
        Step::Classify => "classify",
        Step::Retrieve => "retrieve",
        Step::Draft { .. } => "draft",
        Step::Validate { .. } => "validate",
        Step::Respond => "respond",
        Step::Escalate { .. } => "escalate",
    }
}

/// Counts appended events per type and appender.
pub(crate) fn count_appended(events: &[Event], by: &'static str) {
    for event in events {
        metrics::counter!(metric::EVENTS_APPENDED, "type" => event.event_type().as_str(), "by" => by)
            .increment(1);
    }
}

/// Keeps a held message from redelivery: an in-progress ack every `period`.
/// Never returns; it is dropped when the message's work ends.
async fn keep_alive(message: &jetstream::Message, period: Duration) -> Infallible {
    let period = period.max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(period).await;
        if let Err(e) = message.ack_with(AckKind::Progress).await {
            tracing::debug!(error = %e, "in-progress ack failed");
        }
    }
}

/// The text of a panic's payload.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic payload".into());
    format!("the step panicked: {text}")
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
