//! Knowledge retrieval: the tenant's knowledge base, ranked passages and
//! structured look-ups (DESIGN §6, local implementation).
//!
//! A knowledge base is a directory of five files (see `workers/kb/brewvi/`):
//! `policies.md` and `faq.md` (passages with stable source ids), and
//! `products.json`, `orders.json`, `loyalty.json` (records), plus optional
//! translations `translations.fr.md` and `translations.es.md` (passages
//! under the source ids of the English ones they translate).
//! [`KnowledgeBase::retrieve`] turns a classified customer message into the
//! `retrieved` event: the best passages by BM25 (tantivy, in memory; see
//! [`index`] for the ranking), shown in the customer's language when a
//! translation exists, and the records the message points to. It is pure
//! given its inputs: the current time is a parameter, so replays give the
//! same answer.

mod error;
mod expand;
mod index;
mod passages;
mod records;

#[cfg(test)]
mod dev_recall;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use switchboard_engine::event::{Classified, Intent, Passage, Record, Retrieved};

pub use error::{KbError, KbErrorKind, SearchError};
pub use records::normalize_order_number;

pub use passages::KbPassage;
pub(crate) use passages::parse as parse_passages;
use records::{LoyaltyFile, OrdersFile, ProductsFile};

use crate::language::{self, Language};
use index::{PassageIndex, SearchQuery};
pub(crate) use records::{LoyaltyAccount, Order, Product};

/// How many passages a `retrieved` event carries.
pub const TOP_K: usize = 5;
/// At most this many product records per message.
const MAX_PRODUCTS: usize = 3;
/// Weight of the intent's hint words relative to the customer's words.
const HINT_WEIGHT: f32 = 0.4;
/// Longest customer text that is searched; the rest adds noise, not recall.
const MAX_QUERY_CHARS: usize = 1000;

/// The five files of a knowledge base, as text, and its translations.
struct Sources<'a> {
    policies: &'a str,
    faq: &'a str,
    products: &'a str,
    orders: &'a str,
    loyalty: &'a str,
    /// `(language, file name, text)` of each translation file.
    translations: Vec<(Language, String, String)>,
}

/// Translations of passages: `translations.<tag>.md`, one per non-English
/// language, each optional.
fn translation_file(language: Language) -> String {
    format!("translations.{}.md", language.tag())
}

/// A tenant's knowledge: passages with their index, and records.
#[derive(Debug)]
pub struct KnowledgeBase {
    passages: Vec<KbPassage>,
    index: PassageIndex,
    orders: Vec<Order>,
    products: Vec<Product>,
    loyalty: Vec<LoyaltyAccount>,
}

impl KnowledgeBase {
    /// Loads the knowledge base in `dir`. Every file must be there and well
    /// formed; source ids must be unique across the two markdown files.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, KbError> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| {
                KbError::new(KbErrorKind::Io, path.display().to_string(), e.to_string())
            })
        };
        let (policies, faq) = (read("policies.md")?, read("faq.md")?);
        let (products, orders, loyalty) = (
            read("products.json")?,
            read("orders.json")?,
            read("loyalty.json")?,
        );
        let mut translations = Vec::new();
        for language in [Language::Fr, Language::Es] {
            let name = translation_file(language);
            if dir.join(&name).exists() {
                let text = read(&name)?;
                translations.push((language, name, text));
            }
        }
        Self::from_sources(&Sources {
            policies: &policies,
            faq: &faq,
            products: &products,
            orders: &orders,
            loyalty: &loyalty,
            translations,
        })
    }

    /// The BrewVi Coffee demo knowledge base compiled into the binary
    /// (`workers/kb/brewvi/`). It can only fail if those files are broken,
    /// which the tests of this module catch.
    pub fn builtin() -> Result<Self, KbError> {
        Self::from_sources(&Sources {
            policies: include_str!("../../kb/brewvi/policies.md"),
            faq: include_str!("../../kb/brewvi/faq.md"),
            products: include_str!("../../kb/brewvi/products.json"),
            orders: include_str!("../../kb/brewvi/orders.json"),
            loyalty: include_str!("../../kb/brewvi/loyalty.json"),
            translations: vec![
                (
                    Language::Fr,
                    translation_file(Language::Fr),
                    include_str!("../../kb/brewvi/translations.fr.md").to_owned(),
                ),
                (
                    Language::Es,
                    translation_file(Language::Es),
                    include_str!("../../kb/brewvi/translations.es.md").to_owned(),
                ),
            ],
        })
    }

    fn from_sources(s: &Sources<'_>) -> Result<Self, KbError> {
        let mut passages = passages::parse("policies.md", s.policies)?;
        passages.extend(passages::parse("faq.md", s.faq)?);
        unique_ids(&passages, "policies.md/faq.md")?;
        let originals: HashSet<String> = passages.iter().map(|p| p.source_id.clone()).collect();
        for (language, file, text) in &s.translations {
            let translated = translations(file, text, *language, &originals)?;
            passages.extend(translated);
        }
        Self::from_parts(
            passages,
            "policies.md/faq.md",
            ("products.json", s.products),
            ("orders.json", s.orders),
            ("loyalty.json", s.loyalty),
        )
    }

    /// A knowledge base from parsed passages and the three record files as
    /// text (each a `(name for errors, JSON)` pair, in the shapes of
    /// `products.json`, `orders.json` and `loyalty.json`). This is how a
    /// tenant's data from the bucket becomes a knowledge base
    /// ([`crate::tenant`]). Passages are unique by (source id, language):
    /// a translation keeps its original's id; `passages_label` names the
    /// passages' origin in that error.
    pub fn from_parts(
        passages: Vec<KbPassage>,
        passages_label: &str,
        products: (&str, &str),
        orders: (&str, &str),
        loyalty: (&str, &str),
    ) -> Result<Self, KbError> {
        let mut seen = HashSet::new();
        let dup = passages
            .iter()
            .find(|p| !seen.insert((p.source_id.as_str(), p.language.as_str())));
        if let Some(dup) = dup {
            let detail = format!(
                "source id {} ({}) is used twice",
                dup.source_id, dup.language
            );
            return Err(KbError::new(KbErrorKind::Format, passages_label, detail));
        }
        let orders: OrdersFile = decode(orders.0, orders.1)?;
        let products: ProductsFile = decode(products.0, products.1)?;
        let loyalty: LoyaltyFile = decode(loyalty.0, loyalty.1)?;
        let index = PassageIndex::build(&passages)?;
        Ok(Self {
            passages,
            index,
            orders: orders.orders,
            products: products.products,
            loyalty: loyalty.accounts,
        })
    }

    /// How many passages there are.
    pub fn passage_count(&self) -> usize {
        self.passages.len()
    }

    /// Every passage source id, in knowledge-base order.
    pub fn source_ids(&self) -> impl Iterator<Item = &str> {
        self.passages.iter().map(|p| p.source_id.as_str())
    }

    /// The best `limit` passages for an English `query`, best first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Passage>, SearchError> {
        let expansion = expand::english_words(query, Language::En);
        let query = SearchQuery {
            text: query,
            expansion: &expansion,
            ..SearchQuery::default()
        };
        self.ranked(&query, limit)
    }

    /// The ranked passages, each in `query.language` when translated,
    /// else in English.
    fn ranked(&self, query: &SearchQuery<'_>, limit: usize) -> Result<Vec<Passage>, SearchError> {
        let hits = self.index.search(query, limit)?;
        Ok(hits
            .into_iter()
            .filter_map(|hit| {
                let p = self.version(&hit.source_id, query.language, hit.ord)?;
                Some(Passage {
                    source_id: p.source_id.clone(),
                    text: p.text.clone(),
                    score: hit.score,
                    language: Some(p.language.clone()),
                })
            })
            .collect())
    }

    /// The passage `source_id` in `language`, else in English, else the
    /// version at `ord`.
    fn version(&self, source_id: &str, language: Language, ord: usize) -> Option<&KbPassage> {
        let of = |l: Language| {
            self.passages
                .iter()
                .find(|p| p.source_id == source_id && Language::for_answer(&p.language) == l)
        };
        of(language)
            .or_else(|| of(Language::En))
            .or_else(|| self.passages.get(ord))
    }

    /// What retrieval found for a classified message from `customer_id`,
    /// with ages computed at `now`: the [`TOP_K`] best passages, the order
    /// the entities name (only if it is the customer's own: an unknown
    /// number and someone else's order both give no record), the products
    /// mentioned, and the customer's loyalty account.
    ///
    /// `text` is stored as the event's `query`: pass the screened text with
    /// the critic's redactions applied, not the raw message.
    ///
    /// A failing search of the in-memory index (not expected in practice)
    /// yields no passages rather than no answer: the records still stand and
    /// the response generator says what it does not know.
    ///
    /// The language is detected from `text`; [`retrieve_in`](Self::retrieve_in)
    /// takes the one recorded on `received`.
    pub fn retrieve(
        &self,
        text: &str,
        classified: &Classified,
        customer_id: &str,
        now: DateTime<Utc>,
    ) -> Retrieved {
        let language = language::detect(text);
        self.retrieve_in(text, language.tag(), classified, customer_id, now)
    }

    /// [`retrieve`](Self::retrieve) for a message in `language` (a BCP-47
    /// tag; languages answers are not written in search as English).
    pub fn retrieve_in(
        &self,
        text: &str,
        language: &str,
        classified: &Classified,
        customer_id: &str,
        now: DateTime<Utc>,
    ) -> Retrieved {
        let query: String = text.chars().take(MAX_QUERY_CHARS).collect();
        let language = Language::for_answer(language);
        let expansion = expand::english_words(&query, language);
        let search = SearchQuery {
            text: &query,
            language,
            expansion: &expansion,
            hint: intent_hint(classified.intent),
            hint_weight: HINT_WEIGHT,
            routes: intent_routes(classified.intent),
        };
        let passages = self.ranked(&search, TOP_K).unwrap_or_default();
        let mut records = Vec::new();
        records.extend(self.order_record(classified, customer_id, now));
        records.extend(self.product_records(&query, classified));
        records.extend(self.loyalty_record(customer_id));
        Retrieved {
            query,
            passages,
            records,
        }
    }

    fn order_record(
        &self,
        classified: &Classified,
        customer_id: &str,
        now: DateTime<Utc>,
    ) -> Option<Record> {
        let entities = &classified.entities;
        let wanted = normalize_order_number(entities.order_number.as_deref()?)?;
        self.orders
            .iter()
            .find(|o| o.number() == wanted && o.belongs_to(customer_id, entities.email.as_deref()))
            .map(|o| o.to_record(now))
    }

    fn product_records(&self, text: &str, classified: &Classified) -> Vec<Record> {
        let mut haystack = text.to_lowercase();
        if let Some(product) = &classified.entities.product {
            haystack.push(' ');
            haystack.push_str(&product.to_lowercase());
        }
        self.products
            .iter()
            .filter(|p| p.is_named_in(&haystack))
            .take(MAX_PRODUCTS)
            .map(Product::to_record)
            .collect()
    }

    fn loyalty_record(&self, customer_id: &str) -> Option<Record> {
        self.loyalty
            .iter()
            .find(|a| a.customer_id() == customer_id)
            .map(LoyaltyAccount::to_record)
    }
}

/// What retrieval gives when a tenant has no knowledge base: the query and
/// nothing else, so the response says it has no information (it never
/// borrows another tenant's data).
pub fn nothing_found(text: &str) -> Retrieved {
    Retrieved {
        query: text.chars().take(MAX_QUERY_CHARS).collect(),
        passages: Vec::new(),
        records: Vec::new(),
    }
}

/// Fails on a source id used twice in `passages`.
fn unique_ids(passages: &[KbPassage], files: &str) -> Result<(), KbError> {
    let mut seen = HashSet::new();
    match passages.iter().find(|p| !seen.insert(p.source_id.as_str())) {
        Some(dup) => Err(KbError::new(
            KbErrorKind::Format,
            files,
            format!("source id {} is used twice", dup.source_id),
        )),
        None => Ok(()),
    }
}

/// The passages of a translation file: each must translate a passage of
/// `originals`, once. The uniqueness key of passages is (source id,
/// language).
fn translations(
    file: &str,
    text: &str,
    language: Language,
    originals: &HashSet<String>,
) -> Result<Vec<KbPassage>, KbError> {
    let mut translated = passages::parse(file, text)?;
    unique_ids(&translated, file)?;
    if let Some(orphan) = translated
        .iter()
        .find(|p| !originals.contains(&p.source_id))
    {
        let detail = format!(
            "source id {} translates no passage of policies.md or faq.md",
            orphan.source_id
        );
        return Err(KbError::new(KbErrorKind::Format, file, detail));
    }
    for p in &mut translated {
        p.language = language.tag().to_owned();
    }
    Ok(translated)
}

fn decode<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, KbError> {
    serde_json::from_str(text).map_err(|e| KbError::new(KbErrorKind::Decode, file, e.to_string()))
}

/// Words that say what an intent is about, added to the query with a low
/// weight so that "where is it?" still finds the tracking passage.
fn intent_hint(intent: Intent) -> &'static str {
    match intent {
        Intent::OrderStatus => "order processing ships",
        Intent::TrackingUpdate => "tracking carrier delivery",
        Intent::ShippingEstimate => "shipping delivery times",
        Intent::ReturnRequest => "return window",
        Intent::RefundStatus => "refund timing",
        Intent::Exchange => "exchanges",
        Intent::Cancellation => "cancel order shipped",
        Intent::SubscriptionManagement => "auto-delivery subscription",
        Intent::LoyaltyProgram => "rewards points",
        Intent::BillingIssue => "charge billing refund",
        Intent::AccountHelp => "account dashboard",
        Intent::TechnicalSupport => "brewer troubleshooting warranty defect",
        Intent::Complaint => "damaged defective",
        Intent::ProductInquiry
        | Intent::Feedback
        | Intent::GeneralInquiry
        | Intent::EscalationRequest => "",
    }
}

/// The passages (source-id prefixes) an intent's answer usually comes
/// from: cancelling an order is not cancelling a subscription, and a broken
/// brewer needs troubleshooting and the warranty, not its sales copy.
fn intent_routes(intent: Intent) -> &'static [&'static str] {
    match intent {
        Intent::ReturnRequest | Intent::RefundStatus | Intent::Exchange => &["returns."],
        Intent::OrderStatus => &["shipping.", "orders."],
        Intent::TrackingUpdate => &["shipping.tracking", "shipping.delivery_issues"],
        Intent::ShippingEstimate => &["shipping."],
        Intent::Cancellation => &["orders.cancel"],
        Intent::SubscriptionManagement => &["subscriptions."],
        Intent::LoyaltyProgram => &["loyalty.", "faq.points_"],
        Intent::TechnicalSupport => &[
            "faq.brewer_troubleshooting",
            "faq.brewer_warranty",
            "faq.brewer_cleaning",
        ],
        Intent::AccountHelp => &["faq.account_help", "faq.lost_order_number"],
        Intent::BillingIssue => &["faq.billing"],
        Intent::Complaint => &["returns.damaged", "shipping.delivery_issues"],
        Intent::EscalationRequest => &["contact."],
        Intent::ProductInquiry | Intent::Feedback | Intent::GeneralInquiry => &[],
    }
}
