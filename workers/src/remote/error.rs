//! The one error type of the remote model path, with a [`RemoteErrorKind`]
//! callers match on.
//!
//! Every kind is recoverable by falling back to the local model
//! ([`Fallback`](super::Fallback) does exactly that); the docs on each kind say
//! how it should surface when there is no fallback.

use std::time::Duration;

use super::client::Usage;

/// What went wrong, coarsely, for callers to decide on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemoteErrorKind {
    /// No answer within the per-attempt timeout after every retry.
    /// Worker loop: nak with delay; operator: latency alert.
    Timeout,
    /// 429 after every retry, or a `Retry-After` longer than we wait.
    /// Worker loop: nak with the `retry_after` delay; operator: raise quota.
    Throttled,
    /// 5xx or a connection failure after every retry.
    /// Worker loop: nak with delay (the breaker will open if it persists).
    Unavailable,
    /// Every request slot stayed taken (by earlier calls still running on
    /// the server) until the deadline; no request was sent. Backpressure,
    /// not a service failure: it neither opens nor closes the circuit.
    /// Worker loop: fall back at once; operator: the server is too slow for
    /// the traffic (add capacity or raise the concurrency).
    Busy,
    /// The circuit breaker is open; no request was sent.
    /// Worker loop: fall back to local at once, or nak with the cool-down.
    CircuitOpen,
    /// The service answered 2xx but the output was not what we asked for
    /// (no content, invalid JSON, schema mismatch, unknown label), or a 4xx
    /// other than auth/throttling. Worker loop: fall back, or term to the
    /// dead letter after max-deliver; never retried as-is.
    BadResponse,
    /// A well-formed draft that cites no retrieved source, or cites one
    /// that was not retrieved: it may state facts retrieval did not find.
    /// Worker loop: fall back to the local responder; never retried as-is.
    /// Operator: the model or its prompt strays from the sources.
    Ungrounded,
    /// 401/403, or the token provider failed. Operator: fix credentials;
    /// worker loop: fall back.
    Auth,
    /// The configuration cannot work (bad URL, header value, TLS set-up).
    /// Operator: fix configuration at start-up.
    Config,
}

impl RemoteErrorKind {
    /// A short stable label for logs and the fallback's `model` note.
    pub fn label(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Throttled => "throttled",
            Self::Unavailable => "unavailable",
            Self::Busy => "busy",
            Self::CircuitOpen => "circuit open",
            Self::BadResponse => "bad response",
            Self::Ungrounded => "ungrounded",
            Self::Auth => "auth",
            Self::Config => "config",
        }
    }

    /// Whether the failure says the service is unhealthy (it counts towards
    /// opening the circuit). Bad or ungrounded output, auth and config do
    /// not: hammering is not the problem there.
    pub fn is_service_failure(self) -> bool {
        matches!(self, Self::Timeout | Self::Throttled | Self::Unavailable)
    }
}

/// A failed remote model call. Messages never contain the prompt or the
/// service's free-text error message; a `BadResponse` from decoding may quote
/// a short fragment of the model's output, so log it at debug only.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// See [`RemoteErrorKind::Timeout`].
    #[error("model call timed out after {attempts} attempt(s)")]
    Timeout {
        /// Attempts made.
        attempts: u32,
    },
    /// See [`RemoteErrorKind::Busy`]: every slot stayed taken by earlier
    /// calls (which may have been abandoned by their steps but are still
    /// running on the server) until the deadline.
    #[error("no free model slot within {waited:?}: earlier calls are still running")]
    Busy {
        /// How long the call waited.
        waited: Duration,
    },
    /// See [`RemoteErrorKind::Throttled`].
    #[error("model throttled (429) after {attempts} attempt(s)")]
    Throttled {
        /// Attempts made.
        attempts: u32,
        /// What the service asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// See [`RemoteErrorKind::Unavailable`].
    #[error("model unavailable after {attempts} attempt(s): {detail}")]
    Unavailable {
        /// Attempts made.
        attempts: u32,
        /// Status or transport error.
        detail: String,
    },
    /// See [`RemoteErrorKind::CircuitOpen`].
    #[error("circuit open; next probe in {retry_in:?}")]
    CircuitOpen {
        /// Time until the breaker lets a probe through.
        retry_in: Duration,
    },
    /// See [`RemoteErrorKind::BadResponse`].
    #[error("bad model response: {0}")]
    BadResponse(String),
    /// A [`RemoteErrorKind::BadResponse`] after the model answered: the
    /// tokens were spent (and are recorded on the fallback's event).
    #[error("bad model output: {detail}")]
    BadOutput {
        /// What was wrong (may quote a fragment of the output).
        detail: String,
        /// What the refused answer cost.
        spent: Usage,
    },
    /// See [`RemoteErrorKind::Ungrounded`].
    #[error("draft not grounded in the retrieved sources: {detail}")]
    Ungrounded {
        /// What was wrong (may name a source the model invented).
        detail: String,
        /// What the refused draft cost.
        spent: Usage,
    },
    /// See [`RemoteErrorKind::Auth`].
    #[error("model authentication failed: {0}")]
    Auth(String),
    /// See [`RemoteErrorKind::Config`].
    #[error("model configuration error: {0}")]
    Config(String),
}

impl RemoteError {
    /// The kind, for matching.
    pub fn kind(&self) -> RemoteErrorKind {
        match self {
            Self::Timeout { .. } => RemoteErrorKind::Timeout,
            Self::Busy { .. } => RemoteErrorKind::Busy,
            Self::Throttled { .. } => RemoteErrorKind::Throttled,
            Self::Unavailable { .. } => RemoteErrorKind::Unavailable,
            Self::CircuitOpen { .. } => RemoteErrorKind::CircuitOpen,
            Self::BadResponse(_) | Self::BadOutput { .. } => RemoteErrorKind::BadResponse,
            Self::Ungrounded { .. } => RemoteErrorKind::Ungrounded,
            Self::Auth(_) => RemoteErrorKind::Auth,
            Self::Config(_) => RemoteErrorKind::Config,
        }
    }

    /// Why the remote model did not decide, short enough for an event's
    /// `fallback` field and a warn-level log line: the kind, with the
    /// detail that tells an operator what to fix (the status, "connection
    /// refused", "output truncated (max_tokens)", the schema mismatch).
    /// Never the prompt or a string the model wrote.
    pub fn reason(&self) -> String {
        let kind = self.kind().label();
        match self {
            Self::Busy { .. } => format!("{kind}: no free request slot"),
            Self::Unavailable { detail, .. }
            | Self::BadResponse(detail)
            | Self::BadOutput { detail, .. }
            | Self::Ungrounded { detail, .. }
            | Self::Auth(detail)
            | Self::Config(detail) => format!("{kind}: {detail}"),
            Self::Timeout { .. } | Self::Throttled { .. } | Self::CircuitOpen { .. } => {
                kind.to_owned()
            }
        }
    }

    /// What the model charged for an answer that was then refused; `None`
    /// when no answer came back.
    pub fn spent(&self) -> Option<&Usage> {
        match self {
            Self::BadOutput { spent, .. } | Self::Ungrounded { spent, .. } => Some(spent),
            _ => None,
        }
    }

    /// Attaches what an answer cost to a failure to decode it.
    pub(crate) fn with_spent(self, spent: Usage) -> Self {
        match self {
            Self::BadResponse(detail) => Self::BadOutput { detail, spent },
            other => other,
        }
    }
}
