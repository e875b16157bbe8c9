//! Intent measurement over any labelled set: accuracy, per-label recall,
//! accuracy per wording style, the most confused pairs and the share of
//! messages that would go to a human only for low confidence.
//!
//! The classifier measured is the product's own path (`LocalClassifier`,
//! guards included), never a model retrained for the measurement.

use std::collections::BTreeMap;
use std::path::Path;

use switchboard_engine::event::Intent;
use switchboard_engine::workflow::Policy;

use super::report::{Confusion, IntentEval, LabelRecall, Rate};
use super::{EvalError, read_csv_columns, read_csv_optional};
use crate::models::LocalClassifier;
use crate::models::intent::parse_label;

/// One labelled message.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentRow {
    /// The customer's message.
    pub text: String,
    /// The expected intent.
    pub label: Intent,
    /// Wording style (`clean`, `misspelled`, ...), when the set says.
    pub wording: Option<String>,
}

/// Reads `text,label[,wording]` CSV; an unknown label names its line.
pub fn read_intent_csv(path: &Path) -> Result<Vec<IntentRow>, EvalError> {
    let rows = read_csv_columns(path, &["text", "label"])?;
    let wording = read_csv_optional(path, "wording")?;
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let label = parse_label(&row[1]).ok_or_else(|| EvalError::Csv {
                path: path.to_owned(),
                reason: format!("line {}: unknown label {:?}", i + 2, row[1]),
            })?;
            Ok(IntentRow {
                text: row[0].clone(),
                label,
                wording: wording.as_ref().and_then(|w| w.get(i).cloned()),
            })
        })
        .collect()
}

/// Classify every row with `classifier` and summarise.
pub fn measure(set: &str, classifier: &LocalClassifier, rows: &[IntentRow]) -> IntentEval {
    let floor = Policy::default().min_confidence;
    let mut tally = Tally::default();
    for row in rows {
        let c = classifier.classify(&row.text);
        tally.add(row, c.intent, c.confidence, c.confidence < floor);
    }
    tally.finish(set, rows.len())
}

#[derive(Default)]
struct Tally {
    correct: usize,
    low: usize,
    confidence: f64,
    labels: BTreeMap<Intent, (usize, usize)>,
    wordings: BTreeMap<String, (usize, usize)>,
    confused: BTreeMap<(Intent, Intent), usize>,
}

impl Tally {
    fn add(&mut self, row: &IntentRow, got: Intent, confidence: f32, low: bool) {
        let hit = got == row.label;
        self.correct += usize::from(hit);
        self.low += usize::from(low);
        self.confidence += f64::from(confidence);
        let label = self.labels.entry(row.label).or_default();
        *label = (label.0 + usize::from(hit), label.1 + 1);
        let style = row.wording.clone().unwrap_or_else(|| "all".to_owned());
        let wording = self.wordings.entry(style).or_default();
        *wording = (wording.0 + usize::from(hit), wording.1 + 1);
        if !hit {
            *self.confused.entry((row.label, got)).or_default() += 1;
        }
    }

    fn finish(self, set: &str, n: usize) -> IntentEval {
        let mut confused: Vec<Confusion> = self
            .confused
            .into_iter()
            .map(|((expected, got), count)| Confusion {
                expected,
                got,
                count,
            })
            .collect();
        confused.sort_by_key(|c| std::cmp::Reverse(c.count));
        confused.truncate(8);
        IntentEval {
            set: set.to_owned(),
            accuracy: Rate::new(self.correct, n),
            low_confidence: Rate::new(self.low, n),
            mean_confidence: self.confidence / n.max(1) as f64,
            per_label: self
                .labels
                .into_iter()
                .map(|(label, (hits, total))| LabelRecall {
                    label,
                    recall: Rate::new(hits, total),
                })
                .collect(),
            per_wording: self
                .wordings
                .into_iter()
                .map(|(w, (hits, total))| (w, Rate::new(hits, total)))
                .collect(),
            confused,
        }
    }
}
