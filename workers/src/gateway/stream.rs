//! A conversation's events as they are appended: server-sent events.
//!
//! Each SSE event carries the timeline entry, its `id` the stream sequence
//! and its `event` the event type. A client that reconnects with
//! `Last-Event-ID` (or `?after=`) resumes after that sequence and misses
//! nothing: the stream is an ordered JetStream consumer on the
//! conversation's subjects starting at the next sequence, not a core
//! subscription that drops what was published while nobody listened.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use switchboard_engine::event::codec::decode;
use switchboard_engine::event::{Event, StoredEvent};
use switchboard_engine::ids::{EventId, StreamSeq};
use switchboard_engine::store::Cipher;

use super::Shared;
use super::body::{PathOf, QueryOf};
use super::conversations::{ConversationPath, READERS, admit};
use super::problem::Problem;
use crate::timeline;

/// Where to resume.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AfterParams {
    /// Resume after this stream sequence (as `Last-Event-ID` does).
    pub after: Option<u64>,
}

/// The conversation's events, live.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/conversations/{id}/events/stream",
    params(ConversationPath, AfterParams,
        ("Last-Event-ID" = Option<u64>, Header, description = "resume after this stream sequence")),
    responses(
        (status = 200, description = "text/event-stream of timeline entries", content_type = "text/event-stream", body = String),
        (status = 400, description = "bad Last-Event-ID", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn events_stream(
    State(gw): Shared,
    PathOf(path): PathOf<ConversationPath>,
    QueryOf(after): QueryOf<AfterParams>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, Problem> {
    let key = admit(&gw, &headers, &path, READERS).await?;
    let last = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| Problem::bad_request("Last-Event-ID must be a stream sequence"))?,
        ),
        None => after.after,
    };
    let deliver_policy = match last {
        Some(seq) => DeliverPolicy::ByStartSequence {
            start_sequence: seq + 1,
        },
        None => DeliverPolicy::All,
    };
    let stream = gw
        .store()
        .jetstream()
        .get_stream(&gw.store().options().stream)
        .await
        .map_err(|e| Problem::unavailable(format!("the log: {e}")))?;
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            filter_subject: key.wildcard(),
            deliver_policy,
            ..Default::default()
        })
        .await
        .map_err(|e| Problem::unavailable(format!("following the conversation: {e}")))?;
    let messages = consumer
        .messages()
        .await
        .map_err(|e| Problem::unavailable(format!("following the conversation: {e}")))?;
    let mut stored: HashMap<EventId, DateTime<Utc>> = HashMap::new();
    let cipher = gw.store().cipher().cloned();
    let opened = messages.then(move |message| {
        let cipher = cipher.clone();
        async move {
            let message = message.ok()?;
            let decoded = decode_opened(&message, cipher.as_deref()).await;
            Some((message, decoded))
        }
    });
    let events = opened.filter_map(move |item| {
        let event = item.and_then(|(m, decoded)| sse_event(&m, decoded, &mut stored));
        std::future::ready(event.map(Ok))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// A stored message decoded, its personal texts opened (or read as erased).
async fn decode_opened(
    message: &async_nats::jetstream::Message,
    cipher: Option<&dyn Cipher>,
) -> Result<Event, String> {
    let mut event = decode(&message.subject, message.headers.as_ref(), &message.payload)
        .map_err(|e| e.to_string())?;
    if let Some(cipher) = cipher {
        cipher.open(&mut event).await.map_err(|e| e.to_string())?;
    }
    Ok(event)
}

/// One stored message as an SSE event; undecodable messages are sent as
/// `undecodable` events, never hidden.
fn sse_event(
    message: &async_nats::jetstream::Message,
    decoded: Result<Event, String>,
    stored: &mut HashMap<EventId, DateTime<Utc>>,
) -> Option<SseEvent> {
    let info = message.info().ok()?;
    let seq = info.stream_sequence;
    let stored_at = timeline::stored_at(&info);
    let sse = SseEvent::default().id(seq.to_string());
    match decoded {
        Ok(event) => {
            let stored_event = StoredEvent {
                seq: StreamSeq::new(seq),
                stored_at,
                event,
            };
            let entry = timeline::entry(&stored_event, stored);
            stored.insert(stored_event.event.envelope.id, stored_at);
            sse.event(entry.event_type.clone()).json_data(&entry).ok()
        }
        Err(e) => sse
            .event("undecodable")
            .json_data(serde_json::json!({
                "seq": seq,
                "subject": message.subject.as_str(),
                "error": e,
            }))
            .ok(),
    }
}
