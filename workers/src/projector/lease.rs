//! One active projector per store: a lease in a JetStream KV bucket.
//!
//! Documents are folded with a cache (documents read once, then kept), so
//! two projectors writing one store at once would each fold onto documents
//! the other had moved on, and the newest write would carry the other's
//! stale counters. So projector replicas take turns: the one holding the
//! store's lease projects, the others stand by and take over when it stops
//! renewing. The bucket's max age is the lease's time to live, so a lease
//! whose holder died (SIGKILL) expires on its own; a holder that stops
//! cleanly deletes it, so a standby takes over at once. The holder stops
//! writing as soon as a renewal fails, before anyone else can hold it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use sha2::{Digest, Sha256};
use switchboard_engine::projection::ProjectionStore;
use tokio::sync::watch;

use super::ProjectorError;

/// The KV bucket holding the leases.
pub const BUCKET: &str = "SWITCHBOARD_LEASES";

/// A store's lease, not necessarily held.
pub(super) struct Lease {
    kv: kv::Store,
    key: String,
    holder: String,
    ttl: Duration,
}

/// The lease, held until dropped (renewed meanwhile by a task of its own).
pub(super) struct Held {
    lost: Arc<AtomicBool>,
    renew: tokio::task::JoinHandle<()>,
    kv: kv::Store,
    key: String,
}

impl Lease {
    /// The lease of `store`, creating the bucket if needed. Its time to
    /// live is `ttl` (the bucket's max age: the first projector to create
    /// the bucket sets it).
    pub(super) async fn of(
        js: &jetstream::Context,
        store: &dyn ProjectionStore,
        ttl: Duration,
    ) -> Result<Self, ProjectorError> {
        let config = kv::Config {
            max_age: ttl,
            ..crate::kv::config(
                BUCKET,
                "Switchboard: which process holds each single-writer role",
                1,
            )
        };
        let kv = crate::kv::open_or_create(js, config)
            .await
            .map_err(ProjectorError::nats)?;
        let ttl = kv
            .status()
            .await
            .map(|s| s.max_age())
            .ok()
            .filter(|d| !d.is_zero())
            .unwrap_or(ttl);
        let identity = store
            .location()
            .and_then(|p| std::fs::canonicalize(&p).ok().or(Some(p)))
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| store.backend().to_owned());
        let digest = Sha256::digest(identity.as_bytes());
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            kv,
            key: format!("projector.{hex}"),
            holder: format!("{}-{}", std::process::id(), uuid::Uuid::now_v7()),
            ttl,
        })
    }

    /// Waits until the lease is this process's, or `None` on shutdown.
    /// While another holds it, `part` reports a standby.
    pub(super) async fn acquire(
        &self,
        shutdown: &mut watch::Receiver<bool>,
        part: &crate::ops::Part,
    ) -> Option<Held> {
        let mut waiting_logged = false;
        loop {
            if *shutdown.borrow() {
                return None;
            }
            match self.kv.create(&self.key, self.holder.clone().into()).await {
                Ok(revision) => {
                    tracing::info!(lease = %self.key, "projector lease taken: projecting");
                    return Some(self.held(revision));
                }
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                    part.set(crate::ops::PartState::Standby);
                    if !waiting_logged {
                        tracing::info!(lease = %self.key, "another projector holds this store: standing by");
                        waiting_logged = true;
                    }
                }
                Err(e) => tracing::debug!(error = %e, "lease unavailable"),
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(self.ttl / 4) => {}
            }
        }
    }

    fn held(&self, revision: u64) -> Held {
        let lost = Arc::new(AtomicBool::new(false));
        let renew = tokio::spawn(renew(
            self.kv.clone(),
            self.key.clone(),
            self.holder.clone(),
            revision,
            self.ttl,
            lost.clone(),
        ));
        Held {
            lost,
            renew,
            kv: self.kv.clone(),
            key: self.key.clone(),
        }
    }
}

impl Held {
    /// Whether the lease may have passed to someone else: stop writing.
    pub(super) fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Gives the lease up so a standby takes over at once.
    pub(super) async fn release(self) {
        self.renew.abort();
        if !self.lost() {
            let _ = self.kv.delete(&self.key).await;
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // A task dropped without release (aborted, like a killed process):
        // the lease expires after its time to live.
        self.renew.abort();
    }
}

/// Renews every third of the time to live; marks the lease lost when a
/// renewal is refused or none succeeded for half of it.
async fn renew(
    kv: kv::Store,
    key: String,
    holder: String,
    mut revision: u64,
    ttl: Duration,
    lost: Arc<AtomicBool>,
) {
    let mut renewed = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(ttl / 3).await;
        match kv.update(&key, holder.clone().into(), revision).await {
            Ok(next) => {
                revision = next;
                renewed = tokio::time::Instant::now();
            }
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                tracing::warn!(lease = %key, "projector lease lost: standing by");
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(e) => {
                tracing::debug!(error = %e, "lease renewal failed; retrying");
                if renewed.elapsed() > ttl / 2 {
                    tracing::warn!(lease = %key, "projector lease could not be renewed: standing by");
                    lost.store(true, Ordering::SeqCst);
                    return;
                }
            }
        }
    }
}
