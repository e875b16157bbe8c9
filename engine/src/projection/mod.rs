//! Projections: read models folded from the conversation log (DESIGN §5).
//!
//! The projector (in the workers crate) reads `conv.>` and hands batches of
//! stored events to a [`Folder`], which folds them purely ([`fold`]) into
//! documents held in a [`ProjectionStore`]. Every document records the stream
//! sequence of the last event folded in, and both the fold and the stores
//! ignore updates that are not newer, so redelivery is harmless and the
//! projector's checkpoint is simply its consumer's ack floor.
//!
//! # Layout
//! - [`document`]: the `conversations`, `escalations`, `analytics` and
//!   `customers` documents.
//! - [`fold`]: the pure fold of one event into document updates.
//! - [`folder`]: the batch fold against a store, with a document cache.
//! - [`query`]: typed queries, their results and table rendering.
//! - [`sqlite`]: the embedded SQLite store (default).
//! - [`cosmos`]: the Azure Cosmos DB store.
//! - [`retry`]: backoff for transient store failures.

pub mod cosmos;
pub mod document;
mod error;
pub mod fold;
pub mod folder;
pub mod query;
pub mod retry;
pub mod sqlite;
mod table;

use std::sync::Arc;

use async_trait::async_trait;

pub use document::*;
pub use error::{QueryError, QueryErrorKind, StoreError, StoreErrorKind};
pub use folder::Folder;
pub use query::{Query, QueryResult, Scope, run_query};
pub use table::Table;

use crate::ids::{ConversationKey, Tenant};

/// The four projections, by name.
pub const PROJECTIONS: [&str; 4] = ["conversations", "escalations", "analytics", "customers"];

/// Documents to write in one batch, or read back by key.
///
/// A store writes derived documents (escalations, analytics, customers)
/// before conversations: if a write is cut short, the conversation documents
/// are still behind, so the events are folded again and the derived
/// documents, already newer, ignore them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Documents {
    /// Conversation documents.
    pub conversations: Vec<ConversationDoc>,
    /// Queue entries.
    pub escalations: Vec<EscalationDoc>,
    /// Analytics buckets.
    pub analytics: Vec<AnalyticsDoc>,
    /// Customers.
    pub customers: Vec<CustomerDoc>,
    /// Stream sequence of the last event of the batch: every projection's
    /// checkpoint after this write.
    pub checkpoint: Option<u64>,
}

impl Documents {
    /// Number of documents (checkpoint excluded).
    pub fn len(&self) -> usize {
        self.conversations.len()
            + self.escalations.len()
            + self.analytics.len()
            + self.customers.len()
    }

    /// Whether there is no document.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Keys of documents to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocKeys {
    /// Conversations (and their queue entries).
    pub conversations: Vec<ConversationKey>,
    /// Queue entries.
    pub escalations: Vec<ConversationKey>,
    /// Analytics buckets.
    pub analytics: Vec<AnalyticsKey>,
    /// Customers.
    pub customers: Vec<CustomerKey>,
}

impl DocKeys {
    /// Whether no key is asked for.
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
            && self.escalations.is_empty()
            && self.analytics.is_empty()
            && self.customers.is_empty()
    }
}

/// The last stream sequence folded into each projection.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Checkpoints(pub Vec<(String, u64)>);

impl Checkpoints {
    /// The checkpoint of one projection (0 if never written).
    pub fn get(&self, projection: &str) -> u64 {
        self.0
            .iter()
            .find(|(name, _)| name == projection)
            .map_or(0, |(_, seq)| *seq)
    }
}

/// Where projected documents live. Implementations: [`sqlite::SqliteStore`]
/// and [`cosmos::CosmosStore`]; both pass the same contract suite.
///
/// Every write is gated per document on `lastSeq`: a document whose stored
/// `lastSeq` is greater than or equal to the written one is left alone.
#[async_trait]
pub trait ProjectionStore: Send + Sync + std::fmt::Debug {
    /// `sqlite` or `cosmos`, for logs and errors.
    fn backend(&self) -> &'static str;

    /// Reads documents by key; absent keys are simply missing from the answer.
    async fn get(&self, keys: &DocKeys) -> Result<Documents, StoreError>;

    /// Writes a batch (derived documents first, conversations last, then the
    /// checkpoint). SQLite writes it in one transaction.
    async fn write(&self, batch: &Documents) -> Result<(), StoreError>;

    /// Conversations of a scope (tenant, start day range, channel), newest first.
    async fn conversations(&self, scope: &Scope) -> Result<Vec<ConversationDoc>, StoreError>;

    /// Analytics buckets of a scope.
    async fn analytics(&self, scope: &Scope) -> Result<Vec<AnalyticsDoc>, StoreError>;

    /// A tenant's queue entries in every state.
    async fn escalations(&self, tenant: &Tenant) -> Result<Vec<EscalationDoc>, StoreError>;

    /// The checkpoint of every projection.
    async fn checkpoints(&self) -> Result<Checkpoints, StoreError>;

    /// A fresh, empty copy of this store to rebuild into (SQLite: a new file
    /// beside the current one; Cosmos DB: containers of the next
    /// generation). [`StoreErrorKind::Rejected`] if unsupported.
    async fn fresh_copy(&self) -> Result<Arc<dyn ProjectionStore>, StoreError>;

    /// Replaces this store's contents with a copy made by [`fresh_copy`]
    /// (SQLite: renames the new file over the old one and reopens it;
    /// Cosmos DB: makes the copy's generation the active one).
    ///
    /// [`fresh_copy`]: ProjectionStore::fresh_copy
    async fn swap_in(&self, fresh: Arc<dyn ProjectionStore>) -> Result<(), StoreError>;

    /// Increases whenever the contents were replaced ([`swap_in`]), so a
    /// cache of documents knows to drop itself.
    ///
    /// [`swap_in`]: ProjectionStore::swap_in
    fn generation(&self) -> u64;

    /// Notices a swap made by another process, for stores where one can
    /// happen (Cosmos DB reads its generation document; SQLite has nothing
    /// to do: the default). The [`Folder`] calls it before every batch, so
    /// [`generation`] changes between batches, never inside one.
    ///
    /// [`generation`]: ProjectionStore::generation
    async fn refresh(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The file holding the store, for stores that are one file (SQLite).
    fn location(&self) -> Option<std::path::PathBuf> {
        None
    }

    /// Gives up the store's resources so a swap can replace them (SQLite:
    /// closes the connection). Later calls fail with `Rejected`.
    async fn close(&self) -> Result<(), StoreError>;
}
