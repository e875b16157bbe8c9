//! [`RemoteModel`]: one structured JSON call with timeouts, retries and a
//! circuit breaker.
//!
//! HTTP goes through our own `reqwest` client rather than async-openai's:
//! its client retries 429s internally and drops the response headers, so
//! `Retry-After`/`retry-after-ms` and the breaker could not be honoured, and
//! its `OpenAIConfig` reads `OPENAI_*` variables. The protocol types (request,
//! response, usage) are async-openai's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_openai::types::chat::{CreateChatCompletionResponse, FinishReason};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use switchboard_engine::event::catalog::ModelUsage;
use tokio::sync::Semaphore;

use super::breaker::{Breaker, BreakerState, Ticket, Transition};
use super::config::RemoteConfig;
use super::error::{RemoteError, RemoteErrorKind};
use super::metric;
use super::request::{self, Format, Target};
use super::schema::strict_schema;
use super::transport::{self, Call, Exchange, LateAnswer};

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
    /// Cost from the configured [`PriceTable`](super::PriceTable), when
    /// both token counts and a price are known.
    pub cost_usd: Option<f64>,
    /// Wall time of the call (every attempt and wait), in milliseconds.
    pub latency_ms: Option<u64>,
}

impl From<Usage> for ModelUsage {
    fn from(u: Usage) -> Self {
        ModelUsage {
            model: u.model,
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cost_usd: u.cost_usd,
            latency_ms: u.latency_ms,
            fallback: None,
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
    /// Index into [`Format::LADDER`] of the most constrained response
    /// format the server has not refused; only ever moves down the ladder.
    format: AtomicUsize,
    /// Request slots (`concurrency`), held by each request until it ends.
    slots: Arc<Semaphore>,
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
    /// Whether `tenant`'s customer text is redacted before it is sent
    /// ([`RemoteConfig::unredacted_tenants`]).
    pub fn redacts(&self, tenant: &switchboard_engine::ids::Tenant) -> bool {
        self.inner.config.redacts(tenant)
    }

    /// Validates the configuration and builds the HTTP client (TLS via
    /// rustls with the ring provider and the platform's roots). No I/O.
    pub fn new(config: RemoteConfig) -> Result<Self, RemoteError> {
        let target = Target::new(&config.endpoint)?;
        let http = transport::http_client(config.timeout)?;
        let breaker = Mutex::new(Breaker::new(config.breaker));
        let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                target,
                http,
                breaker,
                format: AtomicUsize::new(0),
                slots,
            }),
        })
    }

    /// Requests running now (including ones their steps stopped waiting
    /// for), at most the configured concurrency.
    pub fn in_flight(&self) -> usize {
        self.inner
            .config
            .concurrency
            .max(1)
            .saturating_sub(self.inner.slots.available_permits())
    }

    /// The model name events record when the server names none.
    pub fn model_name(&self) -> &str {
        self.inner.config.endpoint.model_name()
    }

    /// The response format calls use now (`json_schema`, then
    /// `json_object+schema`, then `json_object` as the server refuses them).
    pub fn response_format(&self) -> &'static str {
        self.format().label()
    }

    fn format(&self) -> Format {
        let index = self.inner.format.load(Ordering::Relaxed);
        Format::LADDER[index.min(Format::LADDER.len() - 1)]
    }

    /// The breaker's current state, for `/readyz` and metrics.
    pub fn breaker_state(&self) -> BreakerState {
        self.breaker().state()
    }

    /// Asks for a `T` as strict structured JSON and decodes it strictly.
    ///
    /// `schema_name` names the schema in the request (`[a-zA-Z0-9_-]{1,64}`)
    /// and labels the call's metrics. Fails fast with `CircuitOpen` while the
    /// breaker is open; waits at most the configured deadline in total;
    /// retries 429, 5xx and connection errors (a half-open probe never);
    /// moves down the response-format ladder when the server refuses a
    /// format. An answer that does not decode is `BadOutput`, carrying what
    /// it cost.
    pub async fn complete_json<T: DeserializeOwned + JsonSchema>(
        &self,
        system: &str,
        user: &str,
        schema_name: &str,
    ) -> Result<(T, Usage), RemoteError> {
        request::check_schema_name(schema_name)?;
        let started = Instant::now();
        let ticket = self.acquire(schema_name)?;
        let schema = strict_schema::<T>();
        let outcome = self
            .exchange_any_format(system, user, (schema_name, &schema), ticket, started)
            .await;
        let transition = match &outcome {
            Err(e) if e.kind().is_service_failure() => self.breaker().failure(Instant::now()),
            // No request went out: says nothing about the service (a
            // half-open probe that got no slot is simply tried again).
            Err(e) if e.kind() == RemoteErrorKind::Busy => None,
            _ => self.breaker().success(),
        };
        self.report(transition);
        let latency = started.elapsed();
        let result = outcome.and_then(|response| {
            let usage = self.usage(&response, latency);
            match decode(&response) {
                Ok(out) => Ok((out, usage)),
                Err(e) => Err(e.with_spent(usage)),
            }
        });
        metric::call(schema_name, &result, latency);
        result
    }

    /// Lets the call through the breaker, or fails fast (and counts it).
    fn acquire(&self, capability: &str) -> Result<Ticket, RemoteError> {
        let acquired = self.breaker().acquire(Instant::now());
        self.report(None);
        acquired.map_err(|retry_in| {
            metric::failed_fast(capability);
            RemoteError::CircuitOpen { retry_in }
        })
    }

    /// Logs a breaker transition and keeps the state gauge current.
    fn report(&self, transition: Option<Transition>) {
        let model = self.model_name();
        let state = self.breaker_state();
        metric::breaker(model, state);
        match transition {
            Some(Transition::Opened { failures }) => tracing::warn!(
                model,
                failures,
                cool_down_s = self.inner.config.breaker.cool_down.as_secs_f64(),
                "model circuit opened: calls fall back to the local models until a probe succeeds"
            ),
            Some(Transition::Closed) => {
                tracing::info!(
                    model,
                    "model circuit closed: the remote model answers again"
                );
            }
            None => {}
        }
    }

    async fn exchange_any_format(
        &self,
        system: &str,
        user: &str,
        (schema_name, schema): (&str, &serde_json::Value),
        ticket: Ticket,
        started: Instant,
    ) -> Result<Box<CreateChatCompletionResponse>, RemoteError> {
        let config = &self.inner.config;
        let call = Call {
            http: &self.inner.http,
            target: &self.inner.target,
            config,
            slots: &self.inner.slots,
            deadline: started + config.deadline,
            max_retries: match ticket {
                Ticket::Call => config.max_retries,
                Ticket::Probe => 0,
            },
            late: self.late_answer(schema_name),
        };
        loop {
            let format = self.format();
            let body = request::body(
                &config.endpoint,
                (system, user),
                (schema_name, schema),
                format,
                config.max_tokens,
            );
            match transport::exchange(&call, body).await {
                Exchange::Done(result) => return result,
                Exchange::SchemaRejected => self.refused(format)?,
            }
        }
    }

    /// The server refused `format`: remember it and move to the next one,
    /// or fail when it refused them all.
    fn refused(&self, format: Format) -> Result<(), RemoteError> {
        let index = Format::LADDER
            .iter()
            .position(|f| *f == format)
            .unwrap_or(Format::LADDER.len());
        if index + 1 >= Format::LADDER.len() {
            return Err(RemoteError::BadResponse(
                "the server refused every structured response format".into(),
            ));
        }
        self.inner.format.fetch_max(index + 1, Ordering::Relaxed);
        tracing::info!(
            model = self.model_name(),
            refused = format.label(),
            next = Format::LADDER[index + 1].label(),
            "the model server refused a response format; using the next one from now on"
        );
        Ok(())
    }

    /// Counts the tokens and cost of an answer no step waited for.
    fn late_answer(&self, capability: &str) -> LateAnswer {
        let model = self.clone();
        let capability = capability.to_owned();
        Arc::new(move |response| {
            let usage = model.usage(response, Duration::ZERO);
            tracing::info!(
                capability,
                prompt_tokens = usage.prompt_tokens,
                completion_tokens = usage.completion_tokens,
                cost_usd = usage.cost_usd,
                "late model answer discarded (its step had fallen back); its tokens are counted"
            );
            metric::late(&capability, &usage);
        })
    }

    fn usage(&self, response: &CreateChatCompletionResponse, latency: Duration) -> Usage {
        let configured = self.model_name();
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
            .prices
            .price_of(&[&response.model, configured])
            .zip(tokens)
            .map(|(p, (prompt, completion))| p.cost(prompt, completion));
        Usage {
            model,
            prompt_tokens: tokens.map(|t| t.0),
            completion_tokens: tokens.map(|t| t.1),
            cost_usd,
            latency_ms: Some(latency.as_millis() as u64),
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
    serde_json::from_str(unfenced).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "output does not match the schema",
            _ => "output is not JSON",
        };
        RemoteError::BadResponse(format!("{what}: {}", without_strings(&e.to_string())))
    })
}

/// serde's message with every quoted string the model wrote replaced by
/// `"…"` and cut to 160 characters, so the reason can go on events and
/// warn-level logs without carrying text (the model may echo the
/// customer's). Field and variant names (in backticks) stay.
fn without_strings(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_string = false;
    for c in message.chars() {
        if c == '"' {
            out.push_str(if in_string { "…\"" } else { "\"" });
            in_string = !in_string;
        } else if !in_string {
            out.push(c);
        }
    }
    out.chars().take(160).collect()
}
