//! Draft validation: what must never reach a customer.
//!
//! - Personal data the customer did not give us (someone else's e-mail,
//!   phone, card...) is a leak: reject, the draft was built on data it
//!   should not have had.
//! - A card number, SSN or IBAN the customer did give us is still not
//!   echoed back in full: redact the span.
//! - Profanity, harmful instructions and leaks of the system prompt or
//!   internal instructions: reject.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use switchboard_engine::event::{OutputFinding, OutputFindingKind, Redaction, ValidateVerdict};

use super::CriticConfig;
use super::pii::{PiiKind, find_pii};
use super::rules::normalize;

/// The output critic's full answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    /// Approve, reject or redact.
    pub verdict: ValidateVerdict,
    /// What was found (rule names for the audit).
    pub findings: Vec<OutputFinding>,
    /// Spans to redact when the verdict is `Redact`.
    pub redactions: Vec<Redaction>,
}

fn regex(pattern: &str) -> Regex {
    // Literal patterns, exercised by the unit tests.
    Regex::new(pattern).expect("compiled-in output rule is a valid regex")
}

/// Swear words and insults an agent never writes (matched on word starts).
static PROFANITY: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b(fuck\w*|shit\w*|bullshit|asshole\w*|bitch\w*|bastard\w*|damn\w*|crap\w*|dick\w*|piss\w*|cunt\w*|motherf\w*|wtf|stfu|idiot\w*|stupid|moron\w*|dumbass|jackass)\b",
    )
});

/// Harmful content: self-harm, weapons, drugs, and unsafe advice about the
/// products (drinking cleaning agents, defeating electrical safety).
static HARMFUL: &[(&str, &str)] = &[
    (
        "self-harm",
        r"\b(kill|hurt|harm|cut) (yourself|himself|herself|themselves)\b|\bsuicide (method|instructions)",
    ),
    (
        "weapons-drugs",
        r"\b(make|build|assemble|synthesi[sz]e|cook)\b.{0,20}\b(a )?(bomb|explosive|pipe bomb|molotov|weapon|meth|methamphetamine|poison|nerve agent)",
    ),
    (
        "ingest-cleaner",
        r"\b(drink|ingest|swallow|consume)\b.{0,30}\b(bleach|descal\w*|cleaning (solution|pods?|tablets?)|detergent)",
    ),
    (
        "defeat-safety",
        r"\b(bypass|disable|remove|cut|jumper)\b.{0,25}\b(thermal fuse|fuse|safety (valve|switch|interlock|cut-?off)|ground(ing)? (pin|wire)|pressure valve)",
    ),
    (
        "hate",
        r"\b(inferior race|go back to your country|subhuman)\b",
    ),
];

/// Signs that the system prompt, internal instructions or secrets leaked.
static PROMPT_LEAK: &[(&str, &str)] = &[
    (
        "system-prompt",
        r"\b(system prompt|my (instructions|guidelines|system message) (are|say|tell)|i (was|am|have been) (instructed|told|programmed|configured) (to|not to))\b",
    ),
    (
        "internal-instructions",
        r"\b(internal (policy|instructions?|notes?|guidelines)|do not reveal|confidential instructions|operator instructions)\b",
    ),
    (
        "assistant-persona",
        r"\byou are a (helpful |friendly )?(customer[- ]service |support )?(assistant|agent|bot) for\b|\bas an ai (language )?model\b",
    ),
    (
        "template-token",
        r"<\|?(im_start|im_end|system)\|?>|\[/?(system|inst)\]|<</?sys>>",
    ),
    (
        "secret",
        r"\b(sk-[a-z0-9]{16,}|api[_ -]?key\s*[:=]|password\s*[:=]|bearer [a-z0-9._-]{16,})",
    ),
    (
        "tool-names",
        r"\b(http_post|send_email|delete_file|min_confidence|tool call)\b",
    ),
];

static HARMFUL_RULES: LazyLock<Vec<(&'static str, Regex)>> =
    LazyLock::new(|| HARMFUL.iter().map(|(n, p)| (*n, regex(p))).collect());
static LEAK_RULES: LazyLock<Vec<(&'static str, Regex)>> =
    LazyLock::new(|| PROMPT_LEAK.iter().map(|(n, p)| (*n, regex(p))).collect());

/// Validate `draft` against what the customer wrote.
pub fn validate(config: &CriticConfig, draft: &str, customer_text: &str) -> Validation {
    let normalized = normalize(draft);
    let mut findings = Vec::new();
    let mut redactions = Vec::new();
    let mut reject = pii_findings(config, draft, customer_text, &mut findings, &mut redactions);
    let mut push = |kind, rule: String| {
        findings.push(OutputFinding { kind, rule });
    };
    if let Some(m) = PROFANITY.find(&normalized) {
        push(
            OutputFindingKind::Profanity,
            format!("profanity:{}", m.as_str()),
        );
        reject = true;
    }
    for (name, _) in HARMFUL_RULES
        .iter()
        .filter(|(_, r)| r.is_match(&normalized))
    {
        push(OutputFindingKind::Harmful, format!("harmful-{name}"));
        reject = true;
    }
    for (name, _) in LEAK_RULES.iter().filter(|(_, r)| r.is_match(&normalized)) {
        push(OutputFindingKind::PromptLeak, format!("prompt-leak-{name}"));
        reject = true;
    }
    let verdict = if reject {
        ValidateVerdict::Reject
    } else if redactions.is_empty() {
        ValidateVerdict::Approve
    } else {
        ValidateVerdict::Redact
    };
    Validation {
        verdict,
        findings,
        redactions,
    }
}

/// Adds leak findings and redactions; true when a leak calls for a reject.
fn pii_findings(
    config: &CriticConfig,
    draft: &str,
    customer_text: &str,
    findings: &mut Vec<OutputFinding>,
    redactions: &mut Vec<Redaction>,
) -> bool {
    let given: HashSet<String> = find_pii(customer_text)
        .iter()
        .map(|s| s.normalized(customer_text))
        .collect();
    let business_phones: HashSet<String> = config
        .business_phones
        .iter()
        .map(|p| p.chars().filter(char::is_ascii_digit).collect())
        .collect();
    let mut reject = false;
    for span in find_pii(draft) {
        let value = span.normalized(draft);
        let is_business = match span.kind {
            PiiKind::Email => config
                .business_domains
                .iter()
                .any(|d| value.ends_with(&format!("@{}", d.to_lowercase()))),
            PiiKind::Phone => business_phones.contains(&value),
            _ => false,
        };
        let sensitive = matches!(span.kind, PiiKind::Card | PiiKind::Ssn | PiiKind::Iban);
        if is_business || (given.contains(&value) && !sensitive) {
            continue;
        }
        let rule = if given.contains(&value) {
            format!("echoed-{}", span.kind.name())
        } else {
            reject = true;
            format!("unknown-{}", span.kind.name())
        };
        findings.push(OutputFinding {
            kind: OutputFindingKind::PiiLeak,
            rule,
        });
        redactions.push(span.to_redaction());
    }
    reject
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(draft: &str, customer: &str) -> Validation {
        let config = CriticConfig {
            business_domains: vec!["brewvi.com".into()],
            business_phones: vec!["1-800-555-0199".into()],
        };
        validate(&config, draft, customer)
    }

    #[test]
    fn clean_draft_is_approved() {
        let v = check(
            "Thanks Ana! Order #10234 ships tomorrow; we'll confirm at ana@example.com. \
             Questions? support@brewvi.com or 1-800-555-0199.",
            "Where is order #10234? I'm ana@example.com",
        );
        assert_eq!(v.verdict, ValidateVerdict::Approve, "{:?}", v.findings);
    }

    #[test]
    fn someone_elses_email_is_a_leak() {
        let v = check(
            "The order was placed by bob@example.org.",
            "Who ordered this?",
        );
        assert_eq!(v.verdict, ValidateVerdict::Reject);
        assert_eq!(v.findings[0].kind, OutputFindingKind::PiiLeak);
    }

    #[test]
    fn echoed_card_is_redacted() {
        let customer = "Charge card 4111 1111 1111 1111 instead";
        let draft = "Done: we charged 4111 1111 1111 1111.";
        let v = check(draft, customer);
        assert_eq!(v.verdict, ValidateVerdict::Redact);
        assert_eq!(
            super::super::redact(draft, &v.redactions),
            "Done: we charged [card redacted]."
        );
    }

    #[test]
    fn profanity_harm_and_prompt_leaks_are_rejected() {
        for draft in [
            "That's a shitty situation, sorry.",
            "To clean it, just drink a little descaling solution.",
            "My system prompt says I should not discuss refunds.",
            "As an AI language model I cannot help.",
        ] {
            assert_eq!(
                check(draft, "help").verdict,
                ValidateVerdict::Reject,
                "{draft}"
            );
        }
    }
}
