//! `switchboard up`: the whole system on embedded defaults.
//!
//! Starts a managed nats-server (JetStream, store under `<data-dir>/nats`),
//! applies the declared streams, runs the five agents (local models unless
//! `--intent-model` or `SWITCHBOARD_REMOTE_AGENTS` say otherwise)
//! and the projector on SQLite (`<data-dir>/projections.sqlite`), until
//! Ctrl-C or SIGTERM; then stops pulling, finishes in-flight work, and stops
//! the server. On first start the BrewVi demo tenant is loaded into the
//! tenant-data bucket (only if it has no data yet). Metrics (`/metrics`) and
//! health (`/healthz`, `/readyz`) are served on `--metrics-addr`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use switchboard_engine::auth::ConnectAuth;
use switchboard_engine::broker;
use switchboard_engine::nats_server::{ServerBinary, ServerOptions};
use switchboard_engine::streams;

use std::sync::Arc;

use switchboard_engine::ids::Tenant;
use switchboard_engine::projection::ProjectionStore;
use switchboard_engine::projection::sqlite::{SqliteConfig, SqliteStore};
use switchboard_engine::store::StoreOptions;
use switchboard_workers::ops::{PartState, Readiness, gauges};
use switchboard_workers::projector::ProjectorOptions;
use switchboard_workers::system::{Parts, System};
use switchboard_workers::tenant::{
    self, DEMO_TENANT, KnowledgeSource, TenantData, TenantKnowledge, TenantStore,
};
use tokio::sync::watch;

use super::gateway::GatewayArgs;
use super::managed::ManagedBroker;
use super::worker::WorkerArgs;
use super::{Global, ServerArgs};

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Directory for all local state (NATS store, projections).
    #[arg(long, env = "SWITCHBOARD_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Loopback port of the managed nats-server (other commands reach it
    /// through the default NATS_URL).
    #[arg(long, env = "SWITCHBOARD_NATS_PORT", default_value_t = 4222)]
    pub nats_port: u16,
    #[command(flatten)]
    pub ops: super::ops::OpsArgs,
    /// Run the managed nats-server with one nkey user per role
    /// (`<data-dir>/broker/`, made on first use and kept): no client
    /// without a seed connects; other commands use
    /// SWITCHBOARD_NATS_NKEY=<data-dir>/broker/operator.nk.
    #[arg(long, env = "SWITCHBOARD_SECURE")]
    pub secure: bool,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub workers: WorkerArgs,
    #[command(flatten)]
    pub gateway: GatewayArgs,
    #[command(flatten)]
    pub retention: super::privacy::RetentionScheduleArgs,
}

pub async fn run(_global: &Global, args: UpArgs) -> anyhow::Result<()> {
    // Installed first: a SIGTERM during start-up stops the system gracefully
    // once it is up, rather than killing the process half-started.
    let shutdown_requested = shutdown_signal();
    // Models first: a bad model file or remote config fails before anything starts.
    let agents = args.workers.agents()?;
    let readiness = Readiness::new();
    let metrics_addr = args.ops.serve(readiness.clone()).await?;
    let binary = ServerBinary::locate(args.server.nats_server.as_deref())?;
    let mut options = ServerOptions::new(args.data_dir.join("nats"));
    options.port = Some(args.nats_port);
    options.sync_always = args.server.durable;
    let broker_dir = args.data_dir.join("broker");
    let mut auth = ConnectAuth::default();
    if args.secure {
        let partitions = broker::declared_partitions(&_global.stream_specs(None)?);
        options.extra_config = Some(broker_users(&broker_dir, args.nats_port, partitions)?);
        auth.nkey = Some(broker_dir.join("operator.nk"));
    }
    let server = ManagedBroker::start(binary, options, args.server.cluster)
        .await
        .with_context(|| {
            format!(
                "is port {} free? choose another with --nats-port",
                args.nats_port
            )
        })?;
    let url = server.url();
    let client = switchboard_engine::connect_with(&url, "switchboard-up", &auth).await?;
    readiness.watch_connection("nats", &client);
    let js = async_nats::jetstream::new(client.clone());
    let specs = _global.stream_specs(_global.replicas.or(server.replicas()))?;
    let applied = streams::apply(&js, &specs, false).await?;
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    server.stage_batches_on_tmpfs(&names);
    for line in super::streams::describe(&applied) {
        tracing::info!("{line}");
    }
    let projections: Arc<dyn ProjectionStore> = Arc::new(
        SqliteStore::open(SqliteConfig::new(args.data_dir.join("projections.sqlite"))).await?,
    );
    // The tenant-data watch stops with the process (it holds no work).
    let (knowledge_stop, knowledge_shutdown) = watch::channel(false);
    let agents = agents.with_knowledge(live_knowledge(&client, &knowledge_shutdown, true).await?);
    let ring = super::privacy::key_ring(_global, &client, Some(&args.data_dir)).await?;
    let store =
        super::privacy::sealed_store(client.clone(), StoreOptions::default(), ring.as_ref());
    let retention = args.retention.plan(&client, ring.as_ref()).await?;
    let (gateway, listener) = args
        .gateway
        .start(store.clone(), ring, projections.clone())
        .await?;
    let http = listener.local_addr()?;
    let mut worker = args.workers.options();
    worker.readiness = readiness.part("worker");
    let (_gauges_stop, gauges_shutdown) = watch::channel(false);
    gauges::projection_lag(client.clone(), projections.clone(), gauges_shutdown);
    let system = System::start(
        &store,
        Parts {
            agents,
            worker,
            projections,
            projector: ProjectorOptions {
                readiness: readiness.part("projector"),
                ..ProjectorOptions::default()
            },
            gateway: Some((gateway, listener)),
            retention,
        },
    );
    readiness.part("gateway").set(PartState::Ready);
    let models = args
        .workers
        .remote
        .summary()
        .unwrap_or_else(|| "all local".to_owned());
    println!(
        "Switchboard is up: NATS {url} ({}), 5 agents and the projector running, data in {}, metrics on http://{}/metrics.\n  models   {models}\n  gateway  http://{http}/v1  (API: http://{http}/openapi.json)\n  console  http://{http}/console\n  try      ./dev run publish {DEMO_TENANT}/first-chat --customer persona_001 --text \"Where is my order 10234?\"\n           ./dev run replay {DEMO_TENANT}/first-chat\nCtrl-C to stop.",
        server.describe(),
        args.data_dir.display(),
        metrics_addr
    );
    if args.secure {
        println!(
            "  broker   one user per role in {dir}; other commands: SWITCHBOARD_NATS_NKEY={dir}/operator.nk",
            dir = broker_dir.display()
        );
    }
    shutdown_requested.await;
    println!("shutting down: finishing in-flight work");
    for failure in system.stop().await {
        tracing::warn!(error = %failure, "a part stopped with an error");
    }
    // The tenant-data watch ends before the connection does, so shutting
    // down does not read as a broken watch.
    knowledge_stop.send_replace(true);
    client.drain().await.ok();
    tokio::task::spawn_blocking(move || drop(server))
        .await
        .context("stopping nats-server")?;
    println!("stopped");
    Ok(())
}

/// The `authorization` block of the users per role whose seeds are in
/// `dir`, generated and written there on first use, guarding the durables
/// of a conversation stream of `partitions` partitions.
fn broker_users(dir: &std::path::Path, port: u16, partitions: u32) -> anyhow::Result<String> {
    let keys = match broker::load(dir)? {
        Some(keys) => keys,
        None => {
            let keys = broker::generate()?;
            let listen = format!("127.0.0.1:{port}");
            let layout = broker::Layout {
                listen: &listen,
                store_dir: &dir.join("jetstream"),
                partitions,
            };
            broker::write(dir, &keys, layout)?;
            keys
        }
    };
    Ok(broker::authorization(&keys, partitions))
}

/// The tenant-data bucket as the knowledge agent's source, kept current
/// until `shutdown`. With `seed_demo` (what `up` does), the BrewVi demo
/// tenant is written first if it has no data yet, so a later edit of it is
/// never overwritten.
pub async fn live_knowledge(
    client: &async_nats::Client,
    shutdown: &watch::Receiver<bool>,
    seed_demo: bool,
) -> anyhow::Result<KnowledgeSource> {
    let store = TenantStore::open(client).await?;
    if seed_demo {
        let demo = Tenant::new(DEMO_TENANT)?;
        if tenant::import::seed_if_absent(&store, &demo, &TenantData::demo()?).await? {
            tracing::info!(
                tenant = DEMO_TENANT,
                "demo tenant loaded into the tenant-data bucket"
            );
        }
    }
    let live = TenantKnowledge::start(store, shutdown.clone()).await?;
    tracing::info!(tenants = ?live.tenants(), "tenant knowledge bases in service");
    Ok(KnowledgeSource::Live(live))
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled: a signal that arrives while
/// the caller is still starting up is kept for it (instead of killing the
/// process outright, which would skip the graceful stop).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let int = signal(SignalKind::interrupt()).ok();
        let term = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            if int.is_none() && term.is_none() {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
            tokio::select! {
                _ = wait(int) => {}
                _ = wait(term) => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
