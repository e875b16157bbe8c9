//! Escalation details: priority, queue and hand-off summary (DESIGN §3).
//!
//! The workflow decides *that* a conversation goes to a human and names the
//! rule; [`decide`] works out *how*: how urgent, which human queue, and a
//! short summary so the agent does not have to read the whole log. It is a
//! pure function of the folded conversation. The summary is built only
//! from classified fields and counters, never from the customer's text, so
//! it carries no email, phone or card number the customer wrote.

mod summary;

#[cfg(test)]
mod tests;

use switchboard_engine::conversation::Conversation;
use switchboard_engine::event::{
    CustomerTier, Escalated, EscalationReason, Intent, Priority, Sentiment,
};

/// Human queues, as the support team names them.
pub mod queue {
    /// Injury, allergy, burns, fire: answered first.
    pub const SAFETY: &str = "safety";
    /// Lawyers, lawsuits, regulators.
    pub const LEGAL: &str = "legal";
    /// Refunds, charges, payments.
    pub const BILLING: &str = "billing";
    /// VIP customers.
    pub const VIP: &str = "vip";
    /// Blocked input and suspected fraud.
    pub const TRUST: &str = "trust";
    /// Everything else.
    pub const GENERAL: &str = "general";
}

/// The escalation event for `conversation`, escalated for `reason`.
pub fn decide(conversation: &Conversation, reason: EscalationReason) -> Escalated {
    Escalated {
        reason,
        priority: priority(conversation, reason),
        queue: queue_for(conversation, reason).to_owned(),
        summary: summary::summarize(conversation, reason),
    }
}

fn is_vip(conversation: &Conversation) -> bool {
    conversation
        .customer
        .as_ref()
        .is_some_and(|c| c.tier == CustomerTier::Vip)
}

fn classified_intent(conversation: &Conversation) -> Option<Intent> {
    conversation
        .turn
        .as_ref()?
        .classified
        .as_ref()
        .map(|c| c.intent)
}

fn sentiment(conversation: &Conversation) -> Option<Sentiment> {
    conversation
        .turn
        .as_ref()?
        .classified
        .as_ref()
        .map(|c| c.sentiment)
}

/// The reason's own priority, raised to at least high for VIPs and to at
/// least normal for unhappy customers.
fn priority(conversation: &Conversation, reason: EscalationReason) -> Priority {
    use EscalationReason as R;
    let base = match reason {
        R::HealthOrSafety => Priority::Urgent,
        R::LegalThreat | R::VipComplaint | R::NegativeSentiment | R::BlockedInput => Priority::High,
        R::HumanRequested
        | R::RepeatedContact
        | R::RefundPolicy
        | R::DraftRejected
        | R::StepFailed => Priority::Normal,
        R::LowConfidence => Priority::Low,
    };
    let unhappy = matches!(
        sentiment(conversation),
        Some(Sentiment::Negative | Sentiment::VeryNegative)
    );
    let floor = if is_vip(conversation) {
        Priority::High
    } else if unhappy {
        Priority::Normal
    } else {
        Priority::Low
    };
    base.max(floor)
}

/// Safety, legal and trust go to their specialists whoever the customer is;
/// then VIPs to their own queue; then money matters to billing.
fn queue_for(conversation: &Conversation, reason: EscalationReason) -> &'static str {
    use EscalationReason as R;
    match reason {
        R::HealthOrSafety => queue::SAFETY,
        R::LegalThreat => queue::LEGAL,
        R::BlockedInput => queue::TRUST,
        _ if reason == R::VipComplaint || is_vip(conversation) => queue::VIP,
        R::RefundPolicy => queue::BILLING,
        _ => match classified_intent(conversation) {
            Some(Intent::BillingIssue | Intent::RefundStatus) => queue::BILLING,
            _ => queue::GENERAL,
        },
    }
}
