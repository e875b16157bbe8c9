//! Retrieval measurement: does the knowledge agent put a passage that
//! answers the query first, or among the first five?
//!
//! Each query is classified by the shipped classifier and retrieved as the
//! knowledge agent does, over the tenant's knowledge base: the demo tenant
//! compiled into the binary for `brewvi`, or a directory of knowledge-base
//! documents (the `kb import` formats) given per tenant.
//!
//! Set format, one JSON object per line:
//! `{"tenant": "brewvi", "query": "...", "expected": ["source.id", ...], "language": "fr"}`
//! (`language` optional).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::Utc;
use serde::Deserialize;

use super::report::{Rate, RetrievalEval};
use super::{EvalError, read};
use crate::knowledge::KnowledgeBase;
use crate::models::LocalClassifier;
use crate::tenant::{TenantData, document};

/// One retrieval query.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrievalQuery {
    /// The tenant whose knowledge base answers.
    pub tenant: String,
    /// The customer's question.
    pub query: String,
    /// Source ids any of which answers it.
    pub expected: Vec<String>,
    /// The customer's language, when not English.
    #[serde(default)]
    pub language: Option<String>,
}

/// Reads a JSON-lines retrieval set; a bad line is named.
pub fn read_retrieval_jsonl(path: &Path) -> Result<Vec<RetrievalQuery>, EvalError> {
    let mut queries = Vec::new();
    for (n, line) in read(path)?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let q: RetrievalQuery = serde_json::from_str(line).map_err(|e| EvalError::Json {
            path: path.to_owned(),
            reason: format!("line {}: {e}", n + 1),
        })?;
        queries.push(q);
    }
    Ok(queries)
}

/// A tenant's knowledge base from a directory of `.md` / `.json` documents.
pub fn knowledge_base_from_dir(dir: &Path) -> Result<KnowledgeBase, EvalError> {
    let bad = |reason: String| EvalError::Model(format!("{}: {reason}", dir.display()));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| bad(e.to_string()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("md" | "json")))
        .collect();
    files.sort();
    let mut data = TenantData::default();
    for file in files {
        for doc in document::read_file(&file).map_err(|e| bad(e.to_string()))? {
            data.documents.insert(doc.id.clone(), doc);
        }
    }
    data.knowledge_base().map_err(|e| bad(e.to_string()))
}

/// Run every query against its tenant's knowledge base and summarise per
/// tenant and language.
pub fn measure(
    set: &str,
    classifier: &LocalClassifier,
    bases: &BTreeMap<String, KnowledgeBase>,
    queries: &[RetrievalQuery],
) -> Vec<RetrievalEval> {
    let mut groups: BTreeMap<(String, String), Vec<&RetrievalQuery>> = BTreeMap::new();
    for q in queries {
        let language = q.language.clone().unwrap_or_else(|| "en".to_owned());
        groups
            .entry((q.tenant.clone(), language))
            .or_default()
            .push(q);
    }
    groups
        .into_iter()
        .map(|((tenant, language), qs)| {
            let name = format!("{set} (tenant {tenant}, {language})");
            match bases.get(&tenant) {
                Some(kb) => measure_group(name, classifier, kb, &qs),
                None => unavailable(name, qs.len()),
            }
        })
        .collect()
}

fn measure_group(
    set: String,
    classifier: &LocalClassifier,
    kb: &KnowledgeBase,
    queries: &[&RetrievalQuery],
) -> RetrievalEval {
    let (mut at1, mut at5) = (0, 0);
    let mut missed = Vec::new();
    for q in queries {
        let classified = classifier.classify(&q.query);
        let retrieved = kb.retrieve(&q.query, &classified, "eval", Utc::now());
        let ids: Vec<&str> = retrieved
            .passages
            .iter()
            .map(|p| p.source_id.as_str())
            .collect();
        let hit = |id: &&str| q.expected.iter().any(|e| e == id);
        at1 += usize::from(ids.first().is_some_and(hit));
        let found = ids.iter().take(5).any(hit);
        at5 += usize::from(found);
        if !found {
            let first = ids.first().copied().unwrap_or("nothing").to_owned();
            missed.push((q.query.clone(), first));
        }
    }
    RetrievalEval {
        set,
        recall_at_1: Rate::new(at1, queries.len()),
        recall_at_5: Rate::new(at5, queries.len()),
        missed,
    }
}

fn unavailable(set: String, n: usize) -> RetrievalEval {
    RetrievalEval {
        set: format!("{set}: no knowledge base for this tenant (pass --kb TENANT=DIR)"),
        recall_at_1: Rate::new(0, n),
        recall_at_5: Rate::new(0, n),
        missed: Vec::new(),
    }
}
