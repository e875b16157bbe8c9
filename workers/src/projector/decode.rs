//! Decoding JetStream messages into stored events for the projector.
//!
//! A message that is not a valid event is logged (subject and sequence, no
//! content), counted, and left out: the projection never stalls on it.

use async_nats::jetstream::Message;
use chrono::{DateTime, Utc};
use switchboard_engine::event::StoredEvent;
use switchboard_engine::event::codec::{DecodeError, DecodeErrorKind, decode};
use switchboard_engine::ids::StreamSeq;

use super::metric;

/// Decodes one message with its stream position and storage time.
pub fn decode_message(message: &Message) -> Result<StoredEvent, DecodeError> {
    let info = message.info().map_err(|e| {
        DecodeError::new(
            DecodeErrorKind::MissingHeader,
            format!("not a JetStream message: {e}"),
        )
    })?;
    let event = decode(
        message.subject.as_str(),
        message.headers.as_ref(),
        &message.payload,
    )?;
    let published = info.published;
    Ok(StoredEvent {
        seq: StreamSeq::new(info.stream_sequence),
        stored_at: DateTime::<Utc>::from_timestamp(
            published.unix_timestamp(),
            published.nanosecond(),
        )
        .unwrap_or_default(),
        event,
    })
}

/// A message of the batch that is not a valid event, with why.
pub(crate) struct Rejected {
    /// The message as stored.
    pub letter: crate::runtime::Letter,
    /// Why it does not decode.
    pub error: DecodeError,
}

/// Decodes a batch: the valid events, and what does not decode (logged
/// and counted here).
pub(super) fn decode_all(messages: &[Message]) -> (Vec<StoredEvent>, Vec<Rejected>) {
    let mut events = Vec::with_capacity(messages.len());
    let mut rejected = Vec::new();
    for m in messages {
        match decode_message(m) {
            Ok(event) => events.push(event),
            Err(error) => {
                let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
                tracing::warn!(subject = %m.subject, seq, kind = ?error.kind(), %error, "undecodable event skipped by the projector");
                metrics::counter!(metric::UNDECODABLE).increment(1);
                rejected.push(Rejected {
                    letter: crate::runtime::Letter::of(m),
                    error,
                });
            }
        }
    }
    (events, rejected)
}
