//! What a process knows about its own readiness, kept current by the parts
//! that do the work and read cheaply by `/readyz`.
//!
//! A [`Readiness`] holds the NATS connections the process depends on and
//! one [`Part`] per long-running task (a worker's consumer, the projector,
//! the gateway, a store probe). Each part sets its own [`PartState`] as it
//! goes; the handler only reads the connections' states (an atomic) and
//! the parts' states (a short lock): it never does I/O.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_nats::connection::State;
use serde::Serialize;

/// Where one part of a process stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PartState {
    /// Not yet able to work (binding, waiting for the first fetch).
    Starting {
        /// What it is waiting for.
        detail: String,
    },
    /// Working through the backlog it found at start.
    CatchingUp {
        /// Messages still ahead of it.
        pending: u64,
    },
    /// Doing its job.
    Ready,
    /// A replica waiting its turn (the projector without the lease): healthy
    /// and ready to take over.
    Standby,
    /// Something it needs failed; it retries.
    Down {
        /// What failed (never customer text).
        reason: String,
    },
}

impl PartState {
    /// Whether this state counts as ready.
    pub fn is_ready(&self) -> bool {
        matches!(self, PartState::Ready | PartState::Standby)
    }

    /// A part that is starting, waiting for `detail`.
    pub fn starting(detail: impl Into<String>) -> Self {
        PartState::Starting {
            detail: detail.into(),
        }
    }

    /// A part whose dependency failed.
    pub fn down(reason: impl Into<String>) -> Self {
        PartState::Down {
            reason: reason.into(),
        }
    }
}

#[derive(Default)]
struct Inner {
    connections: Mutex<Vec<(String, async_nats::Client)>>,
    parts: Mutex<BTreeMap<String, PartState>>,
}

/// The readiness of one process; clones share it.
#[derive(Clone, Default)]
pub struct Readiness {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("parts", &*lock(&self.inner.parts))
            .finish_non_exhaustive()
    }
}

/// What `/readyz` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Every connection connected and every part ready (and at least one part).
    pub ready: bool,
    /// Why not, one line each (empty when ready).
    pub reasons: Vec<String>,
    /// Each part's state.
    pub parts: BTreeMap<String, PartState>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves a valid map: keep serving.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Readiness {
    /// An empty readiness: not ready until a part is registered and ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts `client`'s connection state (named `name`) in readiness.
    pub fn watch_connection(&self, name: impl Into<String>, client: &async_nats::Client) {
        lock(&self.inner.connections).push((name.into(), client.clone()));
    }

    /// Registers a part named `name`, starting.
    pub fn part(&self, name: impl Into<String>) -> Part {
        let name: Arc<str> = name.into().into();
        lock(&self.inner.parts).insert(name.to_string(), PartState::starting("starting"));
        Part {
            readiness: self.clone(),
            name,
        }
    }

    /// Where the process stands now.
    pub fn report(&self) -> Report {
        let mut reasons = Vec::new();
        for (name, client) in lock(&self.inner.connections).iter() {
            let state = client.connection_state();
            if state != State::Connected {
                reasons.push(format!("NATS connection {name} is {state}"));
            }
        }
        let parts = lock(&self.inner.parts).clone();
        if parts.is_empty() {
            reasons.push("nothing has started yet".to_owned());
        }
        for (name, state) in &parts {
            if !state.is_ready() {
                reasons.push(describe(name, state));
            }
        }
        Report {
            ready: reasons.is_empty(),
            reasons,
            parts,
        }
    }
}

fn describe(name: &str, state: &PartState) -> String {
    match state {
        PartState::Starting { detail } => format!("{name} is starting: {detail}"),
        PartState::CatchingUp { pending } => {
            format!("{name} is catching up: {pending} messages pending")
        }
        PartState::Down { reason } => format!("{name} is down: {reason}"),
        PartState::Ready | PartState::Standby => format!("{name} is ready"),
    }
}

/// One part's handle on its process's readiness.
#[derive(Clone)]
pub struct Part {
    readiness: Readiness,
    name: Arc<str>,
}

impl Default for Part {
    /// A part of a readiness nobody reads (library callers that serve no
    /// `/readyz`, tests).
    fn default() -> Self {
        Readiness::new().part("unobserved")
    }
}

impl std::fmt::Debug for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Part").field(&self.name).finish()
    }
}

impl Part {
    /// Sets this part's state (logged when it changes).
    pub fn set(&self, state: PartState) {
        let mut parts = lock(&self.readiness.inner.parts);
        let previous = parts.insert(self.name.to_string(), state.clone());
        if previous.as_ref() != Some(&state) {
            tracing::debug!(part = %self.name, ?state, "readiness changed");
        }
    }

    /// This part's state now.
    pub fn state(&self) -> PartState {
        lock(&self.readiness.inner.parts)
            .get(&*self.name)
            .cloned()
            .unwrap_or_else(|| PartState::starting("unregistered"))
    }

    /// The part's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A part of this one, named `<name>/<suffix>`, reported beside it (a
    /// worker's consumer per partition).
    pub fn child(&self, suffix: impl std::fmt::Display) -> Part {
        self.readiness.part(format!("{}/{suffix}", self.name))
    }

    /// Stops reporting this part (a partition handed to another replica).
    pub fn forget(&self) {
        lock(&self.readiness.inner.parts).remove(&*self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_part_is_ready_and_something_runs() {
        let readiness = Readiness::new();
        assert!(!readiness.report().ready, "nothing registered is not ready");
        let worker = readiness.part("worker");
        let store = readiness.part("store");
        worker.set(PartState::CatchingUp { pending: 7 });
        store.set(PartState::Ready);
        let report = readiness.report();
        assert!(!report.ready);
        assert_eq!(
            report.reasons,
            ["worker is catching up: 7 messages pending"]
        );
        worker.set(PartState::Ready);
        assert!(readiness.report().ready);
        store.set(PartState::down("no answer"));
        assert_eq!(readiness.report().reasons, ["store is down: no answer"]);
    }

    #[test]
    fn a_standby_replica_counts_as_ready() {
        let readiness = Readiness::new();
        readiness.part("projector").set(PartState::Standby);
        assert!(readiness.report().ready);
    }
}
