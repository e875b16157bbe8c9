//! Remote first, local on failure: [`Fallback`] and the capability traits it
//! implements.
//!
//! The traits are what a worker holds: infallible, because the local models
//! always answer. `Fallback<RemoteX, L>` implements the same trait by trying
//! the remote model and, on any [`RemoteError`] (including an open breaker),
//! answering with the local one, marking the event's model as e.g.
//! `local-intent-v1 (fallback: circuit open)` so an audit shows what decided.

use std::future::Future;

use switchboard_engine::event::catalog::{Classified, Drafted, ModelUsage, Screened};

use super::answer::{DraftRequest, RemoteResponder, RemoteValidator, Validation};
use super::error::RemoteError;
use super::input::{RemoteClassifier, RemoteScreener};
use crate::models::{LocalClassifier, LocalCritic};

/// Intent classification.
pub trait Classify {
    /// Classifies one customer message.
    fn classify(&self, text: &str) -> impl Future<Output = Classified> + Send;
}

/// Input screening.
pub trait Screen {
    /// Screens one customer message.
    fn screen(&self, text: &str) -> impl Future<Output = Screened> + Send;
}

/// Drafting an answer.
pub trait Draft {
    /// Writes a draft for the request.
    fn draft(&self, request: &DraftRequest<'_>) -> impl Future<Output = Drafted> + Send;
}

/// Checking a draft.
pub trait Validate {
    /// Checks a draft against the customer's message.
    fn validate(
        &self,
        draft: &Drafted,
        customer_text: &str,
    ) -> impl Future<Output = Validation> + Send;
}

impl Classify for LocalClassifier {
    async fn classify(&self, text: &str) -> Classified {
        LocalClassifier::classify(self, text)
    }
}

impl Screen for LocalCritic {
    async fn screen(&self, text: &str) -> Screened {
        LocalCritic::screen(self, text)
    }
}

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

/// Logs the remote failure (kind at warn, detail at debug: a bad response
/// may quote model output) and returns the note for the `model` field.
fn note_failure(capability: &'static str, error: &RemoteError) -> String {
    let kind = error.kind().label();
    tracing::warn!(
        capability,
        error_kind = kind,
        "remote model failed; using local model"
    );
    tracing::debug!(capability, error = %error, "remote model failure detail");
    format!("(fallback: {kind})")
}

/// `local-intent-v1 (fallback: timeout)`, keeping the local model's usage.
fn mark(model: Option<ModelUsage>, note: &str) -> ModelUsage {
    let mut usage = model.unwrap_or(ModelUsage {
        model: "local".into(),
        prompt_tokens: None,
        completion_tokens: None,
        cost_usd: None,
    });
    usage.model = format!("{} {note}", usage.model);
    usage
}

impl<L: Classify + Sync> Classify for Fallback<RemoteClassifier, L> {
    async fn classify(&self, text: &str) -> Classified {
        match self.remote.classify(text).await {
            Ok(event) => event,
            Err(e) => {
                let note = note_failure("classify", &e);
                let mut event = self.local.classify(text).await;
                event.model = Some(mark(event.model.take(), &note));
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
                event.model = Some(mark(event.model.take(), &note));
                event
            }
        }
    }
}

impl<L: Draft + Sync> Draft for Fallback<RemoteResponder, L> {
    async fn draft(&self, request: &DraftRequest<'_>) -> Drafted {
        match self.remote.draft(request).await {
            Ok(event) => event,
            Err(e) => {
                let note = note_failure("draft", &e);
                let mut event = self.local.draft(request).await;
                event.model = mark(Some(event.model), &note);
                event
            }
        }
    }
}

impl<L: Validate + Sync> Validate for Fallback<RemoteValidator, L> {
    async fn validate(&self, draft: &Drafted, customer_text: &str) -> Validation {
        match self.remote.validate(draft, customer_text).await {
            Ok(validation) => validation,
            Err(e) => {
                let note = note_failure("validate", &e);
                let mut validation = self.local.validate(draft, customer_text).await;
                validation.model = mark(Some(validation.model), &note);
                validation
            }
        }
    }
}
