//! The whole system in one process: agents, projector and gateway under
//! one shutdown signal.
//!
//! What `switchboard up` runs (and a test can run in-process): start it,
//! let it work, then [`System::stop`] stops pulling new work, lets every
//! part finish what it has in flight, and reports each part that ended
//! with an error. The parts are the library's own; this only composes them.
//! Retention, when configured, runs on its schedule beside the projector
//! whose projections tell it which conversations are closed.

use std::sync::Arc;

use switchboard_engine::projection::ProjectionStore;
use switchboard_engine::store::EventStore;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::agents::Agents;
use crate::gateway::{self, Gateway};
use crate::privacy::{KeyRing, RetentionLedger, RetentionRunner, RetentionSchedule, run_schedule};
use crate::projector::{ProjectorOptions, run_projector};
use crate::runtime::WorkerOptions;

/// What to run.
pub struct Parts {
    /// The five agents (behind one consumer, as `worker all`).
    pub agents: Agents,
    /// Their worker options.
    pub worker: WorkerOptions,
    /// Where the projector folds the log.
    pub projections: Arc<dyn ProjectionStore>,
    /// The projector's options.
    pub projector: ProjectorOptions,
    /// The gateway and the socket it serves, if any.
    pub gateway: Option<(Gateway, tokio::net::TcpListener)>,
    /// Retention on a schedule, over the projections above, if configured.
    pub retention: Option<Retention>,
}

/// What scheduled retention needs besides the store and the projections.
pub struct Retention {
    /// The keys to shred.
    pub ring: KeyRing,
    /// Where each pass is recorded.
    pub ledger: RetentionLedger,
    /// The periods per tenant, and how often to apply them.
    pub schedule: RetentionSchedule,
}

/// The running system.
pub struct System {
    stop: watch::Sender<bool>,
    agents: JoinHandle<Result<(), crate::runtime::RunError>>,
    projector: JoinHandle<Result<(), crate::projector::ProjectorError>>,
    gateway: Option<JoinHandle<std::io::Result<()>>>,
    retention: Option<JoinHandle<()>>,
}

impl System {
    /// Starts every part on `store`'s connection.
    pub fn start(store: &EventStore, parts: Parts) -> Self {
        let (stop, shutdown) = watch::channel(false);
        let agents = parts.agents.spawn_team(store, &parts.worker, &shutdown);
        let mut projector_options = parts.projector;
        if projector_options.cipher.is_none() {
            projector_options.cipher = store.cipher().cloned();
        }
        let retention = parts.retention.map(|r| {
            let runner = RetentionRunner {
                store: store.clone(),
                ring: r.ring,
                projections: parts.projections.clone(),
                ledger: r.ledger,
            };
            tokio::spawn(run_schedule(runner, r.schedule, shutdown.clone()))
        });
        let projector = tokio::spawn(run_projector(
            store.client().clone(),
            parts.projections,
            projector_options,
            shutdown.clone(),
        ));
        let gateway = parts
            .gateway
            .map(|(gw, listener)| tokio::spawn(gateway::serve(listener, gw, shutdown.clone())));
        Self {
            stop,
            agents,
            projector,
            gateway,
            retention,
        }
    }

    /// Stops every part gracefully; returns what each one that failed said.
    pub async fn stop(self) -> Vec<String> {
        self.stop.send_replace(true);
        let mut failures = Vec::new();
        let mut note =
            |part: &str, result: Result<Result<(), String>, tokio::task::JoinError>| match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failures.push(format!("{part}: {e}")),
                Err(e) => failures.push(format!("{part}: {e}")),
            };
        note(
            "agents",
            self.agents.await.map(|r| r.map_err(|e| e.to_string())),
        );
        if let Some(gateway) = self.gateway {
            note(
                "gateway",
                gateway.await.map(|r| r.map_err(|e| e.to_string())),
            );
        }
        note(
            "projector",
            self.projector.await.map(|r| r.map_err(|e| e.to_string())),
        );
        if let Some(retention) = self.retention {
            note("retention", retention.await.map(Ok));
        }
        failures
    }
}
