//! The key ring: per-conversation data keys in a JetStream KV bucket,
//! wrapped by per-customer keys, wrapped by the tenant key.
//!
//! Entries of `SWITCHBOARD_KEYS` (history 1):
//! - `<tenant>.customer.<pseudonym>`: the customer's key, wrapped by the
//!   tenant key. Deleting it shreds every conversation of the customer.
//! - `<tenant>.conversation.<id>`: the conversation's data key, wrapped by
//!   its customer's key, with a short key id that every sealed text names.
//!   Deleting it shreds one conversation (retention).
//! - `<tenant>.owner.<pseudonym>.<id>`: which conversations a customer has,
//!   for erasure and subject access.
//!
//! The pseudonym is a keyed hash of the customer id, so the bucket says
//! nothing about who the customers are. A sealed text is
//! `sb1.<key id>.<base64url(nonce ‖ ciphertext)>`, bound to its tenant,
//! conversation, event id and position, so it cannot be moved elsewhere.
//! Keys are cached per process; a watch on the bucket drops a cached key as
//! soon as any process deletes it, so a shredded key is not served from
//! memory either.

use std::sync::Arc;

use async_nats::jetstream::{self, kv};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use switchboard_engine::event::personal::{self, ERASED};
use switchboard_engine::event::{Event, EventData};
use switchboard_engine::ids::{ConversationId, ConversationKey, Tenant};
use switchboard_engine::store::{Cipher, CipherError, CipherErrorKind};

use super::keys::Key;

/// The bucket of data keys.
pub const BUCKET: &str = "SWITCHBOARD_KEYS";
/// What every sealed text starts with.
pub const SEALED_PREFIX: &str = "sb1.";

/// A conversation's data key and its id.
struct ConversationKeyEntry {
    id: String,
    key: Key,
}

/// `<tenant>.conversation.<id>` as stored.
#[derive(Debug, Serialize, Deserialize)]
struct StoredConversation {
    customer: String,
    id: String,
    key: String,
}

/// The key ring: a cheap-to-clone handle.
#[derive(Clone)]
pub struct KeyRing {
    inner: Arc<Inner>,
}

struct Inner {
    kv: kv::Store,
    js: jetstream::Context,
    master: Key,
    conversations: quick_cache::sync::Cache<ConversationKey, Arc<ConversationKeyEntry>>,
    watcher: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(mut watcher) = self.watcher.lock()
            && let Some(task) = watcher.take()
        {
            task.abort();
        }
    }
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("cached", &self.inner.conversations.len())
            .finish()
    }
}

fn unavailable(e: impl std::fmt::Display) -> CipherError {
    CipherError::new(CipherErrorKind::Unavailable, e.to_string())
}

fn invalid(message: impl Into<String>) -> CipherError {
    CipherError::new(CipherErrorKind::Invalid, message)
}

fn customer_entry(tenant: &Tenant, pseudonym: &str) -> String {
    format!("{tenant}.customer.{pseudonym}")
}

fn conversation_entry(key: &ConversationKey) -> String {
    format!("{}.conversation.{}", key.tenant, key.id)
}

fn owner_entry(tenant: &Tenant, pseudonym: &str, id: &ConversationId) -> String {
    format!("{tenant}.owner.{pseudonym}.{id}")
}

/// Conversation keys kept unwrapped: those of the conversations in flight,
/// whose turns use their key within seconds; a miss costs one bucket read
/// and an unwrap.
const CACHED_KEYS: usize = 10_000;

impl KeyRing {
    /// Opens (creating if needed) the key bucket, with `master` as the
    /// deployment's master key, and starts watching it for deletions.
    pub async fn open(client: &async_nats::Client, master: Key) -> Result<Self, CipherError> {
        let js = jetstream::new(client.clone());
        let config = crate::kv::config(
            BUCKET,
            "Switchboard: per-conversation data keys, wrapped per customer and tenant",
            1,
        );
        let kv = crate::kv::open_or_create(&js, config)
            .await
            .map_err(unavailable)?;
        let ring = Self {
            inner: Arc::new(Inner {
                kv,
                js,
                master,
                conversations: quick_cache::sync::Cache::new(CACHED_KEYS),
                watcher: std::sync::Mutex::new(None),
            }),
        };
        ring.watch_deletions().await?;
        Ok(ring)
    }

    /// Drops cached keys when their entries are deleted anywhere. The task
    /// holds only a weak handle and ends with the ring.
    async fn watch_deletions(&self) -> Result<(), CipherError> {
        let mut watch = self
            .inner
            .kv
            .watch("*.conversation.*")
            .await
            .map_err(unavailable)?;
        let weak = Arc::downgrade(&self.inner);
        let task = tokio::spawn(async move {
            while let Some(Ok(entry)) = watch.next().await {
                let Some(inner) = weak.upgrade() else { return };
                if entry.operation == kv::Operation::Put {
                    continue;
                }
                if let Some(key) = parse_conversation_entry(&entry.key) {
                    inner.conversations.remove(&key);
                }
            }
        });
        if let Ok(mut watcher) = self.inner.watcher.lock() {
            *watcher = Some(task);
        }
        Ok(())
    }

    fn tenant_key(&self, tenant: &Tenant) -> Key {
        self.inner.master.tenant_key(tenant.as_str())
    }

    /// The customer's pseudonym in the bucket.
    pub fn pseudonym(&self, tenant: &Tenant, customer_id: &str) -> String {
        self.tenant_key(tenant).pseudonym(customer_id)
    }

    /// The conversation's key as the bucket holds it now, or `None` if it
    /// (or its customer's key) was shredded.
    async fn fetch(
        &self,
        key: &ConversationKey,
    ) -> Result<Option<Arc<ConversationKeyEntry>>, CipherError> {
        let name = conversation_entry(key);
        let Some(stored) = self.inner.kv.get(&name).await.map_err(unavailable)? else {
            return Ok(None);
        };
        let stored: StoredConversation = serde_json::from_slice(&stored)
            .map_err(|e| invalid(format!("key entry {name} is not a key entry: {e}")))?;
        let Some(customer_key) = self.customer_key(&key.tenant, &stored.customer).await? else {
            return Ok(None);
        };
        let aad = format!("{name}/{}", stored.id);
        let data_key = Key::unwrap_with(&stored.key, &customer_key, aad.as_bytes())
            .ok_or_else(|| invalid(format!("key entry {name} does not unwrap")))?;
        let entry = Arc::new(ConversationKeyEntry {
            id: stored.id,
            key: data_key,
        });
        self.inner.conversations.insert(key.clone(), entry.clone());
        Ok(Some(entry))
    }

    async fn customer_key(
        &self,
        tenant: &Tenant,
        pseudonym: &str,
    ) -> Result<Option<Key>, CipherError> {
        let name = customer_entry(tenant, pseudonym);
        let Some(wrapped) = self.inner.kv.get(&name).await.map_err(unavailable)? else {
            return Ok(None);
        };
        let wrapped = std::str::from_utf8(&wrapped)
            .map_err(|_| invalid(format!("key entry {name} is not text")))?;
        Key::unwrap_with(wrapped, &self.tenant_key(tenant), name.as_bytes())
            .map(Some)
            .ok_or_else(|| {
                invalid(format!(
                    "key entry {name} does not unwrap with the tenant key"
                ))
            })
    }

    /// The customer's key, made if they have none.
    async fn customer_key_or_create(
        &self,
        tenant: &Tenant,
        pseudonym: &str,
    ) -> Result<Key, CipherError> {
        if let Some(key) = self.customer_key(tenant, pseudonym).await? {
            return Ok(key);
        }
        let name = customer_entry(tenant, pseudonym);
        let fresh = Key::generate().map_err(unavailable)?;
        let wrapped = fresh
            .wrap(&self.tenant_key(tenant), name.as_bytes())
            .map_err(unavailable)?;
        match self.inner.kv.create(&name, wrapped.into()).await {
            Ok(_) => Ok(fresh),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => self
                .customer_key(tenant, pseudonym)
                .await?
                .ok_or_else(|| unavailable(format!("{name} was created and deleted meanwhile"))),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// The conversation's key for sealing: cached, stored, or made now for
    /// the customer who wrote its first message.
    async fn key_for_sealing(
        &self,
        key: &ConversationKey,
        customer_id: Option<&str>,
    ) -> Result<Arc<ConversationKeyEntry>, CipherError> {
        if let Some(cached) = self.inner.conversations.get(key) {
            return Ok(cached);
        }
        if let Some(stored) = self.fetch(key).await? {
            return Ok(stored);
        }
        // A conversation whose first message we do not see here (or whose
        // key was shredded) gets a key of its own under an anonymous owner.
        let pseudonym = self.pseudonym(&key.tenant, customer_id.unwrap_or(""));
        let customer_key = self.customer_key_or_create(&key.tenant, &pseudonym).await?;
        let name = conversation_entry(key);
        let mut id = [0u8; 6];
        getrandom::fill(&mut id).map_err(unavailable)?;
        let id = hex::encode(id);
        let data_key = Key::generate().map_err(unavailable)?;
        let stored = StoredConversation {
            customer: pseudonym.clone(),
            key: data_key
                .wrap(&customer_key, format!("{name}/{id}").as_bytes())
                .map_err(unavailable)?,
            id: id.clone(),
        };
        let value = serde_json::to_vec(&stored).map_err(unavailable)?;
        match self.inner.kv.create(&name, value.into()).await {
            Ok(_) => {}
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                // Another replica made it first: use theirs.
                return self.fetch(key).await?.ok_or_else(|| {
                    unavailable(format!("{name} was created and deleted meanwhile"))
                });
            }
            Err(e) => return Err(unavailable(e)),
        }
        let owner = owner_entry(&key.tenant, &pseudonym, &key.id);
        self.inner
            .kv
            .put(&owner, key.id.as_str().to_owned().into())
            .await
            .map_err(unavailable)?;
        let entry = Arc::new(ConversationKeyEntry { id, key: data_key });
        self.inner.conversations.insert(key.clone(), entry.clone());
        Ok(entry)
    }

    /// The conversation's key for opening a text sealed under `id`: the
    /// cached one, or what the bucket holds now if the cache has another.
    async fn key_for_opening(
        &self,
        key: &ConversationKey,
        id: &str,
    ) -> Result<Option<Arc<ConversationKeyEntry>>, CipherError> {
        if let Some(cached) = self.inner.conversations.get(key)
            && cached.id == id
        {
            return Ok(Some(cached));
        }
        self.fetch(key).await
    }

    /// The conversations the customer has keys for, by the owner entries.
    pub async fn conversations_of(
        &self,
        tenant: &Tenant,
        customer_id: &str,
    ) -> Result<Vec<ConversationId>, CipherError> {
        let pseudonym = self.pseudonym(tenant, customer_id);
        let prefix = format!("{tenant}.owner.{pseudonym}.");
        let mut out = Vec::new();
        for name in self.keys_under(&prefix).await? {
            if let Some(id) = name
                .strip_prefix(&prefix)
                .and_then(|id| ConversationId::new(id).ok())
            {
                out.push(id);
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Names of live entries starting with `prefix` (a whole number of
    /// tokens ending in `.`), read with a filtered ordered consumer so only
    /// those entries are visited.
    async fn keys_under(&self, prefix: &str) -> Result<Vec<String>, CipherError> {
        use async_nats::jetstream::consumer::{DeliverPolicy, pull};
        let stream_name = format!("KV_{BUCKET}");
        let subject_prefix = format!("$KV.{BUCKET}.");
        let stream = self
            .inner
            .js
            .get_stream(&stream_name)
            .await
            .map_err(unavailable)?;
        let mut consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: format!("{subject_prefix}{prefix}>"),
                deliver_policy: DeliverPolicy::LastPerSubject,
                headers_only: true,
                ..Default::default()
            })
            .await
            .map_err(unavailable)?;
        let mut names = Vec::new();
        if consumer.info().await.map_err(unavailable)?.num_pending == 0 {
            return Ok(names);
        }
        let mut messages = consumer.messages().await.map_err(unavailable)?;
        while let Some(message) = messages.next().await {
            let message = message.map_err(unavailable)?;
            let last = message.info().map_err(unavailable)?.pending == 0;
            let deleted = message
                .headers
                .as_ref()
                .and_then(|h| h.get("KV-Operation"))
                .is_some_and(|op| op.as_str() == "DEL" || op.as_str() == "PURGE");
            if !deleted && let Some(name) = message.subject.strip_prefix(&subject_prefix) {
                names.push(name.to_owned());
            }
            if last {
                break;
            }
        }
        Ok(names)
    }

    /// Shreds one entry: the key is purged, a rollup that removes every
    /// earlier revision from the bucket's stream, so none can give it back.
    /// (A KV stream refuses message deletes, `deny_delete`, so the stored
    /// revision cannot be erased in place; the file store reclaims the
    /// removed messages' space as it compacts.)
    async fn shred(&self, name: &str) -> Result<(), CipherError> {
        self.inner.kv.purge(name).await.map_err(unavailable)
    }

    /// Shreds the customer's key and every conversation key of theirs;
    /// returns the conversations whose texts now read as erased.
    pub async fn shred_customer(
        &self,
        tenant: &Tenant,
        customer_id: &str,
    ) -> Result<Vec<ConversationId>, CipherError> {
        let pseudonym = self.pseudonym(tenant, customer_id);
        let conversations = self.conversations_of(tenant, customer_id).await?;
        self.shred(&customer_entry(tenant, &pseudonym)).await?;
        for id in &conversations {
            let key = ConversationKey::new(tenant.clone(), id.clone());
            self.shred(&conversation_entry(&key)).await?;
            self.shred(&owner_entry(tenant, &pseudonym, id)).await?;
            self.inner.conversations.remove(&key);
        }
        Ok(conversations)
    }

    /// Shreds one conversation's key (retention); the customer's key and
    /// other conversations stay. Returns whether there was a key.
    pub async fn shred_conversation(&self, key: &ConversationKey) -> Result<bool, CipherError> {
        let name = conversation_entry(key);
        let Some(stored) = self.inner.kv.get(&name).await.map_err(unavailable)? else {
            return Ok(false);
        };
        let owner = serde_json::from_slice::<StoredConversation>(&stored)
            .ok()
            .map(|s| s.customer);
        self.shred(&name).await?;
        if let Some(pseudonym) = owner {
            self.shred(&owner_entry(&key.tenant, &pseudonym, &key.id))
                .await?;
        }
        self.inner.conversations.remove(key);
        Ok(true)
    }
}

fn parse_conversation_entry(name: &str) -> Option<ConversationKey> {
    let mut parts = name.split('.');
    let tenant = Tenant::new(parts.next()?).ok()?;
    (parts.next()? == "conversation").then_some(())?;
    let id = ConversationId::new(parts.next()?).ok()?;
    Some(ConversationKey::new(tenant, id))
}

/// What a sealed text is bound to.
fn aad(event: &Event, index: usize) -> String {
    format!(
        "{}/{}/{index}",
        event.envelope.conversation, event.envelope.id
    )
}

fn customer_of(events: &[Event]) -> Option<&str> {
    events.iter().find_map(|e| match &e.data {
        EventData::Received(r) => Some(r.customer.id.as_str()),
        _ => None,
    })
}

#[async_trait::async_trait]
impl Cipher for KeyRing {
    async fn seal(&self, key: &ConversationKey, events: &mut [Event]) -> Result<(), CipherError> {
        let needs_key = events
            .iter_mut()
            .any(|e| !personal::personal_texts_mut(&mut e.data).is_empty());
        if !needs_key {
            return Ok(());
        }
        let data_key = self.key_for_sealing(key, customer_of(events)).await?;
        for event in events.iter_mut() {
            let bound: Vec<String> = (0..personal::personal_texts_mut(&mut event.data).len())
                .map(|i| aad(event, i))
                .collect();
            for (text, aad) in personal::personal_texts_mut(&mut event.data)
                .into_iter()
                .zip(bound)
            {
                let sealed = data_key
                    .key
                    .seal(text.as_bytes(), aad.as_bytes())
                    .map_err(unavailable)?;
                *text = format!("{SEALED_PREFIX}{}.{sealed}", data_key.id);
            }
        }
        Ok(())
    }

    async fn open(&self, event: &mut Event) -> Result<(), CipherError> {
        let bound: Vec<String> = (0..personal::personal_texts_mut(&mut event.data).len())
            .map(|i| aad(event, i))
            .collect();
        let conversation = event.envelope.conversation.clone();
        let mut held: Option<Arc<ConversationKeyEntry>> = None;
        for (text, aad) in personal::personal_texts_mut(&mut event.data)
            .into_iter()
            .zip(bound)
        {
            let Some(rest) = text.strip_prefix(SEALED_PREFIX) else {
                continue;
            };
            let (id, sealed) = rest
                .split_once('.')
                .ok_or_else(|| invalid("a sealed text has no key id"))?;
            if held.as_ref().is_none_or(|h| h.id != id) {
                held = self.key_for_opening(&conversation, id).await?;
            }
            let plain = match held.as_ref().filter(|h| h.id == id) {
                None => ERASED.to_owned(),
                Some(h) => h
                    .key
                    .open(sealed, aad.as_bytes())
                    .and_then(|p| String::from_utf8(p).ok())
                    .ok_or_else(|| {
                        invalid(format!(
                            "a sealed text of {conversation} does not authenticate"
                        ))
                    })?,
            };
            *text = plain;
        }
        Ok(())
    }

    fn forget(&self, key: &ConversationKey) {
        self.inner.conversations.remove(key);
    }
}
