//! Decoding JetStream messages into stored events for the projector.
//!
//! A message that is not a valid event is logged (subject and sequence, no
//! content), counted, and left out: the projection never stalls on it.

use async_nats::jetstream::Message;
use chrono::{DateTime, Utc};
use std::sync::Arc;

use switchboard_engine::event::codec::{DecodeError, DecodeErrorKind, decode};
use switchboard_engine::event::{EventData, StoredEvent};
use switchboard_engine::ids::StreamSeq;
use switchboard_engine::store::Cipher;

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

/// Opens the texts the projections keep: the answers (the last one is on
/// the conversation document). Other texts stay sealed, unread. A text that
/// cannot be opened now stays sealed (ciphertext, never plain) and is logged.
async fn open_projected(cipher: &dyn Cipher, stored: &mut StoredEvent) {
    if !matches!(
        stored.event.data,
        EventData::Responded(_) | EventData::HumanReplied(_)
    ) {
        return;
    }
    if let Err(error) = cipher.open(&mut stored.event).await {
        tracing::warn!(seq = stored.seq.get(), kind = ?error.kind(), %error, "projector could not open an answer; it stays sealed");
    }
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
pub(super) async fn decode_all(
    messages: &[Message],
    cipher: Option<&Arc<dyn Cipher>>,
) -> (Vec<StoredEvent>, Vec<Rejected>) {
    let mut events = Vec::with_capacity(messages.len());
    let mut rejected = Vec::new();
    for m in messages {
        match decode_message(m) {
            Ok(mut event) => {
                if let Some(cipher) = cipher {
                    open_projected(cipher.as_ref(), &mut event).await;
                }
                events.push(event)
            }
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
