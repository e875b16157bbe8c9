//! The five agents that own workflow steps, each a [`Worker`] over the
//! local models: critic, intent classifier, knowledge retrieval, response
//! generator and escalation. (Analytics is the projector.)
//!
//! An agent only turns a step and the folded conversation into event
//! payloads; the runtime does the loading, deciding, appending and acking.
//!
//! [`AgentsConfig`] chooses the models: a trained intent model instead of
//! the shipped one, and which agents go to the remote model path (DESIGN §6)
//! with their local model as the fallback: intent (classification), critic
//! (screening and draft validation) and response (drafting). The default is
//! all local, and nothing touches the network unless configured.

mod critic;
mod dry_run;

use std::sync::Arc;

use chrono::Utc;
use switchboard_engine::conversation::{Conversation, Turn};
use switchboard_engine::event::{EventData, Responded};
use switchboard_engine::ids::Tenant;
use switchboard_engine::store::EventStore;
use switchboard_engine::workflow::{Agent, Step};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use critic::Critic;
pub use dry_run::{DryRun, TurnOutcome};

use crate::knowledge::KnowledgeBase;
use crate::models::intent::in_context;
use crate::models::{IntentModel, LocalClassifier, redact};
use crate::remote::{
    Classify, Draft, DraftRequest, Fallback, RemoteClassifier, RemoteConfig, RemoteError,
    RemoteModel, RemoteResponder, RemoteScreener, RemoteValidator,
};
use crate::response::{LocalResponder, handoff_text_in};
use crate::runtime::{self, RunError, StepError, Worker, WorkerOptions};
use crate::tenant::KnowledgeSource;

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

/// Whether a remote model may read this conversation's customer text only
/// redacted: `redacts` asked of the conversation's tenant, and yes when the
/// conversation has no key yet (the safe side).
pub(crate) fn remote_redacts(state: &Conversation, redacts: impl Fn(&Tenant) -> bool) -> bool {
    state.key.as_ref().is_none_or(|k| redacts(&k.tenant))
}

/// The customer text a remote model is sent: [`screened_text`] when the
/// tenant's text is redacted, the text as written otherwise.
pub(crate) fn remote_text(turn: &Turn, redacted: bool) -> String {
    if redacted {
        screened_text(turn)
    } else {
        turn.received.text.clone()
    }
}

/// Classifies intent, sentiment, entities and signals.
pub struct Intent {
    classifier: IntentBackend,
}

enum IntentBackend {
    Local(LocalClassifier),
    Remote(Fallback<RemoteClassifier, LocalClassifier>),
}

impl Intent {
    /// The agent over a local classifier.
    pub fn new(classifier: LocalClassifier) -> Self {
        Self {
            classifier: IntentBackend::Local(classifier),
        }
    }

    /// The agent over a remote classifier, answering with `local` whenever
    /// the remote model fails.
    pub fn remote(remote: RemoteClassifier, local: LocalClassifier) -> Self {
        Self {
            classifier: IntentBackend::Remote(Fallback::new(remote, local)),
        }
    }
}

impl Worker for Intent {
    fn agents(&self) -> &[Agent] {
        &[Agent::Intent]
    }

    async fn act(&self, step: Step, state: &Conversation) -> Result<Vec<EventData>, StepError> {
        let Step::Classify = step else {
            return Err(not_mine(Agent::Intent, step));
        };
        let turn = turn(state)?;
        let classified = match &self.classifier {
            // The local model runs in-process: it may read the unredacted text
            // (order numbers and e-mail addresses are entities it must find).
            IntentBackend::Local(local) => local.classify(&turn.received.text),
            // Customer PII the critic redacted never leaves the process
            // (unless the tenant is configured unredacted); the fallback
            // classifies the same text.
            IntentBackend::Remote(fallback) => {
                let redacted = remote_redacts(state, |t| fallback.remote().redacts(t));
                fallback.classify(&remote_text(turn, redacted)).await
            }
        };
        let classified = in_context(
            classified,
            &turn.received.text,
            &state.past_intents,
            &state.past_messages,
        );
        Ok(vec![EventData::Classified(classified)])
    }
}

/// Retrieves passages and records for the classified message, from the
/// knowledge base of the conversation's tenant.
pub struct Knowledge {
    source: KnowledgeSource,
}

impl Knowledge {
    /// The agent over one knowledge base for every tenant (tests, benches).
    pub fn new(kb: KnowledgeBase) -> Self {
        Self::with_source(KnowledgeSource::Shared(Arc::new(kb)))
    }

    /// The agent over `source` (the tenant-data bucket in the running system).
    pub fn with_source(source: KnowledgeSource) -> Self {
        Self { source }
    }
}

impl Worker for Knowledge {
    fn agents(&self) -> &[Agent] {
        &[Agent::Knowledge]
    }

    async fn act(&self, step: Step, state: &Conversation) -> Result<Vec<EventData>, StepError> {
        let Step::Retrieve = step else {
            return Err(not_mine(Agent::Knowledge, step));
        };
        let turn = turn(state)?;
        let classified = turn
            .classified
            .as_ref()
            .ok_or_else(|| StepError::permanent("state", "retrieval before classification"))?;
        let text = screened_text(turn);
        let tenant = &turn.received_envelope.conversation.tenant;
        let retrieved = match self.source.get(tenant) {
            Some(kb) => kb.retrieve_in(
                &text,
                &turn.received.language,
                classified,
                &turn.received.customer.id,
                Utc::now(),
            ),
            None => {
                tracing::warn!(tenant = %tenant, "tenant has no knowledge base: nothing retrieved");
                crate::knowledge::nothing_found(&text)
            }
        };
        Ok(vec![EventData::Retrieved(retrieved)])
    }
}

/// Drafts grounded answers.
pub struct Response {
    responder: ResponseBackend,
}

enum ResponseBackend {
    Local(LocalResponder),
    Remote(Fallback<RemoteResponder, LocalResponder>),
}

impl Response {
    /// The agent over a local responder.
    pub fn new(responder: LocalResponder) -> Self {
        Self {
            responder: ResponseBackend::Local(responder),
        }
    }

    /// The agent over a remote responder, drafting with `local` whenever the
    /// remote model fails or its draft is not grounded in what was retrieved.
    pub fn remote(remote: RemoteResponder, local: LocalResponder) -> Self {
        Self {
            responder: ResponseBackend::Remote(Fallback::new(remote, local)),
        }
    }
}

impl Worker for Response {
    fn agents(&self) -> &[Agent] {
        &[Agent::Response]
    }

    async fn act(&self, step: Step, state: &Conversation) -> Result<Vec<EventData>, StepError> {
        let Step::Draft { attempt } = step else {
            return Err(not_mine(Agent::Response, step));
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
        // Customer PII the critic redacted never leaves the process (unless
        // the tenant is configured unredacted for a remote responder).
        let redacted = match &self.responder {
            ResponseBackend::Local(_) => true,
            ResponseBackend::Remote(fallback) => {
                remote_redacts(state, |t| fallback.remote().redacts(t))
            }
        };
        let customer_text = remote_text(turn, redacted);
        let request = DraftRequest {
            customer_text: &customer_text,
            customer_id: &turn.received.customer.id,
            language: &turn.received.language,
            classified,
            retrieved,
            attempt,
            feedback: previous,
        };
        let drafted = match &self.responder {
            ResponseBackend::Local(local) => Draft::draft(local, &request).await,
            ResponseBackend::Remote(fallback) => fallback.draft(&request).await,
        };
        Ok(vec![EventData::Drafted(drafted)])
    }
}

/// Hands conversations to humans: the escalation and the notice to the customer.
pub struct Escalation;

impl Worker for Escalation {
    fn agents(&self) -> &[Agent] {
        &[Agent::Escalation]
    }

    async fn act(&self, step: Step, state: &Conversation) -> Result<Vec<EventData>, StepError> {
        let Step::Escalate { reason } = step else {
            return Err(not_mine(Agent::Escalation, step));
        };
        let escalated = crate::escalation::decide(state, reason);
        let language = state
            .turn
            .as_ref()
            .map_or("en", |t| t.received.language.as_str());
        let notice = handoff_text_in(&escalated, language);
        Ok(vec![
            EventData::Escalated(escalated),
            EventData::Responded(Responded { text: notice }),
        ])
    }
}

/// Why the agents could not be built. Operator errors: report and stop.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The built-in knowledge base does not load.
    #[error("cannot load the knowledge base: {0}")]
    Knowledge(#[from] crate::knowledge::KbError),
    /// Remote agents were named but no remote model is configured.
    #[error("agents {agents} are configured remote but no remote model is configured")]
    NoRemoteConfig {
        /// The agents named remote, comma-separated.
        agents: String,
    },
    /// The agent has no remote path (only intent, critic and response have
    /// one).
    #[error("agent {0} has no remote model path (remote agents: intent, critic, response)")]
    NoRemotePath(&'static str),
    /// The remote configuration is invalid (bad URL, TLS setup).
    #[error("invalid remote model configuration: {0}")]
    Remote(#[from] RemoteError),
}

/// Which models the agents use. The default is the shipped local models for
/// every agent.
#[derive(Debug, Clone, Default)]
pub struct AgentsConfig {
    /// The intent model; `None` (the default) uses [`IntentModel::builtin`].
    pub intent_model: Option<Arc<IntentModel>>,
    /// The remote model (Azure OpenAI or OpenAI-compatible). Default: `None`.
    pub remote: Option<RemoteConfig>,
    /// Agents that ask the remote model first and fall back to their local
    /// one: [`Agent::Intent`] (classification), [`Agent::Critic`] (input
    /// screening and draft validation) and [`Agent::Response`] (drafting).
    /// Default: none.
    pub remote_agents: Vec<Agent>,
}

impl AgentsConfig {
    /// The remote model for the agents configured remote, checking that
    /// each has a remote path; `None` when every agent is local.
    fn remote_model(&self) -> Result<Option<RemoteModel>, BuildError> {
        if self.remote_agents.is_empty() {
            return Ok(None);
        }
        if let Some(agent) = self
            .remote_agents
            .iter()
            .find(|a| !matches!(a, Agent::Intent | Agent::Critic | Agent::Response))
        {
            return Err(BuildError::NoRemotePath(agent.as_str()));
        }
        let Some(config) = &self.remote else {
            let names: Vec<&str> = self.remote_agents.iter().map(|a| a.as_str()).collect();
            return Err(BuildError::NoRemoteConfig {
                agents: names.join(","),
            });
        };
        Ok(Some(RemoteModel::new(config.clone())?))
    }
}

/// The five agents over the built-in local models.
pub struct Agents {
    critic: Arc<Critic>,
    intent: Arc<Intent>,
    knowledge: Arc<Knowledge>,
    response: Arc<Response>,
    escalation: Arc<Escalation>,
}

impl Agents {
    /// Builds every agent with the demo tenant's local models; the
    /// knowledge agent answers every tenant from the built-in BrewVi
    /// knowledge base (single-tenant mode for tests and benches; the
    /// running system uses [`with_knowledge`](Self::with_knowledge)).
    pub fn builtin() -> Result<Self, BuildError> {
        Self::new(AgentsConfig::default())
    }

    /// Builds every agent with the shipped models but `model` for intent.
    pub fn with_intent_model(model: impl Into<Arc<IntentModel>>) -> Result<Self, BuildError> {
        Self::new(AgentsConfig {
            intent_model: Some(model.into()),
            ..AgentsConfig::default()
        })
    }

    /// Builds every agent as `config` says. Does no I/O: a remote model is
    /// only called when a message arrives.
    pub fn new(config: AgentsConfig) -> Result<Self, BuildError> {
        let remote = config.remote_model()?;
        let remote_for = |agent: Agent| {
            remote
                .clone()
                .filter(|_| config.remote_agents.contains(&agent))
        };
        let model = config.intent_model.unwrap_or_else(IntentModel::builtin);
        let local = LocalClassifier::new(model, crate::models::intent::BREWVI_PRODUCTS);
        let intent = match remote_for(Agent::Intent) {
            Some(m) => Intent::remote(RemoteClassifier::new(m), local),
            None => Intent::new(local),
        };
        let critic = match remote_for(Agent::Critic) {
            Some(m) => Critic::builtin()
                .with_remote_screening(RemoteScreener::new(m.clone()))
                .with_remote_validation(RemoteValidator::new(m)),
            None => Critic::builtin(),
        };
        let response = match remote_for(Agent::Response) {
            Some(m) => Response::remote(RemoteResponder::new(m), LocalResponder::new()),
            None => Response::new(LocalResponder::new()),
        };
        Ok(Self {
            critic: Arc::new(critic),
            intent: Arc::new(intent),
            knowledge: Arc::new(Knowledge::new(KnowledgeBase::builtin()?)),
            response: Arc::new(response),
            escalation: Arc::new(Escalation),
        })
    }

    /// The same agents, with the knowledge agent answering from `source`
    /// (what `switchboard worker` and `up` do with the tenant-data bucket).
    pub fn with_knowledge(mut self, source: KnowledgeSource) -> Self {
        self.knowledge = Arc::new(Knowledge::with_source(source));
        self
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

    /// All five agents behind one consumer (what `switchboard up` runs):
    /// each message is carried through every step in one go.
    pub fn team(&self) -> Team {
        Team {
            critic: self.critic.clone(),
            intent: self.intent.clone(),
            knowledge: self.knowledge.clone(),
            response: self.response.clone(),
            escalation: self.escalation.clone(),
        }
    }

    /// Runs [`team`](Self::team) until `shutdown`.
    pub fn spawn_team(
        &self,
        store: &EventStore,
        options: &WorkerOptions,
        shutdown: &watch::Receiver<bool>,
    ) -> JoinHandle<Result<(), RunError>> {
        tokio::spawn(runtime::run(
            store.clone(),
            Arc::new(self.team()),
            options.clone(),
            shutdown.clone(),
        ))
    }
}

/// Every agent in one worker: a step goes to the agent that owns it.
pub struct Team {
    critic: Arc<Critic>,
    intent: Arc<Intent>,
    knowledge: Arc<Knowledge>,
    response: Arc<Response>,
    escalation: Arc<Escalation>,
}

impl Worker for Team {
    fn agents(&self) -> &[Agent] {
        &Agent::ALL
    }

    async fn act(&self, step: Step, state: &Conversation) -> Result<Vec<EventData>, StepError> {
        match step.agent() {
            Agent::Critic => self.critic.act(step, state).await,
            Agent::Intent => self.intent.act(step, state).await,
            Agent::Knowledge => self.knowledge.act(step, state).await,
            Agent::Response => self.response.act(step, state).await,
            Agent::Escalation => self.escalation.act(step, state).await,
        }
    }
}
