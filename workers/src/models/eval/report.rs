//! The evaluation report: plain data (serialisable for `--json`) and a
//! readable table (`Display`), with the agreed targets checked.

use std::fmt;

use serde::Serialize;
use switchboard_engine::event::Intent;

/// Intent accuracy target on clean wording.
pub const TARGET_INTENT_CLEAN: f64 = 0.92;
/// Intent accuracy target on noisy wording (misspelled, slang, formal, jargon).
pub const TARGET_INTENT_NOISY: f64 = 0.85;
/// Most messages handed to a human only for low confidence.
pub const TARGET_MAX_LOW_CONFIDENCE: f64 = 0.10;
/// Attacks blocked.
pub const TARGET_BLOCK_RECALL: f64 = 0.95;
/// Most ordinary messages blocked.
pub const TARGET_MAX_FALSE_POSITIVES: f64 = 0.01;
/// Escalation decided right.
pub const TARGET_ESCALATION_ACCURACY: f64 = 0.95;
/// Retrieval recall at 5.
pub const TARGET_RECALL_AT_5: f64 = 0.95;
/// PII recall target (overall and per type).
pub const TARGET_PII_RECALL: f64 = 0.95;

/// A count and its rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    /// Items that counted (hits, detections, false positives...).
    pub hits: usize,
    /// Items measured.
    pub total: usize,
    /// `hits / total` (0 when nothing was measured).
    pub rate: f64,
}

impl Rate {
    /// `hits` out of `total`.
    pub fn new(hits: usize, total: usize) -> Self {
        let rate = if total == 0 {
            0.0
        } else {
            hits as f64 / total as f64
        };
        Self { hits, total, rate }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:6.2} % ({}/{})",
            self.rate * 100.0,
            self.hits,
            self.total
        )
    }
}

/// Recall of one intent label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelRecall {
    /// The label.
    pub label: Intent,
    /// Correct over examples of this label.
    pub recall: Rate,
}

/// How often one label was taken for another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confusion {
    /// The right label.
    pub expected: Intent,
    /// What the classifier said.
    pub got: Intent,
    /// How many times.
    pub count: usize,
}

/// Intent classification over one set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentEval {
    /// Which set.
    pub set: String,
    /// Correct over all rows.
    pub accuracy: Rate,
    /// Rows whose confidence is below the workflow's floor (they would go to
    /// a human for that reason alone).
    pub low_confidence: Rate,
    /// Mean confidence.
    pub mean_confidence: f64,
    /// Per-label recall.
    pub per_label: Vec<LabelRecall>,
    /// Accuracy per wording style (`all` when the set has no styles).
    pub per_wording: Vec<(String, Rate)>,
    /// The most frequent confusions, most frequent first.
    pub confused: Vec<Confusion>,
}

impl IntentEval {
    /// Accuracy over the rows of one wording style, or over the noisy ones
    /// (every style but `clean`) with `"noisy"`.
    pub fn wording(&self, style: &str) -> Option<Rate> {
        let rows: Vec<&Rate> = self
            .per_wording
            .iter()
            .filter(|(w, _)| match style {
                "noisy" => w != "clean" && w != "all",
                s => w == s,
            })
            .map(|(_, r)| r)
            .collect();
        let (hits, total) = rows
            .iter()
            .fold((0, 0), |a, r| (a.0 + r.hits, a.1 + r.total));
        (total > 0).then(|| Rate::new(hits, total))
    }
}

/// Input screening over one set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScreeningEval {
    /// Which set.
    pub set: String,
    /// Rows that must be blocked and were.
    pub block_recall: Rate,
    /// Rows that must pass and were blocked.
    pub false_positives: Rate,
    /// Per class: blocked over the class's rows.
    pub per_class: Vec<(String, Rate)>,
}

/// Escalation decisions over multi-turn conversations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EscalationEval {
    /// Which set.
    pub set: String,
    /// Conversations decided right (human or not, after the last turn).
    pub accuracy: Rate,
    /// Handed over among those decided "human".
    pub precision: Rate,
    /// Of those that needed a human, handed over.
    pub recall: Rate,
    /// The cases decided wrong: id, expected, and the reason given (if any).
    pub wrong: Vec<(String, bool, String)>,
    /// Hand-offs by escalation reason: how many, and how many of them were
    /// wanted (a reason whose hand-offs are mostly unwanted is the one to
    /// look at).
    pub by_reason: std::collections::BTreeMap<String, HandOffs>,
}

/// The hand-offs of one escalation reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct HandOffs {
    /// Conversations handed over for this reason.
    pub total: usize,
    /// Of those, the ones the set says needed a human.
    pub wanted: usize,
}

/// Retrieval over one set of queries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrievalEval {
    /// Which set (and tenant).
    pub set: String,
    /// Queries whose best passage is an expected one.
    pub recall_at_1: Rate,
    /// Queries with an expected passage among the first five.
    pub recall_at_5: Rate,
    /// Queries missed at 5: query and what came first.
    pub missed: Vec<(String, String)>,
}

/// PII detection on Presidio's synthetic set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PiiEval {
    /// Recall per entity type (`EMAIL_ADDRESS`, `PHONE_NUMBER`, ...).
    pub per_type: Vec<(String, Rate)>,
    /// Recall over the five types together.
    pub overall: Rate,
    /// How a gold span counts as found.
    pub matching: String,
}

/// Everything an evaluation measured.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct EvalReport {
    /// The intent model measured (`shipped` or a file).
    pub model: String,
    /// Intent sets.
    pub intent: Vec<IntentEval>,
    /// Screening sets.
    pub screening: Vec<ScreeningEval>,
    /// Escalation sets.
    pub escalation: Vec<EscalationEval>,
    /// Retrieval sets.
    pub retrieval: Vec<RetrievalEval>,
    /// PII detection (with the shared data only).
    pub pii: Option<PiiEval>,
}

fn mark(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

fn target_at_least(f: &mut fmt::Formatter<'_>, name: &str, r: Rate, t: f64) -> fmt::Result {
    let ok = mark(r.rate >= t);
    writeln!(f, "  {name:<34} {r}   target ≥ {:.0} %  {ok}", t * 100.0)
}

fn target_at_most(f: &mut fmt::Formatter<'_>, name: &str, r: Rate, t: f64) -> fmt::Result {
    let ok = mark(r.rate <= t);
    writeln!(f, "  {name:<34} {r}   target ≤ {:.0} %  {ok}", t * 100.0)
}

impl fmt::Display for IntentEval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Intent: {}", self.set)?;
        writeln!(f, "  {:<34} {}", "accuracy", self.accuracy)?;
        if let Some(clean) = self.wording("clean") {
            target_at_least(f, "accuracy, clean wording", clean, TARGET_INTENT_CLEAN)?;
        }
        if let Some(noisy) = self.wording("noisy") {
            target_at_least(f, "accuracy, noisy wording", noisy, TARGET_INTENT_NOISY)?;
        }
        for (style, rate) in self.per_wording.iter().filter(|(w, _)| w != "all") {
            writeln!(f, "    {style:<32} {rate}")?;
        }
        let low = self.low_confidence;
        target_at_most(
            f,
            "handed over for low confidence",
            low,
            TARGET_MAX_LOW_CONFIDENCE,
        )?;
        writeln!(f, "  {:<34} {:.3}", "mean confidence", self.mean_confidence)?;
        for l in &self.per_label {
            let name = format!("{:?}", l.label);
            writeln!(f, "    {name:<32} recall {}", l.recall)?;
        }
        for c in &self.confused {
            writeln!(
                f,
                "    confused {:?} → {:?}: {}",
                c.expected, c.got, c.count
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for ScreeningEval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Screening: {}", self.set)?;
        if self.block_recall.total > 0 {
            target_at_least(f, "attacks blocked", self.block_recall, TARGET_BLOCK_RECALL)?;
        }
        if self.false_positives.total > 0 {
            let fp = self.false_positives;
            target_at_most(
                f,
                "ordinary messages blocked",
                fp,
                TARGET_MAX_FALSE_POSITIVES,
            )?;
        }
        for (class, rate) in &self.per_class {
            writeln!(f, "    {class:<46} {rate}")?;
        }
        Ok(())
    }
}

impl fmt::Display for EscalationEval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Escalation: {}", self.set)?;
        let acc = self.accuracy;
        target_at_least(f, "decided right", acc, TARGET_ESCALATION_ACCURACY)?;
        writeln!(f, "  {:<34} {}", "precision", self.precision)?;
        writeln!(f, "  {:<34} {}", "recall", self.recall)?;
        for (reason, h) in &self.by_reason {
            let label = format!("handed over: {reason}");
            writeln!(f, "    {label:<40} {} ({} wanted)", h.total, h.wanted)?;
        }
        for (id, human, reason) in &self.wrong {
            let want = if *human { "human" } else { "agents" };
            writeln!(f, "    wrong {id}: wanted {want}, got {reason}")?;
        }
        Ok(())
    }
}

impl fmt::Display for RetrievalEval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Retrieval: {}", self.set)?;
        writeln!(f, "  {:<34} {}", "recall@1", self.recall_at_1)?;
        target_at_least(f, "recall@5", self.recall_at_5, TARGET_RECALL_AT_5)?;
        for (query, first) in &self.missed {
            writeln!(f, "    missed {query:?} (first: {first})")?;
        }
        Ok(())
    }
}

impl fmt::Display for PiiEval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "PII recall (Presidio synthetic; {})", self.matching)?;
        for (kind, rate) in &self.per_type {
            writeln!(f, "  {kind:<15} {rate}")?;
        }
        target_at_least(f, "overall", self.overall, TARGET_PII_RECALL)
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Model: {}", self.model)?;
        for i in &self.intent {
            writeln!(f, "{i}")?;
        }
        for s in &self.screening {
            writeln!(f, "{s}")?;
        }
        for e in &self.escalation {
            writeln!(f, "{e}")?;
        }
        for r in &self.retrieval {
            writeln!(f, "{r}")?;
        }
        if let Some(p) = &self.pii {
            write!(f, "{p}")?;
        }
        Ok(())
    }
}
