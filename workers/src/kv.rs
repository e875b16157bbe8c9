//! Opening Switchboard's JetStream KV buckets: get the bucket, or create it
//! on first use with the given configuration.
//!
//! Every bucket (tenant data, API keys, the audit key, leases) is opened the
//! same way; a second process racing to create it gets the first one's.

use std::sync::OnceLock;

use async_nats::jetstream::{self, kv};

/// Replicas of the buckets this process creates, set once at start-up.
static REPLICAS: OnceLock<usize> = OnceLock::new();

/// Creates the buckets of this process with `replicas` (3 on a cluster, so
/// tenant data, keys and leases survive a node as the streams do). Set
/// once, before any bucket is opened; later calls are ignored.
pub fn set_replicas(replicas: usize) {
    let _ = REPLICAS.set(replicas.max(1));
}

/// What [`set_replicas`] set, else 1.
pub fn replicas() -> usize {
    REPLICAS.get().copied().unwrap_or(1)
}

/// Why a bucket could be neither opened nor created.
#[derive(Debug, thiserror::Error)]
#[error("KV bucket {bucket}: {message}")]
pub struct BucketError {
    /// The bucket.
    pub bucket: String,
    /// The server's answer.
    pub message: String,
}

/// A file-backed bucket `name` with `history` revisions per key.
pub fn config(name: &str, description: &str, history: i64) -> kv::Config {
    kv::Config {
        bucket: name.into(),
        description: description.into(),
        history,
        num_replicas: replicas(),
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    }
}

/// The bucket `config` names, created with `config` if it does not exist.
pub async fn open_or_create(
    js: &jetstream::Context,
    config: kv::Config,
) -> Result<kv::Store, BucketError> {
    if let Ok(store) = js.get_key_value(&config.bucket).await {
        return Ok(store);
    }
    let bucket = config.bucket.clone();
    match js.create_key_value(config).await {
        Ok(store) => Ok(store),
        // Created meanwhile by another process.
        Err(create) => js.get_key_value(&bucket).await.map_err(|_| BucketError {
            bucket,
            message: create.to_string(),
        }),
    }
}
