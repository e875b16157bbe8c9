//! The JetStream KV bucket that holds every tenant's data.
//!
//! Bucket [`BUCKET`] (file storage, [`HISTORY`] revisions per key), keys:
//!
//! | key | value |
//! |---|---|
//! | `<tenant>.kb.<doc-id>` | a [`KbDocument`] as JSON |
//! | `<tenant>.products` | `{"products": [...]}` (shape of `workers/kb/brewvi/products.json`) |
//! | `<tenant>.orders` | `{"orders": [...]}` |
//! | `<tenant>.customers` | `{"customers": [...]}` |
//! | `<tenant>.loyalty` | `{"accounts": [...]}` |
//!
//! Tenants and document ids are subject tokens, so a key never spans
//! tenants and a tenant's keys are exactly `<tenant>.>`. Every put is a new
//! revision; a removed document is a delete marker, its history kept.

use std::collections::BTreeMap;

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use futures::StreamExt;
use switchboard_engine::ids::Tenant;

use super::data::TenantData;
use super::document::{DocId, KbDocument};
use super::error::{TenantError, TenantErrorKind};
use super::records::RecordKind;

/// The bucket's name.
pub const BUCKET: &str = "SWITCHBOARD_TENANT_DATA";
/// Revisions kept per key.
pub const HISTORY: i64 = 5;
/// Bytes of the server's payload limit left for a put's headers.
const HEADROOM: usize = 1024;

/// What a bucket key addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// A knowledge-base document.
    Document(Tenant, DocId),
    /// A kind of records.
    Records(Tenant, RecordKind),
}

impl Key {
    /// Parses a bucket key; `None` for keys this module does not write.
    pub fn parse(key: &str) -> Option<Self> {
        let mut parts = key.split('.');
        let tenant = Tenant::new(parts.next()?).ok()?;
        let key = match (parts.next()?, parts.next(), parts.next()) {
            ("kb", Some(id), None) => Key::Document(tenant, DocId::new(id).ok()?),
            (token, None, None) => {
                let kind = RecordKind::ALL
                    .into_iter()
                    .find(|k| k.key_token() == token)?;
                Key::Records(tenant, kind)
            }
            _ => return None,
        };
        Some(key)
    }

    /// The tenant the key belongs to.
    pub fn tenant(&self) -> &Tenant {
        match self {
            Key::Document(t, _) | Key::Records(t, _) => t,
        }
    }

    /// The key as stored.
    pub fn render(&self) -> String {
        match self {
            Key::Document(t, id) => format!("{t}.kb.{id}"),
            Key::Records(t, kind) => format!("{t}.{}", kind.key_token()),
        }
    }
}

/// A document as stored, with its revision.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    /// The document.
    pub document: KbDocument,
    /// Its bucket revision.
    pub revision: u64,
}

/// The tenant-data bucket.
#[derive(Clone)]
pub struct TenantStore {
    kv: kv::Store,
    js: jetstream::Context,
    max_value: usize,
}

impl std::fmt::Debug for TenantStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantStore").finish_non_exhaustive()
    }
}

impl TenantStore {
    /// Opens the bucket, creating it on first use.
    pub async fn open(client: &async_nats::Client) -> Result<Self, TenantError> {
        let js = jetstream::new(client.clone());
        let config = crate::kv::config(
            BUCKET,
            "Switchboard: each tenant's knowledge base and records",
            HISTORY,
        );
        let kv = crate::kv::open_or_create(&js, config)
            .await
            .map_err(|e| TenantError::store("creating the tenant-data bucket", e))?;
        // Headers and subject share the server's payload limit: keep a margin.
        let max_value = match client.server_info().max_payload {
            0 => usize::MAX,
            max => max.saturating_sub(HEADROOM),
        };
        Ok(Self { kv, js, max_value })
    }

    /// The underlying KV store.
    pub(crate) fn kv(&self) -> &kv::Store {
        &self.kv
    }

    /// Largest value the server accepts, in bytes.
    pub fn max_value(&self) -> usize {
        self.max_value
    }

    /// Whether the bucket has never held anything (no message at all).
    pub(crate) async fn is_pristine(&self) -> Result<bool, TenantError> {
        let mut stream = self
            .js
            .get_stream(format!("KV_{BUCKET}"))
            .await
            .map_err(|e| TenantError::store("reading the bucket's stream", e))?;
        let info = stream
            .info()
            .await
            .map_err(|e| TenantError::store("reading the bucket's stream", e))?;
        Ok(info.state.messages == 0)
    }

    /// Every live key of `tenant`.
    async fn keys_of(&self, tenant: &Tenant) -> Result<Vec<String>, TenantError> {
        let prefix = format!("{tenant}.");
        let mut keys = self
            .kv
            .keys()
            .await
            .map_err(|e| TenantError::store("listing the bucket's keys", e))?;
        let mut out = Vec::new();
        while let Some(key) = keys.next().await {
            let key = key.map_err(|e| TenantError::store("listing the bucket's keys", e))?;
            if key.starts_with(&prefix) {
                out.push(key);
            }
        }
        out.sort();
        Ok(out)
    }

    /// Whether `tenant` has any data.
    pub async fn has_data(&self, tenant: &Tenant) -> Result<bool, TenantError> {
        Ok(!self.keys_of(tenant).await?.is_empty())
    }

    async fn entry(&self, key: &str) -> Result<Option<(Bytes, u64)>, TenantError> {
        let entry = self
            .kv
            .entry(key)
            .await
            .map_err(|e| TenantError::store(&format!("reading {key}"), e))?;
        Ok(entry
            .filter(|e| e.operation == kv::Operation::Put)
            .map(|e| (e.value, e.revision)))
    }

    /// The tenant's documents with their revisions, by id.
    pub async fn documents(&self, tenant: &Tenant) -> Result<Vec<StoredDocument>, TenantError> {
        let mut out = Vec::new();
        for key in self.keys_of(tenant).await? {
            let Some(Key::Document(..)) = Key::parse(&key) else {
                continue;
            };
            if let Some((value, revision)) = self.entry(&key).await? {
                let document = decode_document(&key, &value)?;
                out.push(StoredDocument { document, revision });
            }
        }
        Ok(out)
    }

    /// Everything `tenant` has.
    pub async fn load(&self, tenant: &Tenant) -> Result<TenantData, TenantError> {
        let mut entries = BTreeMap::new();
        for key in self.keys_of(tenant).await? {
            if let Some((value, _)) = self.entry(&key).await? {
                entries.insert(key, value);
            }
        }
        data_from_entries(&entries)
    }

    /// Writes one value (checked against the server's payload limit first
    /// by the callers' validation); returns its revision.
    pub(crate) async fn put(&self, key: &Key, value: Vec<u8>) -> Result<u64, TenantError> {
        let key = key.render();
        self.kv
            .put(&key, value.into())
            .await
            .map_err(|e| TenantError::store(&format!("writing {key}"), e))
    }

    /// Deletes one key (a delete marker: history is kept).
    pub(crate) async fn delete(&self, key: &Key) -> Result<(), TenantError> {
        let key = key.render();
        self.kv
            .delete(&key)
            .await
            .map_err(|e| TenantError::store(&format!("deleting {key}"), e))
    }

    /// The current value of `key`, if any.
    pub(crate) async fn get(&self, key: &Key) -> Result<Option<(Bytes, u64)>, TenantError> {
        self.entry(&key.render()).await
    }
}

fn decode_document(key: &str, value: &[u8]) -> Result<KbDocument, TenantError> {
    serde_json::from_slice(value).map_err(|e| {
        TenantError::new(
            TenantErrorKind::Corrupt,
            format!("{key} does not decode: {e}"),
        )
    })
}

/// A tenant's data from its bucket entries (key → value); keys of other
/// shapes are ignored.
pub(crate) fn data_from_entries(
    entries: &BTreeMap<String, Bytes>,
) -> Result<TenantData, TenantError> {
    let mut data = TenantData::default();
    for (key, value) in entries {
        match Key::parse(key) {
            Some(Key::Document(_, id)) => {
                let doc = decode_document(key, value)?;
                data.documents.insert(id, doc);
            }
            Some(Key::Records(_, kind)) => {
                let json = String::from_utf8(value.to_vec()).map_err(|e| {
                    TenantError::new(TenantErrorKind::Corrupt, format!("{key} is not UTF-8: {e}"))
                })?;
                data.records.insert(kind, json);
            }
            None => {}
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_stay_in_their_tenant() {
        for key in ["acme.kb.returns", "acme.orders", "acme.loyalty"] {
            assert_eq!(Key::parse(key).map(|k| k.render()).as_deref(), Some(key));
        }
        assert_eq!(Key::parse("acme.kb.a.b"), None);
        assert_eq!(Key::parse("acme.unknown"), None);
        assert_eq!(Key::parse("a*.orders"), None);
    }
}
