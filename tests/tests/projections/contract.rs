//! The store contract: one suite every `ProjectionStore` passes. Runs on
//! SQLite always and on Cosmos DB when `COSMOS_ENDPOINT` and `COSMOS_KEY`
//! are set, where rebuild into a new generation is checked too. The Cosmos
//! tests are `#[ignore]`d with the reason, so a plain run reports them as
//! ignored rather than passed; `./dev test` runs them when the variables are
//! set, and lists them as skipped otherwise.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use switchboard_engine::ids::{ConversationKey, Tenant};
use switchboard_engine::projection::*;
use switchboard_tests::TestServer;
use switchboard_workers::projector::{self, ProjectorOptions};

use super::support::key;

fn conv(tenant: &str, id: &str, day: u32, channel: &str, seq: u64) -> ConversationDoc {
    let key = ConversationKey::parse(&format!("{tenant}/{id}")).expect("valid");
    let at = Utc
        .with_ymd_and_hms(2026, 4, day, 12, 0, 0)
        .single()
        .expect("valid");
    let mut doc = ConversationDoc::new(&key, at);
    doc.channel = channel.into();
    doc.last_seq = seq;
    doc
}

async fn write(store: &dyn ProjectionStore, docs: Documents) {
    store.write(&docs).await.expect("write");
}

async fn read_conv(store: &dyn ProjectionStore, doc: &ConversationDoc) -> ConversationDoc {
    let keys = DocKeys {
        conversations: vec![doc.key()],
        ..DocKeys::default()
    };
    store
        .get(&keys)
        .await
        .expect("get")
        .conversations
        .pop()
        .expect("present")
}

/// The contract every store honours.
pub async fn contract(store: &dyn ProjectionStore, tenant: &str) {
    // Sequence gating: older or equal is a no-op, newer replaces.
    let mut doc = conv(tenant, "k1", 1, "web", 5);
    doc.message_count = 1;
    write(
        store,
        Documents {
            conversations: vec![doc.clone()],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(read_conv(store, &doc).await, doc);
    for (seq, count) in [(3, 9), (5, 9)] {
        let stale = ConversationDoc {
            last_seq: seq,
            message_count: count,
            ..doc.clone()
        };
        write(
            store,
            Documents {
                conversations: vec![stale],
                ..Default::default()
            },
        )
        .await;
        assert_eq!(
            read_conv(store, &doc).await.message_count,
            1,
            "seq {seq} must be a no-op"
        );
    }
    let newer = ConversationDoc {
        last_seq: 6,
        message_count: 2,
        ..doc.clone()
    };
    write(
        store,
        Documents {
            conversations: vec![newer.clone()],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(read_conv(store, &doc).await, newer);

    // Absent keys are simply missing.
    let missing = conv(tenant, "nobody", 1, "web", 1);
    let keys = DocKeys {
        conversations: vec![missing.key()],
        ..DocKeys::default()
    };
    assert!(store.get(&keys).await.expect("get").is_empty());

    // Derived documents round-trip and are gated too.
    let t = Tenant::new(tenant).expect("valid");
    let key = AnalyticsKey {
        tenant: t.clone(),
        day: doc.day(),
        channel: "web".into(),
        intent: None,
    };
    let mut bucket = AnalyticsDoc::new(&key);
    bucket.counters.conversations = 3;
    bucket.last_seq = 7;
    let stale_bucket = AnalyticsDoc {
        last_seq: 7,
        counters: Counters {
            conversations: 99,
            ..bucket.counters
        },
        ..bucket.clone()
    };
    write(
        store,
        Documents {
            analytics: vec![bucket.clone()],
            checkpoint: Some(10),
            ..Default::default()
        },
    )
    .await;
    write(
        store,
        Documents {
            analytics: vec![stale_bucket],
            checkpoint: Some(7),
            ..Default::default()
        },
    )
    .await;
    let got = store
        .get(&DocKeys {
            analytics: vec![key],
            ..DocKeys::default()
        })
        .await
        .expect("get");
    assert_eq!(got.analytics, [bucket]);
    assert!(
        store
            .checkpoints()
            .await
            .expect("checkpoints")
            .get("analytics")
            >= 10
    );

    // Scoped reads: tenant, day range, channel.
    let other_day = conv(tenant, "k2", 3, "email", 8);
    let foreign = conv("someone-else", "k3", 1, "web", 9);
    write(
        store,
        Documents {
            conversations: vec![other_day, foreign],
            ..Default::default()
        },
    )
    .await;
    let ids = |docs: Vec<ConversationDoc>| {
        let mut ids: Vec<_> = docs
            .into_iter()
            .map(|d| d.conversation_id.to_string())
            .collect();
        ids.sort();
        ids
    };
    let all = Scope::tenant(t.clone());
    assert_eq!(
        ids(store.conversations(&all).await.expect("scope")),
        ["k1", "k2"]
    );
    let day3 = chrono::NaiveDate::from_ymd_opt(2026, 4, 3);
    let from3 = Scope {
        from: day3,
        ..all.clone()
    };
    assert_eq!(
        ids(store.conversations(&from3).await.expect("scope")),
        ["k2"]
    );
    let to1 = Scope {
        to: chrono::NaiveDate::from_ymd_opt(2026, 4, 1),
        ..all.clone()
    };
    assert_eq!(ids(store.conversations(&to1).await.expect("scope")), ["k1"]);
    let web = Scope {
        channel: Some("web".into()),
        ..all.clone()
    };
    assert_eq!(ids(store.conversations(&web).await.expect("scope")), ["k1"]);
    assert_eq!(store.analytics(&from3).await.expect("scope"), []);
}

#[tokio::test]
async fn contract_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite::SqliteStore::open(sqlite::SqliteConfig::new(dir.path().join("c.sqlite")))
        .await
        .expect("open");
    contract(&store, "acme").await;
}

/// Cosmos DB settings from the environment, on database
/// `<COSMOS_DATABASE, default switchboard-tests><suffix>`, creating what is
/// missing; `None` (the test is skipped) without `COSMOS_ENDPOINT` and
/// `COSMOS_KEY`.
fn cosmos_config(test: &str, suffix: &str) -> Option<cosmos::CosmosConfig> {
    let (Ok(endpoint), Ok(key)) = (
        std::env::var("COSMOS_ENDPOINT"),
        std::env::var("COSMOS_KEY"),
    ) else {
        eprintln!("SKIPPED: contract::{test} (set COSMOS_ENDPOINT and COSMOS_KEY to run)");
        return None;
    };
    let mut config = cosmos::CosmosConfig::new(endpoint, cosmos::CosmosAuth::Key(key));
    let database = std::env::var("COSMOS_DATABASE").unwrap_or_else(|_| "switchboard-tests".into());
    config.database = format!("{database}{suffix}");
    config.create_if_missing = true;
    Some(config)
}

#[tokio::test]
#[ignore = "needs COSMOS_ENDPOINT and COSMOS_KEY (`./dev test` runs it when they are set)"]
async fn contract_and_queries_on_cosmos_when_configured() {
    let Some(config) = cosmos_config("contract_and_queries_on_cosmos_when_configured", "") else {
        return;
    };
    contract_and_queries_on(config).await;
}

/// The store contract and the query suite on a Cosmos DB account.
pub async fn contract_and_queries_on(config: cosmos::CosmosConfig) {
    let store = cosmos::CosmosStore::connect(config)
        .await
        .expect("connect to Cosmos DB");
    let run = uuid::Uuid::now_v7().simple().to_string();
    contract(&store, &format!("contract-{run}")).await;
    super::queries::check_queries(&store, &format!("queries-{run}")).await;
}

/// Rebuild on Cosmos DB, on its own database (`…-rebuild`: a swap replaces
/// every data container in it, so it must not share one with the contract
/// suite running beside it): the guarded swap between two rebuilds, readers
/// following the swap, and a full `projector::rebuild` equal to a SQLite
/// replay of the same log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COSMOS_ENDPOINT and COSMOS_KEY (`./dev test` runs it when they are set)"]
async fn rebuild_on_cosmos_when_configured() {
    let Some(config) = cosmos_config("rebuild_on_cosmos_when_configured", "-rebuild") else {
        return;
    };
    rebuild_on(config).await;
}

/// The guarded swap between two rebuilds, readers following it, and a full
/// rebuild equal to a SQLite replay, on a Cosmos DB database of its own.
pub async fn rebuild_on(mut config: cosmos::CosmosConfig) {
    config.generation_ttl = Duration::from_millis(500);
    let connect = || async {
        Arc::new(
            cosmos::CosmosStore::connect(config.clone())
                .await
                .expect("connect to Cosmos DB"),
        )
    };
    // Three processes' views of one database.
    let (first, second, reader) = (connect().await, connect().await, connect().await);
    let run = uuid::Uuid::now_v7().simple().to_string();
    swaps_are_guarded_and_followed(&first, &second, &reader, &format!("swap-{run}")).await;
    rebuild_equals_a_sqlite_replay(second, &format!("replay-{run}")).await;
}

async fn ids(store: &dyn ProjectionStore, tenant: &str) -> Vec<String> {
    let scope = Scope::tenant(Tenant::new(tenant).expect("valid"));
    let mut ids: Vec<_> = store
        .conversations(&scope)
        .await
        .expect("conversations")
        .into_iter()
        .map(|d| d.conversation_id.to_string())
        .collect();
    ids.sort();
    ids
}

fn one(doc: ConversationDoc, checkpoint: Option<u64>) -> Documents {
    Documents {
        conversations: vec![doc],
        checkpoint,
        ..Default::default()
    }
}

/// `first` starts a rebuild and is interrupted; `second` starts another,
/// which reuses and empties the half-built generation, and whose claim makes
/// the etag guard refuse `first`'s swap. `second` swaps; `first` follows on
/// its next refresh (a projector's batch), `reader` once its view is stale.
pub async fn swaps_are_guarded_and_followed(
    first: &cosmos::CosmosStore,
    second: &cosmos::CosmosStore,
    reader: &cosmos::CosmosStore,
    tenant: &str,
) {
    let before = first.generation();
    write(first, one(conv(tenant, "old", 1, "web", 5), Some(5))).await;

    let abandoned = first.fresh_copy().await.expect("fresh copy");
    assert_eq!(abandoned.generation(), before + 1);
    write(
        abandoned.as_ref(),
        one(conv(tenant, "half", 1, "web", 3), None),
    )
    .await;
    let fresh = second
        .fresh_copy()
        .await
        .expect("a second rebuild takes over");
    assert_eq!(
        fresh.generation(),
        before + 1,
        "the half-built generation is reused"
    );
    assert!(
        ids(fresh.as_ref(), tenant).await.is_empty(),
        "and emptied first"
    );
    let refused = first
        .swap_in(abandoned)
        .await
        .expect_err("the etag guard refuses the overtaken rebuild");
    assert_eq!(refused.kind(), StoreErrorKind::Rejected);
    assert_eq!(first.generation(), before);

    write(
        fresh.as_ref(),
        one(conv(tenant, "new", 2, "web", 9), Some(9)),
    )
    .await;
    assert_eq!(
        ids(reader, tenant).await,
        ["old"],
        "the active generation until the swap"
    );
    second.swap_in(fresh).await.expect("swap");
    assert_eq!(second.generation(), before + 1);
    assert_eq!(ids(second, tenant).await, ["new"]);
    let checkpoints = second.checkpoints().await.expect("checkpoints");
    assert_eq!(checkpoints.get("conversations"), 9);

    first.refresh().await.expect("refresh");
    assert_eq!(first.generation(), before + 1);
    // The swap waited 2 × generation_ttl: the reader's view is stale.
    assert_eq!(ids(reader, tenant).await, ["new"]);
    assert_eq!(reader.generation(), before + 1);
}

/// `projector::rebuild` into Cosmos DB gives the documents a SQLite replay
/// of the same log gives.
pub async fn rebuild_equals_a_sqlite_replay(store: Arc<cosmos::CosmosStore>, tenant: &str) {
    let server = TestServer::start();
    let events = server.store().await;
    for i in 0..6 {
        let key = key(&format!("{tenant}/c{i}"));
        super::append_all(&events, &key, &super::conversation(&key, i % 3 == 0)).await;
    }
    let options = ProjectorOptions {
        batch: 5,
        ..ProjectorOptions::default()
    };
    let before = store.generation();
    let report = projector::rebuild(server.client().await, store.clone(), &options, |_, _| {})
        .await
        .expect("rebuild into Cosmos DB");
    assert_eq!(report.last_seq, super::stream_last(&events).await);
    assert_eq!(store.generation(), before + 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let expected = super::sqlite(&dir, "expected.sqlite").await;
    projector::replay_into(server.client().await, expected.clone(), &options, |_, _| {})
        .await
        .expect("replay into SQLite");
    let got = super::snapshot(store.as_ref(), tenant).await;
    assert_eq!(got.0.len(), 6);
    assert_eq!(got, super::snapshot(expected.as_ref(), tenant).await);
}
