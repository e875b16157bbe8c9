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
//! The loop is `Listener`/`Handler` shaped: [`run`] fetches only as many
//! messages as it has room for and stops fetching on shutdown, finishing
//! in-flight work. Messages of one conversation take turns within a
//! process, and a message of an event at or below the version where the
//! conversation last needed nothing from this worker is acked without a
//! load.
//!
//! Nothing gets stuck: the consumer's ack-pending window is many times what
//! one process holds, so the deliveries of a process that died never block
//! its replacement, which fetches new work at once; they come back after a
//! short ack wait, which held messages extend with in-progress acks however
//! long their step takes. A step that panics is dead-lettered at once, one
//! that outlives the step timeout fails as a timeout (retried, then
//! dead-lettered), and a message whose every delivery crashed its process
//! is dead-lettered from the server's max-deliveries advisory
//! ([`advisory`]).

pub mod advisory;
mod deadletter;
mod handle;
pub mod partitions;
mod turns;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{self, pull};
use async_nats::jetstream::stream::Stream;
use futures::StreamExt;
use switchboard_engine::conversation::Conversation;
use switchboard_engine::event::EventData;
use switchboard_engine::ids::Tenant;
use switchboard_engine::store::EventStore;
use switchboard_engine::subject::{self, Partition, Scope};
use switchboard_engine::workflow::{Agent, Policy, Step};
use tokio::sync::watch;

use crate::ops::{Part, PartState};

pub(crate) use deadletter::{Letter, Reason, bury};
pub use handle::Outcome;
pub(crate) use handle::count_appended;

/// Metric names.
pub mod metric {
    /// Counter: messages dead-lettered, by the agent (or `sentry`) giving up.
    pub const DEAD_LETTERS: &str = "switchboard_dead_letters_total";
    /// Histogram: seconds an agent took to act on a step (the model's work,
    /// without load and append), per `step` and `agent`.
    pub const STEP_SECONDS: &str = "switchboard_step_seconds";
    /// Counter: events appended, per `type` and `by` (an agent or `intake`).
    pub const EVENTS_APPENDED: &str = "switchboard_events_appended_total";
    /// Counter: trigger messages processed (acked) by a worker, per `type`
    /// and `worker`.
    pub const EVENTS_PROCESSED: &str = "switchboard_events_processed_total";
    /// Counter: appends that found the conversation moved (reload, decide
    /// again), per `worker`.
    pub const CONFLICTS: &str = "switchboard_conflicts_total";
    /// Counter: messages delivered more than once, per `worker`.
    pub const REDELIVERIES: &str = "switchboard_redeliveries_total";
}

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
    /// How long the server waits for an ack before redelivering: after a
    /// crash, how soon the dead process's messages come back. Held messages
    /// are kept by in-progress acks every third of it. Default 10 s.
    pub ack_wait: Duration,
    /// Longest a step may take before it fails as a timeout (retried with
    /// backoff, then dead-lettered). Default 120 s.
    pub step_timeout: Duration,
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
    /// The tenants served; `None` (the default) serves every tenant. A
    /// conversation of another tenant is dead-lettered (class `tenant`) and
    /// handed to a human instead of being answered.
    pub tenants: Option<Vec<Tenant>>,
    /// Where the worker reports its readiness (bound, caught up, fetching):
    /// the process's `/readyz` ([`crate::ops`]). Default: unobserved.
    pub readiness: Part,
}

impl WorkerOptions {
    /// Whether conversations of `tenant` are answered here.
    pub fn serves(&self, tenant: &Tenant) -> bool {
        self.tenants.as_ref().is_none_or(|t| t.contains(tenant))
    }
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            concurrency: 32,
            ack_wait: Duration::from_secs(10),
            step_timeout: Duration::from_secs(120),
            max_deliver: 5,
            backoff: [1, 5, 15, 30].map(Duration::from_secs).to_vec(),
            conflict_retries: 5,
            policy: Policy::default(),
            consumer_prefix: switchboard_engine::broker::CONSUMER_PREFIX.into(),
            tenants: None,
            readiness: Part::default(),
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
        return switchboard_engine::broker::ALL_AGENTS_LABEL.into();
    }
    let names: Vec<&str> = agents.iter().map(|a| a.as_str()).collect();
    names.join("-")
}

/// Messages one process holds unacked at most: four times its concurrency.
fn held(options: &WorkerOptions) -> usize {
    options.concurrency.max(1) * 4
}

/// The consumer configuration for a worker hosting `agents` in `scope`
/// (the whole stream, or one partition of it): filtered on every event
/// type that can lead to one of their steps.
pub fn consumer_config(agents: &[Agent], options: &WorkerOptions, scope: Scope) -> pull::Config {
    let label = worker_label(agents);
    let name = consumer_name(agents, options, scope);
    let mut triggers: Vec<_> = Vec::new();
    for t in agents.iter().flat_map(|a| a.triggers()) {
        if !triggers.contains(t) {
            triggers.push(*t);
        }
    }
    let description = match scope {
        Scope::Unpartitioned => format!("Switchboard agents: {label}"),
        Scope::Partition(p) => format!("Switchboard agents: {label}, partition {p}"),
    };
    pull::Config {
        durable_name: Some(name.clone()),
        name: Some(name),
        description: Some(description),
        filter_subjects: triggers
            .iter()
            .map(|t| subject::stored_events_of_type(*t, scope))
            .collect(),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: options.ack_wait,
        max_deliver: options.max_deliver,
        // No server-side `backoff`: JetStream would make its first entry the
        // ack wait, redelivering any step slower than that while it still
        // runs. Failures nak with `options.backoff` delays instead.
        // Room for the unacked deliveries of replicas that died as well as
        // for the live ones: a dead process's window must not stall the
        // process that replaces it. Each process bounds itself (`held`).
        max_ack_pending: (held(options) * 16) as i64,
        ..Default::default()
    }
}

/// The durable consumer of a worker hosting `agents` in `scope`:
/// `<prefix>-<label>`, or `<prefix>-<label>-p<n>` for partition `n`.
pub fn consumer_name(agents: &[Agent], options: &WorkerOptions, scope: Scope) -> String {
    let partition = match scope {
        Scope::Unpartitioned => None,
        Scope::Partition(p) => Some(p),
    };
    switchboard_engine::broker::durable_name(
        &options.consumer_prefix,
        &worker_label(agents),
        partition,
    )
}

/// Every consumer a worker hosting `agents` pulls from, whichever replica
/// holds it, on a stream of `partitions` partitions (0: unpartitioned).
pub fn consumer_names(agents: &[Agent], options: &WorkerOptions, partitions: u32) -> Vec<String> {
    scopes(partitions)
        .map(|scope| consumer_name(agents, options, scope))
        .collect()
}

/// The scopes of a stream of `partitions` partitions.
fn scopes(partitions: u32) -> impl Iterator<Item = Scope> {
    let whole = (partitions == 0).then_some(Scope::Unpartitioned);
    whole
        .into_iter()
        .chain((0..partitions).map(|p| Scope::Partition(Partition::new(p))))
}

/// The partition count of `store`'s conversation stream (0: unpartitioned).
pub async fn stream_partitions(store: &EventStore) -> Result<u32, RunError> {
    let stream = bound_stream(store).await?;
    Ok(switchboard_engine::streams::partitions(
        &stream.cached_info().config,
    ))
}

async fn bound_stream(store: &EventStore) -> Result<Stream, RunError> {
    let name = &store.options().stream;
    store
        .jetstream()
        .get_stream(name)
        .await
        .map_err(|e| RunError::Bind {
            consumer: format!("(stream {name})"),
            message: e.to_string(),
        })
}

/// Runs `worker` until `shutdown` turns true: stops fetching, finishes what
/// is in flight, returns. On a partitioned stream the worker joins the
/// replicas hosting the same agents and works the partitions it is given
/// ([`partitions`]).
pub async fn run<W: Worker>(
    store: EventStore,
    worker: Arc<W>,
    options: WorkerOptions,
    shutdown: watch::Receiver<bool>,
) -> Result<(), RunError> {
    let label = worker_label(worker.agents());
    let ready = options.readiness.clone();
    ready.set(PartState::starting("finding the conversation stream"));
    let stream = bound_stream(&store).await.inspect_err(|e| {
        ready.set(PartState::down(e.to_string()));
    })?;
    let partitions = switchboard_engine::streams::partitions(&stream.cached_info().config);
    // Every worker process also dead-letters what crashed its consumers.
    let advisories = tokio::spawn(advisory::run(
        store.clone(),
        options.consumer_prefix.clone(),
        shutdown.clone(),
    ));
    let agents = worker.agents().to_vec();
    let handler = handle::Handler::new(store.clone(), worker, options.clone());
    let result = if partitions == 0 {
        let config = consumer_config(&agents, &options, Scope::Unpartitioned);
        consume(stream, handler, config, ready.clone(), shutdown).await
    } else {
        let work = partitions::Work {
            store,
            stream,
            handler,
            agents,
            options: options.clone(),
        };
        work.run(partitions, shutdown).await
    };
    let _ = advisories.await;
    ready.set(PartState::down("stopped"));
    tracing::info!(worker = %label, "worker stopped");
    result
}

/// Pulls from the consumer `config` describes (created or updated first)
/// and hands each message to `handler` until `shutdown`, then finishes
/// what is in flight. `ready` follows the fetches.
async fn consume<W: Worker>(
    stream: Stream,
    handler: handle::Handler<W>,
    config: pull::Config,
    ready: Part,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), RunError> {
    let label = handler.label().to_owned();
    let consumer_name = config.durable_name.clone().unwrap_or_default();
    ready.set(PartState::starting(format!(
        "binding consumer {consumer_name}"
    )));
    // Create or update: a consumer made by an older version gets this
    // version's ack wait and window.
    let consumer = stream.create_consumer(config).await.map_err(|e| {
        ready.set(PartState::down(format!(
            "cannot bind consumer {consumer_name}"
        )));
        RunError::Bind {
            consumer: consumer_name.clone(),
            message: e.to_string(),
        }
    })?;
    tracing::info!(worker = %label, consumer = %consumer_name, "worker started");
    ready.set(PartState::starting("bound; catching up with the backlog"));
    let gauges = crate::ops::gauges::consumer_pending(stream, consumer_name, shutdown.clone());
    // Each message is its own task, so fetching goes on however long steps
    // take; a fetch asks only for what this process has room for.
    let mut in_flight = tokio::task::JoinSet::new();
    let limit = held(handler.options());
    let refill = (limit / 4).max(1);
    let mut failures = 0u32;
    while !*shutdown.borrow() {
        while let Some(done) = in_flight.try_join_next() {
            reap(&label, done);
        }
        let room = limit.saturating_sub(in_flight.len());
        if room < refill && !in_flight.is_empty() {
            tokio::select! {
                _ = shutdown.changed() => break,
                Some(done) = in_flight.join_next() => reap(&label, done),
            }
            continue;
        }
        let batch = consumer
            .batch()
            .max_messages(room)
            .expires(FETCH_EXPIRES)
            .messages()
            .await;
        let mut batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                failures += 1;
                ready.set(PartState::down(format!("fetch failed: {e}")));
                tracing::warn!(worker = %label, error = %e, "fetch failed; retrying");
                pause(failures, &mut shutdown).await;
                continue;
            }
        };
        failures = 0;
        let mut fetched = 0;
        let mut stopping = false;
        loop {
            // Told to stop, this fetch is still read to its end (at most
            // FETCH_EXPIRES) and what it brings is worked: a message the
            // server delivered to a fetch nobody reads any more would wait
            // out the ack wait (a partition handed to another replica would
            // stall for that long).
            let next = if stopping {
                tokio::time::timeout(FETCH_EXPIRES * 2, batch.next())
                    .await
                    .unwrap_or(None)
            } else {
                tokio::select! {
                    _ = shutdown.changed() => {
                        stopping = true;
                        continue;
                    }
                    next = batch.next() => next,
                }
            };
            match next {
                Some(Ok(message)) => {
                    fetched += 1;
                    let handler = handler.clone();
                    in_flight.spawn(async move { handler.handle(message).await });
                }
                Some(Err(e)) => {
                    tracing::debug!(worker = %label, error = %e, "fetch ended early");
                    break;
                }
                None => break,
            }
        }
        note_fetch(&ready, fetched, room);
    }
    tracing::info!(worker = %label, in_flight = in_flight.len(), "worker stopping: finishing in-flight messages");
    while let Some(done) = in_flight.join_next().await {
        reap(&label, done);
    }
    let _ = gauges.await;
    ready.set(PartState::down("stopped"));
    Ok(())
}

/// A fetch that asked for `room` came back with `fetched`: short of what
/// it asked for, the backlog fits in this process's window (caught up, so
/// ready); a full one while not yet ready is still catching up.
fn note_fetch(ready: &Part, fetched: usize, room: usize) {
    match ready.state() {
        PartState::Ready => {}
        _ if fetched < room => ready.set(PartState::Ready),
        PartState::Down { .. } => ready.set(PartState::Ready),
        _ => ready.set(PartState::starting("catching up with the backlog")),
    }
}

/// How long one fetch waits for messages to arrive.
const FETCH_EXPIRES: Duration = Duration::from_secs(1);

/// Waits before fetching again after a failure (100 ms doubling to 5 s), or
/// until shutdown.
async fn pause(failures: u32, shutdown: &mut watch::Receiver<bool>) {
    let delay = Duration::from_millis(100 * 2u64.saturating_pow(failures.min(6)))
        .min(Duration::from_secs(5));
    tokio::select! {
        _ = shutdown.changed() => {}
        _ = tokio::time::sleep(delay) => {}
    }
}

/// A message's task ended. Its handler catches panics (and dead-letters
/// the message), so a failed task is a bug worth an error line.
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
        let config = consumer_config(&Agent::ALL, &options, Scope::Unpartitioned);
        assert_eq!(config.durable_name.as_deref(), Some("agent-all"));
        let mut expected: Vec<String> = Agent::ALL
            .iter()
            .flat_map(|a| a.triggers())
            .map(|t| switchboard_engine::subject::events_of_type(*t))
            .collect();
        expected.sort();
        expected.dedup();
        let mut filters = config.filter_subjects.clone();
        filters.sort();
        assert_eq!(filters, expected, "JetStream refuses overlapping filters");
    }

    #[test]
    fn the_durables_a_worker_binds_are_those_the_broker_guards_for_its_role() {
        use switchboard_engine::broker::Role;
        let options = WorkerOptions::default();
        for partitions in [0, 4] {
            for agent in Agent::ALL {
                assert_eq!(
                    consumer_names(&[agent], &options, partitions),
                    Role::Agent(agent).durables(partitions)
                );
            }
            assert_eq!(
                consumer_names(&Agent::ALL, &options, partitions),
                Role::Operator.durables(partitions)
            );
        }
    }

    #[test]
    fn a_single_agent_keeps_its_own_consumer_name() {
        let options = WorkerOptions::default();
        let config = consumer_config(&[Agent::Knowledge], &options, Scope::Unpartitioned);
        assert_eq!(config.durable_name.as_deref(), Some("agent-knowledge"));
        assert_eq!(config.filter_subjects, ["conv.*.*.classified"]);
        let third = Scope::Partition(Partition::new(3));
        let config = consumer_config(&[Agent::Knowledge], &options, third);
        assert_eq!(config.durable_name.as_deref(), Some("agent-knowledge-p3"));
        assert_eq!(config.filter_subjects, ["conv.*.*.classified.3"]);
        assert_eq!(
            consumer_names(&[Agent::Knowledge], &options, 2),
            ["agent-knowledge-p0", "agent-knowledge-p1"]
        );
        assert_eq!(
            consumer_names(&[Agent::Knowledge], &options, 0),
            ["agent-knowledge"]
        );
        assert_eq!(
            worker_label(&[Agent::Critic, Agent::Intent]),
            "critic-intent"
        );
    }
}
