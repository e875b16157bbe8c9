//! Remote models: the Azure OpenAI (or any OpenAI-compatible) path for the
//! agents' capabilities (DESIGN §6).
//!
//! Each capability asks a model for structured JSON (the most constrained
//! response format the server accepts), checks it (labels known, entities
//! present in the text, cited sources retrieved) and builds the catalog
//! payload with the model's usage, latency and cost on it. A call has one
//! deadline in total, retries 429/5xx with jittered exponential backoff
//! honouring `Retry-After`, never overlaps a request still running, and goes
//! through a circuit breaker; [`Fallback`] answers with the local model
//! whenever the remote one fails, recording why. Where safety is concerned
//! (screening and draft validation) the critic also applies its rules and
//! the stricter verdict wins.
//!
//! # Layout
//! - `config`: [`RemoteConfig`] and its parts (endpoint, auth, breaker,
//!   deadline, concurrency); secrets masked in `Debug`.
//! - `pricing`: [`PriceTable`], prices per model for `cost_usd`.
//! - `probe`: [`probe`], one real call for `config check --probe`.
//! - `metric`: the remote path's metrics (calls, latency, tokens, cost,
//!   fallbacks, breaker state).
//! - `entra`: [`EntraTokenProvider`], cached Entra ID tokens for Azure
//!   OpenAI from an `azure_core` credential.
//! - `error`: [`RemoteError`] and [`RemoteErrorKind`].
//! - `client`: [`RemoteModel::complete_json`], the one structured call.
//! - `transport`: HTTP attempts and the retry loop; `retry`: `Retry-After`
//!   and the backoff schedule; `breaker`: the circuit breaker.
//! - `request`: URL, auth headers and the request body; `schema`: strict JSON
//!   Schemas from schemars.
//! - `input`: [`RemoteScreener`], [`RemoteClassifier`]; `answer`:
//!   [`RemoteResponder`] (grounded drafts: citing no retrieved source, or an
//!   unknown one, is a failure), [`RemoteValidator`].
//! - `fallback`: the capability traits and [`Fallback`].

mod answer;
mod breaker;
mod client;
mod config;
mod entra;
mod error;
mod fallback;
mod input;
mod metric;
mod pricing;
mod probe;
mod request;
mod retry;
mod schema;
mod transport;

pub use crate::capability::{Classify, Draft, Screen, Validate};
pub use answer::{DraftRequest, RemoteResponder, RemoteValidator, ValidateRequest, Validation};
pub use breaker::BreakerState;
pub use client::{RemoteModel, Usage};
pub use config::{
    AzureAuth, BreakerConfig, Endpoint, RemoteConfig, Secret, TokenError, TokenProvider,
};
pub use entra::{COGNITIVE_SERVICES_SCOPE, EntraTokenProvider};
pub use error::{RemoteError, RemoteErrorKind};
pub use fallback::Fallback;
pub use input::{RemoteClassifier, RemoteScreener};
pub use pricing::{PriceSpecError, PriceTable, Pricing};
pub use probe::{PROBE_MESSAGE, ProbeReport, probe};

#[cfg(test)]
mod live_tests;
#[cfg(test)]
mod loopback_tests;
#[cfg(test)]
mod stub_server;
