//! Poison input from a foreign client, through the agents and the projector
//! as `switchboard up` runs them: every stored message that is not a valid
//! event ends in `DEADLETTER` once, with its reason; a conversation with a
//! turn goes to a human (a well-formed message of a tenant not served too);
//! the agents keep answering others; nothing panics.

mod agents_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use agents_support::{Running, options, received, say, settled};
use async_nats::HeaderMap;
use switchboard_engine::event::codec::{encode, header as ce};
use switchboard_engine::event::{CustomerTier, EscalationReason};
use switchboard_engine::ids::Tenant;
use switchboard_engine::projection::sqlite::{SqliteConfig, SqliteStore};
use switchboard_engine::store::EventStore;
use switchboard_tests::events::key;
use switchboard_tests::{TestServer, eventually};
use switchboard_workers::projector::{ProjectorOptions, run_projector};
use switchboard_workers::runtime::WorkerOptions;
use tokio::sync::watch;

/// Publishes raw bytes as a foreign client would; the stored sequence.
async fn foreign(store: &EventStore, subject: &str, headers: HeaderMap, body: &[u8]) -> u64 {
    store
        .jetstream()
        .publish_with_headers(subject.to_owned(), headers, body.to_vec().into())
        .await
        .unwrap_or_else(|e| panic!("publish {subject}: {e}"))
        .await
        .unwrap_or_else(|e| panic!("stored {subject}: {e}"))
        .sequence
}

/// Valid headers of a customer message on `address`.
fn valid_headers(address: &str) -> (HeaderMap, Vec<u8>) {
    let event = received(&key(address), "persona_001", CustomerTier::Standard, "hi");
    let encoded = encode(&event);
    (encoded.headers, encoded.payload.to_vec())
}

/// Every dead letter, by the sequence of the message it copies.
async fn dead_letters(store: &EventStore) -> HashMap<u64, Vec<(String, String)>> {
    let mut out: HashMap<u64, Vec<(String, String)>> = HashMap::new();
    let Ok(mut stream) = store.jetstream().get_stream("DEADLETTER").await else {
        return out;
    };
    let Ok(info) = stream.info().await else {
        return out;
    };
    for seq in info.state.first_sequence..=info.state.last_sequence {
        let Ok(message) = stream.get_raw_message(seq).await else {
            continue;
        };
        let header = |name: &str| {
            message
                .headers
                .get(name)
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default()
        };
        let original: u64 = header("Switchboard-Original-Sequence").parse().unwrap_or(0);
        out.entry(original).or_default().push((
            header("Switchboard-Error-Class"),
            header("Switchboard-Reason"),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_input_is_dead_lettered_once_each_and_agents_keep_answering() {
    let server = TestServer::start();
    let store = server.store().await;
    let served = WorkerOptions {
        tenants: Some(vec![Tenant::new("brewvi").expect("a valid tenant")]),
        ..options()
    };
    let running = Running::all(&store, &served);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let projections = SqliteStore::open(SqliteConfig::new(dir.path().join("p.sqlite")))
        .await
        .expect("a SQLite file opens");
    let (stop_projector, shutdown) = watch::channel(false);
    let projector = tokio::spawn(run_projector(
        server.client().await,
        Arc::new(projections),
        ProjectorOptions::default(),
        shutdown,
    ));

    // A conversation already answered, which garbage will follow.
    let answered = say(&store, "brewvi/answered", "Where is my order #1001?").await;
    settled(&store, &answered).await;

    let mut poison = Vec::new();
    let (headers, _) = valid_headers("brewvi/bad-json");
    poison.push((
        "malformed JSON",
        foreign(
            &store,
            "conv.brewvi.bad-json.received",
            headers,
            b"{not json",
        )
        .await,
    ));
    let (mut headers, body) = valid_headers("brewvi/bad-type");
    headers.insert(ce::TYPE, "bogus");
    poison.push((
        "unknown type token",
        foreign(&store, "conv.brewvi.bad-type.bogus", headers, &body).await,
    ));
    let (headers, body) = valid_headers("brewvi/extra");
    poison.push((
        "extra subject token",
        foreign(&store, "conv.brewvi.extra.received.extra", headers, &body).await,
    ));
    let (mut headers, body) = valid_headers("brewvi/bad-schema");
    headers.insert(ce::DATA_SCHEMA, "urn:switchboard:schema:received:v99");
    poison.push((
        "wrong schema version",
        foreign(&store, "conv.brewvi.bad-schema.received", headers, &body).await,
    ));
    poison.push((
        "garbage on an answered conversation",
        foreign(
            &store,
            "conv.brewvi.answered.received",
            HeaderMap::new(),
            b"\xff\xfe garbage",
        )
        .await,
    ));
    // A well-formed message for a tenant this system does not serve.
    let stranger = say(&store, "nobody/c1", "Where is my order #1001?").await;
    let stranger_seq = store
        .load(&stranger)
        .await
        .expect("loads")
        .events
        .first()
        .map(|e| e.seq.get())
        .expect("stored");
    poison.push(("unknown tenant", stranger_seq));
    // Oversized: refused by the stream itself, so nothing is stored.
    let oversized = store
        .jetstream()
        .publish("conv.brewvi.huge.received", vec![b'x'; 300 * 1024].into())
        .await;
    let refused = match oversized {
        Err(_) => true,
        Ok(ack) => ack.await.is_err(),
    };
    assert!(refused, "an oversized body must be refused by the stream");

    // The agents keep answering.
    let after = say(&store, "brewvi/after", "What are your opening hours?").await;
    settled(&store, &after).await;

    let letters = eventually(
        "every poison message dead-lettered",
        Duration::from_secs(20),
        || async {
            let letters = dead_letters(&store).await;
            poison
                .iter()
                .all(|(_, seq)| letters.contains_key(seq))
                .then_some(letters)
        },
    )
    .await;
    for (what, seq) in &poison {
        let copies = &letters[seq];
        assert_eq!(copies.len(), 1, "{what}: one dead letter, got {copies:?}");
        let (class, reason) = &copies[0];
        assert!(!reason.is_empty(), "{what}: the dead letter says why");
        assert_ne!(class, "panic", "{what}: no panic");
    }
    assert!(
        letters
            .values()
            .flatten()
            .all(|(class, _)| class != "panic"),
        "no dead letter comes from a panic: {letters:?}"
    );

    // The answered conversation went to a human for the garbage.
    let escalated = eventually(
        "the answered conversation handed to a human",
        Duration::from_secs(20),
        || async {
            let state = store.load(&answered).await.ok()?.fold();
            state.turn?.escalated
        },
    )
    .await;
    assert_eq!(escalated.reason, EscalationReason::StepFailed);
    let stranger_escalated = eventually(
        "the unknown tenant's conversation handed to a human",
        Duration::from_secs(20),
        || async {
            let state = store.load(&stranger).await.ok()?.fold();
            state.turn?.escalated
        },
    )
    .await;
    assert_eq!(stranger_escalated.reason, EscalationReason::StepFailed);
    assert_eq!(letters[&stranger_seq][0].0, "tenant");

    stop_projector.send(true).expect("the projector listens");
    projector
        .await
        .expect("the projector task ends")
        .expect("the projector stops cleanly");
    running.shutdown().await;
}
