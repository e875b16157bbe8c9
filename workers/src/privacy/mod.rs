//! Personal data on an immutable log: crypto-shredding.
//!
//! The log never forgets, so personal text is sealed in it with keys kept
//! outside it ([`ring`]): erasing a customer is shredding their key. The
//! store seals and opens at its boundary (the engine's `Cipher`), so agents,
//! fold and workflow never see a key.
//!
//! The operations here are what the CLI and the gateway's operator routes
//! call:
//! - [`erase_customer`]: shred a customer's keys and record an `erased`
//!   event (no personal data) on each of their conversations; every reader
//!   then shows their texts as erased, and the projector purges the text
//!   the projections held.
//! - [`export_customer`]: everything held about one customer, decrypted,
//!   for a subject access request.
//! - [`apply_retention`]: shred the keys of a tenant's conversations closed
//!   longer ago than its retention period ([`retention`] runs it on a
//!   schedule and records each pass).
//!
//! [`keys`] holds the key material (master key from a file or an
//! environment variable, tenant keys derived from it).

pub mod keys;
pub mod retention;
pub mod ring;

use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use switchboard_engine::event::{Actor, Erased, ErasureReason, EventData, StoredEvent};
use switchboard_engine::ids::{ConversationKey, Tenant};
use switchboard_engine::projection::{ConversationDoc, DocKeys, ProjectionStore};
use switchboard_engine::store::{CipherError, EventStore};

use crate::intake::{Intake, IntakeError};

pub use keys::{Key, KeyError};
pub use retention::{
    RetentionLedger, RetentionRecord, RetentionReport, RetentionRunner, RetentionSchedule,
    apply_retention, run_schedule,
};
pub use ring::KeyRing;

/// Metric names.
pub mod metric {
    /// Counter: conversation keys shredded, by `reason` (`request`, `retention`).
    pub const SHREDDED: &str = "switchboard_privacy_shredded_total";
}

/// What went wrong with a personal-data operation.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// The store has no key ring: personal text is not sealed here, so it
    /// cannot be shredded. Operator: configure a master key.
    #[error("personal data is not encrypted in this deployment (no master key configured)")]
    NotEncrypted,
    /// The customer id is empty or too long (HTTP 400).
    #[error("customer id must be 1 to 200 bytes, not {0}")]
    InvalidCustomer(usize),
    /// The key bucket could not be used (HTTP 503).
    #[error(transparent)]
    Keys(#[from] CipherError),
    /// The log could not be read or written (HTTP 503).
    #[error("{0}")]
    Log(String),
    /// The projections could not be read (HTTP 503).
    #[error("projections: {0}")]
    Projections(String),
}

impl From<IntakeError> for PrivacyError {
    fn from(e: IntakeError) -> Self {
        PrivacyError::Log(e.to_string())
    }
}

fn check_customer(customer_id: &str) -> Result<(), PrivacyError> {
    if customer_id.is_empty() || customer_id.len() > 200 {
        return Err(PrivacyError::InvalidCustomer(customer_id.len()));
    }
    Ok(())
}

/// What an erasure did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErasureReport {
    /// The tenant.
    pub tenant: String,
    /// Conversations whose texts now read as erased.
    pub conversations: Vec<String>,
}

/// Shreds the keys of `customer_id` in `tenant` and records the erasure on
/// each of their conversations. Erasing again finds nothing left and
/// records nothing.
pub async fn erase_customer(
    store: &EventStore,
    ring: &KeyRing,
    tenant: &Tenant,
    customer_id: &str,
    actor: Actor,
) -> Result<ErasureReport, PrivacyError> {
    check_customer(customer_id)?;
    let shredded = ring.shred_customer(tenant, customer_id).await?;
    let intake = Intake::new(store.clone());
    let request = format!("erase/{}", ring.pseudonym(tenant, customer_id));
    let mut conversations = Vec::new();
    for id in shredded {
        let key = ConversationKey::new(tenant.clone(), id);
        record_erasure(
            &intake,
            &key,
            actor.clone(),
            ErasureReason::Request,
            &request,
        )
        .await?;
        conversations.push(key.to_string());
    }
    metrics::counter!(metric::SHREDDED, "reason" => "request")
        .increment(conversations.len() as u64);
    tracing::info!(%tenant, conversations = conversations.len(), "customer erased");
    Ok(ErasureReport {
        tenant: tenant.to_string(),
        conversations,
    })
}

pub(crate) async fn record_erasure(
    intake: &Intake,
    key: &ConversationKey,
    actor: Actor,
    reason: ErasureReason,
    request: &str,
) -> Result<(), PrivacyError> {
    intake
        .erased(key, actor, Erased { reason }, request)
        .await?;
    intake.store().forget(key);
    Ok(())
}

/// One conversation in a subject access export.
#[derive(Debug, Serialize)]
pub struct ExportedConversation {
    /// `<tenant>/<conversation>`.
    pub conversation: String,
    /// Its events, texts opened.
    pub events: Vec<ExportedEvent>,
    /// Its projected document, if the projections hold one.
    pub projection: Option<ConversationDoc>,
}

/// One event in a subject access export.
#[derive(Debug, Serialize)]
pub struct ExportedEvent {
    /// Stream sequence.
    pub seq: u64,
    /// When the log stored it (RFC 3339).
    pub stored_at: String,
    /// Event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Who produced it.
    pub actor: String,
    /// Its data.
    pub data: EventData,
}

impl From<&StoredEvent> for ExportedEvent {
    fn from(e: &StoredEvent) -> Self {
        Self {
            seq: e.seq.get(),
            stored_at: e.stored_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            event_type: e.event.event_type().to_string(),
            actor: e.event.envelope.actor.to_string(),
            data: e.event.data.clone(),
        }
    }
}

/// Everything held about one customer.
#[derive(Debug, Serialize)]
pub struct CustomerExport {
    /// The tenant.
    pub tenant: String,
    /// The customer id as the channels know it.
    pub customer_id: String,
    /// When this export was made.
    pub exported_at: String,
    /// Their conversations.
    pub conversations: Vec<ExportedConversation>,
}

/// Everything held about `customer_id`: each conversation they have a key
/// for, read from the log with texts opened, and its projected document.
pub async fn export_customer(
    store: &EventStore,
    ring: &KeyRing,
    projections: Option<&dyn ProjectionStore>,
    tenant: &Tenant,
    customer_id: &str,
) -> Result<CustomerExport, PrivacyError> {
    check_customer(customer_id)?;
    let ids = ring.conversations_of(tenant, customer_id).await?;
    let keys: Vec<ConversationKey> = ids
        .into_iter()
        .map(|id| ConversationKey::new(tenant.clone(), id))
        .collect();
    let docs = match projections {
        Some(p) => {
            p.get(&DocKeys {
                conversations: keys.clone(),
                ..DocKeys::default()
            })
            .await
            .map_err(|e| PrivacyError::Projections(e.to_string()))?
            .conversations
        }
        None => Vec::new(),
    };
    let mut conversations = Vec::new();
    for key in keys {
        let loaded = store
            .load(&key)
            .await
            .map_err(|e| PrivacyError::Log(e.to_string()))?;
        conversations.push(ExportedConversation {
            conversation: key.to_string(),
            events: loaded.events.iter().map(ExportedEvent::from).collect(),
            projection: docs.iter().find(|d| d.key() == key).cloned(),
        });
    }
    Ok(CustomerExport {
        tenant: tenant.to_string(),
        customer_id: customer_id.to_owned(),
        exported_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        conversations,
    })
}
