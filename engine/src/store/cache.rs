//! A bounded, short-lived cache of loaded conversations (DESIGN §4).
//!
//! Workers load a conversation for every trigger, and a conversation moves a
//! few events at a time. With the cache a load reads only the messages after
//! the version it already holds, which on JetStream is also far cheaper for
//! the server: a wildcard `next_by_subj` read from sequence 1 walks the
//! stream's message block from its start, one from the cached version walks
//! only what was appended since. The cache is an optimisation only: every
//! cached load still reads the log from the cached version on, and every
//! append is checked against the version decided on, so a stale entry can
//! cost a conflict and a reload, never a wrong decision.
//!
//! Appends made through the same store extend the cached copy when it was
//! exactly at the version appended against (the server has just checked
//! that nothing came between), so the next agent in the same process finds
//! the conversation up to date without asking the server.
//!
//! Entries expire after a time to live, so a conversation rewritten out of
//! band (a purge) is read in full again within that time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use chrono::Utc;

use super::Appended;
use super::load::Loaded;
use crate::event::{Event, StoredEvent};
use crate::ids::{ConversationKey, StreamSeq};

/// Settings of the conversation cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheOptions {
    /// Conversations kept. Default 2,000: a conversation is hot while its
    /// turn runs (milliseconds to seconds), and 2,000 hold every
    /// conversation in flight of `bench pipeline`'s unpaced batch; a
    /// customer's next message comes later than the time to live anyway.
    /// (10,000 held some 45 MB under sustained load, measured with
    /// heaptrack, for no throughput: see the README's soak section.)
    pub capacity: usize,
    /// Memory the kept conversations may hold, roughly ([`Loaded::bytes`]
    /// counts the events, not the folded state beside them): long
    /// conversations are evicted sooner. Default 8 MiB.
    pub max_bytes: usize,
    /// Age after which an entry is read in full again. Default 60 s.
    pub ttl: Duration,
}

impl Default for CacheOptions {
    fn default() -> Self {
        Self {
            capacity: 2_000,
            max_bytes: 8 * 1024 * 1024,
            ttl: Duration::from_secs(60),
        }
    }
}

#[derive(Clone)]
struct Entry {
    loaded: Arc<Loaded>,
    read_at: Instant,
}

/// Conversations by key, each as last read.
/// An entry weighs its bytes, and at least its share of the byte bound
/// (`max_bytes / capacity`): so the cache holds at most `capacity` entries
/// and at most `max_bytes`, whichever binds first.
#[derive(Clone)]
struct Weight {
    least: u64,
}

impl quick_cache::Weighter<ConversationKey, Entry> for Weight {
    fn weight(&self, _key: &ConversationKey, entry: &Entry) -> u64 {
        (entry.loaded.bytes() as u64).max(self.least)
    }
}

pub(crate) struct ConversationCache {
    entries: quick_cache::sync::Cache<ConversationKey, Entry, Weight>,
    ttl: Duration,
    /// Appends in flight that will write through, by conversation, with
    /// how many: a worker triggered by one of them (its delivery can beat
    /// the ack) waits for it instead of reading the stream.
    pending: Mutex<HashMap<ConversationKey, (Arc<Notify>, usize)>>,
}

/// An append in flight that will write through; dropping it wakes the
/// readers waiting on the conversation.
pub(crate) struct PendingAppend {
    cache: Arc<ConversationCache>,
    key: ConversationKey,
}

impl Drop for PendingAppend {
    fn drop(&mut self) {
        let Ok(mut pending) = self.cache.pending.lock() else {
            return;
        };
        if let Some((notify, count)) = pending.get_mut(&self.key) {
            notify.notify_waiters();
            *count -= 1;
            if *count == 0 {
                pending.remove(&self.key);
            }
        }
    }
}

impl std::fmt::Debug for ConversationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConversationCache")
            .field("entries", &self.entries.len())
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl ConversationCache {
    pub(crate) fn new(options: CacheOptions) -> Self {
        Self {
            entries: {
                let capacity = options.capacity.max(1);
                let bytes = options.max_bytes.max(capacity) as u64;
                let least = (bytes / capacity as u64).max(1);
                quick_cache::sync::Cache::with_weighter(capacity, bytes, Weight { least })
            },
            ttl: options.ttl,
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Notes an append to `key` at `expected` that will write through (the
    /// cached copy is at `expected`); `None` when it will not.
    pub(crate) fn begin_append(
        self: &Arc<Self>,
        key: &ConversationKey,
        expected: StreamSeq,
    ) -> Option<PendingAppend> {
        if self.get(key)?.version != expected {
            return None;
        }
        let mut pending = self.pending.lock().ok()?;
        let entry = pending
            .entry(key.clone())
            .or_insert_with(|| (Arc::new(Notify::new()), 0));
        entry.1 += 1;
        Some(PendingAppend {
            cache: self.clone(),
            key: key.clone(),
        })
    }

    /// The conversation once this process's appends to it in flight have
    /// written through, waiting at most `timeout`; as cached now when none
    /// is in flight.
    pub(crate) async fn settled(
        &self,
        key: &ConversationKey,
        seq: StreamSeq,
        timeout: Duration,
    ) -> Option<Arc<Loaded>> {
        let notify = match self.pending.lock() {
            Ok(pending) => pending.get(key).map(|(n, _)| n.clone()),
            Err(_) => None,
        };
        let Some(notify) = notify else {
            return self.get(key);
        };
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if let Some(held) = self.get(key).filter(|h| h.version >= seq) {
            return Some(held);
        }
        let _ = tokio::time::timeout(timeout, notified).await;
        self.get(key)
    }

    /// The conversation as last read, unless it is older than the TTL.
    pub(crate) fn get(&self, key: &ConversationKey) -> Option<Arc<Loaded>> {
        let entry = self.entries.get(key)?;
        if self.expired(&entry) {
            self.entries.remove(key);
            return None;
        }
        Some(entry.loaded)
    }

    fn expired(&self, entry: &Entry) -> bool {
        entry.read_at.elapsed() >= self.ttl
    }

    /// Keeps `loaded` unless a newer version is already cached (two tasks
    /// reading the same conversation at once).
    pub(crate) fn put(&self, loaded: Arc<Loaded>) {
        self.keep(Entry {
            loaded,
            read_at: Instant::now(),
        });
    }

    fn keep(&self, entry: Entry) {
        if let Some(held) = self.entries.get(&entry.loaded.key)
            && held.loaded.version > entry.loaded.version
        {
            return;
        }
        self.entries.insert(entry.loaded.key.clone(), entry);
    }

    /// Extends the cached copy with events this process just appended at
    /// `expected`, if the copy is exactly at `expected`: the server checked
    /// that nothing came between, so the copy stays a prefix of the log.
    /// `stored_at` is the time the ack arrived, within a millisecond or so
    /// of the server's own (replay and projections read the log's time).
    pub(crate) fn write_through(
        &self,
        key: &ConversationKey,
        expected: StreamSeq,
        events: &[Event],
        appended: Appended,
    ) {
        let contiguous = appended.last.get() + 1 - appended.first.get() == events.len() as u64;
        // Taken out, so that unless a reader still holds it, it is extended
        // in place rather than copied.
        let Some((_, entry)) = self.entries.remove(key) else {
            return;
        };
        if self.expired(&entry) {
            return;
        }
        if entry.loaded.version != expected || !contiguous {
            self.keep(entry);
            return;
        }
        let mut loaded = Arc::unwrap_or_clone(entry.loaded);
        let stored_at = Utc::now();
        for (event, seq) in events.iter().zip(appended.first.get()..) {
            loaded.push_event(StoredEvent {
                seq: StreamSeq::new(seq),
                stored_at,
                event: event.clone(),
            });
        }
        self.put(Arc::new(loaded));
    }

    /// Drops the copy of `key`, if any.
    pub(crate) fn remove(&self, key: &ConversationKey) {
        self.entries.remove(key);
    }

    /// Conversations held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(key: &str, version: u64) -> Arc<Loaded> {
        let mut loaded = Loaded::empty(&ConversationKey::parse(key).expect("valid key"));
        loaded.version = StreamSeq::new(version);
        Arc::new(loaded)
    }

    #[test]
    fn keeps_the_newest_version_of_a_conversation() {
        let cache = ConversationCache::new(CacheOptions::default());
        cache.put(loaded("t/a", 7));
        cache.put(loaded("t/a", 5));
        let key = ConversationKey::parse("t/a").expect("valid key");
        assert_eq!(cache.get(&key).map(|l| l.version.get()), Some(7));
        cache.put(loaded("t/a", 9));
        assert_eq!(cache.get(&key).map(|l| l.version.get()), Some(9));
    }

    fn closed(key: &str) -> Event {
        Event::new_root(
            ConversationKey::parse(key).expect("valid key"),
            crate::event::Actor::channel("web"),
            crate::event::EventData::Closed(crate::event::Closed {
                resolution: crate::event::Resolution::Resolved,
                satisfaction: None,
            }),
        )
    }

    #[test]
    fn appends_extend_only_a_copy_at_the_expected_version() {
        let cache = ConversationCache::new(CacheOptions::default());
        let key = ConversationKey::parse("t/a").expect("valid key");
        cache.put(loaded("t/a", 5));
        let events = [closed("t/a"), closed("t/a")];
        let at = |first, last| Appended {
            first: StreamSeq::new(first),
            last: StreamSeq::new(last),
        };
        // Appended against another version: the copy is left as it is.
        cache.write_through(&key, StreamSeq::new(4), &events, at(6, 7));
        assert_eq!(cache.get(&key).map(|l| l.version.get()), Some(5));
        cache.write_through(&key, StreamSeq::new(5), &events, at(8, 9));
        let held = cache.get(&key).expect("cached");
        assert_eq!(held.version.get(), 9);
        let seqs: Vec<u64> = held.events.iter().map(|e| e.seq.get()).collect();
        assert_eq!(seqs, [8, 9]);
        // Not contiguous (a group spread over the stream): left alone.
        cache.write_through(&key, StreamSeq::new(9), &events, at(10, 12));
        assert_eq!(cache.get(&key).map(|l| l.version.get()), Some(9));
    }

    #[tokio::test]
    async fn a_reader_behind_waits_for_the_append_in_flight_to_write_through() {
        let cache = Arc::new(ConversationCache::new(CacheOptions::default()));
        let key = ConversationKey::parse("t/a").expect("valid key");
        cache.put(loaded("t/a", 5));
        assert!(cache.begin_append(&key, StreamSeq::new(4)).is_none());
        let pending = cache
            .begin_append(&key, StreamSeq::new(5))
            .expect("pending");
        let reader = {
            let (cache, key) = (cache.clone(), key.clone());
            tokio::spawn(async move {
                cache
                    .settled(&key, StreamSeq::new(7), Duration::from_secs(30))
                    .await
                    .map(|l| l.version.get())
            })
        };
        // The reader is parked on the pending append, not on a timeout.
        tokio::task::yield_now().await;
        assert!(!reader.is_finished());
        let events = [closed("t/a"), closed("t/a")];
        let appended = Appended {
            first: StreamSeq::new(6),
            last: StreamSeq::new(7),
        };
        cache.write_through(&key, StreamSeq::new(5), &events, appended);
        drop(pending);
        assert_eq!(reader.await.expect("reader"), Some(7));
        assert!(cache.pending.lock().expect("lock").is_empty());
    }

    #[test]
    fn expired_entries_are_misses() {
        let cache = ConversationCache::new(CacheOptions {
            capacity: 10,
            ttl: Duration::ZERO,
            ..CacheOptions::default()
        });
        cache.put(loaded("t/a", 7));
        let key = ConversationKey::parse("t/a").expect("valid key");
        assert!(cache.get(&key).is_none());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn stays_within_capacity() {
        let cache = ConversationCache::new(CacheOptions {
            capacity: 100,
            ttl: Duration::from_secs(60),
            ..CacheOptions::default()
        });
        for i in 0..1000 {
            cache.put(loaded(&format!("t/c{i}"), i));
        }
        assert!(cache.len() <= 100, "{} entries", cache.len());
    }

    #[test]
    fn long_conversations_are_bounded_by_bytes_too() {
        let max_bytes = 256 * 1024;
        let cache = ConversationCache::new(CacheOptions {
            capacity: 1000,
            max_bytes,
            ttl: Duration::from_secs(60),
        });
        let mut one_size = 0;
        for i in 0..200 {
            let key = ConversationKey::parse(&format!("t/long{i}")).expect("valid key");
            let mut long = Loaded::empty(&key);
            for n in 1..=20 {
                long.push_event(StoredEvent {
                    seq: StreamSeq::new(n),
                    stored_at: Utc::now(),
                    event: closed(&format!("t/long{i}")),
                });
            }
            one_size = long.bytes();
            cache.put(Arc::new(long));
        }
        assert!(one_size > 20 * 100, "an event weighs something: {one_size}");
        let held = cache.len() * one_size;
        assert!(held <= max_bytes, "{} entries of {one_size} B", cache.len());
        assert!(
            cache.len() < 200 && cache.len() > 0,
            "{} entries",
            cache.len()
        );
    }
}
