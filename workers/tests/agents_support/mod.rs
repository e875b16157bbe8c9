//! Shared pieces of the agent tests: short worker options, customer
//! messages, running the agents, waiting for a turn to settle, and checks
//! over a conversation's events.

#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use switchboard_engine::conversation::{Conversation, Status};
use switchboard_engine::event::{CustomerTier, EscalationReason, Event, EventData, StoredEvent};
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::store::{EventStore, IdempotencyKey};
use switchboard_engine::workflow::{Agent, Policy};
use switchboard_tests::eventually;
use switchboard_workers::agents::Agents;
use switchboard_workers::runtime::{RunError, WorkerOptions};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a conversation may take to settle in these tests.
pub const SETTLE: Duration = Duration::from_secs(20);

/// Worker options for tests: short waits so redeliveries happen in
/// hundreds of milliseconds, not seconds.
pub fn options() -> WorkerOptions {
    WorkerOptions {
        concurrency: 16,
        ack_wait: Duration::from_secs(2),
        step_timeout: Duration::from_secs(5),
        max_deliver: 3,
        backoff: vec![Duration::from_millis(200), Duration::from_millis(400)],
        conflict_retries: 10,
        policy: Policy::default(),
        consumer_prefix: "test".into(),
        tenants: None,
        ..WorkerOptions::default()
    }
}

/// A customer message from the demo tenant's persona.
pub use switchboard_tests::events::customer_message as received;
pub use switchboard_tests::events::key;

/// Appends a customer message as the gateway would: a new conversation.
pub async fn publish(store: &EventStore, event: Event) {
    let EventData::Received(r) = &event.data else {
        panic!("only customer messages are published by tests");
    };
    let key = event.envelope.conversation.clone();
    let idempotency = IdempotencyKey::for_message(&key, &r.channel, &r.message_id);
    store
        .append(&key, StreamSeq::ZERO, &[event], &idempotency)
        .await
        .unwrap_or_else(|e| panic!("append received to {key}: {e}"));
}

/// Publishes a standard-tier message from persona_001 to `address`.
pub async fn say(store: &EventStore, address: &str, text: &str) -> ConversationKey {
    let key = key(address);
    publish(
        store,
        received(&key, "persona_001", CustomerTier::Standard, text),
    )
    .await;
    key
}

/// The agents running until `stop` is sent.
pub struct Running {
    pub stop: watch::Sender<bool>,
    pub tasks: Vec<JoinHandle<Result<(), RunError>>>,
}

impl Running {
    /// Every builtin agent behind one consumer, as `switchboard up` runs them.
    pub fn all(store: &EventStore, options: &WorkerOptions) -> Self {
        let (stop, shutdown) = watch::channel(false);
        let built = Agents::builtin().expect("the builtin knowledge base loads");
        let tasks = vec![built.spawn_team(store, options, &shutdown)];
        Self { stop, tasks }
    }

    /// Every builtin agent as its own worker, as `switchboard worker <agent>` runs them.
    pub fn separate(store: &EventStore, options: &WorkerOptions) -> Self {
        Self::only(store, options, &Agent::ALL)
    }

    /// Only the given builtin agents.
    pub fn only(store: &EventStore, options: &WorkerOptions, agents: &[Agent]) -> Self {
        let (stop, shutdown) = watch::channel(false);
        let built = Agents::builtin().expect("the builtin knowledge base loads");
        let tasks = agents
            .iter()
            .map(|a| built.spawn(*a, store.clone(), options.clone(), shutdown.clone()))
            .collect();
        Self { stop, tasks }
    }

    /// Asks every worker to stop and waits until each returned `Ok`.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("a worker stops within 10 s of shutdown")
                .expect("the worker task did not panic")
                .expect("the worker stopped cleanly");
        }
    }
}

/// The projector folding `store`'s log into a SQLite file of its own,
/// opening sealed texts with `store`'s cipher, until `stop` is sent.
pub struct Projecting {
    pub projections: Arc<switchboard_engine::projection::sqlite::SqliteStore>,
    pub stop: watch::Sender<bool>,
    pub task: JoinHandle<Result<(), switchboard_workers::projector::ProjectorError>>,
    pub dir: tempfile::TempDir,
}

impl Projecting {
    pub async fn start(store: &EventStore) -> Self {
        use switchboard_engine::projection::sqlite::{SqliteConfig, SqliteStore};
        use switchboard_workers::projector::{ProjectorOptions, run_projector};
        let dir = tempfile::tempdir().expect("temp dir");
        let projections = Arc::new(
            SqliteStore::open(SqliteConfig::new(dir.path().join("p.sqlite")))
                .await
                .expect("SQLite opens"),
        );
        let (stop, shutdown) = watch::channel(false);
        let options = ProjectorOptions {
            cipher: store.cipher().cloned(),
            ..ProjectorOptions::default()
        };
        let task = tokio::spawn(run_projector(
            store.client().clone(),
            projections.clone(),
            options,
            shutdown,
        ));
        Self {
            projections,
            stop,
            task,
            dir,
        }
    }
}

/// Waits until the conversation's turn ended (`responded`), then returns
/// its events.
pub async fn settled(store: &EventStore, key: &ConversationKey) -> Vec<StoredEvent> {
    eventually(&format!("{key} to be answered"), SETTLE, || async {
        let loaded = store.load(key).await.ok()?;
        let state = loaded.fold();
        state
            .turn
            .as_ref()
            .and_then(|t| t.responded.as_ref())
            .map(|_| loaded.events)
    })
    .await
}

/// The durable consumer of a worker hosting `agents`, as [`options`] names it.
pub fn consumer(label: &str) -> String {
    format!("{}-{label}", options().consumer_prefix)
}

/// Waits until the named consumers have nothing left to deliver and nothing
/// delivered unacknowledged, while the stream stays as it is: every event
/// stored has been seen by every worker and no step is still under way, so
/// whatever a late redelivery or a second replica would append is in the
/// log. A consumer that does not exist yet is not settled.
pub async fn quiescent(store: &EventStore, consumers: &[String]) {
    let stream = store
        .jetstream()
        .get_stream(&store.options().stream)
        .await
        .expect("the stream exists");
    eventually("the consumers to settle", SETTLE, || {
        let mut stream = stream.clone();
        async move {
            let before = stream.info().await.ok()?.state.last_sequence;
            for name in consumers {
                let info = stream.consumer_info(name).await.ok()?;
                if info.num_pending > 0 || info.num_ack_pending > 0 {
                    return None;
                }
            }
            let after = stream.info().await.ok()?.state.last_sequence;
            (before == after).then_some(())
        }
    })
    .await;
}

pub fn types(events: &[StoredEvent]) -> Vec<&'static str> {
    events
        .iter()
        .map(|e| e.event.event_type().as_str())
        .collect()
}

pub fn fold(events: &[StoredEvent]) -> Conversation {
    Conversation::fold(events)
}

/// The text delivered to the customer (the last `responded`).
pub fn reply(events: &[StoredEvent]) -> String {
    events
        .iter()
        .rev()
        .find_map(|e| match &e.event.data {
            EventData::Responded(r) => Some(r.text.clone()),
            _ => None,
        })
        .expect("the conversation has a reply")
}

/// The escalation reason, if the turn was escalated.
pub fn escalation(events: &[StoredEvent]) -> Option<EscalationReason> {
    events.iter().find_map(|e| match &e.event.data {
        EventData::Escalated(x) => Some(x.reason),
        _ => None,
    })
}

/// No step happened twice: no two events share (type, causation), and no
/// event id repeats.
pub fn assert_no_duplicates(key: &ConversationKey, events: &[StoredEvent]) {
    let mut seen = HashSet::new();
    let mut ids = HashSet::new();
    for e in events {
        let pair = (e.event.event_type().as_str(), e.event.envelope.causation);
        assert!(
            seen.insert(pair),
            "{key}: duplicate {pair:?} in {:?}",
            types(events)
        );
        assert!(ids.insert(e.event.envelope.id), "{key}: repeated event id");
    }
}

/// The turn was handed to a human for `reason` with a notice to the customer.
pub fn assert_handed_off(key: &ConversationKey, events: &[StoredEvent], reason: EscalationReason) {
    assert_eq!(
        escalation(events),
        Some(reason),
        "{key}: {:?}",
        types(events)
    );
    let tail: Vec<_> = types(events).into_iter().rev().take(2).collect();
    assert_eq!(tail, ["responded", "escalated"], "{key}: hand-off last");
    assert!(
        reply(events).contains("member of our support team"),
        "{key}: {}",
        reply(events)
    );
    assert_eq!(fold(events).status, Status::WithHuman, "{key}");
}

/// Keeps a worker type usable behind the runtime's `Arc`.
pub fn shared<T>(value: T) -> Arc<T> {
    Arc::new(value)
}
