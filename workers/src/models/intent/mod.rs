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

mod data;
mod entities;
mod features;
mod model;
mod normalize;
mod persist;
mod sentiment;
mod signals;

pub use data::{
    BREWVI_INTENTS_CSV, TrainingDataError, parse_label, parse_training_csv, read_training_csv,
};
pub use entities::{BREWVI_PRODUCTS, Product, extract_entities};
pub use model::{IntentModel, Prediction, train};
pub use persist::{FORMAT, FORMAT_VERSION, ModelError};
pub use sentiment::sentiment;
pub use signals::signals;

use switchboard_engine::event::{Classified, ModelUsage};

/// The model name recorded on `classified` events.
pub const INTENT_MODEL: &str = "local-intent-v1";

/// Intent, sentiment, entities and signals from local models.
#[derive(Debug, Clone)]
pub struct LocalClassifier {
    model: IntentModel,
    catalog: &'static [Product],
}

impl LocalClassifier {
    /// A classifier with the given model and product catalog.
    pub fn new(model: IntentModel, catalog: &'static [Product]) -> Self {
        Self { model, catalog }
    }

    /// The shipped default: the BrewVi model and catalog.
    pub fn builtin() -> Self {
        Self::new(IntentModel::builtin(), BREWVI_PRODUCTS)
    }

    /// Classify a (screened, redacted) customer message.
    pub fn classify(&self, text: &str) -> Classified {
        let (intent, confidence) = self.model.predict(text);
        let (sentiment, abusive) = sentiment(text);
        Classified {
            intent,
            confidence,
            sentiment,
            entities: extract_entities(text, self.catalog),
            signals: signals(text, abusive),
            model: Some(ModelUsage {
                model: INTENT_MODEL.to_owned(),
                prompt_tokens: None,
                completion_tokens: None,
                cost_usd: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use switchboard_engine::event::{Intent, Sentiment, Signal};

    use super::*;

    #[test]
    fn builtin_model_trains_fast() {
        let start = Instant::now();
        let _ = IntentModel::builtin();
        let elapsed = start.elapsed();
        eprintln!("builtin model trained in {elapsed:?}");
        // The budget is 200 ms in a debug build; allow slack for a loaded CI box.
        assert!(elapsed.as_millis() < 1000, "{elapsed:?}");
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
