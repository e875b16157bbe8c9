//! Why tenant data could not be imported, read or served.
//!
//! One error type for the whole module, with a [`TenantErrorKind`] callers
//! match on, and the place the problem is in: the file, the record within
//! it and the field, so an operator can fix bad input from the message
//! alone (`orders.json: order #3 (id ORD-10234): field "total": invalid
//! type: string "12", expected f64`). An input error is always raised
//! before anything is written.

use std::fmt;

/// What went wrong, for callers that decide on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantErrorKind {
    /// A file could not be read. Fix the path or permissions.
    Io,
    /// Input is malformed: bad JSON, bad front matter, bad heading, a field
    /// of the wrong type, an unknown file. Nothing was written.
    Input,
    /// An id is used twice: two documents with one id in one import, or a
    /// passage source id used by two documents of the tenant. Nothing was
    /// written.
    Duplicate,
    /// The document, or the tenant's data, does not exist.
    NotFound,
    /// The bucket holds data that does not decode (written by something
    /// other than this module). The previous good data stays in service.
    Corrupt,
    /// NATS / JetStream refused or failed (connection, bucket, put). The
    /// operation may be retried.
    Store,
}

impl fmt::Display for TenantErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Io => "io",
            Self::Input => "input",
            Self::Duplicate => "duplicate",
            Self::NotFound => "not found",
            Self::Corrupt => "corrupt",
            Self::Store => "store",
        })
    }
}

/// A tenant-data operation that failed: what, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct TenantError {
    kind: TenantErrorKind,
    file: Option<String>,
    record: Option<String>,
    field: Option<String>,
    detail: String,
}

impl TenantError {
    /// An error of `kind` with only a message.
    pub(crate) fn new(kind: TenantErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            file: None,
            record: None,
            field: None,
            detail: detail.into(),
        }
    }

    /// An input error in `file`.
    pub(crate) fn input(file: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(TenantErrorKind::Input, detail).in_file(file)
    }

    /// A JetStream failure while doing `what`.
    pub(crate) fn store(what: &str, e: impl fmt::Display) -> Self {
        Self::new(TenantErrorKind::Store, format!("{what}: {e}"))
    }

    /// Names the file.
    pub(crate) fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// Names the record within the file (`order #3 (id ORD-10234)`).
    pub(crate) fn in_record(mut self, record: impl Into<String>) -> Self {
        self.record = Some(record.into());
        self
    }

    /// Names the field within the record.
    pub(crate) fn in_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> TenantErrorKind {
        self.kind
    }

    /// The file concerned, if any.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// The record concerned, if any.
    pub fn record(&self) -> Option<&str> {
        self.record.as_deref()
    }

    /// The field concerned, if any.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for part in [&self.file, &self.record].into_iter().flatten() {
            out.push_str(part);
            out.push_str(": ");
        }
        if let Some(field) = &self.field {
            out.push_str(&format!("field {field:?}: "));
        }
        out.push_str(&self.detail);
        out
    }
}

impl From<crate::knowledge::KbError> for TenantError {
    fn from(e: crate::knowledge::KbError) -> Self {
        let kind = match e.kind() {
            crate::knowledge::KbErrorKind::Io => TenantErrorKind::Io,
            crate::knowledge::KbErrorKind::Index => TenantErrorKind::Store,
            _ => TenantErrorKind::Input,
        };
        Self::new(kind, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_file_record_and_field() {
        let e = TenantError::input("orders.json", "expected a number")
            .in_record("order #3 (id ORD-10234)")
            .in_field("total");
        assert_eq!(
            e.to_string(),
            "orders.json: order #3 (id ORD-10234): field \"total\": expected a number"
        );
        assert_eq!(e.kind(), TenantErrorKind::Input);
        assert_eq!(e.field(), Some("total"));
    }
}
