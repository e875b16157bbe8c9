//! Worker replicas that split a partitioned stream's conversations.
//!
//! On a partitioned `CONVERSATIONS` stream (see
//! [`switchboard_engine::subject`]) each partition has its own durable
//! consumer per worker kind (`agent-all-p3`), and the replicas hosting the
//! same agents divide the partitions among themselves: each conversation is
//! worked by one replica at a time, whose cache stays warm for it, instead
//! of every replica competing for every conversation.
//!
//! Membership lives in the KV bucket [`bucket::MEMBERS`], whose entries
//! expire after [`MEMBER_TTL`]: every replica writes its own key
//! (`<label>.<member>`) each [`TICK`] and reads the live keys of its kind.
//! The assignment is a pure function of the sorted live members
//! ([`assign`]): partition `p` goes to member `p mod n`, so every replica
//! computes the same split, and a replica that dies (its key expires) or
//! leaves (it deletes its key) has its partitions taken over by the others
//! within a tick or two of noticing. A handover may overlap for a moment
//! (the old owner finishes what it holds while the new one starts): that
//! costs a conflict at most, never a duplicate, because appends are guarded
//! by the version they were decided on and keyed by cause and step.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::stream::Stream;
use async_nats::jetstream::{self, kv};
use futures::TryStreamExt;
use switchboard_engine::broker::bucket;
use switchboard_engine::store::EventStore;
use switchboard_engine::subject::{Partition, Scope};
use switchboard_engine::workflow::Agent;
use tokio::sync::watch;

use super::{RunError, Worker, WorkerOptions, consume, consumer_config, handle::Handler};
use crate::ops::PartState;

/// How long a member's key lives without being written again: how long a
/// replica that died keeps its partitions.
pub const MEMBER_TTL: Duration = Duration::from_secs(5);

/// How often a member writes its key and reads the others'.
pub const TICK: Duration = Duration::from_secs(1);

/// The partitions of `partitions` that member `me` works, given the live
/// members of its kind (`me` counts whether listed or not): every
/// partition has exactly one owner and owners differ by at most one
/// partition.
pub fn assign(members: &[String], me: &str, partitions: u32) -> Vec<Partition> {
    let mut sorted: Vec<&str> = members.iter().map(String::as_str).collect();
    sorted.push(me);
    sorted.sort_unstable();
    sorted.dedup();
    let n = sorted.len() as u32;
    let index = sorted.iter().position(|m| *m == me).unwrap_or(0) as u32;
    (0..partitions)
        .filter(|p| p % n == index)
        .map(Partition::new)
        .collect()
}

/// This replica's entry in the membership bucket.
pub struct Membership {
    kv: kv::Store,
    /// `<label>.`: the keys of this worker kind.
    prefix: String,
    /// The full key of this replica.
    key: String,
}

impl Membership {
    /// Opens (or creates) the bucket and names this replica
    /// `<label>.<fresh id>`; it is not listed until [`Membership::beat`].
    pub async fn join(js: &jetstream::Context, label: &str) -> Result<Self, RunError> {
        let config = kv::Config {
            max_age: MEMBER_TTL,
            history: 1,
            storage: jetstream::stream::StorageType::Memory,
            ..crate::kv::config(
                bucket::MEMBERS,
                "Live worker replicas, by kind; entries expire unless rewritten",
                1,
            )
        };
        let kv = crate::kv::open_or_create(js, config)
            .await
            .map_err(|e| RunError::Bind {
                consumer: bucket::MEMBERS.to_owned(),
                message: e.to_string(),
            })?;
        let id = uuid::Uuid::now_v7().simple().to_string();
        Ok(Self {
            kv,
            prefix: format!("{label}."),
            key: format!("{label}.{id}"),
        })
    }

    /// This replica's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Writes this replica's key (keeping it alive for another TTL).
    pub async fn beat(&self) -> Result<(), String> {
        self.kv
            .put(&self.key, bytes::Bytes::new())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The live members of this kind, this one included once it has beaten.
    pub async fn live(&self) -> Result<Vec<String>, String> {
        let keys = self.kv.keys().await.map_err(|e| e.to_string())?;
        keys.try_filter(|k| std::future::ready(k.starts_with(&self.prefix)))
            .try_collect()
            .await
            .map_err(|e| e.to_string())
    }

    /// Removes this replica's key so the others take its partitions at once.
    pub async fn leave(&self) {
        if let Err(e) = self.kv.delete(&self.key).await {
            tracing::debug!(member = %self.key, error = %e, "leaving: key not deleted; it expires");
        }
    }
}

/// One partition being worked here.
struct Held {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), RunError>>,
}

/// What a replica works with on a partitioned stream.
pub(super) struct Work<W: Worker> {
    pub store: EventStore,
    pub stream: Stream,
    pub handler: Handler<W>,
    pub agents: Vec<Agent>,
    pub options: WorkerOptions,
}

impl<W: Worker> Work<W> {
    /// Joins the members of this worker kind and works the partitions
    /// assigned to it, following every change of membership, until
    /// `shutdown`; then finishes what it holds and leaves.
    pub async fn run(
        self,
        partitions: u32,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), RunError> {
        let label = self.handler.label().to_owned();
        let ready = self.options.readiness.clone();
        let members = Membership::join(self.store.jetstream(), &label)
            .await
            .inspect_err(|e| ready.set(PartState::down(e.to_string())))?;
        let mut held: BTreeMap<Partition, Held> = BTreeMap::new();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !*shutdown.borrow() {
            tokio::select! {
                _ = shutdown.changed() => continue,
                _ = tick.tick() => {}
            }
            let live = match self.heartbeat(&members).await {
                Ok(live) => live,
                Err(e) => {
                    ready.set(PartState::down(format!("membership: {e}")));
                    tracing::warn!(worker = %label, error = %e, "membership unreadable; keeping the partitions held");
                    continue;
                }
            };
            let owned = assign(&live, members.key(), partitions);
            self.rebalance(&mut held, &owned, live.len().max(1)).await;
            ready.set(PartState::Ready);
        }
        for (_, h) in std::mem::take(&mut held) {
            h.stop.send_replace(true);
            finish(&label, h).await;
        }
        members.leave().await;
        Ok(())
    }

    /// Writes this member's key, then lists the live ones.
    async fn heartbeat(&self, members: &Membership) -> Result<Vec<String>, String> {
        members.beat().await?;
        members.live().await
    }

    /// Stops the partitions no longer owned (each finishing what it holds)
    /// and starts the newly owned ones; restarts any that ended on its own.
    async fn rebalance(
        &self,
        held: &mut BTreeMap<Partition, Held>,
        owned: &[Partition],
        members: usize,
    ) {
        let label = self.handler.label().to_owned();
        let lost: Vec<Partition> = held
            .keys()
            .filter(|p| !owned.contains(p) || held[p].task.is_finished())
            .copied()
            .collect();
        for p in lost {
            if let Some(h) = held.remove(&p) {
                h.stop.send_replace(true);
                if owned.contains(&p) {
                    finish(&label, h).await;
                } else {
                    tracing::info!(worker = %label, partition = p.get(), members, "partition handed over");
                    // Finishing may take a step's time: do not hold up the
                    // partitions still to start.
                    let label = label.clone();
                    tokio::spawn(async move { finish(&label, h).await });
                }
            }
        }
        for &p in owned {
            if held.contains_key(&p) {
                continue;
            }
            let (stop, stopped) = watch::channel(false);
            let config = consumer_config(&self.agents, &self.options, Scope::Partition(p));
            let part = self.options.readiness.child(format!("p{p}"));
            let task = tokio::spawn(consume(
                self.stream.clone(),
                self.handler.clone(),
                config,
                part.clone(),
                stopped,
            ));
            let task = tokio::spawn(async move {
                let result = task.await;
                part.forget();
                result.unwrap_or_else(|e| {
                    Err(RunError::Consume {
                        consumer: format!("partition {p}"),
                        message: e.to_string(),
                    })
                })
            });
            tracing::info!(worker = %label, partition = p.get(), members, "partition taken");
            held.insert(p, Held { stop, task });
        }
    }
}

/// Waits for a stopped partition's in-flight work, logging how it ended.
async fn finish(label: &str, held: Held) {
    match held.task.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(worker = %label, error = %e, "partition consumer ended"),
        Err(e) => tracing::error!(worker = %label, error = %e, "partition task failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("all.m{i}")).collect()
    }

    #[test]
    fn given_live_members_when_partitions_are_assigned_then_each_has_one_owner_and_the_split_is_even()
     {
        for n in 1..=5 {
            let live = members(n);
            let mut owners = vec![0u32; 8];
            let mut sizes = Vec::new();
            for me in &live {
                let mine = assign(&live, me, 8);
                sizes.push(mine.len());
                for p in mine {
                    owners[p.get() as usize] += 1;
                }
            }
            assert!(owners.iter().all(|&o| o == 1), "{n} members: {owners:?}");
            let (min, max) = (sizes.iter().min(), sizes.iter().max());
            assert!(max.zip(min).is_some_and(|(a, b)| a - b <= 1), "{sizes:?}");
        }
    }

    #[test]
    fn given_a_member_not_yet_listed_when_assigned_then_it_counts_itself() {
        let live = members(1);
        let alone = assign(&[], "all.m0", 4);
        assert_eq!(alone.len(), 4);
        let newcomer = assign(&live, "all.m9", 4);
        let old = assign(&live, "all.m0", 4);
        assert_eq!(newcomer.len(), 2, "the newcomer sees two members");
        assert_eq!(old.len(), 4, "the old member has not seen it yet");
    }

    #[test]
    fn given_a_member_leaves_when_reassigned_then_the_survivor_takes_everything() {
        let live = members(2);
        assert_eq!(assign(&live, "all.m1", 8).len(), 4);
        assert_eq!(assign(&live[1..], "all.m1", 8).len(), 8);
    }
}
