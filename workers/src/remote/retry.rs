//! When to try again: `Retry-After` parsing and the backoff schedule.
//!
//! Pure functions (the clock and the random jitter are parameters) so the
//! schedule is tested exactly; [`client`](super::client) does the waiting.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

/// Azure OpenAI's millisecond hint, preferred when present.
const RETRY_AFTER_MS: &str = "retry-after-ms";

/// The server's requested wait, from `retry-after-ms` (milliseconds) or
/// `Retry-After` (delta-seconds or an HTTP date, relative to `now`).
pub(crate) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    parse_retry_after(text(RETRY_AFTER_MS), text("retry-after"), now)
}

/// [`retry_after`] over raw header values. A date in the past means "now".
pub(crate) fn parse_retry_after(
    ms: Option<&str>,
    value: Option<&str>,
    now: DateTime<Utc>,
) -> Option<Duration> {
    if let Some(ms) = ms.and_then(|s| non_negative(s.trim())) {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = value?.trim();
    if let Some(secs) = non_negative(value) {
        return Some(Duration::from_secs_f64(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// A finite, non-negative number, bounded so `Duration` cannot overflow.
fn non_negative(s: &str) -> Option<f64> {
    let n: f64 = s.parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some(n.min(86_400_000.0))
}

/// The wait before retry number `retry` (0-based): `base * 2^retry`, capped
/// at `max`, then scaled into `[½, 1]` of that by `jitter` (in `0..1`) so
/// that many workers throttled together do not retry in lockstep.
pub(crate) fn backoff(retry: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let exp = base.saturating_mul(1u32 << retry.min(16)).min(max);
    exp.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// What to do after a retryable failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Wait this long, then try again.
    Wait(Duration),
    /// Stop and report the failure.
    GiveUp,
}

/// Decides the next step after failed attempt `retry` (0-based), given the
/// server's hint: honour the hint when it is within `max`, give up when it is
/// beyond, otherwise back off.
pub(crate) fn next(
    retry: u32,
    max_retries: u32,
    hint: Option<Duration>,
    (base, max): (Duration, Duration),
    jitter: f64,
) -> Next {
    if retry >= max_retries {
        return Next::GiveUp;
    }
    match hint {
        Some(wait) if wait > max => Next::GiveUp,
        Some(wait) => Next::Wait(wait),
        None => Next::Wait(backoff(retry, base, max, jitter)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T08:49:37Z")
            .expect("literal date is valid")
            .with_timezone(&Utc)
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(
            parse_retry_after(None, Some("7"), now()),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after(None, Some(" 0 "), now()),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after(None, Some("-3"), now()), None);
        assert_eq!(parse_retry_after(None, Some("soon"), now()), None);
        assert_eq!(parse_retry_after(None, None, now()), None);
    }

    #[test]
    fn retry_after_http_date() {
        let later = "Thu, 26 Nov 2026 08:49:49 GMT";
        assert_eq!(
            parse_retry_after(None, Some(later), now()),
            Some(Duration::from_secs(12))
        );
        let past = "Thu, 26 Nov 2026 08:00:00 GMT";
        assert_eq!(
            parse_retry_after(None, Some(past), now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_ms_wins() {
        assert_eq!(
            parse_retry_after(Some("1500"), Some("9"), now()),
            Some(Duration::from_millis(1500))
        );
        // A garbled ms header falls back to Retry-After.
        assert_eq!(
            parse_retry_after(Some("x"), Some("2"), now()),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn retry_after_from_header_map() {
        let mut headers = HeaderMap::new();
        headers.insert("Retry-After", "3".parse().expect("ascii header value"));
        assert_eq!(retry_after(&headers, now()), Some(Duration::from_secs(3)));
        headers.insert("retry-after-ms", "250".parse().expect("ascii header value"));
        assert_eq!(
            retry_after(&headers, now()),
            Some(Duration::from_millis(250))
        );
    }

    #[test]
    fn backoff_doubles_within_jitter_bounds_and_caps() {
        let (base, max) = (Duration::from_millis(500), Duration::from_secs(20));
        for retry in 0..10 {
            let full = (base * 2u32.pow(retry)).min(max);
            let low = backoff(retry, base, max, 0.0);
            let high = backoff(retry, base, max, 1.0);
            assert_eq!(low, full / 2, "retry {retry}");
            assert_eq!(high, full, "retry {retry}");
            let mid = backoff(retry, base, max, 0.37);
            assert!(low <= mid && mid <= high);
        }
        assert_eq!(
            backoff(40, base, max, 1.0),
            max,
            "huge retry counts saturate"
        );
        assert_eq!(backoff(0, base, max, 7.0), base, "jitter is clamped");
    }

    #[test]
    fn next_honours_hint_cap_and_budget() {
        let limits = (Duration::from_millis(100), Duration::from_secs(5));
        assert_eq!(
            next(0, 3, Some(Duration::from_secs(2)), limits, 0.0),
            Next::Wait(Duration::from_secs(2))
        );
        assert_eq!(
            next(0, 3, Some(Duration::from_secs(60)), limits, 0.0),
            Next::GiveUp
        );
        assert_eq!(
            next(1, 3, None, limits, 1.0),
            Next::Wait(Duration::from_millis(200))
        );
        assert_eq!(next(3, 3, None, limits, 0.5), Next::GiveUp);
        assert_eq!(next(0, 0, None, limits, 0.5), Next::GiveUp);
    }
}
