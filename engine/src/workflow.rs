//! The workflow: which step comes next for a conversation (DESIGN §3).
//!
//! ```text
//! received ─► screened ─┬─ block ─► escalated / responded (refusal)
//!                       └─ allow ─► classified ─┬─ needs a human ─► escalated
//!                                               └─► retrieved ─► drafted ─► validated ─┬─ approve ─► responded
//!                                                                   ▲                  └─ reject (≤3 tries) ─┘
//!                                                                   └──── reject after 3 tries ─► escalated
//! ```
//!
//! [`next_step`] is a pure function of the folded [`Conversation`]: no I/O, no
//! clock, no randomness. Workers call it after every load and act only when
//! the step is theirs.

use crate::conversation::{Conversation, Status, Turn};
use crate::event::{
    CustomerTier, EscalationReason, EventData, EventType, InputFindingKind, Intent, ScreenVerdict,
    Sentiment, Signal, ValidateVerdict,
};

/// The agents that own steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agent {
    /// Screens input, validates drafts, delivers approved answers and refusals.
    Critic,
    /// Classifies intent, sentiment and entities.
    Intent,
    /// Retrieves passages and records.
    Knowledge,
    /// Drafts answers.
    Response,
    /// Hands conversations to humans.
    Escalation,
}

impl Agent {
    /// Every agent that owns a step.
    pub const ALL: [Agent; 5] = [
        Agent::Critic,
        Agent::Intent,
        Agent::Knowledge,
        Agent::Response,
        Agent::Escalation,
    ];

    /// The event types after which this agent's step can come next: the
    /// filter of its consumer. `workflow_tests` checks this against
    /// [`next_step`] for every scenario it covers.
    pub const fn triggers(self) -> &'static [EventType] {
        match self {
            Agent::Critic => &[
                EventType::Received,
                EventType::Screened,
                EventType::Drafted,
                EventType::Validated,
            ],
            Agent::Intent => &[EventType::Screened],
            Agent::Knowledge => &[EventType::Classified],
            Agent::Response => &[EventType::Retrieved, EventType::Validated],
            Agent::Escalation => &[
                EventType::Screened,
                EventType::Classified,
                EventType::Retrieved,
                EventType::Validated,
                EventType::Failed,
            ],
        }
    }

    /// Whether this agent's step can come next when `trigger` is the
    /// conversation's latest event: [`Agent::triggers`] refined by what the
    /// event says, so a worker can ack a delivery that cannot concern it
    /// without loading the conversation. An allowed message leads to the
    /// classifier, never to the critic or to escalation (a blocked one the
    /// other way round); an approved draft to the critic's delivery, never to
    /// a redraft or a hand-off; a retrieval without an order to escalation,
    /// whose only rule after it is the refund policy of an order.
    /// `workflow_tests` checks it against [`next_step`] for every scenario.
    pub fn wakes_on(self, trigger: &EventData) -> bool {
        if !self.triggers().contains(&trigger.event_type()) {
            return false;
        }
        match (self, trigger) {
            (Agent::Critic | Agent::Escalation, EventData::Screened(s)) => {
                s.verdict == ScreenVerdict::Block
            }
            (Agent::Intent, EventData::Screened(s)) => s.verdict == ScreenVerdict::Allow,
            (Agent::Critic, EventData::Validated(v)) => v.verdict != ValidateVerdict::Reject,
            // After retrieval only the refund rules of an order hand over.
            (Agent::Escalation, EventData::Retrieved(r)) => orders(r).next().is_some(),
            (Agent::Response | Agent::Escalation, EventData::Validated(v)) => {
                v.verdict == ValidateVerdict::Reject
            }
            _ => true,
        }
    }

    /// The worker name (`switchboard worker <name>`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Agent::Critic => "critic",
            Agent::Intent => "intent",
            Agent::Knowledge => "knowledge",
            Agent::Response => "response",
            Agent::Escalation => "escalation",
        }
    }
}

/// The next thing to do for a conversation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Screen the customer message (critic): emits `screened`, plus
    /// `responded` with a refusal when it blocks.
    Screen,
    /// Refuse a blocked message (critic), when the block was stored without
    /// its refusal.
    Refuse,
    /// Classify (intent classifier): emits `classified`.
    Classify,
    /// Retrieve (knowledge): emits `retrieved`.
    Retrieve,
    /// Draft an answer (response generator): emits `drafted`.
    Draft {
        /// 1 for the first draft.
        attempt: u32,
    },
    /// Check a draft (critic): emits `validated` (with `responded`, atomically,
    /// when it redacts the draft; an approval is delivered by [`Step::Respond`]).
    Validate {
        /// The draft being checked.
        attempt: u32,
    },
    /// Deliver an approved draft (critic): emits `responded`.
    Respond,
    /// Hand to a human (escalation): emits `escalated` and `responded`.
    Escalate {
        /// Which rule fired.
        reason: EscalationReason,
    },
}

impl Step {
    /// The agent that owns this step.
    pub fn agent(self) -> Agent {
        match self {
            Step::Screen | Step::Refuse | Step::Validate { .. } | Step::Respond => Agent::Critic,
            Step::Classify => Agent::Intent,
            Step::Retrieve => Agent::Knowledge,
            Step::Draft { .. } => Agent::Response,
            Step::Escalate { .. } => Agent::Escalation,
        }
    }

    /// A stable name, used in idempotency keys and metrics.
    pub fn name(self) -> String {
        match self {
            Step::Screen => "screen".into(),
            Step::Refuse => "refuse".into(),
            Step::Classify => "classify".into(),
            Step::Retrieve => "retrieve".into(),
            Step::Draft { attempt } => format!("draft-{attempt}"),
            Step::Validate { attempt } => format!("validate-{attempt}"),
            Step::Respond => "respond".into(),
            Step::Escalate { .. } => "escalate".into(),
        }
    }
}

/// Thresholds of the escalation rules. Defaults are the team's policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Below this classifier confidence a human takes over. Default 0.45.
    pub min_confidence: f32,
    /// Refunds above this amount go to a human. Default 50.0.
    pub refund_auto_limit: f64,
    /// Refunds for orders older than this go to a human. Default 30 days.
    pub refund_window_days: i64,
    /// Drafts the critic may reject before a human takes over. Default 3.
    pub max_draft_attempts: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_confidence: 0.45,
            refund_auto_limit: 50.0,
            refund_window_days: 30,
            max_draft_attempts: 3,
        }
    }
}

/// The next step under the default [`Policy`].
pub fn next_step(conversation: &Conversation) -> Option<Step> {
    next_step_with(conversation, &Policy::default())
}

/// The next step under `policy`, or `None` when the agents have nothing to do
/// (turn finished, conversation with a human or closed, no message yet).
pub fn next_step_with(conversation: &Conversation, policy: &Policy) -> Option<Step> {
    if conversation.status != Status::Open {
        return None;
    }
    let turn = conversation.turn.as_ref()?;
    if turn.escalated.is_some() {
        return None;
    }
    // Before the answered check: a failure recorded after the answer (a
    // message of this turn that no agent could read) still needs a human.
    if turn.failed.is_some() {
        return Some(Step::Escalate {
            reason: EscalationReason::StepFailed,
        });
    }
    if turn.responded.is_some() {
        return None;
    }
    let Some(screened) = &turn.screened else {
        return Some(Step::Screen);
    };
    if screened.verdict == ScreenVerdict::Block {
        return Some(blocked_step(turn));
    }
    let Some(classified) = &turn.classified else {
        return Some(Step::Classify);
    };
    if let Some(reason) = needs_human_after_classify(conversation, turn, policy) {
        return Some(Step::Escalate { reason });
    }
    let Some(retrieved) = &turn.retrieved else {
        return Some(Step::Retrieve);
    };
    if refund_outside_policy(classified.intent, retrieved, policy) {
        return Some(Step::Escalate {
            reason: EscalationReason::RefundPolicy,
        });
    }
    draft_cycle(turn, policy)
}

fn blocked_step(turn: &Turn) -> Step {
    let screened = turn.screened.as_ref();
    let fraud =
        screened.is_some_and(|s| s.findings.iter().any(|f| f.kind == InputFindingKind::Fraud));
    if fraud {
        Step::Escalate {
            reason: EscalationReason::BlockedInput,
        }
    } else {
        Step::Refuse
    }
}

fn draft_cycle(turn: &Turn, policy: &Policy) -> Option<Step> {
    let Some(draft) = &turn.draft else {
        return Some(Step::Draft { attempt: 1 });
    };
    let Some(validation) = &turn.validation else {
        return Some(Step::Validate {
            attempt: draft.attempt,
        });
    };
    match validation.verdict {
        ValidateVerdict::Approve | ValidateVerdict::Redact => Some(Step::Respond),
        ValidateVerdict::Reject if turn.rejections >= policy.max_draft_attempts => {
            Some(Step::Escalate {
                reason: EscalationReason::DraftRejected,
            })
        }
        ValidateVerdict::Reject => Some(Step::Draft {
            attempt: draft.attempt + 1,
        }),
    }
}

/// The rules that can be decided from the classification alone, in order of
/// precedence (the first that fires names the reason).
fn needs_human_after_classify(
    conversation: &Conversation,
    turn: &Turn,
    policy: &Policy,
) -> Option<EscalationReason> {
    let c = turn.classified.as_ref()?;
    let has = |s: Signal| c.signals.contains(&s);
    let vip = conversation
        .customer
        .as_ref()
        .is_some_and(|cu| cu.tier == CustomerTier::Vip);
    let refund = matches!(c.intent, Intent::RefundStatus | Intent::ReturnRequest);
    if has(Signal::HealthOrSafety) {
        Some(EscalationReason::HealthOrSafety)
    } else if has(Signal::LegalThreat) {
        Some(EscalationReason::LegalThreat)
    } else if c.intent == Intent::EscalationRequest || has(Signal::HumanRequested) {
        Some(EscalationReason::HumanRequested)
    } else if c.sentiment == Sentiment::VeryNegative || has(Signal::Abusive) {
        Some(EscalationReason::NegativeSentiment)
    } else if vip && c.intent == Intent::Complaint {
        Some(EscalationReason::VipComplaint)
    } else if has(Signal::RepeatContact) {
        // Repeated contact is a new contact about a problem already
        // answered that the customer says is unresolved: the classifier
        // decides it from the wording, the earlier turns' intents and
        // messages (a follow-up that supplies an order number, a polite
        // closing, "never mind, it works again" or a second question is
        // not one).
        Some(EscalationReason::RepeatedContact)
    } else if refund
        && (c
            .entities
            .amount
            .is_some_and(|a| a > policy.refund_auto_limit)
            || c.entities
                .days_ago
                .is_some_and(|d| i64::from(d) > policy.refund_window_days))
    {
        Some(EscalationReason::RefundPolicy)
    } else if c.confidence < policy.min_confidence {
        Some(EscalationReason::LowConfidence)
    } else {
        None
    }
}

/// Refund rules that need the order: total above the limit, or older than the
/// window. Retrieval records `total` and `days_since_order` on the order.
fn refund_outside_policy(
    intent: Intent,
    retrieved: &crate::event::Retrieved,
    policy: &Policy,
) -> bool {
    if !matches!(intent, Intent::RefundStatus | Intent::ReturnRequest) {
        return false;
    }
    orders(retrieved).any(|order| {
        let total = order.fields.get("total").and_then(|v| v.as_f64());
        let age = order
            .fields
            .get("days_since_order")
            .and_then(|v| v.as_i64());
        total.is_some_and(|t| t > policy.refund_auto_limit)
            || age.is_some_and(|d| d > policy.refund_window_days)
    })
}

/// The orders retrieval looked up.
fn orders(retrieved: &crate::event::Retrieved) -> impl Iterator<Item = &crate::event::Record> {
    retrieved.records.iter().filter(|r| r.kind == "order")
}
