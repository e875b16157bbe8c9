//! `config check --probe`: one real call to the configured model, so a
//! wrong URL, key, deployment or a server that cannot do structured output
//! shows up before any customer message does.

use std::time::Duration;

use switchboard_engine::event::catalog::{Intent, ModelUsage};

use super::client::RemoteModel;
use super::error::RemoteError;
use super::input::RemoteClassifier;

/// The message the probe classifies (no customer data).
pub const PROBE_MESSAGE: &str = "Where is my order 10234? It has not arrived yet.";

/// What one probe call showed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeReport {
    /// The model that answered, as events record it.
    pub model: String,
    /// The response format the server accepted.
    pub format: &'static str,
    /// Wall time of the call.
    pub latency: Duration,
    /// The intent it chose (small models answer nonsense; the shape is what
    /// is checked), or why its answer was refused: the server works, but
    /// steps would fall back (e.g. it invents entities).
    pub answer: Result<Intent, String>,
    /// Prompt and completion tokens, when reported.
    pub tokens: (Option<u32>, Option<u32>),
    /// What the call cost, when the model has a price.
    pub cost_usd: Option<f64>,
}

/// Classifies [`PROBE_MESSAGE`] once with `model`. An answer that came back
/// but was refused is a report (with the reason); a failure to get one at
/// all is returned as it would surface in a step (its
/// [`RemoteError::reason`] says what to fix).
pub async fn probe(model: &RemoteModel) -> Result<ProbeReport, RemoteError> {
    let (usage, answer) = match RemoteClassifier::new(model.clone())
        .classify(PROBE_MESSAGE)
        .await
    {
        Ok(classified) => {
            let usage = classified
                .model
                .unwrap_or_else(|| ModelUsage::local(model.model_name()));
            (usage, Ok(classified.intent))
        }
        Err(e) => match e.spent() {
            Some(spent) => (ModelUsage::from(spent.clone()), Err(e.reason())),
            None => return Err(e),
        },
    };
    Ok(ProbeReport {
        model: usage.model,
        format: model.response_format(),
        latency: Duration::from_millis(usage.latency_ms.unwrap_or(0)),
        answer,
        tokens: (usage.prompt_tokens, usage.completion_tokens),
        cost_usd: usage.cost_usd,
    })
}
