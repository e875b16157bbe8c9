//! `switchboard projector`: the projector alone (distributed mode), folding
//! the conversation log at `NATS_URL` into the projection store that `query`
//! and `projections` read (SQLite at `--db`, or Cosmos DB when
//! `COSMOS_ENDPOINT` is set), until Ctrl-C or SIGTERM.
//!
//! A thin edge over [`run_projector`]: it opens the store, connects, and on
//! a signal asks the projector to stop, which finishes or abandons (to be
//! read again from the store's checkpoint) the batch in flight. Replicas on
//! one store take turns: one projects, the others stand by. With
//! `--retention`, it also shreds closed conversations on that schedule.

use std::sync::Arc;

use clap::Args;
use switchboard_engine::store::StoreOptions;
use switchboard_workers::ops::{Readiness, gauges};
use switchboard_workers::privacy::{RetentionRunner, run_schedule};
use switchboard_workers::projector::{ProjectorOptions, run_projector};
use tokio::sync::watch;

use super::Global;
use super::privacy::{RetentionScheduleArgs, sealed_store};
use super::projections::{Missing, StoreArgs, open_store};

#[derive(Debug, Args)]
pub struct ProjectorArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub ops: super::ops::OpsArgs,
    #[command(flatten)]
    pub retention: RetentionScheduleArgs,
}

pub async fn run(global: &Global, args: ProjectorArgs) -> anyhow::Result<()> {
    let readiness = Readiness::new();
    args.ops.serve(readiness.clone()).await?;
    let store = open_store(&args.store, Missing::Create).await?;
    let client = super::connect(global, "switchboard-projector").await?;
    readiness.watch_connection("nats", &client);
    let ring = super::privacy::key_ring(global, &client, None).await?;
    let retention = args.retention.plan(&client, ring.as_ref()).await?;
    let options = ProjectorOptions {
        readiness: readiness.part("projector"),
        cipher: ring
            .clone()
            .map(|ring| Arc::new(ring) as Arc<dyn switchboard_engine::store::Cipher>),
        ..ProjectorOptions::default()
    };
    let (stop, shutdown) = watch::channel(false);
    gauges::projection_lag(client.clone(), store.clone(), shutdown.clone());
    let retention = retention.map(|r| {
        let runner = RetentionRunner {
            store: sealed_store(client.clone(), StoreOptions::default(), Some(&r.ring)),
            ring: r.ring,
            projections: store.clone(),
            ledger: r.ledger,
        };
        tokio::spawn(run_schedule(runner, r.schedule, shutdown.clone()))
    });
    let mut projector = tokio::spawn(run_projector(client.clone(), store, options, shutdown));
    tokio::select! {
        result = &mut projector => return Ok(result??),
        _ = super::up::shutdown_signal() => {}
    }
    stop.send_replace(true);
    projector.await??;
    if let Some(retention) = retention {
        retention.await?;
    }
    client.drain().await.ok();
    Ok(())
}
