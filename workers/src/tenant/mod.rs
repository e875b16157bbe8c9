//! Tenant data: each tenant's knowledge-base documents, products, orders,
//! customers and loyalty accounts, stored in JetStream and served to the
//! agents per conversation tenant.
//!
//! Before this module the BrewVi Coffee demo data was compiled into the
//! binary and a second shop could not exist. Now:
//!
//! - [`store`]: one KV bucket, `SWITCHBOARD_TENANT_DATA`, keys
//!   `<tenant>.kb.<doc-id>`, `<tenant>.products`, `<tenant>.orders`,
//!   `<tenant>.customers`, `<tenant>.loyalty`; every write is a revision
//!   (history of 5), so every replica sees the same, versioned data.
//! - [`document`] and [`records`]: the input shapes (Markdown with YAML
//!   front matter or JSON documents; the project's record files or the
//!   Shopify-like BrewVi sample), validated with errors that name file,
//!   record and field.
//! - [`import`]: the operations behind `switchboard kb import|list|remove`
//!   and `switchboard tenant import`. Everything is validated, and the
//!   tenant's resulting knowledge base built, before the first write:
//!   bad input changes nothing.
//! - [`live`]: [`TenantKnowledge`] watches the bucket and rebuilds a
//!   tenant's knowledge base (index included) when its data changes,
//!   swapping it in atomically: no restart.
//! - [`source`]: [`KnowledgeSource`], what the knowledge agent asks for the
//!   conversation's tenant: the live bucket for the running system, or an
//!   in-memory knowledge base for tests and benches. A tenant without data
//!   gets no knowledge base, so retrieval finds nothing and the answer says
//!   it has no information; it never gets another tenant's.
//! - [`TenantData::demo`]: the demo tenant, `switchboard up` seeds it into
//!   the bucket on first start only (when `brewvi` has no data yet).

pub mod data;
pub mod document;
mod error;
pub mod import;
pub mod live;
pub mod records;
pub mod source;
pub mod store;

pub use data::TenantData;
pub use document::{DocId, KbDocument};
pub use error::{TenantError, TenantErrorKind};
pub use live::TenantKnowledge;
pub use records::RecordKind;
pub use source::KnowledgeSource;
pub use store::TenantStore;

/// The demo tenant's id.
pub const DEMO_TENANT: &str = "brewvi";
