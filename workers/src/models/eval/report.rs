//! The evaluation report: plain data (serialisable for `--json`) and a
//! readable table (`Display`), with the agreed targets checked.

use std::fmt;

use serde::Serialize;
use switchboard_engine::event::Intent;

/// Intent accuracy target on held-out Bitext.
pub const TARGET_INTENT_ACCURACY: f64 = 0.90;
/// Injection and jailbreak recall target.
pub const TARGET_INJECTION_RECALL: f64 = 0.90;
/// Maximum share of ordinary Bitext messages blocked.
pub const TARGET_MAX_FALSE_POSITIVES: f64 = 0.02;
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

/// Recall of one intent label on the held-out set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelRecall {
    /// The label.
    pub label: Intent,
    /// Correct over held-out examples of this label.
    pub recall: Rate,
}

/// Intent classification on Bitext mapped to our labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentEval {
    /// How the split was made.
    pub split: String,
    /// Training rows.
    pub train_rows: usize,
    /// Held-out rows.
    pub test_rows: usize,
    /// Share of held-out rows classified correctly.
    pub accuracy: f64,
    /// Mean confidence on held-out rows.
    pub mean_confidence: f64,
    /// Per-label recall (labels present in the held-out set).
    pub per_label: Vec<LabelRecall>,
    /// Bitext intents left out, with why.
    pub dropped: Vec<String>,
}

/// Screening: recall on attacks, false positives on ordinary messages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScreeningEval {
    /// Blocked jailbreak prompts of the llm-warden test split.
    pub jailbreak_recall: Rate,
    /// Blocked malicious bastioncorpus messages.
    pub bastion_recall: Rate,
    /// Blocked ordinary Bitext customer messages (target ≤ 2 %).
    pub bitext_false_positives: Rate,
    /// Blocked benign prompts of the llm-warden test split (information).
    pub jailbreak_benign_false_positives: Rate,
    /// Blocked benign look-alikes of bastioncorpus (information).
    pub bastion_benign_false_positives: Rate,
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

/// Which targets are met.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Targets {
    /// Intent accuracy ≥ 90 %.
    pub intent_accuracy: bool,
    /// Jailbreak and bastion recall ≥ 90 %.
    pub injection_recall: bool,
    /// Bitext false positives ≤ 2 %.
    pub bitext_false_positives: bool,
    /// PII recall ≥ 95 % overall and per type.
    pub pii_recall: bool,
}

/// Everything `run_eval` measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Intent classification.
    pub intent: IntentEval,
    /// Input screening.
    pub screening: ScreeningEval,
    /// PII detection.
    pub pii: PiiEval,
    /// Targets met.
    pub targets: Targets,
}

impl EvalReport {
    /// Assemble a report and check the targets.
    pub fn new(intent: IntentEval, screening: ScreeningEval, pii: PiiEval) -> Self {
        let targets = Targets {
            intent_accuracy: intent.accuracy >= TARGET_INTENT_ACCURACY,
            injection_recall: screening.jailbreak_recall.rate >= TARGET_INJECTION_RECALL
                && screening.bastion_recall.rate >= TARGET_INJECTION_RECALL,
            bitext_false_positives: screening.bitext_false_positives.rate
                <= TARGET_MAX_FALSE_POSITIVES,
            pii_recall: pii.overall.rate >= TARGET_PII_RECALL
                && pii
                    .per_type
                    .iter()
                    .all(|(_, r)| r.total == 0 || r.rate >= TARGET_PII_RECALL),
        };
        Self {
            intent,
            screening,
            pii,
            targets,
        }
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (i, s, p, t) = (&self.intent, &self.screening, &self.pii, &self.targets);
        writeln!(f, "Intent (Bitext → 17 labels; {})", i.split)?;
        writeln!(f, "  train {} / test {} rows", i.train_rows, i.test_rows)?;
        writeln!(
            f,
            "  accuracy            {:6.2} %   target ≥ 90 %  {}",
            i.accuracy * 100.0,
            mark(t.intent_accuracy)
        )?;
        writeln!(f, "  mean confidence     {:6.3}", i.mean_confidence)?;
        for l in &i.per_label {
            writeln!(
                f,
                "    {:<26} recall {}",
                format!("{:?}", l.label),
                l.recall
            )?;
        }
        writeln!(f, "  dropped: {}", i.dropped.join("; "))?;
        writeln!(f, "Screening")?;
        writeln!(
            f,
            "  jailbreak recall (llm-warden test)   {}  target ≥ 90 %  {}",
            s.jailbreak_recall,
            mark(s.jailbreak_recall.rate >= TARGET_INJECTION_RECALL)
        )?;
        writeln!(
            f,
            "  injection recall (bastioncorpus)     {}  target ≥ 90 %  {}",
            s.bastion_recall,
            mark(s.bastion_recall.rate >= TARGET_INJECTION_RECALL)
        )?;
        writeln!(
            f,
            "  false positives (Bitext)             {}  target ≤ 2 %   {}",
            s.bitext_false_positives,
            mark(t.bitext_false_positives)
        )?;
        writeln!(
            f,
            "  false positives (llm-warden benign)  {}  (information)",
            s.jailbreak_benign_false_positives
        )?;
        writeln!(
            f,
            "  false positives (bastion benign)     {}  (information)",
            s.bastion_benign_false_positives
        )?;
        writeln!(f, "PII recall (Presidio synthetic; {})", p.matching)?;
        for (kind, rate) in &p.per_type {
            writeln!(f, "  {kind:<15} {rate}")?;
        }
        writeln!(
            f,
            "  overall         {}  target ≥ 95 %  {}",
            p.overall,
            mark(t.pii_recall)
        )
    }
}
