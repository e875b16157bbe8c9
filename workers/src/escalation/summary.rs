//! The hand-off summary a human reads first.
//!
//! Built from classified fields, counters and the workflow's reason only:
//! the customer's text is never copied, and the free-form entities are
//! reduced (order number to its digits, product name to plain words) so a
//! phone number or email that slipped into them cannot reach the summary.

use serde::Serialize;
use switchboard_engine::conversation::Conversation;
use switchboard_engine::event::{Classified, EscalationReason, Sentiment};

use crate::knowledge::normalize_order_number;

/// The longest product name copied into a summary.
const MAX_PRODUCT_CHARS: usize = 40;

/// A one-paragraph summary for the human agent.
pub fn summarize(conversation: &Conversation, reason: EscalationReason) -> String {
    let mut lines = vec![format!("Reason: {}.", reason_text(reason))];
    let turn = conversation.turn.as_ref();
    if let Some(c) = turn.and_then(|t| t.classified.as_ref()) {
        lines.push(classification_line(c));
        lines.extend(entity_lines(c));
    }
    if let Some(customer) = &conversation.customer {
        let channel = conversation.channel.as_deref().unwrap_or("unknown channel");
        lines.push(format!(
            "Customer tier: {}; channel: {}.",
            label(&customer.tier),
            plain(channel)
        ));
    }
    if !conversation.past_intents.is_empty() {
        let past: Vec<String> = conversation.past_intents.iter().map(label).collect();
        lines.push(format!("Earlier turns: {}.", past.join(", ")));
    }
    if let Some(turn) = turn {
        if turn.rejections > 0 {
            lines.push(format!(
                "Drafts rejected by the critic: {}.",
                turn.rejections
            ));
        }
        if let Some(s) = &turn.screened {
            let kinds: Vec<String> = s.findings.iter().map(|f| label(&f.kind)).collect();
            if !kinds.is_empty() {
                lines.push(format!("Screening findings: {}.", kinds.join(", ")));
            }
        }
        if let Some(f) = &turn.failed {
            lines.push(format!(
                "Failed step: {} ({}).",
                plain(&f.step),
                plain(&f.error_class)
            ));
        }
    }
    lines.join(" ")
}

fn classification_line(c: &Classified) -> String {
    format!(
        "Intent: {} (confidence {:.2}); sentiment: {}.",
        label(&c.intent),
        c.confidence,
        sentiment_text(c.sentiment)
    )
}

fn entity_lines(c: &Classified) -> Vec<String> {
    let e = &c.entities;
    let mut lines = Vec::new();
    if let Some(n) = e.order_number.as_deref().and_then(normalize_order_number) {
        lines.push(format!("Order #{n}."));
    }
    if let Some(p) = e.product.as_deref().and_then(product_words) {
        lines.push(format!("Product: {p}."));
    }
    if let Some(a) = e.amount {
        lines.push(format!("Amount mentioned: ${a:.2}."));
    }
    let given: Vec<&str> = [("email", e.email.is_some()), ("phone", e.phone.is_some())]
        .into_iter()
        .filter_map(|(what, present)| present.then_some(what))
        .collect();
    if !given.is_empty() {
        lines.push(format!(
            "Customer gave contact details ({}), not copied here.",
            given.join(", ")
        ));
    }
    lines
}

/// A product name made only of words; `None` if it looks like anything else
/// (an address, a number, an email).
fn product_words(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let digits = raw.chars().filter(char::is_ascii_digit).count();
    let words_only = raw
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '(' | ')'));
    (words_only && digits <= 4 && !raw.is_empty() && raw.chars().count() <= MAX_PRODUCT_CHARS)
        .then(|| raw.to_owned())
}

/// Keeps identifiers such as a channel or step name to safe characters.
fn plain(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':'))
        .take(40)
        .collect()
}

/// The wire name of a catalog enum (`ORDER_STATUS`, `vip`, `fraud`).
fn label<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

fn sentiment_text(s: Sentiment) -> &'static str {
    match s {
        Sentiment::Positive => "positive",
        Sentiment::Neutral => "neutral",
        Sentiment::Negative => "negative",
        Sentiment::VeryNegative => "very negative",
    }
}

fn reason_text(reason: EscalationReason) -> &'static str {
    use EscalationReason as R;
    match reason {
        R::HumanRequested => "the customer asked for a person",
        R::HealthOrSafety => "health or safety concern",
        R::LegalThreat => "legal threat",
        R::NegativeSentiment => "very negative sentiment or abusive tone",
        R::RepeatedContact => "repeated contact about the same problem",
        R::RefundPolicy => "refund over the automatic limit or outside the 30-day window",
        R::VipComplaint => "complaint from a VIP customer",
        R::LowConfidence => "the classifier was not confident",
        R::DraftRejected => "the critic rejected three drafts",
        R::BlockedInput => "input blocked by screening (possible fraud)",
        R::StepFailed => "a workflow step failed",
    }
}
