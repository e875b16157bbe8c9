//! Streams as code: the declarations in `streams/streams.toml` and their
//! idempotent application to a JetStream server.
//!
//! [`apply`] compares each declared stream with what the server has, creates
//! what is missing, updates what differs, and refuses changes that could lose
//! data unless forced. It returns what it did so the CLI can print it.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use serde::Deserialize;

use crate::{error_chain, subject};

/// The declarations shipped with this build (`streams/streams.toml`).
pub const BUILTIN: &str = include_str!("../../streams/streams.toml");

/// Storage back-end of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// Files on disk (durable).
    File,
    /// Memory only.
    Memory,
}

/// Retention policy of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Retention {
    /// Keep until limits are hit.
    Limits,
    /// Keep while some consumer has not acked.
    Interest,
    /// Remove once any consumer acked.
    Workqueue,
}

/// One declared stream.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSpec {
    /// Stream name.
    pub name: String,
    /// Human description.
    #[serde(default)]
    pub description: String,
    /// Subjects captured.
    pub subjects: Vec<String>,
    /// Storage type.
    pub storage: Storage,
    /// Retention policy.
    pub retention: Retention,
    /// Replicas (1 locally, 3 in production).
    pub replicas: usize,
    /// Largest message in bytes.
    pub max_msg_size: i32,
    /// Deduplication window in seconds.
    pub duplicate_window_secs: u64,
    /// Maximum age in seconds, 0 for unlimited.
    pub max_age_secs: u64,
    /// Whether atomic batch publish is allowed.
    pub allow_atomic_publish: bool,
    /// Whether direct get is allowed.
    pub allow_direct: bool,
    /// Whether message deletion is denied.
    pub deny_delete: bool,
    /// Whether purging is denied.
    pub deny_purge: bool,
    /// Conversation partitions (see [`crate::subject`]): 0 stores events
    /// under their published subjects; N > 0 adds a partition token so
    /// worker replicas can split conversations. Only for `conv.>`.
    #[serde(default)]
    pub partitions: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamsFile {
    stream: Vec<StreamSpec>,
}

/// Why stream declarations could not be read or applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamsError {
    /// The TOML is malformed or has unknown keys.
    #[error("invalid streams declaration: {0}")]
    Invalid(String),
    /// A change would lose data or break writers; rerun with `--force`.
    #[error("stream {stream}: refusing destructive change(s) without --force: {}", changes.join("; "))]
    Destructive {
        /// The stream.
        stream: String,
        /// What would change.
        changes: Vec<String>,
    },
    /// The server refused or could not be reached.
    #[error("stream {stream}: {message}")]
    Server {
        /// The stream.
        stream: String,
        /// What happened.
        message: String,
    },
}

/// Parses a streams file.
pub fn parse(text: &str) -> Result<Vec<StreamSpec>, StreamsError> {
    let file: StreamsFile =
        toml::from_str(text).map_err(|e| StreamsError::Invalid(e.to_string()))?;
    if file.stream.is_empty() {
        return Err(StreamsError::Invalid("no [[stream]] declared".into()));
    }
    for spec in &file.stream {
        spec.check_partitions()?;
    }
    Ok(file.stream)
}

/// `specs` with the conversation stream's partition count set to
/// `partitions` (checked as a declaration would be).
pub fn with_partitions(
    mut specs: Vec<StreamSpec>,
    partitions: u32,
) -> Result<Vec<StreamSpec>, StreamsError> {
    for spec in specs.iter_mut() {
        if spec
            .subjects
            .iter()
            .any(|s| *s == subject::all_conversations())
        {
            spec.partitions = partitions;
            spec.check_partitions()?;
        }
    }
    Ok(specs)
}

/// The built-in declarations with `replicas` overridden when given.
pub fn builtin(replicas: Option<usize>) -> Vec<StreamSpec> {
    // The built-in file is checked by a unit test, so parsing cannot fail.
    let mut specs = parse(BUILTIN).expect("streams/streams.toml is valid");
    if let Some(r) = replicas {
        specs.iter_mut().for_each(|s| s.replicas = r);
    }
    specs
}

/// What `apply` did to one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The stream did not exist and was created.
    Created,
    /// The stream existed and was updated; each entry is `field: old -> new`.
    Updated(Vec<String>),
    /// The stream was deleted and created again (forced storage/retention change).
    Recreated(Vec<String>),
    /// Nothing to do.
    Unchanged,
}

/// The outcome for one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Stream name.
    pub stream: String,
    /// What happened.
    pub change: Change,
}

impl StreamSpec {
    fn check_partitions(&self) -> Result<(), StreamsError> {
        if self.partitions == 0 {
            return Ok(());
        }
        if self.partitions > subject::MAX_PARTITIONS {
            return Err(StreamsError::Invalid(format!(
                "stream {}: partitions {} is more than {}",
                self.name,
                self.partitions,
                subject::MAX_PARTITIONS
            )));
        }
        if self.subjects != [subject::all_conversations()] {
            return Err(StreamsError::Invalid(format!(
                "stream {}: partitions apply only to the conversation stream (subjects [\"conv.>\"])",
                self.name
            )));
        }
        Ok(())
    }

    /// Writes this declaration over `base` (keeping fields we do not declare).
    fn to_config(&self, mut base: stream::Config) -> stream::Config {
        base.name = self.name.clone();
        base.description = (!self.description.is_empty()).then(|| self.description.clone());
        base.subjects = self.subjects.clone();
        base.storage = match self.storage {
            Storage::File => stream::StorageType::File,
            Storage::Memory => stream::StorageType::Memory,
        };
        base.retention = match self.retention {
            Retention::Limits => stream::RetentionPolicy::Limits,
            Retention::Interest => stream::RetentionPolicy::Interest,
            Retention::Workqueue => stream::RetentionPolicy::WorkQueue,
        };
        base.num_replicas = self.replicas;
        base.max_message_size = self.max_msg_size;
        base.duplicate_window = Duration::from_secs(self.duplicate_window_secs);
        base.max_age = Duration::from_secs(self.max_age_secs);
        base.allow_atomic_publish = self.allow_atomic_publish;
        base.allow_direct = self.allow_direct;
        base.deny_delete = self.deny_delete;
        base.deny_purge = self.deny_purge;
        base.subject_transform = (self.partitions > 0).then(|| {
            let (source, destination) = subject::partition_transform(self.partitions);
            stream::SubjectTransform {
                source,
                destination,
            }
        });
        base
    }
}

/// The partition count a stream's configuration declares (0: none).
pub fn partitions(config: &stream::Config) -> u32 {
    config
        .subject_transform
        .as_ref()
        .and_then(|t| subject::partitions_of(&t.source, &t.destination))
        .unwrap_or(0)
}

/// Differences between the server's config and the desired one, split into
/// safe and destructive changes.
fn diff(current: &stream::Config, desired: &stream::Config) -> (Vec<String>, Vec<String>) {
    let mut safe = Vec::new();
    let mut destructive = Vec::new();
    let mut note = |field: &str, old: String, new: String, lossy: bool| {
        if old != new {
            let line = format!("{field}: {old} -> {new}");
            if lossy {
                destructive.push(line)
            } else {
                safe.push(line)
            }
        }
    };
    let removed = current
        .subjects
        .iter()
        .any(|s| !desired.subjects.contains(s));
    note(
        "subjects",
        format!("{:?}", current.subjects),
        format!("{:?}", desired.subjects),
        removed,
    );
    note(
        "storage",
        format!("{:?}", current.storage),
        format!("{:?}", desired.storage),
        true,
    );
    note(
        "retention",
        format!("{:?}", current.retention),
        format!("{:?}", desired.retention),
        true,
    );
    note(
        "replicas",
        current.num_replicas.to_string(),
        desired.num_replicas.to_string(),
        false,
    );
    let shrinks = |old: i64, new: i64| new > 0 && (old <= 0 || new < old);
    note(
        "max_msg_size",
        current.max_message_size.to_string(),
        desired.max_message_size.to_string(),
        shrinks(
            current.max_message_size.into(),
            desired.max_message_size.into(),
        ),
    );
    let (old_age, new_age) = (
        current.max_age.as_secs() as i64,
        desired.max_age.as_secs() as i64,
    );
    note(
        "max_age_secs",
        old_age.to_string(),
        new_age.to_string(),
        shrinks(old_age, new_age),
    );
    note(
        "duplicate_window_secs",
        current.duplicate_window.as_secs().to_string(),
        desired.duplicate_window.as_secs().to_string(),
        false,
    );
    note(
        "allow_atomic_publish",
        current.allow_atomic_publish.to_string(),
        desired.allow_atomic_publish.to_string(),
        false,
    );
    note(
        "allow_direct",
        current.allow_direct.to_string(),
        desired.allow_direct.to_string(),
        false,
    );
    note(
        "deny_delete",
        current.deny_delete.to_string(),
        desired.deny_delete.to_string(),
        false,
    );
    note(
        "deny_purge",
        current.deny_purge.to_string(),
        desired.deny_purge.to_string(),
        false,
    );
    note(
        "partitions",
        partitions(current).to_string(),
        partitions(desired).to_string(),
        false,
    );
    note(
        "description",
        format!("{:?}", current.description.clone().unwrap_or_default()),
        format!("{:?}", desired.description.clone().unwrap_or_default()),
        false,
    );
    (safe, destructive)
}

fn is_not_found(err: &jetstream::context::GetStreamError) -> bool {
    matches!(err.kind(), jetstream::context::GetStreamErrorKind::JetStream(j)
        if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND)
}

/// Creates or updates every declared stream. Destructive changes are refused
/// unless `force`; a forced storage or retention change deletes and
/// recreates the stream (its messages are lost).
pub async fn apply(
    js: &jetstream::Context,
    specs: &[StreamSpec],
    force: bool,
) -> Result<Vec<Applied>, StreamsError> {
    let mut out = Vec::new();
    for spec in specs {
        let server = |e: &dyn std::error::Error| StreamsError::Server {
            stream: spec.name.clone(),
            message: error_chain(e),
        };
        let change = match js.get_stream(&spec.name).await {
            Err(e) if is_not_found(&e) => {
                js.create_stream(spec.to_config(stream::Config::default()))
                    .await
                    .map_err(|e| server(&e))?;
                Change::Created
            }
            Err(e) => return Err(server(&e)),
            Ok(mut existing) => {
                let current = existing
                    .info()
                    .await
                    .map_err(|e| server(&e))?
                    .config
                    .clone();
                let desired = spec.to_config(current.clone());
                let (safe, destructive) = diff(&current, &desired);
                if !destructive.is_empty() && !force {
                    return Err(StreamsError::Destructive {
                        stream: spec.name.clone(),
                        changes: destructive,
                    });
                }
                let all: Vec<String> = destructive.iter().chain(safe.iter()).cloned().collect();
                let immutable =
                    current.storage != desired.storage || current.retention != desired.retention;
                if all.is_empty() {
                    Change::Unchanged
                } else if immutable {
                    js.delete_stream(&spec.name).await.map_err(|e| server(&e))?;
                    js.create_stream(spec.to_config(stream::Config::default()))
                        .await
                        .map_err(|e| server(&e))?;
                    Change::Recreated(all)
                } else {
                    js.update_stream(desired).await.map_err(|e| server(&e))?;
                    Change::Updated(all)
                }
            }
        };
        tracing::info!(stream = %spec.name, change = ?change, "stream applied");
        out.push(Applied {
            stream: spec.name.clone(),
            change,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_declarations_parse() {
        let specs = builtin(Some(3));
        let conv = specs
            .iter()
            .find(|s| s.name == "CONVERSATIONS")
            .expect("declared");
        assert_eq!(conv.subjects, vec!["conv.>".to_owned()]);
        assert!(conv.allow_atomic_publish && conv.allow_direct);
        assert!(specs.iter().all(|s| s.replicas == 3));
        assert!(specs.iter().any(|s| s.name == "DEADLETTER"));
    }

    #[test]
    fn partitions_become_the_conversation_streams_subject_transform() {
        let specs = with_partitions(builtin(None), 8).expect("valid");
        let conv = specs
            .iter()
            .find(|s| s.name == "CONVERSATIONS")
            .expect("declared");
        let config = conv.to_config(stream::Config::default());
        assert_eq!(partitions(&config), 8);
        assert!(
            specs
                .iter()
                .filter(|s| s.name != "CONVERSATIONS")
                .all(|s| s.partitions == 0)
        );
        let unpartitioned = builtin(None).remove(0).to_config(stream::Config::default());
        assert_eq!(partitions(&unpartitioned), 0);
        let (safe, destructive) = diff(&unpartitioned, &config);
        assert_eq!(safe, ["partitions: 0 -> 8"]);
        assert!(destructive.is_empty());
        assert!(matches!(
            with_partitions(builtin(None), subject::MAX_PARTITIONS + 1),
            Err(StreamsError::Invalid(_))
        ));
        let text = BUILTIN.replace(
            "subjects = [\"dlq.>\"]",
            "subjects = [\"dlq.>\"]\npartitions = 4",
        );
        assert!(matches!(parse(&text), Err(StreamsError::Invalid(m)) if m.contains("DEADLETTER")));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let text = BUILTIN.replace("deny_purge = false", "deny_purge = false\nsurprise = 1");
        assert!(matches!(parse(&text), Err(StreamsError::Invalid(_))));
    }

    #[test]
    fn lowering_limits_is_destructive_raising_is_not() {
        let spec = builtin(None).remove(0);
        let current = spec.to_config(stream::Config::default());
        let mut smaller = spec.clone();
        smaller.max_msg_size /= 2;
        let (_, destructive) = diff(&current, &smaller.to_config(current.clone()));
        assert_eq!(destructive.len(), 1, "{destructive:?}");
        let mut larger = spec.clone();
        larger.max_msg_size *= 2;
        larger.replicas = 3;
        let (safe, destructive) = diff(&current, &larger.to_config(current.clone()));
        assert!(destructive.is_empty());
        assert_eq!(safe.len(), 2);
    }
}
