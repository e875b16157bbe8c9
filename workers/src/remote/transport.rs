//! One structured request with retries: send, classify the status, wait as
//! the server or the backoff schedule says, try again.

use std::sync::Arc;
use std::time::Duration;

use async_openai::types::chat::{CreateChatCompletionRequest, CreateChatCompletionResponse};
use reqwest::StatusCode;
use rustls_platform_verifier::BuilderVerifierExt;

use super::config::RemoteConfig;
use super::error::RemoteError;
use super::request::Target;
use super::retry::{self, Next};

/// The result of an exchange: done (either way), or the server refused the
/// `json_schema` response format and the caller should try `json_object`.
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

/// Sends `body` until it succeeds, fails for good, or the retry budget runs
/// out.
pub(crate) async fn exchange(
    http: &reqwest::Client,
    target: &Target,
    config: &RemoteConfig,
    body: CreateChatCompletionRequest,
) -> Exchange {
    let mut retry = 0;
    loop {
        let (error, hint) = match attempt(http, target, &body).await {
            Attempt::Ok(response) => return Exchange::Done(Ok(response)),
            Attempt::Fatal(error) => return Exchange::Done(Err(error)),
            Attempt::SchemaRejected => return Exchange::SchemaRejected,
            Attempt::Retry(error, hint) => (error, hint),
        };
        let limits = (config.backoff_base, config.max_backoff);
        match retry::next(retry, config.max_retries, hint, limits, fastrand::f64()) {
            Next::GiveUp => return Exchange::Done(Err(with_attempts(error, retry + 1))),
            Next::Wait(wait) => {
                tracing::info!(
                    retry = retry + 1,
                    wait_ms = wait.as_millis() as u64,
                    error = %error,
                    "retrying model call"
                );
                tokio::time::sleep(wait).await;
            }
        }
        retry += 1;
    }
}

async fn attempt(
    http: &reqwest::Client,
    target: &Target,
    body: &CreateChatCompletionRequest,
) -> Attempt {
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
        Attempt::Retry(RemoteError::Timeout { attempts: 1 }, None)
    } else if e.is_builder() {
        Attempt::Fatal(RemoteError::Config(format!("request: {e}")))
    } else {
        let detail = format!("transport: {e}");
        Attempt::Retry(
            RemoteError::Unavailable {
                attempts: 1,
                detail,
            },
            None,
        )
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
        400 if error.mentions_response_format() => Attempt::SchemaRejected,
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
