//! The projection check of `bench chaos`: once the projector has caught
//! up with the stream, its live documents must equal, one by one, those
//! of a fresh replay of the log (`replay_into`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use switchboard_engine::ids::Tenant;
use switchboard_engine::projection::{CustomerKey, DocKeys, ProjectionStore, Scope};
use switchboard_engine::store::EventStore;
use switchboard_workers::projector::{ProjectorOptions, replay_into};

use super::verify::stream_last_seq;

/// Mismatching documents named in a summary, at most.
const SAMPLES: usize = 5;

/// Live projections against a fresh replay of the log.
#[derive(Debug, Default, Serialize)]
pub struct ProjectionCheck {
    /// Documents missing on one side or different.
    pub mismatches: u64,
    /// The same, per projection.
    pub by_projection: BTreeMap<&'static str, u64>,
    /// Documents compared (union of both sides).
    pub documents: u64,
    /// Events the replay folded.
    pub replayed_events: u64,
    /// Some mismatching documents, as `projection/id`.
    #[serde(skip)]
    pub samples: Vec<String>,
}

/// Replays the whole log into `fresh` (empty) and compares every
/// document of `tenant` in the four projections with `live`.
pub async fn compare_projections(
    client: async_nats::Client,
    live: &dyn ProjectionStore,
    fresh: Arc<dyn ProjectionStore>,
    tenant: &Tenant,
) -> anyhow::Result<ProjectionCheck> {
    let report = replay_into(
        client,
        fresh.clone(),
        &ProjectorOptions::default(),
        |_, _| {},
    )
    .await
    .context("replaying the log into a fresh store")?;
    let scope = Scope::tenant(tenant.clone());
    let mut check = ProjectionCheck {
        replayed_events: report.events,
        ..ProjectionCheck::default()
    };
    let (a, b) = (
        live.conversations(&scope).await?,
        fresh.conversations(&scope).await?,
    );
    let customers: Vec<CustomerKey> = a
        .iter()
        .chain(&b)
        .filter(|d| !d.customer_id.is_empty())
        .map(|d| CustomerKey {
            tenant: d.tenant.clone(),
            customer_id: d.customer_id.clone(),
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    diff(
        &mut check,
        "conversations",
        by_id(a, |d| d.id.clone()),
        by_id(b, |d| d.id.clone()),
    );
    let (a, b) = (
        live.escalations(tenant).await?,
        fresh.escalations(tenant).await?,
    );
    diff(
        &mut check,
        "escalations",
        by_id(a, |d| d.id.clone()),
        by_id(b, |d| d.id.clone()),
    );
    let (a, b) = (
        live.analytics(&scope).await?,
        fresh.analytics(&scope).await?,
    );
    diff(
        &mut check,
        "analytics",
        by_id(a, |d| d.id.clone()),
        by_id(b, |d| d.id.clone()),
    );
    let keys = DocKeys {
        customers,
        ..DocKeys::default()
    };
    let (a, b) = (
        live.get(&keys).await?.customers,
        fresh.get(&keys).await?.customers,
    );
    diff(
        &mut check,
        "customers",
        by_id(a, |d| d.id.clone()),
        by_id(b, |d| d.id.clone()),
    );
    Ok(check)
}

fn by_id<T>(docs: Vec<T>, id: impl Fn(&T) -> String) -> BTreeMap<String, T> {
    docs.into_iter().map(|d| (id(&d), d)).collect()
}

fn diff<T: PartialEq>(
    check: &mut ProjectionCheck,
    projection: &'static str,
    live: BTreeMap<String, T>,
    rebuilt: BTreeMap<String, T>,
) {
    let ids: std::collections::BTreeSet<&String> = live.keys().chain(rebuilt.keys()).collect();
    let mut bad = 0;
    for id in &ids {
        if live.get(*id) != rebuilt.get(*id) {
            bad += 1;
            if check.samples.len() < SAMPLES {
                check.samples.push(format!("{projection}/{id}"));
            }
        }
    }
    check.documents += ids.len() as u64;
    check.mismatches += bad;
    check.by_projection.insert(projection, bad);
}

/// Waits until every projection's checkpoint in `live` has reached the
/// stream's last sequence; `false` if `deadline` passed first.
pub async fn wait_projector(
    store: &EventStore,
    live: &dyn ProjectionStore,
    deadline: Instant,
) -> anyhow::Result<bool> {
    loop {
        let last = stream_last_seq(store).await.unwrap_or(u64::MAX);
        if let Ok(checkpoints) = live.checkpoints().await {
            let behind = switchboard_engine::projection::PROJECTIONS
                .iter()
                .any(|p| checkpoints.get(p) < last);
            if !behind {
                return Ok(true);
            }
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
