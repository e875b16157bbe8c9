//! One structured request within a deadline: wait for a free slot, send,
//! classify the answer, wait as the server or the backoff schedule says, try
//! again while the deadline allows.
//!
//! Each attempt runs in a task of its own that holds its slot until the
//! request really ends. A step that stops waiting (its deadline passed) falls
//! back at once, but the request it abandoned keeps its slot, so a busy
//! server is never sent more work than `concurrency` allows and a retry never
//! overlaps a call still running; a late answer's tokens are still counted
//! ([`LateAnswer`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_openai::types::chat::CreateChatCompletionResponse;
use reqwest::StatusCode;
use rustls_platform_verifier::BuilderVerifierExt;
use serde_json::Value;
use tokio::sync::{Semaphore, oneshot};

use super::config::RemoteConfig;
use super::error::RemoteError;
use super::request::Target;
use super::retry::{self, Next};

/// The result of an exchange: done (either way), or the server refused the
/// requested response format and the caller should try the next one.
pub(crate) enum Exchange {
    Done(Result<Box<CreateChatCompletionResponse>, RemoteError>),
    SchemaRejected,
}

/// How one attempt ended.
enum Attempt {
    Ok(Box<CreateChatCompletionResponse>),
    /// Worth retrying; carries the error to report if we give up and the
    /// server's requested wait.
    Retry(RemoteError, Option<Duration>),
    Fatal(RemoteError),
    SchemaRejected,
}

/// What to do with an answer that arrives after its step stopped waiting.
pub(crate) type LateAnswer = Arc<dyn Fn(&CreateChatCompletionResponse) + Send + Sync>;

/// One call's fixed parts: where, how, within what, and how often.
pub(crate) struct Call<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) target: &'a Target,
    pub(crate) config: &'a RemoteConfig,
    /// The endpoint's request slots.
    pub(crate) slots: &'a Arc<Semaphore>,
    /// When the step stops waiting.
    pub(crate) deadline: Instant,
    /// Retries allowed (0 for a breaker probe).
    pub(crate) max_retries: u32,
    /// Counts the tokens of an abandoned request's answer.
    pub(crate) late: LateAnswer,
}

/// An HTTP client with the per-attempt timeout, TLS through rustls with the
/// ring provider (the one async-nats uses, so only one is linked) and the
/// platform's certificate verifier.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, RemoteError> {
    let config_err = |e: rustls::Error| RemoteError::Config(format!("TLS: {e}"));
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(config_err)?
    .with_platform_verifier()
    .map_err(config_err)?
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| RemoteError::Config(format!("HTTP client: {e}")))
}

/// Sends `body` until it succeeds, fails for good, or the retry budget or
/// the deadline runs out.
pub(crate) async fn exchange(call: &Call<'_>, body: Value) -> Exchange {
    let body = Arc::new(body);
    let started = Instant::now();
    let mut retry = 0;
    loop {
        let (error, hint) = match attempt_within(call, body.clone(), retry + 1).await {
            Attempt::Ok(response) => return Exchange::Done(Ok(response)),
            Attempt::Fatal(error) => return Exchange::Done(Err(error)),
            Attempt::SchemaRejected => return Exchange::SchemaRejected,
            Attempt::Retry(error, hint) => (error, hint),
        };
        let limits = (call.config.backoff_base, call.config.max_backoff);
        let wait = match retry::next(retry, call.max_retries, hint, limits, fastrand::f64()) {
            Next::Wait(wait) if Instant::now() + wait < call.deadline => wait,
            Next::Wait(_) | Next::GiveUp => {
                let error = with_attempts(error, retry + 1);
                tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, error = %error, "model call gave up");
                return Exchange::Done(Err(error));
            }
        };
        tracing::info!(
            retry = retry + 1,
            wait_ms = wait.as_millis() as u64,
            error = %error,
            "retrying model call"
        );
        tokio::time::sleep(wait).await;
        retry += 1;
    }
}

/// One attempt, waited for until the deadline: a free slot first, then the
/// request in its own task, which keeps the slot until the request ends.
async fn attempt_within(call: &Call<'_>, body: Arc<Value>, number: u32) -> Attempt {
    let queued = Instant::now();
    // At most half the deadline goes to waiting for a slot, so a request
    // that then times out had at least the other half: a timeout says the
    // server is slow, not that the queue was long.
    let remaining = call.deadline.saturating_duration_since(queued);
    let wait = remaining.min(call.config.deadline / 2);
    let permit = match tokio::time::timeout(wait, call.slots.clone().acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        Ok(Err(_)) => return Attempt::Fatal(RemoteError::Config("model slots closed".into())),
        Err(_) => {
            return Attempt::Fatal(RemoteError::Busy {
                waited: queued.elapsed(),
            });
        }
    };
    let (tx, rx) = oneshot::channel();
    let (http, target, late) = (call.http.clone(), call.target.clone(), call.late.clone());
    tokio::spawn(async move {
        let outcome = attempt(&http, &target, &body).await;
        drop(permit);
        if let Err(Attempt::Ok(response)) = tx.send(outcome) {
            late(&response);
        }
    });
    let remaining = call.deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(remaining, rx).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Attempt::Fatal(RemoteError::Config("model request task failed".into())),
        // Not retried: the request is still running and keeps its slot.
        Err(_) => Attempt::Fatal(RemoteError::Timeout { attempts: number }),
    }
}

async fn attempt(http: &reqwest::Client, target: &Target, body: &Value) -> Attempt {
    let headers = match target.headers().await {
        Ok(headers) => headers,
        Err(e) => return Attempt::Fatal(e),
    };
    let bytes = match serde_json::to_vec(body) {
        Ok(bytes) => bytes,
        Err(e) => return Attempt::Fatal(RemoteError::Config(format!("request body: {e}"))),
    };
    let sent = http
        .post(&target.url)
        .headers(headers)
        .body(bytes)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(e) => return transport_error(&e),
    };
    let status = response.status();
    let hint = retry::retry_after(response.headers(), chrono::Utc::now());
    let bytes = match response.bytes().await {
        Ok(bytes) => bytes,
        Err(e) => return transport_error(&e),
    };
    classify(status, hint, &bytes)
}

fn transport_error(e: &reqwest::Error) -> Attempt {
    if e.is_timeout() {
        Attempt::Fatal(RemoteError::Timeout { attempts: 1 })
    } else if e.is_builder() {
        Attempt::Fatal(RemoteError::Config(format!("request: {e}")))
    } else {
        Attempt::Retry(
            RemoteError::Unavailable {
                attempts: 1,
                detail: transport_detail(e),
            },
            None,
        )
    }
}

/// What an operator needs from a transport failure: "connection refused"
/// said plainly, else the innermost cause (reqwest's own message only says
/// "error sending request").
fn transport_detail(e: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut innermost = e.to_string();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return "connection refused".into();
        }
        innermost = cause.to_string();
        source = cause.source();
    }
    if e.is_connect() {
        format!("cannot connect: {innermost}")
    } else {
        format!("transport: {innermost}")
    }
}

/// Maps a status and body to what happens next.
fn classify(status: StatusCode, hint: Option<Duration>, body: &[u8]) -> Attempt {
    if status.is_success() {
        return match serde_json::from_slice(body) {
            Ok(response) => Attempt::Ok(response),
            Err(e) => Attempt::Fatal(RemoteError::BadResponse(format!("envelope: {e}"))),
        };
    }
    let error = ApiError::parse(body);
    match status.as_u16() {
        // Whatever the status (400 from OpenAI and Azure, 500 from
        // llama-cpp-python, 422 from others), a body about the response
        // format means "try the next format", not "the service is down".
        code if code != 429 && code != 401 && code != 403 && error.mentions_response_format() => {
            Attempt::SchemaRejected
        }
        429 => Attempt::Retry(
            RemoteError::Throttled {
                attempts: 1,
                retry_after: hint,
            },
            hint,
        ),
        408 | 500..=599 => {
            let detail = format!("HTTP {status}{}", error.summary());
            Attempt::Retry(
                RemoteError::Unavailable {
                    attempts: 1,
                    detail,
                },
                hint,
            )
        }
        401 | 403 => Attempt::Fatal(RemoteError::Auth(format!(
            "HTTP {status}{}",
            error.summary()
        ))),
        _ => Attempt::Fatal(RemoteError::BadResponse(format!(
            "HTTP {status}{}",
            error.summary()
        ))),
    }
}

fn with_attempts(error: RemoteError, attempts: u32) -> RemoteError {
    match error {
        RemoteError::Timeout { .. } => RemoteError::Timeout { attempts },
        RemoteError::Throttled { retry_after, .. } => RemoteError::Throttled {
            attempts,
            retry_after,
        },
        RemoteError::Unavailable { detail, .. } => RemoteError::Unavailable { attempts, detail },
        other => other,
    }
}

/// The parts of an OpenAI-style error body we use. The free-text message is
/// logged at debug only: some servers quote the request in it.
#[derive(Default)]
struct ApiError {
    code: Option<String>,
    kind: Option<String>,
    message: String,
}

impl ApiError {
    fn parse(body: &[u8]) -> Self {
        let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let error = value.get("error").unwrap_or(&value);
        let text = |key: &str| error.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let parsed = Self {
            code: text("code"),
            kind: text("type"),
            message: text("message").unwrap_or_default(),
        };
        tracing::debug!(message = %parsed.message, "model service error body");
        parsed
    }

    fn summary(&self) -> String {
        [("code", &self.code), ("type", &self.kind)]
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!(" {k}={v}")))
            .collect()
    }

    fn mentions_response_format(&self) -> bool {
        let haystack = format!("{} {:?}", self.message, self.code).to_ascii_lowercase();
        ["response_format", "json_schema"]
            .iter()
            .any(|needle| haystack.contains(needle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(attempt: Attempt) -> &'static str {
        match attempt {
            Attempt::Ok(_) => "ok",
            Attempt::Retry(..) => "retry",
            Attempt::Fatal(_) => "fatal",
            Attempt::SchemaRejected => "schema",
        }
    }

    #[test]
    fn statuses_map_to_retry_fatal_or_schema_fallback() {
        let at = |code: u16, body: &str| {
            kind(classify(
                StatusCode::from_u16(code).expect("valid status"),
                None,
                body.as_bytes(),
            ))
        };
        assert_eq!(at(429, "{}"), "retry");
        assert_eq!(at(503, "oops"), "retry");
        assert_eq!(at(408, ""), "retry");
        assert_eq!(at(401, "{}"), "fatal");
        assert_eq!(at(404, "{}"), "fatal");
        let rejected = r#"{"error":{"message":"Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model","type":"invalid_request_error"}}"#;
        assert_eq!(at(400, rejected), "schema");
        assert_eq!(
            at(400, r#"{"error":{"message":"context too long"}}"#),
            "fatal"
        );
        assert_eq!(at(200, "not json"), "fatal");
    }

    #[test]
    fn error_summaries_carry_code_and_type_not_message() {
        let body = br#"{"error":{"message":"secret prompt text","code":"content_filter","type":"invalid_request_error"}}"#;
        let Attempt::Fatal(e) = classify(StatusCode::BAD_REQUEST, None, body) else {
            panic!("a 400 without response_format is fatal");
        };
        let shown = e.to_string();
        assert!(shown.contains("code=content_filter"), "{shown}");
        assert!(!shown.contains("secret prompt text"), "{shown}");
    }

    #[test]
    fn throttling_keeps_the_hint() {
        let hint = Some(Duration::from_secs(4));
        let Attempt::Retry(e, h) = classify(StatusCode::TOO_MANY_REQUESTS, hint, b"{}") else {
            panic!("429 is retryable");
        };
        assert_eq!(h, hint);
        let e = with_attempts(e, 4);
        assert!(matches!(
            e,
            RemoteError::Throttled {
                attempts: 4,
                retry_after: Some(_)
            }
        ));
    }
}
