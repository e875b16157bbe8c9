//! Recall of `LocalCritic::screen` on attacks and its false-positive rate
//! on ordinary messages.
//!
//! - llm-warden test split, `type == jailbreak` (recall) and `benign` (FP,
//!   information: many are role-play prompts no support chat would see);
//! - bastioncorpus, `label == malicious` (recall) and `benign` (FP,
//!   information: look-alikes written to trip filters);
//! - every Bitext customer message (FP, the target).

use std::path::Path;

use switchboard_engine::event::ScreenVerdict;

use super::report::{Rate, ScreeningEval};
use super::{EvalError, read, read_csv_columns};
use crate::models::critic::LocalCritic;

/// Screen everything and count blocks.
pub fn evaluate(data_dir: &Path) -> Result<ScreeningEval, EvalError> {
    let critic = LocalCritic::default();
    let blocked = |texts: &[String]| {
        let hits = texts
            .iter()
            .filter(|t| critic.screen(t).verdict == ScreenVerdict::Block)
            .count();
        Rate::new(hits, texts.len())
    };
    let warden = read_csv_columns(
        &data_dir.join("jailbreak/jailbreak_dataset_test_balanced.csv"),
        &["prompt", "type"],
    )?;
    let of_type = |kind: &str| -> Vec<String> {
        warden
            .iter()
            .filter(|r| r[1] == kind)
            .map(|r| r[0].clone())
            .collect()
    };
    let (malicious, benign) = bastion(data_dir)?;
    let bitext = read_csv_columns(
        &data_dir.join("bitext/bitext_customer_support_sample_6480.csv"),
        &["instruction"],
    )?;
    let bitext: Vec<String> = bitext.into_iter().map(|mut r| r.remove(0)).collect();
    Ok(ScreeningEval {
        jailbreak_recall: blocked(&of_type("jailbreak")),
        bastion_recall: blocked(&malicious),
        bitext_false_positives: blocked(&bitext),
        jailbreak_benign_false_positives: blocked(&of_type("benign")),
        bastion_benign_false_positives: blocked(&benign),
    })
}

/// bastioncorpus messages split into (malicious, benign) by `label`.
fn bastion(data_dir: &Path) -> Result<(Vec<String>, Vec<String>), EvalError> {
    let path = data_dir.join("prompt_injection/bastioncorpus_0.6.0_injections.jsonl");
    let mut malicious = Vec::new();
    let mut benign = Vec::new();
    for (n, line) in read(&path)?
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
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
        if label == "malicious" {
            malicious.push(text)
        } else {
            benign.push(text)
        }
    }
    Ok((malicious, benign))
}
