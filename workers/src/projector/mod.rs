//! The projector: folds the conversation log into the projection store.
//!
//! [`run_projector`] reads `conv.>` on `CONVERSATIONS` in stream order with
//! an ordered consumer (ephemeral, nothing to acknowledge) that starts just
//! after the checkpoint the store holds. It collects a batch, decodes it (an
//! undecodable message is logged, counted and skipped: it never stalls the
//! projection), folds it with a [`Folder`], and writes the changed documents
//! and the batch's last sequence as the new checkpoint in one store write
//! (retried with backoff while the store is unavailable). The checkpoint is
//! therefore never ahead of what is written: a crash at any point re-reads
//! at most the batch in flight, which the sequence-gated documents ignore.
//! (An earlier design used a durable consumer with `AckPolicy::All`, whose
//! ack of a later message acknowledged deliveries to a dead process that
//! were never folded; it lost events after every crash.)
//!
//! It is also the log's sentry ([`sentry`]): it reads every message, so a
//! message no agent can read (malformed, of an unknown type, on an odd
//! subject) is dead-lettered here, and its conversation goes to a human.
//!
//! The projector also answers rebuild requests ([`control`]): `switchboard
//! projections rebuild` beside a running system pauses the projector, which
//! rebuilds, swaps in and resumes from the new copy's checkpoint.
//!
//! [`rebuild`] replays the whole stream into a fresh copy of the store and
//! swaps it in; [`status`] reports lag per projection; [`bench_projections`]
//! measures rebuild against a raw consume.

mod bench;
pub mod control;
mod decode;
pub mod lease;
mod rebuild;
mod sentry;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull};
use futures::StreamExt;
use switchboard_engine::event::StoredEvent;
use switchboard_engine::projection::retry::Backoff;
use switchboard_engine::projection::{Documents, Folder, ProjectionStore, StoreError};
use switchboard_engine::store::{Cipher, EventStore, StoreOptions};
use tokio::sync::watch;

use crate::ops::{Part, PartState};

pub use bench::{BenchReport, bench_projections};
pub use decode::decode_message;
pub use rebuild::{ProjectionLag, RebuildReport, Status, rebuild, replay_into, status};

/// Metric names.
pub mod metric {
    /// Gauge: events not yet folded, per `projection`.
    pub const LAG: &str = "switchboard_projection_lag";
    /// Counter: events folded by the projector.
    pub const FOLDED: &str = "switchboard_projection_events_total";
    /// Counter: messages on `conv.>` that did not decode (acked, skipped).
    pub const UNDECODABLE: &str = "switchboard_projection_undecodable_total";
    /// Counter: store writes retried after a transient failure.
    pub const STORE_RETRIES: &str = "switchboard_projection_store_retries_total";
}

/// Settings of the projector.
#[derive(Debug, Clone)]
pub struct ProjectorOptions {
    /// The conversations stream. Default `CONVERSATIONS`.
    pub stream: String,
    /// Subjects folded. Default `conv.>`.
    pub filter: String,
    /// Name of the durable consumer older versions read with; removed at
    /// start-up (the position now lives in the store). Default `projector`.
    pub durable: String,
    /// Most events per batch (one store write). Default 1,000.
    pub batch: usize,
    /// Longest wait for a batch to fill. Default 100 ms.
    pub max_wait: Duration,
    /// Backoff of store writes. Default 20 ms doubling to 5 s, for ever.
    pub backoff: Backoff,
    /// Conversation documents cached by the folder. Default 100,000.
    pub cache_capacity: usize,
    /// How long a projector's lease on its store lives without renewal: how
    /// soon a standby replica (or a restarted process) takes over from one
    /// that died. Default 5 s.
    pub lease_ttl: Duration,
    /// Opens the sealed texts the projections keep (the last answer).
    /// Default none: texts are folded as stored. [`crate::system::System`]
    /// gives it its store's cipher.
    pub cipher: Option<Arc<dyn Cipher>>,
    /// Where the projector reports its readiness (standby, catching up,
    /// store down): the process's `/readyz` ([`crate::ops`]). Default:
    /// unobserved.
    pub readiness: Part,
}

impl Default for ProjectorOptions {
    fn default() -> Self {
        Self {
            stream: "CONVERSATIONS".into(),
            filter: switchboard_engine::subject::all_conversations(),
            durable: "projector".into(),
            batch: 1_000,
            max_wait: Duration::from_millis(100),
            backoff: Backoff::default(),
            cache_capacity: switchboard_engine::projection::folder::DEFAULT_CAPACITY,
            lease_ttl: Duration::from_secs(5),
            cipher: None,
            readiness: Part::default(),
        }
    }
}

/// What went wrong in the projector; callers match on [`ProjectorError::kind`].
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    /// JetStream could not be reached or refused (missing stream, consumer
    /// error). Surfaces as: the projector task ends; the process reports
    /// not ready and its supervisor restarts it.
    #[error("jetstream: {0}")]
    Nats(String),
    /// The store failed permanently (or during shutdown). Surfaces as: the
    /// projector ends; unacked events are redelivered on restart.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The kind of a [`ProjectorError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectorErrorKind {
    /// See [`ProjectorError::Nats`].
    Nats,
    /// See [`ProjectorError::Store`].
    Store,
}

impl ProjectorError {
    /// What went wrong.
    pub fn kind(&self) -> ProjectorErrorKind {
        match self {
            ProjectorError::Nats(_) => ProjectorErrorKind::Nats,
            ProjectorError::Store(_) => ProjectorErrorKind::Store,
        }
    }

    pub(crate) fn nats(e: impl std::fmt::Display) -> Self {
        ProjectorError::Nats(e.to_string())
    }
}

/// Where a projector reads from: an ordered consumer (ephemeral, no acks)
/// over `options.filter` starting just after `position`. Reports the
/// projector catching up if the log is more than a batch past `position`.
async fn cursor(
    js: &jetstream::Context,
    options: &ProjectorOptions,
    position: u64,
) -> Result<Ordered, ProjectorError> {
    let stream = js
        .get_stream(&options.stream)
        .await
        .map_err(ProjectorError::nats)?;
    let last = stream.cached_info().state.last_sequence;
    note_pending(options, last.saturating_sub(position));
    stream
        .create_consumer(reading_after(options, position))
        .await
        .map_err(ProjectorError::nats)?
        .messages()
        .await
        .map_err(ProjectorError::nats)
}

type Ordered = jetstream::consumer::pull::Ordered;

/// An ordered consumer over the projector's subjects from just after `seq`.
pub(crate) fn reading_after(options: &ProjectorOptions, seq: u64) -> pull::OrderedConfig {
    pull::OrderedConfig {
        filter_subject: options.filter.clone(),
        deliver_policy: DeliverPolicy::ByStartSequence {
            start_sequence: seq + 1,
        },
        ..Default::default()
    }
}

/// The stream sequence every projection of `store` has folded up to: where
/// a projector resumes.
async fn resume_point(store: &dyn ProjectionStore) -> Result<u64, StoreError> {
    let checkpoints = store.checkpoints().await?;
    Ok(switchboard_engine::projection::PROJECTIONS
        .iter()
        .map(|p| checkpoints.get(p))
        .min()
        .unwrap_or(0))
}

/// Runs the projector until `shutdown` turns true (or its sender is
/// dropped). Returns `Ok(())` on shutdown; a batch being written when
/// shutdown arrives is finished or dropped (it is read again on restart).
///
/// The projector's position is the checkpoint the store holds, written in
/// the same store write as the documents of each batch: it resumes there
/// after a crash or a restart, reading with an ordered consumer, so no event
/// is skipped and none is acknowledged on anyone's behalf. Replicas over one
/// store take turns through a lease ([`lease`]): one projects, the others
/// stand by and take over within the lease's time to live.
pub async fn run_projector(
    client: async_nats::Client,
    store: Arc<dyn ProjectionStore>,
    options: ProjectorOptions,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ProjectorError> {
    let js = jetstream::new(client.clone());
    forget_legacy_consumer(&js, &options).await;
    let lease = lease::Lease::of(&js, store.as_ref(), options.lease_ttl).await?;
    tracing::info!(backend = store.backend(), "projector started");
    let ready = &options.readiness;
    while !*shutdown.borrow() {
        ready.set(PartState::starting("taking the lease"));
        let Some(held) = lease.acquire(&mut shutdown, ready).await else {
            break;
        };
        let outcome = project(&client, &store, &options, &mut shutdown, &held).await;
        held.release().await;
        if let Err(e) = &outcome {
            ready.set(PartState::down(e.to_string()));
        }
        outcome?;
    }
    ready.set(PartState::down("stopped"));
    tracing::info!("projector stopped");
    Ok(())
}

/// Projects while the lease is held: until shutdown, or the lease is lost.
async fn project(
    client: &async_nats::Client,
    store: &Arc<dyn ProjectionStore>,
    options: &ProjectorOptions,
    shutdown: &mut watch::Receiver<bool>,
    held: &lease::Held,
) -> Result<(), ProjectorError> {
    let js = jetstream::new(client.clone());
    let mut control = control::serve(client).await?;
    let dead_letters = EventStore::new(client.clone(), StoreOptions::default());
    let mut folder = Folder::new(store.as_ref(), options.cache_capacity);
    let mut position = resume_point(store.as_ref()).await?;
    tracing::info!(position, "projecting from the store's checkpoint");
    let mut attempt = 0;
    'cursor: while !*shutdown.borrow() && !held.lost() {
        let mut messages = match cursor(&js, options, position).await {
            Ok(messages) => messages,
            Err(e) => {
                attempt += 1;
                options
                    .readiness
                    .set(PartState::down(format!("cannot read the log: {e}")));
                tracing::warn!(error = %e, "projector cannot read the log; retrying");
                backoff_or_stop(attempt, shutdown).await;
                continue;
            }
        };
        let generation = store.generation();
        loop {
            let next = tokio::select! {
                _ = shutdown.changed() => break 'cursor,
                Some(request) = control.next() => {
                    control::rebuild(client, store.clone(), options, request).await;
                    folder.reset(store.as_ref());
                    position = resume_point(store.as_ref()).await?;
                    continue 'cursor;
                }
                batch = next_batch(&mut messages, options) => batch,
            };
            let messages = match next {
                Ok(batch) => batch,
                Err(e) => {
                    attempt += 1;
                    tracing::warn!(error = %e, position, "projector lost its cursor; resuming");
                    backoff_or_stop(attempt, shutdown).await;
                    continue 'cursor;
                }
            };
            attempt = 0;
            let Some(last) = messages.last() else {
                continue;
            };
            let (last_seq, pending) = last
                .info()
                .map(|i| (i.stream_sequence, i.pending))
                .map_err(ProjectorError::nats)?;
            // A rebuild swapped in elsewhere: resume from its checkpoint.
            store.refresh().await?;
            if store.generation() != generation {
                tracing::info!(
                    "projections were swapped in by a rebuild; resuming from their checkpoint"
                );
                folder.reset(store.as_ref());
                position = resume_point(store.as_ref()).await?;
                continue 'cursor;
            }
            let (events, rejected) = decode::decode_all(&messages, options.cipher.as_ref()).await;
            // Dead-lettered before the checkpoint moves past them.
            if !sentry::report(&dead_letters, &rejected, shutdown).await {
                break 'cursor;
            }
            let mut documents =
                fold_with_retry(&mut folder, store.as_ref(), &events, options, shutdown).await?;
            // Past undecodable messages too, so they are never read again.
            documents.checkpoint = Some(last_seq);
            if held.lost() {
                break 'cursor;
            }
            let Some(()) = write_with_retry(store.as_ref(), &documents, options, shutdown).await?
            else {
                break 'cursor;
            };
            folder.written(store.as_ref());
            position = last_seq;
            note_pending(options, pending);
            metrics::counter!(metric::FOLDED).increment(events.len() as u64);
            for p in switchboard_engine::projection::PROJECTIONS {
                metrics::gauge!(metric::LAG, "projection" => p).set(pending as f64);
            }
        }
    }
    Ok(())
}

/// The projector is `pending` events behind the log: ready within one
/// batch of it, catching up beyond.
fn note_pending(options: &ProjectorOptions, pending: u64) {
    options.readiness.set(if pending <= options.batch as u64 {
        PartState::Ready
    } else {
        PartState::CatchingUp { pending }
    });
}

/// Waits before reading the log again (20 ms doubling to 5 s), or until shutdown.
async fn backoff_or_stop(attempt: u32, shutdown: &mut watch::Receiver<bool>) {
    let delay =
        Duration::from_millis(20 * 2u64.saturating_pow(attempt.min(8))).min(Duration::from_secs(5));
    tokio::select! {
        _ = shutdown.changed() => {}
        _ = tokio::time::sleep(delay) => {}
    }
}

/// The next batch: at least one message, then as many as arrive within
/// `max_wait` up to `batch`, stopping early once caught up with the stream.
async fn next_batch(
    messages: &mut Ordered,
    options: &ProjectorOptions,
) -> Result<Vec<jetstream::Message>, ProjectorError> {
    let mut batch = Vec::new();
    let first = messages
        .next()
        .await
        .ok_or_else(|| ProjectorError::Nats("the log's cursor ended".into()))?
        .map_err(ProjectorError::nats)?;
    let deadline = tokio::time::Instant::now() + options.max_wait;
    let mut caught_up = first.info().map(|i| i.pending == 0).unwrap_or(false);
    batch.push(first);
    while batch.len() < options.batch && !caught_up {
        match tokio::time::timeout_at(deadline, messages.next()).await {
            Ok(Some(Ok(message))) => {
                caught_up = message.info().map(|i| i.pending == 0).unwrap_or(false);
                batch.push(message);
            }
            // An error after some messages: fold those, the cursor resumes.
            Ok(Some(Err(e))) => {
                tracing::debug!(error = %e, "cursor error mid-batch");
                break;
            }
            Ok(None) | Err(_) => break,
        }
    }
    Ok(batch)
}

/// Before crash-safe checkpoints the projector used a durable consumer
/// named `options.durable` (ack policy all, which acknowledged deliveries
/// of dead processes); it is no longer read, so it is removed.
async fn forget_legacy_consumer(js: &jetstream::Context, options: &ProjectorOptions) {
    if let Ok(stream) = js.get_stream(&options.stream).await
        && stream.delete_consumer(&options.durable).await.is_ok()
    {
        tracing::info!(consumer = %options.durable, "removed the projector's old durable consumer");
    }
}

/// Folds a batch, retrying reads that fail transiently.
async fn fold_with_retry(
    folder: &mut Folder,
    store: &dyn ProjectionStore,
    events: &[StoredEvent],
    options: &ProjectorOptions,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Documents, ProjectorError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match folder.fold_batch(store, events).await {
            Ok(documents) => return Ok(documents),
            Err(e) if e.is_transient() && !*shutdown.borrow() => {
                folder.reset(store);
                pause(options.backoff.delay(attempt, &e), &e, shutdown).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Writes a batch, retrying while the store is unavailable. `None` when
/// shutdown interrupted the retries (the batch stays unacked).
async fn write_with_retry(
    store: &dyn ProjectionStore,
    documents: &Documents,
    options: &ProjectorOptions,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Option<()>, ProjectorError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match store.write(documents).await {
            Ok(()) => return Ok(Some(())),
            Err(_) if *shutdown.borrow() => return Ok(None),
            Err(e) if e.is_transient() => {
                options
                    .readiness
                    .set(PartState::down(format!("projection store: {e}")));
                pause(options.backoff.delay(attempt, &e), &e, shutdown).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

async fn pause(delay: Duration, error: &StoreError, shutdown: &mut watch::Receiver<bool>) {
    metrics::counter!(metric::STORE_RETRIES).increment(1);
    tracing::warn!(%error, delay_ms = delay.as_millis() as u64, "projection store unavailable; retrying");
    tokio::select! {
        _ = shutdown.changed() => {}
        _ = tokio::time::sleep(delay) => {}
    }
}
