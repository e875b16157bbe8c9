//! Backoff for transient store failures (SQLite busy, Cosmos 429).
//!
//! Delays double from `initial` up to `max`; a delay the server asked for
//! (Cosmos `x-ms-retry-after-ms`) takes precedence when it is longer.

use std::time::Duration;

use super::StoreError;

/// Exponential backoff settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First delay. Default 20 ms.
    pub initial: Duration,
    /// Largest delay. Default 5 s.
    pub max: Duration,
    /// Attempts before giving up; `None` retries for ever. Default `None`.
    pub max_attempts: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(20),
            max: Duration::from_secs(5),
            max_attempts: None,
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (1-based) after `error`.
    pub fn delay(&self, attempt: u32, error: &StoreError) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let computed = self.initial.saturating_mul(1 << exp).min(self.max);
        match error.retry_after() {
            Some(advised) => advised.max(computed).min(self.max.max(advised)),
            None => computed,
        }
    }

    /// Runs `op` until it succeeds, fails permanently, or runs out of attempts.
    /// `on_retry` is told about each transient failure and the delay chosen.
    pub async fn retry<T, F, Fut>(
        &self,
        mut op: F,
        mut on_retry: impl FnMut(&StoreError, Duration),
    ) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match op().await {
                Ok(value) => return Ok(value),
                Err(e) if e.is_transient() && self.max_attempts.is_none_or(|m| attempt < m) => {
                    let delay = self.delay(attempt, &e);
                    on_retry(&e, delay);
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::StoreErrorKind;

    #[test]
    fn delays_double_and_cap_and_honour_retry_after() {
        let b = Backoff::default();
        let busy = StoreError::new(StoreErrorKind::Unavailable, "sqlite", "busy");
        assert_eq!(b.delay(1, &busy), Duration::from_millis(20));
        assert_eq!(b.delay(3, &busy), Duration::from_millis(80));
        assert_eq!(b.delay(30, &busy), Duration::from_secs(5));
        let throttled = busy.clone().with_retry_after(Duration::from_millis(700));
        assert_eq!(b.delay(1, &throttled), Duration::from_millis(700));
        let long = busy.with_retry_after(Duration::from_secs(9));
        assert_eq!(b.delay(1, &long), Duration::from_secs(9));
    }
}
