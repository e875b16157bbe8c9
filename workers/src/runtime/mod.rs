//! The worker runtime every agent shares.
//!
//! Each worker holds a durable pull consumer on `CONVERSATIONS` filtered on
//! the event types that can lead to a step of the agents it hosts
//! ([`Agent::triggers`]): one agent for `switchboard worker <agent>`, all
//! five for `up` and `worker all`. For every message it loads the
//! conversation, asks the workflow for the next step, acts only if the step
//! is one of its own, and appends its events with the version it loaded and
//! a deterministic idempotency key (cause + step); while the next step is
//! still its own it goes on (so the all-in-one worker carries a message to
//! its answer in one go). Only after the appends are acknowledged is the
//! trigger acked, so a crash loses nothing and a redelivery or a second
//! replica adds nothing. A conflict means someone else moved the
//! conversation: reload and decide again. Failures are retried with backoff
//! up to max-deliver, then the trigger is copied to `DEADLETTER`, a `failed`
//! event is appended and the escalation agent hands the conversation to a
//! human.
//!
//! The loop is `Listener`/`Handler` shaped: [`run`] pulls with bounded
//! concurrency and stops pulling on shutdown, finishing in-flight work.
//! Messages of one conversation take turns within a process, and a message
//! of an event at or below the version where the conversation last needed
//! nothing from this worker is acked without a load.

mod deadletter;
mod handle;
mod turns;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{self, pull};
use futures::StreamExt;
use switchboard_engine::conversation::Conversation;
use switchboard_engine::event::EventData;
use switchboard_engine::store::EventStore;
use switchboard_engine::workflow::{Agent, Policy, Step};
use tokio::sync::watch;

pub use handle::Outcome;

/// Why an agent could not do a step.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    /// Whether a retry can help.
    pub retryable: bool,
    /// Operator-facing detail (never customer text).
    pub message: String,
    /// A stable class for the `failed` event (`model`, `timeout`...).
    pub class: &'static str,
}

impl StepError {
    /// A failure that may pass on retry (timeouts, throttling): nak with backoff.
    pub fn transient(class: &'static str, message: impl Into<String>) -> Self {
        Self {
            retryable: true,
            message: message.into(),
            class,
        }
    }

    /// A failure that will not pass on retry: dead-letter at once.
    pub fn permanent(class: &'static str, message: impl Into<String>) -> Self {
        Self {
            retryable: false,
            message: message.into(),
            class,
        }
    }
}

/// What an agent does: the events for a step of its own. The runtime does
/// all the I/O around it (load, decide, append, ack).
///
/// A worker may host several agents (`switchboard up` hosts all five behind
/// one consumer): it then carries a conversation through every step it
/// hosts in one go, and the messages of the events it appended on the way
/// find nothing left to do. That is the same decisions and appends with a
/// third of the consumer deliveries and none of the hops between steps.
pub trait Worker: Send + Sync + 'static {
    /// The agents whose steps this worker does.
    fn agents(&self) -> &[Agent];

    /// The events `step` produces for this conversation, in order; several
    /// are appended atomically.
    fn act(
        &self,
        step: Step,
        state: &Conversation,
    ) -> impl Future<Output = Result<Vec<EventData>, StepError>> + Send;
}

/// Settings of a worker process. Defaults suit production; tests shorten them.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Messages processed at once. Default 32. Messages waiting for their
    /// conversation's turn (another message of it is in progress here) do
    /// not count; up to four times as many are held unacked.
    pub concurrency: usize,
    /// How long the server waits for an ack before redelivering. Default 30 s.
    pub ack_wait: Duration,
    /// Deliveries before a message is dead-lettered. Default 5.
    pub max_deliver: i64,
    /// Redelivery delays after a failure, one per attempt (sent with the
    /// nak; the consumer's ack wait stays `ack_wait`). Default 1, 5, 15, 30 s.
    pub backoff: Vec<Duration>,
    /// Reload-and-decide rounds after conflicts, per message. Default 5.
    pub conflict_retries: usize,
    /// The escalation thresholds. Default [`Policy::default`].
    pub policy: Policy,
    /// Durable consumer name prefix (`<prefix>-<agent>`). Default `agent`.
    pub consumer_prefix: String,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            concurrency: 32,
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
            backoff: [1, 5, 15, 30].map(Duration::from_secs).to_vec(),
            conflict_retries: 5,
            policy: Policy::default(),
            consumer_prefix: "agent".into(),
        }
    }
}

/// Why a worker stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The consumer could not be created or bound (stream missing?).
    #[error("cannot bind consumer {consumer}: {message}; run `switchboard streams apply`")]
    Bind {
        /// Consumer name.
        consumer: String,
        /// What the server said.
        message: String,
    },
    /// The message stream broke.
    #[error("consumer {consumer} stopped: {message}")]
    Consume {
        /// Consumer name.
        consumer: String,
        /// What happened.
        message: String,
    },
}

/// How a worker hosting `agents` is named in consumer names and logs: the
/// agent's name, `all` for every agent, or the names joined by `-`.
pub fn worker_label(agents: &[Agent]) -> String {
    if Agent::ALL.iter().all(|a| agents.contains(a)) {
        return "all".into();
    }
    let names: Vec<&str> = agents.iter().map(|a| a.as_str()).collect();
    names.join("-")
}

/// The consumer configuration for a worker hosting `agents`: filtered on
/// every event type that can lead to one of their steps.
pub fn consumer_config(agents: &[Agent], options: &WorkerOptions) -> pull::Config {
    let label = worker_label(agents);
    let name = format!("{}-{label}", options.consumer_prefix);
    let mut triggers: Vec<_> = Vec::new();
    for t in agents.iter().flat_map(|a| a.triggers()) {
        if !triggers.contains(t) {
            triggers.push(*t);
        }
    }
    pull::Config {
        durable_name: Some(name.clone()),
        name: Some(name),
        description: Some(format!("Switchboard agents: {label}")),
        filter_subjects: triggers
            .iter()
            .map(|t| format!("conv.*.*.{}", t.as_str()))
            .collect(),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: options.ack_wait,
        max_deliver: options.max_deliver,
        // No server-side `backoff`: JetStream would make its first entry the
        // ack wait, redelivering any step slower than that while it still
        // runs. Failures nak with `options.backoff` delays instead.
        max_ack_pending: (options.concurrency * 4) as i64,
        ..Default::default()
    }
}

/// Runs `worker` until `shutdown` turns true: stops pulling, finishes what
/// is in flight, returns.
pub async fn run<W: Worker>(
    store: EventStore,
    worker: Arc<W>,
    options: WorkerOptions,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), RunError> {
    let label = worker_label(worker.agents());
    let config = consumer_config(worker.agents(), &options);
    let consumer_name = config.durable_name.clone().unwrap_or_default();
    let bind = |e: &dyn std::error::Error| RunError::Bind {
        consumer: consumer_name.clone(),
        message: e.to_string(),
    };
    let stream = store
        .jetstream()
        .get_stream(&store.options().stream)
        .await
        .map_err(|e| bind(&e))?;
    let consumer = stream
        .get_or_create_consumer(&consumer_name, config)
        .await
        .map_err(|e| bind(&e))?;
    let messages = consumer
        .stream()
        .max_messages_per_batch(options.concurrency)
        .heartbeat(Duration::from_secs(5))
        .messages()
        .await
        .map_err(|e| bind(&e))?;
    tracing::info!(worker = %label, consumer = %consumer_name, "worker started");
    let stop = async move {
        while !*shutdown.borrow_and_update() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
    };
    let handler = handle::Handler::new(store, worker, options.clone());
    // Each message is its own task, so the pull stream is read all the time
    // (its heartbeats too) however long steps take; the consumer's max ack
    // pending bounds the tasks, the handler's permits the work.
    let mut in_flight = tokio::task::JoinSet::new();
    let messages = messages.take_until(stop);
    tokio::pin!(messages);
    while let Some(message) = messages.next().await {
        match message {
            Ok(message) => {
                let handler = handler.clone();
                in_flight.spawn(async move { handler.handle(message).await });
            }
            Err(e) => tracing::warn!(worker = %label, error = %e, "pull failed; retrying"),
        }
        while let Some(done) = in_flight.try_join_next() {
            reap(&label, done);
        }
    }
    tracing::info!(worker = %label, in_flight = in_flight.len(), "worker stopping: finishing in-flight messages");
    while let Some(done) = in_flight.join_next().await {
        reap(&label, done);
    }
    tracing::info!(worker = %label, "worker stopped");
    Ok(())
}

/// A message's task ended; a panic in it is a bug worth an error line (its
/// message stays unacked and comes back after the ack wait).
fn reap(label: &str, done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        tracing::error!(worker = %label, error = %e, "a message's task failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_hosting_every_agent_has_one_consumer_on_every_trigger_once() {
        let options = WorkerOptions::default();
        let config = consumer_config(&Agent::ALL, &options);
        assert_eq!(config.durable_name.as_deref(), Some("agent-all"));
        let mut expected: Vec<String> = Agent::ALL
            .iter()
            .flat_map(|a| a.triggers())
            .map(|t| format!("conv.*.*.{}", t.as_str()))
            .collect();
        expected.sort();
        expected.dedup();
        let mut filters = config.filter_subjects.clone();
        filters.sort();
        assert_eq!(filters, expected, "JetStream refuses overlapping filters");
    }

    #[test]
    fn a_single_agent_keeps_its_own_consumer_name() {
        let options = WorkerOptions::default();
        let config = consumer_config(&[Agent::Knowledge], &options);
        assert_eq!(config.durable_name.as_deref(), Some("agent-knowledge"));
        assert_eq!(config.filter_subjects, ["conv.*.*.classified"]);
        assert_eq!(
            worker_label(&[Agent::Critic, Agent::Intent]),
            "critic-intent"
        );
    }
}
