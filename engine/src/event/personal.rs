//! Which parts of an event are personal data.
//!
//! Customer and agent free text (the message, the retrieval query, drafts,
//! answers, human replies, hand-off summaries), contact entities (email,
//! phone) and the string fields of looked-up records are personal: they are
//! sealed in the log with the conversation's data key and read as
//! [`ERASED`] once that key is shredded. Everything else (types, intents,
//! verdicts, findings, scores, timings, ids) stays readable without a key,
//! so analytics and audits need none.
//!
//! The list lives here, beside the catalog, so that adding a text field to
//! an event is one place to look; the cipher that seals them lives with the
//! keys (see [`crate::store::Cipher`]).

use super::EventData;

/// What a personal text reads as once its key is gone.
pub const ERASED: &str = "[erased]";

/// The personal strings of `data`, in a fixed order (the same event always
/// yields the same list, which is what the cipher binds each field to).
pub fn personal_texts_mut(data: &mut EventData) -> Vec<&mut String> {
    let mut out = Vec::new();
    match data {
        EventData::Received(r) => out.push(&mut r.text),
        EventData::Classified(c) => {
            out.extend(c.entities.email.as_mut());
            out.extend(c.entities.phone.as_mut());
        }
        EventData::Retrieved(r) => {
            out.push(&mut r.query);
            for record in &mut r.records {
                for value in record.fields.values_mut() {
                    strings_in(value, &mut out);
                }
            }
        }
        EventData::Drafted(d) => out.push(&mut d.text),
        EventData::Escalated(e) => out.push(&mut e.summary),
        EventData::Responded(r) => out.push(&mut r.text),
        EventData::HumanReplied(h) => out.push(&mut h.text),
        EventData::Screened(_)
        | EventData::Validated(_)
        | EventData::Closed(_)
        | EventData::Failed(_)
        | EventData::Erased(_) => {}
    }
    out
}

/// Every string leaf of a JSON value (a record's field may be an object).
fn strings_in<'a>(value: &'a mut serde_json::Value, out: &mut Vec<&'a mut String>) {
    match value {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| strings_in(v, out)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| strings_in(v, out)),
        _ => {}
    }
}

/// Replaces every personal text of `data` with [`ERASED`]; returns whether
/// anything changed.
pub fn erase(data: &mut EventData) -> bool {
    let mut changed = false;
    for text in personal_texts_mut(data) {
        if text != ERASED {
            ERASED.clone_into(text);
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Entities, Escalated, EscalationReason, Priority, Record, Retrieved};

    #[test]
    fn given_a_retrieval_with_records_when_listed_then_query_and_every_string_leaf_are_personal() {
        let mut fields = serde_json::Map::new();
        fields.insert("email".into(), "ana@example.com".into());
        fields.insert("total".into(), 12.5.into());
        fields.insert("address".into(), serde_json::json!({"street": "1 Rua"}));
        let mut data = EventData::Retrieved(Retrieved {
            query: "where is my order".into(),
            passages: vec![],
            records: vec![Record {
                kind: "order".into(),
                id: "1001".into(),
                fields,
            }],
        });
        let texts: Vec<String> = personal_texts_mut(&mut data)
            .into_iter()
            .map(|s| s.clone())
            .collect();
        assert_eq!(texts, ["where is my order", "1 Rua", "ana@example.com"]);
        assert!(erase(&mut data));
        let EventData::Retrieved(r) = &data else {
            unreachable!("built as retrieved")
        };
        assert_eq!(r.query, ERASED);
        assert_eq!(r.records[0].fields["total"], 12.5);
        assert!(!erase(&mut data), "erasing twice changes nothing");
    }

    #[test]
    fn given_classified_and_escalated_when_listed_then_only_contact_entities_and_summary() {
        let mut classified = EventData::Classified(crate::event::Classified {
            intent: crate::event::Intent::OrderStatus,
            confidence: 0.9,
            sentiment: crate::event::Sentiment::Neutral,
            entities: Entities {
                order_number: Some("#1001".into()),
                email: Some("ana@example.com".into()),
                ..Entities::default()
            },
            signals: vec![],
            model: None,
        });
        assert_eq!(personal_texts_mut(&mut classified).len(), 1);
        let mut escalated = EventData::Escalated(Escalated {
            reason: EscalationReason::HumanRequested,
            priority: Priority::High,
            queue: "general".into(),
            summary: "wants a person".into(),
        });
        assert_eq!(personal_texts_mut(&mut escalated).len(), 1);
    }
}
