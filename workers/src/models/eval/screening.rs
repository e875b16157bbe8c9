//! Screening measurement: which messages `LocalCritic::screen` blocks, by
//! class, over any `text,label,class` set (label `ALLOW` or `BLOCK`), and
//! the held-out parts of the shared data sets:
//! - llm-warden's test split (its train split may be read for tuning):
//!   `jailbreak` rows must be blocked; its `benign` rows are role-play
//!   prompts no support chat sees (information only);
//! - bastioncorpus rows on odd 0-based lines (even lines may be read for
//!   tuning): `malicious` must be blocked, `benign` look-alikes must pass;
//! - ordinary customer messages that must pass: Bitext's held-out rows,
//!   banking77's test split and CLINC150's test and out-of-scope test rows.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use switchboard_engine::event::ScreenVerdict;

use super::report::{Rate, ScreeningEval};
use super::{EvalError, bitext, read, read_csv_columns};
use crate::models::critic::LocalCritic;

/// One message of a screening set.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreeningRow {
    /// The message.
    pub text: String,
    /// Whether it must be blocked.
    pub block: bool,
    /// Its class (`injection`, `ordinary`, ...).
    pub class: String,
}

/// Reads `text,label[,class]` CSV, label `ALLOW` or `BLOCK`.
pub fn read_screening_csv(path: &Path) -> Result<Vec<ScreeningRow>, EvalError> {
    let rows = read_csv_columns(path, &["text", "label"])?;
    let classes = super::read_csv_optional(path, "class")?;
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let block = match row[1].as_str() {
                "BLOCK" => true,
                "ALLOW" => false,
                other => {
                    return Err(EvalError::Csv {
                        path: path.to_owned(),
                        reason: format!("line {}: label {other:?} is not ALLOW or BLOCK", i + 2),
                    });
                }
            };
            let class = classes.as_ref().and_then(|c| c.get(i).cloned());
            let class = class.unwrap_or_else(|| row[1].to_lowercase());
            Ok(ScreeningRow {
                text: row[0].clone(),
                block,
                class,
            })
        })
        .collect()
}

/// Screen every row and summarise per class.
pub fn measure(set: &str, critic: &LocalCritic, rows: &[ScreeningRow]) -> ScreeningEval {
    let mut classes: BTreeMap<(bool, String), (usize, usize)> = BTreeMap::new();
    for row in rows {
        let blocked = critic.screen(&row.text).verdict == ScreenVerdict::Block;
        let slot = classes.entry((row.block, row.class.clone())).or_default();
        *slot = (slot.0 + usize::from(blocked), slot.1 + 1);
    }
    let sum = |block: bool| {
        let (hits, total) = classes
            .iter()
            .filter(|((b, _), _)| *b == block)
            .fold((0, 0), |acc, (_, (h, t))| (acc.0 + h, acc.1 + t));
        Rate::new(hits, total)
    };
    ScreeningEval {
        set: set.to_owned(),
        block_recall: sum(true),
        false_positives: sum(false),
        per_class: classes
            .iter()
            .map(|((block, class), (hits, total))| {
                let kind = if *block { "blocked" } else { "wrongly blocked" };
                (format!("{class} ({kind})"), Rate::new(*hits, *total))
            })
            .collect(),
    }
}

/// The held-out attack and look-alike rows of the shared data.
pub fn shared_attacks(data_dir: &Path) -> Result<Vec<ScreeningRow>, EvalError> {
    let warden = read_csv_columns(
        &data_dir.join("jailbreak/jailbreak_dataset_test_balanced.csv"),
        &["prompt", "type"],
    )?;
    let mut rows: Vec<ScreeningRow> = warden
        .into_iter()
        .map(|r| {
            let block = r[1] == "jailbreak";
            let class = if block {
                "jailbreak (llm-warden test)"
            } else {
                "role-play prompt (llm-warden test, information)"
            };
            row(&r[0], block, class)
        })
        .collect();
    rows.extend(bastion_held_out(data_dir)?);
    Ok(rows)
}

/// Ordinary customer messages of the held-out public splits.
pub fn shared_ordinary(data_dir: &Path) -> Result<Vec<ScreeningRow>, EvalError> {
    let mut rows: Vec<ScreeningRow> = bitext::held_out_texts(data_dir)?
        .iter()
        .map(|t| row(t, false, "ordinary (Bitext held-out)"))
        .collect();
    let banking = read_csv_columns(&data_dir.join("banking77/test.csv"), &["text"])?;
    rows.extend(
        banking
            .iter()
            .map(|r| row(&r[0], false, "ordinary (banking77 test)")),
    );
    rows.extend(clinc_test(data_dir)?);
    Ok(rows)
}

fn row(text: &str, block: bool, class: &str) -> ScreeningRow {
    ScreeningRow {
        text: text.to_owned(),
        block,
        class: class.to_owned(),
    }
}

#[derive(Deserialize)]
struct Clinc {
    test: Vec<(String, String)>,
    oos_test: Vec<(String, String)>,
}

fn clinc_test(data_dir: &Path) -> Result<Vec<ScreeningRow>, EvalError> {
    let path = data_dir.join("clinc150/data_full.json");
    let clinc: Clinc = serde_json::from_str(&read(&path)?).map_err(|e| EvalError::Json {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok(clinc
        .test
        .iter()
        .chain(&clinc.oos_test)
        .map(|(text, _)| row(text, false, "ordinary (CLINC150 test)"))
        .collect())
}

/// bastioncorpus rows on odd 0-based lines.
fn bastion_held_out(data_dir: &Path) -> Result<Vec<ScreeningRow>, EvalError> {
    let path = data_dir.join("prompt_injection/bastioncorpus_0.6.0_injections.jsonl");
    let mut rows = Vec::new();
    for (n, line) in read(&path)?.lines().enumerate() {
        if n % 2 == 0 || line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| EvalError::Json {
            path: path.clone(),
            reason: format!("line {}: {reason}", n + 1),
        };
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let (Some(label), Some(text)) = (field("label"), field("text")) else {
            return Err(bad("missing `label` or `text`".to_owned()));
        };
        let block = label == "malicious";
        let class = if block {
            "injection (bastion held-out)"
        } else {
            "look-alike (bastion held-out)"
        };
        rows.push(row(&text, block, class));
    }
    Ok(rows)
}
