//! Remote models: the Azure OpenAI (or any OpenAI-compatible) path for the
//! agents' capabilities (DESIGN §6).
//!
//! Each capability asks a model for strict structured JSON, validates it and
//! builds the catalog payload with the model's usage and cost on it. Calls
//! time out, retry 429/5xx with jittered exponential backoff honouring
//! `Retry-After`, and go through a circuit breaker; [`Fallback`] answers with
//! the local model whenever the remote one fails.
//!
//! # Layout
//! - `config`: [`RemoteConfig`] and its parts (endpoint, auth, breaker,
//!   pricing); secrets masked in `Debug`.
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
mod request;
mod retry;
mod schema;
mod transport;

pub use crate::capability::{Classify, Draft, Screen, Validate};
pub use answer::{DraftRequest, RemoteResponder, RemoteValidator, ValidateRequest, Validation};
pub use breaker::BreakerState;
pub use client::{RemoteModel, Usage};
pub use config::{
    AzureAuth, BreakerConfig, Endpoint, Pricing, RemoteConfig, Secret, TokenError, TokenProvider,
};
pub use entra::{COGNITIVE_SERVICES_SCOPE, EntraTokenProvider};
pub use error::{RemoteError, RemoteErrorKind};
pub use fallback::Fallback;
pub use input::{RemoteClassifier, RemoteScreener};

#[cfg(test)]
mod live_tests;
#[cfg(test)]
mod loopback_tests;
#[cfg(test)]
mod stub_server;
