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
}

/// Logs the remote failure (kind and any spent tokens at warn, detail at
/// debug: it may quote model output) and returns the note for the `model`
/// field.
fn note_failure(capability: &'static str, error: &RemoteError) -> String {
    let kind = error.kind().label();
    let spent = error.spent();
    tracing::warn!(
        capability,
        error_kind = kind,
        spent_prompt_tokens = spent.and_then(|u| u.prompt_tokens),
        spent_completion_tokens = spent.and_then(|u| u.completion_tokens),
        spent_cost_usd = spent.and_then(|u| u.cost_usd),
        "remote model failed; using local model"
    );
    tracing::debug!(capability, error = %error, "remote model failure detail");
    format!("(fallback: {kind})")
}

/// `local-intent-v1 (fallback: timeout)`, with the remote model's charge
/// when a refused answer was paid for, else the local model's usage.
fn mark(model: Option<ModelUsage>, note: &str, spent: Option<&Usage>) -> ModelUsage {
    let mut usage = model.unwrap_or(ModelUsage {
        model: "local".into(),
        prompt_tokens: None,
        completion_tokens: None,
        cost_usd: None,
    });
    usage.model = format!("{} {note}", usage.model);
    if let Some(spent) = spent {
        usage.prompt_tokens = spent.prompt_tokens;
        usage.completion_tokens = spent.completion_tokens;
        usage.cost_usd = spent.cost_usd;
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

impl<L: Screen + Sync> Screen for Fallback<RemoteScreener, L> {
    async fn screen(&self, text: &str) -> Screened {
        match self.remote.screen(text).await {
            Ok(event) => event,
            Err(e) => {
                let note = note_failure("screen", &e);
                let mut event = self.local.screen(text).await;
                event.model = Some(mark(event.model.take(), &note, e.spent()));
                event
            }
        }
    }
}

impl<L: Draft + Sync> Draft for Fallback<RemoteResponder, L> {
    async fn draft(&self, request: &DraftRequest<'_>) -> Drafted {
        if request.allowed_sources().is_empty() {
            // A remote draft must cite a retrieved source; with none, its
            // answer would be refused, so it is not asked (nor paid).
            tracing::debug!(capability = "draft", "nothing retrieved; drafting locally");
            let mut event = self.local.draft(request).await;
            event.model = mark(Some(event.model), "(fallback: no sources)", None);
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
