//! Dead letters for messages whose every delivery crashed or hung a worker.
//!
//! When a worker process dies (or hangs past the ack wait) on each of a
//! message's deliveries, no handler ever sees the failure: JetStream stops
//! redelivering after max-deliver and publishes the advisory
//! `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>` with the
//! message's stream sequence. The `ADVISORIES` stream keeps those advisories
//! (so one published while no worker runs is not lost), and every worker
//! process competes on its durable consumer `deadletter`: it reads the
//! message back by sequence and dead-letters it like any other failure, so
//! the conversation goes to a human.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use serde::Deserialize;
use tokio::sync::watch;

use super::StepError;
use super::deadletter::{self, Letter, Reason};
use switchboard_engine::store::EventStore;

/// The stream keeping the advisories (see `streams/streams.toml`).
pub const STREAM: &str = "ADVISORIES";

/// The durable consumer every worker process shares on it.
pub const CONSUMER: &str = "deadletter";

/// The part of a max-deliveries advisory used here.
#[derive(Debug, Deserialize)]
struct MaxDeliveries {
    stream: String,
    consumer: String,
    stream_seq: u64,
    deliveries: i64,
}

/// Serves the advisories until `shutdown` turns true. A missing
/// `ADVISORIES` stream (streams not applied since it was added) is logged
/// once and the task ends: the workers keep working.
pub async fn run(store: EventStore, consumer_prefix: String, mut shutdown: watch::Receiver<bool>) {
    let consumer = match bind(&store).await {
        Ok(consumer) => consumer,
        Err(e) => {
            tracing::warn!(error = %e, "no max-deliveries advisories: run `switchboard streams apply`");
            return;
        }
    };
    let mut failures = 0u32;
    while !*shutdown.borrow() {
        let batch = consumer
            .batch()
            .max_messages(16)
            .expires(Duration::from_secs(1))
            .messages()
            .await;
        let mut batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                failures += 1;
                tracing::debug!(error = %e, "advisory fetch failed");
                super::pause(failures, &mut shutdown).await;
                continue;
            }
        };
        failures = 0;
        while let Some(Ok(message)) = batch.next().await {
            handle(&store, &consumer_prefix, &message).await;
        }
    }
}

async fn bind(store: &EventStore) -> Result<jetstream::consumer::PullConsumer, String> {
    let stream = store
        .jetstream()
        .get_stream(STREAM)
        .await
        .map_err(|e| e.to_string())?;
    stream
        .get_or_create_consumer(
            CONSUMER,
            pull::Config {
                durable_name: Some(CONSUMER.into()),
                description: Some(
                    "Switchboard: dead letters from max-deliveries advisories".into(),
                ),
                ack_wait: Duration::from_secs(30),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())
}

/// Dead-letters the message one advisory names; acked once that is stored
/// (or the advisory is not ours), left for redelivery otherwise.
async fn handle(store: &EventStore, prefix: &str, message: &jetstream::Message) {
    let Ok(advisory) = serde_json::from_slice::<MaxDeliveries>(&message.payload) else {
        tracing::warn!(subject = %message.subject, "unreadable advisory skipped");
        let _ = message.ack().await;
        return;
    };
    if advisory.stream != store.options().stream {
        let _ = message.ack().await;
        return;
    }
    match bury(store, prefix, &advisory).await {
        Ok(()) => {
            let _ = message.ack().await;
        }
        Err(e) => {
            tracing::warn!(error = %e, seq = advisory.stream_seq, "could not dead-letter from an advisory; will retry");
            let _ = message
                .ack_with(jetstream::AckKind::Nak(Some(Duration::from_secs(5))))
                .await;
        }
    }
}

async fn bury(store: &EventStore, prefix: &str, advisory: &MaxDeliveries) -> Result<(), String> {
    let stream = store
        .jetstream()
        .get_stream(&store.options().stream)
        .await
        .map_err(|e| e.to_string())?;
    let stored = stream
        .get_raw_message(advisory.stream_seq)
        .await
        .map_err(|e| e.to_string())?;
    let letter = Letter {
        subject: stored.subject.to_string(),
        headers: Some(stored.headers),
        payload: stored.payload,
        seq: stored.sequence,
    };
    let by = advisory
        .consumer
        .strip_prefix(prefix)
        .and_then(|s| s.strip_prefix('-'))
        .unwrap_or(&advisory.consumer);
    let error = StepError::permanent(
        "crashed",
        format!(
            "none of its {} deliveries to {} was acknowledged: the worker crashed or hung on each",
            advisory.deliveries, advisory.consumer
        ),
    );
    let reason = Reason {
        by,
        error: &error,
        attempts: advisory.deliveries,
    };
    tracing::error!(consumer = %advisory.consumer, seq = advisory.stream_seq, "max deliveries reached: dead-lettering");
    deadletter::bury(store, &letter, &reason)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
