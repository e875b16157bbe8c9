//! Running the agents over a conversation held in memory, without a store:
//! the same `next_step` decisions and the same agent code as in production,
//! but the events are kept in a `Vec` instead of being appended.
//!
//! It backs the evaluation of multi-turn behaviour (escalation over a whole
//! conversation) and is the core of counterfactual replay: what would the
//! current agents decide for these customer messages?

use chrono::Utc;
use switchboard_engine::conversation::Conversation;
use switchboard_engine::event::{
    Actor, Customer, CustomerTier, Escalated, Event, EventData, Received, StoredEvent,
};
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::workflow::next_step;

use super::Team;
use crate::runtime::{StepError, Worker};

/// Most steps one customer message may take (screen, classify, retrieve,
/// three drafts and validations, respond): a loop guard, never reached by
/// a correct workflow.
const MAX_STEPS: usize = 16;

/// How one customer message ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnOutcome {
    /// The hand-off, when the turn was escalated.
    pub escalated: Option<Escalated>,
    /// The text delivered to the customer, if any.
    pub responded: Option<String>,
}

/// A conversation driven in memory.
pub struct DryRun<'a> {
    team: &'a Team,
    key: ConversationKey,
    customer: Customer,
    events: Vec<StoredEvent>,
}

impl<'a> DryRun<'a> {
    /// An empty conversation `key` of a regular customer.
    pub fn new(team: &'a Team, key: ConversationKey) -> Self {
        Self {
            team,
            key,
            customer: Customer {
                id: "dry-run".to_owned(),
                tier: CustomerTier::Standard,
            },
            events: Vec::new(),
        }
    }

    /// The folded conversation so far.
    pub fn state(&self) -> Conversation {
        Conversation::fold(&self.events)
    }

    /// Receive `text` and run the agents until nothing is left to do.
    pub async fn message(&mut self, text: &str) -> Result<TurnOutcome, StepError> {
        let received = EventData::Received(Received {
            message_id: format!("m{}", self.events.len()),
            channel: "dry-run".to_owned(),
            customer: self.customer.clone(),
            language: "en".to_owned(),
            text: text.to_owned(),
        });
        let root = Event::new_root(self.key.clone(), Actor::channel("dry-run"), received);
        let mut cause = root.envelope.clone();
        self.push(root);
        for _ in 0..MAX_STEPS {
            let state = self.state();
            let Some(step) = next_step(&state) else {
                return Ok(outcome(&state));
            };
            for data in self.team.act(step, &state).await? {
                let event = Event::caused_by(&cause, Actor::worker("dry-run"), data);
                cause = event.envelope.clone();
                self.push(event);
            }
        }
        Err(StepError::permanent("loop", "the workflow did not settle"))
    }

    fn push(&mut self, event: Event) {
        self.events.push(StoredEvent {
            seq: StreamSeq::new(self.events.len() as u64 + 1),
            stored_at: Utc::now(),
            event,
        });
    }
}

fn outcome(state: &Conversation) -> TurnOutcome {
    let turn = state.turn.as_ref();
    TurnOutcome {
        escalated: turn.and_then(|t| t.escalated.clone()),
        responded: turn.and_then(|t| t.responded.as_ref().map(|r| r.text.clone())),
    }
}
