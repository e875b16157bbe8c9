//! API keys: one per channel adapter or operator, scoped to a tenant and a role.
//!
//! Keys live hashed (SHA-256) in the JetStream KV bucket
//! `SWITCHBOARD_API_KEYS`, so every gateway replica sees a new or revoked
//! key at once and the bucket never holds a usable secret. A key is
//! `sbk_<id>_<secret>`: the id is public (listed, used to revoke), the
//! secret is 32 random bytes shown once, when the key is created.

use async_nats::jetstream::{self, kv};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchboard_engine::ids::Tenant;

/// The bucket's name.
pub const BUCKET: &str = "SWITCHBOARD_API_KEYS";

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A channel adapter: posts customer messages, reads its conversations.
    Publish,
    /// An operator or analyst: answers, closes, reads queues and analytics.
    Operate,
    /// An auditor: reads and exports the log.
    Audit,
}

impl Role {
    /// The role's name as the CLI and the API spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Publish => "publish",
            Role::Operate => "operate",
            Role::Audit => "audit",
        }
    }
}

/// A key as stored: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Public id (8 hex digits).
    pub id: String,
    /// The only tenant it reaches.
    pub tenant: Tenant,
    /// What it may do.
    pub role: Role,
    /// Free text: which adapter or person.
    #[serde(default)]
    pub label: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// What went wrong with the key store.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The bucket could not be reached or written.
    #[error("API key store: {0}")]
    Unavailable(String),
    /// No key has this id.
    #[error("no API key with id {0:?}")]
    UnknownId(String),
    /// A stored record does not decode.
    #[error("API key record {key:?} is corrupt: {message}")]
    Corrupt {
        /// The bucket key.
        key: String,
        /// Why.
        message: String,
    },
}

/// The bucket of hashed keys.
#[derive(Debug, Clone)]
pub struct KeyStore {
    kv: kv::Store,
}

fn unavailable(e: impl std::fmt::Display) -> KeyError {
    KeyError::Unavailable(e.to_string())
}

/// SHA-256 of the whole presented key, hex: the bucket key.
fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_hex(bytes: usize) -> Result<String, KeyError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| KeyError::Unavailable(format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

impl KeyStore {
    /// Opens the bucket, creating it on first use.
    pub async fn open(client: &async_nats::Client) -> Result<Self, KeyError> {
        let js = jetstream::new(client.clone());
        let config = crate::kv::config(
            BUCKET,
            "Switchboard: gateway API keys (SHA-256 hashes only)",
            1,
        );
        let kv = crate::kv::open_or_create(&js, config)
            .await
            .map_err(unavailable)?;
        Ok(Self { kv })
    }

    /// Creates a key; returns the key itself (shown once) and its record.
    pub async fn create(
        &self,
        tenant: &Tenant,
        role: Role,
        label: &str,
    ) -> Result<(String, KeyRecord), KeyError> {
        let id = random_hex(4)?;
        let token = format!("sbk_{id}_{}", random_hex(32)?);
        let record = KeyRecord {
            id,
            tenant: tenant.clone(),
            role,
            label: label.to_owned(),
            created_at: Utc::now(),
        };
        let value = serde_json::to_vec(&record).map_err(unavailable)?;
        self.kv
            .create(digest(&token), value.into())
            .await
            .map_err(unavailable)?;
        Ok((token, record))
    }

    /// The record of a presented key; `None` for a key that was never
    /// created or was revoked.
    pub async fn verify(&self, token: &str) -> Result<Option<KeyRecord>, KeyError> {
        let key = digest(token);
        let Some(value) = self.kv.get(&key).await.map_err(unavailable)? else {
            return Ok(None);
        };
        serde_json::from_slice(&value)
            .map(Some)
            .map_err(|e| KeyError::Corrupt {
                key,
                message: e.to_string(),
            })
    }

    /// Every key (records only), oldest first.
    pub async fn list(&self) -> Result<Vec<KeyRecord>, KeyError> {
        Ok(self.entries().await?.into_iter().map(|(_, r)| r).collect())
    }

    /// Revokes the key with this public id: its hash is purged, so no
    /// earlier revision of the bucket can give it back.
    pub async fn revoke(&self, id: &str) -> Result<KeyRecord, KeyError> {
        let (key, record) = self
            .entries()
            .await?
            .into_iter()
            .find(|(_, r)| r.id == id)
            .ok_or_else(|| KeyError::UnknownId(id.to_owned()))?;
        self.kv.purge(&key).await.map_err(unavailable)?;
        Ok(record)
    }

    async fn entries(&self) -> Result<Vec<(String, KeyRecord)>, KeyError> {
        let mut names = self.kv.keys().await.map_err(unavailable)?;
        let mut found = Vec::new();
        while let Some(name) = names.next().await {
            let name = name.map_err(unavailable)?;
            let Some(value) = self.kv.get(&name).await.map_err(unavailable)? else {
                continue;
            };
            let record: KeyRecord =
                serde_json::from_slice(&value).map_err(|e| KeyError::Corrupt {
                    key: name.clone(),
                    message: e.to_string(),
                })?;
            found.push((name, record));
        }
        found.sort_by_key(|(_, r)| r.created_at);
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_key_when_hashed_then_the_bucket_key_is_its_sha256_and_not_the_key() {
        let token = "sbk_0011aabb_secret";
        let key = digest(token);
        assert_eq!(key.len(), 64);
        assert!(!key.contains("secret"));
        assert_eq!(key, digest(token));
        assert_ne!(key, digest("sbk_0011aabb_secres"));
    }
}
