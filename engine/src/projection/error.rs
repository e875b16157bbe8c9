//! Errors of the projection stores and queries.

/// What went wrong in a projection store; callers match on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store is temporarily unable to serve (SQLite locked or busy,
    /// Cosmos 429/503, network). Surfaces as: retried with backoff by the
    /// projector (messages stay unacked); 503 from an HTTP read.
    Unavailable,
    /// Another writer changed a document between read and write (Cosmos
    /// etag mismatch). Surfaces as: the projector reloads and retries.
    Conflict,
    /// The store holds something this build cannot read (corrupt JSON,
    /// unknown schema). Surfaces as: an operator error; rebuild the projection.
    Corrupt,
    /// The store is misconfigured or refuses the request (bad path, missing
    /// container, permissions, unsupported operation). Surfaces as: fatal to
    /// the projector; an operator error with the message.
    Rejected,
}

/// A projection store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{backend} projection store: {message}")]
pub struct StoreError {
    kind: StoreErrorKind,
    backend: &'static str,
    message: String,
    retry_after: Option<std::time::Duration>,
}

impl StoreError {
    /// A new error of `kind` from `backend` (`sqlite`, `cosmos`).
    pub fn new(kind: StoreErrorKind, backend: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            backend,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error with a server-advised delay before retrying.
    pub fn with_retry_after(mut self, delay: std::time::Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// The delay the server asked for (Cosmos `x-ms-retry-after-ms`), if any.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after
    }

    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            StoreErrorKind::Unavailable | StoreErrorKind::Conflict
        )
    }
}

/// What went wrong answering a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryErrorKind {
    /// The query is malformed (empty range, bad limit). Surfaces as: HTTP
    /// 400; a CLI usage error.
    Invalid,
    /// The store failed. Surfaces as: HTTP 503; a CLI error with the cause.
    Store,
}

/// A query could not be answered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    /// See [`QueryErrorKind::Invalid`].
    #[error("invalid query: {0}")]
    Invalid(String),
    /// See [`QueryErrorKind::Store`].
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl QueryError {
    /// What went wrong.
    pub fn kind(&self) -> QueryErrorKind {
        match self {
            QueryError::Invalid(_) => QueryErrorKind::Invalid,
            QueryError::Store(_) => QueryErrorKind::Store,
        }
    }
}
