//! Recall of retrieval over the development query set
//! (`dev_queries.jsonl`): realistic customer questions, each with its gold
//! intent and the source ids that answer it. This is the set ranking is
//! tuned on; the held-out evaluation set lives elsewhere and is not read
//! here.

use chrono::{TimeZone, Utc};
use serde::Deserialize;
use switchboard_engine::event::{Classified, Entities, Intent, Sentiment};

use super::KnowledgeBase;

#[derive(Debug, Deserialize)]
struct DevQuery {
    query: String,
    intent: Intent,
    #[serde(default)]
    language: Option<String>,
    relevant: Vec<String>,
}

fn dev_queries() -> Vec<DevQuery> {
    include_str!("dev_queries.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("dev_queries.jsonl line {}: {e}", i + 1))
        })
        .collect()
}

/// Recall@1 and recall@5: the share of queries whose first (first five)
/// passages include a relevant source id.
fn recall(kb: &KnowledgeBase, queries: &[DevQuery]) -> (f64, f64, Vec<String>) {
    let now = Utc
        .with_ymd_and_hms(2026, 1, 25, 12, 0, 0)
        .single()
        .expect("a valid fixed date");
    let (mut at1, mut at5, mut misses) = (0usize, 0usize, Vec::new());
    let mut lowest_right = f32::MAX;
    for q in queries {
        let classified = Classified {
            intent: q.intent,
            confidence: 0.9,
            sentiment: Sentiment::Neutral,
            entities: Entities::default(),
            signals: Vec::new(),
            model: None,
        };
        let language = q.language.as_deref().unwrap_or("en");
        let retrieved = kb.retrieve_in(&q.query, language, &classified, "anon", now);
        if let Some(top) = retrieved.passages.first()
            && q.relevant.contains(&top.source_id)
        {
            lowest_right = lowest_right.min(top.score);
        }
        let ids: Vec<&str> = retrieved
            .passages
            .iter()
            .map(|p| p.source_id.as_str())
            .collect();
        let hit = |k: usize| {
            ids.iter()
                .take(k)
                .any(|id| q.relevant.iter().any(|r| r == id))
        };
        at1 += usize::from(hit(1));
        at5 += usize::from(hit(5));
        if !hit(1) {
            misses.push(format!(
                "{:?} [{}] want {:?} got {:?}",
                q.query,
                q.language.as_deref().unwrap_or("en"),
                q.relevant,
                ids
            ));
        }
    }
    println!("lowest score of a right first passage: {lowest_right:.2}");
    let n = queries.len().max(1) as f64;
    (at1 as f64 / n, at5 as f64 / n, misses)
}

#[test]
fn given_the_dev_queries_when_retrieved_then_recall_at_1_and_5_are_printed_and_high() {
    let kb = KnowledgeBase::builtin().expect("the shipped knowledge base loads");
    let queries = dev_queries();
    assert!(
        queries.len() >= 40,
        "the dev set has {} queries",
        queries.len()
    );
    let (r1, r5, misses) = recall(&kb, &queries);
    println!(
        "dev set: {} queries, recall@1 = {r1:.3}, recall@5 = {r5:.3}",
        queries.len()
    );
    for m in &misses {
        println!("  miss@1: {m}");
    }
    assert!(r1 >= 0.85, "recall@1 {r1:.3} fell below 0.85");
    assert!(r5 >= 0.95, "recall@5 {r5:.3} fell below 0.95");
}

/// Questions the knowledge base does not answer: their best passage must
/// score below the bar the response generator quotes passages from.
const UNANSWERABLE: &[(&str, Intent)] = &[
    (
        "Do you sell used cars or motorbikes?",
        Intent::GeneralInquiry,
    ),
    (
        "What's the weather like in Paris tomorrow?",
        Intent::GeneralInquiry,
    ),
    (
        "Can you recommend a good pizza place?",
        Intent::GeneralInquiry,
    ),
    (
        "Who won the football game last night?",
        Intent::GeneralInquiry,
    ),
    (
        "Do you have a store in Berlin I can visit?",
        Intent::GeneralInquiry,
    ),
    ("Are you hiring baristas?", Intent::GeneralInquiry),
];

#[test]
fn given_questions_the_kb_does_not_answer_when_retrieved_then_no_passage_clears_the_quote_bar() {
    let kb = KnowledgeBase::builtin().expect("the shipped knowledge base loads");
    let now = Utc
        .with_ymd_and_hms(2026, 1, 25, 12, 0, 0)
        .single()
        .expect("a valid fixed date");
    let mut cleared = Vec::new();
    for (q, intent) in UNANSWERABLE {
        let classified = Classified {
            intent: *intent,
            confidence: 0.9,
            sentiment: Sentiment::Neutral,
            entities: Entities::default(),
            signals: Vec::new(),
            model: None,
        };
        let r = kb.retrieve(q, &classified, "anon", now);
        if let Some(top) = r
            .passages
            .first()
            .filter(|p| p.score >= crate::response::MIN_PASSAGE_SCORE)
        {
            cleared.push(format!("{q:?} -> {} ({:.2})", top.source_id, top.score));
        }
    }
    println!(
        "unanswerable: {}/{} stay below the bar; cleared: {cleared:?}",
        UNANSWERABLE.len() - cleared.len(),
        UNANSWERABLE.len()
    );
    assert!(cleared.is_empty(), "{cleared:#?}");
}

/// A development aid, not a measurement: prints, for each query of the
/// JSON-lines retrieval set named by `SWITCHBOARD_PROBE` (the `eval
/// --retrieval` format), the predicted intent and the first five source ids,
/// marking queries whose first passage is not one expected. Never point it
/// at a held-out set.
#[test]
#[ignore = "development aid: needs SWITCHBOARD_PROBE"]
fn print_rankings_of_a_probe() {
    let Ok(path) = std::env::var("SWITCHBOARD_PROBE") else {
        return;
    };
    let queries = crate::models::eval::read_retrieval_jsonl(std::path::Path::new(&path))
        .expect("a readable retrieval set");
    let kb = KnowledgeBase::builtin().expect("the shipped knowledge base loads");
    let classifier = crate::models::LocalClassifier::new(
        crate::models::intent::IntentModel::builtin(),
        crate::models::intent::BREWVI_PRODUCTS,
    );
    for q in queries.iter().filter(|q| q.tenant == "brewvi") {
        let classified = classifier.classify(&q.query);
        let language = q.language.as_deref().unwrap_or("en");
        let r = kb.retrieve_in(&q.query, language, &classified, "anon", Utc::now());
        let ids: Vec<String> = r
            .passages
            .iter()
            .map(|p| format!("{}:{:.1}", p.source_id, p.score))
            .collect();
        let first_ok = r
            .passages
            .first()
            .is_some_and(|p| q.expected.contains(&p.source_id));
        let mark = if first_ok { "  " } else { "XX" };
        println!(
            "{mark} {:?} [{:?}] want {:?} got {ids:?}",
            q.query, classified.intent, q.expected
        );
    }
}
