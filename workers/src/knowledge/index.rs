//! BM25 ranking of passages with tantivy over an in-memory index.
//!
//! The index is built once when the knowledge base loads (tens of passages,
//! a few milliseconds) with one indexing thread, so document ids and ties
//! are the same on every run. Queries are built from the analysed words of
//! the customer text (no query syntax, so nothing a customer types can make
//! the parser fail), over title (boosted) and body.

use std::collections::BTreeSet;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
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
/// The minimum budget tantivy accepts for one indexing thread.
const WRITER_BUDGET: usize = 15_000_000;

/// The in-memory passage index.
pub struct PassageIndex {
    index: Index,
    reader: IndexReader,
    title: Field,
    body: Field,
    ord: Field,
}

impl std::fmt::Debug for PassageIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassageIndex").finish_non_exhaustive()
    }
}

/// One search hit: the passage's position in the knowledge base and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index into the knowledge base's passage list.
    pub ord: usize,
    /// BM25 score.
    pub score: f32,
}

fn analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser);
    match StopWordFilter::new(Language::English) {
        Some(stop) => builder
            .filter(stop)
            .filter(Stemmer::new(Language::English))
            .build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
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
        let ord = schema.add_u64_field("ord", INDEXED | STORED);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(ANALYZER, analyzer());
        let mut writer = index
            .writer_with_num_threads::<TantivyDocument>(1, WRITER_BUDGET)
            .map_err(index_error)?;
        for (i, p) in passages.iter().enumerate() {
            let document = doc!(title => p.title.as_str(), body => p.text.as_str(), ord => i as u64);
            writer.add_document(document).map_err(index_error)?;
        }
        writer.commit().map_err(index_error)?;
        let reader = index.reader().map_err(index_error)?;
        Ok(Self {
            index,
            reader,
            title,
            body,
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
                out.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost * weight))));
            }
        }
        out
    }

    /// The best `limit` passages for `text`, with `hint` words (from the
    /// intent) weighted by `hint_weight`. No words, no hits.
    pub fn search(
        &self,
        text: &str,
        hint: &str,
        hint_weight: f32,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        let main = self.term_queries(text, 1.0);
        if main.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut clauses = main;
        clauses.extend(self.term_queries(hint, hint_weight));
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&query, &TopDocs::with_limit(limit).order_by_score())
            .map_err(|e| SearchError(e.to_string()))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let stored: TantivyDocument =
                searcher.doc(address).map_err(|e| SearchError(e.to_string()))?;
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
