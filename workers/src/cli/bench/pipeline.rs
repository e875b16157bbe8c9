//! `switchboard bench pipeline`: customer messages through all five agents
//! in one process on the local models, against the raw expected-sequence
//! publish baseline measured on the same server in the same run; then
//! message-to-response latency at a quarter of the maximum rate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_nats::jetstream::consumer::{Consumer, pull};
use clap::Args;
use futures::StreamExt;
use serde::Serialize;
use switchboard_engine::event::Event;
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::store::{EventStore, IdempotencyKey};
use switchboard_engine::workflow::Agent;
use switchboard_workers::agents::Agents;
use switchboard_workers::runtime::{WorkerOptions, consumer_config};
use tokio::sync::watch;

use super::append::{baseline, web_message};
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
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, Serialize)]
struct Report {
    messages: usize,
    messages_per_s: f64,
    events_per_s: f64,
    baseline_per_s: f64,
    ratio: f64,
    latency_rate_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// When each conversation's message was sent, and the latencies observed.
type Sent = Arc<Mutex<HashMap<String, Instant>>>;

pub async fn run(global: &Global, args: PipelineArgs) -> anyhow::Result<()> {
    let bench = Bench::start(global, &args.target).await?;
    let store = bench.store.clone();
    let (stop, shutdown) = watch::channel(false);
    let options = WorkerOptions {
        concurrency: 64,
        ..WorkerOptions::default()
    };
    let team = Agents::builtin()?.spawn_team(&store, &options, &shutdown);
    let events_before = stream_messages(&store).await?;
    let started = Instant::now();
    let done = run_batch(&store, "full", args.messages, None).await?;
    // Every response is in, but agents may still be deciding on triggers
    // that lead nowhere (steps of other agents): the full rate counts them.
    drained(&store, &options).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let events = stream_messages(&store).await?.saturating_sub(events_before);
    let messages_per_s = done.len() as f64 / elapsed;
    let rate = (messages_per_s / 4.0).max(1.0);
    let latencies = run_batch(&store, "paced", args.latency_messages, Some(rate)).await?;
    stop.send_replace(true);
    team.await??;
    // Measured after the agents stop, so they never see the baseline's messages.
    let baseline_per_s = baseline(&store, 1000, 10, 0).await?;
    let report = Report {
        messages: args.messages,
        messages_per_s,
        events_per_s: events as f64 / elapsed,
        baseline_per_s,
        ratio: (events as f64 / elapsed) / baseline_per_s,
        latency_rate_per_s: rate,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
    };
    super::emit(&report, args.json, table)
}

fn table(r: &Report) {
    println!(
        "pipeline benchmark: {} messages through all five agents (local models)",
        r.messages
    );
    println!(
        "  messages answered or handed over         {:>10.0} /s",
        r.messages_per_s
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
        "  latency at {:.0} msg/s (25% of max)       p50 {:.2} ms  p99 {:.2} ms  (targets 5 / 20 ms)",
        r.latency_rate_per_s, r.p50_ms, r.p99_ms
    );
}

/// Waits until the agents' consumer has nothing pending or unacked.
async fn drained(store: &EventStore, options: &WorkerOptions) -> anyhow::Result<()> {
    let stream = store
        .jetstream()
        .get_stream(&store.options().stream)
        .await?;
    let deadline = Instant::now() + Duration::from_secs(300);
    let name = consumer_config(&Agent::ALL, options)
        .durable_name
        .unwrap_or_default();
    let mut consumer: Consumer<pull::Config> = stream
        .get_consumer(&name)
        .await
        .map_err(|e| anyhow::anyhow!("consumer {name}: {e}"))?;
    let started = Instant::now();
    let mut report_at = started + Duration::from_secs(1);
    loop {
        let info = consumer.info().await?;
        if info.num_pending == 0 && info.num_ack_pending == 0 {
            tracing::info!(
                waited_ms = started.elapsed().as_millis() as u64,
                "agents drained"
            );
            return Ok(());
        }
        if Instant::now() >= report_at {
            report_at += Duration::from_secs(1);
            tracing::info!(
                pending = info.num_pending,
                unacked = info.num_ack_pending,
                redelivered = info.num_redelivered,
                "draining"
            );
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{name} still has {} pending and {} unacked after 300 s",
            info.num_pending,
            info.num_ack_pending
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

/// Sends `count` messages (paced at `rate` per second when given) and
/// returns each conversation's message-to-response latency in ms, waiting on
/// the `responded` events themselves (a core subscription), never polling.
async fn run_batch(
    store: &EventStore,
    prefix: &str,
    count: usize,
    rate: Option<f64>,
) -> anyhow::Result<Vec<f64>> {
    let run = uuid::Uuid::now_v7().simple().to_string();
    let tenant = format!("pipe{prefix}{}", &run[..12]);
    let mut responses = store
        .client()
        .subscribe(format!("conv.{tenant}.*.responded"))
        .await?;
    store.client().flush().await?;
    let sent: Sent = Arc::new(Mutex::new(HashMap::new()));
    let sender = {
        let (store, sent, tenant) = (store.clone(), sent.clone(), tenant.clone());
        tokio::spawn(async move { send_all(&store, &tenant, count, rate, &sent).await })
    };
    let mut latencies = Vec::with_capacity(count);
    let deadline = Duration::from_secs(120);
    while latencies.len() < count {
        let message = tokio::time::timeout(deadline, responses.next())
            .await
            .context("no response within 120 s")?
            .context("subscription closed")?;
        let conversation = message
            .subject
            .split('.')
            .nth(2)
            .unwrap_or_default()
            .to_owned();
        let start = sent
            .lock()
            .map_err(|_| anyhow::anyhow!("lock poisoned"))?
            .get(&conversation)
            .copied();
        if let Some(start) = start {
            latencies.push(start.elapsed().as_secs_f64() * 1000.0);
        }
    }
    sender.await??;
    Ok(latencies)
}

async fn send_all(
    store: &EventStore,
    tenant: &str,
    count: usize,
    rate: Option<f64>,
    sent: &Sent,
) -> anyhow::Result<()> {
    let mut pace = rate.map(|r| tokio::time::interval(Duration::from_secs_f64(1.0 / r)));
    // Each append is its own task, so it goes out when it is due, not when
    // the sender next polls; at most 256 are in flight.
    let slots = Arc::new(tokio::sync::Semaphore::new(256));
    let mut in_flight = tokio::task::JoinSet::new();
    for n in 0..count {
        if let Some(p) = pace.as_mut() {
            p.tick().await;
        }
        let slot = slots.clone().acquire_owned().await?;
        let id = format!("c{n}");
        let key = ConversationKey::parse(&format!("{tenant}/{id}"))?;
        let event = customer_message(&key, n);
        let idem = IdempotencyKey::for_message(&key, "bench", &n.to_string());
        sent.lock()
            .map_err(|_| anyhow::anyhow!("lock poisoned"))?
            .insert(id, Instant::now());
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

fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(index).copied().unwrap_or(0.0)
}
