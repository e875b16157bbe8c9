//! The gateway: Switchboard over HTTP for channels, operators and auditors.
//!
//! A thin edge over the library: customer messages, human replies and
//! closes go through [`crate::intake`], timelines come from
//! [`crate::timeline`], lists, queues and analytics from the projections'
//! typed queries, audit exports from [`crate::audit`]. Every route but the
//! health checks, the OpenAPI document and the console's static files needs
//! an API key ([`keys`]) of the path's tenant; every error is a problem
//! detail ([`problem`]). Served by `switchboard up` and `switchboard gateway`.

pub mod auth;
mod body;
mod console;
mod conversations;
pub mod keys;
mod openapi;
mod privacy;
pub mod problem;
mod queries;
mod stream;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Json};
use axum::routing::{get, post};
use switchboard_engine::projection::ProjectionStore;
use switchboard_engine::store::EventStore;
use tokio::sync::watch;

use crate::audit::AuditKey;
use crate::intake::Intake;
pub use auth::{Guard, RateLimit};
pub use openapi::document as openapi_document;
use problem::Problem;

/// Largest request body accepted, in bytes (a message's text is at most 64 KiB).
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// What the gateway's routes share.
#[derive(Debug, Clone)]
pub struct Gateway {
    intake: Intake,
    projections: Arc<dyn ProjectionStore>,
    guard: Guard,
    audit: AuditKey,
    /// The key ring, for the personal-data routes (none: not encrypted).
    ring: Option<crate::privacy::KeyRing>,
}

impl Gateway {
    /// A gateway over the log (`store`), the projections, the key guard and
    /// the deployment's audit key.
    pub fn new(
        store: EventStore,
        projections: Arc<dyn ProjectionStore>,
        guard: Guard,
        audit: AuditKey,
    ) -> Self {
        Self {
            intake: Intake::new(store),
            projections,
            guard,
            audit,
            ring: None,
        }
    }

    /// This gateway with the key ring its store seals with, so operators
    /// can erase and export customers.
    pub fn with_key_ring(mut self, ring: crate::privacy::KeyRing) -> Self {
        self.ring = Some(ring);
        self
    }

    fn store(&self) -> &EventStore {
        self.intake.store()
    }
}

/// Every route.
pub fn router(gateway: Gateway) -> Router {
    let conv = "/v1/tenants/{tenant}/conversations/{id}";
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi::serve))
        .route("/console", get(console::index))
        .route("/console/", get(console::index))
        .route("/console/app.js", get(console::app_js))
        .route("/console/style.css", get(console::style_css))
        .route(
            &format!("{conv}/messages"),
            post(conversations::post_message),
        )
        .route(conv, get(conversations::get_conversation))
        .route(&format!("{conv}/events"), get(conversations::get_events))
        .route(&format!("{conv}/events/stream"), get(stream::events_stream))
        .route(&format!("{conv}/replies"), post(conversations::post_reply))
        .route(&format!("{conv}/close"), post(conversations::post_close))
        .route(
            "/v1/tenants/{tenant}/conversations",
            get(queries::list_conversations),
        )
        .route(
            "/v1/tenants/{tenant}/escalations",
            get(queries::escalation_queue),
        )
        .route(
            "/v1/tenants/{tenant}/analytics/{query}",
            get(queries::analytics),
        )
        .route(
            "/v1/tenants/{tenant}/audit/export",
            get(queries::audit_export),
        )
        .route(
            "/v1/tenants/{tenant}/customers/{customer}/erase",
            post(privacy::erase_customer),
        )
        .route(
            "/v1/tenants/{tenant}/customers/{customer}/export",
            get(privacy::export_customer),
        )
        .route("/v1/audit/verify", post(queries::audit_verify))
        .route("/v1/audit/public-key", get(queries::audit_public_key))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Arc::new(gateway))
}

type Shared = State<Arc<Gateway>>;

async fn not_found() -> Problem {
    Problem::not_found("no such route; see /openapi.json")
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "alive")))]
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: NATS connected and the projection store answering.
#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, description = "ready"),
    (status = 503, description = "not ready", body = Problem, content_type = "application/problem+json")))]
async fn readyz(State(gw): Shared) -> Result<Json<serde_json::Value>, Problem> {
    let nats = gw.store().client().connection_state();
    if nats != async_nats::connection::State::Connected {
        return Err(Problem::unavailable(format!("NATS is {nats:?}")));
    }
    gw.projections
        .checkpoints()
        .await
        .map_err(|e| Problem::unavailable(format!("projection store: {e}")))?;
    Ok(Json(serde_json::json!({ "status": "ready" })))
}

/// Serves `router` on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gateway: Gateway,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let app = router(gateway);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
}

/// Binds `addr`, saying which address failed.
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot serve the gateway on {addr}: {e}"))
    })
}
