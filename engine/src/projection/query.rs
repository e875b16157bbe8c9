//! Typed queries over the projections, answered the same way on every store.
//!
//! A store only selects documents (by tenant, start-day range and channel);
//! every figure is computed here, in Rust, from integer counters. So SQLite
//! and Cosmos DB give identical answers by construction, and the arithmetic
//! is unit-tested once.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::document::{
    ConversationDoc, ConversationStatus, EscalationDoc, EscalationState, intent_label,
};
use super::{AnalyticsDoc, ProjectionStore, QueryError};
use crate::ids::Tenant;

/// Which conversations a query covers: a tenant, an inclusive range of UTC
/// start days, and optionally one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// The tenant (queries never cross tenants).
    pub tenant: Tenant,
    /// First day included; `None`: from the beginning.
    pub from: Option<NaiveDate>,
    /// Last day included; `None`: up to now.
    pub to: Option<NaiveDate>,
    /// Only this channel; `None`: all channels.
    pub channel: Option<String>,
}

impl Scope {
    /// Everything of one tenant.
    pub fn tenant(tenant: Tenant) -> Self {
        Self {
            tenant,
            from: None,
            to: None,
            channel: None,
        }
    }
}

/// A question to the projections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "query", rename_all = "snake_case")]
pub enum Query {
    /// Conversations per first intent, with mean classifier confidence.
    IntentDistribution(Scope),
    /// Share of conversations ever escalated to a human.
    EscalationRate(Scope),
    /// Share of conversations answered without a human.
    AutomationRate(Scope),
    /// First-response time percentiles (p50, p95), in milliseconds.
    FirstResponseTime(Scope),
    /// Conversations per start day.
    VolumePerDay(Scope),
    /// Critic blocks (blocked inputs plus rejected drafts) per day.
    CriticBlocks(Scope),
    /// Remote model calls, tokens and cost per day (by conversation start
    /// day), from what the events record.
    ModelUsage(Scope),
    /// Conversations, newest first, optionally by status and matching a
    /// case-insensitive search in id, customer, intent or last response.
    Conversations {
        /// Which conversations.
        scope: Scope,
        /// Only this status.
        status: Option<ConversationStatus>,
        /// Search text.
        search: Option<String>,
        /// At most this many.
        limit: usize,
    },
    /// The human queue: waiting escalations, most urgent and oldest first.
    EscalationQueue {
        /// Which tenant.
        tenant: Tenant,
        /// Only this queue.
        queue: Option<String>,
        /// At most this many.
        limit: usize,
    },
}

/// A count and its share of the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    /// What is counted (an intent label or a day).
    pub key: String,
    /// How many.
    pub count: i64,
    /// `count` over the total, 0..=1.
    pub share: f64,
    /// Mean classifier confidence, for intent rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_confidence: Option<f64>,
}

/// A ratio of conversations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    /// Conversations counted.
    pub count: i64,
    /// All conversations in scope.
    pub total: i64,
    /// `count / total`; `None` without conversations.
    pub rate: Option<f64>,
}

/// First-response time percentiles (nearest rank).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    /// Conversations with a first response.
    pub responded: usize,
    /// Median, ms.
    pub p50_ms: Option<i64>,
    /// 95th percentile, ms.
    pub p95_ms: Option<i64>,
}

/// One day's remote model spend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaySpend {
    /// UTC day (conversations started that day).
    pub day: NaiveDate,
    /// Remote model calls.
    pub calls: i64,
    /// Prompt tokens.
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// Cost in US dollars.
    pub cost_usd: f64,
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", content = "data", rename_all = "snake_case")]
pub enum QueryResult {
    /// See [`Query::IntentDistribution`].
    IntentDistribution(Vec<Share>),
    /// See [`Query::EscalationRate`].
    EscalationRate(Rate),
    /// See [`Query::AutomationRate`].
    AutomationRate(Rate),
    /// See [`Query::FirstResponseTime`].
    FirstResponseTime(Percentiles),
    /// See [`Query::VolumePerDay`].
    VolumePerDay(Vec<Share>),
    /// See [`Query::CriticBlocks`].
    CriticBlocks(Vec<Share>),
    /// See [`Query::ModelUsage`].
    ModelUsage(Vec<DaySpend>),
    /// See [`Query::Conversations`].
    Conversations(Vec<ConversationDoc>),
    /// See [`Query::EscalationQueue`].
    EscalationQueue(Vec<EscalationDoc>),
}

/// Answers `query` from `store`.
pub async fn run_query(
    store: &dyn ProjectionStore,
    query: &Query,
) -> Result<QueryResult, QueryError> {
    validate(query)?;
    Ok(match query {
        Query::IntentDistribution(s) => {
            QueryResult::IntentDistribution(intents(&store.analytics(s).await?))
        }
        Query::EscalationRate(s) => {
            let docs = store.analytics(s).await?;
            QueryResult::EscalationRate(rate(&docs, |d| d.counters.escalated))
        }
        Query::AutomationRate(s) => {
            let docs = store.analytics(s).await?;
            QueryResult::AutomationRate(rate(&docs, |d| d.counters.automated))
        }
        Query::FirstResponseTime(s) => {
            let ms = store
                .conversations(s)
                .await?
                .iter()
                .filter_map(|c| c.first_response_ms)
                .collect();
            QueryResult::FirstResponseTime(percentiles(ms))
        }
        Query::VolumePerDay(s) => {
            QueryResult::VolumePerDay(per_day(&store.analytics(s).await?, |d| {
                d.counters.conversations
            }))
        }
        Query::CriticBlocks(s) => {
            QueryResult::CriticBlocks(per_day(&store.analytics(s).await?, |d| {
                d.counters.critic_blocks
            }))
        }
        Query::ModelUsage(s) => QueryResult::ModelUsage(spend(&store.analytics(s).await?)),
        Query::Conversations {
            scope,
            status,
            search,
            limit,
        } => {
            let docs = store.conversations(scope).await?;
            QueryResult::Conversations(conversations(docs, *status, search.as_deref(), *limit))
        }
        Query::EscalationQueue {
            tenant,
            queue,
            limit,
        } => {
            let docs = store.escalations(tenant).await?;
            QueryResult::EscalationQueue(queue_of(docs, queue.as_deref(), *limit))
        }
    })
}

fn validate(query: &Query) -> Result<(), QueryError> {
    let scope = match query {
        Query::EscalationQueue { .. } => return Ok(()),
        Query::Conversations { scope, .. } => scope,
        Query::IntentDistribution(s)
        | Query::EscalationRate(s)
        | Query::AutomationRate(s)
        | Query::FirstResponseTime(s)
        | Query::VolumePerDay(s)
        | Query::CriticBlocks(s)
        | Query::ModelUsage(s) => s,
    };
    match (scope.from, scope.to) {
        (Some(from), Some(to)) if from > to => Err(QueryError::Invalid(format!(
            "the range {from}..={to} is empty"
        ))),
        _ => Ok(()),
    }
}

fn share(count: i64, total: i64) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64
    }
}

fn intents(docs: &[AnalyticsDoc]) -> Vec<Share> {
    let mut by: std::collections::BTreeMap<String, (i64, i64, i64)> = Default::default();
    for d in docs {
        let e = by.entry(intent_label(d.intent)).or_default();
        e.0 += d.counters.conversations;
        e.1 += d.counters.classified;
        e.2 += d.counters.confidence_micros_sum;
    }
    let total: i64 = by.values().map(|v| v.0).sum();
    let mut rows: Vec<Share> = by
        .into_iter()
        .filter(|(_, v)| v.0 > 0)
        .map(|(key, (count, classified, micros))| Share {
            key,
            count,
            share: share(count, total),
            mean_confidence: (classified > 0).then(|| micros as f64 / classified as f64 / 1e6),
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    rows
}

fn rate(docs: &[AnalyticsDoc], count: impl Fn(&AnalyticsDoc) -> i64) -> Rate {
    let total: i64 = docs.iter().map(|d| d.counters.conversations).sum();
    let count: i64 = docs.iter().map(count).sum();
    Rate {
        count,
        total,
        rate: (total > 0).then(|| share(count, total)),
    }
}

fn per_day(docs: &[AnalyticsDoc], count: impl Fn(&AnalyticsDoc) -> i64) -> Vec<Share> {
    let mut by: std::collections::BTreeMap<NaiveDate, i64> = Default::default();
    for d in docs {
        *by.entry(d.day).or_default() += count(d);
    }
    let total: i64 = by.values().sum();
    by.into_iter()
        .filter(|(_, c)| *c != 0)
        .map(|(day, c)| Share {
            key: day.to_string(),
            count: c,
            share: share(c, total),
            mean_confidence: None,
        })
        .collect()
}

/// Remote spend per day, days without calls left out.
fn spend(docs: &[AnalyticsDoc]) -> Vec<DaySpend> {
    let mut by: std::collections::BTreeMap<NaiveDate, [i64; 4]> = Default::default();
    for d in docs {
        let e = by.entry(d.day).or_default();
        let c = &d.counters;
        e[0] += c.remote_calls;
        e[1] += c.prompt_tokens;
        e[2] += c.completion_tokens;
        e[3] += c.cost_micro_usd;
    }
    by.into_iter()
        .filter(|(_, v)| v[0] != 0)
        .map(
            |(day, [calls, prompt_tokens, completion_tokens, micros])| DaySpend {
                day,
                calls,
                prompt_tokens,
                completion_tokens,
                cost_usd: micros as f64 / 1e6,
            },
        )
        .collect()
}

/// Nearest-rank percentiles of `values` (ms).
pub fn percentiles(mut values: Vec<i64>) -> Percentiles {
    values.sort_unstable();
    let rank = |p: f64| -> Option<i64> {
        let n = values.len();
        (n > 0).then(|| values[((p * n as f64).ceil() as usize).clamp(1, n) - 1])
    };
    Percentiles {
        responded: values.len(),
        p50_ms: rank(0.50),
        p95_ms: rank(0.95),
    }
}

fn conversations(
    mut docs: Vec<ConversationDoc>,
    status: Option<ConversationStatus>,
    search: Option<&str>,
    limit: usize,
) -> Vec<ConversationDoc> {
    let needle = search.map(str::to_lowercase);
    docs.retain(|d| {
        status.is_none_or(|s| d.status == s) && needle.as_deref().is_none_or(|n| matches(d, n))
    });
    docs.sort_by(|a, b| {
        b.started_at
            .cmp(&a.started_at)
            .then_with(|| a.conversation_id.cmp(&b.conversation_id))
    });
    docs.truncate(limit);
    docs
}

fn matches(doc: &ConversationDoc, needle: &str) -> bool {
    [
        doc.conversation_id.as_str(),
        doc.customer_id.as_str(),
        &intent_label(doc.intent),
        doc.last_response.as_deref().unwrap_or(""),
    ]
    .iter()
    .any(|field| field.to_lowercase().contains(needle))
}

fn queue_of(mut docs: Vec<EscalationDoc>, queue: Option<&str>, limit: usize) -> Vec<EscalationDoc> {
    docs.retain(|d| {
        d.escalation.state == EscalationState::Waiting
            && queue.is_none_or(|q| d.escalation.queue == q)
    });
    docs.sort_by(|a, b| {
        b.escalation
            .priority
            .cmp(&a.escalation.priority)
            .then_with(|| a.escalation.since.cmp(&b.escalation.since))
            .then_with(|| a.conversation_id.cmp(&b.conversation_id))
    });
    docs.truncate(limit);
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let p = percentiles((1..=20).map(|v| v * 100).collect());
        assert_eq!((p.p50_ms, p.p95_ms), (Some(1000), Some(1900)));
        let one = percentiles(vec![7]);
        assert_eq!((one.p50_ms, one.p95_ms), (Some(7), Some(7)));
        assert_eq!(percentiles(vec![]).p50_ms, None);
    }

    #[test]
    fn model_spend_adds_remote_calls_per_day_and_ignores_local_ones() {
        use crate::event::ModelUsage;
        let mut spend_a = super::super::ModelSpend::default();
        spend_a.record(&ModelUsage::local("local-intent-v1"));
        assert_eq!(
            spend_a,
            Default::default(),
            "a local decision costs nothing"
        );
        let remote = ModelUsage {
            prompt_tokens: Some(700),
            completion_tokens: Some(90),
            cost_usd: Some(0.000_159),
            ..ModelUsage::local("gpt-4o-mini")
        };
        spend_a.record(&remote);
        spend_a.record(&remote);
        let tenant: Tenant = "acme".parse().expect("valid tenant");
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).expect("valid day");
        let doc = |d: u32, calls: i64| {
            let key = super::super::AnalyticsKey {
                tenant: tenant.clone(),
                day: day(d),
                channel: "web".into(),
                intent: None,
            };
            let mut doc = AnalyticsDoc::new(&key);
            doc.counters.remote_calls = calls;
            doc.counters.prompt_tokens = spend_a.prompt_tokens * calls / 2;
            doc.counters.completion_tokens = spend_a.completion_tokens * calls / 2;
            doc.counters.cost_micro_usd = spend_a.cost_micro_usd * calls / 2;
            doc
        };
        let rows = spend(&[doc(1, 2), doc(1, 2), doc(2, 0), doc(3, 2)]);
        let days: Vec<_> = rows
            .iter()
            .map(|r| (r.day, r.calls, r.prompt_tokens))
            .collect();
        assert_eq!(days, [(day(1), 4, 2800), (day(3), 2, 1400)]);
        assert!(
            (rows[0].cost_usd - 0.000_636).abs() < 1e-12,
            "{}",
            rows[0].cost_usd
        );
    }
}
