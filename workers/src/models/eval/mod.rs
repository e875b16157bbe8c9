//! Measures the local models against the shared public data sets
//! (`../shared/data`, see its MANIFEST): intent accuracy on Bitext mapped to
//! our 17 labels, injection/jailbreak recall and false-positive rates of the
//! critic's screening, and PII recall on Presidio's synthetic set.
//!
//! Nothing here is product logic; it backs `switchboard models eval` and
//! the eval test, and the targets below are the ones the team agreed on.
//!
//! # Layout
//! - `bitext`: the Bitext → intent mapping and the intent evaluation.
//! - `screening`: recall and false positives of `LocalCritic::screen`.
//! - `pii`: recall of the PII detector per type.
//! - `report`: the report types and their table rendering.

mod bitext;
mod pii;
mod report;
mod screening;

use std::path::{Path, PathBuf};

pub use bitext::{BITEXT_DROPPED, map_bitext_intent};
pub use report::{EvalReport, IntentEval, LabelRecall, PiiEval, Rate, ScreeningEval, Targets};

/// Why the evaluation could not run. All mean the data folder is missing
/// or not what the MANIFEST describes: report and stop.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A data file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A CSV data file is malformed or lacks a column.
    #[error("bad CSV {path}: {reason}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A JSON data file is malformed or not of the expected shape.
    #[error("bad JSON {path}: {reason}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Run every measurement on the shared data folder (`/work/shared/data`, or
/// `<repo>/../shared/data`).
pub fn run_eval(data_dir: &Path) -> Result<EvalReport, EvalError> {
    let intent = bitext::evaluate(data_dir)?;
    let screening = screening::evaluate(data_dir)?;
    let pii = pii::evaluate(data_dir)?;
    Ok(EvalReport::new(intent, screening, pii))
}

/// Read a whole file, mapping the error.
fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Read a CSV file's named columns, row by row.
fn read_csv_columns(path: &Path, columns: &[&str]) -> Result<Vec<Vec<String>>, EvalError> {
    let bad = |reason: String| EvalError::Csv {
        path: path.to_owned(),
        reason,
    };
    let text = read(path)?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h == *c)
                .ok_or_else(|| bad(format!("no column {c:?}")))
        })
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        rows.push(
            idx.iter()
                .map(|&i| record.get(i).unwrap_or("").to_owned())
                .collect(),
        );
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn eval_meets_targets_on_shared_data() {
        let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
        if !data.join("MANIFEST.md").exists() {
            eprintln!("skipped: shared data not found at {}", data.display());
            return;
        }
        let report = run_eval(&data).expect("the shared data folder is readable");
        eprintln!("{report}");
        let t = &report.targets;
        assert!(
            t.intent_accuracy,
            "intent accuracy {:.3}",
            report.intent.accuracy
        );
        assert!(
            t.injection_recall,
            "injection recall {:?} {:?}",
            report.screening.jailbreak_recall, report.screening.bastion_recall
        );
        assert!(
            t.bitext_false_positives,
            "bitext FP {:?}",
            report.screening.bitext_false_positives
        );
        assert!(t.pii_recall, "pii {:?}", report.pii.overall);
    }
}
