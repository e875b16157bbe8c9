//! What the projection suites share: stores, whole conversations appended
//! at once, the stream's last sequence, a canonical snapshot of a tenant's
//! documents and a projector task. Included by `projections.rs` and by
//! `cosmos_emulator.rs`.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use super::support::*;
use switchboard_engine::event::*;
use switchboard_engine::ids::{ConversationKey, StreamSeq, Tenant};
use switchboard_engine::projection::sqlite::{SqliteConfig, SqliteStore};
use switchboard_engine::projection::*;
use switchboard_engine::store::{EventStore, IdempotencyKey};
use switchboard_tests::TestServer;
use switchboard_workers::projector::{self, ProjectorOptions};
use tokio::sync::watch;
pub const DEADLINE: Duration = Duration::from_secs(30);

pub async fn sqlite(dir: &tempfile::TempDir, name: &str) -> Arc<SqliteStore> {
    Arc::new(
        SqliteStore::open(SqliteConfig::new(dir.path().join(name)))
            .await
            .expect("open sqlite"),
    )
}

pub fn ev(cause: &Event, actor: &str, data: EventData) -> Event {
    Event::caused_by(&cause.envelope, Actor::worker(actor), data)
}

/// A whole automated conversation, or an escalated one.
pub fn conversation(key: &ConversationKey, escalate: bool) -> Vec<Event> {
    let first = received(key, "hello");
    let mut events = vec![
        first.clone(),
        ev(
            &first,
            "critic",
            EventData::Screened(Screened {
                verdict: ScreenVerdict::Allow,
                findings: vec![],
                redactions: vec![],
                model: None,
            }),
        ),
        ev(&first, "intent", classified(Intent::OrderStatus, 0.9)),
    ];
    if escalate {
        events.push(escalated(&first));
    } else {
        events.push(responded(&first, "shipped"));
        events.push(ev(
            &first,
            "gateway",
            EventData::Closed(Closed {
                resolution: Resolution::Resolved,
                satisfaction: None,
            }),
        ));
    }
    events
}

pub async fn append_all(store: &EventStore, key: &ConversationKey, events: &[Event]) {
    let idem = IdempotencyKey::for_message(key, "test", &uuid::Uuid::now_v7().to_string());
    store
        .append(key, StreamSeq::ZERO, events, &idem)
        .await
        .expect("append");
}

pub async fn stream_last(store: &EventStore) -> u64 {
    let mut stream = store
        .jetstream()
        .get_stream("CONVERSATIONS")
        .await
        .expect("stream");
    stream.info().await.expect("info").state.last_sequence
}

/// Everything a store holds for a tenant, in a canonical order.
pub async fn snapshot(
    store: &dyn ProjectionStore,
    tenant: &str,
) -> (Vec<ConversationDoc>, Vec<AnalyticsDoc>, Vec<EscalationDoc>) {
    let scope = Scope::tenant(Tenant::new(tenant).expect("valid"));
    let mut c = store.conversations(&scope).await.expect("conversations");
    c.sort_by(|a, b| a.conversation_id.cmp(&b.conversation_id));
    let mut a = store.analytics(&scope).await.expect("analytics");
    a.sort_by(|x, y| x.id.cmp(&y.id));
    let mut e = store.escalations(&scope.tenant).await.expect("escalations");
    e.sort_by(|x, y| x.conversation_id.cmp(&y.conversation_id));
    (c, a, e)
}

pub fn spawn_projector(
    server: &TestServer,
    store: Arc<dyn ProjectionStore>,
    options: ProjectorOptions,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = watch::channel(false);
    let url = server.url();
    let handle = tokio::spawn(async move {
        let client = switchboard_engine::connect(&url, "projector")
            .await
            .expect("connect");
        projector::run_projector(client, store, options, rx)
            .await
            .expect("projector");
    });
    (tx, handle)
}

pub async fn caught_up(store: &dyn ProjectionStore, events: &EventStore) -> bool {
    let last = stream_last(events).await;
    store
        .checkpoints()
        .await
        .expect("checkpoints")
        .get("conversations")
        >= last
}
