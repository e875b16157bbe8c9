//! Projections against a real nats-server and a real SQLite file: the live
//! projector equals a fresh rebuild under concurrent appends, redelivery is
//! harmless, a locked store is retried without skipping, queries match
//! hand-computed answers, and the store contract suite.

#[path = "projections/common.rs"]
mod common;
mod support;

use std::time::Duration;

use common::*;
use support::*;
use switchboard_engine::projection::*;
use switchboard_engine::store::EventStore;
use switchboard_tests::{TestServer, eventually};
use switchboard_workers::projector::{self, ProjectorOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_projection_equals_rebuild_under_concurrent_appends() {
    let server = TestServer::start();
    let events = server.store().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let live = sqlite(&dir, "live.sqlite").await;
    let options = ProjectorOptions {
        batch: 7,
        ..ProjectorOptions::default()
    };
    let (stop, handle) = spawn_projector(&server, live.clone(), options.clone());
    let writers = (0..8).map(|w| {
        let events = events.clone();
        tokio::spawn(async move {
            for i in 0..15 {
                let key = key(&format!("acme/w{w}-c{i}"));
                append_all(&events, &key, &conversation(&key, i % 3 == 0)).await;
            }
        })
    });
    for w in writers.collect::<Vec<_>>() {
        w.await.expect("writer");
    }
    eventually("projector caught up", DEADLINE, || async {
        caught_up(live.as_ref(), &events).await.then_some(())
    })
    .await;
    let fresh = sqlite(&dir, "fresh.sqlite").await;
    let report = projector::replay_into(server.client().await, fresh.clone(), &options, |_, _| {})
        .await
        .expect("replay");
    assert_eq!(report.events, stream_last(&events).await);
    let live_docs = snapshot(live.as_ref(), "acme").await;
    assert_eq!(live_docs.0.len(), 120);
    assert_eq!(live_docs, snapshot(fresh.as_ref(), "acme").await);
    stop.send(true).expect("stop");
    handle.await.expect("projector task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivery_changes_nothing() {
    let server = TestServer::start();
    let events = server.store().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite(&dir, "p.sqlite").await;
    for i in 0..10 {
        let key = key(&format!("acme/r{i}"));
        append_all(&events, &key, &conversation(&key, i % 2 == 0)).await;
    }
    let (stop, handle) = spawn_projector(&server, store.clone(), ProjectorOptions::default());
    eventually("caught up", DEADLINE, || async {
        caught_up(store.as_ref(), &events).await.then_some(())
    })
    .await;
    stop.send(true).expect("stop");
    handle.await.expect("task");
    let before = snapshot(store.as_ref(), "acme").await;
    // The checkpoint set back to the start: every event is read again into
    // the same store, as after a crash that lost the checkpoint.
    let conn = rusqlite::Connection::open(dir.path().join("p.sqlite")).expect("open");
    conn.execute("UPDATE checkpoints SET last_seq = 0", [])
        .expect("rewind");
    drop(conn);
    let (stop, handle) = spawn_projector(&server, store.clone(), ProjectorOptions::default());
    eventually("read again", DEADLINE, || async {
        caught_up(store.as_ref(), &events).await.then_some(())
    })
    .await;
    stop.send(true).expect("stop");
    handle.await.expect("task");
    assert_eq!(before, snapshot(store.as_ref(), "acme").await);
    // Folding the same events again with a cold folder writes nothing new.
    let mut stored = Vec::new();
    for i in 0..10 {
        stored.extend(
            events
                .load(&key(&format!("acme/r{i}")))
                .await
                .expect("load")
                .events,
        );
    }
    stored.sort_by_key(|e| e.seq);
    let mut folder = Folder::new(store.as_ref(), 1000);
    let again = folder
        .fold_batch(store.as_ref(), &stored)
        .await
        .expect("fold");
    assert!(
        again.is_empty(),
        "re-folding produced {} documents",
        again.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_store_is_retried_and_nothing_is_skipped() {
    let server = TestServer::start();
    let events = server.store().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite(&dir, "locked.sqlite").await;
    let (stop, handle) = spawn_projector(&server, store.clone(), ProjectorOptions::default());
    // Another connection holds the write lock.
    let blocker = rusqlite::Connection::open(dir.path().join("locked.sqlite")).expect("open");
    blocker.execute_batch("BEGIN IMMEDIATE").expect("lock");
    for i in 0..6 {
        let key = key(&format!("acme/l{i}"));
        append_all(&events, &key, &conversation(&key, false)).await;
    }
    // The projector has read the events but cannot write them while the
    // store is locked.
    let last = stream_last(&events).await;
    eventually("events read by the projector", DEADLINE, || async {
        (delivered_to_consumers(&events).await >= last).then_some(())
    })
    .await;
    assert_eq!(
        store_checkpoint_behind(&dir).await,
        0,
        "nothing was written while locked"
    );
    blocker.execute_batch("COMMIT").expect("unlock");
    eventually("caught up after the lock", DEADLINE, || async {
        caught_up(store.as_ref(), &events).await.then_some(())
    })
    .await;
    let (docs, _, _) = snapshot(store.as_ref(), "acme").await;
    assert_eq!(docs.len(), 6);
    assert!(
        docs.iter()
            .all(|d| d.message_count == 2 && d.status == ConversationStatus::Closed)
    );
    stop.send(true).expect("stop");
    handle.await.expect("task");
}

/// The highest stream sequence delivered to any consumer of the stream.
async fn delivered_to_consumers(events: &EventStore) -> u64 {
    use futures::TryStreamExt;
    let Ok(stream) = events.jetstream().get_stream("CONVERSATIONS").await else {
        return 0;
    };
    let infos: Vec<_> = stream.consumers().try_collect().await.unwrap_or_default();
    infos
        .iter()
        .map(|i| i.delivered.stream_sequence)
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projectors_killed_mid_run_and_replicas_lose_nothing() {
    let server = TestServer::start();
    let events = server.store().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let live = sqlite(&dir, "live.sqlite").await;
    let options = ProjectorOptions {
        batch: 3,
        lease_ttl: Duration::from_secs(1),
        ..ProjectorOptions::default()
    };
    // A backlog, so that each kill lands with work left.
    for i in 0..300 {
        let key = key(&format!("acme/k{i}"));
        append_all(&events, &key, &conversation(&key, i % 4 == 0)).await;
    }
    let writer = {
        let events = events.clone();
        tokio::spawn(async move {
            for i in 300..350 {
                let key = key(&format!("acme/k{i}"));
                append_all(&events, &key, &conversation(&key, i % 4 == 0)).await;
            }
        })
    };
    let mut killed_at = Vec::new();
    for _ in 0..3 {
        let (_stop, handle) = spawn_projector(&server, live.clone(), options.clone());
        // Killed once it has written something more, while work remains.
        let before = live
            .checkpoints()
            .await
            .expect("checkpoints")
            .get("conversations");
        eventually("the projector to make progress", DEADLINE, || async {
            let now = live.checkpoints().await.ok()?.get("conversations");
            (now > before).then_some(())
        })
        .await;
        handle.abort();
        let _ = handle.await;
        let at = live
            .checkpoints()
            .await
            .expect("checkpoints")
            .get("conversations");
        killed_at.push((at, stream_last(&events).await));
    }
    assert!(
        killed_at.iter().all(|(at, last)| at < last),
        "every kill landed with events left to project: {killed_at:?}"
    );
    // Two replicas finish the job over the same store.
    let (stop_a, a) = spawn_projector(&server, live.clone(), options.clone());
    let (stop_b, b) = spawn_projector(&server, live.clone(), options.clone());
    writer.await.expect("writer");
    eventually("projectors caught up", DEADLINE, || async {
        caught_up(live.as_ref(), &events).await.then_some(())
    })
    .await;
    stop_a.send(true).expect("stop");
    stop_b.send(true).expect("stop");
    a.await.expect("task");
    b.await.expect("task");
    let fresh = sqlite(&dir, "fresh.sqlite").await;
    projector::replay_into(server.client().await, fresh.clone(), &options, |_, _| {})
        .await
        .expect("replay");
    let live_docs = snapshot(live.as_ref(), "acme").await;
    assert_eq!(live_docs.0.len(), 350);
    assert_eq!(live_docs, snapshot(fresh.as_ref(), "acme").await);
}

async fn store_checkpoint_behind(dir: &tempfile::TempDir) -> i64 {
    let conn = rusqlite::Connection::open(dir.path().join("locked.sqlite")).expect("open");
    conn.query_row("SELECT COUNT(*) FROM conversations", [], |r| r.get(0))
        .expect("count")
}

#[path = "projections/contract.rs"]
mod contract;
#[path = "projections/queries.rs"]
mod queries;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_reports_both_rates() {
    let server = TestServer::start();
    let _ = server.store().await;
    let report = projector::bench_projections(server.client().await, 4_000)
        .await
        .expect("bench");
    println!("{}", serde_json::to_string(&report).expect("json"));
    assert_eq!(report.events, 4_000);
    assert!(report.rebuild_per_s > 0.0 && report.baseline_per_s > 0.0);
}
