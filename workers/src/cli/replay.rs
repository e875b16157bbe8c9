//! `switchboard replay`: a conversation's timeline, read from the log.
//!
//! Readable by default (one line per step: actor, decision, model,
//! duration and reasons, then the folded state and the workflow's next step), JSON lines with `--json`.
//! Messages that do not decode are shown with their error, never hidden.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::store::{EventStore, Loaded, StoreOptions, Until};
use switchboard_workers::timeline::{Entry, Timeline};

use super::Global;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The conversation, as tenant/conversation.
    pub conversation: String,
    /// Print JSON lines (one object per event) instead of a timeline.
    #[arg(long)]
    pub json: bool,
    /// Stop after this stream sequence.
    #[arg(long, conflicts_with = "until_time")]
    pub until_seq: Option<u64>,
    /// Stop after this time (RFC 3339, e.g. 2026-11-26T10:00:00Z).
    #[arg(long)]
    pub until_time: Option<String>,
}

pub async fn run(global: &Global, args: ReplayArgs) -> anyhow::Result<()> {
    let key = ConversationKey::parse(&args.conversation)?;
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
    let store = EventStore::new(client, StoreOptions::default());
    let loaded = store.load_until(&key, until).await?;
    if args.json {
        print_json(&loaded)?;
    } else {
        print_timeline(&loaded);
    }
    Ok(())
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
