//! Faults in the worker runtime: a step that panics, one that hangs, a
//! message whose every delivery died with its process, and a replacement
//! process starting beside the unacked deliveries of a dead one. Each ends
//! with the conversation answered or handed to a human, never stuck.

mod agents_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use agents_support::{Running, options, say, settled};
use futures::StreamExt;
use switchboard_engine::conversation::Conversation;
use switchboard_engine::event::{EscalationReason, EventData};
use switchboard_engine::ids::ConversationKey;
use switchboard_engine::store::EventStore;
use switchboard_engine::workflow::{Agent, Step};
use switchboard_tests::{TestServer, eventually};
use switchboard_workers::runtime::{self, StepError, Worker, WorkerOptions, consumer_config};

/// The intent agent misbehaving as told, counting its calls.
struct Faulty {
    fault: Fault,
    calls: AtomicUsize,
}

#[derive(Clone, Copy)]
enum Fault {
    Panic,
    Hang,
}

impl Worker for Faulty {
    fn agents(&self) -> &[Agent] {
        &[Agent::Intent]
    }

    async fn act(&self, _: Step, _: &Conversation) -> Result<Vec<EventData>, StepError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.fault {
            Fault::Panic => panic!("the classifier fell over"),
            Fault::Hang => std::future::pending().await,
        }
    }
}

/// Runs `worker` beside the running agents, stopped with them.
fn beside<W: Worker>(
    running: &mut Running,
    store: &EventStore,
    worker: Arc<W>,
    options: &WorkerOptions,
) {
    running.tasks.push(tokio::spawn(runtime::run(
        store.clone(),
        worker,
        options.clone(),
        running.stop.subscribe(),
    )));
}

/// Waits until the conversation's turn went to a human; the reason.
async fn handed_off(store: &EventStore, key: &ConversationKey) -> EscalationReason {
    eventually(
        &format!("{key} handed to a human"),
        Duration::from_secs(30),
        || async {
            let state = store.load(key).await.ok()?.fold();
            state.turn?.escalated.map(|e| e.reason)
        },
    )
    .await
}

/// The dead letter copying the conversation's `received`: its error class.
async fn dead_letter_class(store: &EventStore, key: &ConversationKey) -> String {
    let stream = store
        .jetstream()
        .get_stream("DEADLETTER")
        .await
        .expect("the DEADLETTER stream exists");
    let subject = key.subject("screened");
    eventually("a dead letter", Duration::from_secs(30), || {
        let stream = stream.clone();
        let subject = subject.clone();
        async move {
            let mut info = stream.clone();
            let last = info.info().await.ok()?.state.last_sequence;
            for seq in 1..=last {
                let m = stream.get_raw_message(seq).await.ok()?;
                let original = m.headers.get("Switchboard-Original-Subject")?;
                if original.as_str() == subject {
                    return m
                        .headers
                        .get("Switchboard-Error-Class")
                        .map(|v| v.as_str().to_owned());
                }
            }
            None
        }
    })
    .await
}

async fn faulty_intent_goes_to_a_human(fault: Fault, options: WorkerOptions) -> (String, usize) {
    let server = TestServer::start();
    let store = server.store().await;
    let others = [
        Agent::Critic,
        Agent::Knowledge,
        Agent::Response,
        Agent::Escalation,
    ];
    let mut running = Running::only(&store, &options, &others);
    let faulty = Arc::new(Faulty {
        fault,
        calls: AtomicUsize::new(0),
    });
    beside(&mut running, &store, faulty.clone(), &options);
    let key = say(&store, "brewvi/faulty", "Where is my order #1001?").await;
    assert_eq!(handed_off(&store, &key).await, EscalationReason::StepFailed);
    let class = dead_letter_class(&store, &key).await;
    running.shutdown().await;
    (class, faulty.calls.load(Ordering::SeqCst))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_that_panics_is_dead_lettered_at_once_and_handed_to_a_human() {
    let (class, calls) = faulty_intent_goes_to_a_human(Fault::Panic, options()).await;
    assert_eq!(class, "panic");
    assert_eq!(calls, 1, "a panic is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_that_hangs_times_out_and_is_handed_to_a_human() {
    let options = WorkerOptions {
        step_timeout: Duration::from_millis(300),
        max_deliver: 2,
        ..options()
    };
    let (class, calls) = faulty_intent_goes_to_a_human(Fault::Hang, options).await;
    assert_eq!(class, "timeout");
    assert_eq!(calls, 2, "retried up to max deliver");
}

/// A worker of `agents` that "runs" in processes dying on every delivery,
/// emulated by fetching from consumer `dying` without ever acking, until
/// the server gives up on the message and keeps the max-deliveries
/// advisory; returns how many deliveries it got past max-deliver (0 when
/// the server stops as it should).
async fn die_on_every_delivery(
    store: &EventStore,
    agents: &[Agent],
    dying: &WorkerOptions,
) -> usize {
    let stream = store
        .jetstream()
        .get_stream("CONVERSATIONS")
        .await
        .expect("the stream exists");
    let consumer = stream
        .create_consumer(consumer_config(
            agents,
            dying,
            switchboard_engine::subject::Scope::Unpartitioned,
        ))
        .await
        .expect("the dying consumer is created");
    let mut deliveries = 0;
    let until = Instant::now() + Duration::from_secs(20);
    while deliveries < dying.max_deliver && Instant::now() < until {
        let mut batch = consumer
            .batch()
            .max_messages(1)
            .expires(Duration::from_secs(1))
            .messages()
            .await
            .expect("fetch");
        while let Some(Ok(_held)) = batch.next().await {
            deliveries += 1; // never acked: the process "died"
        }
    }
    assert_eq!(
        deliveries, dying.max_deliver,
        "the message was delivered max-deliver times"
    );
    // The next processes keep pulling and get nothing: the server gives up
    // on the message at a pull and publishes the advisory.
    let puller = {
        let consumer = consumer.clone();
        tokio::spawn(async move {
            let mut beyond = 0;
            let until = Instant::now() + Duration::from_secs(8);
            while Instant::now() < until {
                let Ok(mut batch) = consumer
                    .batch()
                    .max_messages(1)
                    .expires(Duration::from_millis(500))
                    .messages()
                    .await
                else {
                    continue;
                };
                while let Some(Ok(_)) = batch.next().await {
                    beyond += 1;
                }
            }
            beyond
        })
    };
    let advisories = store
        .jetstream()
        .get_stream("ADVISORIES")
        .await
        .expect("ADVISORIES exists");
    let kept = eventually(
        "the max-deliveries advisory kept",
        Duration::from_secs(10),
        || {
            let mut advisories = advisories.clone();
            async move {
                let n = advisories.info().await.ok()?.state.messages;
                (n > 0).then_some(n)
            }
        },
    )
    .await;
    assert_eq!(kept, 1);
    puller.await.expect("the puller ends")
}

/// A consumer of `stream` with every delivery acknowledged and nothing
/// left to deliver.
async fn consumer_settled(store: &EventStore, stream: &str, consumer: &str) {
    let stream = store.jetstream().get_stream(stream).await.expect("stream");
    eventually(
        &format!("consumer {consumer} to settle"),
        Duration::from_secs(30),
        || {
            let stream = stream.clone();
            async move {
                let mut c = stream
                    .get_consumer::<async_nats::jetstream::consumer::pull::Config>(consumer)
                    .await
                    .ok()?;
                let info = c.info().await.ok()?;
                let done = info.delivered.consumer_sequence > 0
                    && info.num_pending == 0
                    && info.num_ack_pending == 0;
                done.then_some(())
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_whose_every_delivery_died_is_dead_lettered_from_the_advisory() {
    let server = TestServer::start();
    let store = server.store().await;
    let options = options();
    // Every agent but intent runs; intent "runs" in processes that die
    // holding the message.
    let others = [
        Agent::Critic,
        Agent::Knowledge,
        Agent::Response,
        Agent::Escalation,
    ];
    let running = Running::only(&store, &options, &others);
    let dying = WorkerOptions {
        max_deliver: 2,
        ack_wait: Duration::from_millis(500),
        ..options.clone()
    };
    let key = say(&store, "brewvi/dies", "Where is my order #1001?").await;
    let beyond = die_on_every_delivery(&store, &[Agent::Intent], &dying).await;
    assert_eq!(handed_off(&store, &key).await, EscalationReason::StepFailed);
    assert_eq!(dead_letter_class(&store, &key).await, "crashed");
    assert_eq!(beyond, 0, "no delivery past max-deliver");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_given_up_on_after_its_turn_was_answered_is_dead_lettered_without_a_hand_off() {
    let server = TestServer::start();
    let store = server.store().await;
    let options = options();
    let running = Running::only(&store, &options, &Agent::ALL);
    let key = say(&store, "brewvi/answered", "Where is my order #1001?").await;
    settled(&store, &key).await;
    // A second classifier, under another name, dies on every delivery of
    // the turn's `screened`, which the running one has long acted on: as a
    // process killed after its append and before its ack would.
    let dying = WorkerOptions {
        max_deliver: 2,
        ack_wait: Duration::from_millis(500),
        consumer_prefix: "ghost".into(),
        ..options.clone()
    };
    let beyond = die_on_every_delivery(&store, &[Agent::Intent], &dying).await;
    assert_eq!(beyond, 0, "no delivery past max-deliver");
    // The fault landed: the message was given up on and dead-lettered.
    assert_eq!(dead_letter_class(&store, &key).await, "crashed");
    consumer_settled(&store, "ADVISORIES", "deadletter").await;
    let events = store.load(&key).await.expect("loads").events;
    let count = |f: fn(&EventData) -> bool| events.iter().filter(|e| f(&e.event.data)).count();
    assert_eq!(count(|d| matches!(d, EventData::Failed(_))), 0, "no failed");
    assert_eq!(
        count(|d| matches!(d, EventData::Escalated(_))),
        0,
        "no hand-off"
    );
    assert_eq!(
        count(|d| matches!(d, EventData::Responded(_))),
        1,
        "one answer"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacement_worker_answers_new_messages_at_once_beside_a_dead_ones_deliveries() {
    let server = TestServer::start();
    let store = server.store().await;
    let options = WorkerOptions {
        concurrency: 4,
        ack_wait: Duration::from_secs(6),
        ..options()
    };
    // A process that died holding as many messages as one process holds.
    let held = options.concurrency * 4;
    let stream = store
        .jetstream()
        .get_stream("CONVERSATIONS")
        .await
        .expect("the stream exists");
    let consumer = stream
        .create_consumer(consumer_config(
            &Agent::ALL,
            &options,
            switchboard_engine::subject::Scope::Unpartitioned,
        ))
        .await
        .expect("the consumer is created");
    let mut orphans = Vec::new();
    for i in 0..held {
        orphans.push(
            say(
                &store,
                &format!("brewvi/orphan-{i}"),
                "Where is my order #1001?",
            )
            .await,
        );
    }
    let mut taken = 0;
    let mut batch = consumer
        .batch()
        .max_messages(held)
        .expires(Duration::from_secs(2))
        .messages()
        .await
        .expect("fetch");
    let mut died_holding = Vec::new();
    while let Some(Ok(message)) = batch.next().await {
        taken += 1;
        died_holding.push(message);
    }
    assert_eq!(taken, held, "the dead process held a full window");
    let died_at = Instant::now();

    let running = Running::all(&store, &options);
    let fresh = say(&store, "brewvi/fresh", "What are your opening hours?").await;
    settled(&store, &fresh).await;
    let fresh_after = died_at.elapsed();
    assert!(
        fresh_after < options.ack_wait,
        "a new message waited {fresh_after:?}, as long as the dead process's ack wait"
    );
    for key in &orphans {
        settled(&store, key).await;
    }
    running.shutdown().await;
}

/// Every agent behind one consumer, as `worker all` runs them, with the
/// classifier down.
struct TeamWithoutClassifier {
    team: switchboard_workers::agents::Team,
}

impl Worker for TeamWithoutClassifier {
    fn agents(&self) -> &[Agent] {
        &Agent::ALL
    }

    async fn act(&self, step: Step, state: &Conversation) -> Result<Vec<EventData>, StepError> {
        if step.agent() == Agent::Intent {
            return Err(StepError::transient("model", "the classifier is down"));
        }
        self.team.act(step, state).await
    }
}

/// Dead letters whose original subject is one of the conversation's.
async fn dead_letters_of(store: &EventStore, key: &ConversationKey) -> Vec<String> {
    let Ok(mut stream) = store.jetstream().get_stream("DEADLETTER").await else {
        return Vec::new();
    };
    let Ok(info) = stream.info().await else {
        return Vec::new();
    };
    let prefix = format!("conv.{}.{}.", key.tenant.as_str(), key.id.as_str());
    let mut out = Vec::new();
    for seq in info.state.first_sequence..=info.state.last_sequence {
        let Ok(m) = stream.get_raw_message(seq).await else {
            continue;
        };
        if let Some(original) = m.headers.get("Switchboard-Original-Subject")
            && original.as_str().starts_with(&prefix)
        {
            out.push(original.as_str().to_owned());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_failing_under_several_triggers_is_dead_lettered_and_failed_once() {
    let server = TestServer::start();
    let store = server.store().await;
    let options = WorkerOptions {
        max_deliver: 3,
        backoff: vec![Duration::from_millis(200), Duration::from_millis(400)],
        ..options()
    };
    let agents = switchboard_workers::agents::Agents::builtin().expect("the builtin agents");
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(runtime::run(
        store.clone(),
        Arc::new(TeamWithoutClassifier {
            team: agents.team(),
        }),
        options.clone(),
        shutdown,
    ));
    let key = say(&store, "brewvi/twice", "Where is my order #1001?").await;
    assert_eq!(handed_off(&store, &key).await, EscalationReason::StepFailed);
    // Both `received` and `screened` lead this worker to the failing step;
    // wait until the consumer has finished with every delivery.
    consumer_settled(&store, "CONVERSATIONS", "test-all").await;
    let events = store.load(&key).await.expect("loads").events;
    let failed = events
        .iter()
        .filter(|e| matches!(e.event.data, EventData::Failed(_)))
        .count();
    assert_eq!(failed, 1, "one failed event for the turn");
    let letters = dead_letters_of(&store, &key).await;
    assert_eq!(
        letters.len(),
        1,
        "one dead letter for the turn: {letters:?}"
    );
    stop.send(true).expect("the worker listens");
    task.await.expect("joins").expect("stops cleanly");
}

/// The knowledge agent, slow: three ack waits per step.
struct Slow {
    inner: switchboard_workers::agents::Knowledge,
    delay: Duration,
    calls: AtomicUsize,
}

impl Worker for Slow {
    fn agents(&self) -> &[Agent] {
        &[Agent::Knowledge]
    }

    async fn act(&self, step: Step, state: &Conversation) -> Result<Vec<EventData>, StepError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.inner.act(step, state).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_slower_than_the_ack_wait_is_delivered_once() {
    let server = TestServer::start();
    let store = server.store().await;
    let options = WorkerOptions {
        ack_wait: Duration::from_secs(1),
        ..options()
    };
    let others = [
        Agent::Critic,
        Agent::Intent,
        Agent::Response,
        Agent::Escalation,
    ];
    let mut running = Running::only(&store, &options, &others);
    let kb = switchboard_workers::knowledge::KnowledgeBase::builtin().expect("the builtin kb");
    let slow = Arc::new(Slow {
        inner: switchboard_workers::agents::Knowledge::new(kb),
        delay: options.ack_wait * 3,
        calls: AtomicUsize::new(0),
    });
    beside(&mut running, &store, slow.clone(), &options);
    let key = say(&store, "brewvi/slow", "Where is my order #1001?").await;
    settled(&store, &key).await;
    assert_eq!(
        slow.calls.load(Ordering::SeqCst),
        1,
        "no redelivery while the step ran"
    );
    running.shutdown().await;
}
