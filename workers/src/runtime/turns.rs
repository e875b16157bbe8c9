//! One message per conversation at a time within a process.
//!
//! A worker that hosts several agents carries a conversation through its
//! steps in one go (see [`handle`](super::handle)); the deliveries of the
//! events it appends meanwhile wait here and then find their step done,
//! instead of racing it with the same model work. Across processes the
//! append's expected version still decides; this only saves wasted work.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchboard_engine::ids::ConversationKey;
use tokio::sync::OwnedMutexGuard;

type Slot = Arc<tokio::sync::Mutex<()>>;

/// A lock per conversation, held only while someone holds or waits for it.
#[derive(Default)]
pub(crate) struct Turns {
    slots: Mutex<HashMap<ConversationKey, Slot>>,
}

/// The conversation's turn; dropping it lets the next message in.
pub(crate) struct Turn<'a> {
    turns: &'a Turns,
    key: ConversationKey,
    slot: Slot,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Turns {
    /// Waits until no other message of `key` is being processed here.
    pub(crate) async fn take(&self, key: &ConversationKey) -> Turn<'_> {
        let slot = self.with_slots(|slots| slots.entry(key.clone()).or_default().clone());
        let guard = slot.clone().lock_owned().await;
        Turn {
            turns: self,
            key: key.clone(),
            slot,
            guard: Some(guard),
        }
    }

    /// Conversations with a turn held or awaited (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.with_slots(|slots| slots.len())
    }

    fn with_slots<T>(&self, f: impl FnOnce(&mut HashMap<ConversationKey, Slot>) -> T) -> T {
        // A panic elsewhere while holding the map leaves it consistent
        // (every operation on it is a single insert or remove).
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut slots)
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.guard.take();
        self.turns.with_slots(|slots| {
            // Only the map and this turn hold the slot: nobody waits for it,
            // and nobody can start to without the map's lock.
            if Arc::strong_count(&self.slot) == 2 {
                slots.remove(&self.key);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn key(s: &str) -> ConversationKey {
        ConversationKey::parse(s).expect("a valid key")
    }

    #[tokio::test]
    async fn a_second_message_of_the_conversation_waits_for_the_first() {
        let turns = Arc::new(Turns::default());
        let first = turns.take(&key("t/a")).await;
        let waiting = {
            let turns = turns.clone();
            tokio::spawn(async move {
                let _turn = turns.take(&key("t/a")).await;
            })
        };
        // Another conversation is not held up.
        drop(turns.take(&key("t/b")).await);
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "the second message ran during the first"
        );
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the second message gets its turn once the first is done")
            .expect("no panic");
        assert_eq!(
            turns.len(),
            0,
            "finished conversations leave nothing behind"
        );
    }
}
