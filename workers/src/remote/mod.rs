//! Remote models: the Azure OpenAI (or any OpenAI-compatible) path for the
//! agents' capabilities (DESIGN §6).
mod breaker;
mod config;
mod error;
mod retry;
mod schema;

pub use breaker::BreakerState;
pub use config::{
    AzureAuth, BreakerConfig, Endpoint, Pricing, RemoteConfig, Secret, TokenError, TokenProvider,
};
pub use error::{RemoteError, RemoteErrorKind};
