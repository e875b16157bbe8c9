//! Remote models: the Azure OpenAI (or any OpenAI-compatible) path for the
//! agents' capabilities (DESIGN §6).
mod breaker;
mod client;
mod config;
mod error;
mod request;
mod retry;
mod schema;
mod transport;

pub use breaker::BreakerState;
pub use client::{RemoteModel, Usage};
pub use config::{
    AzureAuth, BreakerConfig, Endpoint, Pricing, RemoteConfig, Secret, TokenError, TokenProvider,
};
pub use error::{RemoteError, RemoteErrorKind};
