//! The operations endpoint every long-running command serves
//! (`--metrics-addr`: `/metrics`, `/healthz`, `/readyz`), and `switchboard
//! health`, which checks one from a container's HEALTHCHECK.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use switchboard_workers::ops::{self, OpsServer, Readiness};

/// Where a process serves its metrics and health.
#[derive(Debug, Args, Clone)]
pub struct OpsArgs {
    /// Address of `/metrics` (Prometheus), `/healthz` and `/readyz`; port 0
    /// picks a free one (logged). One per process: give replicas on one
    /// host different ports.
    #[arg(
        long,
        env = "SWITCHBOARD_METRICS_ADDR",
        default_value = "127.0.0.1:9464"
    )]
    pub metrics_addr: SocketAddr,
}

impl OpsArgs {
    /// Installs the metrics recorder and serves the endpoint over
    /// `readiness` for the life of the process; returns the bound address.
    pub async fn serve(&self, readiness: Readiness) -> anyhow::Result<SocketAddr> {
        let metrics = ops::install_recorder()?;
        let server = OpsServer::bind(self.metrics_addr, metrics, readiness)
            .await
            .map_err(|e| anyhow::anyhow!("{e}; choose another address with --metrics-addr"))?;
        let addr = server.local_addr()?;
        server.spawn();
        tracing::info!(%addr, "metrics on /metrics, health on /healthz and /readyz");
        Ok(addr)
    }
}

/// `switchboard health`.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The process's operations endpoint (its --metrics-addr).
    #[arg(long, default_value = "http://127.0.0.1:9464")]
    pub url: String,
    /// Check readiness (`/readyz`) rather than liveness (`/healthz`).
    #[arg(long)]
    pub ready: bool,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
}

/// Exits 0 when the endpoint answers 200 in time; otherwise the error (one
/// line) goes to stderr and the exit code is 1.
pub async fn run(args: HealthArgs) -> anyhow::Result<()> {
    let timeout = Duration::try_from_secs_f64(args.timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .ok_or_else(|| anyhow::anyhow!("--timeout must be a positive number of seconds"))?;
    ops::check(&args.url, args.ready, timeout).await?;
    Ok(())
}
