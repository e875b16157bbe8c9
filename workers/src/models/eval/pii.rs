//! PII recall on Presidio's synthetic set for the five types with
//! checksums or fixed shapes: e-mail, phone, credit card, US SSN, IBAN.
//!
//! A gold span counts as found when a detected span of the matching kind
//! overlaps it (phone numbers are written in many ways and a detector may
//! include or leave out a `+` or an extension).

use std::path::Path;

use serde::Deserialize;

use super::report::{PiiEval, Rate};
use super::{EvalError, read};
use crate::models::critic::{PiiKind, find_pii};

#[derive(Deserialize)]
struct Record {
    full_text: String,
    spans: Vec<Span>,
}

#[derive(Deserialize)]
struct Span {
    entity_type: String,
    start_position: usize,
    end_position: usize,
}

const TYPES: &[(&str, PiiKind)] = &[
    ("EMAIL_ADDRESS", PiiKind::Email),
    ("PHONE_NUMBER", PiiKind::Phone),
    ("CREDIT_CARD", PiiKind::Card),
    ("US_SSN", PiiKind::Ssn),
    ("IBAN_CODE", PiiKind::Iban),
];

/// Detect PII in every record and count found gold spans per type.
pub fn evaluate(data_dir: &Path) -> Result<PiiEval, EvalError> {
    let path = data_dir.join("pii/presidio_synth_dataset_v2.json");
    let records: Vec<Record> =
        serde_json::from_str(&read(&path)?).map_err(|e| EvalError::Json {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    let mut counts = vec![(0usize, 0usize); TYPES.len()];
    for record in &records {
        let found = find_pii(&record.full_text);
        for span in &record.spans {
            let Some(t) = TYPES.iter().position(|(name, _)| *name == span.entity_type) else {
                continue;
            };
            let hit = found.iter().any(|f| {
                f.kind == TYPES[t].1 && f.start < span.end_position && span.start_position < f.end
            });
            counts[t].0 += usize::from(hit);
            counts[t].1 += 1;
        }
    }
    let (hits, total) = counts.iter().fold((0, 0), |(h, n), (a, b)| (h + a, n + b));
    Ok(PiiEval {
        per_type: TYPES
            .iter()
            .zip(&counts)
            .map(|((name, _), (h, n))| ((*name).to_owned(), Rate::new(*h, *n)))
            .collect(),
        overall: Rate::new(hits, total),
        matching: "gold span overlapped by a detection of the same kind".to_owned(),
    })
}
