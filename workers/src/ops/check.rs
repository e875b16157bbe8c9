//! `switchboard health`: asks a process's `/healthz` (or `/readyz`) and
//! says whether it answered 200 within a deadline, so a container's
//! HEALTHCHECK can call the binary itself instead of curl.

use std::time::Duration;

/// Why a process is not healthy (or ready), in one line.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The URL is not an `http://` URL.
    #[error("{url} is not an http:// URL")]
    BadUrl {
        /// What was given.
        url: String,
    },
    /// Nothing answered within the deadline (refused, unreachable, slow).
    #[error("{url}: no answer within {timeout:?}: {detail}")]
    NoAnswer {
        /// The endpoint asked.
        url: String,
        /// The deadline.
        timeout: Duration,
        /// What the client said.
        detail: String,
    },
    /// It answered, but not 200.
    #[error("{url} answered {status}: {body}")]
    Status {
        /// The endpoint asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body (the readiness reasons).
        body: String,
    },
}

/// Longest part of a failing body repeated in the error.
const BODY_SHOWN: usize = 300;

/// Asks `base` + `/healthz` (or `/readyz` when `ready`) and returns `Ok`
/// on a 200 within `timeout`.
pub async fn check(base: &str, ready: bool, timeout: Duration) -> Result<(), CheckError> {
    let base = base.trim_end_matches('/');
    if !base.starts_with("http://") {
        return Err(CheckError::BadUrl { url: base.into() });
    }
    let url = format!("{base}/{}", if ready { "readyz" } else { "healthz" });
    let no_answer = |e: reqwest::Error| CheckError::NoAnswer {
        url: url.clone(),
        timeout,
        detail: chain(&e),
    };
    // Plain HTTP only: no certificate roots are loaded, so the check works
    // in an image without a CA bundle.
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .tls_certs_only(Vec::new())
        .build()
        .map_err(no_answer)?;
    let response = client.get(&url).send().await.map_err(no_answer)?;
    let status = response.status().as_u16();
    if status == 200 {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    let body: String = body.trim().chars().take(BODY_SHOWN).collect();
    Err(CheckError::Status { url, status, body })
}

/// An error and its sources in one line ("error sending request: ... refused").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
