//! Sequence-gated writes and container creation for the Cosmos DB store.

use azure_data_cosmos::models::ContainerProperties;
use azure_data_cosmos::{ContainerClient, CosmosClient, DatabaseClient, PartitionKey};
use serde::{Deserialize, Serialize};

use super::request::{
    CHECKPOINTS, SYSTEM_PARTITION, checkpoint_id, if_match, is_newer, partition_paths,
};
use super::{BACKEND, cosmos_error};
use crate::projection::{StoreError, StoreErrorKind};

/// One document to write if newer.
pub(super) struct Put<'a, T> {
    pub container: &'a ContainerClient,
    pub pk: PartitionKey,
    pub id: String,
    pub seq: u64,
    pub doc: &'a T,
}

/// Only the sequence of a stored document.
#[derive(Deserialize)]
struct Stored {
    #[serde(rename = "lastSeq", default)]
    last_seq: u64,
}

/// A projection's checkpoint item.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CheckpointDoc {
    pub id: String,
    pub tenant: String,
    pub last_seq: u64,
}

pub(super) fn checkpoint_doc(projection: &str, generation: u64, seq: u64) -> CheckpointDoc {
    CheckpointDoc {
        id: checkpoint_id(projection, generation),
        tenant: SYSTEM_PARTITION.to_owned(),
        last_seq: seq,
    }
}

/// Reads the stored item; creates it if absent, replaces it with if-match
/// on the etag read if the new sequence is greater, else does nothing.
pub(super) async fn put_once<T: Serialize>(put: &Put<'_, T>) -> Result<(), StoreError> {
    let stored = match put.container.read_item(put.pk.clone(), &put.id, None).await {
        Ok(response) => {
            let etag = response.headers().etag().map(|e| e.to_string());
            let stored: Stored = response.into_model().map_err(cosmos_error)?;
            Some((stored.last_seq, etag))
        }
        Err(e) if e.status().is_not_found() => None,
        Err(e) => return Err(cosmos_error(e)),
    };
    match stored {
        None => put
            .container
            .create_item(put.pk.clone(), &put.id, put.doc, None)
            .await
            .map(|_| ())
            .map_err(cosmos_error),
        Some((seq, _)) if !is_newer(Some(seq), put.seq) => Ok(()),
        Some((_, etag)) => {
            let etag = etag.ok_or_else(|| {
                StoreError::new(StoreErrorKind::Corrupt, BACKEND, "stored item has no etag")
            })?;
            put.container
                .replace_item(put.pk.clone(), &put.id, put.doc, Some(if_match(&etag)))
                .await
                .map(|_| ())
                .map_err(cosmos_error)
        }
    }
}

/// Creates the database and the `checkpoints` container (shared by every
/// generation), ignoring "already exists".
pub(super) async fn create_database(
    client: &CosmosClient,
    database: &str,
) -> Result<(), StoreError> {
    match client.create_database(database, None).await {
        Ok(_) => {}
        Err(e) if e.status().is_conflict() => {}
        Err(e) => return Err(cosmos_error(e)),
    }
    let paths = partition_paths(CHECKPOINTS)
        .into_iter()
        .map(std::borrow::Cow::Borrowed)
        .collect();
    let properties = ContainerProperties::new(
        CHECKPOINTS,
        azure_data_cosmos::models::PartitionKeyDefinition::new(paths),
    );
    create_container(&client.database_client(database), properties).await?;
    Ok(())
}

/// Creates a container; `false` if it already exists.
pub(super) async fn create_container(
    db: &DatabaseClient,
    properties: ContainerProperties,
) -> Result<bool, StoreError> {
    match db.create_container(properties, None).await {
        Ok(_) => Ok(true),
        Err(e) if e.status().is_conflict() => Ok(false),
        Err(e) => Err(cosmos_error(e)),
    }
}

/// The point key of an item in the `_system` partition of `checkpoints`.
pub(super) fn system_partition() -> PartitionKey {
    PartitionKey::from(SYSTEM_PARTITION.to_owned())
}

/// Deletes a container; `Ok` if it does not exist.
pub(super) async fn delete_container(db: &DatabaseClient, name: &str) -> Result<(), StoreError> {
    let container = match db.container_client(name, None).await {
        Ok(container) => container,
        Err(e) if e.status().is_not_found() => return Ok(()),
        Err(e) => return Err(cosmos_error(e)),
    };
    match container.delete(None).await {
        Ok(_) => Ok(()),
        Err(e) if e.status().is_not_found() => Ok(()),
        Err(e) => Err(cosmos_error(e)),
    }
}

/// Deletes an item of the `_system` partition; `Ok` if it does not exist.
pub(super) async fn delete_system_item(
    checkpoints: &ContainerClient,
    id: &str,
) -> Result<(), StoreError> {
    match checkpoints.delete_item(system_partition(), id, None).await {
        Ok(_) => Ok(()),
        Err(e) if e.status().is_not_found() => Ok(()),
        Err(e) => Err(cosmos_error(e)),
    }
}
