//! `switchboard query <name>`: ask the projections a typed question and
//! print the answer as a table or JSON.

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use switchboard_engine::ids::Tenant;
use switchboard_engine::projection::{ConversationStatus, Query, Scope, run_query};

use super::projections::{Missing, StoreArgs, open_store, parse_tenant};

/// The queries, by CLI name (one per [`Query`] variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryName {
    /// Conversations per first intent, with mean classifier confidence.
    IntentDistribution,
    /// Share of conversations ever escalated to a human.
    EscalationRate,
    /// Share of conversations answered without a human.
    AutomationRate,
    /// First-response time percentiles (p50, p95), in milliseconds.
    FirstResponseTime,
    /// Conversations per start day.
    VolumePerDay,
    /// Critic blocks per day.
    CriticBlocks,
    /// Remote model calls, tokens and cost per day.
    ModelUsage,
    /// Conversations, newest first (--status, --search, --limit).
    Conversations,
    /// The human queue, most urgent first (--queue, --limit).
    EscalationQueue,
}

/// A conversation status, as `--status` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// The agents are working on it or waiting for the customer.
    Open,
    /// Handed to a human.
    WithHuman,
    /// Closed.
    Closed,
}

impl From<StatusArg> for ConversationStatus {
    fn from(value: StatusArg) -> Self {
        match value {
            StatusArg::Open => ConversationStatus::Open,
            StatusArg::WithHuman => ConversationStatus::WithHuman,
            StatusArg::Closed => ConversationStatus::Closed,
        }
    }
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Which query.
    #[arg(value_enum)]
    pub name: QueryName,
    /// The tenant (queries never cross tenants).
    #[arg(long, value_parser = parse_tenant)]
    pub tenant: Tenant,
    /// First start day included (YYYY-MM-DD, UTC).
    #[arg(long, value_parser = parse_day)]
    pub from: Option<NaiveDate>,
    /// Last start day included (YYYY-MM-DD, UTC).
    #[arg(long, value_parser = parse_day)]
    pub to: Option<NaiveDate>,
    /// Only this channel.
    #[arg(long)]
    pub channel: Option<String>,
    /// Only conversations with this status (conversations).
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// Case-insensitive search in id, customer, intent or last response (conversations).
    #[arg(long)]
    pub search: Option<String>,
    /// Only this queue (escalation-queue).
    #[arg(long)]
    pub queue: Option<String>,
    /// At most this many rows (conversations, escalation-queue).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print the result as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

impl QueryArgs {
    /// The typed query these arguments ask.
    pub fn query(&self) -> Query {
        let scope = Scope {
            tenant: self.tenant.clone(),
            from: self.from,
            to: self.to,
            channel: self.channel.clone(),
        };
        match self.name {
            QueryName::IntentDistribution => Query::IntentDistribution(scope),
            QueryName::EscalationRate => Query::EscalationRate(scope),
            QueryName::AutomationRate => Query::AutomationRate(scope),
            QueryName::FirstResponseTime => Query::FirstResponseTime(scope),
            QueryName::VolumePerDay => Query::VolumePerDay(scope),
            QueryName::CriticBlocks => Query::CriticBlocks(scope),
            QueryName::ModelUsage => Query::ModelUsage(scope),
            QueryName::Conversations => Query::Conversations {
                scope,
                status: self.status.map(Into::into),
                search: self.search.clone(),
                limit: self.limit,
            },
            QueryName::EscalationQueue => Query::EscalationQueue {
                tenant: self.tenant.clone(),
                queue: self.queue.clone(),
                limit: self.limit,
            },
        }
    }
}

/// Parses `--from` / `--to`.
fn parse_day(value: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|e| format!("expected a day as YYYY-MM-DD (e.g. 2026-03-01): {e}"))
}

pub async fn run(args: QueryArgs) -> anyhow::Result<()> {
    let query = args.query();
    let store = open_store(&args.store, Missing::Refuse).await?;
    let result = run_query(store.as_ref(), &query)
        .await
        .with_context(|| format!("querying the {} store", store.backend()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", result.table());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_must_be_iso_dates() {
        assert!(parse_day("2026-03-01").is_ok());
        let err = parse_day("03/01/2026").unwrap_err();
        assert!(err.contains("YYYY-MM-DD"), "{err}");
    }
}
