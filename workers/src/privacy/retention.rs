//! Retention: a tenant's closed conversations are shredded once they have
//! been closed longer than its retention period.
//!
//! [`apply_retention`] is one pass for one tenant (the `retention run`
//! command). [`RetentionSchedule`] holds the periods a deployment
//! configures per tenant (`--retention brewvi=30d`) and [`run_schedule`]
//! makes a pass over each at start and then every `every`, in `up` and in
//! the `projector` role (the process that holds the projections, which say
//! which conversations are closed and since when). Each pass is recorded in
//! the `SWITCHBOARD_RETENTION` bucket ([`RetentionLedger`], one entry per
//! tenant) so `projections status` can tell when retention last ran and what
//! it shredded, from any process.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use switchboard_engine::event::{Actor, ErasureReason};
use switchboard_engine::ids::Tenant;
use switchboard_engine::projection::{ConversationDoc, ConversationStatus, ProjectionStore, Scope};
use switchboard_engine::store::EventStore;
use tokio::sync::watch;

use super::{KeyRing, PrivacyError, metric, record_erasure};
use crate::intake::Intake;

/// The bucket of retention passes, one entry per tenant.
pub const BUCKET: &str = "SWITCHBOARD_RETENTION";

/// What a retention pass did.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionReport {
    /// The tenant.
    pub tenant: String,
    /// Closed conversations looked at.
    pub closed: usize,
    /// Conversations whose keys were shredded in this pass.
    pub shredded: Vec<String>,
}

/// Shreds the keys of `tenant`'s conversations closed (by the projections)
/// before `now - period`, and records each erasure. Conversations shredded
/// earlier have no key left and are passed over.
pub async fn apply_retention(
    store: &EventStore,
    ring: &KeyRing,
    projections: &dyn ProjectionStore,
    tenant: &Tenant,
    period: Duration,
    now: DateTime<Utc>,
) -> Result<RetentionReport, PrivacyError> {
    let period = chrono::Duration::from_std(period).unwrap_or(chrono::Duration::MAX);
    let cutoff = now
        .checked_sub_signed(period)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let docs = projections
        .conversations(&Scope::tenant(tenant.clone()))
        .await
        .map_err(|e| PrivacyError::Projections(e.to_string()))?;
    let closed: Vec<&ConversationDoc> = docs
        .iter()
        .filter(|d| d.status == ConversationStatus::Closed && d.updated_at <= cutoff)
        .collect();
    let intake = Intake::new(store.clone());
    let mut shredded = Vec::new();
    for doc in &closed {
        let key = doc.key();
        if ring.shred_conversation(&key).await? {
            let request = format!("retention/{}", doc.last_seq);
            let actor = Actor::worker("retention");
            record_erasure(&intake, &key, actor, ErasureReason::Retention, &request).await?;
            shredded.push(key.to_string());
        }
    }
    metrics::counter!(metric::SHREDDED, "reason" => "retention").increment(shredded.len() as u64);
    if !shredded.is_empty() {
        tracing::info!(%tenant, conversations = shredded.len(), "retention shredded closed conversations");
    }
    Ok(RetentionReport {
        tenant: tenant.to_string(),
        closed: closed.len(),
        shredded,
    })
}

/// The retention periods of a deployment, and how often to apply them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionSchedule {
    /// Retention period per tenant; tenants not named keep everything.
    pub periods: BTreeMap<Tenant, Duration>,
    /// Time between passes. Default: one hour.
    pub every: Duration,
}

impl Default for RetentionSchedule {
    fn default() -> Self {
        Self {
            periods: BTreeMap::new(),
            every: Duration::from_secs(3600),
        }
    }
}

impl RetentionSchedule {
    /// Whether any tenant has a retention period.
    pub fn is_empty(&self) -> bool {
        self.periods.is_empty()
    }
}

/// The last retention pass over one tenant, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionRecord {
    /// The tenant.
    pub tenant: String,
    /// Its retention period, in seconds.
    pub period_secs: u64,
    /// When the pass ran (RFC 3339).
    pub last_run_at: String,
    /// Closed conversations the pass looked at.
    pub closed: usize,
    /// Conversations shredded by that pass.
    pub shredded_last: usize,
    /// Conversations shredded by every recorded pass.
    pub shredded_total: u64,
}

/// The `SWITCHBOARD_RETENTION` bucket: the last pass per tenant.
#[derive(Clone)]
pub struct RetentionLedger {
    kv: kv::Store,
}

impl RetentionLedger {
    /// Opens the bucket, creating it on first use.
    pub async fn open(client: &async_nats::Client) -> Result<Self, PrivacyError> {
        let js = jetstream::new(client.clone());
        let config =
            crate::kv::config(BUCKET, "Switchboard: the last retention pass per tenant", 1);
        let kv = crate::kv::open_or_create(&js, config)
            .await
            .map_err(|e| PrivacyError::Log(e.to_string()))?;
        Ok(Self { kv })
    }

    /// The bucket if it exists (no pass was ever recorded otherwise);
    /// creates nothing, for readers such as `projections status`.
    pub async fn existing(client: &async_nats::Client) -> Option<Self> {
        let js = jetstream::new(client.clone());
        js.get_key_value(BUCKET).await.ok().map(|kv| Self { kv })
    }

    /// Records `report`, a pass with `period` that ran at `at`.
    pub async fn record(
        &self,
        report: &RetentionReport,
        period: Duration,
        at: DateTime<Utc>,
    ) -> Result<RetentionRecord, PrivacyError> {
        let before = self.get(&report.tenant).await?;
        let record = RetentionRecord {
            tenant: report.tenant.clone(),
            period_secs: period.as_secs(),
            last_run_at: at.to_rfc3339_opts(SecondsFormat::Secs, true),
            closed: report.closed,
            shredded_last: report.shredded.len(),
            shredded_total: before.map_or(0, |b| b.shredded_total) + report.shredded.len() as u64,
        };
        let value = serde_json::to_vec(&record).map_err(|e| PrivacyError::Log(e.to_string()))?;
        self.kv
            .put(report.tenant.as_str(), value.into())
            .await
            .map_err(|e| PrivacyError::Log(format!("recording the retention pass: {e}")))?;
        Ok(record)
    }

    /// The last pass over `tenant`, if one was recorded.
    pub async fn get(&self, tenant: &str) -> Result<Option<RetentionRecord>, PrivacyError> {
        let entry = self
            .kv
            .get(tenant)
            .await
            .map_err(|e| PrivacyError::Log(format!("reading the retention ledger: {e}")))?;
        entry.map(|bytes| decode(&bytes)).transpose()
    }

    /// The last pass over every tenant, by tenant.
    pub async fn all(&self) -> Result<Vec<RetentionRecord>, PrivacyError> {
        let mut keys = self
            .kv
            .keys()
            .await
            .map_err(|e| PrivacyError::Log(format!("listing the retention ledger: {e}")))?;
        let mut out = Vec::new();
        while let Some(key) = keys.next().await {
            let key = key.map_err(|e| PrivacyError::Log(e.to_string()))?;
            out.extend(self.get(&key).await?);
        }
        out.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        Ok(out)
    }
}

fn decode(bytes: &[u8]) -> Result<RetentionRecord, PrivacyError> {
    serde_json::from_slice(bytes)
        .map_err(|e| PrivacyError::Log(format!("a retention ledger entry does not decode: {e}")))
}

/// What a scheduled pass needs.
#[derive(Clone)]
pub struct RetentionRunner {
    /// The log the erasures are recorded on.
    pub store: EventStore,
    /// The keys to shred.
    pub ring: KeyRing,
    /// Which conversations are closed, and since when.
    pub projections: Arc<dyn ProjectionStore>,
    /// Where each pass is recorded.
    pub ledger: RetentionLedger,
}

impl RetentionRunner {
    /// One pass over every tenant of `schedule`; a tenant that fails is
    /// logged and the others still run. The records written.
    pub async fn pass(&self, schedule: &RetentionSchedule) -> Vec<RetentionRecord> {
        let mut out = Vec::new();
        for (tenant, period) in &schedule.periods {
            match self.pass_over(tenant, *period).await {
                Ok(record) => out.push(record),
                Err(e) => tracing::warn!(%tenant, error = %e, "retention pass failed"),
            }
        }
        out
    }

    async fn pass_over(
        &self,
        tenant: &Tenant,
        period: Duration,
    ) -> Result<RetentionRecord, PrivacyError> {
        let now = Utc::now();
        let projections = self.projections.as_ref();
        let report =
            apply_retention(&self.store, &self.ring, projections, tenant, period, now).await?;
        self.ledger.record(&report, period, now).await
    }
}

/// Runs a pass at once and then every `schedule.every` until `shutdown`.
pub async fn run_schedule(
    runner: RetentionRunner,
    schedule: RetentionSchedule,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(schedule.every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            _ = ticks.tick() => {}
        }
        runner.pass(&schedule).await;
    }
}
