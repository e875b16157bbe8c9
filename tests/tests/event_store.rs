//! The event store against a real nats-server: optimistic concurrency,
//! idempotency, atomic batches, isolation, durability and bad input.

mod support;

use bytes::Bytes;
use futures::future::join_all;
use support::*;
use switchboard_engine::conversation::Conversation;
use switchboard_engine::event::DecodeErrorKind;
use switchboard_engine::event::Event;
use switchboard_engine::ids::{ConversationId, ConversationKey, StreamSeq, Tenant};
use switchboard_engine::store::{AppendErrorKind, EventStore, IdempotencyKey, StoreOptions, Until};
use switchboard_tests::TestServer;

#[tokio::test]
async fn concurrent_appenders_exactly_one_wins_per_version() {
    let server = TestServer::start();
    let store = server.store().await;
    let conv = key("acme/race");
    let (first, v1) = open(&store, &conv).await;
    for round in 0..5 {
        let (_, loaded) = store.load_state(&conv).await.expect("load");
        let version = loaded.version;
        let attempts = (0..8).map(|i| {
            let store = store.clone();
            let conv = conv.clone();
            let event = responded(&first, &format!("round {round} writer {i}"));
            async move { store.append(&conv, version, &[event], &fresh_key()).await }
        });
        let results = join_all(attempts).await;
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one writer wins");
        let winner_seq = winners[0].last;
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(r.kind(), AppendErrorKind::Conflict, "{r}");
            assert_eq!(
                r.actual_version(),
                Some(winner_seq),
                "conflict reports the actual version"
            );
        }
    }
    let loaded = store.load(&conv).await.expect("load");
    assert_eq!(loaded.events.len(), 6);
    assert_eq!(loaded.events[0].seq, v1.last);
}

#[tokio::test]
async fn retry_with_same_idempotency_key_stores_nothing_new() {
    let server = TestServer::start();
    let store = server.store().await;
    let conv = key("acme/retry");
    let first = received(&conv, "hi");
    let idem = fresh_key();
    let stored = store
        .append(&conv, StreamSeq::ZERO, std::slice::from_ref(&first), &idem)
        .await
        .expect("append");
    // A retry after a lost ack: same key, same (now stale) expectation.
    let retry = store
        .append(&conv, StreamSeq::ZERO, std::slice::from_ref(&first), &idem)
        .await
        .expect_err("duplicate");
    assert_eq!(retry.kind(), AppendErrorKind::Duplicate, "{retry}");
    assert_eq!(retry.actual_version(), Some(stored.last));
    // The same for an atomic batch.
    let batch = [
        responded(&first, "a"),
        escalated(&first),
        responded(&first, "b"),
    ];
    let batch_key = fresh_key();
    let appended = store
        .append(&conv, stored.last, &batch, &batch_key)
        .await
        .expect("batch");
    assert_eq!(appended.last.get() - appended.first.get(), 2);
    let again = store
        .append(&conv, stored.last, &batch, &batch_key)
        .await
        .expect_err("duplicate batch");
    assert_eq!(again.kind(), AppendErrorKind::Duplicate, "{again}");
    // A retry whose expectation is current but whose id is known is still a duplicate.
    let fresh = store
        .append(&conv, appended.last, &batch, &batch_key)
        .await
        .expect_err("dedup window");
    assert_eq!(fresh.kind(), AppendErrorKind::Duplicate, "{fresh}");
    assert_eq!(fresh.actual_version(), Some(appended.last));
    assert_eq!(store.load(&conv).await.expect("load").events.len(), 4);
}

#[tokio::test]
async fn batch_with_stale_expectation_stores_none_of_its_events() {
    let server = TestServer::start();
    let store = server.store().await;
    let conv = key("acme/batch");
    let (first, v) = open(&store, &conv).await;
    let batch = [escalated(&first), responded(&first, "handing over")];
    let err = store
        .append(&conv, StreamSeq::ZERO, &batch, &fresh_key())
        .await
        .expect_err("stale");
    assert_eq!(err.kind(), AppendErrorKind::Conflict);
    assert_eq!(err.actual_version(), Some(v.last));
    let loaded = store.load(&conv).await.expect("load");
    assert_eq!(
        loaded.events.len(),
        1,
        "nothing of the stale batch was stored"
    );
    // With the right expectation the whole batch lands, contiguously.
    let ok = store
        .append(&conv, v.last, &batch, &fresh_key())
        .await
        .expect("batch");
    assert_eq!(ok.first.get(), v.last.get() + 1);
    let loaded = store.load(&conv).await.expect("load");
    let types: Vec<_> = loaded
        .events
        .iter()
        .map(|e| e.event.event_type().as_str())
        .collect();
    assert_eq!(types, ["received", "escalated", "responded"]);
}

#[tokio::test]
async fn load_sees_only_its_own_conversation() {
    let server = TestServer::start();
    let store = server.store().await;
    let addresses = ["acme/c1", "acme/c10", "acme/c1x", "other/c1", "acme/c2"];
    for (i, address) in addresses.iter().enumerate() {
        let conv = key(address);
        let mut version = StreamSeq::ZERO;
        for n in 0..=i {
            let e = received(&conv, &format!("{address} #{n}"));
            version = store
                .append(&conv, version, &[e], &fresh_key())
                .await
                .expect("append")
                .last;
        }
    }
    for (i, address) in addresses.iter().enumerate() {
        let conv = key(address);
        let loaded = store.load(&conv).await.expect("load");
        assert_eq!(loaded.events.len(), i + 1, "{address}");
        assert!(
            loaded
                .events
                .iter()
                .all(|e| e.event.envelope.conversation == conv)
        );
        assert!(loaded.rejected.is_empty());
    }
    let empty = store.load(&key("acme/nobody")).await.expect("load");
    assert!(empty.events.is_empty());
    assert_eq!(empty.version, StreamSeq::ZERO);
}

#[tokio::test]
async fn long_conversations_load_across_batches_and_until_a_point() {
    let server = TestServer::start();
    let store = server
        .store_with(StoreOptions {
            load_batch: 16,
            ..StoreOptions::default()
        })
        .await;
    let conv = key("acme/long");
    let mut version = StreamSeq::ZERO;
    let mut seqs = Vec::new();
    for n in 0..50 {
        let e = received(&conv, &format!("message {n}"));
        version = store
            .append(&conv, version, &[e], &fresh_key())
            .await
            .expect("append")
            .last;
        seqs.push(version);
    }
    let all = store.load(&conv).await.expect("load");
    assert_eq!(all.events.len(), 50);
    assert_eq!(all.version, version);
    let part = store
        .load_until(&conv, Until::Seq(seqs[19]))
        .await
        .expect("load until");
    assert_eq!(part.events.len(), 20);
    assert_eq!(part.version, seqs[19]);
    let cutoff = all.events[29].stored_at;
    let by_time = store
        .load_until(&conv, Until::Time(cutoff))
        .await
        .expect("load until time");
    assert!(
        by_time.events.len() >= 30 && by_time.events.len() < 50,
        "{}",
        by_time.events.len()
    );
    assert!(by_time.events.iter().all(|e| e.stored_at <= cutoff));
}

#[tokio::test]
async fn acknowledged_events_survive_kill_9() {
    let mut server = TestServer::start();
    let store = server.store().await;
    let mut acked = Vec::new();
    for c in 0..20 {
        let conv = key(&format!("acme/durable{c}"));
        let first = received(&conv, "hi");
        let a = store
            .append(
                &conv,
                StreamSeq::ZERO,
                std::slice::from_ref(&first),
                &fresh_key(),
            )
            .await
            .expect("append");
        let batch = [escalated(&first), responded(&first, "bye")];
        let b = store
            .append(&conv, a.last, &batch, &fresh_key())
            .await
            .expect("append batch");
        acked.push((conv, b.last));
    }
    server.kill();
    server.restart();
    let store = server.store().await;
    for (conv, last) in &acked {
        let loaded = store.load(conv).await.expect("load after restart");
        assert_eq!(loaded.events.len(), 3, "{conv}");
        assert_eq!(loaded.version, *last, "{conv}");
    }
}

#[tokio::test]
async fn invalid_ids_are_rejected_before_any_io() {
    for bad in ["a.b", "a*", ">", "with space", ""] {
        assert!(Tenant::new(bad).is_err());
        assert!(ConversationId::new(bad).is_err());
    }
    let mut server = TestServer::start();
    let store = server.store().await;
    server.kill();
    // An event of another conversation: refused without touching the (dead) server,
    // which would otherwise report Unavailable.
    let conv = key("acme/one");
    let foreign = received(&key("acme/two"), "hi");
    let err = store
        .append(&conv, StreamSeq::ZERO, &[foreign], &fresh_key())
        .await
        .expect_err("mismatch");
    assert_eq!(err.kind(), AppendErrorKind::InvalidId, "{err}");
    let none = store
        .append(&conv, StreamSeq::ZERO, &[], &fresh_key())
        .await
        .expect_err("empty");
    assert_eq!(none.kind(), AppendErrorKind::InvalidId);
}

#[tokio::test]
async fn oversized_events_get_a_clear_error() {
    let server = TestServer::start();
    let store = server.store().await;
    let conv = key("acme/big");
    let big = received(&conv, &"x".repeat(300 * 1024));
    let err = store
        .append(
            &conv,
            StreamSeq::ZERO,
            std::slice::from_ref(&big),
            &fresh_key(),
        )
        .await
        .expect_err("too large");
    assert_eq!(err.kind(), AppendErrorKind::TooLarge);
    assert!(err.to_string().contains("limit is 262144 bytes"), "{err}");
    // A store configured above the stream's limit is refused by the server, mapped the same way.
    let lax = server
        .store_with(StoreOptions {
            max_event_bytes: 900 * 1024,
            ..StoreOptions::default()
        })
        .await;
    let err = lax
        .append(&conv, StreamSeq::ZERO, &[big], &fresh_key())
        .await
        .expect_err("server refuses");
    assert_eq!(err.kind(), AppendErrorKind::TooLarge, "{err}");
    assert!(store.load(&conv).await.expect("load").events.is_empty());
}

#[tokio::test]
async fn garbage_from_a_foreign_publisher_is_a_typed_error_and_the_rest_loads() {
    let server = TestServer::start();
    let store = server.store().await;
    let conv = key("acme/dirty");
    let (first, v) = open(&store, &conv).await;
    let raw = server.client().await;
    let js = async_nats::jetstream::new(raw);
    let ack = js
        .publish(
            "conv.acme.dirty.received",
            Bytes::from_static(b"\xff not json"),
        )
        .await
        .expect("publish")
        .await
        .expect("ack");
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("ce-type", "teleported");
    js.publish_with_headers(
        "conv.acme.dirty.teleported",
        headers,
        Bytes::from_static(b"{}"),
    )
    .await
    .expect("publish")
    .await
    .expect("ack");
    let loaded = store.load(&conv).await.expect("load");
    assert_eq!(loaded.events.len(), 1);
    assert_eq!(loaded.events[0].seq, v.last);
    let kinds: Vec<_> = loaded.rejected.iter().map(|r| r.error.kind()).collect();
    assert_eq!(
        kinds,
        [DecodeErrorKind::MissingHeader, DecodeErrorKind::UnknownType]
    );
    assert_eq!(loaded.rejected[0].seq.get(), ack.sequence);
    // The conversation can still be extended: its version counts the garbage.
    let next = responded(&first, "still here");
    store
        .append(&conv, loaded.version, &[next], &fresh_key())
        .await
        .expect("append after garbage");
    assert_eq!(store.load(&conv).await.expect("load").events.len(), 2);
}

#[tokio::test]
async fn large_atomic_batches_are_stored_whole() {
    let server = TestServer::start();
    let store = server.store().await;
    let conv = key("acme/bulk");
    let events: Vec<_> = (0..100)
        .map(|n| received(&conv, &format!("bulk {n}")))
        .collect();
    let appended = store
        .append(&conv, StreamSeq::ZERO, &events, &fresh_key())
        .await
        .expect("batch of 100");
    assert_eq!(appended.last.get() - appended.first.get(), 99);
    assert_eq!(store.load(&conv).await.expect("load").events.len(), 100);
}

#[tokio::test]
async fn concurrent_batches_are_group_committed_and_each_keeps_its_own_answer() {
    let server = TestServer::start();
    let store = server.store().await;
    // Ten conversations already have an event: appending to them at version 0 is stale.
    let mut seeded = Vec::new();
    for c in 0..10 {
        let conv = key(&format!("acme/g{c}"));
        let e = received(&conv, "earlier");
        seeded.push(
            store
                .append(&conv, StreamSeq::ZERO, &[e], &fresh_key())
                .await
                .expect("seed")
                .last,
        );
    }
    let attempts = (0..60).map(|c| {
        let store = store.clone();
        async move {
            let conv = key(&format!("acme/g{c}"));
            let first = received(&conv, "hi");
            let batch = [
                first.clone(),
                escalated(&first),
                responded(&first, "handing over"),
            ];
            (
                conv.clone(),
                store
                    .append(&conv, StreamSeq::ZERO, &batch, &fresh_key())
                    .await,
            )
        }
    });
    let results = join_all(attempts).await;
    for (i, (conv, result)) in results.iter().enumerate() {
        let loaded = store.load(conv).await.expect("load");
        if i < 10 {
            let err = result.as_ref().expect_err("stale expectation");
            assert_eq!(err.kind(), AppendErrorKind::Conflict, "{conv}: {err}");
            assert_eq!(err.actual_version(), Some(seeded[i]));
            assert_eq!(loaded.events.len(), 1, "{conv}: nothing of the stale batch");
        } else {
            let appended = result.as_ref().unwrap_or_else(|e| panic!("{conv}: {e}"));
            let seqs: Vec<u64> = loaded.events.iter().map(|e| e.seq.get()).collect();
            assert_eq!(
                seqs,
                (appended.first.get()..=appended.last.get()).collect::<Vec<_>>(),
                "{conv}"
            );
        }
    }
}

/// Appends one event to `conv` at `version`; returns the new version.
async fn append_one(
    store: &EventStore,
    conv: &ConversationKey,
    version: StreamSeq,
    event: Event,
) -> StreamSeq {
    store
        .append(conv, version, &[event], &fresh_key())
        .await
        .expect("append")
        .last
}

/// An event of another conversation in between, as concurrent traffic has.
async fn interleave(store: &EventStore, other: &ConversationKey, n: usize) {
    let noise = received(other, &format!("noise {n}"));
    let _ = store
        .append(other, StreamSeq::ZERO, &[noise], &fresh_key())
        .await;
}

#[tokio::test]
async fn cached_loads_read_only_the_tail_and_agree_with_full_loads() {
    let server = TestServer::start();
    let reader = server.store().await;
    // Another process: its own connection and cache.
    let writer = server.store().await;
    let conv = key("acme/cached");
    let other = key("acme/cached2");
    let (first, opened) = open(&writer, &conv).await;
    let mut version = opened.last;
    // Cached on both sides: the writer's appends write through to its copy.
    writer.load_cached(&conv).await.expect("writer's cold load");
    let cached = reader.load_cached(&conv).await.expect("cold cached load");
    assert_eq!(cached.events.len(), 1);
    for n in 0..5 {
        interleave(&writer, &other, n).await;
        let reply = responded(&first, &format!("reply {n}"));
        version = append_one(&writer, &conv, version, reply).await;
        let cached = reader.load_cached(&conv).await.expect("cached load");
        let full = reader.load(&conv).await.expect("full load");
        assert_eq!(
            cached.version, version,
            "the tail read reaches the last append"
        );
        assert_eq!(cached.version, full.version);
        let ids = |events: &[switchboard_engine::event::StoredEvent]| {
            events
                .iter()
                .map(|e| (e.seq, e.event.envelope.id))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&cached.events), ids(&full.events));
        assert_eq!(cached.events.len(), n + 2);
        // The state kept as events come in is the fold of all of them,
        // whether they were read (the reader) or written through (the writer).
        let written = writer
            .load_at_least(&conv, version)
            .await
            .expect("writer's copy");
        let folded = Conversation::fold(&full.events);
        assert_eq!(cached.conversation(), &folded);
        // Written through with the ack's arrival as the time stored.
        let mut kept = written.conversation().clone();
        (kept.started_at, kept.updated_at) = (folded.started_at, folded.updated_at);
        assert_eq!(kept, folded);
    }
    // Garbage appended after the cached version is reported, not skipped.
    let js = async_nats::jetstream::new(server.client().await);
    let ack = js
        .publish("conv.acme.cached.received", Bytes::from_static(b"junk"))
        .await
        .expect("publish")
        .await
        .expect("ack");
    let cached = reader.load_cached(&conv).await.expect("cached load");
    assert_eq!(cached.version.get(), ack.sequence);
    assert_eq!(cached.rejected.len(), 1);
    assert_eq!(cached.rejected[0].seq.get(), ack.sequence);
    assert_eq!(cached.conversation().version, cached.version);
}

#[tokio::test]
async fn without_a_cache_cached_loads_are_full_loads() {
    let server = TestServer::start();
    let store = server
        .store_with(StoreOptions {
            cache: None,
            ..StoreOptions::default()
        })
        .await;
    let conv = key("acme/uncached");
    let (_, v) = open(&store, &conv).await;
    let loaded = store.load_cached(&conv).await.expect("load");
    assert_eq!(loaded.version, v.last);
    assert_eq!(loaded.events.len(), 1);
}

#[tokio::test]
async fn loads_at_least_a_sequence_reach_it_and_are_a_prefix_of_the_log() {
    let server = TestServer::start();
    let reader = server.store().await;
    let writer = server.store().await;
    let conv = key("acme/atleast");
    let other = key("acme/atleast2");
    let (first, opened) = open(&writer, &conv).await;
    let mut seqs = vec![opened.last];
    // Not cached yet: the whole conversation.
    let cold = reader
        .load_at_least(&conv, seqs[0])
        .await
        .expect("cold load");
    assert_eq!(cold.version, seqs[0]);
    for n in 0..4 {
        interleave(&writer, &other, n).await;
        let last = *seqs.last().expect("a version");
        let reply = responded(&first, &format!("reply {n}"));
        seqs.push(append_one(&writer, &conv, last, reply).await);
    }
    // Cached at the first event: extended up to the third, not beyond.
    let partial = reader
        .load_at_least(&conv, seqs[2])
        .await
        .expect("partial load");
    assert_eq!(partial.version, seqs[2]);
    let read: Vec<_> = partial.events.iter().map(|e| e.seq).collect();
    assert_eq!(read, seqs[..3]);
    // Asking for less than is cached answers with what is cached.
    let again = reader
        .load_at_least(&conv, seqs[1])
        .await
        .expect("cached load");
    assert_eq!(again.version, seqs[2]);
    // Up to the end, it agrees with a full load.
    let last = *seqs.last().expect("a version");
    let full = reader.load(&conv).await.expect("full load");
    let tail = reader.load_at_least(&conv, last).await.expect("tail");
    assert_eq!(tail.version, full.version);
    assert_eq!(tail.events.len(), full.events.len());
}

/// A customer message on the web channel carrying the channel's own id.
fn message_with_id(conv: &ConversationKey, message_id: &str, text: &str) -> Event {
    let mut event = received(conv, text);
    if let switchboard_engine::event::EventData::Received(r) = &mut event.data {
        r.message_id = message_id.into();
    }
    event
}

#[tokio::test]
async fn the_same_channel_message_id_in_two_conversations_is_two_messages() {
    let server = TestServer::start();
    let store = server.store().await;
    // Two tenants (and a second conversation of the first) whose channels
    // both number their messages: the same id within the duplicate window.
    let conversations = [key("acme/c1"), key("other/c1"), key("acme/c2")];
    let mut stored = Vec::new();
    for conv in &conversations {
        let event = message_with_id(conv, "m-42", &format!("hello from {conv}"));
        let idem = IdempotencyKey::for_message(conv, "web", "m-42");
        let appended = store
            .append(conv, StreamSeq::ZERO, std::slice::from_ref(&event), &idem)
            .await
            .unwrap_or_else(|e| panic!("{conv}: the message is stored, not a duplicate: {e}"));
        stored.push((conv, event, appended));
    }
    for (conv, event, appended) in &stored {
        let loaded = store.load(conv).await.expect("load");
        assert_eq!(loaded.events.len(), 1, "{conv}: its own message only");
        assert_eq!(loaded.events[0].seq, appended.last, "{conv}");
        assert_eq!(loaded.events[0].event.envelope.id, event.envelope.id);
        assert_eq!(loaded.events[0].event.envelope.conversation, **conv);
    }
    // Within one conversation the channel's id still deduplicates, and the
    // answer names the original's sequence.
    let (conv, _, first) = &stored[0];
    let again = message_with_id(conv, "m-42", "hello again");
    let err = store
        .append(
            conv,
            first.last,
            &[again],
            &IdempotencyKey::for_message(conv, "web", "m-42"),
        )
        .await
        .expect_err("a repeat of the same message");
    assert_eq!(err.kind(), AppendErrorKind::Duplicate, "{err}");
    assert_eq!(err.actual_version(), Some(first.last));
    assert_eq!(store.load(conv).await.expect("load").events.len(), 1);
}

/// A human agent's reply, as the agent console appends it.
fn human_replied(conv: &ConversationKey) -> Event {
    Event::new_root(
        conv.clone(),
        switchboard_engine::event::Actor::human("agent-7"),
        switchboard_engine::event::EventData::HumanReplied(
            switchboard_engine::event::HumanReplied {
                agent_id: "agent-7".into(),
                text: "Hi, this is Sam from support.".into(),
            },
        ),
    )
}

#[tokio::test]
async fn a_customer_message_after_a_human_reply_loads_with_the_human_in_charge() {
    use switchboard_engine::conversation::Status;
    let server = TestServer::start();
    let writer = server.store().await;
    // A worker's store: its own connection and cache, nothing cached yet.
    let worker = server.store().await;
    let conv = key("acme/human-first");
    // The human wrote first; the customer's message is the first `received`
    // of the conversation but not its first event.
    let v1 = append_one(&writer, &conv, StreamSeq::ZERO, human_replied(&conv)).await;
    let v2 = append_one(&writer, &conv, v1, received(&conv, "thanks, and my order?")).await;
    let loaded = worker
        .load_at_least(&conv, v2)
        .await
        .expect("load at the trigger");
    assert_eq!(
        loaded.conversation().status,
        Status::WithHuman,
        "the human's reply is folded in: {:?}",
        loaded
            .events
            .iter()
            .map(|e| e.event.event_type().as_str())
            .collect::<Vec<_>>()
    );
    assert_eq!(loaded.events.len(), 2);
    // What was cached is that state too: a later trigger extends it.
    let v3 = append_one(&writer, &conv, v2, received(&conv, "hello?")).await;
    let cached = worker.load_at_least(&conv, v3).await.expect("cached load");
    assert_eq!(cached.conversation().status, Status::WithHuman);
    assert_eq!(cached.events.len(), 3);

    // Closed, then a new message: an earlier turn exists and is read too.
    let conv = key("acme/reopened");
    let (_, opened) = open(&writer, &conv).await;
    let closed = Event::new_root(
        conv.clone(),
        switchboard_engine::event::Actor::human("agent-7"),
        switchboard_engine::event::EventData::Closed(switchboard_engine::event::Closed {
            resolution: switchboard_engine::event::Resolution::Resolved,
            satisfaction: None,
        }),
    );
    let v = append_one(&writer, &conv, opened.last, closed).await;
    let v = append_one(&writer, &conv, v, received(&conv, "one more thing")).await;
    let loaded = worker.load_at_least(&conv, v).await.expect("load");
    assert_eq!(loaded.events.len(), 3, "every earlier event is read");
}

#[tokio::test]
async fn a_new_conversation_loads_at_its_first_message_alone() {
    let server = TestServer::start();
    let writer = server.store().await;
    let worker = server.store().await;
    let conv = key("acme/fresh");
    let (first, opened) = open(&writer, &conv).await;
    let loaded = worker
        .load_at_least(&conv, opened.last)
        .await
        .expect("load at the first message");
    assert_eq!(loaded.version, opened.last);
    assert_eq!(loaded.events.len(), 1);
    assert_eq!(loaded.events[0].event.envelope.id, first.envelope.id);
    // A `received` stored without the version-zero expectation (a foreign
    // publisher) is not taken for a first message: read in full, it shows
    // what came before it.
    let conv = key("acme/foreign");
    let v1 = append_one(&writer, &conv, StreamSeq::ZERO, human_replied(&conv)).await;
    let encoded = switchboard_engine::event::codec::encode(&received(&conv, "hi"));
    let js = async_nats::jetstream::new(server.client().await);
    let ack = js
        .publish_with_headers(encoded.subject, encoded.headers, encoded.payload)
        .await
        .expect("publish")
        .await
        .expect("ack");
    assert!(ack.sequence > v1.get());
    let loaded = worker
        .load_at_least(&conv, StreamSeq::new(ack.sequence))
        .await
        .expect("load");
    assert_eq!(loaded.events.len(), 2);
}

/// A store on `server` with the conversation stream in `partitions`
/// partitions (0: unpartitioned).
async fn store_with_partitions(server: &TestServer, partitions: u32) -> EventStore {
    let store = server.store().await;
    let specs = switchboard_engine::streams::with_partitions(
        switchboard_engine::streams::builtin(None),
        partitions,
    )
    .expect("a valid partition count");
    switchboard_engine::streams::apply(store.jetstream(), &specs, false)
        .await
        .expect("streams apply with partitions");
    let mut stream = store
        .jetstream()
        .get_stream("CONVERSATIONS")
        .await
        .expect("the stream");
    let info = stream.info().await.expect("stream info");
    assert_eq!(info.config.subject_transform.is_some(), partitions > 0);
    store
}

#[tokio::test]
async fn a_cold_load_mid_conversation_equals_a_full_load_before_and_after_a_batch() {
    for partitions in [0, 4] {
        let server = TestServer::start();
        let writer = store_with_partitions(&server, partitions).await;
        let conv = key("acme/walked");
        let other = key("acme/walked-noise");
        let (first, opened) = open(&writer, &conv).await;
        let mut seqs = vec![opened.last];
        for n in 0..5 {
            interleave(&writer, &other, n).await;
            let reply = responded(&first, &format!("reply {n}"));
            seqs.push(append_one(&writer, &conv, seqs[n], reply).await);
        }
        // An atomic batch: only its first message carries the expectation,
        // so a walk back from after it cannot prove what precedes it.
        let batch = [responded(&first, "batch 1"), responded(&first, "batch 2")];
        let appended = writer
            .append(&conv, seqs[5], &batch, &fresh_key())
            .await
            .expect("batch");
        seqs.push(appended.first);
        seqs.push(appended.last);
        interleave(&writer, &other, 9).await;
        let reply = responded(&first, "after the batch");
        seqs.push(append_one(&writer, &conv, appended.last, reply).await);

        let whole = writer.load(&conv).await.expect("full load");
        for (i, seq) in seqs.iter().enumerate() {
            // Each load from a store that has never seen the conversation,
            // as a single-agent worker or a replica taking a partition over.
            let cold = EventStore::new(server.client().await, StoreOptions::default());
            let loaded = cold.load_at_least(&conv, *seq).await.expect("cold load");
            // At least up to the trigger (a load that had to read in full
            // may reach further), and exactly the log's events up to where
            // it reached, nothing skipped.
            let expected: Vec<_> = whole
                .events
                .iter()
                .filter(|e| e.seq <= loaded.version)
                .cloned()
                .collect();
            let ids = |events: &[switchboard_engine::event::StoredEvent]| {
                events
                    .iter()
                    .map(|e| (e.seq, e.event.envelope.id))
                    .collect::<Vec<_>>()
            };
            let what = format!("partitions {partitions}, trigger {i} at {seq}");
            assert!(
                loaded.version >= *seq,
                "{what}: read up to {}",
                loaded.version
            );
            assert_eq!(ids(&loaded.events), ids(&expected), "{what}");
            assert!(loaded.events.len() > i, "{what}");
            assert_eq!(
                loaded.conversation(),
                &Conversation::fold(&expected),
                "{what}"
            );
        }
    }
}
