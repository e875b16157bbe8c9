//! `switchboard bench pipeline`: customer messages through all five agents
//! in one process on the local models, against the raw expected-sequence
//! publish baseline measured on the same server in the same run; then
//! message-to-response latency at a quarter of the maximum rate, timed from
//! each message's scheduled send time by a sender on a thread, runtime and
//! connection of its own (no coordinated omission); then a check, from the
//! log, that every conversation was answered exactly once. With
//! `--compare-sealed`, the full-rate batch runs twice more, warm: unsealed,
//! then with personal text sealed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use async_nats::jetstream::consumer::{Consumer, pull};
use clap::Args;
use futures::StreamExt;
use serde::Serialize;
use switchboard_engine::auth::ConnectAuth;
use switchboard_engine::event::{Event, EventData};
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::store::{EventStore, IdempotencyKey, StoreOptions};
use switchboard_engine::workflow::Agent;
use switchboard_workers::agents::Agents;
use switchboard_workers::privacy::{Key, KeyRing};
use switchboard_workers::runtime::{WorkerOptions, consumer_names, stream_partitions};
use tokio::sync::{oneshot, watch};

use super::append::{baseline, web_message};
use super::scaleout::AgentsShape;
use super::{Bench, Target};
use crate::cli::Global;

#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Conversations (one customer message each) at full rate.
    #[arg(long, default_value_t = 2000)]
    pub messages: usize,
    /// Messages sent at a quarter of the full rate for the latency figures.
    #[arg(long, default_value_t = 500)]
    pub latency_messages: usize,
    /// Then run the full-rate batch again with personal text sealed
    /// (encrypted per conversation under a fresh master key), agents and
    /// sender alike, to measure what encryption costs.
    #[arg(long)]
    pub compare_sealed: bool,
    /// Instead: the same batch through `up`'s shape and through N worker
    /// replicas as separate processes on a standalone server configured as
    /// deployed (users per role, batch staging on disk, the conversation
    /// stream in `--partitions` partitions, default two per replica and
    /// none for one), and with N > 1 one replica too; conversations/s of
    /// each beside `up`'s.
    #[arg(long = "replicas")]
    pub worker_replicas: Option<usize>,
    /// With `--replicas`: one `worker all` per replica, or five
    /// single-agent workers per replica.
    #[arg(long, value_enum, default_value_t = AgentsShape::All)]
    pub agents: AgentsShape,
    /// With `--replicas`: conversations sent to each shape first, unmeasured.
    #[arg(long, default_value_t = 200)]
    pub warmup: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, Serialize)]
struct Report {
    messages: usize,
    /// Conversations answered per second at full rate (the same figure as
    /// `conversations_per_s`, kept for existing readers).
    messages_per_s: f64,
    /// Distinct conversations answered per second at full rate.
    conversations_per_s: f64,
    events_per_s: f64,
    baseline_per_s: f64,
    ratio: f64,
    latency_rate_per_s: f64,
    /// Latencies from each message's scheduled send time (start + n / rate).
    p50_ms: f64,
    p99_ms: f64,
    /// Conversations of both runs whose log holds exactly one `responded`.
    answered_once: usize,
    /// Conversations with no `responded` in their log.
    unanswered: usize,
    /// Conversations with two or more `responded` in their log.
    answered_twice: usize,
    /// With `--compare-sealed`: the full-rate batch again, warm, unsealed.
    unsealed_rerun_per_s: Option<f64>,
    /// The same batch right after, texts sealed.
    sealed_conversations_per_s: Option<f64>,
    /// Sealed over the unsealed rerun.
    sealed_ratio: Option<f64>,
}

/// Messages a bench's agents process at once (per process).
pub(super) const TEAM_CONCURRENCY: usize = 64;

/// The five agents behind one consumer in this process, as `up` runs them,
/// with the benches' worker options; stopped with [`Team::stop`].
pub(super) struct Team {
    pub options: WorkerOptions,
    stop: watch::Sender<bool>,
    running: tokio::task::JoinHandle<Result<(), switchboard_workers::runtime::RunError>>,
}

impl Team {
    /// Starts the shipped agents on `store`.
    pub fn start(store: &EventStore) -> anyhow::Result<Self> {
        Self::start_with(store, Agents::builtin()?)
    }

    /// Starts `agents` on `store`.
    pub fn start_with(store: &EventStore, agents: Agents) -> anyhow::Result<Self> {
        let options = WorkerOptions {
            concurrency: TEAM_CONCURRENCY,
            ..WorkerOptions::default()
        };
        let (stop, shutdown) = watch::channel(false);
        let running = agents.spawn_team(store, &options, &shutdown);
        Ok(Self {
            options,
            stop,
            running,
        })
    }

    /// Stops the agents once their work in flight is done.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.send_replace(true);
        self.running.await??;
        Ok(())
    }
}

pub async fn run(global: &Global, args: PipelineArgs) -> anyhow::Result<()> {
    if let Some(replicas) = args.worker_replicas {
        let report = super::scaleout::run(
            global,
            &args.target,
            replicas,
            args.agents,
            args.messages,
            args.warmup,
        )
        .await?;
        super::emit(&report, args.json, super::scaleout::table)?;
        let (none, twice) = report.faults();
        anyhow::ensure!(
            none == 0 && twice == 0,
            "{none} conversations unanswered and {twice} answered more than once"
        );
        return Ok(());
    }
    let bench = Bench::start(global, &args.target).await?;
    let store = bench.store.clone();
    let team = Team::start(&store)?;
    let options = team.options.clone();
    let events_before = stream_messages(&store).await?;
    let started = Instant::now();
    let open = ConnectAuth::default();
    let full_keys = Keys::fresh("full", args.messages);
    let full = run_batch(&store, &bench.url, &open, full_keys, None, None).await?;
    // Every response is in, but agents may still be deciding on triggers
    // that lead nowhere (steps of other agents): the full rate counts them.
    drained(&store, &options).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let events = stream_messages(&store).await?.saturating_sub(events_before);
    let conversations_per_s = full.latencies.len() as f64 / elapsed;
    let rate = (conversations_per_s / 4.0).max(1.0);
    let paced_keys = Keys::fresh("paced", args.latency_messages);
    let paced = run_batch(&store, &bench.url, &open, paced_keys, Some(rate), None).await?;
    // Settled before counting, so a late second answer is seen.
    drained(&store, &options).await?;
    team.stop().await?;
    let mut answers = answers_of(&store, &full.keys).await?;
    answers.add(answers_of(&store, &paced.keys).await?);
    // Sealed against unsealed, both after the runs above warmed the
    // process (models trained, knowledge base built), each with a team of
    // its own: the same work but for the encryption.
    let (unsealed_rerun_per_s, sealed_conversations_per_s) = if args.compare_sealed {
        let (plain, plain_answers) =
            comparison_run(&store, &bench.url, &options, args.messages, None).await?;
        let master = Key::generate()?;
        let (sealed, sealed_answers) =
            comparison_run(&store, &bench.url, &options, args.messages, Some(master)).await?;
        answers.add(plain_answers);
        answers.add(sealed_answers);
        (Some(plain), Some(sealed))
    } else {
        (None, None)
    };
    // Measured after the agents stop, so they never see the baseline's messages.
    let baseline_per_s = baseline(&store, 1000, 10, 0).await?;
    let report = Report {
        messages: args.messages,
        messages_per_s: conversations_per_s,
        conversations_per_s,
        events_per_s: events as f64 / elapsed,
        baseline_per_s,
        ratio: (events as f64 / elapsed) / baseline_per_s,
        latency_rate_per_s: rate,
        p50_ms: percentile(&paced.latencies, 0.50),
        p99_ms: percentile(&paced.latencies, 0.99),
        answered_once: answers.once,
        unanswered: answers.none,
        answered_twice: answers.twice,
        unsealed_rerun_per_s,
        sealed_conversations_per_s,
        sealed_ratio: sealed_conversations_per_s
            .zip(unsealed_rerun_per_s)
            .map(|(s, u)| s / u),
    };
    super::emit(&report, args.json, table)?;
    anyhow::ensure!(
        report.unanswered == 0 && report.answered_twice == 0,
        "{} conversations unanswered and {} answered more than once (of {})",
        report.unanswered,
        report.answered_twice,
        report.answered_once + report.unanswered + report.answered_twice
    );
    Ok(())
}

/// The full-rate batch once more, with a team of its own, its texts sealed
/// under `sealing` when given (a key ring on the bench's server; agents and
/// sender seal with it). Conversations answered per second, and the
/// exactly-once count.
async fn comparison_run(
    store: &EventStore,
    url: &str,
    options: &WorkerOptions,
    messages: usize,
    sealing: Option<Key>,
) -> anyhow::Result<(f64, Answers)> {
    let store = match &sealing {
        Some(master) => {
            let ring = KeyRing::open(store.client(), master.clone()).await?;
            store.clone().with_cipher(Arc::new(ring))
        }
        None => store.clone(),
    };
    let prefix = if sealing.is_some() { "sealed" } else { "rerun" };
    let team = Team::start(&store)?;
    let started = Instant::now();
    let keys = Keys::fresh(prefix, messages);
    let batch = run_batch(&store, url, &ConnectAuth::default(), keys, None, sealing).await?;
    drained(&store, options).await?;
    let per_s = batch.latencies.len() as f64 / started.elapsed().as_secs_f64();
    team.stop().await?;
    Ok((per_s, answers_of(&store, &batch.keys).await?))
}

fn table(r: &Report) {
    println!(
        "pipeline benchmark: {} messages through all five agents (local models)",
        r.messages
    );
    println!(
        "  conversations answered                   {:>10.0} /s",
        r.conversations_per_s
    );
    println!(
        "  events appended                          {:>10.0} /s",
        r.events_per_s
    );
    println!(
        "  raw JetStream expected-seq publish       {:>10.0} /s  (baseline)",
        r.baseline_per_s
    );
    println!(
        "  ratio events / baseline                  {:>10.2}     (target >= 0.5)",
        r.ratio
    );
    println!(
        "  latency at {:.0} msg/s (25% of max), from each message's scheduled send time, sender on its own thread",
        r.latency_rate_per_s
    );
    println!(
        "                                           p50 {:.2} ms  p99 {:.2} ms  (targets 5 / 20 ms)",
        r.p50_ms, r.p99_ms
    );
    if let (Some(plain), Some(sealed), Some(ratio)) = (
        r.unsealed_rerun_per_s,
        r.sealed_conversations_per_s,
        r.sealed_ratio,
    ) {
        println!("  the same batch again, warm: unsealed     {plain:>10.0} /s  (baseline)");
        println!(
            "  then with texts sealed                   {sealed:>10.0} /s  {ratio:.2}x of unsealed"
        );
    }
    println!(
        "  answered exactly once {} / unanswered {} / answered twice or more {}",
        r.answered_once, r.unanswered, r.answered_twice
    );
}

/// Waits until the agents' consumers (one, or one per partition) have
/// nothing pending or unacked.
pub(super) async fn drained(store: &EventStore, options: &WorkerOptions) -> anyhow::Result<()> {
    drained_of(store, &[Agent::ALL.to_vec()], options).await
}

/// Waits until the consumers of every worker kind in `kinds` have nothing
/// pending or unacked.
pub(super) async fn drained_of(
    store: &EventStore,
    kinds: &[Vec<Agent>],
    options: &WorkerOptions,
) -> anyhow::Result<()> {
    let stream = store
        .jetstream()
        .get_stream(&store.options().stream)
        .await?;
    let partitions = stream_partitions(store).await?;
    let names: Vec<String> = kinds
        .iter()
        .flat_map(|agents| consumer_names(agents, options, partitions))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(300);
    let started = Instant::now();
    let mut report_at = started + Duration::from_secs(1);
    loop {
        let (mut pending, mut unacked, mut redelivered) = (0, 0, 0);
        for name in &names {
            let mut consumer: Consumer<pull::Config> = stream
                .get_consumer(name)
                .await
                .map_err(|e| anyhow::anyhow!("consumer {name}: {e}"))?;
            let info = consumer.info().await?;
            pending += info.num_pending;
            unacked += info.num_ack_pending;
            redelivered += info.num_redelivered;
        }
        if pending == 0 && unacked == 0 {
            tracing::info!(
                waited_ms = started.elapsed().as_millis() as u64,
                "agents drained"
            );
            return Ok(());
        }
        if Instant::now() >= report_at {
            report_at += Duration::from_secs(1);
            tracing::info!(pending, unacked, redelivered, "draining");
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} consumers still have {pending} pending and {unacked} unacked after 300 s",
            names.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stream_messages(store: &EventStore) -> anyhow::Result<u64> {
    let mut stream = store
        .jetstream()
        .get_stream(&store.options().stream)
        .await?;
    Ok(stream.info().await?.state.messages)
}

/// One batch's conversations and the latency of each first answer.
pub(super) struct Batch {
    pub keys: Vec<ConversationKey>,
    pub latencies: Vec<f64>,
}

/// Sends `count` messages (paced at `rate` per second when given) from a
/// sender thread of its own and returns each conversation's latency in ms
/// from its message's scheduled send time (`start + n / rate`, or `start`
/// unpaced) to its first `responded` event, waiting on the events
/// themselves (a core subscription), never polling. A conversation with no
/// answer after 120 s of silence is left to the exactly-once count.
pub(super) async fn run_batch(
    store: &EventStore,
    url: &str,
    auth: &ConnectAuth,
    sent: Keys,
    rate: Option<f64>,
    sealing: Option<Key>,
) -> anyhow::Result<Batch> {
    let count = sent.count;
    let index = sent.clone();
    let tenant = sent.tenant.clone();
    let keys = (0..count)
        .map(|n| sent.key(n))
        .collect::<Result<Vec<_>, _>>()?;
    let mut responses = store
        .client()
        .subscribe(switchboard_engine::subject::tenant_events_of_type(
            &tenant,
            switchboard_engine::event::EventType::Responded,
        ))
        .await?;
    store.client().flush().await?;
    let start = Instant::now();
    let scheduled = move |n: usize| match rate {
        Some(r) => start + Duration::from_secs_f64(n as f64 / r),
        None => start,
    };
    let sender = spawn_sender(url, auth, store.options().clone(), sealing, sent, scheduled)?;
    let mut answered = vec![false; count];
    let mut latencies = Vec::with_capacity(count);
    while latencies.len() < count {
        let Ok(message) = tokio::time::timeout(Duration::from_secs(120), responses.next()).await
        else {
            tracing::warn!(
                answered = latencies.len(),
                count,
                "no response within 120 s"
            );
            break;
        };
        let message = message.context("subscription closed")?;
        let received_at = Instant::now();
        if let Some(n) = index.index_of(&message.subject)
            && !std::mem::replace(&mut answered[n], true)
        {
            let due = scheduled(n);
            latencies.push(received_at.saturating_duration_since(due).as_secs_f64() * 1000.0);
        }
    }
    sender.await.context("sender thread ended")??;
    Ok(Batch { keys, latencies })
}

/// Starts the sender on a dedicated OS thread with its own current-thread
/// runtime and its own NATS connection, so it never waits for the agents'
/// runtime to poll it; the result comes back on the returned channel.
pub(super) fn spawn_sender(
    url: &str,
    auth: &ConnectAuth,
    options: StoreOptions,
    sealing: Option<Key>,
    keys: Keys,
    scheduled: impl Fn(usize) -> Instant + Send + 'static,
) -> anyhow::Result<oneshot::Receiver<anyhow::Result<()>>> {
    let (done, result) = oneshot::channel();
    let url = url.to_owned();
    let auth = auth.clone();
    std::thread::Builder::new()
        .name("bench-sender".into())
        .spawn(move || {
            let sent = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("building the sender's runtime")
                .and_then(|runtime| {
                    runtime.block_on(async move {
                        let client = switchboard_engine::connect_with(
                            &url,
                            "switchboard-bench-sender",
                            &auth,
                        )
                        .await?;
                        let mut store = EventStore::new(client.clone(), options);
                        if let Some(master) = sealing {
                            let ring = KeyRing::open(&client, master).await?;
                            store = store.with_cipher(Arc::new(ring));
                        }
                        send_all(&store, &keys, scheduled).await
                    })
                });
            // The receiver only goes away when the bench has already failed.
            let _ = done.send(sent);
        })
        .context("starting the sender thread")?;
    Ok(result)
}

/// Appends each conversation's message at its scheduled time, each append
/// its own task so a slow one does not hold back the next; at most 256 in
/// flight (a message held back by that limit is late, and its latency,
/// timed from the schedule, says so).
async fn send_all(
    store: &EventStore,
    keys: &Keys,
    scheduled: impl Fn(usize) -> Instant,
) -> anyhow::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(256));
    let mut in_flight = tokio::task::JoinSet::new();
    for n in 0..keys.count {
        let key = keys.key(n)?;
        tokio::time::sleep_until(scheduled(n).into()).await;
        let slot = slots.clone().acquire_owned().await?;
        let event = customer_message(&key, n);
        let idem = IdempotencyKey::for_message(&key, "bench", &n.to_string());
        let store = store.clone();
        in_flight.spawn(async move {
            let appended = store.append(&key, StreamSeq::ZERO, &[event], &idem).await;
            drop(slot);
            appended
        });
        while let Some(done) = in_flight.try_join_next() {
            done??;
        }
    }
    while let Some(done) = in_flight.join_next().await {
        done??;
    }
    Ok(())
}

/// The conversations a sender starts, `<tenant>/c<n>` for n below
/// `count`, made one at a time (a long run holds no list of them).
#[derive(Debug, Clone)]
pub(super) struct Keys {
    /// A tenant of the run's own, so runs on one server never mix.
    pub tenant: String,
    pub count: usize,
}

impl Keys {
    /// `count` conversations of a fresh tenant named after `prefix`.
    pub fn fresh(prefix: &str, count: usize) -> Self {
        let run = uuid::Uuid::now_v7().simple().to_string();
        Self {
            tenant: format!("pipe{prefix}{}", &run[..12]),
            count,
        }
    }

    /// Conversation `n`.
    pub fn key(&self, n: usize) -> anyhow::Result<ConversationKey> {
        Ok(ConversationKey::parse(&format!("{}/c{n}", self.tenant))?)
    }

    /// The `n` of a `conv.<tenant>.c<n>.<type>` subject of this run.
    pub fn index_of(&self, subject: &str) -> Option<usize> {
        subject
            .split('.')
            .nth(2)
            .and_then(|c| c.strip_prefix('c'))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n < self.count)
    }
}

/// How many conversations' logs hold no, one, or several `responded`.
#[derive(Debug, Default)]
pub(super) struct Answers {
    pub none: usize,
    pub once: usize,
    pub twice: usize,
}

impl Answers {
    fn add(&mut self, other: Answers) {
        self.none += other.none;
        self.once += other.once;
        self.twice += other.twice;
    }
}

/// Reads every conversation's events back from the log and counts its
/// `responded` events: the authoritative exactly-once check.
pub(super) async fn answers_of(
    store: &EventStore,
    keys: &[ConversationKey],
) -> anyhow::Result<Answers> {
    let mut loads =
        futures::stream::iter(keys.iter().map(|key| store.load(key))).buffer_unordered(32);
    let mut answers = Answers::default();
    while let Some(loaded) = loads.next().await {
        let responded = loaded?
            .events
            .iter()
            .filter(|e| matches!(e.event.data, EventData::Responded(_)))
            .count();
        match responded {
            0 => answers.none += 1,
            1 => answers.once += 1,
            _ => answers.twice += 1,
        }
    }
    Ok(answers)
}

/// What the bench's customers ask, in turn: each message goes through all
/// five agents (screened, classified, retrieved, drafted, validated,
/// responded) for a known customer of the demo tenant.
const MESSAGES: [&str; 5] = [
    "Hi, where is my order #10234? The tracking page has not moved for three days.",
    "How long does shipping take to California?",
    "How do I return an item I bought? What is your return policy?",
    "How many loyalty points do I have?",
    "How much are the Klatch Midnight Blend coffee pods?",
];

fn customer_message(key: &ConversationKey, n: usize) -> Event {
    web_message(key, n, "persona_001", MESSAGES[n % MESSAGES.len()])
}

pub(super) fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(index).copied().unwrap_or(0.0)
}
