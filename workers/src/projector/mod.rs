//! The projector: folds the conversation log into the projection store.
//!
//! [`run_projector`] holds the durable pull consumer `projector` over
//! `conv.>` on `CONVERSATIONS`. It fetches a batch, decodes it (an
//! undecodable message is logged, counted and acknowledged with the batch:
//! it never stalls the projection), folds it with a [`Folder`], writes the
//! changed documents in one store write (retried with backoff while the store
//! is unavailable), and only then acknowledges the batch. The consumer uses
//! `AckPolicy::All`, so acking the last message acks the batch, and the ack
//! floor is the projector's checkpoint: a crash re-delivers at most the batch
//! in flight, which the sequence-gated documents ignore.
//!
//! [`rebuild`] replays the whole stream into a fresh copy of the store and
//! swaps it in; [`status`] reports lag per projection; [`bench_projections`]
//! measures rebuild against a raw consume.

mod bench;
mod decode;
mod rebuild;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::AckPolicy, consumer::pull};
use futures::StreamExt;
use switchboard_engine::event::StoredEvent;
use switchboard_engine::projection::retry::Backoff;
use switchboard_engine::projection::{Documents, Folder, ProjectionStore, StoreError};
use tokio::sync::watch;

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
    /// Durable consumer name. Default `projector`.
    pub durable: String,
    /// Most events per batch (one store write). Default 1,000.
    pub batch: usize,
    /// Longest wait for a batch to fill. Default 100 ms.
    pub max_wait: Duration,
    /// Redelivery timeout of an unacked batch; must exceed the longest
    /// store outage the backoff rides out before shutdown. Default 60 s.
    pub ack_wait: Duration,
    /// Backoff of store writes. Default 20 ms doubling to 5 s, for ever.
    pub backoff: Backoff,
    /// Conversation documents cached by the folder. Default 100,000.
    pub cache_capacity: usize,
}

impl Default for ProjectorOptions {
    fn default() -> Self {
        Self {
            stream: "CONVERSATIONS".into(),
            filter: "conv.>".into(),
            durable: "projector".into(),
            batch: 1_000,
            max_wait: Duration::from_millis(100),
            ack_wait: Duration::from_secs(60),
            backoff: Backoff::default(),
            cache_capacity: switchboard_engine::projection::folder::DEFAULT_CAPACITY,
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

async fn consumer(
    js: &jetstream::Context,
    options: &ProjectorOptions,
) -> Result<jetstream::consumer::Consumer<pull::Config>, ProjectorError> {
    let stream = js
        .get_stream(&options.stream)
        .await
        .map_err(ProjectorError::nats)?;
    stream
        .get_or_create_consumer(
            &options.durable,
            pull::Config {
                durable_name: Some(options.durable.clone()),
                filter_subject: options.filter.clone(),
                ack_policy: AckPolicy::All,
                ack_wait: options.ack_wait,
                max_ack_pending: -1,
                ..Default::default()
            },
        )
        .await
        .map_err(ProjectorError::nats)
}

/// Runs the projector until `shutdown` turns true (or its sender is
/// dropped). Returns `Ok(())` on shutdown; a batch being written when
/// shutdown arrives is finished or left unacked for redelivery.
pub async fn run_projector(
    client: async_nats::Client,
    store: Arc<dyn ProjectionStore>,
    options: ProjectorOptions,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ProjectorError> {
    let js = jetstream::new(client);
    let consumer = consumer(&js, &options).await?;
    let mut folder = Folder::new(store.as_ref(), options.cache_capacity);
    tracing::info!(durable = %options.durable, backend = store.backend(), "projector started");
    while !*shutdown.borrow() {
        let fetch = consumer
            .batch()
            .max_messages(options.batch)
            .expires(options.max_wait)
            .messages();
        let mut batch = tokio::select! {
            _ = shutdown.changed() => break,
            batch = fetch => batch.map_err(ProjectorError::nats)?,
        };
        let mut messages = Vec::with_capacity(options.batch);
        while let Some(message) = batch.next().await {
            match message {
                Ok(m) => messages.push(m),
                Err(e) => tracing::debug!(error = %e, "fetch ended early"),
            }
        }
        let Some(last) = messages.last() else {
            continue;
        };
        let events = decode::decode_all(&messages);
        let documents = fold_with_retry(
            &mut folder,
            store.as_ref(),
            &events,
            &options,
            &mut shutdown,
        )
        .await?;
        let Some(()) =
            write_with_retry(store.as_ref(), &documents, &options, &mut shutdown).await?
        else {
            folder.reset(store.as_ref());
            break;
        };
        folder.written(store.as_ref());
        last.ack().await.map_err(ProjectorError::nats)?;
        metrics::counter!(metric::FOLDED).increment(events.len() as u64);
        if let Ok(info) = last.info() {
            for p in switchboard_engine::projection::PROJECTIONS {
                metrics::gauge!(metric::LAG, "projection" => p).set(info.pending as f64);
            }
        }
    }
    tracing::info!(durable = %options.durable, "projector stopped");
    Ok(())
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
