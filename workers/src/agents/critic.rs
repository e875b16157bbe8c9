//! The critic agent: screens customer messages, checks drafts, and
//! delivers approved answers and refusals in the same atomic append as its
//! decision.

use switchboard_engine::conversation::{Conversation, Turn};
use switchboard_engine::event::{
    EventData, InputFindingKind, Responded, ScreenVerdict, Screened, ValidateVerdict, Validated,
};
use switchboard_engine::workflow::{Agent, Step};

use super::{not_mine, turn};
use crate::models::critic::critic_usage;
use crate::models::{CriticConfig, LocalCritic, redact};
use crate::remote::{Fallback, RemoteScreener, Screen};
use crate::response::refusal_text;
use crate::runtime::{StepError, Worker};

/// The critic (supervisor) agent.
pub struct Critic {
    critic: LocalCritic,
    /// Remote input screening with `critic` as the fallback; validation
    /// always stays local.
    remote_screening: Option<Fallback<RemoteScreener, LocalCritic>>,
}

impl Critic {
    /// The agent over a rule-based critic.
    pub fn new(critic: LocalCritic) -> Self {
        Self {
            critic,
            remote_screening: None,
        }
    }

    /// Screens customer messages with `remote` first, this critic's rules
    /// when it fails.
    pub fn with_remote_screening(mut self, remote: RemoteScreener) -> Self {
        self.remote_screening = Some(Fallback::new(remote, self.critic.clone()));
        self
    }

    /// The demo tenant's critic: its own domain and phone may appear in drafts.
    pub fn builtin() -> Self {
        Self::new(LocalCritic::new(CriticConfig {
            business_domains: vec!["brewvi.com".into()],
            business_phones: vec![],
        }))
    }

    async fn screen(&self, turn: &Turn) -> Vec<EventData> {
        let screened = match &self.remote_screening {
            Some(fallback) => fallback.screen(&turn.received.text).await,
            None => self.critic.screen(&turn.received.text),
        };
        let refuse = refusal_needed(&screened);
        let refusal = refuse.then(|| refusal_text(&screened.findings));
        let mut out = vec![EventData::Screened(screened)];
        out.extend(refusal.map(|text| EventData::Responded(Responded { text })));
        out
    }

    fn validate(&self, turn: &Turn, attempt: u32) -> Result<Vec<EventData>, StepError> {
        let draft = turn
            .draft
            .as_ref()
            .ok_or_else(|| StepError::permanent("state", "validation without a draft"))?;
        let v = self.critic.validation(&draft.text, &turn.received.text);
        let delivered = match v.verdict {
            ValidateVerdict::Approve => Some(draft.text.clone()),
            ValidateVerdict::Redact => Some(redact(&draft.text, &v.redactions)),
            ValidateVerdict::Reject => None,
        };
        let mut out = vec![EventData::Validated(Validated {
            verdict: v.verdict,
            findings: v.findings,
            attempt,
            model: Some(critic_usage()),
        })];
        out.extend(delivered.map(|text| EventData::Responded(Responded { text })));
        Ok(out)
    }

    /// An approved draft stored without its delivery (only a foreign writer
    /// can cause this: the critic appends both atomically).
    fn respond(&self, turn: &Turn) -> Result<Vec<EventData>, StepError> {
        let draft = turn
            .draft
            .as_ref()
            .ok_or_else(|| StepError::permanent("state", "nothing approved to deliver"))?;
        let v = self.critic.validation(&draft.text, &turn.received.text);
        let text = match v.verdict {
            ValidateVerdict::Redact => redact(&draft.text, &v.redactions),
            _ => draft.text.clone(),
        };
        Ok(vec![EventData::Responded(Responded { text })])
    }
}

/// A blocked message gets a refusal, except fraud, which goes to a human.
fn refusal_needed(screened: &Screened) -> bool {
    screened.verdict == ScreenVerdict::Block
        && !screened
            .findings
            .iter()
            .any(|f| f.kind == InputFindingKind::Fraud)
}

impl Worker for Critic {
    fn agent(&self) -> Agent {
        Agent::Critic
    }

    async fn act(&self, step: Step, state: &Conversation) -> Result<Vec<EventData>, StepError> {
        let turn = turn(state)?;
        match step {
            Step::Screen => Ok(self.screen(turn).await),
            Step::Refuse => {
                let findings = turn
                    .screened
                    .as_ref()
                    .map(|s| s.findings.as_slice())
                    .unwrap_or(&[]);
                Ok(vec![EventData::Responded(Responded {
                    text: refusal_text(findings),
                })])
            }
            Step::Validate { attempt } => self.validate(turn, attempt),
            Step::Respond => self.respond(turn),
            other => Err(not_mine(self.agent(), other)),
        }
    }
}
