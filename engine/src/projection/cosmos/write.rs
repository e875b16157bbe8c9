//! Sequence-gated writes and container creation for the Cosmos DB store.

use std::borrow::Cow;

use azure_data_cosmos::models::ContainerProperties;
use azure_data_cosmos::options::ItemWriteOptions;
use azure_data_cosmos::{ContainerClient, CosmosClient, PartitionKey};
use serde::{Deserialize, Serialize};

use super::request::{
    ANALYTICS, CHECKPOINTS, CONVERSATIONS, CUSTOMERS, ESCALATIONS, SYSTEM_PARTITION, is_newer,
    partition_paths, replace_precondition,
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

pub(super) fn checkpoint_doc(projection: &str, seq: u64) -> CheckpointDoc {
    CheckpointDoc {
        id: projection.to_owned(),
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
            let options =
                ItemWriteOptions::default().with_precondition(replace_precondition(&etag));
            put.container
                .replace_item(put.pk.clone(), &put.id, put.doc, Some(options))
                .await
                .map(|_| ())
                .map_err(cosmos_error)
        }
    }
}

/// Creates the database and every container, ignoring "already exists".
pub(super) async fn create_all(client: &CosmosClient, database: &str) -> Result<(), StoreError> {
    let exists = |e: &azure_data_cosmos::CosmosError| e.status().is_conflict();
    match client.create_database(database, None).await {
        Ok(_) => {}
        Err(e) if exists(&e) => {}
        Err(e) => return Err(cosmos_error(e)),
    }
    let db = client.database_client(database);
    for name in [
        CONVERSATIONS,
        ESCALATIONS,
        ANALYTICS,
        CUSTOMERS,
        CHECKPOINTS,
    ] {
        let paths: Vec<Cow<'static, str>> = partition_paths(name)
            .into_iter()
            .map(Cow::Borrowed)
            .collect();
        let properties = ContainerProperties::new(
            name,
            azure_data_cosmos::models::PartitionKeyDefinition::new(paths),
        );
        match db.create_container(properties, None).await {
            Ok(_) => {}
            Err(e) if exists(&e) => {}
            Err(e) => return Err(cosmos_error(e)),
        }
    }
    Ok(())
}
