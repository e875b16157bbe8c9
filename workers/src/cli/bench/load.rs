//! Load latency: conversations of a fixed length, written interleaved with
//! other conversations' events as real traffic is, timed one load at a
//! time, before and after the stream is filled with other conversations.

use std::time::Instant;

use anyhow::Context;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use switchboard_engine::event::codec::encode;
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::store::{EventStore, IdempotencyKey};

use super::append::sample_received;
use super::progress;

/// Conversations measured by `load`, and the other conversations whose
/// events are written between theirs.
pub const MEASURED: usize = 20;
/// See [`MEASURED`].
pub const FILLERS: usize = 80;

/// Writes `measured` conversations of `length` events each interleaved with
/// `fillers` other conversations of as many events, as real traffic lands:
/// round `n` appends every conversation's `n`th event (one append in flight
/// per conversation, each with its expected version), so a measured
/// conversation's events lie spread over the whole stream, never in one
/// contiguous block. Returns the measured conversations' keys.
pub async fn write_conversations(
    store: &EventStore,
    measured: usize,
    fillers: usize,
    length: usize,
) -> anyhow::Result<Vec<ConversationKey>> {
    let keys = (0..measured)
        .map(|i| ConversationKey::parse(&format!("bench/l10kc{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let others = (0..fillers)
        .map(|i| ConversationKey::parse(&format!("bench/l10kf{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let all: Vec<_> = keys.iter().chain(&others).collect();
    let mut versions = vec![StreamSeq::ZERO; all.len()];
    for n in 0..length {
        let round = all.iter().zip(&versions).map(|(key, &version)| async move {
            let event = sample_received(key, n);
            let idem = IdempotencyKey::for_step(event.envelope.id, "fill");
            store
                .append(key, version, &[event], &idem)
                .await
                .map(|appended| appended.last)
        });
        versions = futures::future::try_join_all(round).await?;
    }
    Ok(keys)
}

/// How a conversation is read in a load measurement.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    /// `EventStore::load`: read, decode, check.
    Store,
    /// Raw JetStream: the same batched direct get, replies counted, nothing
    /// decoded (the baseline for `load`).
    Raw,
}

/// Times `samples` reads of `keys` (each `length` events long) one at a
/// time; returns p50 and p99 in ms.
pub async fn measure(
    store: &EventStore,
    keys: &[ConversationKey],
    length: usize,
    samples: usize,
    reader: Reader,
) -> anyhow::Result<(f64, f64)> {
    let mut histogram = hdrhistogram::Histogram::<u64>::new(3).context("histogram")?;
    for i in 0..samples {
        let key = &keys[i % keys.len()];
        let started = Instant::now();
        let read = match reader {
            Reader::Store => store.load(key).await?.events.len(),
            Reader::Raw => raw_read(store, key).await?,
        };
        let micros = started.elapsed().as_micros() as u64;
        anyhow::ensure!(
            read == length,
            "{key}: read {read} events, expected {length}"
        );
        histogram
            .record(micros.max(1))
            .context("recording a latency")?;
    }
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    Ok((ms(0.5), ms(0.99)))
}

/// One batched direct get of the conversation's wildcard from sequence 1,
/// as `load` sends it; returns how many messages came back.
async fn raw_read(store: &EventStore, key: &ConversationKey) -> anyhow::Result<usize> {
    let client = store.client();
    let inbox = client.new_inbox();
    let mut replies = client.subscribe(inbox.clone()).await?;
    let request = serde_json::json!({
        "seq": 1,
        "next_by_subj": key.wildcard(),
        "batch": store.options().load_batch,
    });
    client
        .publish_with_reply(
            format!("$JS.API.DIRECT.GET.{}", store.options().stream),
            inbox,
            request.to_string().into(),
        )
        .await?;
    let mut count = 0;
    loop {
        let reply = tokio::time::timeout(std::time::Duration::from_secs(5), replies.next())
            .await
            .context("no direct get reply within 5 s")?
            .context("connection closed")?;
        match reply.status {
            None => count += 1,
            // 204: end of batch; 404: nothing (more) matches.
            Some(_) => return Ok(count),
        }
    }
}

/// Fills the stream with other conversations' events until it holds
/// `target` messages (pipelined raw publishes: the fastest way in).
pub async fn fill_to(store: &EventStore, target: u64) -> anyhow::Result<u64> {
    let js = store.jetstream().clone();
    let mut stream = js.get_stream(&store.options().stream).await?;
    let have = stream.info().await?.state.messages;
    let missing = target.saturating_sub(have);
    let template = encode(&sample_received(&ConversationKey::parse("bench/fill")?, 0));
    let bar = progress(missing, "filling");
    let mut in_flight = FuturesUnordered::new();
    for n in 0..missing {
        // 100 k conversations of ~10 events: many subjects, as in production.
        let subject = format!("conv.fill.f{}.received", n % 100_000);
        let ack = js
            .publish_with_headers(subject, template.headers.clone(), template.payload.clone())
            .await?;
        in_flight.push(ack.into_future());
        if in_flight.len() >= 4096
            && let Some(r) = in_flight.next().await
        {
            r?;
            bar.inc(1);
        }
    }
    while let Some(r) = in_flight.next().await {
        r?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(stream.info().await?.state.messages)
}
