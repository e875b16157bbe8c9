//! `switchboard bench append`: the event store's append rate against raw
//! pipelined publishes with the same expected-subject-sequence check, over
//! the same number of concurrent conversations; then load latency.

use std::sync::Arc;
use std::time::Instant;

use async_nats::jetstream::message::PublishMessage;
use clap::Args;
use futures::future::try_join_all;
use serde::Serialize;
use switchboard_engine::event::codec::encode;
use switchboard_engine::event::{
    Actor, Customer, CustomerTier, Event, EventData, Received, Responded,
};
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::store::{
    EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT, EventStore, IdempotencyKey,
};
use switchboard_workers::privacy::{Key, KeyRing};

use super::{Bench, Target, median};
use crate::cli::Global;

#[derive(Debug, Args)]
pub struct AppendArgs {
    /// Concurrent conversations, each with one append in flight.
    #[arg(long, default_value_t = 1000)]
    pub conversations: usize,
    /// Events appended per conversation in each measurement.
    #[arg(long, default_value_t = 30)]
    pub events: usize,
    /// Measurements of each kind; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Loads timed at each stream size.
    #[arg(long, default_value_t = 2000)]
    pub load_samples: usize,
    /// Events in the stream for the large load measurement.
    #[arg(long, default_value_t = 1_000_000)]
    pub fill: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, Serialize)]
struct Report {
    conversations: usize,
    events_per_measurement: usize,
    baseline_per_s: f64,
    append_per_s: f64,
    append_ratio: f64,
    batch_append_per_s: f64,
    batch_ratio: f64,
    /// Single-event appends with personal text sealed (a data key per
    /// conversation, created on its first append, and an AEAD per text).
    sealed_append_per_s: f64,
    /// Sealed over unsealed single-event appends.
    sealed_ratio: f64,
    load_p50_ms_10k: f64,
    load_p99_ms_10k: f64,
    load_p50_ms_1m: f64,
    load_p99_ms_1m: f64,
    load_p99_growth: f64,
    stream_events_at_large_load: u64,
    /// The same batched direct gets, replies counted, nothing decoded.
    raw_load_p50_ms_10k: f64,
    raw_load_p99_ms_10k: f64,
    raw_load_p50_ms_1m: f64,
    raw_load_p99_ms_1m: f64,
    /// Conversations timed by `load` (100 events each).
    load_measured_conversations: usize,
    /// Other conversations whose events were written between theirs, one
    /// event each per round.
    load_interleaved_with: usize,
}

/// A customer message from the web channel, the `n`th of its run.
pub fn web_message(key: &ConversationKey, n: usize, customer: &str, text: &str) -> Event {
    Event::new_root(
        key.clone(),
        Actor::channel("web"),
        EventData::Received(Received {
            message_id: format!("bench-{n}"),
            channel: "web".into(),
            customer: Customer {
                id: customer.into(),
                tier: CustomerTier::Member,
            },
            language: "en".into(),
            text: text.into(),
        }),
    )
}

/// A realistic customer message (~300 bytes encoded body).
pub fn sample_received(key: &ConversationKey, n: usize) -> Event {
    web_message(
        key,
        n,
        "cust-00042",
        "Hi, I ordered a bag of Ethiopia Yirgacheffe and the burr grinder last week; \
         the tracking page has not moved for three days. Can you tell me where order #1042 is?",
    )
}

fn sample_reply(cause: &Event) -> Event {
    Event::caused_by(
        &cause.envelope,
        Actor::worker("critic"),
        EventData::Responded(Responded {
            text: "Your order #1042 left our roastery on Monday and is with the carrier.".into(),
        }),
    )
}

pub async fn run(global: &Global, args: AppendArgs) -> anyhow::Result<()> {
    use super::load::{Reader, measure};
    let bench = Bench::start(global, &args.target).await?;
    let store = &bench.store;
    // The same conversations are timed at 10 k and, after the fill, at 1 M
    // events; their events are interleaved with other conversations' (10 k
    // events in all), not written as one block each.
    let (measured, fillers) = (super::load::MEASURED, super::load::FILLERS);
    let keys = super::load::write_conversations(store, measured, fillers, 100).await?;
    let samples = args.load_samples;
    let (raw_p50_small, raw_p99_small) = measure(store, &keys, 100, samples, Reader::Raw).await?;
    let (p50_small, p99_small) = measure(store, &keys, 100, samples, Reader::Store).await?;
    let total = super::load::fill_to(store, args.fill).await?;
    let (raw_p50_large, raw_p99_large) = measure(store, &keys, 100, samples, Reader::Raw).await?;
    let (p50_large, p99_large) = measure(store, &keys, 100, samples, Reader::Store).await?;
    let ring = KeyRing::open(store.client(), Key::generate()?).await?;
    let sealed = store.clone().with_cipher(Arc::new(ring));
    let (mut base, mut single, mut batch, mut sealed_single) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..args.rounds {
        base.push(baseline(store, args.conversations, args.events, round).await?);
        single.push(store_append(store, &args, round, 1, "single").await?);
        batch.push(store_append(store, &args, round, 3, "batch").await?);
        sealed_single.push(store_append(&sealed, &args, round, 1, "sealed").await?);
    }
    let baseline_per_s = median(base);
    let append_per_s = median(single);
    let batch_append_per_s = median(batch);
    let sealed_append_per_s = median(sealed_single);
    let report = Report {
        conversations: args.conversations,
        events_per_measurement: args.conversations * args.events,
        baseline_per_s,
        append_per_s,
        append_ratio: append_per_s / baseline_per_s,
        batch_append_per_s,
        batch_ratio: batch_append_per_s / baseline_per_s,
        sealed_append_per_s,
        sealed_ratio: sealed_append_per_s / append_per_s,
        load_p50_ms_10k: p50_small,
        load_p99_ms_10k: p99_small,
        load_p50_ms_1m: p50_large,
        load_p99_ms_1m: p99_large,
        load_p99_growth: p99_large / p99_small,
        stream_events_at_large_load: total,
        raw_load_p50_ms_10k: raw_p50_small,
        raw_load_p99_ms_10k: raw_p99_small,
        raw_load_p50_ms_1m: raw_p50_large,
        raw_load_p99_ms_1m: raw_p99_large,
        load_measured_conversations: measured,
        load_interleaved_with: fillers,
    };
    super::emit(&report, args.json, table)
}

fn table(r: &Report) {
    println!(
        "append benchmark: {} conversations, {} events per measurement (median)",
        r.conversations, r.events_per_measurement
    );
    println!(
        "  raw JetStream publish, expected subject seq  {:>10.0} events/s  (baseline)",
        r.baseline_per_s
    );
    println!(
        "  event store append, single events            {:>10.0} events/s  {:.2}x  (target >= 0.8x)",
        r.append_per_s, r.append_ratio
    );
    println!(
        "  event store append, 3-event atomic batches   {:>10.0} events/s  {:.2}x  (target >= 0.8x)",
        r.batch_append_per_s, r.batch_ratio
    );
    println!(
        "  event store append, single events, sealed    {:>10.0} events/s  {:.2}x of unsealed",
        r.sealed_append_per_s, r.sealed_ratio
    );
    println!(
        "  load: {} conversations of 100 events, written interleaved event by event with {} others",
        r.load_measured_conversations, r.load_interleaved_with
    );
    println!(
        "  load 100-event conversation, 10k in stream   p50 {:.3} ms  p99 {:.3} ms  (target p99 <= 2 ms)",
        r.load_p50_ms_10k, r.load_p99_ms_10k
    );
    println!(
        "  load 100-event conversation, {} in stream  p50 {:.3} ms  p99 {:.3} ms  ({:.2}x the 10k p99; target <= 1.5x)",
        r.stream_events_at_large_load, r.load_p50_ms_1m, r.load_p99_ms_1m, r.load_p99_growth
    );
    println!(
        "  raw batched direct get of the same, 10k / {}: p50 {:.3} / {:.3} ms  p99 {:.3} / {:.3} ms  (baseline)",
        r.stream_events_at_large_load,
        r.raw_load_p50_ms_10k,
        r.raw_load_p50_ms_1m,
        r.raw_load_p99_ms_10k,
        r.raw_load_p99_ms_1m
    );
}

/// Raw async-nats: the same encoded message, the same expectation headers,
/// one publish in flight per conversation, all conversations at once.
pub(crate) async fn baseline(
    store: &EventStore,
    conversations: usize,
    events: usize,
    round: usize,
) -> anyhow::Result<f64> {
    let js = store.jetstream().clone();
    let template = encode(&sample_received(
        &ConversationKey::parse("bench/template")?,
        0,
    ));
    let started = Instant::now();
    let tasks = (0..conversations).map(|c| {
        let js = js.clone();
        let key = ConversationKey::parse(&format!("bench/base{round}x{c}"));
        let template = template.clone();
        tokio::spawn(async move {
            let key = key?;
            let subject = key.subject("received");
            let mut last = 0;
            for _ in 0..events {
                let message = PublishMessage::build()
                    .payload(template.payload.clone())
                    .headers(template.headers.clone())
                    .expected_last_subject_sequence(last)
                    .header(
                        EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT,
                        key.wildcard().as_str(),
                    );
                last = js
                    .send_publish(subject.clone(), message)
                    .await?
                    .await?
                    .sequence;
            }
            anyhow::Ok(())
        })
    });
    for r in try_join_all(tasks).await? {
        r?;
    }
    Ok((conversations * events) as f64 / started.elapsed().as_secs_f64())
}

/// The event store: build, encode and append each event with its expected
/// version, `per_append` events per append (1, or 3 as an atomic batch).
async fn store_append(
    store: &EventStore,
    args: &AppendArgs,
    round: usize,
    per_append: usize,
    label: &str,
) -> anyhow::Result<f64> {
    let appends = args.events / per_append;
    let started = Instant::now();
    let tasks = (0..args.conversations).map(|c| {
        let store = store.clone();
        let key = ConversationKey::parse(&format!("bench/{label}r{round}x{c}"));
        tokio::spawn(async move {
            let key = key?;
            let mut version = StreamSeq::ZERO;
            for n in 0..appends {
                let first = sample_received(&key, n);
                let mut events = vec![first];
                while events.len() < per_append {
                    let reply = sample_reply(&events[0]);
                    events.push(reply);
                }
                let idem = IdempotencyKey::for_step(events[0].envelope.id, "bench");
                version = store.append(&key, version, &events, &idem).await?.last;
            }
            anyhow::Ok(())
        })
    });
    for r in try_join_all(tasks).await? {
        r?;
    }
    Ok((args.conversations * appends * per_append) as f64 / started.elapsed().as_secs_f64())
}
