//! The event store on a three-node JetStream cluster (replicas 3): what
//! was acknowledged survives the loss of the stream leader and of its whole
//! store, appends go on while it is gone, and optimistic concurrency still
//! holds across the leader change.

mod support;

use std::time::Duration;

use support::*;
use switchboard_engine::nats_cluster::stream_leader;
use switchboard_engine::store::AppendErrorKind;
use switchboard_tests::{TestCluster, eventually};

#[tokio::test]
async fn acknowledged_events_survive_losing_the_stream_leader_and_its_store() {
    let mut cluster = TestCluster::start().await;
    let store = cluster.store().await;
    let mut acked = Vec::new();
    for c in 0..20 {
        let conv = key(&format!("acme/replicated{c}"));
        let (first, a) = open(&store, &conv).await;
        let batch = [escalated(&first), responded(&first, "bye")];
        let b = store
            .append(&conv, a.last, &batch, &fresh_key())
            .await
            .expect("append an atomic batch to a replicated stream");
        acked.push((conv, first, b.last));
    }
    let js = store.jetstream().clone();
    let leader = eventually("a stream leader", Duration::from_secs(10), || {
        stream_leader(&js, "CONVERSATIONS")
    })
    .await;
    let victim = cluster
        .cluster()
        .index_of(&leader)
        .expect("the leader is a node");
    // A crash of the leader's host that takes its disk with it.
    cluster
        .cluster()
        .kill(victim)
        .expect("the leader is killed");
    std::fs::remove_dir_all(cluster.node_dir(victim).join("jetstream"))
        .expect("the leader's store is deleted");
    let successor = eventually("a new stream leader", Duration::from_secs(30), || {
        let js = js.clone();
        let leader = leader.clone();
        async move {
            stream_leader(&js, "CONVERSATIONS")
                .await
                .filter(|l| *l != leader)
        }
    })
    .await;
    assert_ne!(successor, leader);

    // Writes go on with two of three nodes, and the expectations still hold.
    let (conv, first, last) = &acked[0];
    let later = store
        .append(conv, *last, &[responded(first, "still here")], &fresh_key())
        .await
        .expect("append while the old leader is down");
    let stale = store
        .append(conv, *last, &[responded(first, "stale")], &fresh_key())
        .await
        .expect_err("a stale expectation is refused by the new leader");
    assert_eq!(stale.kind(), AppendErrorKind::Conflict, "{stale}");

    cluster
        .cluster()
        .restart(victim)
        .expect("the old leader restarts, empty");
    for (conv, _, last) in &acked[1..] {
        let loaded = store.load(conv).await.expect("load after the failover");
        assert_eq!(loaded.events.len(), 3, "{conv}");
        assert_eq!(loaded.version, *last, "{conv}");
    }
    let loaded = store.load(conv).await.expect("load");
    assert_eq!(loaded.version, later.last);

    // The restarted node, its store gone, caught up from the others: the
    // leader reports it current with no lag.
    let victim_name = leader.clone();
    let node_url = cluster.cluster().node(victim).expect("node").url();
    let direct = switchboard_engine::connect(&node_url, "switchboard-tests")
        .await
        .expect("connect to the restarted node");
    let direct_js = async_nats::jetstream::new(direct);
    let expected = later.last.get();
    eventually(
        "the restarted node to catch up",
        Duration::from_secs(30),
        || {
            let js = direct_js.clone();
            let victim_name = victim_name.clone();
            async move {
                let mut stream = js.get_stream("CONVERSATIONS").await.ok()?;
                let info = stream.info().await.ok()?;
                let replicas = info.cluster.as_ref()?.replicas.clone();
                let restarted = replicas.iter().find(|r| r.name == victim_name)?;
                (info.state.last_sequence >= expected
                    && restarted.current
                    && restarted.lag.unwrap_or(0) == 0)
                    .then_some(())
            }
        },
    )
    .await;
}

#[tokio::test]
async fn concurrent_appenders_exactly_one_wins_per_version_on_a_cluster() {
    let cluster = TestCluster::start().await;
    let store = cluster.store().await;
    let conv = key("acme/replicated-race");
    let (first, _) = open(&store, &conv).await;
    for round in 0..10 {
        let version = store.load(&conv).await.expect("load").version;
        let attempts = (0..8).map(|i| {
            let store = store.clone();
            let conv = conv.clone();
            let events = if i % 2 == 0 {
                vec![responded(&first, &format!("round {round} writer {i}"))]
            } else {
                vec![
                    escalated(&first),
                    responded(&first, &format!("batch {round} {i}")),
                ]
            };
            async move { store.append(&conv, version, &events, &fresh_key()).await }
        });
        let results = futures::future::join_all(attempts).await;
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: {results:?}");
    }
}
