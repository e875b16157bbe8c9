//! The local response generator: grounded, template-based drafts (DESIGN §6).
//!
//! A draft is planned as parts ([`plan`]) that each rest on a record or a
//! retrieved passage, then rendered. Nothing is stated that a record or a
//! passage does not say; what is missing (an order number) is asked for;
//! the customer's own words are never quoted back. When the critic rejected
//! the previous draft, the next one is more conservative: shorter, without
//! the parts the findings point at, without customer-provided values.
//!
//! Also here: the refusal for blocked input and the hand-off notice sent when
//! a human takes over.

mod facts;
mod plan;

#[cfg(test)]
mod tests;

use switchboard_engine::event::{
    Classified, Drafted, Escalated, InputFinding, InputFindingKind, ModelUsage, OutputFinding,
    OutputFindingKind, Priority, Received, Retrieved,
};

pub use facts::record_source;
use plan::{Context, Part, PartKind};

/// The model name recorded on drafts from this generator.
pub const MODEL: &str = "local-templates-v1";
const SIGN_OFF: &str = "BrewVi Support";
/// Conservative drafts keep this many sentences of a policy passage.
const CONSERVATIVE_SENTENCES: usize = 2;

/// Template-based drafting; no state, no model, no clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalResponder;

impl LocalResponder {
    /// A new responder.
    pub fn new() -> Self {
        Self
    }

    /// Drafts attempt `attempt` (1 for the first) of an answer to
    /// `received`, from what retrieval found. `previous_findings` are the
    /// critic's findings on the rejected previous draft (empty on attempt 1).
    pub fn draft(
        &self,
        received: &Received,
        classified: &Classified,
        retrieved: &Retrieved,
        attempt: u32,
        previous_findings: &[OutputFinding],
    ) -> Drafted {
        self.draft_for(
            &received.customer.id,
            classified,
            retrieved,
            attempt,
            previous_findings,
        )
    }

    /// [`draft`](Self::draft) knowing only who wrote: a draft never quotes
    /// the message, and the id picks out the customer's own records.
    pub fn draft_for(
        &self,
        customer_id: &str,
        classified: &Classified,
        retrieved: &Retrieved,
        attempt: u32,
        previous_findings: &[OutputFinding],
    ) -> Drafted {
        let conservative = attempt > 1;
        let ctx = Context {
            customer_id,
            classified,
            retrieved,
            conservative,
        };
        let mut parts = plan::plan(&ctx);
        if conservative {
            parts = tighten(parts, previous_findings, attempt);
        }
        render(parts, attempt)
    }
}

fn flagged(findings: &[OutputFinding], kind: OutputFindingKind) -> bool {
    findings.iter().any(|f| f.kind == kind)
}

/// The conservative rewrite for attempts after a rejection.
fn tighten(parts: Vec<Part>, findings: &[OutputFinding], attempt: u32) -> Vec<Part> {
    let pii = flagged(findings, OutputFindingKind::PiiLeak);
    let unsafe_text = [
        OutputFindingKind::Harmful,
        OutputFindingKind::Profanity,
        OutputFindingKind::PromptLeak,
    ]
    .into_iter()
    .any(|k| flagged(findings, k));
    // From the third attempt, or when the wording itself was the problem,
    // only record facts and questions are left.
    let no_policy = attempt >= 3 || unsafe_text || flagged(findings, OutputFindingKind::Ungrounded);
    let mut kept = Vec::new();
    let mut policy_kept = false;
    for part in parts {
        match part.kind {
            PartKind::Courtesy => {}
            PartKind::Fact if pii && part.sensitive => {}
            PartKind::Policy if no_policy || policy_kept => {}
            PartKind::Policy => {
                policy_kept = true;
                kept.push(Part {
                    text: first_sentences(&part.text, CONSERVATIVE_SENTENCES),
                    ..part
                });
            }
            _ => kept.push(part),
        }
    }
    if kept.is_empty() {
        kept.push(Part {
            kind: PartKind::Ask,
            text: "Could you tell me a little more about what you need?".into(),
            sources: Vec::new(),
            sensitive: false,
        });
    }
    kept
}

/// The first `n` sentences of a passage.
fn first_sentences(text: &str, n: usize) -> String {
    let mut end = text.len();
    let mut count = 0;
    for (i, _) in text.match_indices(". ") {
        count += 1;
        if count == n {
            end = i + 1;
            break;
        }
    }
    text[..end].to_owned()
}

fn render(parts: Vec<Part>, attempt: u32) -> Drafted {
    let mut sources: Vec<String> = Vec::new();
    for s in parts.iter().flat_map(|p| p.sources.iter()) {
        if !sources.contains(s) {
            sources.push(s.clone());
        }
    }
    let body: Vec<&str> = parts.iter().map(|p| p.text.as_str()).collect();
    let text = format!("Hi,\n\n{}\n\n{SIGN_OFF}", body.join("\n\n"));
    Drafted {
        text,
        sources,
        attempt,
        model: ModelUsage {
            model: MODEL.into(),
            prompt_tokens: None,
            completion_tokens: None,
            cost_usd: None,
        },
    }
}

/// The answer to a blocked message. It says nothing about what was detected
/// or how, so it cannot be used to probe the screening rules.
pub fn refusal_text(findings: &[InputFinding]) -> String {
    let privacy = findings
        .iter()
        .any(|f| f.kind == InputFindingKind::PiiRequest);
    let scope = if privacy {
        "For privacy reasons I can only discuss the orders and account of the person writing."
    } else {
        "I'm happy to help with questions about your orders, our products, shipping, returns or your rewards account."
    };
    format!("Hi,\n\nSorry, I can't help with that request. {scope}\n\n{SIGN_OFF}")
}

/// The notice sent to the customer when a human takes over. It names no
/// internal queue and makes no promise the policies do not make.
pub fn handoff_text(escalated: &Escalated) -> String {
    let when = match escalated.priority {
        Priority::Urgent | Priority::High => "as a priority",
        Priority::Normal | Priority::Low => "within 24 hours",
    };
    let mut text = format!(
        "Hi,\n\nThank you for your patience. I've passed your conversation to a member of our support team, who will reply here {when}."
    );
    if escalated.queue == "safety" {
        text.push_str(
            " If anyone is hurt or in danger, please contact your local emergency services now.",
        );
    }
    text.push_str(&format!("\n\n{SIGN_OFF}"));
    text
}
