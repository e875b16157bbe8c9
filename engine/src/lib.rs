//! Switchboard's engine: an event-sourced workflow for multi-agent customer
//! service on NATS JetStream.
//!
//! Each conversation is a durable sequence of events on its own JetStream
//! subjects. Agents load a conversation, fold it into state, ask the
//! workflow what comes next, and append their event with optimistic
//! concurrency; the log is the single source of truth.
//!
//! # Layout
//! - [`ids`]: validated tenants, conversation ids, event ids, stream sequences.
//! - [`event`]: the event catalog, the CloudEvents envelope, the wire codec
//!   and the JSON Schemas.
//! - [`store`]: the JetStream event store (append with expected version,
//!   atomic batches, idempotency; load one conversation).
//! - [`conversation`]: the fold of a conversation's events into state.
//! - [`workflow`]: the pure routing function `next_step`.
//! - [`streams`]: the declared streams and their idempotent application.
//! - [`subject`]: the subject grammar (`conv.<tenant>.<conversation>.<type>`,
//!   `dlq.<agent>.<tenant>`) and the stream names.
//! - [`auth`]: broker credentials (credentials file, nkey seed) and TLS
//!   with a CA, applied when connecting.
//! - [`broker`]: the roles (each agent, projector, gateway, operator), the
//!   event types each may emit, and the generated nats-server users.
//! - [`nats_server`]: the managed nats-server for embedded mode and tests.
//! - [`projection`]: read models folded from the log (documents, the pure
//!   fold, typed queries) and their stores (SQLite, Cosmos DB).
//!
//! Library code never prints, exits or reads the environment: the binary
//! parses configuration and hands typed values in.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
pub mod batch_staging;
pub mod broker;
pub mod conversation;
pub mod event;
pub mod ids;
pub mod nats_cluster;
pub mod nats_server;
pub mod projection;
pub mod store;
pub mod streams;
pub mod subject;
pub mod workflow;

#[cfg(test)]
mod workflow_tests;

use std::time::Duration;

/// Why a NATS connection could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to NATS at {url}: {message}")]
pub struct ConnectError {
    url: String,
    message: String,
}

/// Connects to NATS with Switchboard's defaults: a client name, a bounded
/// connection timeout, and reconnection forever once connected. `url` may
/// list several servers separated by commas (the nodes of a cluster).
pub async fn connect(url: &str, name: &str) -> Result<async_nats::Client, ConnectError> {
    connect_with(url, name, &auth::ConnectAuth::default()).await
}

/// [`connect`] with broker credentials and TLS settings ([`auth`]).
pub async fn connect_with(
    url: &str,
    name: &str,
    auth: &auth::ConnectAuth,
) -> Result<async_nats::Client, ConnectError> {
    let failed = |message: String| ConnectError {
        url: url.to_owned(),
        message,
    };
    let options = async_nats::ConnectOptions::new()
        .name(name)
        .connection_timeout(Duration::from_secs(5));
    let options = auth
        .apply(options)
        .await
        .map_err(|e| failed(e.to_string()))?;
    // `a,b,c`: the nodes of a cluster; the client picks a live one and
    // fails over to the others (and to those the servers announce).
    let servers: Vec<&str> = url
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    options
        .connect(servers)
        .await
        .map_err(|e| failed(error_chain(&e)))
}

/// An error and its sources joined into one line, for messages.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}
