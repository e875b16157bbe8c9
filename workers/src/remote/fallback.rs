//! Remote first, local on failure: [`Fallback`] implements the capability
//! traits of [`crate::capability`] by trying
//! the remote model and, on any [`RemoteError`] (including an open breaker,
//! invalid output and an ungrounded draft), answering with the local one,
//! marking the event's model as e.g. `local-intent-v1 (fallback: circuit
//! open)` so an audit shows what decided. When the remote model did answer
//! and its answer was refused, the tokens and cost it charged stay on the
//! fallback's event: they were paid for this step.

use switchboard_engine::event::catalog::{Classified, Drafted, ModelUsage, Screened};

use super::answer::{DraftRequest, RemoteResponder, RemoteValidator, ValidateRequest, Validation};
use super::client::Usage;
use super::error::RemoteError;
use super::input::{RemoteClassifier, RemoteScreener};
use super::metric;
use crate::capability::{Classify, Draft, Screen, Validate};

/// A remote implementation backed by a local one.
#[derive(Debug, Clone)]
pub struct Fallback<R, L> {
    remote: R,
    local: L,
}

impl<R, L> Fallback<R, L> {
    /// Tries `remote` first, `local` when it fails.
    pub fn new(remote: R, local: L) -> Self {
        Self { remote, local }
    }

    /// The remote implementation (for its configuration).
    pub fn remote(&self) -> &R {
        &self.remote
    }
}

/// Logs the remote failure (its reason at warn: kind and what to fix,
/// never model or customer text; the full error at debug), counts it, and
/// returns the reason for the event's `fallback` field.
fn note_failure(capability: &'static str, error: &RemoteError) -> String {
    let reason = error.reason();
    let spent = error.spent();
    tracing::warn!(
        capability,
        error_kind = error.kind().label(),
        reason = %reason,
        spent_prompt_tokens = spent.and_then(|u| u.prompt_tokens),
        spent_completion_tokens = spent.and_then(|u| u.completion_tokens),
        spent_cost_usd = spent.and_then(|u| u.cost_usd),
        "remote model failed; using local model"
    );
    tracing::debug!(capability, error = %error, "remote model failure detail");
    metric::fallback(capability, error);
    reason
}

/// The local model's usage marked as a fallback: `local-intent-v1
/// (fallback: timeout)` with the reason in `fallback`, and the remote
/// model's charge (tokens, cost, latency) when a refused answer was paid
/// for.
fn mark(model: Option<ModelUsage>, reason: &str, spent: Option<&Usage>) -> ModelUsage {
    let mut usage = model.unwrap_or_else(|| ModelUsage::local("local"));
    let kind = reason.split(':').next().unwrap_or(reason);
    usage.model = format!("{} (fallback: {kind})", usage.model);
    usage.fallback = Some(reason.to_owned());
    if let Some(spent) = spent {
        usage.prompt_tokens = spent.prompt_tokens;
        usage.completion_tokens = spent.completion_tokens;
        usage.cost_usd = spent.cost_usd;
        usage.latency_ms = spent.latency_ms;
    }
    usage
}

impl<L: Classify + Sync> Classify for Fallback<RemoteClassifier, L> {
    async fn classify(&self, text: &str) -> Classified {
        match self.remote.classify(text).await {
            Ok(event) => event,
            Err(e) => {
                let note = note_failure("classify", &e);
                let mut event = self.local.classify(text).await;
                event.model = Some(mark(event.model.take(), &note, e.spent()));
                event
            }
        }
    }
}

impl<L: Screen + Sync> Fallback<RemoteScreener, L> {
    /// Screens `original` by sending `sent` (the same text with personal
    /// data replaced) to the remote model; the local model, on failure,
    /// reads `original`.
    pub async fn screen_sent(&self, sent: &str, original: &str) -> Screened {
        match self.remote.screen_sent(sent, original).await {
            Ok(event) => event,
            Err(e) => {
                let note = note_failure("screen", &e);
                let mut event = self.local.screen(original).await;
                event.model = Some(mark(event.model.take(), &note, e.spent()));
                event
            }
        }
    }
}

impl<L: Screen + Sync> Screen for Fallback<RemoteScreener, L> {
    async fn screen(&self, text: &str) -> Screened {
        self.screen_sent(text, text).await
    }
}

impl<L: Draft + Sync> Draft for Fallback<RemoteResponder, L> {
    async fn draft(&self, request: &DraftRequest<'_>) -> Drafted {
        if request.allowed_sources().is_empty() {
            // A remote draft must cite a retrieved source; with none, its
            // answer would be refused, so it is not asked (nor paid).
            tracing::debug!(capability = "draft", "nothing retrieved; drafting locally");
            let mut event = self.local.draft(request).await;
            event.model = mark(Some(event.model), "no sources", None);
            return event;
        }
        match self.remote.draft(request).await {
            Ok(event) => event,
            Err(e) => {
                let note = note_failure("draft", &e);
                let mut event = self.local.draft(request).await;
                event.model = mark(Some(event.model), &note, e.spent());
                event
            }
        }
    }
}

impl<L: Validate + Sync> Validate for Fallback<RemoteValidator, L> {
    async fn validate(&self, request: &ValidateRequest<'_>) -> Validation {
        match self.remote.validate(request).await {
            Ok(validation) => validation,
            Err(e) => {
                let note = note_failure("validate", &e);
                let mut validation = self.local.validate(request).await;
                validation.model = mark(Some(validation.model), &note, e.spent());
                validation
            }
        }
    }
}
