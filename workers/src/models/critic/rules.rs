//! A small rule engine: named, scored regular expressions over normalised
//! text, shared by the input and output critics.
//!
//! Rules are data (name, kind, score, role, pattern, optional veto) so each
//! finding on an event names the rule that fired, and the audit needs no
//! model. A rule's [`Role`] says whether a match is evidence on its own
//! ([`Role::Direct`]) or one part of a combination the screening step
//! checks (a framing plus a forbidden request, a third party plus personal
//! data plus a request for it, a deception plus a gain).

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use switchboard_engine::event::{InputFinding, InputFindingKind};

/// What a match of a rule means for the screening decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Evidence on its own, scored and combined by noisy-or.
    Direct,
    /// A framing (role-play, fiction, hypothetical, authority claim): only
    /// blocks together with a [`Role::Forbidden`] request.
    Framing,
    /// Something the assistant must not do (drop its rules, harmful help,
    /// reveal internals, act on an account without checks), ambiguous alone.
    Forbidden,
    /// A reference to someone other than the writer (their order, card...).
    Third,
    /// A kind of personal data (address, card digits, phone, order contents).
    Data,
    /// A request to be given or told something.
    Ask,
    /// Deception (fake, pretend, claim it never arrived, mark as returned).
    Deceive,
    /// What fraud is after (refund, chargeback, review, promo, credit).
    Gain,
}

/// One scored pattern.
pub struct Rule {
    /// Stable name, recorded on the finding.
    pub name: &'static str,
    /// What a match means.
    pub kind: InputFindingKind,
    /// How sure a match alone makes us, 0..=1.
    pub score: f32,
    /// How the match is used.
    pub role: Role,
    /// The pattern as compiled into the rule list's set (matched against
    /// normalised text). Only the set is compiled: a compiled copy per rule
    /// would double the rules' memory and was never matched on its own.
    pub pattern: String,
    /// A veto: when it matches too, the rule does not fire ("disregard
    /// *my* earlier instructions", "the *gift* card").
    pub unless: Option<Regex>,
}

/// A rule before compilation.
pub struct Spec {
    name: &'static str,
    kind: InputFindingKind,
    score: f32,
    role: Role,
    pattern: String,
    unless: Option<String>,
}

impl Spec {
    /// A rule with a role; score 0 for combination parts.
    pub fn new(
        name: &'static str,
        kind: InputFindingKind,
        score: f32,
        role: Role,
        pattern: impl Into<String>,
    ) -> Self {
        Self {
            name,
            kind,
            score,
            role,
            pattern: pattern.into(),
            unless: None,
        }
    }

    /// The rule does not fire when `veto` matches the text too.
    pub fn unless(mut self, veto: impl Into<String>) -> Self {
        self.unless = Some(veto.into());
        self
    }
}

impl<P: AsRef<str>> From<(&'static str, InputFindingKind, f32, P)> for Spec {
    fn from((name, kind, score, pattern): (&'static str, InputFindingKind, f32, P)) -> Self {
        Spec::new(name, kind, score, Role::Direct, pattern.as_ref())
    }
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

/// `\b` as an ASCII word boundary (outside a bracketed class): the lazy
/// DFA cannot run Unicode word boundaries on non-ASCII text and would fall
/// back to a much slower engine; screened text is folded to ASCII letters
/// anyway.
///
/// `\w` and `\d` outside a bracketed class become their ASCII classes too:
/// Unicode `\w` is hundreds of byte ranges, copied into the automaton at
/// every occurrence and every bounded repetition, and the critic's rules
/// held most of the process's memory that way (heaptrack, 2026-12-03: 65 of
/// the 135 MB of heap of `up` after 21 answers).
fn ascii_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push(c);
                    break;
                };
                match next {
                    'b' | 'w' | 'd' if !in_class => {
                        out.push_str("(?-u:\\");
                        out.push(next);
                        out.push(')');
                    }
                    _ => {
                        out.push(c);
                        out.push(next);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn literal_regex(pattern: &str) -> Regex {
    // The specs are compiled-in literals; the unit tests compile all of them.
    RegexBuilder::new(&ascii_classes(pattern))
        .size_limit(64 << 20)
        .build()
        .expect("compiled-in critic rule is a valid regex")
}

/// Build a rule list from `(name, kind, score, pattern)` literals, each
/// with the veto `veto(name)` gives it, if any (see [`Spec::unless`]).
pub fn compile_with_vetoes(
    specs: &[(&'static str, InputFindingKind, f32, &'static str)],
    veto: fn(&str) -> Option<&'static str>,
) -> Rules {
    compile(specs.iter().map(|&spec| {
        let name = spec.0;
        let spec = Spec::from(spec);
        match veto(name) {
            Some(v) => spec.unless(v),
            None => spec,
        }
    }))
}

/// Build a rule list from specs (or `(name, kind, score, pattern)` literals,
/// which are [`Role::Direct`]).
pub fn compile<S: Into<Spec>>(specs: impl IntoIterator<Item = S>) -> Rules {
    let rules: Vec<Rule> = specs
        .into_iter()
        .map(Into::into)
        .map(|s| Rule {
            name: s.name,
            kind: s.kind,
            score: s.score,
            role: s.role,
            pattern: ascii_classes(&s.pattern),
            unless: s.unless.as_deref().map(literal_regex),
        })
        .collect();
    let set = RegexSetBuilder::new(rules.iter().map(|r| r.pattern.as_str()))
        .size_limit(64 << 20)
        // The lazy DFA's cache per set and thread. 2 MiB (the regex crate's
        // default) held 5 MB less under load and cost a fifth of the
        // pipeline's throughput (1,587 -> 1,253 conversations/s, same run).
        .dfa_size_limit(16 << 20)
        .build()
        .expect("compiled-in critic rules form a valid set");
    Rules { rules, set }
}

/// One rule that matched a text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// The rule's name.
    pub name: &'static str,
    /// The rule's kind.
    pub kind: InputFindingKind,
    /// The rule's score.
    pub score: f32,
    /// The rule's role.
    pub role: Role,
}

/// Every rule of `rules` that matches `text` and is not vetoed.
pub fn hits(rules: &Rules, text: &str, out: &mut Vec<Hit>) {
    for index in rules.set.matches(text).iter() {
        let rule = &rules.rules[index];
        if rule.unless.as_ref().is_some_and(|u| u.is_match(text)) {
            continue;
        }
        out.push(Hit {
            name: rule.name,
            kind: rule.kind,
            score: rule.score,
            role: rule.role,
        });
    }
}

/// Every direct rule of `rules` that matches `text`, as findings whose rule
/// name is prefixed with `prefix` (e.g. `decoded-base64:`).
#[cfg(test)]
pub fn scan(rules: &Rules, text: &str, prefix: &str, out: &mut Vec<InputFinding>) {
    let mut found = Vec::new();
    hits(rules, text, &mut found);
    for hit in found.into_iter().filter(|h| h.role == Role::Direct) {
        let name = format!("{prefix}{}", hit.name);
        if !out.iter().any(|f| f.rule == name) {
            out.push(InputFinding {
                kind: hit.kind,
                rule: name,
                score: hit.score,
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
