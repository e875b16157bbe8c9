//! Ranking of passages: BM25 with tantivy over an in-memory index, per
//! language, with field boosts and intent routing.
//!
//! The index is built once when the knowledge base loads (tens of passages,
//! a few milliseconds) with one indexing thread, so document ids and ties
//! are the same on every run. Each passage is indexed in the fields of its
//! own language (title, tags, body and the questions it answers, analysed
//! with that language's stop words and stemmer). Queries are built from the
//! analysed words of the customer text (no query syntax, so nothing a
//! customer types can make the parser fail):
//!
//! - the customer's words against passages in the customer's language;
//! - the English words [`super::expand`] maps them to (synonyms, and for
//!   French or Spanish a word-by-word lexicon) against English passages;
//! - the intent's hint words, with a low weight.
//!
//! A passage must match at least one word derived from the customer's
//! text. Hits are then grouped by source id (a translation and its English
//! original are one answer: the best of their scores counts), and the
//! passages the intent routes to get a fixed prior. Which language version
//! a hit is shown in is the caller's choice.

use std::collections::{BTreeSet, HashMap};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language as StemLanguage, LowerCaser, RemoveLongFilter, SimpleTokenizer,
    Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

use super::error::{KbError, KbErrorKind, SearchError};
use super::passages::KbPassage;
use crate::language::Language;

/// Title words weigh more than body words: titles say what a passage is about.
const TITLE_BOOST: f32 = 2.0;
/// Tags are curated topic words: between title and body.
const TAGS_BOOST: f32 = 1.5;
/// Questions the passage answers, in customers' words: a match there is a
/// match on how customers ask, worth a little more than the body's.
const QUESTIONS_BOOST: f32 = 1.2;
/// Weight of the English words derived from the customer's text, relative
/// to the customer's own words.
const EXPANSION_WEIGHT: f32 = 0.8;
/// Score added to passages the intent routes to: enough to break near-ties
/// between topics, not enough to beat a clearly better match.
const ROUTE_PRIOR: f32 = 3.0;
/// The minimum budget tantivy accepts for one indexing thread.
const WRITER_BUDGET: usize = 15_000_000;

/// The three text fields of one language.
#[derive(Debug, Clone, Copy)]
struct LangFields {
    title: Field,
    tags: Field,
    body: Field,
    questions: Field,
}

/// The in-memory passage index.
pub struct PassageIndex {
    index: Index,
    reader: IndexReader,
    fields: HashMap<Language, LangFields>,
    ord: Field,
    /// Source id of each passage, by ord.
    source_ids: Vec<String>,
    /// How many documents there are (the search collects them all).
    len: usize,
}

impl std::fmt::Debug for PassageIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassageIndex")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// One search: the customer's text and language, and what the
/// classification adds.
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchQuery<'a> {
    /// What the customer wrote.
    pub text: &'a str,
    /// The language it is written in.
    pub language: Language,
    /// English knowledge-base words derived from the text (synonyms,
    /// translations); they count as the customer's words, with a lower weight.
    pub expansion: &'a str,
    /// The intent's hint words (English).
    pub hint: &'a str,
    /// Their weight relative to the customer's words.
    pub hint_weight: f32,
    /// Source-id prefixes the intent routes to (`orders.cancel`, `faq.brewer_`).
    pub routes: &'a [&'a str],
}

/// One ranked answer: a source id and its score. The passage to show is
/// any of the source's language versions.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The source id.
    pub source_id: String,
    /// Position of the best-scoring version in the knowledge base's list.
    pub ord: usize,
    /// BM25 score plus the route prior.
    pub score: f32,
}

const EN_STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with", "i", "me", "my", "mine", "you", "your", "we",
    "our", "us", "he", "she", "him", "her", "its", "do", "does", "did", "have", "has", "had",
    "can", "could", "would", "should", "shall", "how", "what", "when", "where", "which", "who",
    "why", "am", "been", "being", "so", "too", "very", "just", "any", "some", "please", "hi",
    "hello", "hey", "thanks", "thank", "get", "got", "want", "need", "know", "may", "might",
    "much", "many", "one", "all", "about", "from", "up", "out", "still", "s", "t", "m", "ll", "ve",
    "re", "d", "don", "won", "im", "today", "anymore",
];

/// Accent-folded, like the text they filter.
const FR_STOP_WORDS: &[&str] = &[
    "a", "au", "aux", "avec", "ce", "ces", "c", "d", "dans", "de", "des", "du", "elle", "en", "et",
    "est", "il", "j", "je", "l", "la", "le", "les", "leur", "lui", "m", "ma", "mais", "me", "mes",
    "moi", "mon", "n", "ne", "nos", "notre", "nous", "on", "ou", "par", "pas", "pour", "qu", "que",
    "qui", "s", "sa", "se", "ses", "son", "sur", "t", "ta", "te", "tes", "toi", "ton", "tu", "un",
    "une", "vos", "votre", "vous", "y", "ai", "as", "suis", "sont", "etre", "avoir", "fait",
    "faire", "peux", "peut", "puis", "veux", "voudrais", "quel", "quels", "quelle", "quelles",
    "comment", "combien", "quand", "ou", "bonjour", "merci", "svp", "plus", "encore", "ca", "cela",
    "est-ce", "si",
];

/// Accent-folded, like the text they filter.
const ES_STOP_WORDS: &[&str] = &[
    "a", "al", "con", "de", "del", "el", "ella", "en", "es", "esta", "este", "esto", "la", "las",
    "le", "les", "lo", "los", "me", "mi", "mis", "mio", "no", "nos", "o", "para", "pero", "por",
    "que", "se", "si", "sin", "su", "sus", "te", "tu", "tus", "un", "una", "unos", "unas", "y",
    "yo", "usted", "ustedes", "su", "soy", "son", "estoy", "tengo", "tiene", "hay", "puedo",
    "puede", "quiero", "quisiera", "cual", "cuales", "como", "cuanto", "cuantos", "cuando",
    "donde", "hola", "gracias", "favor", "ya", "mas", "muy", "antes", "despues",
];

fn analyzer_name(language: Language) -> String {
    format!("kb_{}", language.tag())
}

fn analyzer(language: Language) -> TextAnalyzer {
    let (stop, stem): (&[&str], StemLanguage) = match language {
        Language::En => (EN_STOP_WORDS, StemLanguage::English),
        Language::Fr => (FR_STOP_WORDS, StemLanguage::French),
        Language::Es => (ES_STOP_WORDS, StemLanguage::Spanish),
    };
    let stop_words = StopWordFilter::remove(stop.iter().map(|w| (*w).to_owned()));
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(stop_words)
        .filter(Stemmer::new(stem))
        .build()
}

fn index_error(e: tantivy::TantivyError) -> KbError {
    KbError::new(KbErrorKind::Index, "<index>", e.to_string())
}

fn search_error(e: tantivy::TantivyError) -> SearchError {
    SearchError(e.to_string())
}

impl PassageIndex {
    /// Indexes `passages`; hits refer to them by position. A passage in a
    /// language answers are not written in is indexed as English.
    pub fn build(passages: &[KbPassage]) -> Result<Self, KbError> {
        let mut schema = Schema::builder();
        let mut fields = HashMap::new();
        for language in Language::ALL {
            let text = TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(&analyzer_name(language))
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            );
            let tag = language.tag();
            let f = LangFields {
                title: schema.add_text_field(&format!("title_{tag}"), text.clone()),
                tags: schema.add_text_field(&format!("tags_{tag}"), text.clone()),
                body: schema.add_text_field(&format!("body_{tag}"), text.clone()),
                questions: schema.add_text_field(&format!("questions_{tag}"), text),
            };
            fields.insert(language, f);
        }
        let ord = schema.add_u64_field("ord", INDEXED | STORED);
        let index = Index::create_in_ram(schema.build());
        for language in Language::ALL {
            index
                .tokenizers()
                .register(&analyzer_name(language), analyzer(language));
        }
        let mut writer = index
            .writer_with_num_threads::<TantivyDocument>(1, WRITER_BUDGET)
            .map_err(index_error)?;
        for (i, p) in passages.iter().enumerate() {
            let f = fields[&Language::for_answer(&p.language)];
            let mut document = TantivyDocument::default();
            document.add_text(f.title, &p.title);
            document.add_text(f.tags, p.tags.join(" "));
            document.add_text(f.body, &p.text);
            document.add_text(f.questions, p.questions.join(" \n "));
            document.add_u64(ord, i as u64);
            writer.add_document(document).map_err(index_error)?;
        }
        writer.commit().map_err(index_error)?;
        let reader = index.reader().map_err(index_error)?;
        Ok(Self {
            index,
            reader,
            fields,
            ord,
            source_ids: passages.iter().map(|p| p.source_id.clone()).collect(),
            len: passages.len(),
        })
    }

    /// The analysed terms of `text` in `language`, deduplicated and sorted
    /// so the query (and so the scores) do not depend on word order or
    /// repetition.
    fn terms(&self, text: &str, language: Language) -> BTreeSet<String> {
        let mut analyzer = self
            .index
            .tokenizers()
            .get(&analyzer_name(language))
            .unwrap_or_else(|| analyzer(language));
        let mut stream = analyzer.token_stream(text);
        let mut terms = BTreeSet::new();
        while let Some(token) = stream.next() {
            terms.insert(token.text.clone());
        }
        terms
    }

    /// Term queries for `text` over the fields of `language`, each boosted
    /// by its field's boost times `weight`. The questions field counts only
    /// where two of the words match there (one when the text has one word):
    /// one common word ("use", "place") shared with a question is not a
    /// question asked the same way.
    fn term_queries(
        &self,
        text: &str,
        language: Language,
        weight: f32,
    ) -> Vec<(Occur, Box<dyn Query>)> {
        let f = self.fields[&language];
        let terms = self.terms(text, language);
        let term_query = |field: Field, term: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, term),
                IndexRecordOption::WithFreqs,
            ))
        };
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in &terms {
            for (field, boost) in [(f.title, TITLE_BOOST), (f.tags, TAGS_BOOST), (f.body, 1.0)] {
                let q = BoostQuery::new(term_query(field, term), boost * weight);
                out.push((Occur::Should, Box::new(q)));
            }
        }
        if !terms.is_empty() {
            let questions: Vec<(Occur, Box<dyn Query>)> = terms
                .iter()
                .map(|t| (Occur::Should, term_query(f.questions, t)))
                .collect();
            let both = BooleanQuery::with_minimum_required_clauses(questions, terms.len().min(2));
            let q = BoostQuery::new(Box::new(both), QUESTIONS_BOOST * weight);
            out.push((Occur::Should, Box::new(q)));
        }
        out
    }

    /// The best `limit` source ids for `query`, best first (ties in
    /// knowledge-base order). No word of the customer's, no hits.
    pub fn search(&self, query: &SearchQuery<'_>, limit: usize) -> Result<Vec<Hit>, SearchError> {
        let mut own = self.term_queries(query.text, query.language, 1.0);
        own.extend(self.term_queries(query.expansion, Language::En, EXPANSION_WEIGHT));
        if own.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(own)))];
        clauses.extend(self.term_queries(query.hint, Language::En, query.hint_weight));
        let boolean = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(
                &boolean,
                &TopDocs::with_limit(self.len.max(1)).order_by_score(),
            )
            .map_err(search_error)?;
        let mut best: HashMap<&str, Hit> = HashMap::new();
        for (score, address) in top {
            let stored: TantivyDocument = searcher.doc(address).map_err(search_error)?;
            let ord = stored
                .get_first(self.ord)
                .and_then(|v| v.as_u64())
                .and_then(|v| usize::try_from(v).ok())
                .ok_or_else(|| SearchError("indexed passage without its ord".into()))?;
            let source_id = self
                .source_ids
                .get(ord)
                .ok_or_else(|| SearchError(format!("ord {ord} is not a passage")))?;
            let entry = best.entry(source_id.as_str()).or_insert(Hit {
                source_id: source_id.clone(),
                ord,
                score: f32::MIN,
            });
            if score > entry.score || (score == entry.score && ord < entry.ord) {
                entry.score = score;
                entry.ord = ord;
            }
        }
        let mut hits: Vec<Hit> = best
            .into_values()
            .map(|mut hit| {
                if query.routes.iter().any(|r| hit.source_id.starts_with(r)) {
                    hit.score += ROUTE_PRIOR;
                }
                hit
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.ord.cmp(&b.ord)));
        hits.truncate(limit);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(id: &str, text: &str, questions: &[&str]) -> KbPassage {
        KbPassage {
            source_id: id.to_owned(),
            title: "Policy".to_owned(),
            text: text.to_owned(),
            language: "en".to_owned(),
            tags: Vec::new(),
            questions: questions.iter().map(|q| (*q).to_owned()).collect(),
        }
    }

    fn ids(index: &PassageIndex, text: &str) -> Vec<String> {
        let query = SearchQuery {
            text,
            ..SearchQuery::default()
        };
        let hits = index.search(&query, 5).expect("search");
        hits.into_iter().map(|h| h.source_id).collect()
    }

    /// Given a passage whose words differ from the customer's and a
    /// question line in the customer's words, when two of those words are
    /// asked, then the passage is found through its questions; one shared
    /// word alone does not find it.
    #[test]
    fn given_question_lines_when_two_words_match_there_then_the_passage_is_found() {
        let index = PassageIndex::build(&[
            passage(
                "returns.window",
                "Returns are accepted within 30 days.",
                &["can I still send it back after five weeks"],
            ),
            passage("other", "Something else entirely.", &[]),
        ])
        .expect("index builds");
        assert_eq!(
            ids(&index, "five weeks, send back?"),
            vec!["returns.window"]
        );
        assert!(ids(&index, "five pizzas").is_empty());
    }
}
