//! Errors of the event store, one type per operation, each with a kind.
//!
//! JetStream's answers are mapped to kinds in exactly one place
//! ([`AppendError::from_publish`]), so callers never parse server messages.

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::context::{PublishError, PublishErrorKind};

pub(crate) use crate::error_chain;
use crate::ids::StreamSeq;

/// What went wrong with an append; callers match on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppendErrorKind {
    /// Someone else extended the conversation since it was loaded.
    /// Worker: reload, decide again. HTTP: 409.
    Conflict,
    /// These events were already stored under the same idempotency key.
    /// Worker: ack the trigger, the work is done. HTTP: 200 with the stored position.
    Duplicate,
    /// The server could not be reached or did not answer in time.
    /// Worker: nak with delay. HTTP: 503.
    Unavailable,
    /// An event is larger than the stream accepts. Worker: term and
    /// dead-letter. HTTP: 413.
    TooLarge,
    /// The events do not belong to the conversation they are appended to, or
    /// the list is empty. A caller bug: HTTP 400, worker dead-letter.
    InvalidId,
    /// The server refused for another reason (stream missing, batch
    /// unsupported, limits). Operator: check `switchboard streams apply`.
    Rejected,
}

/// An append that stored nothing.
#[derive(Debug, thiserror::Error)]
#[error("append failed ({kind:?}): {message}")]
pub struct AppendError {
    kind: AppendErrorKind,
    message: String,
    actual: Option<StreamSeq>,
}

impl AppendError {
    pub(crate) fn new(kind: AppendErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            actual: None,
        }
    }

    pub(crate) fn conflict(expected: StreamSeq, actual: StreamSeq) -> Self {
        Self {
            kind: AppendErrorKind::Conflict,
            message: format!("expected version {expected}, the conversation is at {actual}"),
            actual: Some(actual),
        }
    }

    pub(crate) fn duplicate(stored: StreamSeq) -> Self {
        Self {
            kind: AppendErrorKind::Duplicate,
            message: format!("already stored, last at sequence {stored}"),
            actual: Some(stored),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> AppendErrorKind {
        self.kind
    }

    /// For `Conflict`, the conversation's actual version; for `Duplicate`,
    /// the sequence of the last event already stored.
    pub fn actual_version(&self) -> Option<StreamSeq> {
        self.actual
    }

    /// Maps a JetStream publish failure. `WrongLastSequence` is handled by the
    /// caller, which must look up the actual version.
    pub(crate) fn from_publish(err: PublishError) -> Self {
        let kind = match err.kind() {
            PublishErrorKind::TimedOut
            | PublishErrorKind::BrokenPipe
            | PublishErrorKind::MaxAckPending => AppendErrorKind::Unavailable,
            PublishErrorKind::MaxPayloadExceeded => AppendErrorKind::TooLarge,
            PublishErrorKind::WrongLastSequence => AppendErrorKind::Conflict,
            // No server answered for the subject: no stream takes it, or a
            // replicated stream is between leaders (seconds, seen in
            // `bench chaos --cluster`). Both are worth another try; a
            // stream that never comes keeps failing with this message.
            PublishErrorKind::StreamNotFound => AppendErrorKind::Unavailable,
            _ => match server_code(&err) {
                Some(
                    ErrorCode::STREAM_MESSAGE_EXCEEDS_MAXIMUM
                    | ErrorCode::STREAM_HEADER_EXCEEDS_MAXIMUM,
                ) => AppendErrorKind::TooLarge,
                Some(BATCH_DUPLICATE_MESSAGE_ID) => AppendErrorKind::Duplicate,
                // A replicated stream checked the expectation against
                // proposals not yet applied: a conflict like any other.
                Some(WRONG_LAST_SEQUENCE_PROPOSED) => AppendErrorKind::Conflict,
                // The same message id is being replicated (a retry after a
                // lost ack, during a leader change): its outcome is not
                // known yet, so try again shortly.
                Some(DUPLICATE_IN_PROCESS) => AppendErrorKind::Unavailable,
                Some(code) if CLUSTER_UNAVAILABLE.contains(&code) => AppendErrorKind::Unavailable,
                Some(_) => AppendErrorKind::Rejected,
                None => AppendErrorKind::Unavailable,
            },
        };
        Self::new(kind, error_chain(&err))
    }
}

/// "atomic publish batch contains duplicate message id": a batch retried
/// within the duplicate window.
const BATCH_DUPLICATE_MESSAGE_ID: ErrorCode = ErrorCode(10201);

/// "wrong last sequence" without a sequence (10164): a replicated
/// stream's leader refusing an expectation that a proposal in flight
/// already broke.
const WRONG_LAST_SEQUENCE_PROPOSED: ErrorCode = ErrorCode::STREAM_WRONG_LAST_SEQUENCE_CONSTANT;

/// "duplicate message id is in process" (10158): a replicated stream holds
/// a proposal with this message id that it has not applied yet.
const DUPLICATE_IN_PROCESS: ErrorCode = ErrorCode::STREAM_DUPLICATE_MESSAGE_CONFLICT;

/// A cluster between leaders: JetStream not active, temporarily
/// unavailable, not the leader, stream offline.
const CLUSTER_UNAVAILABLE: [ErrorCode; 4] = [
    ErrorCode::CLUSTER_NOT_ACTIVE,
    ErrorCode::CLUSTER_NOT_AVAILABLE,
    ErrorCode::CLUSTER_NOT_LEADER,
    ErrorCode::STREAM_OFFLINE,
];

/// The JetStream error code behind a publish error, if the server sent one.
pub(crate) fn server_code(err: &PublishError) -> Option<ErrorCode> {
    std::error::Error::source(err)
        .and_then(|s| s.downcast_ref::<async_nats::jetstream::Error>())
        .map(|e| e.error_code())
}

/// What went wrong with a load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The server could not be reached or did not answer in time. Worker:
    /// nak with delay. HTTP: 503.
    Unavailable,
    /// The server refused the read (stream missing, direct get disabled).
    /// Operator: run `switchboard streams apply`.
    Rejected,
}

/// A load that returned nothing.
#[derive(Debug, thiserror::Error)]
#[error("load failed ({kind:?}): {message}")]
pub struct LoadError {
    kind: LoadErrorKind,
    message: String,
}

impl LoadError {
    pub(crate) fn new(kind: LoadErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> LoadErrorKind {
        self.kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(code: u16, err_code: u64) -> PublishError {
        let source: async_nats::jetstream::Error = serde_json::from_value(serde_json::json!({
            "code": code,
            "err_code": err_code,
            "description": "from the server",
        }))
        .expect("a JetStream API error");
        PublishError::with_source(PublishErrorKind::Other, source)
    }

    #[test]
    fn no_responders_for_the_subject_is_transient() {
        let err = PublishError::new(PublishErrorKind::StreamNotFound);
        assert_eq!(
            AppendError::from_publish(err).kind(),
            AppendErrorKind::Unavailable
        );
    }

    #[test]
    fn a_replicated_streams_answers_during_a_leader_change_are_transient_or_conflicts() {
        let kind = |code, err_code| AppendError::from_publish(server_error(code, err_code)).kind();
        assert_eq!(kind(409, 10158), AppendErrorKind::Unavailable);
        assert_eq!(kind(400, 10164), AppendErrorKind::Conflict);
        for code in [10006, 10008, 10009, 10118] {
            assert_eq!(kind(503, code), AppendErrorKind::Unavailable, "{code}");
        }
        assert_eq!(kind(400, 10201), AppendErrorKind::Duplicate);
        assert_eq!(kind(400, 10999), AppendErrorKind::Rejected);
    }
}
