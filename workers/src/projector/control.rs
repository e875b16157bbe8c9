//! Requests to a running projector: a rebuild beside a running system.
//!
//! A projector answers [`REBUILD_SUBJECT`] (queue group `projector`, so one
//! projector takes each request). It pauses its own loop, rebuilds its store
//! (fresh copy, replay, swap), resumes from the new copy's checkpoint, and
//! streams [`RebuildUpdate`]s to the inbox the request named. Nothing is
//! lost: events appended during the rebuild are past the copy's checkpoint
//! and folded as soon as the projector resumes. When no projector answers,
//! the CLI rebuilds by itself (the system is stopped).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use switchboard_engine::projection::ProjectionStore;

use super::{ProjectorError, ProjectorOptions, RebuildReport};

/// Subject of rebuild requests.
pub const REBUILD_SUBJECT: &str = "switchboard.projector.rebuild";

/// Queue group of the projectors answering it.
const QUEUE: &str = "projector";

/// Least time between two progress updates.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// A rebuild request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RebuildRequest {
    /// Inbox the updates go to.
    pub progress: String,
    /// The SQLite file the caller means to rebuild, if SQLite; a projector
    /// over another file refuses (`None`: whatever the projector projects into).
    #[serde(default)]
    pub location: Option<String>,
}

/// What a projector says about a rebuild it was asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RebuildUpdate {
    /// The reply to the request: this projector paused and is rebuilding.
    Accepted {
        /// `sqlite` or `cosmos`.
        backend: String,
    },
    /// Events replayed so far of the total.
    Progress {
        /// Replayed.
        done: u64,
        /// To replay.
        total: u64,
    },
    /// Swapped in; the projector has resumed.
    Done {
        /// What the rebuild did.
        report: RebuildReport,
    },
    /// The rebuild failed (the old copy stays in place) or was refused.
    Failed {
        /// Why.
        error: String,
    },
}

/// Subscribes a projector to rebuild requests.
pub(super) async fn serve(
    client: &async_nats::Client,
) -> Result<async_nats::Subscriber, ProjectorError> {
    client
        .queue_subscribe(REBUILD_SUBJECT, QUEUE.into())
        .await
        .map_err(ProjectorError::nats)
}

/// Serves one rebuild request with the projector paused. Errors are told to
/// the requester (and logged); the projector carries on either way.
pub(super) async fn rebuild(
    client: &async_nats::Client,
    store: Arc<dyn ProjectionStore>,
    options: &ProjectorOptions,
    request: async_nats::Message,
) {
    let Some(reply) = request.reply.clone() else {
        return;
    };
    let parsed: Result<RebuildRequest, _> = serde_json::from_slice(&request.payload);
    let refusal = match &parsed {
        Err(e) => Some(format!("malformed rebuild request: {e}")),
        Ok(r) => refusal(r, store.as_ref()),
    };
    if let Some(error) = refusal {
        tracing::warn!(%error, "rebuild request refused");
        send(client, reply.to_string(), &RebuildUpdate::Failed { error }).await;
        return;
    }
    let Ok(parsed) = parsed else { return };
    let accepted = RebuildUpdate::Accepted {
        backend: store.backend().into(),
    };
    send(client, reply.to_string(), &accepted).await;
    tracing::info!("rebuild requested: projector paused");
    let progress = parsed.progress.clone();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let forward = {
        let client = client.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            while let Some(update) = rx.recv().await {
                send(&client, progress.clone(), &update).await;
            }
        })
    };
    let mut last = Instant::now() - PROGRESS_EVERY;
    let outcome = super::rebuild(client.clone(), store, options, move |done, total| {
        if last.elapsed() >= PROGRESS_EVERY || done >= total {
            last = Instant::now();
            let _ = tx.send(RebuildUpdate::Progress { done, total });
        }
    })
    .await;
    // The sender went with the closure: the forwarder drains and ends.
    let _ = forward.await;
    let update = match outcome {
        Ok(report) => RebuildUpdate::Done { report },
        Err(e) => {
            tracing::error!(error = %e, "rebuild failed; the projections in place are kept");
            RebuildUpdate::Failed {
                error: e.to_string(),
            }
        }
    };
    send(client, progress, &update).await;
}

/// Why this projector cannot serve the request, if it cannot.
fn refusal(request: &RebuildRequest, store: &dyn ProjectionStore) -> Option<String> {
    let wanted = request.location.as_deref()?;
    let ours = store.location()?;
    let same = match (std::fs::canonicalize(wanted), std::fs::canonicalize(&ours)) {
        (Ok(a), Ok(b)) => a == b,
        _ => std::path::Path::new(wanted) == ours,
    };
    (!same).then(|| {
        format!(
            "the running projector projects into {}, not {wanted}",
            ours.display()
        )
    })
}

async fn send(client: &async_nats::Client, subject: String, update: &RebuildUpdate) {
    let Ok(body) = serde_json::to_vec(update) else {
        return;
    };
    if let Err(e) = client.publish(subject, body.into()).await {
        tracing::warn!(error = %e, "could not send a rebuild update");
    }
    let _ = client.flush().await;
}
