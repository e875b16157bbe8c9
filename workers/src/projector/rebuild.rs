//! Rebuild and status.
//!
//! [`rebuild`] replays the stream with an ordered consumer into a fresh copy
//! of the store and swaps it in: on SQLite a new file beside the old one,
//! renamed over it; on Cosmos DB the containers of the next generation, made
//! active by an etag-guarded replace of the generation document (see
//! `switchboard_engine::projection::cosmos`). It reads until it has caught
//! up with the stream's last sequence, so the copy is complete up to the
//! moment of the swap, and its checkpoint says so. Beside a running system
//! the running projector does the rebuild itself, paused (see
//! [`super::control`]); a projector in another process over the same Cosmos
//! DB account notices the new generation before its next batch and resumes
//! from the new copy's checkpoint, so events appended meanwhile are folded
//! into the new copy too.
//!
//! [`status`] compares each projection's checkpoint with the log: events
//! past it are the real lag.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull};
use futures::StreamExt;
use serde::Serialize;
use switchboard_engine::projection::{Folder, PROJECTIONS, ProjectionStore};
use tokio::sync::mpsc;

use super::{ProjectorError, ProjectorOptions, decode, metric};

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RebuildReport {
    /// Messages replayed (decoded or not).
    pub events: u64,
    /// Messages that did not decode (skipped).
    pub undecodable: u64,
    /// Stream sequence the copy is complete up to.
    pub last_seq: u64,
    /// Wall time of the replay (swap excluded), seconds.
    pub seconds: f64,
    /// Events replayed per second.
    pub per_s: f64,
}

/// Replays the whole stream into a fresh copy of `store` and swaps it in.
/// `progress(done, total)` is called after each written batch.
pub async fn rebuild(
    client: async_nats::Client,
    store: Arc<dyn ProjectionStore>,
    options: &ProjectorOptions,
    progress: impl FnMut(u64, u64),
) -> Result<RebuildReport, ProjectorError> {
    let fresh = store.fresh_copy().await?;
    let report = replay_into(client, fresh.clone(), options, progress).await?;
    store.swap_in(fresh).await?;
    tracing::info!(
        events = report.events,
        per_s = report.per_s as u64,
        "projections rebuilt and swapped in"
    );
    Ok(report)
}

/// Replays `options.filter` from the start into `store`, assumed empty,
/// until caught up with the stream. Decoding and folding overlap with the
/// previous batch's write.
pub async fn replay_into(
    client: async_nats::Client,
    store: Arc<dyn ProjectionStore>,
    options: &ProjectorOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<RebuildReport, ProjectorError> {
    let started = Instant::now();
    let js = jetstream::new(client);
    let mut stream = js
        .get_stream(&options.stream)
        .await
        .map_err(ProjectorError::nats)?;
    let info = stream.info().await.map_err(ProjectorError::nats)?;
    let target = info.state.last_sequence;
    let mut report = RebuildReport {
        events: 0,
        undecodable: 0,
        last_seq: 0,
        seconds: 0.0,
        per_s: 0.0,
    };
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            filter_subject: options.filter.clone(),
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(ProjectorError::nats)?;
    let total = consumer.cached_info().num_pending;
    if total == 0 {
        return Ok(report);
    }
    let mut messages = consumer.messages().await.map_err(ProjectorError::nats)?;
    // One writer task, one batch ahead: fold batch n+1 while n is written.
    let (tx, mut rx) = mpsc::channel::<switchboard_engine::projection::Documents>(2);
    let writer_store = store.clone();
    let writer = tokio::spawn(async move {
        while let Some(documents) = rx.recv().await {
            writer_store.write(&documents).await?;
        }
        Ok::<(), switchboard_engine::projection::StoreError>(())
    });
    // The fresh store is empty and nothing else writes it: keep every
    // document in memory so the fold never reads back.
    let mut folder = Folder::for_empty(store.as_ref(), usize::MAX);
    let mut buffer = Vec::with_capacity(options.batch);
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), messages.next())
            .await
            .map_err(|_| ProjectorError::Nats("replay stalled for 30 s".into()))?
            .ok_or_else(|| ProjectorError::Nats("replay consumer ended".into()))?
            .map_err(ProjectorError::nats)?;
        let info = message.info().map_err(ProjectorError::nats)?;
        let seq = info.stream_sequence;
        let pending = info.pending;
        buffer.push(message);
        if buffer.len() >= options.batch || seq >= target || pending == 0 {
            let (events, _) = decode::decode_all(&buffer, options.cipher.as_ref()).await;
            report.undecodable += (buffer.len() - events.len()) as u64;
            report.events += buffer.len() as u64;
            report.last_seq = seq;
            buffer.clear();
            let documents = folder.fold_batch(store.as_ref(), &events).await?;
            if tx.send(documents).await.is_err() {
                break;
            }
            progress(report.events, total.max(report.events));
        }
        if pending == 0 {
            break;
        }
    }
    drop(tx);
    writer
        .await
        .map_err(|e| ProjectorError::Nats(format!("writer task: {e}")))??;
    report.seconds = started.elapsed().as_secs_f64();
    report.per_s = report.events as f64 / report.seconds.max(1e-9);
    Ok(report)
}

/// Lag of one projection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectionLag {
    /// `conversations`, `escalations`, `analytics` or `customers`.
    pub projection: String,
    /// Last stream sequence folded in.
    pub last_seq: u64,
    /// Stream sequences behind the stream's last.
    pub lag: u64,
}

/// Where the projections stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The stream's last sequence.
    pub stream_last_seq: u64,
    /// Events in the log past the lowest projection checkpoint: what the
    /// projector still has to fold.
    pub pending: u64,
    /// Per projection.
    pub projections: Vec<ProjectionLag>,
}

/// Reports lag per projection, and sets the lag gauges. The lag is counted
/// in the log (events past each checkpoint on the projector's subjects), so
/// it is real whatever state any consumer is in.
pub async fn status(
    client: async_nats::Client,
    store: &dyn ProjectionStore,
    options: &ProjectorOptions,
) -> Result<Status, ProjectorError> {
    let js = jetstream::new(client);
    let mut stream = js
        .get_stream(&options.stream)
        .await
        .map_err(ProjectorError::nats)?;
    let stream_last_seq = stream
        .info()
        .await
        .map_err(ProjectorError::nats)?
        .state
        .last_sequence;
    let checkpoints = store.checkpoints().await?;
    let mut projections = Vec::new();
    let mut pending = 0;
    for p in PROJECTIONS {
        let last_seq = checkpoints.get(p);
        let lag = events_after(&stream, options, last_seq, stream_last_seq).await?;
        pending = pending.max(lag);
        metrics::gauge!(metric::LAG, "projection" => p).set(lag as f64);
        projections.push(ProjectionLag {
            projection: p.to_owned(),
            last_seq,
            lag,
        });
    }
    Ok(Status {
        stream_last_seq,
        pending,
        projections,
    })
}

/// Messages on the projector's subjects with a sequence above `after`.
async fn events_after(
    stream: &jetstream::stream::Stream,
    options: &ProjectorOptions,
    after: u64,
    last: u64,
) -> Result<u64, ProjectorError> {
    if after >= last {
        return Ok(0);
    }
    let consumer = stream
        .create_consumer(super::reading_after(options, after))
        .await
        .map_err(ProjectorError::nats)?;
    Ok(consumer.cached_info().num_pending)
}
