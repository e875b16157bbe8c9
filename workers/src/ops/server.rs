//! The operations endpoint of a process: `/metrics` (the Prometheus text of
//! the process's recorder), `/healthz` (the process answers) and `/readyz`
//! (its [`Readiness`]), on an address of its own so that the gateway's API
//! and the scraping never share a port or a rate limit.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::Readiness;

/// Why the operations endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The address is taken or not ours to bind.
    #[error("cannot serve metrics and health on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The metrics recorder could not be installed (one per process).
    #[error("cannot install the metrics recorder: {0}")]
    Recorder(String),
}

/// Upper bounds of the latency histograms (`*_seconds`), from 1 ms to 2 min.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0, 120.0,
];

/// How often histograms are drained into their rendered form.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs the process's Prometheus recorder (latency histograms as real
/// histograms) and keeps it drained. Call once, inside the tokio runtime.
pub fn install_recorder() -> Result<PrometheusHandle, OpsError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
        .map_err(|e| OpsError::Recorder(e.to_string()))?
        .install_recorder()
        .map_err(|e| OpsError::Recorder(e.to_string()))?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

#[derive(Clone)]
struct Ops {
    metrics: PrometheusHandle,
    readiness: Readiness,
}

/// The operations routes over a recorder and a readiness.
pub fn router(metrics: PrometheusHandle, readiness: Readiness) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(Ops { metrics, readiness })
}

async fn render(State(ops): State<Ops>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        ops.metrics.render(),
    )
        .into_response()
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(ops): State<Ops>) -> Response {
    let report = ops.readiness.report();
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

/// A bound operations endpoint, served until its shutdown signal.
pub struct OpsServer {
    listener: tokio::net::TcpListener,
    router: Router,
}

impl OpsServer {
    /// Binds `addr` (a clear error if it is taken).
    pub async fn bind(
        addr: SocketAddr,
        metrics: PrometheusHandle,
        readiness: Readiness,
    ) -> Result<Self, OpsError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| OpsError::Bind { addr, source })?;
        Ok(Self {
            listener,
            router: router(metrics, readiness),
        })
    }

    /// The address bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves in a task for the life of the process (it answers until the
    /// very end, so a stopping process reports why it is not ready).
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let served = axum::serve(self.listener, self.router).await;
            if let Err(e) = served {
                tracing::error!(error = %e, "the metrics and health endpoint stopped");
            }
        })
    }
}
