//! Entra ID bearer tokens for Azure OpenAI: [`EntraTokenProvider`], a
//! [`TokenProvider`] over any `azure_core` [`TokenCredential`] (a managed
//! identity, the developer's Azure CLI login...) that caches the token
//! until shortly before it expires.
//!
//! The binary builds the credential from its configuration; this module
//! reads no environment. Refreshes are single-flight: callers arriving
//! while the token is being fetched wait for that fetch instead of starting
//! their own. If a refresh fails while the cached token is still valid, the
//! cached token is used (and the next call tries again); only a token that
//! has expired makes the call fail.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::TokenCredential;
use azure_core::time::OffsetDateTime;
use futures::future::BoxFuture;
use tokio::sync::Mutex;

use super::config::{Secret, TokenError, TokenProvider};

/// The scope of Azure OpenAI (Cognitive Services) data-plane tokens.
pub const COGNITIVE_SERVICES_SCOPE: &str = "https://cognitiveservices.azure.com/.default";

/// How a cached token stands at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freshness {
    /// Use it.
    Fresh,
    /// Within the refresh margin: fetch a new one, but this one still works
    /// if the fetch fails.
    Stale,
    /// Past its expiry: never send it.
    Expired,
}

fn freshness(expires_on: OffsetDateTime, now: OffsetDateTime, margin: Duration) -> Freshness {
    if now >= expires_on {
        Freshness::Expired
    } else if now + margin >= expires_on {
        Freshness::Stale
    } else {
        Freshness::Fresh
    }
}

struct Cached {
    token: Secret,
    expires_on: OffsetDateTime,
}

type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Entra ID tokens from a credential, cached until `refresh_before` ahead
/// of their expiry.
pub struct EntraTokenProvider {
    credential: Arc<dyn TokenCredential>,
    scope: String,
    refresh_before: Duration,
    fetch_timeout: Duration,
    clock: Clock,
    cached: Mutex<Option<Cached>>,
}

impl fmt::Debug for EntraTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraTokenProvider")
            .field("scope", &self.scope)
            .field("refresh_before", &self.refresh_before)
            .field("fetch_timeout", &self.fetch_timeout)
            .finish_non_exhaustive()
    }
}

impl EntraTokenProvider {
    /// Tokens for [`COGNITIVE_SERVICES_SCOPE`] from `credential`, refreshed
    /// 5 minutes before they expire, each fetch given 30 seconds.
    pub fn new(credential: Arc<dyn TokenCredential>) -> Self {
        Self {
            credential,
            scope: COGNITIVE_SERVICES_SCOPE.to_owned(),
            refresh_before: Duration::from_secs(5 * 60),
            fetch_timeout: Duration::from_secs(30),
            clock: Arc::new(OffsetDateTime::now_utc),
            cached: Mutex::new(None),
        }
    }

    /// How long before expiry a cached token is replaced. By default,
    /// 5 minutes.
    pub fn refresh_before(mut self, margin: Duration) -> Self {
        self.refresh_before = margin;
        self
    }

    /// How long one fetch from the credential may take before the call
    /// fails with a [`TokenError`]. By default, 30 seconds.
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    #[cfg(test)]
    fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    async fn current(&self) -> Result<Secret, TokenError> {
        // Held across the fetch on purpose: concurrent callers wait for one
        // refresh rather than each asking the identity endpoint.
        let mut cached = self.cached.lock().await;
        let now = (self.clock)();
        let state = cached
            .as_ref()
            .map(|c| freshness(c.expires_on, now, self.refresh_before));
        if let (Some(c), Some(Freshness::Fresh)) = (cached.as_ref(), state) {
            return Ok(c.token.clone());
        }
        match self.fetch().await {
            Ok(fresh) => {
                let token = fresh.token.clone();
                *cached = Some(fresh);
                Ok(token)
            }
            Err(e) => match (cached.as_ref(), state) {
                (Some(c), Some(Freshness::Stale)) => {
                    tracing::warn!(
                        error = %e,
                        expires_in_secs = (c.expires_on - now).whole_seconds(),
                        "Entra ID token refresh failed; using the cached token until it expires"
                    );
                    Ok(c.token.clone())
                }
                _ => Err(e),
            },
        }
    }

    async fn fetch(&self) -> Result<Cached, TokenError> {
        let scopes = [self.scope.as_str()];
        let fetch = self.credential.get_token(&scopes, None);
        match tokio::time::timeout(self.fetch_timeout, fetch).await {
            Ok(Ok(token)) => Ok(Cached {
                token: Secret::new(token.token.secret()),
                expires_on: token.expires_on,
            }),
            Ok(Err(e)) => Err(TokenError(format!("Entra ID credential: {e}"))),
            Err(_) => Err(TokenError(format!(
                "Entra ID credential gave no token within {:?}",
                self.fetch_timeout
            ))),
        }
    }
}

impl TokenProvider for EntraTokenProvider {
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(self.current())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex as StdMutex;

    use azure_core::credentials::{AccessToken, TokenRequestOptions};
    use azure_core::error::{Error, ErrorKind};

    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn t0() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid timestamp")
    }

    /// A clock the test moves by hand.
    #[derive(Clone)]
    struct TestClock(Arc<StdMutex<OffsetDateTime>>);

    impl TestClock {
        fn new() -> Self {
            Self(Arc::new(StdMutex::new(t0())))
        }
        fn now(&self) -> OffsetDateTime {
            *self.0.lock().expect("no panics while held")
        }
        fn advance(&self, by: Duration) {
            let mut now = self.0.lock().expect("no panics while held");
            *now += by;
        }
    }

    /// What the fake credential answers next: a token valid for a while,
    /// a failure, or nothing at all.
    enum Answer {
        Token(&'static str, Duration),
        Fail,
        Hang,
    }

    impl fmt::Debug for Answer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Answer")
        }
    }

    /// A credential answering from a script, recording the scopes asked.
    #[derive(Debug)]
    struct FakeCredential {
        clock: Arc<StdMutex<OffsetDateTime>>,
        script: StdMutex<VecDeque<Answer>>,
        scopes: StdMutex<Vec<String>>,
    }

    impl FakeCredential {
        fn calls(&self) -> usize {
            self.scopes.lock().expect("no panics while held").len()
        }
    }

    #[async_trait::async_trait]
    impl TokenCredential for FakeCredential {
        async fn get_token(
            &self,
            scopes: &[&str],
            _options: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            self.scopes
                .lock()
                .expect("no panics while held")
                .extend(scopes.iter().map(|s| (*s).to_owned()));
            // Let concurrent callers run while this fetch is in flight.
            tokio::task::yield_now().await;
            let answer = self
                .script
                .lock()
                .expect("no panics while held")
                .pop_front()
                .expect("the test scripted enough answers");
            match answer {
                Answer::Token(token, valid_for) => {
                    let now = *self.clock.lock().expect("no panics while held");
                    Ok(AccessToken::new(token, now + valid_for))
                }
                Answer::Fail => Err(Error::with_message(ErrorKind::Credential, "no identity")),
                Answer::Hang => std::future::pending().await,
            }
        }
    }

    fn provider(script: Vec<Answer>) -> (EntraTokenProvider, Arc<FakeCredential>, TestClock) {
        let clock = TestClock::new();
        let credential = Arc::new(FakeCredential {
            clock: clock.0.clone(),
            script: StdMutex::new(script.into()),
            scopes: StdMutex::new(Vec::new()),
        });
        let reader = clock.clone();
        let provider =
            EntraTokenProvider::new(credential.clone()).with_clock(Arc::new(move || reader.now()));
        (provider, credential, clock)
    }

    async fn token(provider: &EntraTokenProvider) -> Result<String, TokenError> {
        provider.token().await.map(|s| s.expose().to_owned())
    }

    #[test]
    fn a_token_is_fresh_until_the_margin_then_stale_then_expired() {
        let expires = t0() + 60 * MINUTE;
        let margin = 5 * MINUTE;
        assert_eq!(freshness(expires, t0(), margin), Freshness::Fresh);
        assert_eq!(
            freshness(expires, t0() + 54 * MINUTE, margin),
            Freshness::Fresh
        );
        assert_eq!(
            freshness(expires, t0() + 55 * MINUTE, margin),
            Freshness::Stale
        );
        assert_eq!(freshness(expires, expires, margin), Freshness::Expired);
    }

    #[tokio::test]
    async fn the_token_is_cached_until_shortly_before_expiry_then_refreshed() {
        let (provider, credential, clock) = provider(vec![
            Answer::Token("first", 60 * MINUTE),
            Answer::Token("second", 60 * MINUTE),
        ]);
        assert_eq!(token(&provider).await.expect("fetched"), "first");
        clock.advance(54 * MINUTE);
        assert_eq!(token(&provider).await.expect("cached"), "first");
        assert_eq!(credential.calls(), 1);
        clock.advance(2 * MINUTE);
        assert_eq!(token(&provider).await.expect("refreshed"), "second");
        assert_eq!(credential.calls(), 2);
        let scopes = credential.scopes.lock().expect("no panics while held");
        assert!(
            scopes.iter().all(|s| s == COGNITIVE_SERVICES_SCOPE),
            "{scopes:?}"
        );
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_a_valid_token_but_never_an_expired_one() {
        let (provider, credential, clock) = provider(vec![
            Answer::Token("first", 60 * MINUTE),
            Answer::Fail,
            Answer::Fail,
            Answer::Token("second", 60 * MINUTE),
        ]);
        assert_eq!(token(&provider).await.expect("fetched"), "first");
        clock.advance(58 * MINUTE);
        assert_eq!(token(&provider).await.expect("still valid"), "first");
        clock.advance(3 * MINUTE);
        let err = token(&provider).await.expect_err("expired and no refresh");
        assert!(err.to_string().contains("no identity"), "{err}");
        assert_eq!(token(&provider).await.expect("recovered"), "second");
        assert_eq!(credential.calls(), 4, "failures are not cached");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let (provider, credential, _clock) = provider(vec![Answer::Token("only", 60 * MINUTE)]);
        let tokens = futures::future::join_all((0..8).map(|_| token(&provider))).await;
        assert!(
            tokens.iter().all(|t| t.as_deref().ok() == Some("only")),
            "{tokens:?}"
        );
        assert_eq!(credential.calls(), 1);
    }

    #[tokio::test]
    async fn a_credential_that_never_answers_times_out() {
        let (provider, _credential, _clock) = provider(vec![Answer::Hang]);
        let provider = provider.fetch_timeout(Duration::from_millis(50));
        let err = token(&provider).await.expect_err("no token");
        assert!(err.to_string().contains("no token within"), "{err}");
    }

    #[tokio::test]
    async fn debug_shows_no_token() {
        let (provider, _credential, _clock) =
            provider(vec![Answer::Token("eyJ-secret", 60 * MINUTE)]);
        token(&provider).await.expect("fetched");
        let shown = format!("{provider:?}");
        assert!(shown.contains(COGNITIVE_SERVICES_SCOPE), "{shown}");
        assert!(!shown.contains("eyJ-secret"), "{shown}");
    }
}
