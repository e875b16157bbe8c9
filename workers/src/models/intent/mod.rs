//! The local intent classifier: a trainable text classifier for the 17
//! intents, plus sentiment, entities and escalation signals, producing the
//! `classified` event's payload.
//!
//! # Layout
//! - `features`: hashed word and character n-gram features.
//! - `model`: [`IntentModel`], [`train`] and calibrated prediction.
//! - `persist`: versioned JSON save/load with [`ModelError`].
//! - `data`: `text,label` CSV reading and the shipped BrewVi model.
//! - `sentiment`, `entities`, `signals`: the rest of `classified`.
//! - `context`, `mood`: what a message means given the earlier turns.

mod context;
mod data;
mod entities;
mod features;
mod model;
mod mood;
mod normalize;
mod persist;
mod sentiment;
mod signals;

pub use context::in_context;
pub use data::{
    BREWVI_INTENTS_CSV, TrainingDataError, parse_label, parse_training_csv, read_training_csv,
};
pub use entities::{BREWVI_PRODUCTS, Product, extract_entities};
pub use model::{IntentModel, Prediction, train};
pub use persist::{FORMAT, FORMAT_VERSION, ModelError};
pub use sentiment::sentiment;
use signals::asks_what_if;
pub use signals::signals;

use std::sync::Arc;

use switchboard_engine::event::{Classified, Intent, ModelUsage, Sentiment, Signal};

/// The model name recorded on `classified` events.
pub const INTENT_MODEL: &str = "local-intent-v1";

/// Intent, sentiment, entities and signals from local models.
#[derive(Debug, Clone)]
pub struct LocalClassifier {
    model: Arc<IntentModel>,
    catalog: &'static [Product],
}

impl LocalClassifier {
    /// A classifier with the given model and product catalog.
    pub fn new(model: impl Into<Arc<IntentModel>>, catalog: &'static [Product]) -> Self {
        Self {
            model: model.into(),
            catalog,
        }
    }

    /// The shipped default: the BrewVi model and catalog.
    pub fn builtin() -> Self {
        Self::new(IntentModel::builtin(), BREWVI_PRODUCTS)
    }

    /// Classify a (screened, redacted) customer message.
    pub fn classify(&self, text: &str) -> Classified {
        let prediction = self.model.predict_full(text);
        let (sentiment, abusive) = sentiment(text);
        let signals = signals(text, abusive);
        // "What's the worst that happens if I forget to descale?": a
        // question about a bad outcome is not an angry customer.
        let sentiment = if sentiment == Sentiment::VeryNegative && !abusive && asks_what_if(text) {
            Sentiment::Negative
        } else {
            sentiment
        };
        let (intent, confidence) = guard_explicit(&prediction, &signals);
        Classified {
            intent,
            confidence,
            sentiment,
            entities: extract_entities(text, self.catalog),
            signals,
            model: Some(ModelUsage::local(INTENT_MODEL)),
        }
    }
}

/// Below this confidence, ESCALATION_REQUEST needs the customer's explicit
/// words for a person (the `HumanRequested` signal): a hesitant guess must
/// not hand a plain question to a human as if a human had been asked for.
const EXPLICIT_FLOOR: f32 = 0.7;

/// The predicted intent, or the runner-up when the winner is a hesitant
/// ESCALATION_REQUEST without an explicit request.
fn guard_explicit(p: &Prediction, signals: &[Signal]) -> (Intent, f32) {
    let explicit = signals.contains(&Signal::HumanRequested);
    if p.intent != Intent::EscalationRequest || explicit || p.confidence >= EXPLICIT_FLOOR {
        return (p.intent, p.confidence);
    }
    let scale = if p.probabilities.iter().any(|&q| q > 0.0) {
        p.confidence / p.probabilities.iter().copied().fold(0.0, f32::max)
    } else {
        0.0
    };
    let runner_up = Intent::ALL
        .iter()
        .zip(p.probabilities)
        .filter(|(i, _)| **i != Intent::EscalationRequest)
        .max_by(|a, b| a.1.total_cmp(&b.1));
    match runner_up {
        Some((&intent, q)) => (intent, (q * scale).clamp(0.0, 1.0)),
        None => (p.intent, p.confidence),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use switchboard_engine::event::Sentiment;

    use super::*;

    #[test]
    fn builtin_model_trains_fast() {
        let start = Instant::now();
        let _ = IntentModel::builtin();
        let elapsed = start.elapsed();
        eprintln!("builtin model trained in {elapsed:?}");
        // Trained once per process on ~5,000 rows (and their misspelled and
        // framed copies); a sanity bound with slack for a loaded CI box.
        assert!(elapsed.as_millis() < 5000, "{elapsed:?}");
    }

    #[test]
    fn builtin_classifies_brewvi_messages() {
        let c = LocalClassifier::builtin();
        let cases = [
            (
                "Hi, where's my order #10234? It's been a week",
                Intent::OrderStatus,
            ),
            (
                "I'd like to return the travel mug, it's too small",
                Intent::ReturnRequest,
            ),
            (
                "Please skip my next auto-delivery of Klatch pods",
                Intent::SubscriptionManagement,
            ),
            (
                "How many BrewVi Rewards points do I have?",
                Intent::LoyaltyProgram,
            ),
            (
                "My brewer shows a blinking light and won't brew",
                Intent::TechnicalSupport,
            ),
            (
                "I got charged twice for the same order",
                Intent::BillingIssue,
            ),
            ("Let me talk to a real person", Intent::EscalationRequest),
            (
                "Cancel order ORD-10600, I don't need it anymore",
                Intent::Cancellation,
            ),
        ];
        for (text, expected) in cases {
            let got = c.classify(text);
            assert_eq!(got.intent, expected, "{text}");
            assert!(got.confidence > 0.45, "{text}: {}", got.confidence);
        }
    }

    #[test]
    fn a_hesitant_escalation_guess_without_an_explicit_request_is_not_one() {
        let mut probabilities = [0.0; 17];
        let esc = Intent::ALL
            .iter()
            .position(|i| *i == Intent::EscalationRequest);
        let bill = Intent::ALL.iter().position(|i| *i == Intent::BillingIssue);
        let (Some(esc), Some(bill)) = (esc, bill) else {
            panic!("both intents are in the catalog");
        };
        probabilities[esc] = 0.4;
        probabilities[bill] = 0.35;
        let p = Prediction {
            intent: Intent::EscalationRequest,
            confidence: 0.4,
            probabilities,
            coverage: 1.0,
        };
        let (intent, confidence) = guard_explicit(&p, &[]);
        assert_eq!(intent, Intent::BillingIssue);
        assert!((confidence - 0.35).abs() < 1e-6);
        assert_eq!(
            guard_explicit(&p, &[Signal::HumanRequested]).0,
            Intent::EscalationRequest,
            "an explicit request keeps the label"
        );
    }

    #[test]
    fn gibberish_is_not_confident() {
        let c = LocalClassifier::builtin();
        for text in ["asdkfj qwpeoiru zxmvn", "xyzzy plugh", ""] {
            assert!(c.classify(text).confidence < 0.45, "{text}");
        }
    }

    #[test]
    fn abusive_message_is_very_negative_with_signals() {
        let got = LocalClassifier::builtin()
            .classify("This fucking brewer burned my hand, I want a manager NOW");
        assert_eq!(got.sentiment, Sentiment::VeryNegative);
        assert!(got.signals.contains(&Signal::Abusive));
        assert!(got.signals.contains(&Signal::HealthOrSafety));
        assert_eq!(got.model.map(|m| m.model).as_deref(), Some(INTENT_MODEL));
    }
}
