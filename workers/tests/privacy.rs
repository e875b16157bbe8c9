//! Personal data on the log: sealed at the source, shredded on erasure,
//! exported on request, shredded by retention. Real nats-server, real
//! agents, real projector on a SQLite file.

mod agents_support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use agents_support::{Projecting, Running, options, say, settled};
use switchboard_engine::event::personal::{ERASED, personal_texts_mut};
use switchboard_engine::event::{Actor, EventData, Resolution, StoredEvent};
use switchboard_engine::ids::{ConversationKey, Tenant};
use switchboard_engine::projection::sqlite::SqliteStore;
use switchboard_engine::projection::{DocKeys, ProjectionStore};
use switchboard_engine::store::{EventStore, StoreOptions};
use switchboard_tests::{TestServer, eventually};
use switchboard_workers::audit::{self, AuditKey, ExportFilter};
use switchboard_workers::intake::{CloseRequest, Intake};
use switchboard_workers::privacy::{
    self, Key, KeyRing, RetentionLedger, RetentionRunner, RetentionSchedule,
};
use tokio::sync::watch;

const SEED_EMAIL: &str = "zelda.quux@example.org";

fn tenant() -> Tenant {
    Tenant::new("brewvi").expect("valid tenant")
}

async fn sealed(server: &TestServer, master: &Key) -> (EventStore, KeyRing) {
    let store = server.store().await;
    let ring = KeyRing::open(store.client(), master.clone())
        .await
        .expect("the key bucket opens");
    (store.with_cipher(Arc::new(ring.clone())), ring)
}

/// Every file under `dir`, read whole.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn texts(events: &[StoredEvent]) -> Vec<String> {
    events
        .iter()
        .flat_map(|e| {
            let mut data = e.event.data.clone();
            personal_texts_mut(&mut data)
                .into_iter()
                .map(|s| s.clone())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn customer_text_is_sealed_in_the_store_files_while_agents_answer_and_replay_reads_it() {
    let server = TestServer::start();
    let (store, _ring) = sealed(&server, &Key::generate().expect("randomness")).await;
    let running = Running::all(&store, &options());
    let text = format!("Where is my order #1001? Write to me at {SEED_EMAIL} please");
    let key = say(&store, "brewvi/sealed-chat", &text).await;
    let events = settled(&store, &key).await;
    running.shutdown().await;

    // Replay (a fresh reader with the key) reads the text in the clear.
    let replayed = store.load(&key).await.expect("loads").events;
    let EventData::Received(received) = &replayed[0].event.data else {
        panic!("first event is the message");
    };
    assert_eq!(received.text, text);
    let answer = agents_support::reply(&events);
    assert!(
        !answer.is_empty() && !answer.starts_with("sb1."),
        "{answer}"
    );

    // The store's files hold the conversation (its subject is readable) but
    // none of its texts.
    let on_disk = eventually(
        "the conversation on disk",
        Duration::from_secs(10),
        || async {
            let all = files(server.dir());
            all.iter()
                .any(|(_, b)| contains(b, "brewvi.sealed-chat.responded"))
                .then_some(all)
        },
    )
    .await;
    for (path, bytes) in &on_disk {
        for secret in [SEED_EMAIL, "Where is my order", answer.as_str()] {
            assert!(!contains(bytes, secret), "{path} holds {secret:?} in clear");
        }
    }
}

struct World {
    server: TestServer,
    store: EventStore,
    ring: KeyRing,
    master: Key,
    projections: Arc<SqliteStore>,
    running: Running,
    stop_projector: watch::Sender<bool>,
    dir: tempfile::TempDir,
}

async fn world() -> World {
    let server = TestServer::start();
    let master = Key::generate().expect("randomness");
    let (store, ring) = sealed(&server, &master).await;
    let running = Running::all(&store, &options());
    let projecting = Projecting::start(&store).await;
    World {
        server,
        store,
        ring,
        master,
        projections: projecting.projections,
        running,
        stop_projector: projecting.stop,
        dir: projecting.dir,
    }
}

async fn last_response(p: &SqliteStore, key: &ConversationKey) -> Option<Option<String>> {
    let docs = p
        .get(&DocKeys {
            conversations: vec![key.clone()],
            ..DocKeys::default()
        })
        .await
        .ok()?;
    docs.conversations.first().map(|d| d.last_response.clone())
}

async fn audit_export(store: &EventStore, key: &AuditKey) -> String {
    let mut out = Vec::new();
    let filter = ExportFilter {
        tenant: tenant(),
        conversation: None,
        from: None,
        to: None,
    };
    audit::export(store, key, &filter, &mut out)
        .await
        .expect("exports");
    String::from_utf8(out).expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn erasing_a_customer_shreds_their_texts_in_replay_cache_and_projections_and_audit_still_verifies()
 {
    let w = world().await;
    let first = say(&w.store, "brewvi/erase-one", "Where is my order #1001?").await;
    let second = say(&w.store, "brewvi/erase-two", "Do you sell decaf beans?").await;
    let other = {
        let key = agents_support::key("brewvi/keep-other");
        agents_support::publish(
            &w.store,
            agents_support::received(
                &key,
                "persona_002",
                switchboard_engine::event::CustomerTier::Standard,
                "Where is my order #1002?",
            ),
        )
        .await;
        key
    };
    for key in [&first, &second, &other] {
        settled(&w.store, key).await;
        eventually("the answer projected", Duration::from_secs(20), || async {
            last_response(&w.projections, key).await.flatten()
        })
        .await;
    }
    // A running worker's cached copy, and an audit export, from before.
    let cached = w.store.load_cached(&first).await.expect("loads");
    assert!(texts(&cached.events).iter().all(|t| t != ERASED));
    let audit_key = AuditKey::generate().expect("randomness");
    let before = audit_export(&w.store, &audit_key).await;
    // Another process, holding its own cached copies and cached keys.
    let other_process = {
        let ring = KeyRing::open(w.store.client(), w.master.clone())
            .await
            .expect("opens");
        EventStore::new(w.server.client().await, StoreOptions::default())
            .with_cipher(Arc::new(ring))
    };
    for key in [&first, &second] {
        let held = other_process.load_cached(key).await.expect("loads");
        assert!(texts(&held.events).iter().all(|t| t != ERASED));
    }

    let report = privacy::erase_customer(
        &w.store,
        &w.ring,
        &tenant(),
        "persona_001",
        Actor::human("operator"),
    )
    .await
    .expect("erases");
    assert_eq!(
        report.conversations,
        ["brewvi/erase-one", "brewvi/erase-two"]
    );

    // The cached copy, a fresh replay and another process's key ring all
    // read erased texts, and the erasure is an event without personal data.
    for reader in [&w.store, &other_process] {
        for key in [&first, &second] {
            let loaded = reader.load_cached(key).await.expect("loads");
            let all = texts(&loaded.events);
            assert!(
                !all.is_empty() && all.iter().all(|t| t == ERASED),
                "{key}: {all:?}"
            );
            let last = loaded.events.last().expect("events");
            assert!(matches!(last.event.data, EventData::Erased(_)), "{key}");
            // Types and decisions stay readable.
            assert!(
                loaded
                    .events
                    .iter()
                    .any(|e| matches!(e.event.data, EventData::Classified(_)))
            );
        }
    }
    let kept = w.store.load(&other).await.expect("loads");
    assert!(texts(&kept.events).iter().all(|t| t != ERASED));

    // The projections no longer hold the erased customer's answers.
    for key in [&first, &second] {
        eventually("the answer purged", Duration::from_secs(20), || async {
            last_response(&w.projections, key)
                .await?
                .is_none()
                .then_some(())
        })
        .await;
    }
    assert!(
        last_response(&w.projections, &other)
            .await
            .flatten()
            .is_some()
    );

    // Audit exports before and after verify: the chain is over what the log stores.
    let after = audit_export(&w.store, &audit_key).await;
    for text in [&before, &after] {
        audit::verify(text, &audit_key.verifying_key()).expect("verifies");
    }
    assert!(after.lines().count() > before.lines().count());

    // Access: the erased customer has nothing left; the other gets theirs.
    let gone = privacy::export_customer(&w.store, &w.ring, None, &tenant(), "persona_001")
        .await
        .expect("exports");
    assert!(gone.conversations.is_empty());
    let theirs = privacy::export_customer(
        &w.store,
        &w.ring,
        Some(w.projections.as_ref() as &dyn ProjectionStore),
        &tenant(),
        "persona_002",
    )
    .await
    .expect("exports");
    assert_eq!(theirs.conversations.len(), 1);
    let json = serde_json::to_string(&theirs).expect("serialises");
    assert!(json.contains("Where is my order #1002?"), "{json}");
    assert!(theirs.conversations[0].projection.is_some());

    // Erasing again finds nothing and records nothing.
    let again = privacy::erase_customer(
        &w.store,
        &w.ring,
        &tenant(),
        "persona_001",
        Actor::human("operator"),
    )
    .await
    .expect("erases");
    assert!(again.conversations.is_empty());
    w.stop_projector.send_replace(true);
    w.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subject_access_export_holds_every_conversation_of_the_customer_decrypted() {
    let w = world().await;
    let keys = [
        say(&w.store, "brewvi/access-a", "Where is my order #1001?").await,
        say(&w.store, "brewvi/access-b", "How do I descale my machine?").await,
        say(&w.store, "brewvi/access-c", "Can I change my subscription?").await,
    ];
    for key in &keys {
        settled(&w.store, key).await;
    }
    let export = privacy::export_customer(&w.store, &w.ring, None, &tenant(), "persona_001")
        .await
        .expect("exports");
    let names: Vec<&str> = export
        .conversations
        .iter()
        .map(|c| c.conversation.as_str())
        .collect();
    assert_eq!(
        names,
        ["brewvi/access-a", "brewvi/access-b", "brewvi/access-c"]
    );
    let json = serde_json::to_string(&export).expect("serialises");
    for text in ["#1001", "descale", "subscription"] {
        assert!(json.contains(text), "{text} missing");
    }
    assert!(!json.contains("sb1."), "nothing left sealed");
    w.stop_projector.send_replace(true);
    w.running.shutdown().await;
}

/// Closes `key` as a human agent would and waits for the projections to
/// show it closed.
async fn close_and_project(w: &World, key: &ConversationKey) {
    Intake::new(w.store.clone())
        .close(
            key,
            CloseRequest {
                resolution: Resolution::Resolved,
                satisfaction: None,
                agent_id: "agent-7".into(),
            },
            None,
        )
        .await
        .expect("closes");
    eventually("the close projected", Duration::from_secs(20), || async {
        let docs = w
            .projections
            .get(&DocKeys {
                conversations: vec![key.clone()],
                ..DocKeys::default()
            })
            .await
            .ok()?;
        docs.conversations
            .first()
            .filter(|d| d.status == switchboard_engine::projection::ConversationStatus::Closed)
            .map(|_| ())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scheduled_retention_shreds_at_start_records_the_pass_and_status_reports_it() {
    let w = world().await;
    let closed = say(&w.store, "brewvi/scheduled", "Where is my order #1001?").await;
    settled(&w.store, &closed).await;
    close_and_project(&w, &closed).await;
    let client = w.server.client().await;
    let ledger = RetentionLedger::open(&client)
        .await
        .expect("the ledger opens");
    let runner = RetentionRunner {
        store: w.store.clone(),
        ring: w.ring.clone(),
        projections: w.projections.clone(),
        ledger: ledger.clone(),
    };
    let schedule = RetentionSchedule {
        periods: [(tenant(), Duration::ZERO)].into_iter().collect(),
        every: Duration::from_secs(3600),
    };
    let (stop, shutdown) = watch::channel(false);
    let scheduled = tokio::spawn(privacy::run_schedule(runner, schedule, shutdown));
    let record = eventually(
        "the first pass recorded",
        Duration::from_secs(20),
        || async { ledger.get("brewvi").await.ok().flatten() },
    )
    .await;
    assert_eq!((record.closed, record.shredded_last), (1, 1), "{record:?}");
    assert_eq!((record.shredded_total, record.period_secs), (1, 0));
    let shredded = w.store.load(&closed).await.expect("loads");
    assert!(texts(&shredded.events).iter().all(|t| t == ERASED));
    stop.send_replace(true);
    scheduled.await.expect("the schedule stops on shutdown");

    let db = w.dir.path().join("p.sqlite");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["projections", "status", "--json", "--db"])
        .arg(&db)
        .env("NATS_URL", w.server.url())
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(report["retention"][0]["tenant"], "brewvi", "{report}");
    assert_eq!(report["retention"][0]["shredded_total"], 1, "{report}");
    w.stop_projector.send_replace(true);
    w.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retention_shreds_only_closed_conversations_past_the_period() {
    let w = world().await;
    let closed = say(
        &w.store,
        "brewvi/retained-closed",
        "Where is my order #1001?",
    )
    .await;
    let open = say(&w.store, "brewvi/retained-open", "Do you sell decaf beans?").await;
    for key in [&closed, &open] {
        settled(&w.store, key).await;
    }
    close_and_project(&w, &closed).await;
    // A long period shreds nothing yet.
    let long = privacy::apply_retention(
        &w.store,
        &w.ring,
        w.projections.as_ref(),
        &tenant(),
        Duration::from_secs(3600),
        chrono::Utc::now(),
    )
    .await
    .expect("runs");
    assert_eq!((long.closed, long.shredded.len()), (0, 0));
    // A short one, a moment later, shreds the closed conversation only.
    let short = privacy::apply_retention(
        &w.store,
        &w.ring,
        w.projections.as_ref(),
        &tenant(),
        Duration::from_secs(1),
        chrono::Utc::now() + chrono::Duration::seconds(2),
    )
    .await
    .expect("runs");
    assert_eq!(short.shredded, ["brewvi/retained-closed"]);
    let shredded = w.store.load(&closed).await.expect("loads");
    assert!(texts(&shredded.events).iter().all(|t| t == ERASED));
    let kept = w.store.load(&open).await.expect("loads");
    assert!(texts(&kept.events).iter().all(|t| t != ERASED));
    // Run again: nothing left to shred.
    let again = privacy::apply_retention(
        &w.store,
        &w.ring,
        w.projections.as_ref(),
        &tenant(),
        Duration::from_secs(1),
        chrono::Utc::now() + chrono::Duration::seconds(2),
    )
    .await
    .expect("runs");
    assert!(again.shredded.is_empty());
    w.stop_projector.send_replace(true);
    w.running.shutdown().await;
}
