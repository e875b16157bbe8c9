//! The five agents that own workflow steps, each a [`Worker`] over the
//! local models: critic, intent classifier, knowledge retrieval, response
//! generator and escalation. (Analytics is the projector.)
//!
//! An agent only turns a step and the folded conversation into event
//! payloads; the runtime does the loading, deciding, appending and acking.

mod critic;

use std::sync::Arc;

use chrono::Utc;
use switchboard_engine::conversation::{Conversation, Turn};
use switchboard_engine::event::{EventData, Responded};
use switchboard_engine::store::EventStore;
use switchboard_engine::workflow::{Agent, Step};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use critic::Critic;

use crate::knowledge::KnowledgeBase;
use crate::models::{LocalClassifier, redact};
use crate::response::{LocalResponder, handoff_text};
use crate::runtime::{self, RunError, StepError, Worker, WorkerOptions};

/// The current turn, which every step needs.
pub(crate) fn turn(state: &Conversation) -> Result<&Turn, StepError> {
    state
        .turn
        .as_ref()
        .ok_or_else(|| StepError::permanent("state", "the conversation has no customer message"))
}

fn not_mine(agent: Agent, step: Step) -> StepError {
    StepError::permanent("step", format!("{} cannot do {:?}", agent.as_str(), step))
}

/// The customer text with the critic's redactions applied: what later
/// steps store and send onwards.
pub(crate) fn screened_text(turn: &Turn) -> String {
    match &turn.screened {
        Some(s) if !s.redactions.is_empty() => redact(&turn.received.text, &s.redactions),
        _ => turn.received.text.clone(),
    }
}

/// Classifies intent, sentiment, entities and signals.
pub struct Intent {
    classifier: LocalClassifier,
}

impl Intent {
    /// The agent over a classifier.
    pub fn new(classifier: LocalClassifier) -> Self {
        Self { classifier }
    }
}

impl Worker for Intent {
    fn agent(&self) -> Agent {
        Agent::Intent
    }

    async fn act(&self, step: Step, state: &Conversation) -> Result<Vec<EventData>, StepError> {
        let Step::Classify = step else {
            return Err(not_mine(self.agent(), step));
        };
        // The local model runs in-process: it may read the unredacted text
        // (order numbers and e-mail addresses are entities it must find).
        let turn = turn(state)?;
        Ok(vec![EventData::Classified(
            self.classifier.classify(&turn.received.text),
        )])
    }
}

/// Retrieves passages and records for the classified message.
pub struct Knowledge {
    kb: KnowledgeBase,
}

impl Knowledge {
    /// The agent over a knowledge base.
    pub fn new(kb: KnowledgeBase) -> Self {
        Self { kb }
    }
}

impl Worker for Knowledge {
    fn agent(&self) -> Agent {
        Agent::Knowledge
    }

    async fn act(&self, step: Step, state: &Conversation) -> Result<Vec<EventData>, StepError> {
        let Step::Retrieve = step else {
            return Err(not_mine(self.agent(), step));
        };
        let turn = turn(state)?;
        let classified = turn
            .classified
            .as_ref()
            .ok_or_else(|| StepError::permanent("state", "retrieval before classification"))?;
        let text = screened_text(turn);
        let retrieved = self
            .kb
            .retrieve(&text, classified, &turn.received.customer.id, Utc::now());
        Ok(vec![EventData::Retrieved(retrieved)])
    }
}

/// Drafts grounded answers.
pub struct Response {
    responder: LocalResponder,
}

impl Response {
    /// The agent over a responder.
    pub fn new(responder: LocalResponder) -> Self {
        Self { responder }
    }
}

impl Worker for Response {
    fn agent(&self) -> Agent {
        Agent::Response
    }

    async fn act(&self, step: Step, state: &Conversation) -> Result<Vec<EventData>, StepError> {
        let Step::Draft { attempt } = step else {
            return Err(not_mine(self.agent(), step));
        };
        let turn = turn(state)?;
        let (Some(classified), Some(retrieved)) = (&turn.classified, &turn.retrieved) else {
            return Err(StepError::permanent("state", "drafting before retrieval"));
        };
        let previous = turn
            .validation
            .as_ref()
            .map(|v| v.findings.as_slice())
            .unwrap_or(&[]);
        let drafted =
            self.responder
                .draft(&turn.received, classified, retrieved, attempt, previous);
        Ok(vec![EventData::Drafted(drafted)])
    }
}

/// Hands conversations to humans: the escalation and the notice to the customer.
pub struct Escalation;

impl Worker for Escalation {
    fn agent(&self) -> Agent {
        Agent::Escalation
    }

    async fn act(&self, step: Step, state: &Conversation) -> Result<Vec<EventData>, StepError> {
        let Step::Escalate { reason } = step else {
            return Err(not_mine(self.agent(), step));
        };
        let escalated = crate::escalation::decide(state, reason);
        let notice = handoff_text(&escalated);
        Ok(vec![
            EventData::Escalated(escalated),
            EventData::Responded(Responded { text: notice }),
        ])
    }
}

/// Why the agents could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot load the knowledge base: {0}")]
pub struct BuildError(#[from] crate::knowledge::KbError);

/// The five agents over the built-in local models.
pub struct Agents {
    critic: Arc<Critic>,
    intent: Arc<Intent>,
    knowledge: Arc<Knowledge>,
    response: Arc<Response>,
    escalation: Arc<Escalation>,
}

impl Agents {
    /// Builds every agent with the demo tenant's local models.
    pub fn builtin() -> Result<Self, BuildError> {
        Ok(Self {
            critic: Arc::new(Critic::builtin()),
            intent: Arc::new(Intent::new(LocalClassifier::builtin())),
            knowledge: Arc::new(Knowledge::new(KnowledgeBase::builtin()?)),
            response: Arc::new(Response::new(LocalResponder::new())),
            escalation: Arc::new(Escalation),
        })
    }

    /// Runs one agent's worker loop until `shutdown`.
    pub fn spawn(
        &self,
        agent: Agent,
        store: EventStore,
        options: WorkerOptions,
        shutdown: watch::Receiver<bool>,
    ) -> JoinHandle<Result<(), RunError>> {
        match agent {
            Agent::Critic => {
                tokio::spawn(runtime::run(store, self.critic.clone(), options, shutdown))
            }
            Agent::Intent => {
                tokio::spawn(runtime::run(store, self.intent.clone(), options, shutdown))
            }
            Agent::Knowledge => tokio::spawn(runtime::run(
                store,
                self.knowledge.clone(),
                options,
                shutdown,
            )),
            Agent::Response => tokio::spawn(runtime::run(
                store,
                self.response.clone(),
                options,
                shutdown,
            )),
            Agent::Escalation => tokio::spawn(runtime::run(
                store,
                self.escalation.clone(),
                options,
                shutdown,
            )),
        }
    }

    /// Runs all five agents until `shutdown`.
    pub fn spawn_all(
        &self,
        store: &EventStore,
        options: &WorkerOptions,
        shutdown: &watch::Receiver<bool>,
    ) -> Vec<JoinHandle<Result<(), RunError>>> {
        Agent::ALL
            .into_iter()
            .map(|agent| self.spawn(agent, store.clone(), options.clone(), shutdown.clone()))
            .collect()
    }
}
