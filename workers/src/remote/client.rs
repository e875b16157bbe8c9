//! [`RemoteModel`]: one structured JSON call with timeouts, retries and a
//! circuit breaker.
//!
//! HTTP goes through our own `reqwest` client rather than async-openai's:
//! its client retries 429s internally and drops the response headers, so
//! `Retry-After`/`retry-after-ms` and the breaker could not be honoured, and
//! its `OpenAIConfig` reads `OPENAI_*` variables. The protocol types (request,
//! response, usage) are async-openai's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use async_openai::types::chat::{CreateChatCompletionResponse, FinishReason};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use switchboard_engine::event::catalog::ModelUsage;

use super::breaker::{Breaker, BreakerState};
use super::config::RemoteConfig;
use super::error::RemoteError;
use super::request::{self, Format, Target};
use super::schema::strict_schema;
use super::transport::{self, Exchange};

/// What one call consumed.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    /// The model that answered: the deployment (or configured model), with
    /// the served model version in parentheses when it differs.
    pub model: String,
    /// Prompt tokens, when the server reported them.
    pub prompt_tokens: Option<u32>,
    /// Completion tokens, when the server reported them.
    pub completion_tokens: Option<u32>,
    /// Cost from the configured [`Pricing`](super::Pricing), when both token
    /// counts and prices are known.
    pub cost_usd: Option<f64>,
}

impl From<Usage> for ModelUsage {
    fn from(u: Usage) -> Self {
        ModelUsage {
            model: u.model,
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cost_usd: u.cost_usd,
        }
    }
}

/// A client for one model endpoint. Cheap to clone (shared state behind an
/// `Arc`): clones share the breaker and the HTTP connection pool.
#[derive(Clone)]
pub struct RemoteModel {
    inner: Arc<Inner>,
}

struct Inner {
    config: RemoteConfig,
    target: Target,
    http: reqwest::Client,
    // A std mutex: held only for a few field updates, never across `.await`.
    breaker: Mutex<Breaker>,
    /// Cleared once the server rejects `json_schema`; later calls go
    /// straight to `json_object`.
    strict_supported: AtomicBool,
}

impl std::fmt::Debug for RemoteModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteModel")
            .field("config", &self.inner.config)
            .field("breaker", &self.breaker_state())
            .finish()
    }
}

impl RemoteModel {
    /// Validates the configuration and builds the HTTP client (TLS via
    /// rustls with the ring provider and the platform's roots). No I/O.
    pub fn new(config: RemoteConfig) -> Result<Self, RemoteError> {
        let target = Target::new(&config.endpoint)?;
        let http = transport::http_client(config.timeout)?;
        let breaker = Mutex::new(Breaker::new(config.breaker));
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                target,
                http,
                breaker,
                strict_supported: AtomicBool::new(true),
            }),
        })
    }

    /// The breaker's current state, for `/readyz` and metrics.
    pub fn breaker_state(&self) -> BreakerState {
        self.breaker().state()
    }

    /// Asks for a `T` as strict structured JSON and decodes it strictly.
    ///
    /// `schema_name` names the schema in the request (`[a-zA-Z0-9_-]{1,64}`).
    /// Fails fast with `CircuitOpen` while the breaker is open; retries 429,
    /// 5xx, timeouts and connection errors per the config; falls back to the
    /// `json_object` format if the server rejects `json_schema`. An answer
    /// that does not decode is `BadOutput`, carrying what it cost.
    pub async fn complete_json<T: DeserializeOwned + JsonSchema>(
        &self,
        system: &str,
        user: &str,
        schema_name: &str,
    ) -> Result<(T, Usage), RemoteError> {
        request::check_schema_name(schema_name)?;
        self.breaker()
            .acquire(Instant::now())
            .map_err(|retry_in| RemoteError::CircuitOpen { retry_in })?;
        let schema = strict_schema::<T>();
        let outcome = self
            .exchange_any_format(system, user, schema_name, &schema)
            .await;
        match &outcome {
            Err(e) if e.kind().is_service_failure() => self.breaker().failure(Instant::now()),
            _ => self.breaker().success(),
        }
        let response = outcome?;
        let usage = self.usage(&response);
        match decode(&response) {
            Ok(out) => Ok((out, usage)),
            Err(e) => Err(e.with_spent(usage)),
        }
    }

    async fn exchange_any_format(
        &self,
        system: &str,
        user: &str,
        schema_name: &str,
        schema: &serde_json::Value,
    ) -> Result<Box<CreateChatCompletionResponse>, RemoteError> {
        let send = |format| {
            let body = request::body(
                &self.inner.config.endpoint,
                (system, user),
                (schema_name, schema),
                format,
                self.inner.config.max_tokens,
            );
            transport::exchange(
                &self.inner.http,
                &self.inner.target,
                &self.inner.config,
                body,
            )
        };
        if self.inner.strict_supported.load(Ordering::Relaxed) {
            match send(Format::Strict).await {
                Exchange::Done(result) => return result,
                Exchange::SchemaRejected => {
                    tracing::warn!("server rejected json_schema; using json_object from now on");
                    self.inner.strict_supported.store(false, Ordering::Relaxed);
                }
            }
        }
        match send(Format::JsonObject).await {
            Exchange::Done(result) => result,
            Exchange::SchemaRejected => Err(RemoteError::BadResponse(
                "server rejected the json_object response format".into(),
            )),
        }
    }

    fn usage(&self, response: &CreateChatCompletionResponse) -> Usage {
        let configured = self.inner.config.endpoint.model_name();
        let model = if response.model.is_empty() || response.model == configured {
            configured.to_owned()
        } else {
            format!("{configured} ({})", response.model)
        };
        let tokens = response
            .usage
            .as_ref()
            .map(|u| (u.prompt_tokens, u.completion_tokens));
        let cost_usd = self
            .inner
            .config
            .pricing
            .zip(tokens)
            .map(|(p, (prompt, completion))| p.cost(prompt, completion));
        Usage {
            model,
            prompt_tokens: tokens.map(|t| t.0),
            completion_tokens: tokens.map(|t| t.1),
            cost_usd,
        }
    }

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        // The breaker's invariants hold after any panic mid-update (each
        // update is a single assignment), so a poisoned lock is still usable.
        self.inner
            .breaker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The first choice's content, decoded strictly into `T`.
pub(crate) fn decode<T: DeserializeOwned>(
    response: &CreateChatCompletionResponse,
) -> Result<T, RemoteError> {
    let choice = response
        .choices
        .first()
        .ok_or_else(|| RemoteError::BadResponse("no choices".into()))?;
    match choice.finish_reason {
        Some(FinishReason::Length) => {
            return Err(RemoteError::BadResponse(
                "output truncated (max_tokens)".into(),
            ));
        }
        Some(FinishReason::ContentFilter) => {
            return Err(RemoteError::BadResponse(
                "output withheld by content filter".into(),
            ));
        }
        _ => {}
    }
    if choice.message.refusal.is_some() {
        return Err(RemoteError::BadResponse("model refused".into()));
    }
    let content = choice
        .message
        .content
        .as_deref()
        .ok_or_else(|| RemoteError::BadResponse("no content".into()))?;
    parse_output(content)
}

/// Strict serde decoding of the model's JSON (a surrounding Markdown code
/// fence, which some servers add in `json_object` mode, is tolerated).
pub(crate) fn parse_output<T: DeserializeOwned>(content: &str) -> Result<T, RemoteError> {
    let trimmed = content.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|s| s.strip_suffix("```"))
        .unwrap_or(trimmed);
    // serde_json's message names the field and position, never the content.
    serde_json::from_str(unfenced).map_err(|e| RemoteError::BadResponse(format!("output: {e}")))
}
