//! The fault schedule of `bench chaos`: while work is pending, a random
//! member (each once per round) is SIGKILLed every `--kill-every-ms` and
//! started again, and the broker is crashed and restarted at evenly spaced points of the
//! publishing; meanwhile the longest stall is measured and progress shown.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::pull;
use switchboard_engine::store::EventStore;

use super::ChaosArgs;
use super::fleet::{Broker, Fleet};
use super::traffic::{Counts, Tally};

/// How often the schedule looks at the system.
const TICK: Duration = Duration::from_millis(100);
/// A consumer delivered to within this long before a kill was at work
/// (with more unacknowledged than its previous process stranded).
const RECENT: Duration = Duration::from_secs(1);
/// How long a kill waits for its victim to have work in hand.
const AIM: Duration = Duration::from_secs(1);

/// The schedule's state and what it did.
pub struct Chaos {
    kill_every: Duration,
    rng: fastrand::Rng,
    planned_restarts: u32,
    conversations: usize,
    deadline: Duration,
    stall_since: Option<Instant>,
    /// Victims still to kill in this round: every member once per round,
    /// in a seeded random order, so a short run still hits each of them.
    deck: Vec<usize>,
    /// Per consumer, what its last killed process left unacknowledged.
    stranded: std::collections::HashMap<String, Stranded>,
    /// Kills made.
    pub kills: u64,
    /// Kills of a member whose consumer had deliveries in flight.
    pub kills_mid_step: u64,
    /// Kills while acknowledged conversations were unanswered.
    pub kills_with_pending: u64,
    /// Kills per member, and how many of them landed mid-step.
    pub kills_by_member: std::collections::BTreeMap<String, (u64, u64)>,
    /// Broker crashes and restarts made.
    pub broker_restarts: u32,
    /// On a cluster: each kill of the stream leader and who took over.
    pub failovers: Vec<super::fleet::Failover>,
    /// Longest time with unanswered conversations and no new answer.
    pub max_stall: Duration,
    /// The live projections the projector process writes: it has work in
    /// hand while their checkpoint is behind the log.
    live: Option<std::sync::Arc<dyn switchboard_engine::projection::ProjectionStore>>,
}

impl Chaos {
    pub fn new(args: &ChaosArgs, planned_restarts: u32) -> Self {
        Self {
            kill_every: Duration::from_millis(args.kill_every_ms.max(1)),
            // A stream of its own: the messages use the seed too.
            rng: fastrand::Rng::with_seed(args.seed ^ 0x9e37_79b9_7f4a_7c15),
            planned_restarts,
            conversations: args.conversations,
            deadline: Duration::from_secs(args.deadline_s.max(1)),
            stall_since: None,
            deck: Vec::new(),
            stranded: Default::default(),
            kills: 0,
            kills_mid_step: 0,
            kills_with_pending: 0,
            kills_by_member: Default::default(),
            broker_restarts: 0,
            failovers: Vec::new(),
            max_stall: Duration::ZERO,
            live: None,
        }
    }

    /// The projector's store, to tell whether a kill of it lands mid-run.
    pub fn watch_projections(
        &mut self,
        live: std::sync::Arc<dyn switchboard_engine::projection::ProjectionStore>,
    ) {
        self.live = Some(live);
    }

    /// Whether the victim has work in hand: an agent's consumer has recent
    /// unacknowledged deliveries; the projector's checkpoint is behind.
    async fn busy(
        &self,
        store: &EventStore,
        name: &str,
        consumer: &str,
        before: Option<Stranded>,
    ) -> bool {
        match (&self.live, name) {
            (Some(live), "projector") => projector_behind(store, live.as_ref()).await,
            _ => in_flight(store, consumer, before).await,
        }
    }

    /// Runs the faults until every acknowledged conversation is answered
    /// and publishing is over, or the deadline passes.
    pub async fn run(
        &mut self,
        store: &EventStore,
        fleet: &mut Fleet,
        broker: &mut Broker,
        tally: &Tally,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let deadline = started + self.deadline;
        let mut next_kill = started + self.kill_every;
        let mut progress = Progress::new();
        loop {
            tokio::time::sleep(TICK).await;
            let counts = tally.counts();
            self.track_stall(&counts);
            fleet.reap()?;
            progress.show(self, &counts, self.conversations, false);
            if counts.published && counts.pending() == 0 {
                break;
            }
            if Instant::now() >= deadline {
                eprintln!(
                    "chaos: deadline passed with {} unanswered",
                    counts.pending()
                );
                break;
            }
            if self.restart_due(&counts) {
                let (down, failover) = broker.crash_and_restart(store.jetstream()).await?;
                self.broker_restarts += 1;
                tracing::debug!(
                    down_ms = down.as_millis() as u64,
                    ?failover,
                    "broker restarted"
                );
                self.failovers.extend(failover);
                continue;
            }
            // Work is pending while messages keep arriving or answers are
            // outstanding.
            if Instant::now() >= next_kill && (!counts.published || counts.pending() > 0) {
                next_kill = Instant::now() + self.kill_every;
                self.kill_one(store, fleet, &counts).await?;
            }
        }
        progress.show(self, &tally.counts(), self.conversations, true);
        Ok(())
    }

    /// The k-th restart is due once k/(R+1) of the conversations are
    /// acknowledged, while some are unanswered.
    fn restart_due(&self, counts: &Counts) -> bool {
        let k = self.broker_restarts as usize + 1;
        self.broker_restarts < self.planned_restarts
            && counts.pending() > 0
            && counts.acked * (self.planned_restarts as usize + 1) >= k * self.conversations
    }

    async fn kill_one(
        &mut self,
        store: &EventStore,
        fleet: &mut Fleet,
        counts: &Counts,
    ) -> anyhow::Result<()> {
        if self.deck.is_empty() {
            self.deck = (0..fleet.len()).collect();
            self.rng.shuffle(&mut self.deck);
        }
        let Some(victim) = self.deck.pop() else {
            return Ok(());
        };
        // Aim: wait a little for the victim to have work in hand, so the
        // kill lands mid-step rather than between messages.
        let aim = Instant::now() + AIM;
        let consumer = fleet.consumer(victim).to_owned();
        let before = self.stranded.get(&consumer).copied();
        let name = fleet.name(victim).to_owned();
        let mut mid_step = self.busy(store, &name, &consumer, before).await;
        while !mid_step && Instant::now() < aim {
            tokio::time::sleep(Duration::from_millis(2)).await;
            mid_step = self.busy(store, &name, &consumer, before).await;
        }
        self.kills_mid_step += u64::from(mid_step);
        self.kills_with_pending += u64::from(counts.pending() > 0);
        tracing::debug!(victim = fleet.name(victim), mid_step, "SIGKILL");
        fleet.kill(victim).await?;
        if let Some(left) = stranded(store, &consumer).await {
            self.stranded.insert(consumer, left);
        }
        fleet.restart(victim)?;
        self.kills += 1;
        let tally = self
            .kills_by_member
            .entry(fleet.name(victim).to_owned())
            .or_default();
        tally.0 += 1;
        tally.1 += u64::from(mid_step);
        Ok(())
    }

    fn track_stall(&mut self, counts: &Counts) {
        let now = Instant::now();
        if counts.pending() == 0 {
            self.stall_since = None;
            return;
        }
        let since = self.stall_since.get_or_insert(now);
        if let Some(answer) = counts.last_answer
            && answer > *since
        {
            *since = answer;
        }
        self.max_stall = self.max_stall.max(now - *since);
    }
}

/// What a consumer had unacknowledged when its process was last killed:
/// deliveries to the dead process, which stay unacknowledged until the
/// consumer's ack wait runs out and must not pass for the new process's work.
#[derive(Debug, Clone, Copy)]
struct Stranded {
    count: usize,
    until: Instant,
}

/// A consumer's unacknowledged deliveries, and since when they have been
/// waiting at most (the ack wait).
struct Unacked {
    count: usize,
    recent: bool,
    ack_wait: Duration,
}

async fn unacked(store: &EventStore, consumer: &str) -> Option<Unacked> {
    let ask = async {
        let stream = store
            .jetstream()
            .get_stream(&store.options().stream)
            .await
            .ok()?;
        let mut consumer = stream.get_consumer::<pull::Config>(consumer).await.ok()?;
        let info = consumer.info().await.ok()?.clone();
        let last = info.delivered.last_active?.unix_timestamp_nanos();
        let now = chrono::Utc::now().timestamp_nanos_opt()? as i128;
        Some(Unacked {
            count: info.num_ack_pending,
            recent: now - last <= RECENT.as_nanos() as i128,
            ack_wait: info.config.ack_wait,
        })
    };
    tokio::time::timeout(Duration::from_secs(1), ask)
        .await
        .ok()
        .flatten()
}

/// Whether `consumer`'s (only) process has work in hand: deliveries made
/// within [`RECENT`] and more unacknowledged than its previous process
/// stranded. Unknown (e.g. the broker is down) counts as no.
async fn in_flight(store: &EventStore, consumer: &str, stranded: Option<Stranded>) -> bool {
    let Some(now) = unacked(store, consumer).await else {
        return false;
    };
    let stranded = stranded
        .filter(|s| Instant::now() < s.until)
        .map_or(0, |s| s.count);
    now.recent && now.count > stranded
}

/// Whether the projections' lowest checkpoint is behind the log's last
/// sequence (the projector has events left to fold). Unknown counts as no.
async fn projector_behind(
    store: &EventStore,
    live: &dyn switchboard_engine::projection::ProjectionStore,
) -> bool {
    let Ok(mut stream) = store.jetstream().get_stream(&store.options().stream).await else {
        return false;
    };
    let Ok(info) = stream.info().await else {
        return false;
    };
    let Ok(checkpoints) = live.checkpoints().await else {
        return false;
    };
    switchboard_engine::projection::PROJECTIONS
        .iter()
        .any(|p| checkpoints.get(p) < info.state.last_sequence)
}

/// What the killed process left unacknowledged on `consumer`, read right
/// after the kill (before its successor pulls anything).
async fn stranded(store: &EventStore, consumer: &str) -> Option<Stranded> {
    let now = unacked(store, consumer).await?;
    Some(Stranded {
        count: now.count,
        until: Instant::now() + now.ack_wait,
    })
}

/// The progress line on stderr: rewritten in place on a terminal, a line
/// every 5 s otherwise.
struct Progress {
    terminal: bool,
    every: Duration,
    next: Instant,
}

impl Progress {
    fn new() -> Self {
        let terminal = std::io::stderr().is_terminal();
        let every = if terminal {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(5)
        };
        Self {
            terminal,
            every,
            next: Instant::now(),
        }
    }

    fn show(&mut self, chaos: &Chaos, counts: &Counts, total: usize, last: bool) {
        if !last && Instant::now() < self.next {
            return;
        }
        self.next = Instant::now() + self.every;
        let line = format!(
            "chaos: published {}/{total}, answered {}, pending {}, kills {} ({} mid-step), broker restarts {}, longest stall {:.1} s",
            counts.acked,
            counts.answered,
            counts.pending(),
            chaos.kills,
            chaos.kills_mid_step,
            chaos.broker_restarts,
            chaos.max_stall.as_secs_f64()
        );
        match (self.terminal, last) {
            (true, false) => eprint!("\r{line}\x1b[K"),
            (true, true) => eprintln!("\r{line}\x1b[K"),
            (false, _) => eprintln!("{line}"),
        }
    }
}
