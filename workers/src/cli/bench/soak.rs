//! `switchboard bench soak`: a long run at a steady rate through all five
//! agents in this process, sampling what a slow leak or a growing backlog
//! would show: the process's resident memory, the agents' consumer lag and
//! the answer latency, window by window.
//!
//! The rate defaults to half of the maximum, measured first with a short
//! unpaced batch (as `bench pipeline` does). Latency is timed from each
//! message's scheduled send time by a sender on a thread of its own. The
//! targets (issue 10): flat lag, resident memory growing ≤ 5 % from the end
//! of the first window to the end, and ≤ 150 MB.

use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{Consumer, pull};
use clap::Args;
use futures::StreamExt;
use serde::Serialize;
use switchboard_engine::store::EventStore;
use switchboard_engine::subject::Scope;
use switchboard_engine::workflow::Agent;
use switchboard_workers::runtime::{WorkerOptions, consumer_name, stream_partitions};

use super::pipeline::{Keys, Team, drained, percentile, spawn_sender};
use super::{Bench, Target};
use crate::cli::Global;

#[derive(Debug, Args)]
pub struct SoakArgs {
    /// How long to send, in minutes.
    #[arg(long, default_value_t = 10.0)]
    pub minutes: f64,
    /// Conversations per second (default: half the maximum, measured first).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Seconds per sample window.
    #[arg(long, default_value_t = 30)]
    pub window_s: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub target: Target,
}

/// One sample window.
#[derive(Debug, Serialize)]
struct Window {
    /// Seconds from the start of the soak to the end of the window.
    at_s: f64,
    /// Resident memory of this process (agents, sender, client) at its end.
    rss_mb: f64,
    /// The agents' consumer: messages not yet delivered plus unacknowledged.
    lag: u64,
    /// Answers of messages scheduled in this window, and their latency.
    answered: usize,
    p50_ms: f64,
    p99_ms: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    max_rate_per_s: Option<f64>,
    rate_per_s: f64,
    minutes: f64,
    sent: usize,
    answered: usize,
    rss_start_mb: f64,
    rss_end_mb: f64,
    rss_max_mb: f64,
    /// End over start, in percent.
    rss_growth_pct: f64,
    lag_start: u64,
    lag_end: u64,
    lag_max: u64,
    p50_ms: f64,
    p99_ms: f64,
    windows: Vec<Window>,
}

pub async fn run(global: &Global, args: SoakArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.minutes > 0.0 && args.window_s > 0,
        "--minutes and --window-s must be positive"
    );
    let bench = Bench::start(global, &args.target).await?;
    let store = bench.store.clone();
    let team = Team::start(&store)?;
    let options = team.options.clone();
    let (rate, max_rate) = match args.rate {
        Some(rate) => (rate, None),
        None => {
            let max = max_rate(&store, &bench.url, &options).await?;
            (max / 2.0, Some(max))
        }
    };
    anyhow::ensure!(rate > 0.0, "the rate must be positive, not {rate}");
    eprintln!(
        "soak: {rate:.0} conversations/s for {} min, a sample every {} s",
        args.minutes, args.window_s
    );
    let report = soak(&store, &bench.url, &options, rate, &args).await?;
    team.stop().await?;
    let report = Report {
        max_rate_per_s: max_rate.map(round1),
        ..report
    };
    super::emit(&report, args.json, table)
}

/// Conversations/s of a 1,000-message unpaced batch, answered and drained.
async fn max_rate(store: &EventStore, url: &str, options: &WorkerOptions) -> anyhow::Result<f64> {
    let keys = Keys::fresh("soakmax", 1000);
    let started = Instant::now();
    let (answered, _) = send_and_watch(store, url, keys, None, None).await?;
    drained(store, options).await?;
    Ok(answered as f64 / started.elapsed().as_secs_f64())
}

async fn soak(
    store: &EventStore,
    url: &str,
    options: &WorkerOptions,
    rate: f64,
    args: &SoakArgs,
) -> anyhow::Result<Report> {
    let count = (rate * args.minutes * 60.0).ceil() as usize;
    let keys = Keys::fresh("soak", count);
    let consumer = agents_consumer(store, options).await?;
    let sampler = Sampler {
        consumer,
        every: Duration::from_secs(args.window_s),
    };
    let (answered, windows) = send_and_watch(store, url, keys, Some(rate), Some(sampler)).await?;
    let all: Vec<f64> = windows.iter().flat_map(|w| w.1.iter().copied()).collect();
    let windows: Vec<Window> = windows.into_iter().map(|w| w.0).collect();
    let first = windows.first();
    let last = windows.last();
    let rss_start = first.map_or(0.0, |w| w.rss_mb);
    let rss_end = last.map_or(0.0, |w| w.rss_mb);
    Ok(Report {
        max_rate_per_s: None,
        rate_per_s: round1(rate),
        minutes: args.minutes,
        sent: count,
        answered,
        rss_start_mb: rss_start,
        rss_end_mb: rss_end,
        rss_max_mb: windows.iter().map(|w| w.rss_mb).fold(0.0, f64::max),
        rss_growth_pct: if rss_start > 0.0 {
            round1((rss_end / rss_start - 1.0) * 100.0)
        } else {
            0.0
        },
        lag_start: first.map_or(0, |w| w.lag),
        lag_end: last.map_or(0, |w| w.lag),
        lag_max: windows.iter().map(|w| w.lag).max().unwrap_or(0),
        p50_ms: round1(percentile(&all, 0.5)),
        p99_ms: round1(percentile(&all, 0.99)),
        windows,
    })
}

/// What is sampled at the end of every window.
struct Sampler {
    consumer: Consumer<pull::Config>,
    every: Duration,
}

/// Sends `keys` (paced at `rate` when given) and waits for every answer
/// (or two minutes of silence); returns how many were answered and, with a
/// sampler, the windows with the latencies of the messages scheduled in
/// each.
async fn send_and_watch(
    store: &EventStore,
    url: &str,
    keys: Keys,
    rate: Option<f64>,
    mut sampler: Option<Sampler>,
) -> anyhow::Result<(usize, Vec<(Window, Vec<f64>)>)> {
    let count = keys.count;
    let mut responses = store
        .client()
        .subscribe(switchboard_engine::subject::tenant_events_of_type(
            &keys.tenant,
            switchboard_engine::event::EventType::Responded,
        ))
        .await?;
    store.client().flush().await?;
    let start = Instant::now();
    let scheduled = move |n: usize| match rate {
        Some(r) => start + Duration::from_secs_f64(n as f64 / r),
        None => start,
    };
    let index = keys.clone();
    let sender = spawn_sender(
        url,
        &switchboard_engine::auth::ConnectAuth::default(),
        store.options().clone(),
        None,
        keys,
        scheduled,
    )?;
    let every = sampler.as_ref().map_or(Duration::MAX, |s| s.every);
    let window_of = |n: usize| {
        let due = scheduled(n).saturating_duration_since(start);
        (due.as_secs_f64() / every.as_secs_f64()) as usize
    };
    let mut answered = vec![false; count];
    let mut done = 0;
    let mut latencies: Vec<Vec<f64>> = Vec::new();
    let mut windows = Vec::new();
    let mut next_sample = start + every.min(Duration::from_secs(86_400));
    while done < count {
        let until_sample = next_sample.saturating_duration_since(Instant::now());
        let message = tokio::select! {
            m = tokio::time::timeout(Duration::from_secs(120), responses.next()) => m,
            () = tokio::time::sleep(until_sample), if sampler.is_some() => {
                if let Some(s) = sampler.as_mut() {
                    windows.push(sample(s, start, done).await);
                }
                next_sample += every;
                continue;
            }
        };
        let Ok(message) = message else {
            tracing::warn!(answered = done, count, "no response within 120 s");
            break;
        };
        let message = message.ok_or_else(|| anyhow::anyhow!("subscription closed"))?;
        let received_at = Instant::now();
        if let Some(n) = index.index_of(&message.subject)
            && !std::mem::replace(&mut answered[n], true)
        {
            done += 1;
            let w = window_of(n);
            if latencies.len() <= w {
                latencies.resize_with(w + 1, Vec::new);
            }
            let ms = received_at.saturating_duration_since(scheduled(n));
            latencies[w].push(ms.as_secs_f64() * 1000.0);
        }
    }
    if let Some(s) = sampler.as_mut() {
        windows.push(sample(s, start, done).await);
    }
    sender.await??;
    latencies.resize_with(windows.len().max(latencies.len()), Vec::new);
    let windows = windows
        .into_iter()
        .zip(latencies)
        .map(|(mut window, own)| {
            window.answered = own.len();
            window.p50_ms = round1(percentile(&own, 0.5));
            window.p99_ms = round1(percentile(&own, 0.99));
            (window, own)
        })
        .collect();
    Ok((done, windows))
}

/// The end of a window: memory and lag now (its latencies are filled in
/// once every answer is in, since late answers belong to it too).
async fn sample(sampler: &mut Sampler, start: Instant, answered: usize) -> Window {
    let lag = match sampler.consumer.info().await {
        Ok(info) => info.num_pending + info.num_ack_pending as u64,
        Err(_) => 0,
    };
    let window = Window {
        at_s: round1(start.elapsed().as_secs_f64()),
        rss_mb: rss_mb(),
        lag,
        answered: 0,
        p50_ms: 0.0,
        p99_ms: 0.0,
    };
    eprintln!(
        "soak: {:>6.0} s  rss {:>6.1} MB  lag {:>5}  answered {:>7}",
        window.at_s, window.rss_mb, window.lag, answered
    );
    window
}

async fn agents_consumer(
    store: &EventStore,
    options: &WorkerOptions,
) -> anyhow::Result<Consumer<pull::Config>> {
    anyhow::ensure!(
        stream_partitions(store).await? == 0,
        "bench soak measures one unpartitioned consumer; this stream is partitioned"
    );
    let name = consumer_name(&Agent::ALL, options, Scope::Unpartitioned);
    let stream = store
        .jetstream()
        .get_stream(&store.options().stream)
        .await?;
    // The team binds its consumer as it starts: wait for it.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match stream.get_consumer(&name).await {
            Ok(consumer) => return Ok(consumer),
            Err(e) if Instant::now() >= deadline => anyhow::bail!("consumer {name}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// This process's resident memory in MB (`VmRSS` of /proc/self/status; 0
/// where there is none).
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| round1(kb / 1024.0))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn table(r: &Report) {
    if let Some(max) = r.max_rate_per_s {
        println!("soak bench: maximum {max:.0} conversations/s, soak at half");
    }
    println!(
        "soak bench: {:.0} conversations/s for {} min: {} sent, {} answered",
        r.rate_per_s, r.minutes, r.sent, r.answered
    );
    println!(
        "  resident memory  {:.1} MB after the first window, {:.1} MB at the end ({:+.1} %), at most {:.1} MB   (targets: ≤ +5 %, ≤ 150 MB)",
        r.rss_start_mb, r.rss_end_mb, r.rss_growth_pct, r.rss_max_mb
    );
    println!(
        "  consumer lag     {} after the first window, {} at the end, at most {}",
        r.lag_start, r.lag_end, r.lag_max
    );
    println!(
        "  answer latency   p50 {:.1} ms, p99 {:.1} ms (from each scheduled send time)",
        r.p50_ms, r.p99_ms
    );
}
