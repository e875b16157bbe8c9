//! `switchboard replay`: a conversation's timeline, read from the log.
//!
//! Readable by default (one line per step: actor, decision, model,
//! duration and reasons, then the folded state and the workflow's next step), JSON lines with `--json`.
//! Messages that do not decode are shown with their error, never hidden.
//! With `--with AGENT`, a counterfactual replay: the agent's current version
//! re-decides every recorded decision of it, nothing is written, and what
//! would differ is reported (per decision, and changed / unchanged per intent).

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use std::path::PathBuf;
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::store::{Loaded, StoreOptions, Until};

use switchboard_engine::ids::Tenant;
use switchboard_workers::agents::Agents;
use switchboard_workers::counterfactual::{self, Report};
use switchboard_workers::models::intent::IntentModel;
use switchboard_workers::timeline::{Entry, Timeline, quote};
use tokio::sync::watch;

use super::worker::AgentName;

use super::Global;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The conversation, as tenant/conversation (with `--with`: optional,
    /// then every conversation of `--tenant`).
    #[arg(required_unless_present = "with")]
    pub conversation: Option<String>,
    /// Print JSON instead of a timeline (one object per event; with
    /// `--with`, the whole report).
    #[arg(long)]
    pub json: bool,
    /// Stop after this stream sequence.
    #[arg(long, conflicts_with = "until_time")]
    pub until_seq: Option<u64>,
    /// Stop after this time (RFC 3339, e.g. 2026-11-26T10:00:00Z).
    #[arg(long)]
    pub until_time: Option<String>,
    /// Counterfactual replay: re-run this agent's current version over the
    /// recorded decisions (nothing is written) and report what would differ.
    #[arg(long, value_enum)]
    pub with: Option<AgentName>,
    /// With `--with intent`: the intent model to try (default: the shipped one).
    #[arg(long, requires = "with")]
    pub intent_model: Option<PathBuf>,
    /// With `--with` and no conversation: every conversation of this tenant.
    #[arg(long, value_parser = super::projections::parse_tenant, requires = "with")]
    pub tenant: Option<Tenant>,
    /// With `--tenant`: only conversations that started at or after this time (RFC 3339).
    #[arg(long, requires = "tenant")]
    pub from: Option<DateTime<Utc>>,
    /// With `--tenant`: only conversations that started before this time (RFC 3339).
    #[arg(long, requires = "tenant")]
    pub to: Option<DateTime<Utc>>,
}

pub async fn run(global: &Global, args: ReplayArgs) -> anyhow::Result<()> {
    if let Some(agent) = args.with {
        return counterfactual(global, agent, &args).await;
    }
    let conversation = args.conversation.as_deref().unwrap_or_default();
    let key = ConversationKey::parse(conversation)?;
    let until = match (&args.until_seq, &args.until_time) {
        (Some(seq), _) => Until::Seq(StreamSeq::new(*seq)),
        (None, Some(t)) => Until::Time(
            DateTime::parse_from_rfc3339(t)
                .with_context(|| format!("--until-time {t:?} is not RFC 3339"))?
                .with_timezone(&Utc),
        ),
        (None, None) => Until::End,
    };
    let client = super::connect(global, "switchboard-replay").await?;
    let store = super::privacy::event_store(global, client, StoreOptions::default()).await?;
    let loaded = store.load_until(&key, until).await?;
    if args.json {
        print_json(&loaded)?;
    } else {
        print_timeline(&loaded);
    }
    Ok(())
}

/// `replay --with AGENT`: the current agent against what was recorded.
async fn counterfactual(global: &Global, name: AgentName, args: &ReplayArgs) -> anyhow::Result<()> {
    let agent = name
        .agent()
        .context("--with takes one agent: critic, intent, knowledge, response or escalation")?;
    let agents = match &args.intent_model {
        Some(path) => Agents::with_intent_model(IntentModel::load(path)?)?,
        None => Agents::builtin()?,
    };
    let client = super::connect(global, "switchboard-replay").await?;
    let (stop, shutdown) = watch::channel(false);
    let agents = agents.with_knowledge(super::up::live_knowledge(&client, &shutdown, false).await?);
    let team = agents.team();
    let store = super::privacy::event_store(global, client, StoreOptions::default()).await?;
    let keys = match (&args.conversation, &args.tenant) {
        (Some(c), _) => vec![ConversationKey::parse(c)?],
        (None, Some(tenant)) => counterfactual::conversations(&store, tenant).await?,
        (None, None) => anyhow::bail!("give a conversation, or --tenant for all of a tenant's"),
    };
    let mut report = Report::default();
    let progress = super::bench::progress(keys.len() as u64, "conversations");
    for key in keys {
        progress.inc(1);
        let loaded = store.load(&key).await?;
        let started = loaded.events.first().map(|e| e.stored_at);
        let in_range = started.is_some_and(|t| {
            args.from.is_none_or(|from| t >= from) && args.to.is_none_or(|to| t < to)
        });
        if in_range {
            report.add(&team, agent, &loaded).await;
        }
    }
    progress.finish_and_clear();
    // The knowledge watch stops before the connection closes behind it.
    let _ = stop.send(true);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, name);
    }
    Ok(())
}

fn print_report(report: &Report, name: AgentName) {
    let changed: u64 = report.by_intent.values().map(|t| t.changed).sum();
    println!(
        "{name:?} over {} conversations: {} decisions, {changed} would change",
        report.conversations, report.decisions
    );
    for d in &report.differences {
        println!(
            "  {} #{} {}: {} -> {}",
            d.conversation,
            d.seq,
            d.step,
            quote(&d.recorded),
            quote(&d.now)
        );
    }
    println!(
        "  {:<24} {:>8} {:>10}",
        "intent (recorded)", "changed", "unchanged"
    );
    for (intent, tally) in &report.by_intent {
        println!(
            "  {intent:<24} {:>8} {:>10}",
            tally.changed, tally.unchanged
        );
    }
    for e in &report.errors {
        println!("  not compared: {e}");
    }
}

fn print_json(loaded: &Loaded) -> anyhow::Result<()> {
    let timeline = Timeline::of(loaded);
    for entry in &timeline.entries {
        println!("{}", serde_json::to_string(entry)?);
    }
    for r in &timeline.undecodable {
        println!("{}", serde_json::to_string(r)?);
    }
    Ok(())
}

fn print_timeline(loaded: &Loaded) {
    let timeline = Timeline::of(loaded);
    println!(
        "{}: {} events, version {}{}",
        timeline.conversation,
        timeline.entries.len(),
        timeline.version,
        if timeline.undecodable.is_empty() {
            String::new()
        } else {
            format!(", {} undecodable", timeline.undecodable.len())
        }
    );
    let mut rejected = timeline.undecodable.iter().peekable();
    for e in &timeline.entries {
        while let Some(r) = rejected.next_if(|r| r.seq < e.seq) {
            println!("  #{:<8} {:<24} ! {}", r.seq, "", r.error);
        }
        println!("{}", timeline_line(e));
    }
    for r in rejected {
        println!("  #{:<8} {:<24} ! {}", r.seq, "", r.error);
    }
    println!(
        "status: {}; next step: {}",
        timeline.status, timeline.next_step
    );
}

/// One step: position, time, type, actor, decision, then model, duration
/// and reasons when there are any.
fn timeline_line(e: &Entry) -> String {
    let mut line = format!(
        "  #{:<8} {:<24} {:<13} {:<26} {}",
        e.seq, e.stored_at, e.event_type, e.actor, e.decision
    );
    if let Some(model) = &e.model {
        line.push_str(&format!(" · model {model}"));
    }
    if let Some(ms) = e.duration_ms {
        line.push_str(&format!(" · {ms} ms"));
    }
    if !e.reasons.is_empty() {
        line.push_str(&format!(" · {}", e.reasons.join("; ")));
    }
    line
}
