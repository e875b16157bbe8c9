//! `switchboard bench chaos`: customer conversations through agents in
//! separate processes while they are crashed, and the checks that nothing
//! was lost, duplicated or left stuck.
//!
//! It starts a managed nats-server (or uses `--nats-url`), five
//! single-agent workers, a `worker all` and the projector as processes of
//! this binary, and publishes the conversations through the intake path.
//! While work is pending it SIGKILLs a random member every
//! `--kill-every-ms` (seeded) and starts it again at once, and crashes and
//! restarts the broker `--broker-restarts` times. Once every conversation
//! is answered (or the deadline passes) and the system is idle, it loads
//! every conversation from the log and replays the log into a fresh
//! projection store to compare with the live one, document by document.
//! Any failed check makes the command fail.

pub(super) mod fleet;
mod projections;
mod schedule;
mod traffic;
mod verify;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use switchboard_engine::ids::Tenant;
use switchboard_engine::nats_server::ServerBinary;
use switchboard_engine::projection::ProjectionStore;
use switchboard_engine::projection::sqlite::{SqliteConfig, SqliteStore};
use switchboard_engine::store::{EventStore, StoreOptions};
use tokio::sync::watch;

use self::fleet::{Broker, Fleet};
use self::schedule::Chaos;
use self::traffic::Tally;
use crate::cli::{Global, ServerArgs};

/// The tenant the conversations belong to (the demo tenant's data).
const TENANT: &str = "brewvi";

#[derive(Debug, Args)]
pub struct ChaosArgs {
    /// Conversations (one customer message each).
    #[arg(long, default_value_t = 1000)]
    pub conversations: usize,
    /// Milliseconds between two kills of a random agent or projector
    /// process (while messages arrive or answers are outstanding).
    #[arg(long, default_value_t = 2000)]
    pub kill_every_ms: u64,
    /// Times the managed broker is SIGKILLed and restarted on the same
    /// port and store (0 with --nats-url: the bench cannot restart it).
    #[arg(long, default_value_t = 1)]
    pub broker_restarts: u32,
    /// Seed of the random choices (messages, victims).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Conversations published per second (0: as fast as possible).
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Seconds to wait for every conversation to be answered, and again
    /// for the agents and the projector to settle.
    #[arg(long, default_value_t = 300)]
    pub deadline_s: u64,
    /// Keep the temporary directory (logs, store, projections) and print it.
    #[arg(long)]
    pub keep_dir: bool,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// The figures of a run (`--json`).
#[derive(Debug, Default, Serialize)]
struct Report {
    conversations: usize,
    terminal: usize,
    duplicates: u64,
    lost: usize,
    kills: u64,
    broker_restarts: u32,
    /// On a cluster (`--cluster`): each broker restart was a kill of the
    /// CONVERSATIONS stream's leader; who it was and who took over.
    failovers: Vec<fleet::Failover>,
    cluster: bool,
    projection_mismatches: u64,
    /// Replicas of the streams and buckets (`--stream-replicas`, else 3 on
    /// a cluster and 1 on one server).
    stream_replicas: usize,
    /// The live projection's backend (`sqlite`, or `cosmos` with
    /// COSMOS_ENDPOINT set).
    live_store: &'static str,
    max_stall_s: f64,
    /// The same, as the bench saw the answers arrive while it ran
    /// (includes its own reconnection delays).
    watched_stall_s: f64,
    /// Kills of a process whose consumer had deliveries in flight (unacked
    /// and delivered within the last second).
    kills_mid_step: u64,
    /// Kills while acknowledged conversations were unanswered.
    kills_with_pending: u64,
    /// Member exits nobody asked for (restarted too).
    unexpected_exits: u64,
    /// Per member: `[kills, of which mid-step]`.
    kills_by_member: std::collections::BTreeMap<String, (u64, u64)>,
    /// Longest time from a message to its answer in the log.
    slowest_answer_s: f64,
    acknowledged: usize,
    unacknowledged: u64,
    publish_retries: u64,
    escalated: usize,
    failed_events: u64,
    /// Messages in the DEADLETTER stream at the end.
    dead_letters: u64,
    duplicates_by_type: std::collections::BTreeMap<String, u64>,
    projection_mismatches_by: std::collections::BTreeMap<&'static str, u64>,
    documents_compared: u64,
    agents_settled: bool,
    /// Seconds from the last answer until the agents' consumers had
    /// nothing pending or unacknowledged (deliveries to killed processes
    /// wait out the ack wait).
    settle_s: f64,
    projector_caught_up: bool,
    seconds: f64,
    #[serde(skip)]
    samples: Vec<String>,
    #[serde(skip)]
    external: bool,
}

impl Report {
    fn failures(&self) -> Vec<String> {
        let mut failed = Vec::new();
        if self.terminal < self.conversations {
            failed.push(format!(
                "{} of {} conversations did not end",
                self.conversations - self.terminal,
                self.conversations
            ));
        }
        if self.duplicates > 0 {
            failed.push(format!("{} duplicated step events", self.duplicates));
        }
        if self.lost > 0 {
            failed.push(format!("{} acknowledged messages lost", self.lost));
        }
        if self.projection_mismatches > 0 {
            failed.push(format!(
                "{} projection documents differ from a rebuild",
                self.projection_mismatches
            ));
        }
        failed
    }
}

/// The server given with `--nats-url` on the command line, if any. Only
/// the flag counts: a `NATS_URL` left in the environment (or the default)
/// must not turn a crash test against a throwaway broker into one against
/// a running system.
fn external_url(global: &Global) -> Option<String> {
    std::env::args()
        .any(|a| a == "--nats-url" || a.starts_with("--nats-url="))
        .then(|| global.nats_url.clone())
}

pub async fn run(global: &Global, args: ChaosArgs) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("switchboard-chaos-")
        .tempdir()
        .context("creating a temporary directory")?;
    let started = Instant::now();
    let mut broker = match external_url(global) {
        Some(url) => Broker::external(&url),
        None => {
            let binary = ServerBinary::locate(args.server.nats_server.as_deref())?;
            Broker::managed(
                binary,
                dir.path().join("nats"),
                args.server.durable,
                args.server.cluster,
            )
            .await?
        }
    };
    // Ctrl-C or SIGTERM drops the run: its processes are killed on drop,
    // and the broker is stopped below.
    let result = tokio::select! {
        result = drive(&args, &mut broker, global.replicas, dir.path().to_path_buf(), started) => result,
        _ = crate::cli::up::shutdown_signal() => Err(anyhow::anyhow!("interrupted")),
    };
    broker.stop().await;
    if args.keep_dir {
        eprintln!("chaos: kept {}", dir.keep().display());
    }
    let report = result?;
    super::emit(&report, args.json, summary)?;
    let failed = report.failures();
    anyhow::ensure!(
        failed.is_empty(),
        "chaos checks failed: {}",
        failed.join("; ")
    );
    Ok(())
}

/// Everything between starting the broker and stopping it.
///
/// `replicas` (`--stream-replicas`) overrides the broker's default (3 on a
/// cluster, 1 on one server) for the streams and buckets of the run.
async fn drive(
    args: &ChaosArgs,
    broker: &mut Broker,
    replicas: Option<usize>,
    dir: PathBuf,
    started: Instant,
) -> anyhow::Result<Report> {
    let replicas = replicas.or(broker.replicas());
    if let Some(replicas) = replicas {
        // The tenant-data bucket opened below, like the streams.
        switchboard_workers::kv::set_replicas(replicas);
    }
    let client = switchboard_engine::connect(broker.url(), "switchboard-bench-chaos").await?;
    let store = EventStore::new(client.clone(), StoreOptions::default());
    let specs = switchboard_engine::streams::builtin(replicas);
    switchboard_engine::streams::apply(store.jetstream(), &specs, false).await?;
    // The workers answer from the tenant-data bucket: the demo tenant's data.
    let tenant_store = switchboard_workers::tenant::TenantStore::open(&client).await?;
    switchboard_workers::tenant::import::seed_if_absent(
        &tenant_store,
        &Tenant::new(TENANT)?,
        &switchboard_workers::tenant::TenantData::demo()?,
    )
    .await?;
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    broker.stage_batches(&names);
    let run_id = uuid::Uuid::now_v7().simple().to_string();
    let prefix = format!("chaos{}", &run_id[run_id.len() - 8..]);
    // A store of its own: the live projection folds the whole log from its
    // empty checkpoint, as the rebuild does, even on a shared server.
    let live_path = dir.join("projections.sqlite");
    let mut fleet = Fleet::start(broker.url(), replicas, &dir.join("logs"), &live_path)?;
    let restarts = if broker.managed_here() {
        args.broker_restarts
    } else {
        0
    };
    if !broker.managed_here() && args.broker_restarts > 0 {
        eprintln!("chaos: --nats-url given: the broker is not restarted (broker_restarts 0)");
    }
    let tally = Arc::new(Tally::default());
    let (stop, stopped) = watch::channel(false);
    let watcher = tokio::spawn(traffic::watch_answers(
        store.jetstream().clone(),
        store.options().stream.clone(),
        TENANT.into(),
        prefix.clone(),
        tally.clone(),
        stopped,
    ));
    let publisher = tokio::spawn(traffic::publish_all(
        store.clone(),
        tally.clone(),
        TENANT.into(),
        prefix.clone(),
        args.conversations,
        args.rate,
        args.seed,
    ));
    let mut chaos = Chaos::new(args, restarts);
    let watched = open_live(&live_path).await?;
    chaos.watch_projections(watched);
    let outcome = chaos.run(&store, &mut fleet, broker, &tally).await;
    let answered_at = Instant::now();
    let settle = answered_at + Duration::from_secs(args.deadline_s.max(1));
    let settled = match &outcome {
        Ok(()) => verify::wait_agents_idle(&store, &fleet.agent_consumers(), settle).await?,
        Err(_) => false,
    };
    let settle_s = answered_at.elapsed().as_secs_f64();
    let live = open_live(&live_path).await?;
    let caught_up = match &outcome {
        Ok(()) => projections::wait_projector(&store, live.as_ref(), settle).await?,
        Err(_) => false,
    };
    fleet.stop(Duration::from_secs(10)).await;
    stop.send_replace(true);
    publisher.abort();
    watcher.await.ok();
    outcome?;
    let counts = tally.counts();
    let tenant = Tenant::new(TENANT)?;
    let ids = (0..args.conversations)
        .map(|n| traffic::conversation_id(&prefix, n))
        .collect();
    eprintln!(
        "chaos: checking {} conversations in the log",
        args.conversations
    );
    let log = verify::check_log(&store, &tenant, ids, &tally.acked()).await?;
    eprintln!("chaos: replaying the log into a fresh projection store");
    let fresh: Arc<dyn ProjectionStore> =
        Arc::new(SqliteStore::open(SqliteConfig::new(dir.join("rebuild.sqlite"))).await?);
    let projections =
        projections::compare_projections(client.clone(), live.as_ref(), fresh, &tenant).await?;
    let mut samples = Vec::new();
    samples.extend(log.slowest.iter().map(|id| format!("slowest answer: {id}")));
    samples.extend(log.not_terminal.iter().map(|id| format!("not ended: {id}")));
    samples.extend(
        log.duplicated
            .iter()
            .map(|id| format!("duplicated step: {id}")),
    );
    samples.extend(projections.samples.iter().map(|d| format!("differs: {d}")));
    Ok(Report {
        conversations: args.conversations,
        terminal: log.terminal,
        duplicates: log.duplicates,
        lost: log.lost,
        kills: chaos.kills,
        broker_restarts: chaos.broker_restarts,
        failovers: chaos.failovers.clone(),
        cluster: args.server.cluster && broker.managed_here(),
        projection_mismatches: projections.mismatches,
        live_store: live.backend(),
        stream_replicas: replicas.unwrap_or(1),
        max_stall_s: round2(log.max_stall_s),
        watched_stall_s: round2(chaos.max_stall.as_secs_f64()),
        kills_mid_step: chaos.kills_mid_step,
        kills_with_pending: chaos.kills_with_pending,
        unexpected_exits: fleet.exits,
        kills_by_member: std::mem::take(&mut chaos.kills_by_member),
        slowest_answer_s: round2(log.slowest_answer_s),
        acknowledged: counts.acked,
        unacknowledged: counts.unacked,
        publish_retries: counts.publish_errors,
        escalated: log.escalated,
        failed_events: log.failed_events,
        dead_letters: dead_letters(&store).await,
        duplicates_by_type: log.duplicates_by_type,
        projection_mismatches_by: projections.by_projection,
        documents_compared: projections.documents,
        agents_settled: settled,
        settle_s: round2(settle_s),
        projector_caught_up: caught_up,
        seconds: round2(started.elapsed().as_secs_f64()),
        samples,
        external: !broker.managed_here(),
    })
}

/// Messages in the DEADLETTER stream (0 if it cannot be read).
async fn dead_letters(store: &EventStore) -> u64 {
    match store.jetstream().get_stream("DEADLETTER").await {
        Ok(mut stream) => stream.info().await.map_or(0, |i| i.state.messages),
        Err(_) => 0,
    }
}

/// The live projection store the projector processes write: the SQLite
/// file at `path`, or the Cosmos DB database of `COSMOS_ENDPOINT` and
/// `COSMOS_DATABASE` (which the processes inherit), as for every command.
async fn open_live(path: &std::path::Path) -> anyhow::Result<Arc<dyn ProjectionStore>> {
    let args = crate::cli::projections::StoreArgs {
        db: Some(path.to_owned()),
        data_dir: PathBuf::from("."),
    };
    crate::cli::projections::open_store(&args, crate::cli::projections::Missing::Create).await
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn summary(r: &Report) {
    let check = |ok: bool| if ok { "ok" } else { "FAILED" };
    println!(
        "chaos bench: {} conversations through 5 single-agent workers, a `worker all` and the projector, {} kills ({} mid-step, {} with answers outstanding), {} broker restarts{}, {:.1} s",
        r.conversations,
        r.kills,
        r.kills_mid_step,
        r.kills_with_pending,
        r.broker_restarts,
        if r.external {
            " (external server: not restarted)"
        } else if r.cluster {
            " (3-node cluster: the stream leader killed each time)"
        } else {
            ""
        },
        r.seconds
    );
    for f in &r.failovers {
        println!(
            "  stream leader {} killed: {} leads after {} ms",
            f.killed, f.new_leader, f.election_ms
        );
    }
    println!(
        "  terminal                {:>8} / {:<8} {}",
        r.terminal,
        r.conversations,
        check(r.terminal >= r.conversations)
    );
    println!(
        "  duplicated steps        {:>8}            {}",
        r.duplicates,
        check(r.duplicates == 0)
    );
    if !r.duplicates_by_type.is_empty() {
        println!("    by type               {:?}", r.duplicates_by_type);
    }
    println!(
        "  lost acknowledged       {:>8}            {}",
        r.lost,
        check(r.lost == 0)
    );
    println!(
        "  projection mismatches   {:>8} / {:<8} {}  {:?} (live {}, replayed into sqlite)",
        r.projection_mismatches,
        r.documents_compared,
        check(r.projection_mismatches == 0),
        r.projection_mismatches_by,
        r.live_store
    );
    println!(
        "  longest stall           {:>8.2} s   (slowest answer in the log {:.2} s)",
        r.max_stall_s, r.slowest_answer_s
    );
    let kills: Vec<String> = r
        .kills_by_member
        .iter()
        .map(|(name, (n, mid))| format!("{name} {n} ({mid} mid-step)"))
        .collect();
    println!("  kills by process        {}", kills.join(", "));
    println!(
        "  published {} acknowledged, {} given up, {} retried; {} escalated, {} failed events, {} dead letters; {} unexpected exits; agents settled: {} (after {:.1} s), projector caught up: {}",
        r.acknowledged,
        r.unacknowledged,
        r.publish_retries,
        r.escalated,
        r.failed_events,
        r.dead_letters,
        r.unexpected_exits,
        r.agents_settled,
        r.settle_s,
        r.projector_caught_up
    );
    for s in &r.samples {
        println!("  e.g. {s}");
    }
}
