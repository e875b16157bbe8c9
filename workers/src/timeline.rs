//! A conversation's timeline: each event as a step someone took.
//!
//! What `switchboard replay`, the gateway's events endpoint, its live
//! stream and the console show: per event its position, who acted, what
//! was decided and why, which model decided, and how long the step took
//! (from the event that caused it to this one being stored). The entries
//! are serde types so every edge prints the same thing.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use switchboard_engine::event::{EventData, StoredEvent};
use switchboard_engine::ids::EventId;
use switchboard_engine::store::{Loaded, RejectedMessage};

/// One event as a step of the conversation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entry {
    /// Stream sequence (the `id` of the live stream's events).
    pub seq: u64,
    /// When JetStream stored it (RFC 3339, milliseconds).
    pub stored_at: String,
    /// Event type (`received`, `screened`, ...).
    #[serde(rename = "type")]
    pub event_type: String,
    /// Event id.
    pub id: String,
    /// When its producer created it (RFC 3339, microseconds).
    pub time: String,
    /// The event it reacts to.
    pub causation: Option<String>,
    /// The customer message that started its chain.
    pub correlation: String,
    /// Who acted: `channel:…`, `worker:…`, `human:…`.
    pub actor: String,
    /// What was decided, in one line.
    pub decision: String,
    /// Why: findings, signals, reasons (empty when the event has none).
    pub reasons: Vec<String>,
    /// The model that decided, when one did.
    pub model: Option<String>,
    /// Milliseconds from its cause being stored to it being stored.
    pub duration_ms: Option<i64>,
    /// The payload.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A message of the conversation that is not a valid event, shown, not hidden.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Undecodable {
    /// Stream sequence.
    pub seq: u64,
    /// The subject it was published on.
    pub subject: String,
    /// Why it was rejected.
    pub error: String,
}

/// A conversation up to a point.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Timeline {
    /// `tenant/conversation`.
    pub conversation: String,
    /// The version read up to.
    pub version: u64,
    /// The steps, in stream order.
    pub entries: Vec<Entry>,
    /// Messages that did not decode.
    pub undecodable: Vec<Undecodable>,
    /// The folded status then (`Open`, `WithHuman`, `Closed`...).
    pub status: String,
    /// What the workflow would do next then (`none` when nothing).
    pub next_step: String,
}

impl Timeline {
    /// The timeline of what `loaded` holds.
    pub fn of(loaded: &Loaded) -> Self {
        let mut stored: HashMap<EventId, DateTime<Utc>> = HashMap::new();
        let entries = loaded
            .events
            .iter()
            .map(|e| {
                let entry = entry(e, &stored);
                stored.insert(e.event.envelope.id, e.stored_at);
                entry
            })
            .collect();
        let state = loaded.conversation();
        let next_step = switchboard_engine::workflow::next_step(state).map_or_else(
            || "none".to_owned(),
            |s| format!("{} ({})", s.name(), s.agent().as_str()),
        );
        Self {
            conversation: loaded.key.to_string(),
            version: loaded.version.get(),
            entries,
            undecodable: loaded.rejected.iter().map(undecodable).collect(),
            status: format!("{:?}", state.status),
            next_step,
        }
    }
}

/// One stored event as an entry; `stored` holds when earlier events were
/// stored, for the step's duration.
pub fn entry(e: &StoredEvent, stored: &HashMap<EventId, DateTime<Utc>>) -> Entry {
    let env = &e.event.envelope;
    let duration_ms = env
        .causation
        .and_then(|c| stored.get(&c))
        .map(|cause| (e.stored_at - *cause).num_milliseconds());
    let (decision, reasons, model) = describe(&e.event.data);
    Entry {
        seq: e.seq.get(),
        stored_at: e.stored_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        event_type: e.event.event_type().as_str().to_owned(),
        id: env.id.to_string(),
        time: env.time.to_rfc3339_opts(SecondsFormat::Micros, true),
        causation: env.causation.map(|c| c.to_string()),
        correlation: env.correlation.to_string(),
        actor: env.actor.as_str().to_owned(),
        decision,
        reasons,
        model,
        duration_ms,
        data: serde_json::to_value(&e.event.data).unwrap_or(serde_json::Value::Null),
    }
}

fn undecodable(r: &RejectedMessage) -> Undecodable {
    Undecodable {
        seq: r.seq.get(),
        subject: r.subject.clone(),
        error: format!("{} ({:?})", r.error, r.error.kind()),
    }
}

/// When JetStream stored a message, from its delivery info.
pub fn stored_at(info: &async_nats::jetstream::message::Info<'_>) -> DateTime<Utc> {
    DateTime::from_timestamp(info.published.unix_timestamp(), info.published.nanosecond())
        .unwrap_or_default()
}

/// Quotes the start of a text.
pub fn quote(text: &str) -> String {
    let short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        format!("{short:?}…")
    } else {
        format!("{short:?}")
    }
}

fn debug_all<T: std::fmt::Debug>(items: impl IntoIterator<Item = T>) -> Vec<String> {
    items.into_iter().map(|i| format!("{i:?}")).collect()
}

/// What the event decided, why, and which model decided.
fn describe(data: &EventData) -> (String, Vec<String>, Option<String>) {
    let model_of =
        |m: &Option<switchboard_engine::event::ModelUsage>| m.as_ref().map(|m| m.model.clone());
    match data {
        EventData::Received(r) => (
            format!(
                "[{} {}/{:?} {}] {}",
                r.channel,
                r.customer.id,
                r.customer.tier,
                r.language,
                quote(&r.text)
            ),
            Vec::new(),
            None,
        ),
        EventData::Screened(s) => (
            format!("{:?}", s.verdict),
            s.findings
                .iter()
                .map(|f| format!("{:?}: {} ({:.2})", f.kind, f.rule, f.score))
                .collect(),
            model_of(&s.model),
        ),
        EventData::Classified(c) => (
            format!("{:?} ({:.2}) {:?}", c.intent, c.confidence, c.sentiment),
            debug_all(&c.signals),
            model_of(&c.model),
        ),
        EventData::Retrieved(r) => (
            format!("{} passages, {} records", r.passages.len(), r.records.len()),
            r.passages
                .iter()
                .map(|p| format!("{} ({:.2})", p.source_id, p.score))
                .collect(),
            None,
        ),
        EventData::Drafted(d) => (
            format!("attempt {}: {}", d.attempt, quote(&d.text)),
            d.sources.clone(),
            Some(d.model.model.clone()),
        ),
        EventData::Validated(v) => (
            format!("attempt {}: {:?}", v.attempt, v.verdict),
            v.findings
                .iter()
                .map(|f| format!("{:?}: {}", f.kind, f.rule))
                .collect(),
            model_of(&v.model),
        ),
        EventData::Escalated(e) => (
            format!("{:?} {:?} to {}", e.reason, e.priority, e.queue),
            vec![e.summary.clone()],
            None,
        ),
        EventData::Responded(r) => (quote(&r.text), Vec::new(), None),
        EventData::HumanReplied(h) => (
            format!("{}: {}", h.agent_id, quote(&h.text)),
            Vec::new(),
            None,
        ),
        EventData::Closed(c) => (
            format!("{:?} satisfaction {:?}", c.resolution, c.satisfaction),
            Vec::new(),
            None,
        ),
        EventData::Failed(f) => (
            format!(
                "{} failed ({}) after {} attempts",
                f.step, f.error_class, f.attempts
            ),
            vec![f.detail.clone()],
            None,
        ),
        EventData::Erased(e) => (
            format!("personal texts erased ({:?})", e.reason),
            Vec::new(),
            None,
        ),
    }
}
