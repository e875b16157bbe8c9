//! Local, offline, deterministic models for the agents (DESIGN §6, "local").
//!
//! These are the default implementations of the critic and the intent
//! classifier: no network, no randomness, the same answer for the same input
//! on every machine, so a replayed conversation is decided the same way.
//!
//! # Layout
//! - [`critic`]: rule-based input screening (injection, jailbreak, requests
//!   for other people's data, fraud, PII redaction) and draft validation.
//! - [`intent`]: a trainable hashed-feature logistic-regression intent
//!   classifier, plus sentiment, entities and escalation signals.
//! - [`eval`]: measures both against the shared public data sets.

pub mod critic;
pub mod eval;
pub mod intent;

pub use critic::{CriticConfig, LocalCritic, Validation, redact};
pub use eval::{EvalError, EvalOptions, EvalReport, run_eval};
pub use intent::{
    IntentModel, LocalClassifier, ModelError, TrainingDataError, read_training_csv, train,
};
