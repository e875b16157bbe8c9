//! Counterfactual replay: what would the current version of an agent have
//! decided on recorded conversations?
//!
//! For every recorded decision of the chosen agent, the conversation is
//! folded up to just before it (the state the agent saw then), the agent's
//! current code runs the same step on that state, and the two decisions
//! are compared. Nothing is written: the log is only read. Each step is
//! judged on the recorded history, not on what a changed earlier decision
//! would have led to, so a difference is always this agent's own.

use std::collections::BTreeMap;

use serde::Serialize;
use switchboard_engine::conversation::Conversation;
use switchboard_engine::event::{EventData, StoredEvent};
use switchboard_engine::store::Loaded;
use switchboard_engine::workflow::{Agent, next_step};

use crate::agents::Team;
use crate::runtime::Worker;

/// One decision that would differ.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// `tenant/conversation`.
    pub conversation: String,
    /// Stream sequence of the recorded decision.
    pub seq: u64,
    /// The step (`classify`, `screen`, ...).
    pub step: String,
    /// The intent the turn was classified with when it was recorded.
    pub intent: Option<String>,
    /// What was decided then.
    pub recorded: String,
    /// What the current agent decides.
    pub now: String,
}

/// Changed and unchanged decisions of one intent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Decisions that would differ.
    pub changed: u64,
    /// Decisions that would be the same.
    pub unchanged: u64,
}

/// The comparison over every conversation read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Conversations read.
    pub conversations: u64,
    /// Decisions of the agent compared.
    pub decisions: u64,
    /// The decisions that would differ, in log order.
    pub differences: Vec<Difference>,
    /// Per recorded intent (`-` before classification).
    pub by_intent: BTreeMap<String, Tally>,
    /// Steps the current agent could not run (with the reason), not compared.
    pub errors: Vec<String>,
}

/// Which agent records which event type as its decision.
fn decided_by(data: &EventData) -> Option<Agent> {
    Some(match data {
        EventData::Screened(_) | EventData::Validated(_) => Agent::Critic,
        EventData::Classified(_) => Agent::Intent,
        EventData::Retrieved(_) => Agent::Knowledge,
        EventData::Drafted(_) => Agent::Response,
        EventData::Escalated(_) => Agent::Escalation,
        _ => return None,
    })
}

/// The part of a decision that matters for comparison (not timings or
/// scores that move with every retraining).
pub fn decision(data: &EventData) -> String {
    match data {
        EventData::Screened(s) => format!("{:?}", s.verdict),
        EventData::Classified(c) => format!("{:?}", c.intent),
        EventData::Retrieved(r) => r
            .passages
            .first()
            .map_or_else(|| "no passage".to_owned(), |p| p.source_id.clone()),
        EventData::Drafted(d) => d.text.clone(),
        EventData::Validated(v) => format!("{:?}", v.verdict),
        EventData::Escalated(e) => format!("{:?} {:?} to {}", e.reason, e.priority, e.queue),
        other => format!("{:?}", other.event_type()),
    }
}

fn turn_intent(state: &Conversation) -> Option<String> {
    state
        .turn
        .as_ref()
        .and_then(|t| t.classified.as_ref())
        .map(|c| format!("{:?}", c.intent))
}

impl Report {
    /// Compares `agent`'s recorded decisions in `loaded` with what `team` decides now.
    pub async fn add(&mut self, team: &Team, agent: Agent, loaded: &Loaded) {
        self.conversations += 1;
        // The state before each event, folded once as the events go by.
        let mut before = Conversation::default();
        for recorded in &loaded.events {
            if decided_by(&recorded.event.data) == Some(agent) {
                self.compare(team, agent, loaded, recorded, &before).await;
            }
            before.apply(recorded);
        }
    }

    /// Compares one recorded decision with what `team` decides on `before`.
    async fn compare(
        &mut self,
        team: &Team,
        agent: Agent,
        loaded: &Loaded,
        recorded: &StoredEvent,
        before: &Conversation,
    ) {
        let Some(step) = next_step(before).filter(|s| s.agent() == agent) else {
            return;
        };
        let now = match team.act(step, before).await {
            Ok(outputs) => outputs
                .into_iter()
                .find(|d| d.event_type() == recorded.event.event_type()),
            Err(e) => {
                self.errors
                    .push(format!("{} #{}: {e}", loaded.key, recorded.seq));
                return;
            }
        };
        let was = decision(&recorded.event.data);
        let is = now.as_ref().map_or_else(|| "nothing".to_owned(), decision);
        // The intent the turn had when recorded: the classification
        // itself for the intent agent, else the turn's.
        let intent = match &recorded.event.data {
            EventData::Classified(c) => Some(format!("{:?}", c.intent)),
            _ => turn_intent(before),
        };
        self.decisions += 1;
        let tally = self
            .by_intent
            .entry(intent.clone().unwrap_or_else(|| "-".into()))
            .or_default();
        if was == is {
            tally.unchanged += 1;
            return;
        }
        tally.changed += 1;
        self.differences.push(Difference {
            conversation: loaded.key.to_string(),
            seq: recorded.seq.get(),
            step: step.name(),
            intent,
            recorded: was,
            now: is,
        });
    }
}

/// Why the conversations to replay could not be listed.
#[derive(Debug, thiserror::Error)]
#[error("listing the conversations of {tenant}: {message}")]
pub struct ListError {
    tenant: String,
    message: String,
}

/// Every conversation of `tenant` in the log (those with a customer
/// message), in id order: the stream's own subject index, no projection
/// needed.
pub async fn conversations(
    store: &switchboard_engine::store::EventStore,
    tenant: &switchboard_engine::ids::Tenant,
) -> Result<Vec<switchboard_engine::ids::ConversationKey>, ListError> {
    use futures::TryStreamExt;
    let error = |e: &dyn std::fmt::Display| ListError {
        tenant: tenant.to_string(),
        message: e.to_string(),
    };
    let stream = store
        .jetstream()
        .get_stream(&store.options().stream)
        .await
        .map_err(|e| error(&e))?;
    let filters = switchboard_engine::subject::stored_tenant_events_of_type(
        tenant,
        switchboard_engine::event::EventType::Received,
    );
    let mut keys = Vec::new();
    for filter in filters {
        let mut subjects = stream
            .info_with_subjects(filter)
            .await
            .map_err(|e| error(&e))?;
        while let Some((subject, _count)) = subjects.try_next().await.map_err(|e| error(&e))? {
            if let Ok(parsed) = switchboard_engine::subject::parse_event(&subject) {
                keys.push(parsed.key);
            }
        }
    }
    keys.sort();
    Ok(keys)
}
