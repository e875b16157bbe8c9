//! Escalation over multi-turn conversations: each case's customer turns go
//! through the real agents and workflow in memory ([`DryRun`]), and the
//! case is right when the conversation is handed to a human exactly when
//! the set says it should be (by its last turn).
//!
//! Set format, one JSON object per line:
//! `{"id": "esc-001", "turns": ["...", "..."], "human": true, "why": "..."}`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use switchboard_engine::ids::ConversationKey;

use super::report::{EscalationEval, HandOffs, Rate};
use super::{EvalError, read};
use crate::agents::{Agents, DryRun};

/// One multi-turn case.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationCase {
    /// The case's id.
    pub id: String,
    /// The customer's messages, in order.
    pub turns: Vec<String>,
    /// Whether a human should have the conversation after the last turn.
    pub human: bool,
    /// Why (for people reading the set).
    #[serde(default)]
    pub why: String,
}

/// Reads a JSON-lines escalation set; a bad line is named.
pub fn read_escalation_jsonl(path: &Path) -> Result<Vec<EscalationCase>, EvalError> {
    let mut cases = Vec::new();
    for (n, line) in read(path)?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: EscalationCase = serde_json::from_str(line).map_err(|e| EvalError::Json {
            path: path.to_owned(),
            reason: format!("line {}: {e}", n + 1),
        })?;
        if case.turns.is_empty() {
            return Err(EvalError::Json {
                path: path.to_owned(),
                reason: format!("line {}: case {} has no turns", n + 1, case.id),
            });
        }
        cases.push(case);
    }
    Ok(cases)
}

/// Run every case and summarise.
pub async fn measure(set: &str, agents: &Agents, cases: &[EscalationCase]) -> EscalationEval {
    let team = agents.team();
    let (mut right, mut tp, mut said_human, mut needed) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    let mut by_reason = BTreeMap::<String, HandOffs>::new();
    for (i, case) in cases.iter().enumerate() {
        let decided = decide(&team, i, case).await;
        let human = matches!(decided, Decided::Handed(_));
        if let Decided::Handed(handed) = &decided {
            let h = by_reason.entry(handed.reason.clone()).or_default();
            h.total += 1;
            h.wanted += usize::from(case.human);
        }
        right += usize::from(human == case.human);
        tp += usize::from(human && case.human);
        said_human += usize::from(human);
        needed += usize::from(case.human);
        if human != case.human {
            let got = match decided {
                Decided::Handed(h) => h.detail,
                Decided::Answered { last_read } => {
                    format!("answered by the agents (last turn read as {last_read})")
                }
            };
            wrong.push((case.id.clone(), case.human, got));
        }
    }
    EscalationEval {
        set: set.to_owned(),
        accuracy: Rate::new(right, cases.len()),
        precision: Rate::new(tp, said_human),
        recall: Rate::new(tp, needed),
        wrong,
        by_reason,
    }
}

/// How one case ended.
enum Decided {
    /// Handed to a human at some turn.
    Handed(HandedOver),
    /// Answered by the agents throughout; what the last turn was read as,
    /// so a miss says why no rule fired.
    Answered { last_read: String },
}

/// A conversation handed to a human.
struct HandedOver {
    /// The escalation reason (`step error` for a step that failed).
    reason: String,
    /// The reason and the turn it came at, or the step's error.
    detail: String,
}

/// The hand-off of the first escalated turn, if any (a step error counts
/// as a hand-off: production would dead-letter and escalate).
async fn decide(team: &crate::agents::Team, i: usize, case: &EscalationCase) -> Decided {
    let Ok(key) = ConversationKey::parse(&format!("eval/case-{i}")) else {
        return Decided::Answered {
            last_read: "nothing".into(),
        };
    };
    let mut run = DryRun::new(team, key);
    for turn in &case.turns {
        match run.message(turn).await {
            Ok(outcome) => {
                if let Some(e) = outcome.escalated {
                    let reason = format!("{:?}", e.reason);
                    let detail = format!("{reason} at {turn:?}");
                    return Decided::Handed(HandedOver { reason, detail });
                }
            }
            Err(e) => {
                return Decided::Handed(HandedOver {
                    reason: "step error".into(),
                    detail: format!("step error {e}"),
                });
            }
        }
    }
    let state = run.state();
    let last_read = match state.turn.as_ref().and_then(|t| t.classified.as_ref()) {
        Some(c) => format!(
            "{:?} {:.2}, {:?}, signals {:?}",
            c.intent, c.confidence, c.sentiment, c.signals
        ),
        None => "unclassified".into(),
    };
    Decided::Answered { last_read }
}
