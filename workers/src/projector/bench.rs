//! `switchboard bench projections`: rebuild rate into SQLite against a raw
//! read of the same events through the same kind of consumer, measured in
//! the same run.
//!
//! The benchmark publishes `n_events` under a tenant of its own (whole
//! conversations of eight events each), reads them once with an ordered
//! consumer over the same filter that only counts the messages (the
//! baseline), then replays them into a fresh SQLite file in a temporary
//! directory (the rebuild, also an ordered consumer, no acks). The baseline
//! does the rebuild's reading and nothing else: no acks, no decoding, no
//! folding, no store writes, so the ratio is the cost of the projection
//! work itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull};
use futures::StreamExt;
use serde::Serialize;
use switchboard_engine::event::codec::encode;
use switchboard_engine::event::*;
use switchboard_engine::ids::{ConversationId, ConversationKey, Tenant};
use switchboard_engine::projection::StoreErrorKind;
use switchboard_engine::projection::sqlite::{SqliteConfig, SqliteStore};

use super::{ProjectorError, ProjectorOptions, replay_into};

/// The benchmark's figures; serialises with the keys the CLI prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Events measured.
    pub events: u64,
    /// Events per second replayed and folded into SQLite.
    pub rebuild_per_s: f64,
    /// Events per second of a raw read: an ordered consumer over the same
    /// filter as the rebuild, messages counted only (no acks, no decoding).
    pub baseline_per_s: f64,
    /// `rebuild_per_s / baseline_per_s` (target ≥ 0.5 in release).
    pub ratio: f64,
}

/// Runs the benchmark against the `CONVERSATIONS` stream of `client`'s server.
pub async fn bench_projections(
    client: async_nats::Client,
    n_events: u64,
) -> Result<BenchReport, ProjectorError> {
    let tenant = Tenant::new(format!("bench-{}", uuid::Uuid::now_v7().simple()))
        .map_err(ProjectorError::nats)?;
    let js = jetstream::new(client.clone());
    publish(&js, &tenant, n_events).await?;
    let options = ProjectorOptions {
        filter: switchboard_engine::subject::tenant_events(&tenant),
        ..ProjectorOptions::default()
    };
    let baseline_per_s = baseline(&js, &options, n_events).await?;
    let dir = tempfile::tempdir().map_err(|e| store_io(e.to_string()))?;
    let store =
        Arc::new(SqliteStore::open(SqliteConfig::new(dir.path().join("bench.sqlite"))).await?);
    let report = replay_into(client, store, &options, |_, _| {}).await?;
    Ok(BenchReport {
        events: report.events,
        rebuild_per_s: report.per_s,
        baseline_per_s,
        ratio: report.per_s / baseline_per_s.max(1e-9),
    })
}

fn store_io(message: String) -> ProjectorError {
    ProjectorError::Store(switchboard_engine::projection::StoreError::new(
        StoreErrorKind::Rejected,
        "sqlite",
        message,
    ))
}

/// One conversation's eight events, in order.
fn conversation(key: ConversationKey) -> Vec<Event> {
    let received = Event::new_root(
        key,
        Actor::channel("web"),
        EventData::Received(Received {
            message_id: uuid::Uuid::now_v7().to_string(),
            channel: "web".into(),
            customer: Customer {
                id: "bench-customer".into(),
                tier: CustomerTier::Standard,
            },
            language: "en".into(),
            text: "where is my order #1001?".into(),
        }),
    );
    let worker = |name| Actor::worker(name);
    let data = [
        (
            "critic",
            EventData::Screened(Screened {
                verdict: ScreenVerdict::Allow,
                findings: vec![],
                redactions: vec![],
                model: None,
            }),
        ),
        (
            "intent",
            EventData::Classified(Classified {
                intent: Intent::OrderStatus,
                confidence: 0.93,
                sentiment: Sentiment::Neutral,
                entities: Entities::default(),
                signals: vec![],
                model: None,
            }),
        ),
        (
            "knowledge",
            EventData::Retrieved(Retrieved {
                query: "order status".into(),
                passages: vec![],
                records: vec![],
            }),
        ),
        (
            "response",
            EventData::Drafted(Drafted {
                text: "Your order shipped.".into(),
                sources: vec![],
                attempt: 1,
                model: ModelUsage::local("local"),
            }),
        ),
        (
            "critic",
            EventData::Validated(Validated {
                verdict: ValidateVerdict::Approve,
                findings: vec![],
                attempt: 1,
                model: None,
            }),
        ),
        (
            "critic",
            EventData::Responded(Responded {
                text: "Your order shipped.".into(),
            }),
        ),
        (
            "gateway",
            EventData::Closed(Closed {
                resolution: Resolution::Resolved,
                satisfaction: None,
            }),
        ),
    ];
    let mut events = vec![received.clone()];
    for (actor, data) in data {
        events.push(Event::caused_by(&received.envelope, worker(actor), data));
    }
    events
}

async fn publish(js: &jetstream::Context, tenant: &Tenant, n: u64) -> Result<(), ProjectorError> {
    let mut acks = Vec::with_capacity(1024);
    let mut sent = 0u64;
    let mut index = 0u64;
    while sent < n {
        let id = ConversationId::new(format!("c{index}")).map_err(ProjectorError::nats)?;
        index += 1;
        for event in conversation(ConversationKey::new(tenant.clone(), id))
            .into_iter()
            .take((n - sent) as usize)
        {
            let encoded = encode(&event);
            let ack = js
                .publish_with_headers(encoded.subject, encoded.headers, encoded.payload)
                .await
                .map_err(ProjectorError::nats)?;
            acks.push(ack);
            sent += 1;
            if acks.len() >= 1024 {
                for ack in acks.drain(..) {
                    ack.await.map_err(ProjectorError::nats)?;
                }
            }
        }
    }
    for ack in acks {
        ack.await.map_err(ProjectorError::nats)?;
    }
    Ok(())
}

/// Raw read, the rebuild's reading and no more: the same consumer kind (an
/// ordered pull consumer from the first message, no acks) over the same
/// filter, timed like the rebuild from looking the stream up to the last
/// message, each message only counted.
async fn baseline(
    js: &jetstream::Context,
    options: &ProjectorOptions,
    n: u64,
) -> Result<f64, ProjectorError> {
    let started = Instant::now();
    let stream = js
        .get_stream(&options.stream)
        .await
        .map_err(ProjectorError::nats)?;
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            filter_subject: options.filter.clone(),
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(ProjectorError::nats)?;
    let mut messages = consumer.messages().await.map_err(ProjectorError::nats)?;
    let mut done = 0;
    while done < n {
        // The same stall guard as the rebuild's.
        let message = tokio::time::timeout(Duration::from_secs(30), messages.next())
            .await
            .map_err(|_| ProjectorError::Nats("baseline read stalled for 30 s".into()))?
            .ok_or_else(|| ProjectorError::Nats("baseline consumer ended".into()))?;
        message.map_err(ProjectorError::nats)?;
        done += 1;
    }
    Ok(done as f64 / started.elapsed().as_secs_f64().max(1e-9))
}
