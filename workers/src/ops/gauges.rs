//! Periodic tasks that keep gauges and readiness current, so neither the
//! scrape nor `/readyz` does I/O: the consumer-pending gauges of a worker,
//! the projection-lag gauges of a projector, and a probe of a store.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{consumer::pull, stream::Stream};
use switchboard_engine::projection::ProjectionStore;
use tokio::sync::watch;

use super::{Part, PartState};
use crate::projector::ProjectorOptions;

/// Metric names.
pub mod metric {
    /// Gauge: messages of a durable consumer not yet delivered, per `consumer`.
    pub const CONSUMER_PENDING: &str = "switchboard_consumer_pending";
    /// Gauge: messages delivered to a consumer and not yet acked, per `consumer`.
    pub const CONSUMER_ACK_PENDING: &str = "switchboard_consumer_ack_pending";
}

/// How often the periodic gauges and probes run.
pub const EVERY: Duration = Duration::from_secs(5);

/// Runs `tick` every `every` (the first at once) until `shutdown`.
async fn every<F, Fut>(every: Duration, mut shutdown: watch::Receiver<bool>, mut tick: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !*shutdown.borrow() {
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = interval.tick() => tick().await,
        }
    }
}

/// Sets `switchboard_consumer_pending` and `..._ack_pending` for the
/// durable consumer `name` of `stream` every [`EVERY`] until `shutdown`.
pub fn consumer_pending(
    stream: Stream,
    name: String,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(every(EVERY, shutdown, move || {
        let (stream, name) = (stream.clone(), name.clone());
        async move {
            match stream.get_consumer::<pull::Config>(&name).await {
                Ok(mut consumer) => match consumer.info().await {
                    Ok(info) => {
                        let pending = info.num_pending as f64;
                        let ack_pending = info.num_ack_pending as f64;
                        metrics::gauge!(metric::CONSUMER_PENDING, "consumer" => name.clone())
                            .set(pending);
                        metrics::gauge!(metric::CONSUMER_ACK_PENDING, "consumer" => name)
                            .set(ack_pending);
                    }
                    Err(e) => tracing::debug!(consumer = %name, error = %e, "consumer info"),
                },
                Err(e) => tracing::debug!(consumer = %name, error = %e, "consumer lookup"),
            }
        }
    }))
}

/// Sets the projection-lag gauges from the log and the store's checkpoints
/// every [`EVERY`] until `shutdown`: the lag shows even while the projector
/// is stalled (store down, lease lost), when it folds no batch.
pub fn projection_lag(
    client: async_nats::Client,
    store: Arc<dyn ProjectionStore>,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let options = ProjectorOptions::default();
    tokio::spawn(every(EVERY, shutdown, move || {
        let (client, store, options) = (client.clone(), store.clone(), options.clone());
        async move {
            if let Err(e) = crate::projector::status(client, store.as_ref(), &options).await {
                tracing::debug!(error = %e, "projection lag not measured");
            }
        }
    }))
}

/// Marks `part` ready while `store` answers a cheap read (its checkpoints),
/// down otherwise; every [`EVERY`] until `shutdown`.
pub fn probe(
    part: Part,
    store: Arc<dyn ProjectionStore>,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(every(EVERY, shutdown, move || {
        let (part, store) = (part.clone(), store.clone());
        async move {
            match store.checkpoints().await {
                Ok(_) => part.set(PartState::Ready),
                Err(e) => part.set(PartState::down(format!("projection store: {e}"))),
            }
        }
    }))
}
