//! Typed configuration for the remote model path.
//!
//! The binary maps `AZURE_OPENAI_ENDPOINT`, `AZURE_OPENAI_API_KEY` (or
//! `AZURE_OPENAI_AUTH` and `AZURE_CLIENT_ID` for Entra ID tokens),
//! `AZURE_OPENAI_DEPLOYMENT`, `AZURE_OPENAI_API_VERSION` (or
//! `SWITCHBOARD_OPENAI_BASE_URL` for any OpenAI-compatible server) into these
//! structs; this module never reads the environment. Secrets are held in
//! [`Secret`], whose `Debug` prints `***`, so a logged config leaks nothing.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use switchboard_engine::ids::Tenant;

use super::pricing::PriceTable;

/// A secret string (API key, bearer token) that never shows in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that puts it in a header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why a bearer token could not be obtained; surfaces as
/// [`RemoteErrorKind::Auth`](super::RemoteErrorKind::Auth).
#[derive(Debug, thiserror::Error)]
#[error("token provider failed: {0}")]
pub struct TokenError(pub String);

/// Supplies Entra ID bearer tokens (scope
/// `https://cognitiveservices.azure.com/.default`) for Azure OpenAI.
///
/// Implementations cache and refresh tokens themselves
/// ([`EntraTokenProvider`](super::EntraTokenProvider) does, around an
/// `azure_core` credential); this is called once per HTTP attempt.
pub trait TokenProvider: Send + Sync {
    /// A currently valid access token.
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>>;
}

/// How requests to Azure OpenAI authenticate.
#[derive(Clone)]
pub enum AzureAuth {
    /// A resource key, sent as the `api-key` header.
    ApiKey(Secret),
    /// An Entra ID token, sent as `Authorization: Bearer <token>`.
    BearerToken(Arc<dyn TokenProvider>),
}

impl fmt::Debug for AzureAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiKey(_) => f.write_str("ApiKey(***)"),
            Self::BearerToken(_) => f.write_str("BearerToken(<provider>)"),
        }
    }
}

/// Which service to call.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// Azure OpenAI: `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version={api_version}`.
    Azure {
        /// The resource endpoint, e.g. `https://my-resource.openai.azure.com`.
        endpoint: String,
        /// The deployment name (it selects the model).
        deployment: String,
        /// The data-plane API version, e.g. `2024-10-21`.
        api_version: String,
        /// Key or Entra ID token.
        auth: AzureAuth,
    },
    /// Any OpenAI-compatible server: `{base_url}/chat/completions`.
    OpenAiCompatible {
        /// The API base including `/v1`, e.g. `http://127.0.0.1:8080/v1`.
        base_url: String,
        /// The model name sent in the request body.
        model: String,
        /// Sent as `Authorization: Bearer <key>` when present.
        api_key: Option<Secret>,
    },
}

impl Endpoint {
    /// The model name recorded on events when the response names none:
    /// the Azure deployment or the configured model.
    pub fn model_name(&self) -> &str {
        match self {
            Self::Azure { deployment, .. } => deployment,
            Self::OpenAiCompatible { model, .. } => model,
        }
    }
}

/// Circuit-breaker thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Consecutive failed calls that open the circuit. Default: 5.
    pub failure_threshold: u32,
    /// How long the circuit stays open before one probe is let through.
    /// Default: 30 s.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// Everything [`RemoteModel`](super::RemoteModel) needs.
#[derive(Debug, Clone)]
pub struct RemoteConfig {
    /// The service to call.
    pub endpoint: Endpoint,
    /// How long a step waits for the model in total: for a free slot, every
    /// attempt and the backoff between them. When it passes, the step falls
    /// back to its local model at once. Default: 20 s (the worker keeps the
    /// message with in-progress acks meanwhile).
    pub deadline: Duration,
    /// How long one HTTP request may run at all. A request the step stopped
    /// waiting for keeps its slot until it ends or this passes, so a busy
    /// server is never sent more than `concurrency` requests. Default: 60 s.
    pub timeout: Duration,
    /// Requests in flight to this endpoint at once, per process; a call
    /// waits for a slot at most half its deadline, then falls back as
    /// `Busy` (which does not count against the breaker). Default: 8 (1 suits a
    /// llama.cpp server, which answers one request at a time).
    pub concurrency: usize,
    /// Retries after the first attempt on 429, 5xx and connection errors
    /// (never after a timeout: that request is still running). A
    /// half-open breaker's probe is never retried. Default: 3.
    pub max_retries: u32,
    /// First backoff delay; doubles per retry, with jitter. Default: 500 ms.
    pub backoff_base: Duration,
    /// Longest wait between attempts; a `Retry-After` beyond it ends the call
    /// with `Throttled` instead of waiting. Default: 20 s.
    pub max_backoff: Duration,
    /// Circuit-breaker thresholds.
    pub breaker: BreakerConfig,
    /// Prices for `cost_usd`. Default: Azure OpenAI's list prices
    /// ([`PriceTable::azure_list_prices`]).
    pub prices: PriceTable,
    /// `max_tokens` sent with every request (llama.cpp honours only this
    /// name, Azure accepts it for chat models). Default: 800.
    pub max_tokens: u32,
    /// Tenants whose customer text reaches the model as the customer wrote
    /// it. Every other tenant's text is sent with the critic's personal-data
    /// findings (e-mail, phone, card, IBAN...) replaced by placeholders,
    /// screening included. Default: none, every tenant redacted.
    pub unredacted_tenants: BTreeSet<Tenant>,
}

impl RemoteConfig {
    /// A config with every default documented on the fields.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            deadline: Duration::from_secs(20),
            timeout: Duration::from_secs(60),
            concurrency: 8,
            max_retries: 3,
            backoff_base: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            breaker: BreakerConfig::default(),
            prices: PriceTable::azure_list_prices(),
            max_tokens: 800,
            unredacted_tenants: BTreeSet::new(),
        }
    }

    /// Whether `tenant`'s customer text is redacted before it is sent.
    pub fn redacts(&self, tenant: &Tenant) -> bool {
        !self.unredacted_tenants.contains(tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_secrets() {
        let config = RemoteConfig::new(Endpoint::Azure {
            endpoint: "https://x.openai.azure.com".into(),
            deployment: "gpt-4o".into(),
            api_version: "2024-10-21".into(),
            auth: AzureAuth::ApiKey(Secret::new("sk-very-secret")),
        });
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("***"));
        let compat = Endpoint::OpenAiCompatible {
            base_url: "http://127.0.0.1:8080/v1".into(),
            model: "m".into(),
            api_key: Some(Secret::new("hunter2")),
        };
        assert!(!format!("{compat:?}").contains("hunter2"));
    }
}
