//! Every tenant's knowledge base, kept current from the bucket while the
//! worker runs.
//!
//! [`TenantKnowledge::start`] watches the whole bucket (last value of every
//! key, then every change), keeps the raw entries per tenant and, each time
//! the watcher has caught up (no change pending), rebuilds the knowledge
//! base (index included) of every tenant that changed and swaps it in
//! atomically ([`arc_swap`]): a step in flight keeps the knowledge base it
//! started with, the next step sees the new one, and no replica restarts.
//! A tenant whose new data does not build keeps its previous knowledge
//! base (an error is logged); a tenant without data has none, so its
//! retrieval finds nothing rather than another tenant's passages.
//!
//! When the watch breaks (broker restart), a new one starts from the last
//! value of every key and replaces the whole picture once it has caught up.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use async_nats::jetstream::kv;
use bytes::Bytes;
use futures::StreamExt;
use switchboard_engine::ids::Tenant;
use tokio::sync::{oneshot, watch};

use super::error::{TenantError, TenantErrorKind};
use super::store::{Key, TenantStore, data_from_entries};
use crate::knowledge::KnowledgeBase;

/// How long to wait before watching again after the watch broke.
const RETRY: Duration = Duration::from_millis(500);

/// One tenant's knowledge base in service.
#[derive(Debug)]
pub struct Loaded {
    /// The knowledge base.
    pub kb: KnowledgeBase,
    /// The highest bucket revision among the tenant's entries.
    pub revision: u64,
}

type Bases = HashMap<Tenant, Arc<Loaded>>;

/// The knowledge bases of every tenant in the bucket, kept current.
#[derive(Clone)]
pub struct TenantKnowledge {
    bases: Arc<ArcSwap<Bases>>,
    applied: watch::Receiver<u64>,
}

impl std::fmt::Debug for TenantKnowledge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantKnowledge")
            .field("tenants", &self.bases.load().len())
            .finish_non_exhaustive()
    }
}

impl TenantKnowledge {
    /// Loads every tenant from `store` and keeps them current until
    /// `shutdown`. Returns once the bucket's current content is in service.
    pub async fn start(
        store: TenantStore,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Self, TenantError> {
        let bases = Arc::new(ArcSwap::from_pointee(Bases::new()));
        let (applied_tx, applied) = watch::channel(0);
        let (ready_tx, ready) = oneshot::channel();
        let watcher = Watcher {
            store,
            bases: bases.clone(),
            applied: applied_tx,
            ready: Some(ready_tx),
        };
        tokio::spawn(watcher.run(shutdown));
        ready.await.map_err(|_| {
            TenantError::new(
                TenantErrorKind::Store,
                "the tenant-data watcher stopped before loading",
            )
        })??;
        Ok(Self { bases, applied })
    }

    /// The knowledge base in service for `tenant`, if it has data.
    pub fn get(&self, tenant: &Tenant) -> Option<Arc<Loaded>> {
        self.bases.load().get(tenant).cloned()
    }

    /// The tenants that have a knowledge base in service.
    pub fn tenants(&self) -> Vec<Tenant> {
        let mut out: Vec<Tenant> = self.bases.load().keys().cloned().collect();
        out.sort();
        out
    }

    /// The highest bucket revision whose change is in service.
    pub fn applied_revision(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Waits until the change with bucket revision `revision` is in
    /// service, at most `deadline`; whether it is.
    pub async fn wait_for(&self, revision: u64, deadline: Duration) -> bool {
        let mut applied = self.applied.clone();
        tokio::time::timeout(deadline, applied.wait_for(|r| *r >= revision))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

struct Watcher {
    store: TenantStore,
    bases: Arc<ArcSwap<Bases>>,
    applied: watch::Sender<u64>,
    ready: Option<oneshot::Sender<Result<(), TenantError>>>,
}

/// The raw entries of one watch session.
#[derive(Default)]
struct Session {
    entries: HashMap<Tenant, BTreeMap<String, (Bytes, u64)>>,
    dirty: HashSet<Tenant>,
    synced: bool,
    revision: u64,
}

impl Watcher {
    async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.session(&mut shutdown).await {
                Ok(()) => return,
                Err(e) => {
                    if let Some(ready) = self.ready.take() {
                        let _ = ready.send(Err(e));
                        return;
                    }
                    // A watch that ends because the process is stopping
                    // (its connection closes behind it) is no news.
                    if *shutdown.borrow() || shutdown.has_changed().is_err() {
                        return;
                    }
                    tracing::warn!(error = %e, "tenant-data watch broke; watching again");
                }
            }
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tokio::time::sleep(RETRY) => {}
            }
        }
    }

    /// One watch, until shutdown (`Ok`) or until it breaks.
    async fn session(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<(), TenantError> {
        let mut watch = self
            .store
            .kv()
            .watch_with_history(">")
            .await
            .map_err(|e| TenantError::store("watching the tenant-data bucket", e))?;
        let mut session = Session::default();
        if self.store.is_pristine().await? {
            self.caught_up(&mut session).await;
        }
        loop {
            let entry = tokio::select! {
                _ = shutdown.changed() => return Ok(()),
                entry = watch.next() => entry,
            };
            let entry = entry
                .ok_or_else(|| TenantError::new(TenantErrorKind::Store, "the watch ended"))?
                .map_err(|e| TenantError::store("watching the tenant-data bucket", e))?;
            let pending = entry.delta;
            session.apply(entry);
            if pending == 0 {
                self.caught_up(&mut session).await;
            }
        }
    }

    /// Rebuilds what changed and publishes it.
    async fn caught_up(&mut self, session: &mut Session) {
        if !session.synced {
            // A new session replaces the whole picture: tenants in service
            // but no longer in the bucket go, every other one is rebuilt.
            session.synced = true;
            session.dirty.extend(self.bases.load().keys().cloned());
            session.dirty.extend(session.entries.keys().cloned());
        }
        let mut bases: Bases = (**self.bases.load()).clone();
        for tenant in session.dirty.drain() {
            match session.entries.get(&tenant).filter(|e| !e.is_empty()) {
                None => {
                    bases.remove(&tenant);
                    tracing::info!(tenant = %tenant, "tenant has no data any more");
                }
                Some(entries) => match build(entries).await {
                    Ok(loaded) => {
                        tracing::info!(
                            tenant = %tenant,
                            revision = loaded.revision,
                            passages = loaded.kb.passage_count(),
                            "tenant knowledge base in service"
                        );
                        bases.insert(tenant, Arc::new(loaded));
                    }
                    Err(e) => tracing::error!(
                        tenant = %tenant,
                        error = %e,
                        "tenant data does not build; the previous knowledge base stays in service"
                    ),
                },
            }
        }
        self.bases.store(Arc::new(bases));
        self.applied.send_replace(session.revision);
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(Ok(()));
        }
    }
}

impl Session {
    fn apply(&mut self, entry: kv::Entry) {
        self.revision = self.revision.max(entry.revision);
        let Some(key) = Key::parse(&entry.key) else {
            tracing::debug!(key = %entry.key, "ignoring a key of another shape");
            return;
        };
        let tenant = key.tenant().clone();
        let entries = self.entries.entry(tenant.clone()).or_default();
        match entry.operation {
            kv::Operation::Put => {
                entries.insert(entry.key, (entry.value, entry.revision));
            }
            kv::Operation::Delete | kv::Operation::Purge => {
                entries.remove(&entry.key);
            }
        }
        self.dirty.insert(tenant);
    }
}

/// Builds one tenant's knowledge base off the async threads.
async fn build(entries: &BTreeMap<String, (Bytes, u64)>) -> Result<Loaded, TenantError> {
    let revision = entries.values().map(|(_, r)| *r).max().unwrap_or(0);
    let values: BTreeMap<String, Bytes> = entries
        .iter()
        .map(|(k, (v, _))| (k.clone(), v.clone()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let kb = data_from_entries(&values)?.knowledge_base()?;
        Ok(Loaded { kb, revision })
    })
    .await
    .map_err(|e| TenantError::new(TenantErrorKind::Store, format!("rebuild task failed: {e}")))?
}
