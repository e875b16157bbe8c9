//! Why a knowledge base could not be loaded.
//!
//! One error type for [`super::KnowledgeBase::load`] (and `builtin`), with a
//! [`KbErrorKind`] callers match on. A knowledge-base error is an operator
//! problem (bad deployment or bad tenant data): the worker reports it at
//! start-up and does not start, it never reaches a customer.

use std::fmt;

/// What went wrong, for callers that decide on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KbErrorKind {
    /// The directory or one of its files could not be read (missing file,
    /// permissions). Surfaces to the operator: fix the path.
    Io,
    /// A JSON file did not decode into its expected shape. Surfaces to the
    /// operator with the file and serde's position.
    Decode,
    /// A markdown file is malformed (text before the first passage heading,
    /// a heading without id or title, an empty passage) or a source id is
    /// used twice. Surfaces to the operator with the file.
    Format,
    /// The search index could not be built. Surfaces to the operator; it is
    /// not a data problem.
    Index,
}

impl fmt::Display for KbErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KbErrorKind::Io => "io",
            KbErrorKind::Decode => "decode",
            KbErrorKind::Format => "format",
            KbErrorKind::Index => "index",
        })
    }
}

/// A knowledge base that could not be loaded: which file, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("knowledge base {kind} error in {file}: {detail}")]
pub struct KbError {
    kind: KbErrorKind,
    file: String,
    detail: String,
}

impl KbError {
    pub(crate) fn new(
        kind: KbErrorKind,
        file: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            file: file.into(),
            detail: detail.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> KbErrorKind {
        self.kind
    }

    /// The file (or directory) concerned.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// What is wrong, without the kind and file.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// Why a search over the passages failed (the in-memory index refused the
/// query). The worker treats it as a transient step failure (nak with delay).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("knowledge search failed: {0}")]
pub struct SearchError(pub(crate) String);
