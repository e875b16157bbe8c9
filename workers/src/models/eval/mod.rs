//! Measures the agents that ship (or a given intent model) on labelled
//! sets: the project's own held-out sets (`workers/eval/`, written before
//! any tuning and never trained on), a user's own files, and the frozen
//! held-out parts of the shared public data (`../shared/data`, see its
//! MANIFEST and `workers/models/splits/`).
//!
//! Nothing here is product logic; it backs `switchboard eval` and the eval
//! tests. Targets are the ones of the agents issue (see `report`).
//!
//! # Layout
//! - `intent`: intent accuracy, per label and wording, confusions, hand-offs.
//! - `bitext`: the Bitext → intent mapping and its held-out part.
//! - `screening`: block recall per class and false positives.
//! - `escalation`: multi-turn escalation decisions through the real workflow.
//! - `retrieval`: recall@1 and @5 of the knowledge agent per tenant and language.
//! - `pii`: recall of the PII detector per type.
//! - `report`: the report types and their table rendering.

mod bitext;
mod escalation;
mod intent;
mod pii;
mod report;
mod retrieval;
mod screening;

use std::sync::Arc;

use std::path::{Path, PathBuf};

pub use bitext::{BITEXT_DROPPED, map_bitext_intent};
pub use escalation::{EscalationCase, read_escalation_jsonl};
pub use intent::{IntentRow, read_intent_csv};
pub use report::{
    Confusion, EscalationEval, EvalReport, IntentEval, LabelRecall, PiiEval, Rate, RetrievalEval,
    ScreeningEval,
};
pub use retrieval::{RetrievalQuery, knowledge_base_from_dir, read_retrieval_jsonl};
pub use screening::{ScreeningRow, read_screening_csv};

use crate::agents::Agents;
use crate::models::{IntentModel, LocalClassifier, LocalCritic};

/// What to measure.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    /// The shared public data folder; its held-out parts are measured when set.
    pub shared: Option<PathBuf>,
    /// `text,label[,wording]` intent sets.
    pub intent: Vec<PathBuf>,
    /// `text,label[,class]` screening sets (ALLOW / BLOCK).
    pub screening: Vec<PathBuf>,
    /// JSON-lines multi-turn escalation sets.
    pub escalation: Vec<PathBuf>,
    /// JSON-lines retrieval sets.
    pub retrieval: Vec<PathBuf>,
    /// Knowledge-base directories per tenant (`brewvi` defaults to the demo).
    pub knowledge: Vec<(String, PathBuf)>,
    /// Only the retrieval queries of this tenant.
    pub tenant: Option<String>,
    /// The intent model to measure instead of the shipped one.
    pub intent_model: Option<PathBuf>,
    /// Print the misses of escalation and retrieval sets by id only, their
    /// texts withheld: the project's own held-out sets must stay unread by
    /// whoever tunes the agents ([`EvalOptions::own_sets`] sets it).
    pub hide_misses: bool,
}

impl EvalOptions {
    /// The project's own sets in `dir` (`intents.csv`, `screening.csv` and
    /// `ordinary.csv`, `escalation.jsonl`, `retrieval.jsonl`), those that
    /// exist.
    pub fn own_sets(dir: &Path) -> Self {
        let some = |name: &str| {
            let p = dir.join(name);
            if p.exists() { vec![p] } else { Vec::new() }
        };
        Self {
            intent: some("intents.csv"),
            screening: [some("screening.csv"), some("ordinary.csv")].concat(),
            escalation: some("escalation.jsonl"),
            retrieval: some("retrieval.jsonl"),
            knowledge: tenant_dirs(&dir.join("tenants")),
            hide_misses: true,
            ..Self::default()
        }
    }
}

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
    /// The intent model or the agents could not be built.
    #[error("cannot build the model to measure: {0}")]
    Model(String),
    /// A JSON data file is malformed or not of the expected shape.
    #[error("bad JSON {path}: {reason}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Run every measurement `options` asks for.
pub async fn run_eval(options: &EvalOptions) -> Result<EvalReport, EvalError> {
    let model = match &options.intent_model {
        Some(path) => {
            Arc::new(IntentModel::load(path).map_err(|e| EvalError::Model(e.to_string()))?)
        }
        None => IntentModel::builtin(),
    };
    let classifier =
        LocalClassifier::new(Arc::clone(&model), crate::models::intent::BREWVI_PRODUCTS);
    let critic = LocalCritic::default();
    let mut report = EvalReport {
        model: options
            .intent_model
            .as_ref()
            .map_or("shipped".to_owned(), |p| p.display().to_string()),
        ..EvalReport::default()
    };
    for path in &options.intent {
        let rows = read_intent_csv(path)?;
        let name = path.display().to_string();
        report
            .intent
            .push(intent::measure(&name, &classifier, &rows));
    }
    for path in &options.screening {
        let rows = read_screening_csv(path)?;
        let name = path.display().to_string();
        report
            .screening
            .push(screening::measure(&name, &critic, &rows));
    }
    if !options.escalation.is_empty() {
        let agents =
            Agents::with_intent_model(model).map_err(|e| EvalError::Model(e.to_string()))?;
        for path in &options.escalation {
            let cases = read_escalation_jsonl(path)?;
            let name = path.display().to_string();
            report
                .escalation
                .push(escalation::measure(&name, &agents, &cases).await);
        }
    }
    for path in &options.retrieval {
        let mut queries = read_retrieval_jsonl(path)?;
        queries.retain(|q| options.tenant.as_ref().is_none_or(|t| *t == q.tenant));
        let bases = knowledge_bases(options, &queries)?;
        let name = path.display().to_string();
        let evals = retrieval::measure(&name, &classifier, &bases, &queries);
        report.retrieval.extend(evals);
    }
    if options.hide_misses {
        withhold_miss_texts(&mut report);
    }
    if let Some(data) = &options.shared {
        shared(data, &classifier, &critic, &mut report)?;
    }
    Ok(report)
}

/// What a held-out miss says instead of its text.
pub const WITHHELD: &str = "(text withheld: held-out set; --show-misses prints it)";

/// Keeps the ids and counts of the misses, not what the customer wrote or
/// what the agents read it as.
fn withhold_miss_texts(report: &mut EvalReport) {
    for e in &mut report.escalation {
        for (_, _, reason) in &mut e.wrong {
            *reason = WITHHELD.to_owned();
        }
    }
    for r in &mut report.retrieval {
        for (query, _) in &mut r.missed {
            *query = WITHHELD.to_owned();
        }
    }
}

/// `<dir>/<tenant>/kb/` for every tenant directory under `dir`.
fn tenant_dirs(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("kb").is_dir())
        .filter_map(|e| Some((e.file_name().to_str()?.to_owned(), e.path().join("kb"))))
        .collect();
    out.sort();
    out
}

/// The knowledge bases of the tenants `queries` ask: a directory given for
/// the tenant, else the demo tenant for `brewvi`.
fn knowledge_bases(
    options: &EvalOptions,
    queries: &[RetrievalQuery],
) -> Result<std::collections::BTreeMap<String, crate::knowledge::KnowledgeBase>, EvalError> {
    let mut bases = std::collections::BTreeMap::new();
    let tenants: std::collections::BTreeSet<&str> =
        queries.iter().map(|q| q.tenant.as_str()).collect();
    for tenant in tenants {
        let dir = options.knowledge.iter().rev().find(|(t, _)| t == tenant);
        let kb = match dir {
            Some((_, dir)) => knowledge_base_from_dir(dir)?,
            None if tenant == "brewvi" => crate::tenant::TenantData::demo()
                .and_then(|d| d.knowledge_base())
                .map_err(|e| EvalError::Model(e.to_string()))?,
            None => continue,
        };
        bases.insert(tenant.to_owned(), kb);
    }
    Ok(bases)
}

/// The held-out parts of the shared public data.
fn shared(
    data: &Path,
    classifier: &LocalClassifier,
    critic: &LocalCritic,
    report: &mut EvalReport,
) -> Result<(), EvalError> {
    let rows = bitext::held_out(data)?;
    let name = "Bitext held-out (workers/models/splits), mapped to 17 labels";
    report.intent.push(intent::measure(name, classifier, &rows));
    let attacks = screening::shared_attacks(data)?;
    let name = "llm-warden test + bastion held-out";
    report
        .screening
        .push(screening::measure(name, critic, &attacks));
    let ordinary = screening::shared_ordinary(data)?;
    let name = "ordinary: Bitext held-out, banking77 test, CLINC150 test";
    report
        .screening
        .push(screening::measure(name, critic, &ordinary));
    report.pii = Some(pii::evaluate(data)?);
    Ok(())
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

/// One optional column of a CSV file, row by row (`None` when absent).
fn read_csv_optional(path: &Path, column: &str) -> Result<Option<Vec<String>>, EvalError> {
    let text = read(path)?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let has = reader
        .headers()
        .map_err(|e| EvalError::Csv {
            path: path.to_owned(),
            reason: e.to_string(),
        })?
        .iter()
        .any(|h| h == column);
    if !has {
        return Ok(None);
    }
    let rows = read_csv_columns(path, &[column])?;
    Ok(Some(rows.into_iter().map(|mut r| r.remove(0)).collect()))
}

#[cfg(test)]
mod tests;
