//! The capabilities the agents hold: classify, screen, draft, validate.
//!
//! A worker holds a capability, not a model: the local models implement
//! each trait here (infallible: they always answer), and the remote path's
//! `Fallback<Remote, Local>` (in [`crate::remote`]) implements the same
//! traits by asking the remote model first. Kept apart from `remote/` so
//! the local path depends on nothing remote.

use std::future::Future;

use switchboard_engine::event::catalog::{Classified, Drafted, Screened};

use crate::models::critic::critic_usage;
use crate::models::{LocalClassifier, LocalCritic};
pub use crate::remote::{DraftRequest, ValidateRequest, Validation};
use crate::response::LocalResponder;

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
    /// Checks a draft against the customer's message and the sources.
    fn validate(&self, request: &ValidateRequest<'_>) -> impl Future<Output = Validation> + Send;
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

impl Draft for LocalResponder {
    async fn draft(&self, r: &DraftRequest<'_>) -> Drafted {
        let asker = crate::response::Asker {
            customer_id: r.customer_id,
            text: r.customer_text,
            language: r.language,
        };
        self.draft_for(&asker, r.classified, r.retrieved, r.attempt, r.feedback)
    }
}

impl Validate for LocalCritic {
    async fn validate(&self, r: &ValidateRequest<'_>) -> Validation {
        let v = self.validation(&r.draft.text, r.received_text);
        Validation {
            verdict: v.verdict,
            findings: v.findings,
            redactions: v.redactions,
            model: critic_usage(),
        }
    }
}
