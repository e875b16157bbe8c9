//! Labelled training data: `text,label` CSV files, and the product's shipped
//! default model, trained once per process from the compiled-in files
//! [`SHIPPED_TRAINING`] (`workers/models/`; see `workers/models/train/README.md`
//! for where each comes from and how it is rebuilt).
//!
//! Labels are the catalog's SCREAMING_SNAKE_CASE intent names; an unknown
//! label is an error that names the line, so a typo in a training file is
//! caught before a model is trained on it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use switchboard_engine::event::Intent;

use super::model::{IntentModel, train};

/// The demo tenant's hand-written training utterances (BrewVi Coffee).
pub const BREWVI_INTENTS_CSV: &str = include_str!("../../../models/brewvi-intents.csv");

/// Every file the shipped model is trained on: `(name, CSV text)`.
pub const SHIPPED_TRAINING: &[(&str, &str)] = &[
    ("brewvi-intents.csv", BREWVI_INTENTS_CSV),
    (
        "train/brewvi-extra.csv",
        include_str!("../../../models/train/brewvi-extra.csv"),
    ),
    (
        "train/brewvi-fr-es.csv",
        include_str!("../../../models/train/brewvi-fr-es.csv"),
    ),
    (
        "train/brewvi-fr-es-2.csv",
        include_str!("../../../models/train/brewvi-fr-es-2.csv"),
    ),
    (
        "train/brewvi-varied.csv",
        include_str!("../../../models/train/brewvi-varied.csv"),
    ),
    (
        "train/bitext-mapped.csv",
        include_str!("../../../models/train/bitext-mapped.csv"),
    ),
];

/// The rows of every shipped training file, in order.
pub fn shipped_training_rows() -> Result<Vec<(String, Intent)>, TrainingDataError> {
    let mut rows = Vec::new();
    for (name, csv) in SHIPPED_TRAINING {
        rows.extend(parse_training_csv(csv.as_bytes(), name)?);
    }
    Ok(rows)
}

/// The shipped model, trained on first use and shared by the process.
static SHIPPED: LazyLock<Arc<IntentModel>> = LazyLock::new(|| {
    // The shipped CSVs are compiled in and parsed by
    // `shipped_training_is_valid` below, so this cannot fail in a tested build.
    let rows = shipped_training_rows().expect("the compiled-in training CSVs are valid");
    Arc::new(train(&rows))
});

/// Why a training file could not be read. Operator errors: report the
/// message (it names the file and line) and stop.
#[derive(Debug, thiserror::Error)]
pub enum TrainingDataError {
    /// The file could not be opened.
    #[error("cannot open training data {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The CSV is malformed (unbalanced quotes, bad UTF-8, I/O error...).
    #[error("{source_name}: malformed CSV: {source}")]
    Csv {
        /// The file or source name.
        source_name: String,
        /// The CSV error (it carries the position).
        source: csv::Error,
    },
    /// The header lacks a `text` or `label` column.
    #[error("{source_name}: header must have `text` and `label` columns")]
    MissingColumn {
        /// The file or source name.
        source_name: String,
    },
    /// A row's label is not one of the 17 intents.
    #[error(
        "{source_name}:{line}: unknown label {label:?} (expected one of the 17 SCREAMING_SNAKE_CASE intents, e.g. ORDER_STATUS)"
    )]
    UnknownLabel {
        /// The file or source name.
        source_name: String,
        /// 1-based line number.
        line: u64,
        /// The label as written.
        label: String,
    },
}

/// Read a `text,label` CSV file (with a header row; extra columns ignored).
pub fn read_training_csv(path: &Path) -> Result<Vec<(String, Intent)>, TrainingDataError> {
    let file = std::fs::File::open(path).map_err(|source| TrainingDataError::Open {
        path: path.to_owned(),
        source,
    })?;
    parse_training_csv(file, &path.display().to_string())
}

/// Parse `text,label` CSV from any reader; `source_name` appears in errors.
pub fn parse_training_csv(
    reader: impl Read,
    source_name: &str,
) -> Result<Vec<(String, Intent)>, TrainingDataError> {
    let csv_err = |source| TrainingDataError::Csv {
        source_name: source_name.to_owned(),
        source,
    };
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = csv.headers().map_err(csv_err)?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(text_col), Some(label_col)) = (column("text"), column("label")) else {
        return Err(TrainingDataError::MissingColumn {
            source_name: source_name.to_owned(),
        });
    };
    let mut rows = Vec::new();
    for record in csv.records() {
        let record = record.map_err(csv_err)?;
        let line = record.position().map_or(0, |p| p.line());
        let label = record.get(label_col).unwrap_or("").trim();
        let text = record.get(text_col).unwrap_or("").trim();
        let Some(intent) = parse_label(label) else {
            return Err(TrainingDataError::UnknownLabel {
                source_name: source_name.to_owned(),
                line,
                label: label.to_owned(),
            });
        };
        if !text.is_empty() {
            rows.push((text.to_owned(), intent));
        }
    }
    Ok(rows)
}

/// `ORDER_STATUS` → `Intent::OrderStatus`, through the catalog's own serde
/// names so the two can never disagree.
pub fn parse_label(label: &str) -> Option<Intent> {
    serde_json::from_value(serde_json::Value::String(label.to_owned())).ok()
}

impl IntentModel {
    /// The shipped default model, trained from [`SHIPPED_TRAINING`]: one
    /// copy per process (its weights are 9 MB), shared by every classifier.
    pub fn builtin() -> Arc<IntentModel> {
        Arc::clone(&SHIPPED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_training_is_valid() {
        let rows = shipped_training_rows().expect("valid CSVs");
        assert!(rows.len() > 3_000, "{} rows", rows.len());
    }

    #[test]
    fn shipped_training_covers_every_label() {
        let rows = shipped_training_rows().expect("valid CSVs");
        for intent in Intent::ALL {
            let n = rows.iter().filter(|(_, i)| *i == intent).count();
            assert!(n >= 100, "{intent:?} has only {n} examples");
        }
    }

    #[test]
    fn unknown_label_names_the_line() {
        let csv = "text,label\nwhere is it,ORDER_STATUS\nhello,GREETING\n";
        let err =
            parse_training_csv(csv.as_bytes(), "t.csv").expect_err("GREETING is not an intent");
        assert!(
            matches!(&err, TrainingDataError::UnknownLabel { line: 3, label, .. } if label == "GREETING")
        );
        assert!(err.to_string().starts_with("t.csv:3: unknown label"));
    }

    #[test]
    fn missing_column_and_missing_file_are_errors() {
        let err = parse_training_csv("a,b\n1,2\n".as_bytes(), "t.csv");
        assert!(matches!(err, Err(TrainingDataError::MissingColumn { .. })));
        let err = read_training_csv(Path::new("/nonexistent/intents.csv"));
        assert!(matches!(err, Err(TrainingDataError::Open { .. })));
    }

    #[test]
    fn quoted_text_with_commas_is_read() {
        let csv = "text,label\n\"hi, where is my order?\",ORDER_STATUS\n";
        let rows = parse_training_csv(csv.as_bytes(), "t.csv").expect("valid CSV");
        assert_eq!(
            rows,
            vec![("hi, where is my order?".to_owned(), Intent::OrderStatus)]
        );
    }
}
