//! Generations of the data containers: reading the generation document,
//! following it, and rebuilding into a fresh generation.
//!
//! A rebuild, step by step (active generation N):
//! 1. `fresh_copy` writes the generation document back with `building: N+1`,
//!    guarded by the etag it read (or creates it when absent, which fails if
//!    another writer created it first). From then on only this rebuild can
//!    swap: a later rebuild's claim changes the etag this one holds.
//! 2. It deletes every data container of a generation other than N (the
//!    half-built N+1 of an interrupted rebuild, or an old generation whose
//!    deletion failed) and those generations' checkpoint items, creates
//!    N+1's containers with the design's partition keys and N's indexing
//!    policy, and returns a store writing N+1.
//! 3. The rebuild replays the log into that store.
//! 4. `swap_in` replaces the document with `active: N+1`, guarded by the etag
//!    of step 1: if another rebuild claimed the document since, the swap is
//!    refused and N stays active. The swapping store moves to N+1 at once,
//!    other processes on their next refresh.
//! 5. After `2 × generation_ttl`, N's containers and checkpoint items are
//!    deleted; a failure is logged and the next rebuild retries (step 2).
//!
//! Interrupted anywhere before step 4, N stays active and untouched, and
//! the next rebuild drops what was built. Generations only grow: a store
//! never moves back to a lower one.

use std::sync::Arc;
use std::time::Instant;

use azure_data_cosmos::models::{ContainerProperties, IndexingPolicy};
use azure_data_cosmos::{ContainerClient, DatabaseClient, FeedScope, Query};
use futures::TryStreamExt;
use serde::Deserialize;

use super::request::{
    ANALYTICS, CONVERSATIONS, CUSTOMERS, DATA_CONTAINERS, ESCALATIONS, GENERATION_ID,
    GenerationDoc, checkpoint_id, container_name, container_properties, if_match, stale_containers,
};
use super::write::{create_container, delete_container, delete_system_item, system_partition};
use super::{
    BACKEND, CosmosAuth, CosmosStore, Role, config_error, cosmos_error, retrying, unpoison,
};
use crate::projection::retry::Backoff;
use crate::projection::{PROJECTIONS, ProjectionStore, StoreError, StoreErrorKind};

/// One generation's data containers.
pub(super) struct View {
    pub generation: u64,
    pub conversations: ContainerClient,
    pub escalations: ContainerClient,
    pub analytics: ContainerClient,
    pub customers: ContainerClient,
}

impl View {
    /// Opens the containers of `generation` (a network call each).
    pub async fn open(db: &DatabaseClient, generation: u64) -> Result<Self, StoreError> {
        let open = |base: &str| db.container_client(container_name(base, generation), None);
        Ok(Self {
            generation,
            conversations: open(CONVERSATIONS).await.map_err(cosmos_error)?,
            escalations: open(ESCALATIONS).await.map_err(cosmos_error)?,
            analytics: open(ANALYTICS).await.map_err(cosmos_error)?,
            customers: open(CUSTOMERS).await.map_err(cosmos_error)?,
        })
    }
}

/// What a store's `fresh_copy` claimed, kept for its `swap_in`.
pub(super) struct Pending {
    /// The generation being built.
    generation: u64,
    /// The generation it replaces.
    replaces: u64,
    /// The etag of the generation document as the claim left it: the
    /// swap's guard.
    etag: String,
}

/// The generation document as stored.
pub(super) struct Stored {
    pub doc: GenerationDoc,
    /// `None`: there is no document yet (generation 0, never rebuilt).
    pub etag: Option<String>,
}

fn no_etag() -> StoreError {
    StoreError::new(
        StoreErrorKind::Corrupt,
        BACKEND,
        "the generation document has no etag",
    )
}

/// Reads the generation document (absent: generation 0).
pub(super) async fn read(
    checkpoints: &ContainerClient,
    backoff: &Backoff,
) -> Result<Stored, StoreError> {
    retrying(backoff, || async {
        match checkpoints
            .read_item(system_partition(), GENERATION_ID, None)
            .await
        {
            Ok(response) => {
                let etag = response.headers().etag().map(|e| e.to_string());
                let doc: GenerationDoc = response.into_model().map_err(cosmos_error)?;
                Ok(Stored {
                    doc,
                    etag: Some(etag.ok_or_else(no_etag)?),
                })
            }
            Err(e) if e.status().is_not_found() => Ok(Stored {
                doc: GenerationDoc::initial(),
                etag: None,
            }),
            Err(e) => Err(cosmos_error(e)),
        }
    })
    .await
}

/// Writes the generation document: a replace guarded by `etag` (if-match),
/// or a create when there was no document. The new etag, or `None` when the
/// guard failed (412, or 409 on create): another writer got there first.
async fn write_guarded(
    checkpoints: &ContainerClient,
    backoff: &Backoff,
    doc: &GenerationDoc,
    etag: Option<&str>,
) -> Result<Option<String>, StoreError> {
    retrying(backoff, || async {
        let written = match etag {
            Some(etag) => {
                checkpoints
                    .replace_item(system_partition(), GENERATION_ID, doc, Some(if_match(etag)))
                    .await
            }
            None => {
                checkpoints
                    .create_item(system_partition(), GENERATION_ID, doc, None)
                    .await
            }
        };
        match written {
            Ok(response) => {
                let etag = response.headers().etag().map(|e| e.to_string());
                etag.map(Some).ok_or_else(no_etag)
            }
            Err(e) if e.status().is_precondition_failed() || e.status().is_conflict() => Ok(None),
            Err(e) => Err(cosmos_error(e)),
        }
    })
    .await
}

/// Only the id of an item or container.
#[derive(Deserialize)]
struct Id {
    id: String,
}

impl CosmosStore {
    fn database(&self) -> DatabaseClient {
        self.client.database_client(self.config.database.as_str())
    }

    /// Reads the generation document and moves to the active generation if
    /// a higher one was swapped in.
    pub(super) async fn follow(&self) -> Result<(), StoreError> {
        let active = read(&self.checkpoints, &self.config.backoff)
            .await?
            .doc
            .active;
        let current = self.view().generation;
        if active > current {
            let view = View::open(&self.database(), active).await?;
            let mut slot = unpoison(self.view.write());
            // A concurrent follow may have moved already; never move back.
            if slot.generation < active {
                *slot = Arc::new(view);
                tracing::info!(
                    from = current,
                    to = active,
                    "cosmos: moved to the swapped-in generation"
                );
            }
        }
        *unpoison(self.checked.lock()) = Instant::now();
        Ok(())
    }

    /// Steps 1 and 2 of a rebuild: claim N+1, drop leftovers, create N+1.
    pub(super) async fn begin_rebuild(&self) -> Result<CosmosStore, StoreError> {
        can_rebuild(self.role, &self.config.auth)?;
        let backoff = &self.config.backoff;
        let stored = read(&self.checkpoints, backoff).await?;
        let active = stored.doc.active;
        let building = active + 1;
        let claim = stored.doc.claim();
        let Some(etag) =
            write_guarded(&self.checkpoints, backoff, &claim, stored.etag.as_deref()).await?
        else {
            return Err(StoreError::new(
                StoreErrorKind::Conflict,
                BACKEND,
                "another rebuild claimed the generation document at the same moment; \
                 run one rebuild at a time",
            ));
        };
        let db = self.database();
        self.drop_stale(&db, active, building).await?;
        for base in DATA_CONTAINERS {
            let indexing = indexing_of(&db, &container_name(base, active)).await?;
            let properties = container_properties(base, building, indexing);
            let name = properties.id.to_string();
            if !create_container(&db, properties).await? {
                return Err(StoreError::new(
                    StoreErrorKind::Conflict,
                    BACKEND,
                    format!(
                        "{name} exists again right after it was dropped: is another rebuild running?"
                    ),
                ));
            }
        }
        let view = View::open(&db, building).await?;
        *unpoison(self.pending.lock()) = Some(Pending {
            generation: building,
            replaces: active,
            etag,
        });
        tracing::info!(
            active,
            building,
            "cosmos: rebuilding into a fresh generation"
        );
        Ok(CosmosStore::new(
            self.config.clone(),
            self.client.clone(),
            self.checkpoints.clone(),
            Role::Copy,
            view,
        ))
    }

    /// Deletes every data container and checkpoint item of a generation
    /// other than `active`. `building` must end up empty, so failing to drop
    /// its leftovers fails the rebuild; other failures are logged and left
    /// to the next rebuild.
    async fn drop_stale(
        &self,
        db: &DatabaseClient,
        active: u64,
        building: u64,
    ) -> Result<(), StoreError> {
        let containers: Vec<ContainerProperties> = retrying(&self.config.backoff, || async {
            db.query_containers("SELECT * FROM root", None)
                .await
                .map_err(cosmos_error)?
                .try_collect()
                .await
                .map_err(cosmos_error)
        })
        .await?;
        let names = containers.iter().map(|c| c.id.as_ref());
        for (name, generation) in stale_containers(names, active) {
            match delete_container(db, &name).await {
                Ok(()) => {
                    tracing::info!(container = %name, generation, "cosmos: dropped a stale container")
                }
                Err(e) if generation == building => return Err(e),
                Err(error) => {
                    tracing::warn!(container = %name, generation, %error, "cosmos: could not drop a stale container; the next rebuild tries again")
                }
            }
        }
        let query = Query::from("SELECT c.id FROM c");
        let scope = FeedScope::partition(system_partition());
        let items: Vec<Id> = retrying(&self.config.backoff, || async {
            self.checkpoints
                .query_items::<Id>(query.clone(), scope.clone(), None)
                .await
                .map_err(cosmos_error)?
                .try_collect()
                .await
                .map_err(cosmos_error)
        })
        .await?;
        // Checkpoint items are named like the containers (`analytics-g2`).
        let ids = items.iter().map(|item| item.id.as_str());
        for (id, generation) in stale_containers(ids, active) {
            match delete_system_item(&self.checkpoints, &id).await {
                Ok(()) => {}
                Err(e) if generation == building => return Err(e),
                Err(error) => {
                    tracing::warn!(item = %id, generation, %error, "cosmos: could not drop a stale checkpoint")
                }
            }
        }
        Ok(())
    }

    /// Steps 4 and 5 of a rebuild: the guarded swap, then the old
    /// generation's deletion.
    pub(super) async fn finish_rebuild(
        &self,
        fresh: &dyn ProjectionStore,
    ) -> Result<(), StoreError> {
        let pending = {
            let mut slot = unpoison(self.pending.lock());
            match slot.take() {
                Some(p) if fresh.backend() == BACKEND && fresh.generation() == p.generation => p,
                other => {
                    *slot = other;
                    return Err(config_error(
                        "only the copy made by this store's fresh_copy can be swapped in",
                    ));
                }
            }
        };
        let swapped = GenerationDoc {
            active: pending.generation,
            ..GenerationDoc::initial()
        };
        let backoff = &self.config.backoff;
        let written =
            write_guarded(&self.checkpoints, backoff, &swapped, Some(&pending.etag)).await?;
        if written.is_none() {
            // A retry after a lost answer also fails the guard: look.
            let now = read(&self.checkpoints, backoff).await?.doc;
            if !now.has_swapped_in(pending.generation) {
                return Err(config_error(format!(
                    "generation {} was not swapped in: another rebuild claimed the generation \
                     document since this one started (active {}, building {:?}); generation {} \
                     stays active",
                    pending.generation, now.active, now.building, now.active
                )));
            }
        }
        let db = self.database();
        let view = View::open(&db, pending.generation).await?;
        *unpoison(self.view.write()) = Arc::new(view);
        *unpoison(self.checked.lock()) = Instant::now();
        let grace = self.config.generation_ttl.saturating_mul(2);
        tracing::info!(
            from = pending.replaces,
            to = pending.generation,
            grace_ms = grace.as_millis() as u64,
            "cosmos: swapped in; dropping the old generation once readers have moved"
        );
        tokio::time::sleep(grace).await;
        self.drop_generation(&db, pending.replaces).await;
        Ok(())
    }

    /// Deletes a generation's containers and checkpoint items, logging
    /// failures (the next rebuild drops what is left).
    async fn drop_generation(&self, db: &DatabaseClient, generation: u64) {
        for base in DATA_CONTAINERS {
            let name = container_name(base, generation);
            if let Err(error) = delete_container(db, &name).await {
                tracing::warn!(container = %name, generation, %error, "cosmos: could not drop the old generation's container; the next rebuild tries again");
            }
        }
        for projection in PROJECTIONS {
            let id = checkpoint_id(projection, generation);
            if let Err(error) = delete_system_item(&self.checkpoints, &id).await {
                tracing::warn!(item = %id, generation, %error, "cosmos: could not drop the old generation's checkpoint");
            }
        }
    }
}

/// Refuses a rebuild before any I/O when it cannot work: from a copy, or
/// without key authentication (creating and deleting containers is a
/// control-plane operation).
fn can_rebuild(role: Role, auth: &CosmosAuth) -> Result<(), StoreError> {
    if role == Role::Copy {
        return Err(config_error("a copy being rebuilt cannot be copied"));
    }
    if !matches!(auth, CosmosAuth::Key(_)) {
        return Err(config_error(
            "rebuild creates and deletes containers, a control-plane operation that \
             needs key authentication (set COSMOS_KEY): managed identities and \
             developer logins only have data-plane access",
        ));
    }
    Ok(())
}

/// The indexing policy of an existing container (`None` if it is missing).
async fn indexing_of(
    db: &DatabaseClient,
    name: &str,
) -> Result<Option<IndexingPolicy>, StoreError> {
    let container = match db.container_client(name, None).await {
        Ok(container) => container,
        Err(e) if e.status().is_not_found() => return Ok(None),
        Err(e) => return Err(cosmos_error(e)),
    };
    let properties: ContainerProperties = container
        .read(None)
        .await
        .map_err(cosmos_error)?
        .into_model()
        .map_err(cosmos_error)?;
    Ok(properties.indexing_policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuild_needs_key_auth_and_an_active_store() {
        let key = CosmosAuth::Key("k".into());
        assert!(can_rebuild(Role::Active, &key).is_ok());
        for (role, auth) in [
            (Role::Copy, key),
            (Role::Active, CosmosAuth::DeveloperTools),
            (
                Role::Active,
                CosmosAuth::ManagedIdentity { client_id: None },
            ),
        ] {
            let error = can_rebuild(role, &auth).expect_err("refused");
            assert_eq!(error.kind(), StoreErrorKind::Rejected, "{role:?} {auth:?}");
        }
    }
}
