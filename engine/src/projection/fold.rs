//! The pure fold: one stored event into document updates. No I/O, no clock.
//!
//! An event first updates its conversation's document
//! ([`fold_conversation`]). The change between the document before and after
//! is then expressed as [`Effect`]s on the derived documents (analytics
//! buckets, the escalation queue, customers), which [`apply_effect`] folds
//! into them. Every document is gated on its own `last_seq`: an effect with
//! an older or equal sequence is a no-op, so folding an event twice — a
//! redelivery, or a batch re-run after a partial write — changes nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::document::{
    AnalyticsDoc, AnalyticsKey, ConversationDoc, ConversationStatus, Counters, CustomerDoc,
    CustomerKey, EscalationDoc, EscalationInfo, EscalationState,
};
use crate::event::{EventData, ScreenVerdict, StoredEvent, ValidateVerdict};
use crate::ids::ConversationId;

/// A change to a derived document caused by one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Add counters to an analytics bucket (negative to move a conversation out).
    Analytics {
        /// The bucket.
        key: AnalyticsKey,
        /// What to add.
        delta: Counters,
    },
    /// The conversation's entry in the human queue, replaced whole.
    Escalation(EscalationDoc),
    /// A customer was seen.
    Customer {
        /// The customer.
        key: CustomerKey,
        /// Their tier as the message says.
        tier: crate::event::CustomerTier,
        /// When.
        at: DateTime<Utc>,
        /// In which conversation.
        conversation: ConversationId,
        /// Whether this starts a new session (the conversation's first message).
        new_session: bool,
    },
}

/// Folds `event` into its conversation's document (`None` if there is none
/// yet). Returns the new document and the effects on derived documents, or
/// `None` when the event is not newer than the document (a no-op).
pub fn fold_conversation(
    before: Option<&ConversationDoc>,
    event: &StoredEvent,
) -> Option<(ConversationDoc, Vec<Effect>)> {
    let seq = event.seq.get();
    let id = event.event.envelope.id;
    if before.is_some_and(|doc| seq <= doc.last_seq || doc.event_ids.contains(&id)) {
        return None;
    }
    let key = &event.event.envelope.conversation;
    let mut after = before
        .cloned()
        .unwrap_or_else(|| ConversationDoc::new(key, event.stored_at));
    after.last_seq = seq;
    after.event_ids.push(id);
    after.updated_at = event.stored_at;
    apply_data(&mut after, &event.event.data, event.stored_at);
    let mut effects = analytics_effects(before, &after);
    if let Some(doc) = escalation_doc(&after, seq)
        && before.and_then(|b| escalation_doc(b, seq)).as_ref() != Some(&doc)
    {
        effects.push(Effect::Escalation(doc));
    }
    if let EventData::Received(received) = &event.event.data {
        effects.push(Effect::Customer {
            key: CustomerKey {
                tenant: key.tenant.clone(),
                customer_id: after.customer_id.clone(),
            },
            tier: received.customer.tier,
            at: event.stored_at,
            conversation: key.id.clone(),
            new_session: before.is_none_or(|b| b.customer_id.is_empty()),
        });
    }
    Some((after, effects))
}

/// The model usage a decision event records.
fn model_usage(data: &EventData) -> Option<&crate::event::ModelUsage> {
    match data {
        EventData::Screened(s) => s.model.as_ref(),
        EventData::Classified(c) => c.model.as_ref(),
        EventData::Drafted(d) => Some(&d.model),
        EventData::Validated(v) => v.model.as_ref(),
        _ => None,
    }
}

fn apply_data(doc: &mut ConversationDoc, data: &EventData, at: DateTime<Utc>) {
    if let Some(usage) = model_usage(data) {
        doc.remote.record(usage);
    }
    match data {
        EventData::Received(received) => {
            if doc.customer_id.is_empty() {
                doc.customer_id = received.customer.id.clone();
                doc.customer_tier = received.customer.tier;
                doc.channel = received.channel.clone();
            }
            doc.language = received.language.clone();
            doc.message_count += 1;
            if doc.status == ConversationStatus::Closed {
                doc.status = ConversationStatus::Open;
                doc.resolution = None;
            }
        }
        EventData::Screened(s) if s.verdict == ScreenVerdict::Block => doc.critic_blocks += 1,
        EventData::Validated(v) if v.verdict == ValidateVerdict::Reject => doc.critic_blocks += 1,
        EventData::Classified(c) => {
            doc.intent = Some(c.intent);
            doc.first_intent.get_or_insert(c.intent);
            doc.first_confidence_micros
                .get_or_insert((f64::from(c.confidence) * 1e6).round() as i64);
        }
        EventData::Escalated(e) => {
            doc.escalation = Some(EscalationInfo {
                reason: e.reason,
                priority: e.priority,
                queue: e.queue.clone(),
                since: at,
                state: EscalationState::Waiting,
            });
            doc.ever_escalated = true;
            doc.status = ConversationStatus::WithHuman;
        }
        EventData::Responded(r) => answered(doc, &r.text, at),
        EventData::HumanReplied(h) => {
            answered(doc, &h.text, at);
            doc.status = ConversationStatus::WithHuman;
            set_escalation_state(doc, EscalationState::Assigned);
        }
        EventData::Closed(c) => {
            doc.status = ConversationStatus::Closed;
            doc.resolution = Some(c.resolution);
            set_escalation_state(doc, EscalationState::Closed);
        }
        // The only text a projection holds goes with the key: purged, not hidden.
        EventData::Erased(_) => doc.last_response = None,
        EventData::Screened(_)
        | EventData::Validated(_)
        | EventData::Retrieved(_)
        | EventData::Drafted(_)
        | EventData::Failed(_) => {}
    }
}

fn answered(doc: &mut ConversationDoc, text: &str, at: DateTime<Utc>) {
    doc.message_count += 1;
    doc.last_response = Some(text.to_owned());
    if doc.first_response_at.is_none() {
        doc.first_response_at = Some(at);
        doc.first_response_ms = Some((at - doc.started_at).num_milliseconds().max(0));
    }
}

fn set_escalation_state(doc: &mut ConversationDoc, state: EscalationState) {
    if let Some(escalation) = doc.escalation.as_mut()
        && escalation.state != EscalationState::Closed
    {
        escalation.state = state;
    }
}

/// Moves the conversation's contribution from its old bucket to its new one.
/// Zero deltas are left out; a bucket that did not change gets no effect.
fn analytics_effects(before: Option<&ConversationDoc>, after: &ConversationDoc) -> Vec<Effect> {
    let mut deltas: BTreeMap<AnalyticsKey, Counters> = BTreeMap::new();
    if let Some(before) = before {
        deltas
            .entry(bucket(before))
            .or_default()
            .add(&Counters::of(before), -1);
    }
    deltas
        .entry(bucket(after))
        .or_default()
        .add(&Counters::of(after), 1);
    deltas
        .into_iter()
        .filter(|(_, delta)| *delta != Counters::default())
        .map(|(key, delta)| Effect::Analytics { key, delta })
        .collect()
}

/// The analytics bucket of a conversation.
pub fn bucket(doc: &ConversationDoc) -> AnalyticsKey {
    AnalyticsKey {
        tenant: doc.tenant.clone(),
        day: doc.day(),
        channel: doc.channel.clone(),
        intent: doc.first_intent,
    }
}

/// The conversation's queue entry, if it was ever escalated.
pub fn escalation_doc(doc: &ConversationDoc, seq: u64) -> Option<EscalationDoc> {
    let escalation = doc.escalation.clone()?;
    Some(EscalationDoc {
        id: doc.conversation_id.to_string(),
        tenant: doc.tenant.clone(),
        conversation_id: doc.conversation_id.clone(),
        escalation,
        channel: doc.channel.clone(),
        intent: doc.intent,
        customer_id: doc.customer_id.clone(),
        last_seq: seq,
    })
}

/// Applies one analytics delta at `seq`; false if the bucket is not older.
pub fn apply_analytics(doc: &mut AnalyticsDoc, delta: &Counters, seq: u64) -> bool {
    if seq <= doc.last_seq {
        return false;
    }
    doc.counters.add(delta, 1);
    doc.last_seq = seq;
    true
}

/// Replaces a queue entry with a newer one; false if `new` is not newer.
pub fn apply_escalation(doc: &mut EscalationDoc, new: &EscalationDoc) -> bool {
    if new.last_seq <= doc.last_seq {
        return false;
    }
    *doc = new.clone();
    true
}

/// A customer document for a customer first seen now.
pub fn new_customer(
    key: &CustomerKey,
    at: DateTime<Utc>,
    conversation: &ConversationId,
) -> CustomerDoc {
    CustomerDoc {
        id: key.customer_id.clone(),
        tenant: key.tenant.clone(),
        customer_id: key.customer_id.clone(),
        tier: Default::default(),
        sessions: 0,
        first_seen: at,
        last_seen: at,
        last_conversation: conversation.clone(),
        last_seq: 0,
    }
}

/// Folds a customer sighting at `seq`; false if the document is not older.
pub fn apply_customer(doc: &mut CustomerDoc, effect: &Effect, seq: u64) -> bool {
    let Effect::Customer {
        tier,
        at,
        conversation,
        new_session,
        ..
    } = effect
    else {
        return false;
    };
    if seq <= doc.last_seq {
        return false;
    }
    doc.sessions += u64::from(*new_session);
    doc.tier = *tier;
    doc.first_seen = doc.first_seen.min(*at);
    if *at >= doc.last_seen {
        doc.last_seen = *at;
        doc.last_conversation = conversation.clone();
    }
    doc.last_seq = seq;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Actor, Customer, CustomerTier, Event, Received};
    use crate::ids::{ConversationKey, StreamSeq};

    fn stored(event: &Event, seq: u64) -> StoredEvent {
        StoredEvent {
            seq: StreamSeq::new(seq),
            stored_at: Utc::now(),
            event: event.clone(),
        }
    }

    #[test]
    fn an_event_stored_twice_is_counted_once() {
        let key = ConversationKey::parse("acme/c1").expect("valid");
        let received = Event::new_root(
            key,
            Actor::channel("web"),
            EventData::Received(Received {
                message_id: "m1".into(),
                channel: "web".into(),
                customer: Customer {
                    id: "cust-1".into(),
                    tier: CustomerTier::Standard,
                },
                language: "en".into(),
                text: "hello".into(),
            }),
        );
        let (doc, _) = fold_conversation(None, &stored(&received, 1)).expect("first fold");
        assert_eq!(doc.message_count, 1);
        assert!(
            fold_conversation(Some(&doc), &stored(&received, 2)).is_none(),
            "the copy at a later sequence changes nothing"
        );
    }
}
