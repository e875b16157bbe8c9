//! `switchboard replay`: a conversation's timeline, read from the log.
//!
//! Readable by default (one line per event with a short summary, then the
//! folded state and the workflow's next step), JSON lines with `--json`.
//! Messages that do not decode are shown with their error, never hidden.

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use clap::Args;
use serde_json::json;
use switchboard_engine::event::{EventData, StoredEvent};
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::store::{EventStore, Loaded, StoreOptions, Until};
use switchboard_engine::workflow::next_step;

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
        print_json(&loaded);
    } else {
        print_timeline(&loaded);
    }
    Ok(())
}

fn print_json(loaded: &Loaded) {
    for e in &loaded.events {
        let env = &e.event.envelope;
        let line = json!({
            "seq": e.seq.get(),
            "stored_at": e.stored_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "type": e.event.event_type().as_str(),
            "id": env.id.to_string(),
            "time": env.time.to_rfc3339_opts(SecondsFormat::Micros, true),
            "causation": env.causation.map(|c| c.to_string()),
            "correlation": env.correlation.to_string(),
            "actor": env.actor.as_str(),
            "data": &e.event.data,
        });
        println!("{line}");
    }
    for r in &loaded.rejected {
        let line = json!({
            "seq": r.seq.get(),
            "subject": r.subject,
            "error": r.error.to_string(),
            "kind": format!("{:?}", r.error.kind()),
        });
        println!("{line}");
    }
}

fn print_timeline(loaded: &Loaded) {
    println!(
        "{}: {} events, version {}{}",
        loaded.key,
        loaded.events.len(),
        loaded.version,
        if loaded.rejected.is_empty() {
            String::new()
        } else {
            format!(", {} undecodable", loaded.rejected.len())
        }
    );
    let mut rejected = loaded.rejected.iter().peekable();
    for e in &loaded.events {
        while let Some(r) = rejected.next_if(|r| r.seq < e.seq) {
            println!(
                "  #{:<8} {:<24} ! {} ({:?})",
                r.seq,
                "",
                r.error,
                r.error.kind()
            );
        }
        println!("{}", timeline_line(e));
    }
    for r in rejected {
        println!(
            "  #{:<8} {:<24} ! {} ({:?})",
            r.seq,
            "",
            r.error,
            r.error.kind()
        );
    }
    let state = loaded.fold();
    let next = next_step(&state).map_or("none".to_owned(), |s| {
        format!("{} ({})", s.name(), s.agent().as_str())
    });
    println!("status: {:?}; next step: {next}", state.status);
}

fn timeline_line(e: &StoredEvent) -> String {
    format!(
        "  #{:<8} {:<24} {:<13} {:<26} {}",
        e.seq,
        e.stored_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        e.event.event_type().as_str(),
        e.event.envelope.actor.as_str(),
        summary(&e.event.data)
    )
}

fn quote(text: &str) -> String {
    let short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        format!("{short:?}…")
    } else {
        format!("{short:?}")
    }
}

/// One line saying what the event decided.
fn summary(data: &EventData) -> String {
    match data {
        EventData::Received(r) => format!(
            "[{} {}/{:?}] {}",
            r.channel,
            r.customer.id,
            r.customer.tier,
            quote(&r.text)
        ),
        EventData::Screened(s) => format!(
            "{:?} {:?}",
            s.verdict,
            s.findings.iter().map(|f| f.kind).collect::<Vec<_>>()
        ),
        EventData::Classified(c) => format!(
            "{:?} ({:.2}) {:?} {:?}",
            c.intent, c.confidence, c.sentiment, c.signals
        ),
        EventData::Retrieved(r) => {
            format!("{} passages, {} records", r.passages.len(), r.records.len())
        }
        EventData::Drafted(d) => format!(
            "attempt {} by {}: {}",
            d.attempt,
            d.model.model,
            quote(&d.text)
        ),
        EventData::Validated(v) => format!(
            "attempt {}: {:?} {:?}",
            v.attempt,
            v.verdict,
            v.findings.iter().map(|f| f.kind).collect::<Vec<_>>()
        ),
        EventData::Escalated(e) => format!("{:?} {:?} to {}", e.reason, e.priority, e.queue),
        EventData::Responded(r) => quote(&r.text),
        EventData::HumanReplied(h) => format!("{}: {}", h.agent_id, quote(&h.text)),
        EventData::Closed(c) => format!("{:?} satisfaction {:?}", c.resolution, c.satisfaction),
        EventData::Failed(f) => format!(
            "{} failed ({}) after {} attempts",
            f.step, f.error_class, f.attempts
        ),
    }
}
