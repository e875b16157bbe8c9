//! BM25 ranking of passages with tantivy over an in-memory index.
//!
//! The index is built once when the knowledge base loads (tens of passages,
//! a few milliseconds) with one indexing thread, so document ids and ties
//! are the same on every run. Queries are built from the analysed words of
//! the customer text (no query syntax, so nothing a customer types can make
//! the parser fail), over title (boosted) and body.

use std::collections::BTreeSet;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
    Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, IndexReader, TantivyDocument, Term, doc};

use super::error::{KbError, KbErrorKind, SearchError};
use super::passages::KbPassage;

const ANALYZER: &str = "kb_en";
/// Title words weigh more than body words: titles say what a passage is about.
const TITLE_BOOST: f32 = 1.5;
/// Score added to passages of the families the intent points to: enough to
/// break near-ties between families, not enough to beat a clearly better match.
const FAMILY_PRIOR: f32 = 2.0;
/// The minimum budget tantivy accepts for one indexing thread.
const WRITER_BUDGET: usize = 15_000_000;

/// The in-memory passage index.
pub struct PassageIndex {
    index: Index,
    reader: IndexReader,
    title: Field,
    body: Field,
    family: Field,
    ord: Field,
}

impl std::fmt::Debug for PassageIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassageIndex").finish_non_exhaustive()
    }
}

/// What the classification adds to a query: words weighted by `weight`,
/// and passage families (the source-id prefix, `returns`, `shipping`...)
/// given a fixed prior. A prior only reorders passages that match the
/// customer's own words; it never brings in one that does not.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prior<'a> {
    /// Extra words.
    pub words: &'a str,
    /// Their weight relative to the customer's words.
    pub weight: f32,
    /// Preferred families.
    pub families: &'a [&'a str],
}

/// The family of a source id: what comes before its first dot.
fn family_of(source_id: &str) -> &str {
    source_id.split('.').next().unwrap_or(source_id)
}

/// One search hit: the passage's position in the knowledge base and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index into the knowledge base's passage list.
    pub ord: usize,
    /// BM25 score.
    pub score: f32,
}

/// Lucene's English stop words plus the pronouns, auxiliaries and question
/// words customers open every message with: without them "how do I track my
/// return?" outranks the return window for any question with "how do I".
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with", "i", "me", "my", "mine", "you", "your", "we",
    "our", "us", "he", "she", "him", "her", "its", "do", "does", "did", "have", "has", "had",
    "can", "could", "would", "should", "shall", "how", "what", "when", "where", "which", "who",
    "why", "am", "been", "being", "so", "too", "very", "just", "any", "some", "please", "hi",
    "hello", "hey", "thanks", "thank", "get", "got", "want", "need", "know", "may", "might",
    "much", "many", "one", "all", "about", "from", "up", "out", "there",
];

fn analyzer() -> TextAnalyzer {
    let stop_words = StopWordFilter::remove(STOP_WORDS.iter().map(|w| (*w).to_owned()));
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(stop_words)
        .filter(Stemmer::new(Language::English))
        .build()
}

fn index_error(e: tantivy::TantivyError) -> KbError {
    KbError::new(KbErrorKind::Index, "<index>", e.to_string())
}

impl PassageIndex {
    /// Indexes `passages`; hits refer to them by position.
    pub fn build(passages: &[KbPassage]) -> Result<Self, KbError> {
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let mut schema = Schema::builder();
        let title = schema.add_text_field("title", text.clone());
        let body = schema.add_text_field("body", text);
        let family = schema.add_text_field("family", STRING);
        let ord = schema.add_u64_field("ord", INDEXED | STORED);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(ANALYZER, analyzer());
        let mut writer = index
            .writer_with_num_threads::<TantivyDocument>(1, WRITER_BUDGET)
            .map_err(index_error)?;
        for (i, p) in passages.iter().enumerate() {
            let document = doc!(
                title => p.title.as_str(),
                body => p.text.as_str(),
                family => family_of(&p.source_id),
                ord => i as u64,
            );
            writer.add_document(document).map_err(index_error)?;
        }
        writer.commit().map_err(index_error)?;
        let reader = index.reader().map_err(index_error)?;
        Ok(Self {
            index,
            reader,
            title,
            body,
            family,
            ord,
        })
    }

    /// The analysed terms of `text`, deduplicated and sorted so the query
    /// (and so the scores) do not depend on word order or repetition.
    fn terms(&self, text: &str) -> BTreeSet<String> {
        let mut analyzer = self
            .index
            .tokenizers()
            .get(ANALYZER)
            .unwrap_or_else(analyzer);
        let mut stream = analyzer.token_stream(text);
        let mut terms = BTreeSet::new();
        while let Some(token) = stream.next() {
            terms.insert(token.text.clone());
        }
        terms
    }

    fn term_queries(&self, text: &str, weight: f32) -> Vec<(Occur, Box<dyn Query>)> {
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in self.terms(text) {
            for (field, boost) in [(self.title, TITLE_BOOST), (self.body, 1.0)] {
                let q = TermQuery::new(
                    Term::from_field_text(field, &term),
                    IndexRecordOption::WithFreqs,
                );
                out.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(q), boost * weight)),
                ));
            }
        }
        out
    }

    /// The best `limit` passages for `text`, reordered by `prior`. A passage
    /// must match at least one of the customer's words; no words, no hits.
    pub fn search(
        &self,
        text: &str,
        prior: Prior<'_>,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        let main = self.term_queries(text, 1.0);
        if main.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(main)))];
        clauses.extend(self.term_queries(prior.words, prior.weight));
        for family in prior.families {
            let term = TermQuery::new(
                Term::from_field_text(self.family, family),
                IndexRecordOption::Basic,
            );
            clauses.push((
                Occur::Should,
                Box::new(ConstScoreQuery::new(Box::new(term), FAMILY_PRIOR)),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&query, &TopDocs::with_limit(limit).order_by_score())
            .map_err(|e| SearchError(e.to_string()))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let stored: TantivyDocument = searcher
                .doc(address)
                .map_err(|e| SearchError(e.to_string()))?;
            let ord = stored
                .get_first(self.ord)
                .and_then(|v| v.as_u64())
                .ok_or_else(|| SearchError("indexed passage without its ord".into()))?;
            let ord = usize::try_from(ord).map_err(|e| SearchError(e.to_string()))?;
            hits.push(Hit { ord, score });
        }
        Ok(hits)
    }
}
