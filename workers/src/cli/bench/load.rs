//! Load latency: conversations of a fixed length, timed one load at a time,
//! before and after the stream is filled with other conversations.

use std::time::Instant;

use anyhow::Context;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use switchboard_engine::event::codec::encode;
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::store::{EventStore, IdempotencyKey};

use super::append::sample_received;
use super::progress;

/// Writes `count` conversations of `length` events each, one atomic batch
/// per conversation, and returns their keys.
pub async fn write_conversations(
    store: &EventStore,
    count: usize,
    length: usize,
) -> anyhow::Result<Vec<ConversationKey>> {
    let mut keys = Vec::with_capacity(count);
    for i in 0..count {
        let key = ConversationKey::parse(&format!("bench/l10kc{i}"))?;
        let events: Vec<_> = (0..length).map(|n| sample_received(&key, n)).collect();
        let idem = IdempotencyKey::for_step(events[0].envelope.id, "fill");
        store.append(&key, StreamSeq::ZERO, &events, &idem).await?;
        keys.push(key);
    }
    Ok(keys)
}

/// Times `samples` loads of `keys` (each `length` events long) one at a
/// time; returns p50 and p99 in ms.
pub async fn measure(
    store: &EventStore,
    keys: &[ConversationKey],
    length: usize,
    samples: usize,
) -> anyhow::Result<(f64, f64)> {
    let mut histogram = hdrhistogram::Histogram::<u64>::new(3).context("histogram")?;
    for i in 0..samples {
        let key = &keys[i % keys.len()];
        let started = Instant::now();
        let loaded = store.load(key).await?;
        let micros = started.elapsed().as_micros() as u64;
        anyhow::ensure!(
            loaded.events.len() == length,
            "{key} loaded {} events, expected {length}",
            loaded.events.len()
        );
        histogram
            .record(micros.max(1))
            .context("recording a latency")?;
    }
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    Ok((ms(0.5), ms(0.99)))
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
