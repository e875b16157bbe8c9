//! The remote path's metrics (DESIGN §8: model calls, tokens and cost),
//! recorded through the `metrics` facade so whichever exporter the process
//! installed (`up`'s Prometheus endpoint) serves them.
//!
//! - `switchboard_model_calls_total{capability, outcome}`: every call, by
//!   outcome (`ok` or the error kind's label).
//! - `switchboard_model_call_seconds{capability}`: wall time of calls that
//!   reached the server.
//! - `switchboard_model_tokens_total{capability, kind}`: prompt and
//!   completion tokens, including refused and late answers.
//! - `switchboard_model_cost_usd_total{capability}`: what they cost.
//! - `switchboard_model_fallbacks_total{capability, reason}`: steps the
//!   local model decided instead.
//! - `switchboard_model_breaker_state{model}`: 0 closed, 1 half-open,
//!   2 open.

use std::time::Duration;

use super::breaker::BreakerState;
use super::client::Usage;
use super::error::RemoteError;

const CALLS: &str = "switchboard_model_calls_total";
const CALL_SECONDS: &str = "switchboard_model_call_seconds";
const TOKENS: &str = "switchboard_model_tokens_total";
const COST: &str = "switchboard_model_cost_usd_total";
const FALLBACKS: &str = "switchboard_model_fallbacks_total";
const BREAKER: &str = "switchboard_model_breaker_state";

/// Records one call's outcome, latency and spend.
pub(crate) fn call<T>(
    capability: &str,
    result: &Result<(T, Usage), RemoteError>,
    latency: Duration,
) {
    let (outcome, spent) = match result {
        Ok((_, usage)) => ("ok", Some(usage)),
        Err(e) => (e.kind().label(), e.spent()),
    };
    let capability = capability.to_owned();
    metrics::counter!(CALLS, "capability" => capability.clone(), "outcome" => outcome).increment(1);
    metrics::histogram!(CALL_SECONDS, "capability" => capability.clone())
        .record(latency.as_secs_f64());
    if let Some(usage) = spent {
        spend(&capability, usage);
    }
}

/// Counts a call refused by the open breaker (no request, no latency).
pub(crate) fn failed_fast(capability: &str) {
    let outcome = super::RemoteErrorKind::CircuitOpen.label();
    metrics::counter!(CALLS, "capability" => capability.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// Counts an answer that arrived after its step had fallen back.
pub(crate) fn late(capability: &str, usage: &Usage) {
    metrics::counter!(CALLS, "capability" => capability.to_owned(), "outcome" => "late")
        .increment(1);
    spend(capability, usage);
}

fn spend(capability: &str, usage: &Usage) {
    for (kind, tokens) in [
        ("prompt", usage.prompt_tokens),
        ("completion", usage.completion_tokens),
    ] {
        if let Some(tokens) = tokens {
            metrics::counter!(TOKENS, "capability" => capability.to_owned(), "kind" => kind)
                .increment(u64::from(tokens));
        }
    }
    if let Some(cost) = usage.cost_usd {
        metrics::gauge!(COST, "capability" => capability.to_owned()).increment(cost);
    }
}

/// Counts a step decided locally because the remote model failed.
pub(crate) fn fallback(capability: &'static str, error: &RemoteError) {
    metrics::counter!(FALLBACKS, "capability" => capability, "reason" => error.kind().label())
        .increment(1);
}

/// Sets the breaker-state gauge of `model`.
pub(crate) fn breaker(model: &str, state: BreakerState) {
    let value = match state {
        BreakerState::Closed => 0.0,
        BreakerState::HalfOpen => 1.0,
        BreakerState::Open => 2.0,
    };
    metrics::gauge!(BREAKER, "model" => model.to_owned()).set(value);
}
