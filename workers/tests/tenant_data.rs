//! Tenant data in JetStream against a real nats-server: imports that
//! validate before writing (a failed import leaves the bucket unchanged),
//! list and remove, a running worker picking up a changed document without
//! a restart, tenant isolation, and the demo tenant seeded once.

mod agents_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use agents_support::{Running, options, reply, say, settled};
use indicatif::ProgressBar;
use switchboard_engine::event::{EventData, Retrieved, StoredEvent};
use switchboard_engine::ids::Tenant;
use switchboard_tests::TestServer;
use switchboard_workers::agents::Agents;
use switchboard_workers::tenant::import::{self, Change};
use switchboard_workers::tenant::store::BUCKET;
use switchboard_workers::tenant::{
    DocId, KnowledgeSource, TenantData, TenantErrorKind, TenantKnowledge, TenantStore,
};
use tokio::sync::watch;

const DEADLINE: Duration = Duration::from_secs(15);

fn tenant(name: &str) -> Tenant {
    Tenant::new(name).expect("valid tenant")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the test file is written");
    path
}

fn quiet() -> ProgressBar {
    ProgressBar::hidden()
}

/// The bucket's last stream sequence: unchanged means nothing was written.
async fn bucket_sequence(client: &async_nats::Client) -> u64 {
    let js = async_nats::jetstream::new(client.clone());
    let mut stream = js
        .get_stream(format!("KV_{BUCKET}"))
        .await
        .expect("the bucket's stream exists");
    stream
        .info()
        .await
        .expect("stream info")
        .state
        .last_sequence
}

/// A returns policy for a shop whose window is `days` days.
fn policy(family: &str, days: u32) -> String {
    format!(
        "---\nid: policies\ntitle: {family} policies\ntags: [returns]\n---\n# Policies\n\n## {family}.window: Return window\nYou can return any item within {days} days of delivery for a full refund.\n\n## {family}.shipping: Shipping\nOrders ship within two business days.\n"
    )
}

fn retrieved(events: &[StoredEvent]) -> Retrieved {
    events
        .iter()
        .find_map(|e| match &e.event.data {
            EventData::Retrieved(r) => Some(r.clone()),
            _ => None,
        })
        .expect("the conversation went through retrieval")
}

#[tokio::test]
async fn a_bad_import_names_file_record_and_field_and_writes_nothing() {
    let server = TestServer::start();
    let client = server.client().await;
    let store = TenantStore::open(&client).await.expect("bucket");
    let acme = tenant("acme");
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(dir.path(), "policies.md", &policy("returns", 30));
    import::import_documents(&store, &acme, std::slice::from_ref(&good), &quiet())
        .await
        .expect("a good document imports");
    let before = bucket_sequence(&client).await;
    let data_before = store.load(&acme).await.expect("load");

    let bad_front = write(
        dir.path(),
        "a.md",
        "---\ntitle: A\nauthor: me\n---\n## a.x: X\ntext\n",
    );
    let bad_heading = write(dir.path(), "b.md", "# B\n\n## no source id here\ntext\n");
    let bad_field = write(
        dir.path(),
        "c.json",
        r#"[{"id":"c1","title":"C1","body":"one"},{"id":"c2","title":"C2","body":"two","tags":"oops"}]"#,
    );
    let dup_a = write(
        dir.path(),
        "d1.json",
        r#"{"id":"same","title":"D","body":"x"}"#,
    );
    let dup_b = write(
        dir.path(),
        "d2.json",
        r#"{"id":"same","title":"D","body":"y"}"#,
    );
    // A new document reusing a source id of the stored one.
    let dup_source = write(dir.path(), "e.md", "## returns.window: Again\nother text\n");
    let fresh = write(dir.path(), "fresh.md", "## fresh.one: Fresh\nnew text\n");
    let cases: Vec<(Vec<PathBuf>, TenantErrorKind, &str)> = vec![
        (
            vec![fresh.clone(), bad_front],
            TenantErrorKind::Input,
            "author",
        ),
        (
            vec![fresh.clone(), bad_heading],
            TenantErrorKind::Input,
            "no source id here",
        ),
        (
            vec![fresh.clone(), bad_field],
            TenantErrorKind::Input,
            "document #2 (id c2): field \"tags\"",
        ),
        (
            vec![dup_a, dup_b],
            TenantErrorKind::Duplicate,
            "document id same",
        ),
        (
            vec![fresh.clone(), dup_source],
            TenantErrorKind::Duplicate,
            "returns.window",
        ),
    ];
    for (paths, kind, needle) in cases {
        let e = import::import_documents(&store, &acme, &paths, &quiet())
            .await
            .expect_err("a bad import fails");
        assert_eq!(e.kind(), kind, "{e}");
        assert!(e.to_string().contains(needle), "{needle:?} not in {e}");
        assert_eq!(
            bucket_sequence(&client).await,
            before,
            "nothing written after: {e}"
        );
    }

    // Records: one good file and one bad one; neither is written.
    let records = tempfile::tempdir().expect("tempdir");
    write(
        records.path(),
        "products.json",
        include_str!("../kb/brewvi/products.json"),
    );
    let mut orders: serde_json::Value =
        serde_json::from_str(include_str!("../kb/brewvi/orders.json")).expect("json");
    orders["orders"][2]["total"] = serde_json::json!("twelve");
    let third = orders["orders"][2]["id"].as_str().expect("id").to_owned();
    write(records.path(), "orders.json", &orders.to_string());
    let e = import::import_records(&store, &acme, records.path(), &quiet())
        .await
        .expect_err("a bad order fails the import");
    assert!(
        e.to_string().starts_with(&format!(
            "orders.json: order #3 (id {third}): field \"total\": invalid type: string \"twelve\""
        )),
        "{e}"
    );
    assert_eq!(bucket_sequence(&client).await, before, "no record written");
    assert_eq!(store.load(&acme).await.expect("load"), data_before);
}

#[tokio::test]
async fn documents_are_listed_with_revisions_and_removed() {
    let server = TestServer::start();
    let client = server.client().await;
    let store = TenantStore::open(&client).await.expect("bucket");
    let acme = tenant("acme");
    let dir = tempfile::tempdir().expect("tempdir");
    let policies = write(dir.path(), "policies.md", &policy("returns", 30));
    let faq = write(
        dir.path(),
        "faq.json",
        r###"{"id":"faq","title":"Preguntas","language":"es","tags":["faq"],"body":"## faq.hours: Horario\nAbrimos de 9 a 5.\n\n## faq.gifts: Regalos\nVendemos tarjetas regalo.\n"}"###,
    );
    let first = import::import_documents(&store, &acme, &[policies.clone(), faq], &quiet())
        .await
        .expect("imports");
    assert!(
        first.iter().all(|d| d.change == Change::Created),
        "{first:?}"
    );
    let again = import::import_documents(&store, &acme, std::slice::from_ref(&policies), &quiet())
        .await
        .expect("imports again");
    assert_eq!(again[0].change, Change::Unchanged);
    assert_eq!(
        again[0].revision,
        first
            .iter()
            .find(|d| d.id.as_str() == "policies")
            .map(|d| d.revision)
            .unwrap_or(0)
    );

    let listed = import::list_documents(&store, &acme).await.expect("list");
    let rows: Vec<(&str, &str, &str, usize)> = listed
        .iter()
        .map(|d| {
            (
                d.id.as_str(),
                d.title.as_str(),
                d.language.as_str(),
                d.passages,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("faq", "Preguntas", "es", 2),
            ("policies", "returns policies", "en", 2)
        ]
    );
    assert!(listed.iter().all(|d| d.revision > 0));
    assert!(
        import::list_documents(&store, &tenant("other"))
            .await
            .expect("list")
            .is_empty()
    );

    let faq_id = DocId::new("faq").expect("id");
    import::remove_document(&store, &acme, &faq_id)
        .await
        .expect("removes");
    let left: Vec<String> = import::list_documents(&store, &acme)
        .await
        .expect("list")
        .into_iter()
        .map(|d| d.id.to_string())
        .collect();
    assert_eq!(left, ["policies"]);
    let missing = import::remove_document(&store, &acme, &faq_id)
        .await
        .expect_err("already removed");
    assert_eq!(missing.kind(), TenantErrorKind::NotFound);
}

/// Agents over the live bucket, as `switchboard worker all` runs them.
async fn live_agents(
    client: &async_nats::Client,
    events: &switchboard_engine::store::EventStore,
) -> (Running, TenantKnowledge) {
    let (stop, shutdown) = watch::channel(false);
    let store = TenantStore::open(client).await.expect("bucket");
    let live = TenantKnowledge::start(store, shutdown.clone())
        .await
        .expect("loads");
    let agents = Agents::builtin()
        .expect("agents")
        .with_knowledge(KnowledgeSource::Live(live.clone()));
    let tasks = vec![agents.spawn_team(events, &options(), &shutdown)];
    (Running { stop, tasks }, live)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_worker_picks_up_a_changed_document() {
    let server = TestServer::start();
    let events = server.store().await;
    let client = server.client().await;
    let store = TenantStore::open(&client).await.expect("bucket");
    let acme = tenant("acme");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "policies.md", &policy("returns", 30));
    import::import_documents(&store, &acme, std::slice::from_ref(&file), &quiet())
        .await
        .expect("imports");
    let (running, live) = live_agents(&client, &events).await;

    let question = "How many days do I have to return an item?";
    let key = say(&events, "acme/before", question).await;
    let found = retrieved(&settled(&events, &key).await);
    assert!(
        found
            .passages
            .iter()
            .any(|p| p.text.contains("within 30 days")),
        "{found:?}"
    );

    std::fs::write(&file, policy("returns", 45)).expect("edited");
    let report = import::import_documents(&store, &acme, &[file], &quiet())
        .await
        .expect("imports the edit");
    assert_eq!(report[0].change, Change::Updated);
    let waited = std::time::Instant::now();
    assert!(
        live.wait_for(report[0].revision, DEADLINE).await,
        "the edit is in service within {DEADLINE:?}"
    );
    eprintln!(
        "the edit was in service {:?} after its import returned",
        waited.elapsed()
    );
    let key = say(&events, "acme/after", question).await;
    let events_after = settled(&events, &key).await;
    let found = retrieved(&events_after);
    assert!(
        found
            .passages
            .iter()
            .any(|p| p.text.contains("within 45 days")),
        "{found:?}"
    );
    assert!(
        !found
            .passages
            .iter()
            .any(|p| p.text.contains("within 30 days")),
        "{found:?}"
    );
    assert!(
        reply(&events_after).contains("45 days"),
        "{}",
        reply(&events_after)
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_tenant_never_answers_from_another_tenants_data() {
    let server = TestServer::start();
    let events = server.store().await;
    let client = server.client().await;
    let store = TenantStore::open(&client).await.expect("bucket");
    let dir = tempfile::tempdir().expect("tempdir");
    let b = dir.path().join("b");
    std::fs::create_dir_all(&b).expect("dir");
    // Tenant A is BrewVi itself; tenant B has other policies.
    import::seed_if_absent(&store, &tenant("alpha"), &TenantData::demo().expect("demo"))
        .await
        .expect("seeds alpha");
    let b_doc = write(&b, "policies.md", &policy("bravo", 90));
    import::import_documents(&store, &tenant("bravo"), &[b_doc], &quiet())
        .await
        .expect("imports bravo");
    let (running, _live) = live_agents(&client, &events).await;

    let question = "How do I return an item I bought? What is your return policy?";
    let on_a = retrieved(&settled(&events, &say(&events, "alpha/q", question).await).await);
    let on_b_events = settled(&events, &say(&events, "bravo/q", question).await).await;
    let on_b = retrieved(&on_b_events);
    // A question whose answer rests on passages alone (no order to ask for).
    let on_c_events = settled(
        &events,
        &say(&events, "nodata/q", "Do you sell gift cards?").await,
    )
    .await;
    let on_c = retrieved(&on_c_events);

    assert!(
        on_a.passages
            .iter()
            .any(|p| p.source_id.starts_with("returns.")),
        "{on_a:?}"
    );
    assert!(!on_b.passages.is_empty(), "{on_b:?}");
    assert!(
        on_b.passages
            .iter()
            .all(|p| p.source_id.starts_with("bravo.")),
        "{on_b:?}"
    );
    assert!(
        on_b.passages.iter().any(|p| p.text.contains("90 days")),
        "{on_b:?}"
    );
    let a_ids: Vec<&str> = on_a.passages.iter().map(|p| p.source_id.as_str()).collect();
    assert!(
        on_b.passages
            .iter()
            .all(|p| !a_ids.contains(&p.source_id.as_str()))
    );
    assert!(
        !reply(&on_b_events).contains("30 days"),
        "{}",
        reply(&on_b_events)
    );
    // A tenant with no data: nothing retrieved, and the answer says so.
    assert!(
        on_c.passages.is_empty() && on_c.records.is_empty(),
        "{on_c:?}"
    );
    assert!(
        reply(&on_c_events).contains("I don't have information about that"),
        "{}",
        reply(&on_c_events)
    );
    running.shutdown().await;
}

#[tokio::test]
async fn the_demo_tenant_is_seeded_once_and_edits_survive() {
    let server = TestServer::start();
    let client = server.client().await;
    let store = TenantStore::open(&client).await.expect("bucket");
    let brewvi = tenant("brewvi");
    let demo = TenantData::demo().expect("demo");
    assert!(
        import::seed_if_absent(&store, &brewvi, &demo)
            .await
            .expect("seeds")
    );
    assert_eq!(store.load(&brewvi).await.expect("load"), demo);
    let dir = tempfile::tempdir().expect("tempdir");
    let edit = write(
        dir.path(),
        "faq.md",
        "# FAQ\n\n## faq.only: Only one\nThe operator's own answer.\n",
    );
    import::import_documents(&store, &brewvi, &[edit], &quiet())
        .await
        .expect("edits");
    let edited = store.load(&brewvi).await.expect("load");
    assert!(
        !import::seed_if_absent(&store, &brewvi, &demo)
            .await
            .expect("checks")
    );
    assert_eq!(
        store.load(&brewvi).await.expect("load"),
        edited,
        "the edit stays"
    );
    // The demo tenant builds the same passages as the built-in knowledge base.
    let mut from_bucket: Vec<String> = demo
        .knowledge_base()
        .expect("builds")
        .source_ids()
        .map(str::to_owned)
        .collect();
    let mut builtin: Vec<String> = switchboard_workers::knowledge::KnowledgeBase::builtin()
        .expect("builtin")
        .source_ids()
        .map(str::to_owned)
        .collect();
    from_bucket.sort();
    builtin.sort();
    assert_eq!(from_bucket, builtin);
}
