//! Escalation signals the workflow acts on whatever the intent (DESIGN §3):
//! a request for a person, health or safety, legal threats, abuse, and
//! repeated contact. Keyword patterns, written to over-trigger slightly:
//! a needless hand-off costs less than a missed injury or lawsuit.

use std::sync::LazyLock;

use regex::Regex;
use switchboard_engine::event::Signal;

fn regex(pattern: &str) -> Regex {
    // Literal patterns, exercised by the unit tests.
    Regex::new(pattern).expect("compiled-in signal pattern is valid")
}

static RULES: LazyLock<Vec<(Signal, Regex)>> = LazyLock::new(|| {
    vec![
        (
            Signal::HumanRequested,
            regex(
                r"(?i)\b(speak|talk|chat)\s+(to|with)\s+(a\s+|an\s+|some\s+|your\s+)?(human|person|real person|live (agent|person)|agent|representative|rep|manager|supervisor|someone|somebody)\b|\b(human|live|real)\s+(agent|person|being|rep)\b|\btransfer me\b|\bescalate\b|\bhuman,? please\b|\b(not|don't want( to talk to)?) (a )?(bot|robot)\b|^\s*(representative|agent|human)\s*[.!]*\s*$|\bget (me )?(your|a) (manager|supervisor)\b|\b(want|need|demand) (a |your |the )?(manager|supervisor|human|real person)\b|\bcall me back\b|\bcallback\b",
            ),
        ),
        (
            Signal::HealthOrSafety,
            regex(
                r"(?i)\b(burn(ed|t|s)?|scald(ed)?|injur(y|ed|ies)|hurt (me|my|myself|him|her)|allerg(y|ic|ies)|anaphyla\w*|hospital|emergency room|\ber\b|fire|flames?|smok(e|ing)|sparks?|electric (shock)|shocked me|electrocut\w*|explod\w*|caught fire|melt(ed|ing)|poison\w*|food poisoning|made me (sick|ill)|got sick|vomit\w*|choking|choked|glass (in|shards)|mou?ld(y)?|rash|swelling)\b",
            ),
        ),
        (
            Signal::LegalThreat,
            regex(
                r"(?i)\b(lawyer|attorney|sue|suing|lawsuit|legal action|take (you|this) to court|court|small claims|better business bureau|bbb|consumer protection|ftc|attorney general|regulator|class action)\b",
            ),
        ),
        (
            Signal::RepeatContact,
            regex(
                r"(?i)\b(already|again|third|3rd|second|2nd|fourth|4th|fifth|multiple|several|many|numerous|countless)\s+(time|times|emails?|messages?|calls?|tickets?|attempts?)\b|\bi('ve| have)? already (wrote|written|emailed|contacted|called|asked|told|reached out|messaged|complained)\b|\b(contacted|emailed|written|called|messaged)( to)? you( guys)? (\d+|two|three|four|five|several|multiple|many) times\b|\bstill (haven't|have not|no) (heard|response|reply|answer)\b|\bno one (has )?(got|gotten|gets) back\b|\bnobody (has )?(got|gotten|gets) back\b|\bfor the (second|third|fourth|fifth|umpteenth) time\b",
            ),
        ),
    ]
});

/// Signals in `text`; `abusive` comes from the sentiment lexicon.
pub fn signals(text: &str, abusive: bool) -> Vec<Signal> {
    let mut out: Vec<Signal> = RULES
        .iter()
        .filter(|(_, r)| r.is_match(text))
        .map(|(s, _)| *s)
        .collect();
    if abusive {
        out.push(Signal::Abusive);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_signal() {
        assert_eq!(
            signals("Can I talk to a real person please", false),
            vec![Signal::HumanRequested]
        );
        assert_eq!(
            signals("The brewer sparked and burned my hand", false),
            vec![Signal::HealthOrSafety]
        );
        assert_eq!(
            signals("I'll contact my lawyer about this", false),
            vec![Signal::LegalThreat]
        );
        assert_eq!(
            signals("This is the third time I'm writing about this", false),
            vec![Signal::RepeatContact]
        );
        assert_eq!(signals("where is my order", true), vec![Signal::Abusive]);
        assert!(signals("Where is order #10234?", false).is_empty());
    }
}
