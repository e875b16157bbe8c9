//! SQLite schema and statements: one table per projection, each row the
//! document as JSON plus the columns its reads filter on.
//!
//! Every upsert is gated in SQL (`WHERE excluded.last_seq > last_seq`), so
//! the store itself enforces "an older or equal sequence is a no-op".

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::sqlite_error;
use crate::ids::{ConversationKey, Tenant};
use crate::projection::document::{
    AnalyticsDoc, AnalyticsKey, ConversationDoc, CustomerDoc, CustomerKey, EscalationDoc,
    intent_label,
};
use crate::projection::{Checkpoints, DocKeys, Documents, PROJECTIONS, Scope, StoreError};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS conversations (
    tenant TEXT NOT NULL, conversation_id TEXT NOT NULL, day TEXT NOT NULL,
    channel TEXT NOT NULL, last_seq INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (tenant, conversation_id));
CREATE INDEX IF NOT EXISTS conversations_by_day ON conversations (tenant, day);
CREATE TABLE IF NOT EXISTS escalations (
    tenant TEXT NOT NULL, conversation_id TEXT NOT NULL,
    last_seq INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (tenant, conversation_id));
CREATE TABLE IF NOT EXISTS analytics (
    tenant TEXT NOT NULL, day TEXT NOT NULL, channel TEXT NOT NULL, intent TEXT NOT NULL,
    last_seq INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (tenant, day, channel, intent));
CREATE TABLE IF NOT EXISTS customers (
    tenant TEXT NOT NULL, customer_id TEXT NOT NULL,
    last_seq INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (tenant, customer_id));
CREATE TABLE IF NOT EXISTS checkpoints (
    projection TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
";

fn to_json<T: Serialize>(doc: &T) -> Result<String, StoreError> {
    serde_json::to_string(doc).map_err(|e| {
        StoreError::new(
            crate::projection::StoreErrorKind::Corrupt,
            "sqlite",
            e.to_string(),
        )
    })
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| {
        StoreError::new(
            crate::projection::StoreErrorKind::Corrupt,
            "sqlite",
            format!("unreadable document: {e}"),
        )
    })
}

/// Writes a batch in one transaction: derived documents, conversations,
/// then the checkpoint.
pub(super) fn write(tx: &Transaction<'_>, batch: &Documents) -> Result<(), StoreError> {
    let e = sqlite_error;
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO escalations VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET
         last_seq = excluded.last_seq, doc = excluded.doc WHERE excluded.last_seq > last_seq",
        )
        .map_err(e)?;
    for d in &batch.escalations {
        stmt.execute(params![
            d.tenant.as_str(),
            d.conversation_id.as_str(),
            d.last_seq as i64,
            to_json(d)?
        ])
        .map_err(e)?;
    }
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO analytics VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET
         last_seq = excluded.last_seq, doc = excluded.doc WHERE excluded.last_seq > last_seq",
        )
        .map_err(e)?;
    for d in &batch.analytics {
        stmt.execute(params![
            d.tenant.as_str(),
            d.day.to_string(),
            d.channel,
            intent_label(d.intent),
            d.last_seq as i64,
            to_json(d)?
        ])
        .map_err(e)?;
    }
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO customers VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET
         last_seq = excluded.last_seq, doc = excluded.doc WHERE excluded.last_seq > last_seq",
        )
        .map_err(e)?;
    for d in &batch.customers {
        stmt.execute(params![
            d.tenant.as_str(),
            d.customer_id,
            d.last_seq as i64,
            to_json(d)?
        ])
        .map_err(e)?;
    }
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO conversations VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET
         day = excluded.day, channel = excluded.channel, last_seq = excluded.last_seq,
         doc = excluded.doc WHERE excluded.last_seq > last_seq",
        )
        .map_err(e)?;
    for d in &batch.conversations {
        stmt.execute(params![
            d.tenant.as_str(),
            d.conversation_id.as_str(),
            d.day().to_string(),
            d.channel,
            d.last_seq as i64,
            to_json(d)?
        ])
        .map_err(e)?;
    }
    if let Some(seq) = batch.checkpoint {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO checkpoints VALUES (?1, ?2) ON CONFLICT DO UPDATE SET
             last_seq = excluded.last_seq WHERE excluded.last_seq > last_seq",
            )
            .map_err(e)?;
        for name in PROJECTIONS {
            stmt.execute(params![name, seq as i64]).map_err(e)?;
        }
    }
    Ok(())
}

fn one<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Option<T>, StoreError> {
    let text: Option<String> = conn
        .prepare_cached(sql)
        .map_err(sqlite_error)?
        .query_row(params, |row| row.get(0))
        .optional()
        .map_err(sqlite_error)?;
    text.as_deref().map(from_json).transpose()
}

/// Reads documents by key.
pub(super) fn get(conn: &Connection, keys: &DocKeys) -> Result<Documents, StoreError> {
    let mut out = Documents::default();
    for k in &keys.conversations {
        out.conversations.extend(one::<ConversationDoc>(
            conn,
            CONVERSATION_BY_KEY,
            conv_params(k),
        )?);
    }
    for k in &keys.escalations {
        out.escalations.extend(one::<EscalationDoc>(
            conn,
            ESCALATION_BY_KEY,
            conv_params(k),
        )?);
    }
    for k in &keys.analytics {
        out.analytics.extend(one::<AnalyticsDoc>(
            conn,
            ANALYTICS_BY_KEY,
            analytics_params(k),
        )?);
    }
    for k in &keys.customers {
        out.customers.extend(one::<CustomerDoc>(
            conn,
            CUSTOMER_BY_KEY,
            customer_params(k),
        )?);
    }
    Ok(out)
}

const CONVERSATION_BY_KEY: &str =
    "SELECT doc FROM conversations WHERE tenant = ?1 AND conversation_id = ?2";
const ESCALATION_BY_KEY: &str =
    "SELECT doc FROM escalations WHERE tenant = ?1 AND conversation_id = ?2";
const ANALYTICS_BY_KEY: &str =
    "SELECT doc FROM analytics WHERE tenant = ?1 AND day = ?2 AND channel = ?3 AND intent = ?4";
const CUSTOMER_BY_KEY: &str = "SELECT doc FROM customers WHERE tenant = ?1 AND customer_id = ?2";

fn conv_params(k: &ConversationKey) -> [String; 2] {
    [k.tenant.to_string(), k.id.to_string()]
}

fn analytics_params(k: &AnalyticsKey) -> [String; 4] {
    [
        k.tenant.to_string(),
        k.day.to_string(),
        k.channel.clone(),
        intent_label(k.intent),
    ]
}

fn customer_params(k: &CustomerKey) -> [String; 2] {
    [k.tenant.to_string(), k.customer_id.clone()]
}

/// Documents of `table` within a scope (tenant, day range, channel).
pub(super) fn scoped<T: DeserializeOwned>(
    conn: &Connection,
    table: &str,
    scope: &Scope,
) -> Result<Vec<T>, StoreError> {
    let sql = format!(
        "SELECT doc FROM {table} WHERE tenant = ?1 AND (?2 IS NULL OR day >= ?2)
         AND (?3 IS NULL OR day <= ?3) AND (?4 IS NULL OR channel = ?4)"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(sqlite_error)?;
    let rows = stmt
        .query_map(
            params![
                scope.tenant.as_str(),
                scope.from.map(|d| d.to_string()),
                scope.to.map(|d| d.to_string()),
                scope.channel
            ],
            |row| row.get::<_, String>(0),
        )
        .map_err(sqlite_error)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(from_json(&row.map_err(sqlite_error)?)?);
    }
    Ok(out)
}

/// A tenant's queue entries.
pub(super) fn escalations(
    conn: &Connection,
    tenant: &Tenant,
) -> Result<Vec<EscalationDoc>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT doc FROM escalations WHERE tenant = ?1")
        .map_err(sqlite_error)?;
    let rows = stmt
        .query_map([tenant.as_str()], |row| row.get::<_, String>(0))
        .map_err(sqlite_error)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(from_json(&row.map_err(sqlite_error)?)?);
    }
    Ok(out)
}

/// Every projection's checkpoint.
pub(super) fn checkpoints(conn: &Connection) -> Result<Checkpoints, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT projection, last_seq FROM checkpoints")
        .map_err(sqlite_error)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })
        .map_err(sqlite_error)?;
    let mut found = Vec::new();
    for row in rows {
        let (name, seq) = row.map_err(sqlite_error)?;
        found.push((name, u64::try_from(seq).unwrap_or(0)));
    }
    Ok(Checkpoints(
        PROJECTIONS
            .iter()
            .map(|p| {
                let seq = found.iter().find(|(n, _)| n == p).map_or(0, |(_, s)| *s);
                ((*p).to_owned(), seq)
            })
            .collect(),
    ))
}
