//! Scale-out on a partitioned conversation stream, with real processes: two
//! `worker all` replicas split the partitions between them (each partition
//! held by exactly one), every conversation is answered exactly once, and
//! when one replica is killed with SIGKILL (no goodbye: its membership key
//! has to expire) the other takes its partitions over and answers what was
//! sent to them meanwhile.

mod agents_support;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use agents_support::{say, settled};
use switchboard_engine::event::EventData;
use switchboard_engine::ids::ConversationKey;
use switchboard_engine::store::EventStore;
use switchboard_tests::Running as Process;
use switchboard_tests::{TestServer, cli, eventually, free_port, http_get, run_command};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");
const PARTITIONS: u32 = 4;
const DEADLINE: Duration = Duration::from_secs(60);

/// The partitions a replica reports on `/readyz` (parts `…/p<k>`), or
/// `None` while it does not answer.
fn held(port: u16) -> Option<BTreeSet<u32>> {
    let (_, body) = http_get(port, "/readyz")?;
    let report: serde_json::Value = serde_json::from_str(&body).ok()?;
    let parts = report["parts"].as_object()?;
    Some(
        parts
            .keys()
            .filter_map(|name| name.rsplit_once("/p")?.1.parse().ok())
            .collect(),
    )
}

fn replica(url: &str, port: u16) -> Process {
    let mut command = cli(BINARY, url, &["worker", "all"]);
    command
        .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Process(command.spawn().expect("switchboard worker starts"))
}

/// Waits until the replicas on `ports` hold every partition between them,
/// each exactly once and each replica some.
async fn split(ports: &[u16]) -> Vec<BTreeSet<u32>> {
    eventually(
        "the partitions split among the replicas",
        DEADLINE,
        || async {
            let sets: Vec<BTreeSet<u32>> = ports.iter().map(|p| held(*p)).collect::<Option<_>>()?;
            let total: usize = sets.iter().map(BTreeSet::len).sum();
            let union: BTreeSet<u32> = sets.iter().flatten().copied().collect();
            let whole = union == (0..PARTITIONS).collect();
            (whole && total == PARTITIONS as usize && sets.iter().all(|s| !s.is_empty()))
                .then_some(sets)
        },
    )
    .await
}

/// Waits until each conversation is answered, then checks it was answered
/// exactly once.
async fn answered_once(store: &EventStore, keys: &[ConversationKey]) {
    for key in keys {
        let events = settled(store, key).await;
        let responded = events
            .iter()
            .filter(|e| matches!(e.event.data, EventData::Responded(_)))
            .count();
        assert_eq!(responded, 1, "{key} answered {responded} times");
    }
}

async fn say_many(store: &EventStore, prefix: &str, n: usize) -> Vec<ConversationKey> {
    let mut keys = Vec::new();
    for i in 0..n {
        let address = format!("brewvi/{prefix}-{i}");
        keys.push(say(store, &address, "Where is my order #1001?").await);
    }
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_split_the_partitions_and_one_takes_over_from_a_replica_killed() {
    let server = TestServer::start();
    let url = server.url();
    let partitions = PARTITIONS.to_string();
    let applied = run_command(
        cli(
            BINARY,
            &url,
            &["--partitions", &partitions, "streams", "apply"],
        ),
        None,
    );
    assert!(applied.status.success(), "{applied:?}");
    let store = EventStore::new(server.client().await, Default::default());

    let (port_a, port_b) = (free_port(), free_port());
    let mut a = replica(&url, port_a);
    let _b = replica(&url, port_b);
    split(&[port_a, port_b]).await;
    answered_once(&store, &say_many(&store, "split", 12).await).await;

    a.0.kill().expect("SIGKILL the first replica");
    a.0.wait().expect("the first replica is reaped");
    // Sent while the killed replica's partitions have no one working them:
    // its membership key lives on for a few seconds.
    let orphaned = held(port_b).expect("the survivor answers");
    assert!(
        orphaned.len() < PARTITIONS as usize,
        "the survivor already held every partition: {orphaned:?}"
    );
    let after = say_many(&store, "after", 8).await;
    let all = split(&[port_b]).await;
    assert_eq!(all[0], (0..PARTITIONS).collect::<BTreeSet<_>>());
    answered_once(&store, &after).await;
}
