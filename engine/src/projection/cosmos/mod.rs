//! The Azure Cosmos DB projection store (NoSQL API, `azure_data_cosmos`).
//!
//! Containers: `conversations` partitioned by `/tenant` + `/conversationId`
//! (hierarchical), `escalations`, `analytics`, `customers` and `checkpoints`
//! by `/tenant` (DESIGN §5). Every write reads the stored item first and
//! replaces it only if the new `lastSeq` is greater, with the etag read as an
//! if-match precondition, so a concurrent writer makes the write fail (412 →
//! [`StoreErrorKind::Conflict`]) instead of being overwritten. Throttling
//! (429) is retried with the server's `x-ms-retry-after-ms` as the minimum
//! delay. The pure parts (container names, queries, partition keys,
//! preconditions, retry-after) live in [`request`].
//!
//! # Generations
//! The four data containers exist once per *generation*: generation 0 uses
//! the plain names (so deployments from before rebuild existed are
//! generation 0 as they stand), generation N uses `<name>-g<N>`. The
//! `checkpoints` container is shared: it holds each generation's checkpoint
//! items (same naming) and the *generation document* (`id: "generation"`,
//! partition `_system`) that says which generation is active; a deployment
//! without one is on generation 0. A rebuild ([`ProjectionStore::fresh_copy`]
//! then [`ProjectionStore::swap_in`]) claims generation N+1 in that document,
//! fills fresh containers and switches the document over with an etag
//! guard; see the `generation` module for the steps and what an interrupted
//! rebuild leaves behind.
//!
//! A store reads the generation document when it connects. After that, the
//! projector's [`ProjectionStore::refresh`] (called by the [`Folder`] before
//! every batch) reads it again, so a running projector moves to a swapped-in
//! generation between two batches and drops its document cache; queries
//! read it again once their view is older than
//! [`CosmosConfig::generation_ttl`]. A swap waits twice that long before
//! deleting the old generation's containers, so readers have moved first.
//!
//! Library code reads no environment: the binary fills a [`CosmosConfig`].
//!
//! [`Folder`]: crate::projection::Folder

mod generation;
pub mod request;
mod write;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use azure_data_cosmos::options::Region;
use azure_data_cosmos::{
    AccountEndpoint, AccountReference, ContainerClient, CosmosClient, CosmosError, FeedScope,
    PartitionKey, RoutingStrategy,
};
use futures::TryStreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use self::request::*;
use super::retry::Backoff;
use super::{
    AnalyticsDoc, Checkpoints, ConversationDoc, DocKeys, Documents, EscalationDoc, PROJECTIONS,
    ProjectionStore, Scope, StoreError, StoreErrorKind,
};
use crate::ids::{ConversationKey, Tenant};
use generation::{Pending, View};
use write::{Put, put_once};

const BACKEND: &str = "cosmos";

/// How to authenticate to Cosmos DB.
#[derive(Clone)]
pub enum CosmosAuth {
    /// Managed identity (in Azure); a user-assigned identity's client id
    /// when given (`AZURE_CLIENT_ID` at the binary's edge).
    ManagedIdentity {
        /// Client id of a user-assigned identity.
        client_id: Option<String>,
    },
    /// The developer's own login (Azure CLI, then azd).
    DeveloperTools,
    /// An account key.
    Key(String),
}

impl fmt::Debug for CosmosAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CosmosAuth::ManagedIdentity { client_id } => f
                .debug_struct("ManagedIdentity")
                .field("client_id", client_id)
                .finish(),
            CosmosAuth::DeveloperTools => f.write_str("DeveloperTools"),
            CosmosAuth::Key(_) => f.write_str("Key(****)"),
        }
    }
}

/// Settings of a [`CosmosStore`].
#[derive(Debug, Clone)]
pub struct CosmosConfig {
    /// Account endpoint, e.g. `https://<account>.documents.azure.com:443/`.
    pub endpoint: String,
    /// Database name. The binary's default is `switchboard`.
    pub database: String,
    /// Authentication.
    pub auth: CosmosAuth,
    /// Azure region nearest to the process, for routing. Default `eastus`.
    pub region: String,
    /// Create the database and containers if missing (key auth only: the
    /// data-plane RBAC of managed identities cannot create them). Default false.
    pub create_if_missing: bool,
    /// Backoff for throttling and transient failures. Default: 20 ms
    /// doubling to 5 s, 8 attempts; a longer server retry-after wins.
    pub backoff: Backoff,
    /// Documents written concurrently within a batch. Default 16.
    pub write_concurrency: usize,
    /// How long queries trust the active generation they last read before
    /// reading the generation document again. A swap waits twice this long
    /// before deleting the old generation's containers. Default 5 s.
    pub generation_ttl: Duration,
}

impl CosmosConfig {
    /// Defaults for an endpoint and authentication.
    pub fn new(endpoint: impl Into<String>, auth: CosmosAuth) -> Self {
        Self {
            endpoint: endpoint.into(),
            database: "switchboard".into(),
            auth,
            region: "eastus".into(),
            create_if_missing: false,
            backoff: Backoff {
                max_attempts: Some(8),
                ..Backoff::default()
            },
            write_concurrency: 16,
            generation_ttl: Duration::from_secs(5),
        }
    }
}

/// The Cosmos DB projection store: the active generation's containers, or
/// (from [`ProjectionStore::fresh_copy`]) a generation being rebuilt.
pub struct CosmosStore {
    config: CosmosConfig,
    /// One client per endpoint: a fresh copy shares its store's (NOTES-apis.md).
    client: CosmosClient,
    checkpoints: ContainerClient,
    role: Role,
    /// The containers in use. Replaced whole when the generation changes;
    /// the lock is never held across an `.await`.
    view: RwLock<Arc<View>>,
    /// When the generation document was last read.
    checked: Mutex<Instant>,
    /// The generation this store's `fresh_copy` claimed, until `swap_in`.
    pending: Mutex<Option<Pending>>,
}

/// Whether a store follows the generation document or writes one fixed
/// generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Follows the active generation (readers, the projector).
    Active,
    /// A copy being rebuilt: always its own generation, never refreshed.
    Copy,
}

impl fmt::Debug for CosmosStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosmosStore")
            .field("config", &self.config)
            .field("role", &self.role)
            .field("generation", &self.view().generation)
            .finish_non_exhaustive()
    }
}

/// Locks whose data is replaced whole are usable after a panic elsewhere:
/// nothing can be left half-written.
fn unpoison<G>(result: Result<G, PoisonError<G>>) -> G {
    result.unwrap_or_else(PoisonError::into_inner)
}

/// Maps an SDK error: throttling and unavailability are transient, with the
/// server's retry-after; 409/412 are conflicts.
fn cosmos_error(e: CosmosError) -> StoreError {
    let status: u16 = *e.status().status_code();
    let retry_after = e.response().and_then(|r| r.headers().retry_after_ms);
    let error = StoreError::new(
        classify_status(status),
        BACKEND,
        format!("HTTP {status}: {e}"),
    );
    match retry_after {
        Some(ms) => error.with_retry_after(std::time::Duration::from_millis(ms)),
        None => error,
    }
}

fn config_error(message: impl Into<String>) -> StoreError {
    StoreError::new(StoreErrorKind::Rejected, BACKEND, message)
}

async fn client(config: &CosmosConfig) -> Result<CosmosClient, StoreError> {
    let endpoint: AccountEndpoint = config
        .endpoint
        .parse()
        .map_err(|e| config_error(format!("bad endpoint {}: {e}", config.endpoint)))?;
    let account = match &config.auth {
        CosmosAuth::Key(key) => AccountReference::with_authentication_key(endpoint, key.clone()),
        CosmosAuth::ManagedIdentity { client_id } => {
            let options = azure_identity::ManagedIdentityCredentialOptions {
                user_assigned_id: client_id
                    .clone()
                    .map(azure_identity::UserAssignedId::ClientId),
                ..Default::default()
            };
            let credential = azure_identity::ManagedIdentityCredential::new(Some(options))
                .map_err(|e| config_error(format!("managed identity: {e}")))?;
            AccountReference::with_credential(endpoint, credential)
        }
        CosmosAuth::DeveloperTools => {
            let credential = azure_identity::DeveloperToolsCredential::new(None)
                .map_err(|e| config_error(format!("developer credential: {e}")))?;
            AccountReference::with_credential(endpoint, credential)
        }
    };
    // Own runtime per client: clients to one endpoint otherwise share cached
    // auth state (NOTES-apis.md).
    let runtime = azure_data_cosmos::CosmosRuntime::builder()
        .build()
        .await
        .map_err(cosmos_error)?;
    CosmosClient::builder()
        .with_runtime(runtime)
        .build(
            account,
            RoutingStrategy::ProximityTo(Region::new(config.region.clone())),
        )
        .await
        .map_err(cosmos_error)
}

/// Runs `op` with `backoff`, logging each retry.
async fn retrying<T, F, Fut>(backoff: &Backoff, op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    backoff
        .retry(op, |error, delay| {
            tracing::debug!(%error, delay_ms = delay.as_millis() as u64, "cosmos throttled; retrying");
        })
        .await
}

impl CosmosStore {
    /// Connects (network calls: account metadata, the generation document
    /// and each container of the active generation), creating the database
    /// and containers first if `create_if_missing`.
    pub async fn connect(config: CosmosConfig) -> Result<Self, StoreError> {
        let client = client(&config).await?;
        if config.create_if_missing {
            write::create_database(&client, &config.database).await?;
        }
        let db = client.database_client(config.database.as_str());
        let checkpoints = db
            .container_client(CHECKPOINTS, None)
            .await
            .map_err(cosmos_error)?;
        let active = generation::read(&checkpoints, &config.backoff)
            .await?
            .doc
            .active;
        if config.create_if_missing {
            for base in DATA_CONTAINERS {
                write::create_container(&db, container_properties(base, active, None)).await?;
            }
        }
        let view = View::open(&db, active).await?;
        Ok(Self::new(config, client, checkpoints, Role::Active, view))
    }

    fn new(
        config: CosmosConfig,
        client: CosmosClient,
        checkpoints: ContainerClient,
        role: Role,
        view: View,
    ) -> Self {
        Self {
            config,
            client,
            checkpoints,
            role,
            view: RwLock::new(Arc::new(view)),
            checked: Mutex::new(Instant::now()),
            pending: Mutex::new(None),
        }
    }

    /// The containers in use now.
    fn view(&self) -> Arc<View> {
        unpoison(self.view.read()).clone()
    }

    /// The containers in use, after reading the generation document again
    /// if the last read is older than `generation_ttl` (queries).
    async fn current(&self) -> Result<Arc<View>, StoreError> {
        let stale = unpoison(self.checked.lock()).elapsed() >= self.config.generation_ttl;
        if self.role == Role::Active && stale {
            self.follow().await?;
        }
        Ok(self.view())
    }

    async fn retrying<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        retrying(&self.config.backoff, op).await
    }

    async fn put<T: Serialize + Sync>(&self, target: &Put<'_, T>) -> Result<(), StoreError> {
        self.retrying(|| put_once(target)).await
    }

    async fn put_all<T: Serialize + Sync>(
        &self,
        targets: Vec<Put<'_, T>>,
    ) -> Result<(), StoreError> {
        for chunk in targets.chunks(self.config.write_concurrency.max(1)) {
            let mut writes = Vec::with_capacity(chunk.len());
            for target in chunk {
                writes.push(self.put(target));
            }
            futures::future::try_join_all(writes).await?;
        }
        Ok(())
    }

    async fn read<T: DeserializeOwned>(
        &self,
        container: &ContainerClient,
        pk: PartitionKey,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        self.retrying(|| async {
            match container.read_item(pk.clone(), id, None).await {
                Ok(response) => response.into_model().map(Some).map_err(cosmos_error),
                Err(e) if e.status().is_not_found() => Ok(None),
                Err(e) => Err(cosmos_error(e)),
            }
        })
        .await
    }

    /// Runs a query; `scope` is the whole container for `conversations`
    /// (hierarchical keys: a tenant spans many partitions), else the tenant.
    async fn query<T: DeserializeOwned + Send + 'static>(
        &self,
        container: &ContainerClient,
        query: azure_data_cosmos::Query,
        scope: FeedScope,
    ) -> Result<Vec<T>, StoreError> {
        self.retrying(|| async {
            let items = container
                .query_items::<T>(query.clone(), scope.clone(), None)
                .await
                .map_err(cosmos_error)?;
            items.try_collect::<Vec<T>>().await.map_err(cosmos_error)
        })
        .await
    }
}

#[async_trait]
impl ProjectionStore for CosmosStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn get(&self, keys: &DocKeys) -> Result<Documents, StoreError> {
        // The projector's path: the generation moves only at `refresh`.
        let view = self.view();
        let mut out = Documents::default();
        for k in &keys.conversations {
            out.conversations.extend(
                self.read::<ConversationDoc>(
                    &view.conversations,
                    conversation_partition(k),
                    k.id.as_str(),
                )
                .await?,
            );
        }
        for k in &keys.escalations {
            out.escalations.extend(
                self.read::<EscalationDoc>(
                    &view.escalations,
                    tenant_partition(k.tenant.as_str()),
                    k.id.as_str(),
                )
                .await?,
            );
        }
        for k in &keys.analytics {
            out.analytics.extend(
                self.read::<AnalyticsDoc>(
                    &view.analytics,
                    tenant_partition(k.tenant.as_str()),
                    &k.id(),
                )
                .await?,
            );
        }
        for k in &keys.customers {
            out.customers.extend(
                self.read(
                    &view.customers,
                    tenant_partition(k.tenant.as_str()),
                    &k.customer_id,
                )
                .await?,
            );
        }
        Ok(out)
    }

    async fn write(&self, batch: &Documents) -> Result<(), StoreError> {
        let view = self.view();
        let esc = &view.escalations;
        self.put_all(
            batch
                .escalations
                .iter()
                .map(|d| tenant_put(esc, &d.tenant, &d.id, d.last_seq, d))
                .collect(),
        )
        .await?;
        let ana = &view.analytics;
        self.put_all(
            batch
                .analytics
                .iter()
                .map(|d| tenant_put(ana, &d.tenant, &d.id, d.last_seq, d))
                .collect(),
        )
        .await?;
        let cus = &view.customers;
        self.put_all(
            batch
                .customers
                .iter()
                .map(|d| tenant_put(cus, &d.tenant, &d.id, d.last_seq, d))
                .collect(),
        )
        .await?;
        self.put_all(
            batch
                .conversations
                .iter()
                .map(|d| Put {
                    container: &view.conversations,
                    pk: conversation_partition(&d.key()),
                    id: d.id.clone(),
                    seq: d.last_seq,
                    doc: d,
                })
                .collect(),
        )
        .await?;
        if let Some(seq) = batch.checkpoint {
            let docs: Vec<_> = PROJECTIONS
                .iter()
                .map(|p| write::checkpoint_doc(p, view.generation, seq))
                .collect();
            self.put_all(
                docs.iter()
                    .map(|d| Put {
                        container: &self.checkpoints,
                        pk: tenant_partition(SYSTEM_PARTITION),
                        id: d.id.clone(),
                        seq,
                        doc: d,
                    })
                    .collect(),
            )
            .await?;
        }
        Ok(())
    }

    async fn conversations(&self, scope: &Scope) -> Result<Vec<ConversationDoc>, StoreError> {
        let query = scoped_query(CONVERSATIONS, scope).map_err(cosmos_error)?;
        let view = self.current().await?;
        self.query(&view.conversations, query, FeedScope::full_container())
            .await
    }

    async fn analytics(&self, scope: &Scope) -> Result<Vec<AnalyticsDoc>, StoreError> {
        let query = scoped_query(ANALYTICS, scope).map_err(cosmos_error)?;
        let view = self.current().await?;
        let partition = FeedScope::partition(tenant_partition(scope.tenant.as_str()));
        self.query(&view.analytics, query, partition).await
    }

    async fn escalations(&self, tenant: &Tenant) -> Result<Vec<EscalationDoc>, StoreError> {
        let query = escalations_query(tenant).map_err(cosmos_error)?;
        let view = self.current().await?;
        let partition = FeedScope::partition(tenant_partition(tenant.as_str()));
        self.query(&view.escalations, query, partition).await
    }

    async fn checkpoints(&self) -> Result<Checkpoints, StoreError> {
        let generation = self.current().await?.generation;
        let mut out = Vec::new();
        for p in PROJECTIONS {
            let doc: Option<write::CheckpointDoc> = self
                .read(
                    &self.checkpoints,
                    tenant_partition(SYSTEM_PARTITION),
                    &checkpoint_id(p, generation),
                )
                .await?;
            out.push((p.to_owned(), doc.map_or(0, |d| d.last_seq)));
        }
        Ok(Checkpoints(out))
    }

    /// Claims generation N+1 in the generation document, drops every other
    /// generation's leftovers, creates N+1's containers and returns a store
    /// writing into them. Needs key authentication: creating and deleting
    /// containers is a control-plane operation.
    async fn fresh_copy(&self) -> Result<Arc<dyn ProjectionStore>, StoreError> {
        Ok(Arc::new(self.begin_rebuild().await?))
    }

    /// Makes the copy's generation active (etag-guarded replace of the
    /// generation document), then, after `2 × generation_ttl`, deletes the
    /// old generation's containers and checkpoints (best effort).
    async fn swap_in(&self, fresh: Arc<dyn ProjectionStore>) -> Result<(), StoreError> {
        self.finish_rebuild(fresh.as_ref()).await
    }

    /// The active generation number (a copy's: the one it fills).
    fn generation(&self) -> u64 {
        self.view().generation
    }

    /// Reads the generation document and moves to the active generation if
    /// it changed (a rebuild elsewhere swapped one in). A copy does nothing.
    async fn refresh(&self) -> Result<(), StoreError> {
        if self.role == Role::Active {
            self.follow().await?;
        }
        Ok(())
    }

    async fn close(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

fn tenant_put<'a, T>(
    container: &'a ContainerClient,
    tenant: &Tenant,
    id: &str,
    seq: u64,
    doc: &'a T,
) -> Put<'a, T> {
    Put {
        container,
        pk: tenant_partition(tenant.as_str()),
        id: id.to_owned(),
        seq,
        doc,
    }
}

/// The key of a conversation document, for tests and tools.
pub fn conversation_item(key: &ConversationKey) -> (PartitionKey, String) {
    (conversation_partition(key), key.id.to_string())
}
