//! The batch fold against a store: load what a batch touches, fold it purely,
//! and hand back the changed documents to write.
//!
//! A [`Folder`] keeps the documents it has seen in a cache, so a steady
//! projector reads each document once. It is the only writer of the store it
//! folds into; when the store's generation changes (a rebuild was swapped
//! in, noticed by [`ProjectionStore::refresh`] before each batch) or the
//! cache grows past its capacity, the cache is dropped and documents are
//! read again. A folder over a store known to be empty (a rebuild) never
//! reads until its first eviction.

use std::collections::{BTreeMap, BTreeSet};

use super::document::{
    AnalyticsDoc, AnalyticsKey, ConversationDoc, CustomerDoc, CustomerKey, EscalationDoc,
};
use super::fold::{self, Effect};
use super::{DocKeys, Documents, ProjectionStore, StoreError};
use crate::event::StoredEvent;
use crate::ids::ConversationKey;

/// Default cache capacity, in conversation documents.
pub const DEFAULT_CAPACITY: usize = 100_000;

#[derive(Debug, Default)]
struct Cache {
    conversations: BTreeMap<ConversationKey, ConversationDoc>,
    escalations: BTreeMap<ConversationKey, EscalationDoc>,
    analytics: BTreeMap<AnalyticsKey, AnalyticsDoc>,
    customers: BTreeMap<CustomerKey, CustomerDoc>,
}

#[derive(Debug, Default)]
struct Dirty {
    conversations: BTreeSet<ConversationKey>,
    escalations: BTreeSet<ConversationKey>,
    analytics: BTreeSet<AnalyticsKey>,
    customers: BTreeSet<CustomerKey>,
}

/// Folds batches of events into documents, caching what it has read.
#[derive(Debug)]
pub struct Folder {
    cache: Cache,
    capacity: usize,
    /// The cache holds every document of the store: a miss means absent.
    complete: bool,
    generation: u64,
}

impl Folder {
    /// A folder over a store that may hold documents already.
    pub fn new(store: &dyn ProjectionStore, capacity: usize) -> Self {
        Self {
            cache: Cache::default(),
            capacity: capacity.max(1),
            complete: false,
            generation: store.generation(),
        }
    }

    /// A folder over a store known to be empty (a rebuild's fresh copy).
    pub fn for_empty(store: &dyn ProjectionStore, capacity: usize) -> Self {
        Self {
            complete: true,
            ..Self::new(store, capacity)
        }
    }

    /// Folds `events` (in stream order) and returns the documents they
    /// changed plus the batch's checkpoint. Nothing is written: write the
    /// result, then call [`Folder::written`].
    pub async fn fold_batch(
        &mut self,
        store: &dyn ProjectionStore,
        events: &[StoredEvent],
    ) -> Result<Documents, StoreError> {
        // A rebuild may have swapped in new contents, here or (Cosmos DB)
        // in another process: look before folding, drop the cache if so.
        store.refresh().await?;
        if store.generation() != self.generation {
            self.reset(store);
        }
        let keys: BTreeSet<_> = events
            .iter()
            .map(|e| e.event.envelope.conversation.clone())
            .collect();
        self.load_conversations(store, keys).await?;
        let mut dirty = Dirty::default();
        let mut effects = Vec::new();
        for event in events {
            let key = &event.event.envelope.conversation;
            let before = self.cache.conversations.get(key);
            if let Some((after, fx)) = fold::fold_conversation(before, event) {
                self.cache.conversations.insert(key.clone(), after);
                dirty.conversations.insert(key.clone());
                effects.push((event.seq.get(), fx));
            }
        }
        self.load_derived(store, &effects).await?;
        for (seq, fx) in &effects {
            for effect in fx {
                self.apply(effect, *seq, &mut dirty);
            }
        }
        let mut documents = self.collect(&dirty);
        documents.checkpoint = events.last().map(|e| e.seq.get());
        Ok(documents)
    }

    /// Call after the batch was written: evicts the cache if it is too big.
    pub fn written(&mut self, store: &dyn ProjectionStore) {
        if self.cache.conversations.len() > self.capacity {
            self.reset(store);
        }
    }

    /// Drops the cache (after a failed write or a swap): documents are read
    /// from the store again.
    pub fn reset(&mut self, store: &dyn ProjectionStore) {
        self.cache = Cache::default();
        self.complete = false;
        self.generation = store.generation();
    }

    async fn load_conversations(
        &mut self,
        store: &dyn ProjectionStore,
        keys: BTreeSet<ConversationKey>,
    ) -> Result<(), StoreError> {
        if self.complete {
            return Ok(());
        }
        let missing: Vec<_> = keys
            .into_iter()
            .filter(|k| !self.cache.conversations.contains_key(k))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let docs = store
            .get(&DocKeys {
                conversations: missing,
                ..DocKeys::default()
            })
            .await?;
        self.insert(docs);
        Ok(())
    }

    async fn load_derived(
        &mut self,
        store: &dyn ProjectionStore,
        effects: &[(u64, Vec<Effect>)],
    ) -> Result<(), StoreError> {
        if self.complete {
            return Ok(());
        }
        let mut keys = DocKeys::default();
        for effect in effects.iter().flat_map(|(_, fx)| fx) {
            match effect {
                Effect::Analytics { key, .. } if !self.cache.analytics.contains_key(key) => {
                    keys.analytics.push(key.clone())
                }
                Effect::Escalation(doc) => {
                    let key = ConversationKey::new(doc.tenant.clone(), doc.conversation_id.clone());
                    if !self.cache.escalations.contains_key(&key) {
                        keys.escalations.push(key);
                    }
                }
                Effect::Customer { key, .. } if !self.cache.customers.contains_key(key) => {
                    keys.customers.push(key.clone())
                }
                _ => {}
            }
        }
        dedup(&mut keys);
        if keys.is_empty() {
            return Ok(());
        }
        let docs = store.get(&keys).await?;
        self.insert(docs);
        Ok(())
    }

    fn insert(&mut self, docs: Documents) {
        for doc in docs.conversations {
            self.cache.conversations.insert(doc.key(), doc);
        }
        for doc in docs.escalations {
            let key = ConversationKey::new(doc.tenant.clone(), doc.conversation_id.clone());
            self.cache.escalations.insert(key, doc);
        }
        for doc in docs.analytics {
            self.cache.analytics.insert(doc.key(), doc);
        }
        for doc in docs.customers {
            let key = CustomerKey {
                tenant: doc.tenant.clone(),
                customer_id: doc.customer_id.clone(),
            };
            self.cache.customers.insert(key, doc);
        }
    }

    fn apply(&mut self, effect: &Effect, seq: u64, dirty: &mut Dirty) {
        match effect {
            Effect::Analytics { key, delta } => {
                let doc = self
                    .cache
                    .analytics
                    .entry(key.clone())
                    .or_insert_with(|| AnalyticsDoc::new(key));
                if fold::apply_analytics(doc, delta, seq) {
                    dirty.analytics.insert(key.clone());
                }
            }
            Effect::Escalation(new) => {
                let key = ConversationKey::new(new.tenant.clone(), new.conversation_id.clone());
                let doc = self
                    .cache
                    .escalations
                    .entry(key.clone())
                    .or_insert_with(|| EscalationDoc {
                        last_seq: 0,
                        ..new.clone()
                    });
                if fold::apply_escalation(doc, new) {
                    dirty.escalations.insert(key);
                }
            }
            Effect::Customer {
                key,
                at,
                conversation,
                ..
            } => {
                let doc = self
                    .cache
                    .customers
                    .entry(key.clone())
                    .or_insert_with(|| fold::new_customer(key, *at, conversation));
                if fold::apply_customer(doc, effect, seq) {
                    dirty.customers.insert(key.clone());
                }
            }
        }
    }

    fn collect(&self, dirty: &Dirty) -> Documents {
        fn pick<K: Ord, V: Clone>(map: &BTreeMap<K, V>, keys: &BTreeSet<K>) -> Vec<V> {
            keys.iter().filter_map(|k| map.get(k).cloned()).collect()
        }
        Documents {
            conversations: pick(&self.cache.conversations, &dirty.conversations),
            escalations: pick(&self.cache.escalations, &dirty.escalations),
            analytics: pick(&self.cache.analytics, &dirty.analytics),
            customers: pick(&self.cache.customers, &dirty.customers),
            checkpoint: None,
        }
    }
}

fn dedup(keys: &mut DocKeys) {
    keys.analytics.sort();
    keys.analytics.dedup();
    keys.escalations.sort();
    keys.escalations.dedup();
    keys.customers.sort();
    keys.customers.dedup();
}
