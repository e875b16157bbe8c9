//! A small rule engine: named, scored regular expressions over normalised
//! text, shared by the input and output critics.
//!
//! Rules are data (name, kind, score, pattern) so each finding on an event
//! names the rule that fired, and the audit needs no model.

use regex::{Regex, RegexSet, RegexSetBuilder};
use switchboard_engine::event::{InputFinding, InputFindingKind};

/// One scored pattern.
pub struct Rule {
    /// Stable name, recorded on the finding.
    pub name: &'static str,
    /// What a match means.
    pub kind: InputFindingKind,
    /// How sure a match alone makes us, 0..=1.
    pub score: f32,
    /// The compiled pattern (matched against normalised text).
    pub pattern: Regex,
}

/// A rule list, and all its patterns in one [`RegexSet`]: a text is
/// scanned once for every rule instead of once per rule.
pub struct Rules {
    rules: Vec<Rule>,
    set: RegexSet,
}

impl std::ops::Deref for Rules {
    type Target = [Rule];

    fn deref(&self) -> &[Rule] {
        &self.rules
    }
}

/// Build a rule list from `(name, kind, score, pattern)` literals.
pub fn compile<P: AsRef<str>>(
    specs: impl IntoIterator<Item = (&'static str, InputFindingKind, f32, P)>,
) -> Rules {
    let rules: Vec<Rule> = specs
        .into_iter()
        .map(|(name, kind, score, pattern)| Rule {
            name,
            kind,
            score,
            // The specs are compiled-in literals; the unit tests compile all of them.
            pattern: Regex::new(pattern.as_ref())
                .expect("compiled-in critic rule is a valid regex"),
        })
        .collect();
    let set = RegexSetBuilder::new(rules.iter().map(|r| r.pattern.as_str()))
        .size_limit(64 << 20)
        .dfa_size_limit(16 << 20)
        .build()
        .expect("compiled-in critic rules form a valid set");
    Rules { rules, set }
}

/// Every rule of `rules` that matches `text`, as findings whose rule name is
/// prefixed with `prefix` (e.g. `decoded-base64:`).
pub fn scan(rules: &Rules, text: &str, prefix: &str, out: &mut Vec<InputFinding>) {
    for index in rules.set.matches(text).iter() {
        let rule = &rules.rules[index];
        let name = format!("{prefix}{}", rule.name);
        if !out.iter().any(|f| f.rule == name) {
            out.push(InputFinding {
                kind: rule.kind,
                rule: name,
                score: rule.score,
            });
        }
    }
}

/// Lower-case, straighten typographic quotes, collapse runs of spaces and
/// tabs (newlines are kept: role markers are line-anchored).
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = false;
    for c in text.chars() {
        let c = match c {
            '\u{2018}' | '\u{2019}' | '\u{02bc}' => '\'',
            '\u{201c}' | '\u{201d}' => '"',
            '\t' | '\u{a0}' => ' ',
            c => c,
        };
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// Combine the scores of several findings of one kind as independent
/// evidence (noisy-or): 0.6 and 0.5 give 0.8.
pub fn combined_score(findings: &[InputFinding], kind: InputFindingKind) -> f32 {
    let miss: f32 = findings
        .iter()
        .filter(|f| f.kind == kind)
        .map(|f| 1.0 - f.score.clamp(0.0, 1.0))
        .product();
    1.0 - miss
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_lowercases_and_collapses() {
        assert_eq!(
            normalize("Don\u{2019}t  SHOUT\tplease\nok"),
            "don't shout please\nok"
        );
    }

    #[test]
    fn noisy_or_combines() {
        let f = |score| InputFinding {
            kind: InputFindingKind::Fraud,
            rule: "r".into(),
            score,
        };
        let s = combined_score(&[f(0.6), f(0.5)], InputFindingKind::Fraud);
        assert!((s - 0.8).abs() < 1e-6);
        assert_eq!(combined_score(&[], InputFindingKind::Fraud), 0.0);
    }
}
