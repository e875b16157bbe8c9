//! `switchboard gateway`: the HTTP gateway alone (distributed mode), over
//! the log at `NATS_URL` and the projection store `query` reads, until
//! Ctrl-C or SIGTERM. `switchboard up` serves the same gateway itself.

use std::net::SocketAddr;
use std::num::NonZeroU32;

use anyhow::Context;
use clap::Args;
use switchboard_engine::store::{EventStore, StoreOptions};
use switchboard_workers::audit::AuditKey;
use switchboard_workers::gateway::{self, Gateway, Guard, RateLimit, keys::KeyStore};
use switchboard_workers::ops::{PartState, Readiness, gauges};
use tokio::sync::watch;

use super::Global;
use super::projections::{Missing, StoreArgs, open_store};

/// How the gateway listens and limits.
#[derive(Debug, Args, Clone)]
pub struct GatewayArgs {
    /// Address the gateway (and the console) listens on.
    #[arg(
        long,
        env = "SWITCHBOARD_GATEWAY_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub gateway_addr: SocketAddr,
    /// Requests per second allowed per API key (sustained).
    #[arg(long, env = "SWITCHBOARD_RATE_PER_SECOND", default_value_t = NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN))]
    pub rate_per_second: NonZeroU32,
    /// Requests allowed per API key at once (burst).
    #[arg(long, env = "SWITCHBOARD_RATE_BURST", default_value_t = NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN))]
    pub rate_burst: NonZeroU32,
}

impl GatewayArgs {
    fn rate(&self) -> RateLimit {
        RateLimit {
            per_second: self.rate_per_second,
            burst: self.rate_burst,
        }
    }

    /// Builds the gateway over `client` and `projections`, and binds its address.
    pub async fn start(
        &self,
        store: EventStore,
        ring: Option<switchboard_workers::privacy::KeyRing>,
        projections: std::sync::Arc<dyn switchboard_engine::projection::ProjectionStore>,
    ) -> anyhow::Result<(Gateway, tokio::net::TcpListener)> {
        let client = store.client();
        let keys = KeyStore::open(client).await?;
        let audit = AuditKey::load_or_create(client).await?;
        let mut gateway = Gateway::new(store, projections, Guard::new(keys, self.rate()), audit);
        if let Some(ring) = ring {
            gateway = gateway.with_key_ring(ring);
        }
        let listener = gateway::bind(self.gateway_addr)
            .await
            .context("choose another address with --gateway-addr")?;
        Ok((gateway, listener))
    }
}

#[derive(Debug, Args)]
pub struct GatewayCommandArgs {
    #[command(flatten)]
    pub gateway: GatewayArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub ops: super::ops::OpsArgs,
}

pub async fn run(global: &Global, args: GatewayCommandArgs) -> anyhow::Result<()> {
    let readiness = Readiness::new();
    args.ops.serve(readiness.clone()).await?;
    let projections = open_store(&args.store, Missing::Create).await?;
    let client = super::connect(global, "switchboard-gateway").await?;
    readiness.watch_connection("nats", &client);
    let ring = super::privacy::key_ring(global, &client, None).await?;
    let store =
        super::privacy::sealed_store(client.clone(), StoreOptions::default(), ring.as_ref());
    let (gateway, listener) = args.gateway.start(store, ring, projections.clone()).await?;
    let addr = listener.local_addr()?;
    let (stop, shutdown) = watch::channel(false);
    gauges::probe(
        readiness.part("projection store"),
        projections,
        shutdown.clone(),
    );
    readiness.part("gateway").set(PartState::Ready);
    let mut server = tokio::spawn(gateway::serve(listener, gateway, shutdown));
    println!(
        "Switchboard gateway on http://{addr} (console http://{addr}/console). Ctrl-C to stop."
    );
    tokio::select! {
        result = &mut server => return Ok(result??),
        _ = super::up::shutdown_signal() => {}
    }
    stop.send_replace(true);
    server.await??;
    client.drain().await.ok();
    Ok(())
}
