//! The log checks of `bench chaos`, made by loading every conversation of
//! the run through the event store: terminal turns, duplicated steps, lost
//! messages and stalls; and the waits for the system to settle first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;
use switchboard_engine::event::{EventData, EventType, StoredEvent};
use switchboard_engine::ids::{ConversationKey, Tenant};
use switchboard_engine::store::EventStore;

/// Conversations loaded at once.
const LOAD_WINDOW: usize = 32;
/// Ids named in a summary, at most.
const SAMPLES: usize = 5;

/// What the log says about the run's conversations.
#[derive(Debug, Default, Serialize)]
pub struct LogCheck {
    /// Conversations whose turn has `responded` or `escalated`.
    pub terminal: usize,
    /// Step events beyond the first of their kind in a turn.
    pub duplicates: u64,
    /// The same, per event type.
    pub duplicates_by_type: BTreeMap<String, u64>,
    /// Acknowledged `received` events missing from the log.
    pub lost: usize,
    /// `failed` events (steps dead-lettered).
    pub failed_events: u64,
    /// Conversations handed to a human.
    pub escalated: usize,
    /// Longest time from a `received` to its turn's end, as stored in the
    /// log (seconds), and the conversation.
    pub slowest_answer_s: f64,
    #[serde(skip)]
    pub slowest: Option<String>,
    /// Longest interval, by the stream's timestamps, with a conversation
    /// received and unanswered and no answer stored (seconds).
    pub max_stall_s: f64,
    /// Some conversations that did not end, for the summary.
    #[serde(skip)]
    pub not_terminal: Vec<String>,
    /// Some conversations with a duplicated step.
    #[serde(skip)]
    pub duplicated: Vec<String>,
}

/// Loads every conversation of the run through the event store and checks it.
pub async fn check_log(
    store: &EventStore,
    tenant: &Tenant,
    ids: Vec<String>,
    acked: &HashSet<String>,
) -> anyhow::Result<LogCheck> {
    let mut loads = futures::stream::iter(ids)
        .map(|id| async move {
            let key = ConversationKey::parse(&format!("{tenant}/{id}"))?;
            let events = load_with_retry(store, &key).await?;
            anyhow::Ok((id, events))
        })
        .buffer_unordered(LOAD_WINDOW);
    let mut check = LogCheck::default();
    let mut timeline = Vec::new();
    while let Some(loaded) = loads.next().await {
        let (id, events) = loaded?;
        timeline.extend(moments(&events));
        let received = events
            .iter()
            .any(|e| e.event.event_type() == EventType::Received);
        if acked.contains(&id) && !received {
            check.lost += 1;
        }
        let ended = events.iter().any(|e| {
            matches!(
                e.event.event_type(),
                EventType::Responded | EventType::Escalated
            )
        });
        if let Some(took) = answer_time(&events)
            && took > check.slowest_answer_s
        {
            check.slowest_answer_s = took;
            check.slowest = Some(id.clone());
        }
        if ended {
            check.terminal += 1;
        } else if check.not_terminal.len() < SAMPLES {
            check.not_terminal.push(id.clone());
        }
        if events
            .iter()
            .any(|e| e.event.event_type() == EventType::Escalated)
        {
            check.escalated += 1;
        }
        let mut steps: HashMap<(String, String), u64> = HashMap::new();
        for e in &events {
            let turn = e.event.envelope.correlation.to_string();
            *steps.entry((turn, step_of(e))).or_default() += 1;
            if e.event.event_type() == EventType::Failed {
                check.failed_events += 1;
            }
        }
        let mut any = false;
        for ((_, step), n) in steps {
            if n > 1 {
                any = true;
                check.duplicates += n - 1;
                let kind = step.split(['#', ':']).next().unwrap_or_default().to_owned();
                *check.duplicates_by_type.entry(kind).or_default() += n - 1;
            }
        }
        if any && check.duplicated.len() < SAMPLES {
            check.duplicated.push(id);
        }
    }
    check.max_stall_s = longest_stall(timeline, Utc::now());
    Ok(check)
}

/// A conversation's `received` (+1 pending) and first answer (-1) times.
fn moments(events: &[StoredEvent]) -> Vec<(DateTime<Utc>, i64)> {
    let first = |types: &[EventType]| {
        events
            .iter()
            .find(|e| types.contains(&e.event.event_type()))
            .map(|e| e.stored_at)
    };
    let mut out = Vec::new();
    if let Some(asked) = first(&[EventType::Received]) {
        out.push((asked, 1));
        if let Some(answered) = first(&[EventType::Responded, EventType::Escalated]) {
            out.push((answered, -1));
        }
    }
    out
}

/// The longest interval with something pending and no answer, ending at
/// `end` for what was never answered.
fn longest_stall(mut timeline: Vec<(DateTime<Utc>, i64)>, end: DateTime<Utc>) -> f64 {
    // Answers before arrivals at the same instant.
    timeline.sort();
    let (mut pending, mut longest) = (0i64, 0i64);
    let mut since: Option<DateTime<Utc>> = None;
    for (at, delta) in timeline {
        if let Some(from) = since
            && (delta < 0 || pending > 0)
        {
            longest = longest.max((at - from).num_milliseconds());
        }
        pending += delta;
        since = match (delta < 0, pending > 0, since) {
            (_, false, _) => None,
            (true, true, _) => Some(at),
            (false, true, None) => Some(at),
            (false, true, kept) => kept,
        };
    }
    if let Some(from) = since {
        longest = longest.max((end - from).num_milliseconds());
    }
    longest as f64 / 1000.0
}

/// Seconds from the first `received` to the first `responded` or
/// `escalated`, by the stream's timestamps.
fn answer_time(events: &[StoredEvent]) -> Option<f64> {
    let of = |types: &[EventType]| {
        events
            .iter()
            .find(|e| types.contains(&e.event.event_type()))
            .map(|e| e.stored_at)
    };
    let asked = of(&[EventType::Received])?;
    let answered = of(&[EventType::Responded, EventType::Escalated])?;
    Some((answered - asked).num_milliseconds() as f64 / 1000.0)
}

/// The step an event records within its turn: its type, plus the attempt
/// for drafts and verdicts on drafts (up to three per turn), plus the step
/// for `failed`. Two events with the same step in one turn are a duplicate.
fn step_of(e: &StoredEvent) -> String {
    let kind = e.event.event_type().as_str();
    match &e.event.data {
        EventData::Drafted(d) => format!("{kind}#{}", d.attempt),
        EventData::Validated(v) => format!("{kind}#{}", v.attempt),
        EventData::Failed(f) => format!("{kind}:{}", f.step),
        _ => kind.to_owned(),
    }
}

async fn load_with_retry(
    store: &EventStore,
    key: &ConversationKey,
) -> anyhow::Result<Vec<StoredEvent>> {
    let mut attempt = 0;
    loop {
        match store.load(key).await {
            Ok(loaded) => return Ok(loaded.events),
            Err(e) if attempt < 20 => {
                attempt += 1;
                tracing::debug!(%key, error = %e, "load failed; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("loading {key}")),
        }
    }
}

/// The conversations stream's last sequence.
pub async fn stream_last_seq(store: &EventStore) -> anyhow::Result<u64> {
    let mut stream = store
        .jetstream()
        .get_stream(&store.options().stream)
        .await?;
    Ok(stream.info().await?.state.last_sequence)
}

/// Waits until the agents' consumers have nothing pending or unacked and
/// the stream has stopped growing; `false` if `deadline` passed first.
pub async fn wait_agents_idle(
    store: &EventStore,
    consumers: &[String],
    deadline: Instant,
) -> anyhow::Result<bool> {
    let mut last_seen = None;
    loop {
        let idle = agents_idle(store, consumers).await.unwrap_or(false);
        let last = stream_last_seq(store).await.ok();
        if idle && last.is_some() && last == last_seen {
            return Ok(true);
        }
        last_seen = last;
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn agents_idle(store: &EventStore, consumers: &[String]) -> anyhow::Result<bool> {
    let stream = store
        .jetstream()
        .get_stream(&store.options().stream)
        .await?;
    for name in consumers {
        let mut consumer = stream
            .get_consumer::<async_nats::jetstream::consumer::pull::Config>(name)
            .await
            .map_err(|e| anyhow::anyhow!("consumer {name}: {e}"))?;
        let info = consumer.info().await?;
        if info.num_pending > 0 || info.num_ack_pending > 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_700_000_000_000 + ms).expect("a valid instant")
    }

    #[test]
    fn a_stall_is_the_longest_gap_between_answers_while_something_waits() {
        // a at 0 answered at 100; b at 200, c at 300; b answered at 1300,
        // c at 1400: the gap 200..1300 with b waiting is the longest.
        let timeline = vec![
            (at(0), 1),
            (at(100), -1),
            (at(200), 1),
            (at(300), 1),
            (at(1300), -1),
            (at(1400), -1),
        ];
        assert_eq!(longest_stall(timeline, at(5000)), 1.1);
    }

    #[test]
    fn idle_time_is_no_stall_and_an_unanswered_message_stalls_to_the_end() {
        let timeline = vec![(at(0), 1), (at(100), -1), (at(9000), 1)];
        assert_eq!(longest_stall(timeline, at(9500)), 0.5);
    }
}
