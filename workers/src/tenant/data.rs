//! One tenant's data in memory, and the knowledge base built from it.

use std::collections::{BTreeMap, HashMap};

use super::document::{DocId, KbDocument, parse_markdown};
use super::error::{TenantError, TenantErrorKind};
use super::records::RecordKind;
use crate::knowledge::KnowledgeBase;

/// A tenant's documents and records, in the stored shapes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantData {
    /// Knowledge-base documents by id.
    pub documents: BTreeMap<DocId, KbDocument>,
    /// Records by kind, as stored JSON (`{"orders": [...]}`); a kind that is
    /// absent means none.
    pub records: BTreeMap<RecordKind, String>,
}

/// The demo tenant's record files, as written in the repo.
pub(crate) const DEMO_RECORDS: [(RecordKind, &str); 3] = [
    (
        RecordKind::Products,
        include_str!("../../kb/brewvi/products.json"),
    ),
    (
        RecordKind::Orders,
        include_str!("../../kb/brewvi/orders.json"),
    ),
    (
        RecordKind::Loyalty,
        include_str!("../../kb/brewvi/loyalty.json"),
    ),
];

impl TenantData {
    /// The BrewVi Coffee demo tenant compiled into the binary
    /// (`workers/kb/brewvi/`): documents `policies` and `faq` with their
    /// French and Spanish translations, products, orders and loyalty
    /// accounts (no customers file).
    pub fn demo() -> Result<Self, TenantError> {
        let mut data = Self::default();
        for (stem, text) in [
            ("policies", include_str!("../../kb/brewvi/policies.md")),
            ("faq", include_str!("../../kb/brewvi/faq.md")),
        ] {
            let doc = parse_markdown(&format!("{stem}.md"), stem, text)?;
            data.documents.insert(doc.id.clone(), doc);
        }
        for (stem, language, text) in [
            (
                "translations-fr",
                "fr",
                include_str!("../../kb/brewvi/translations.fr.md"),
            ),
            (
                "translations-es",
                "es",
                include_str!("../../kb/brewvi/translations.es.md"),
            ),
        ] {
            let mut doc = parse_markdown(&format!("{stem}.md"), stem, text)?;
            language.clone_into(&mut doc.language);
            data.documents.insert(doc.id.clone(), doc);
        }
        for (kind, text) in DEMO_RECORDS {
            let set = super::records::parse(kind, &format!("{}.json", kind.key_token()), text)?;
            data.records.insert(kind, set.json);
        }
        Ok(data)
    }

    /// Whether the tenant has nothing at all.
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty() && self.records.is_empty()
    }

    /// Builds the tenant's knowledge base (passages of every document in
    /// id order, with the index, and the records). Fails on a source id
    /// used by two documents ([`TenantErrorKind::Duplicate`]) or on records
    /// that do not decode.
    pub fn knowledge_base(&self) -> Result<KnowledgeBase, TenantError> {
        let mut passages = Vec::new();
        // A translation keeps its original's source id: passages are unique
        // by (source id, language).
        let mut owner: HashMap<(String, String), &DocId> = HashMap::new();
        for (id, doc) in &self.documents {
            for p in doc.passages(&format!("document {id}"))? {
                let key = (p.source_id.clone(), p.language.clone());
                if let Some(first) = owner.insert(key, id) {
                    let detail = if first == id {
                        format!("source id {} is used twice in document {id}", p.source_id)
                    } else {
                        format!(
                            "source id {} is used by documents {first} and {id}",
                            p.source_id
                        )
                    };
                    return Err(TenantError::new(TenantErrorKind::Duplicate, detail));
                }
                passages.push(p);
            }
        }
        let json = |kind: RecordKind| {
            self.records
                .get(&kind)
                .cloned()
                .unwrap_or_else(|| kind.empty_json())
        };
        let (products, orders, loyalty) = (
            json(RecordKind::Products),
            json(RecordKind::Orders),
            json(RecordKind::Loyalty),
        );
        KnowledgeBase::from_parts(
            passages,
            "documents",
            ("products", &products),
            ("orders", &orders),
            ("loyalty", &loyalty),
        )
        .map_err(TenantError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_tenant_builds_the_builtin_passages() {
        let demo = TenantData::demo().expect("the demo tenant parses");
        let ids: Vec<&str> = demo.documents.keys().map(DocId::as_str).collect();
        assert_eq!(
            ids,
            ["faq", "policies", "translations-es", "translations-fr"]
        );
        let mut ours: Vec<String> = demo
            .knowledge_base()
            .expect("builds")
            .source_ids()
            .map(str::to_owned)
            .collect();
        let mut builtin: Vec<String> = KnowledgeBase::builtin()
            .expect("builtin")
            .source_ids()
            .map(str::to_owned)
            .collect();
        ours.sort();
        builtin.sort();
        assert_eq!(ours, builtin);
    }

    #[test]
    fn a_source_id_in_two_documents_is_a_duplicate() {
        let mut data = TenantData::default();
        for (stem, text) in [
            ("a", "## x.one: One\ntext\n"),
            ("b", "## x.one: Again\nmore\n"),
        ] {
            let doc = parse_markdown("f.md", stem, text).expect("valid");
            data.documents.insert(doc.id.clone(), doc);
        }
        let e = data.knowledge_base().expect_err("x.one twice");
        assert_eq!(e.kind(), TenantErrorKind::Duplicate);
        assert_eq!(
            e.to_string(),
            "source id x.one is used by documents a and b"
        );
    }
}
