//! Audit exports: a verifiable copy of what the log stores.
//!
//! `export` writes JSON lines, one per stored message of a tenant (or one
//! conversation, or a time range), in stream order:
//! `{"body":{"n":…,"seq":…,"subject":…,"stored_at":…,"headers":{…},"payload":…,"prev":"<hex>"},"hash":"<hex>"}`
//! where `hash` is SHA-256 over `prev` and the body exactly as written, and
//! `prev` is the previous line's hash (the first line's is the hash of
//! [`GENESIS`]). The last line signs the head of the chain with the
//! deployment's ed25519 audit key:
//! `{"end":{"lines":N,"head":"<hex>","algorithm":"ed25519","public_key":"<hex>","signature":"<hex>"}}`.
//!
//! A chain alone can be recomputed by whoever edits the file, so `verify`
//! also checks the signature against a key the auditor trusts (the
//! deployment's, printed by `switchboard audit public-key`), not the one
//! the file names: an edit, deletion, insertion or reordering breaks the
//! chain at a named line, and a re-chained forgery fails the signature.

use std::collections::BTreeMap;
use std::io::Write;

use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull};
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use switchboard_engine::ids::{ConversationId, ConversationKey, Tenant};
use switchboard_engine::store::EventStore;

/// What the first line's `prev` hashes.
pub const GENESIS: &str = "switchboard-audit-v1";
/// The KV bucket holding the deployment's audit signing key.
pub const BUCKET: &str = "SWITCHBOARD_AUDIT";
const SIGNING_KEY: &str = "signing-key";

/// What went wrong exporting, or with the audit key.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The log or the key bucket could not be read.
    #[error("audit: {0}")]
    Unavailable(String),
    /// The export could not be written.
    #[error("writing the export: {0}")]
    Write(#[from] std::io::Error),
    /// The stored key is not a key.
    #[error("the audit signing key in {BUCKET} is corrupt: {0}")]
    CorruptKey(String),
}

fn unavailable(e: impl std::fmt::Display) -> AuditError {
    AuditError::Unavailable(e.to_string())
}

/// The deployment's audit key: one per deployment, shared by every gateway
/// replica through a KV bucket, made on first use.
#[derive(Clone)]
pub struct AuditKey {
    signing: SigningKey,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.public_hex())
    }
}

impl AuditKey {
    /// A key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, AuditError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| unavailable(format!("no randomness: {e}")))?;
        Ok(Self::from_seed(seed))
    }

    /// The deployment's key: read from the bucket, or made and stored
    /// there if none exists yet (a replica that loses the race reads the
    /// winner's).
    pub async fn load_or_create(client: &async_nats::Client) -> Result<Self, AuditError> {
        let js = jetstream::new(client.clone());
        let config =
            crate::kv::config(BUCKET, "Switchboard: the deployment's audit signing key", 1);
        let store = crate::kv::open_or_create(&js, config)
            .await
            .map_err(unavailable)?;
        if let Some(seed) = store.get(SIGNING_KEY).await.map_err(unavailable)? {
            return Self::from_stored(&seed);
        }
        let fresh = Self::generate()?;
        let seed = hex::encode(fresh.signing.to_bytes());
        match store.create(SIGNING_KEY, seed.into_bytes().into()).await {
            Ok(_) => Ok(fresh),
            Err(_) => match store.get(SIGNING_KEY).await.map_err(unavailable)? {
                Some(seed) => Self::from_stored(&seed),
                None => Err(unavailable(
                    "the audit key could be neither stored nor read",
                )),
            },
        }
    }

    fn from_stored(seed: &[u8]) -> Result<Self, AuditError> {
        let bytes = hex::decode(seed).map_err(|e| AuditError::CorruptKey(e.to_string()))?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| AuditError::CorruptKey("not 32 bytes".into()))?;
        Ok(Self::from_seed(seed))
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The public half, hex.
    pub fn public_hex(&self) -> String {
        hex::encode(self.verifying_key().to_bytes())
    }
}

/// Parses a public key given in hex.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, VerifyError> {
    let bytes = hex::decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| VerifyError::BadKey("expected 64 hex digits".into()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| VerifyError::BadKey(e.to_string()))
}

/// Which part of the log to export.
#[derive(Debug, Clone)]
pub struct ExportFilter {
    /// The tenant.
    pub tenant: Tenant,
    /// Only this conversation.
    pub conversation: Option<ConversationId>,
    /// Only messages stored at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only messages stored before this time.
    pub to: Option<DateTime<Utc>>,
}

impl ExportFilter {
    fn subject(&self) -> String {
        match &self.conversation {
            Some(id) => ConversationKey::new(self.tenant.clone(), id.clone()).wildcard(),
            None => switchboard_engine::subject::tenant_events(&self.tenant),
        }
    }
}

/// One exported message.
#[derive(Debug, Serialize, Deserialize)]
struct Body {
    n: u64,
    seq: u64,
    subject: String,
    stored_at: String,
    headers: BTreeMap<String, String>,
    payload: serde_json::Value,
    prev: String,
}

#[derive(Serialize)]
struct Line<'a> {
    body: &'a RawValue,
    hash: &'a str,
}

/// The signed end of an export.
#[derive(Debug, Serialize, Deserialize)]
struct End {
    lines: u64,
    head: String,
    algorithm: String,
    public_key: String,
    signature: String,
}

fn chain(prev: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

fn genesis() -> String {
    hex::encode(Sha256::digest(GENESIS.as_bytes()))
}

fn signed_message(lines: u64, head: &str) -> Vec<u8> {
    format!("{GENESIS}\n{lines}\n{head}").into_bytes()
}

/// What an export holds.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    /// Messages exported.
    pub lines: u64,
    /// The chain's head.
    pub head: String,
}

/// Writes the export of `filter` to `out`.
pub async fn export(
    store: &EventStore,
    key: &AuditKey,
    filter: &ExportFilter,
    out: &mut impl Write,
) -> Result<ExportSummary, AuditError> {
    let mut prev = genesis();
    let mut n = 0;
    let stream = store
        .jetstream()
        .get_stream(&store.options().stream)
        .await
        .map_err(unavailable)?;
    let deliver_policy = match filter.from {
        Some(t) => DeliverPolicy::ByStartTime {
            start_time: time::OffsetDateTime::from_unix_timestamp_nanos(
                t.timestamp_nanos_opt().unwrap_or_default().into(),
            )
            .map_err(unavailable)?,
        },
        None => DeliverPolicy::All,
    };
    let mut consumer = stream
        .create_consumer(pull::OrderedConfig {
            filter_subject: filter.subject(),
            deliver_policy,
            ..Default::default()
        })
        .await
        .map_err(unavailable)?;
    let pending = consumer.info().await.map_err(unavailable)?.num_pending;
    if pending > 0 {
        let mut messages = consumer.messages().await.map_err(unavailable)?;
        while let Some(message) = messages.next().await {
            let message = message.map_err(unavailable)?;
            let info = message.info().map_err(unavailable)?;
            let stored_at = crate::timeline::stored_at(&info);
            let last = info.pending == 0;
            let seq = info.stream_sequence;
            if filter.to.is_none_or(|to| stored_at < to) {
                n += 1;
                let body = body_of(&message, n, seq, stored_at, &prev);
                prev = write_line(out, &body, &prev)?;
            }
            if last {
                break;
            }
        }
    }
    write_end(out, key, n, &prev)?;
    Ok(ExportSummary {
        lines: n,
        head: prev,
    })
}

fn body_of(
    message: &jetstream::Message,
    n: u64,
    seq: u64,
    stored_at: DateTime<Utc>,
    prev: &str,
) -> Body {
    let headers = message
        .headers
        .iter()
        .flat_map(|h| h.iter())
        .filter_map(|(name, values)| {
            values
                .first()
                .map(|v| (name.to_string(), v.as_str().to_owned()))
        })
        .collect();
    let payload = serde_json::from_slice(&message.payload).unwrap_or_else(|_| {
        serde_json::Value::String(String::from_utf8_lossy(&message.payload).into_owned())
    });
    Body {
        n,
        seq,
        subject: message.subject.to_string(),
        stored_at: stored_at.to_rfc3339_opts(SecondsFormat::Nanos, true),
        headers,
        payload,
        prev: prev.to_owned(),
    }
}

/// Writes one line; returns its hash.
fn write_line(out: &mut impl Write, body: &Body, prev: &str) -> Result<String, AuditError> {
    let text = serde_json::to_string(body).map_err(unavailable)?;
    let hash = chain(prev, &text);
    let raw = RawValue::from_string(text).map_err(unavailable)?;
    let line = serde_json::to_string(&Line {
        body: &raw,
        hash: &hash,
    })
    .map_err(unavailable)?;
    writeln!(out, "{line}")?;
    Ok(hash)
}

/// Writes the signed end line.
fn write_end(out: &mut impl Write, key: &AuditKey, lines: u64, head: &str) -> std::io::Result<()> {
    let signature = key.signing.sign(&signed_message(lines, head));
    let end = End {
        lines,
        head: head.to_owned(),
        algorithm: "ed25519".into(),
        public_key: key.public_hex(),
        signature: hex::encode(signature.to_bytes()),
    };
    writeln!(out, "{}", serde_json::json!({ "end": end }))
}

/// Why an export does not verify. Line numbers count from 1, as editors do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A line is not an export line.
    #[error("line {line}: not an export line: {why}")]
    BadLine {
        /// The line.
        line: usize,
        /// Why.
        why: String,
    },
    /// A line's hash does not match its content: it was edited.
    #[error("line {line}: its hash does not match its content (edited)")]
    Edited {
        /// The line.
        line: usize,
    },
    /// A line does not follow the one before it.
    #[error(
        "line {line}: does not follow line {previous} (a line was deleted, inserted or moved)",
        previous = .line - 1
    )]
    BrokenChain {
        /// The line.
        line: usize,
    },
    /// No signed end: the export was cut.
    #[error("the export has no signed end line: it was cut or its end removed")]
    Unsigned,
    /// The end does not match the chain.
    #[error(
        "line {line}: the signed end names {claimed} lines ending in {head}, the chain has {actual}"
    )]
    EndMismatch {
        /// The end line.
        line: usize,
        /// Lines it claims.
        claimed: u64,
        /// Lines found.
        actual: u64,
        /// Its head.
        head: String,
    },
    /// Signed by another key than the trusted one.
    #[error("signed by key {found}, not by the trusted key {trusted}")]
    WrongKey {
        /// The file's key.
        found: String,
        /// The trusted key.
        trusted: String,
    },
    /// The signature does not verify.
    #[error("the signature of the end line does not verify")]
    BadSignature,
    /// Lines after the end.
    #[error("line {line}: content after the signed end")]
    AfterEnd {
        /// The line.
        line: usize,
    },
    /// A public key that is not one.
    #[error("not an ed25519 public key: {0}")]
    BadKey(String),
}

/// A verified export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verified {
    /// Messages in it.
    pub lines: u64,
    /// The chain's head.
    pub head: String,
    /// The key that signed it.
    pub public_key: String,
}

#[derive(Deserialize)]
struct ParsedLine<'a> {
    #[serde(borrow)]
    body: Option<&'a RawValue>,
    hash: Option<String>,
    end: Option<End>,
}

/// Checks every line's hash and link, then the end's signature against `trusted`.
pub fn verify(text: &str, trusted: &VerifyingKey) -> Result<Verified, VerifyError> {
    let mut prev = genesis();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    for (number, line) in lines.by_ref() {
        // Every line before this one was a verified export line.
        let count = number as u64 - 1;
        let bad = |why: String| VerifyError::BadLine { line: number, why };
        let parsed: ParsedLine = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        if let Some(end) = parsed.end {
            let verified = check_end(&end, number, count, &prev, trusted)?;
            if let Some((after, _)) = lines.find(|(_, l)| !l.trim().is_empty()) {
                return Err(VerifyError::AfterEnd { line: after });
            }
            return Ok(verified);
        }
        let (Some(body), Some(hash)) = (parsed.body, parsed.hash) else {
            return Err(bad("expected body and hash, or end".into()));
        };
        let linked: Body =
            serde_json::from_str(body.get()).map_err(|e| bad(format!("body: {e}")))?;
        if chain(&linked.prev, body.get()) != hash {
            return Err(VerifyError::Edited { line: number });
        }
        if linked.prev != prev || linked.n != count + 1 {
            return Err(VerifyError::BrokenChain { line: number });
        }
        prev = hash;
    }
    Err(VerifyError::Unsigned)
}

fn check_end(
    end: &End,
    line: usize,
    count: u64,
    head: &str,
    trusted: &VerifyingKey,
) -> Result<Verified, VerifyError> {
    if end.lines != count || end.head != head {
        return Err(VerifyError::EndMismatch {
            line,
            claimed: end.lines,
            actual: count,
            head: end.head.clone(),
        });
    }
    let trusted_hex = hex::encode(trusted.to_bytes());
    if end.public_key != trusted_hex {
        return Err(VerifyError::WrongKey {
            found: end.public_key.clone(),
            trusted: trusted_hex,
        });
    }
    let signature = hex::decode(&end.signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
        .ok_or(VerifyError::BadSignature)?;
    trusted
        .verify(&signed_message(count, head), &signature)
        .map_err(|_| VerifyError::BadSignature)?;
    Ok(Verified {
        lines: count,
        head: head.to_owned(),
        public_key: trusted_hex,
    })
}

#[cfg(test)]
mod tests;
