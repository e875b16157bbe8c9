//! The local response generator: grounded, template-based drafts (DESIGN §6).
//!
//! A draft is planned as parts ([`plan`]) that each rest on a record or a
//! retrieved passage, then rendered. Nothing is stated that a record or a
//! passage does not say; what is missing (an order number) is asked for;
//! the customer's own words are never quoted back. When the critic rejected
//! the previous draft, the next one is more conservative: shorter, without
//! the parts the findings point at, without customer-provided values.
//!
//! A message that is only a greeting or thanks is answered as such; the
//! customer is greeted by name when a retrieved record gives it (and the
//! draft cites that record); everything is written in the customer's
//! language, with passages in English introduced as such when no
//! translation exists.
//!
//! Also here: the refusal for blocked input and the hand-off notice sent when
//! a human takes over.

mod facts;
mod i18n;
mod plan;
mod smalltalk;
mod wording;

#[cfg(test)]
mod tests;

use switchboard_engine::event::{
    Classified, Drafted, Escalated, InputFinding, InputFindingKind, ModelUsage, OutputFinding,
    OutputFindingKind, Priority, Received, Retrieved,
};

pub use facts::record_source;
pub use plan::MIN_PASSAGE_SCORE;
use plan::{Context, Part, PartKind};
pub use smalltalk::SmallTalk;

use crate::language::Language;

/// The model name recorded on drafts from this generator.
pub const MODEL: &str = "local-templates-v1";
/// Conservative drafts keep this many sentences of a policy passage.
const CONSERVATIVE_SENTENCES: usize = 2;

/// Template-based drafting; no state, no model, no clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalResponder;

/// Who wrote, what and in which language: what a draft needs of the
/// message besides its classification.
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    /// The customer's id: picks out their own records.
    pub customer_id: &'a str,
    /// The (screened) message text: read to recognise greetings and
    /// thanks, never quoted.
    pub text: &'a str,
    /// BCP-47 tag of the message's language.
    pub language: &'a str,
}

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
        let asker = Asker {
            customer_id: &received.customer.id,
            text: &received.text,
            language: &received.language,
        };
        self.draft_for(&asker, classified, retrieved, attempt, previous_findings)
    }

    /// [`draft`](Self::draft) from what it needs of the message: a draft
    /// never quotes it.
    pub fn draft_for(
        &self,
        asker: &Asker<'_>,
        classified: &Classified,
        retrieved: &Retrieved,
        attempt: u32,
        previous_findings: &[OutputFinding],
    ) -> Drafted {
        let conservative = attempt > 1;
        let language = Language::for_answer(asker.language);
        let ctx = Context {
            customer_id: asker.customer_id,
            classified,
            retrieved,
            conservative,
            language,
            small_talk: smalltalk::detect(asker.text),
        };
        let mut parts = plan::plan(&ctx);
        if conservative {
            parts = tighten(parts, previous_findings, attempt, language);
        }
        let name = facts::first_name(retrieved, asker.customer_id);
        render(parts, attempt, language, name)
    }
}

fn flagged(findings: &[OutputFinding], kind: OutputFindingKind) -> bool {
    findings.iter().any(|f| f.kind == kind)
}

/// The conservative rewrite for attempts after a rejection.
fn tighten(
    parts: Vec<Part>,
    findings: &[OutputFinding],
    attempt: u32,
    language: Language,
) -> Vec<Part> {
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
    let mut courtesy = Vec::new();
    let mut policy_kept = false;
    for part in parts {
        match part.kind {
            PartKind::Courtesy => courtesy.push(part),
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
    // A draft that was only politeness (a thanks reply) stays so.
    if kept.is_empty() && !courtesy.is_empty() && !unsafe_text {
        return courtesy;
    }
    if kept.is_empty() {
        kept.push(Part {
            kind: PartKind::Ask,
            text: i18n::more_detail(language).into(),
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

/// The draft: salutation (with the customer's name, citing its record),
/// the parts, the sign-off.
fn render(
    parts: Vec<Part>,
    attempt: u32,
    language: Language,
    name: Option<(&str, String)>,
) -> Drafted {
    let mut sources: Vec<String> = Vec::new();
    let name_source = name.as_ref().map(|(_, s)| s.clone());
    for s in parts
        .iter()
        .flat_map(|p| p.sources.iter())
        .chain(name_source.iter())
    {
        if !sources.contains(s) {
            sources.push(s.clone());
        }
    }
    let body: Vec<&str> = parts.iter().map(|p| p.text.as_str()).collect();
    let text = i18n::letter(language, name.map(|(n, _)| n), &body);
    Drafted {
        text,
        sources,
        attempt,
        model: ModelUsage::local(MODEL),
    }
}

/// The answer to a blocked message, in English. It says nothing about what
/// was detected or how, so it cannot be used to probe the screening rules.
pub fn refusal_text(findings: &[InputFinding]) -> String {
    refusal_text_in(findings, "en")
}

/// [`refusal_text`] in `language` (a BCP-47 tag; English for languages
/// answers are not written in).
pub fn refusal_text_in(findings: &[InputFinding], language: &str) -> String {
    let privacy = findings
        .iter()
        .any(|f| f.kind == InputFindingKind::PiiRequest);
    let language = Language::for_answer(language);
    i18n::letter(language, None, &[&i18n::refusal(language, privacy)])
}

/// The notice sent to the customer when a human takes over, in English. It
/// names no internal queue and makes no promise the policies do not make.
pub fn handoff_text(escalated: &Escalated) -> String {
    handoff_text_in(escalated, "en")
}

/// [`handoff_text`] in `language` (a BCP-47 tag).
pub fn handoff_text_in(escalated: &Escalated, language: &str) -> String {
    let soon = matches!(escalated.priority, Priority::Urgent | Priority::High);
    let language = Language::for_answer(language);
    let notice = i18n::handoff(language, soon, escalated.queue == "safety");
    i18n::letter(language, None, &[&notice])
}
