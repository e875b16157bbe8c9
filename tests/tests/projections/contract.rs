//! The store contract: one suite every `ProjectionStore` passes. Runs on
//! SQLite always and on Cosmos DB when `COSMOS_ENDPOINT` and `COSMOS_KEY`
//! are set (skipped with a printed reason otherwise).

use chrono::{TimeZone, Utc};
use switchboard_engine::ids::{ConversationKey, Tenant};
use switchboard_engine::projection::*;

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

#[tokio::test]
async fn contract_and_queries_on_cosmos_when_configured() {
    let (Ok(endpoint), Ok(key)) = (
        std::env::var("COSMOS_ENDPOINT"),
        std::env::var("COSMOS_KEY"),
    ) else {
        println!(
            "skipped: set COSMOS_ENDPOINT and COSMOS_KEY to run the contract suite on Cosmos DB"
        );
        return;
    };
    let mut config = cosmos::CosmosConfig::new(endpoint, cosmos::CosmosAuth::Key(key));
    config.database =
        std::env::var("COSMOS_DATABASE").unwrap_or_else(|_| "switchboard-tests".into());
    config.create_if_missing = true;
    let store = cosmos::CosmosStore::connect(config)
        .await
        .expect("connect to Cosmos DB");
    let run = uuid::Uuid::now_v7().simple().to_string();
    contract(&store, &format!("contract-{run}")).await;
    super::queries::check_queries(&store, &format!("queries-{run}")).await;
}
