//! The one error type of the remote model path, with a [`RemoteErrorKind`]
//! callers match on.
//!
//! Every kind is recoverable by falling back to the local model
//! ([`Fallback`](super::Fallback) does exactly that); the docs on each kind say
//! how it should surface when there is no fallback.

use std::time::Duration;

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
    /// The circuit breaker is open; no request was sent.
    /// Worker loop: fall back to local at once, or nak with the cool-down.
    CircuitOpen,
    /// The service answered 2xx but the output was not what we asked for
    /// (no content, invalid JSON, schema mismatch, unknown label), or a 4xx
    /// other than auth/throttling. Worker loop: fall back, or term to the
    /// dead letter after max-deliver; never retried as-is.
    BadResponse,
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
            Self::CircuitOpen => "circuit open",
            Self::BadResponse => "bad response",
            Self::Auth => "auth",
            Self::Config => "config",
        }
    }

    /// Whether the failure says the service is unhealthy (it counts towards
    /// opening the circuit). Bad output, auth and config do not: hammering
    /// is not the problem there.
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
            Self::Throttled { .. } => RemoteErrorKind::Throttled,
            Self::Unavailable { .. } => RemoteErrorKind::Unavailable,
            Self::CircuitOpen { .. } => RemoteErrorKind::CircuitOpen,
            Self::BadResponse(_) => RemoteErrorKind::BadResponse,
            Self::Auth(_) => RemoteErrorKind::Auth,
            Self::Config(_) => RemoteErrorKind::Config,
        }
    }
}
