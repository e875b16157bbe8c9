//! The HTTP gateway against a real nats-server, a real SQLite file and a
//! real HTTP server on loopback: messages with idempotency keys, human
//! replies and closes, every error path as a problem detail, rate limits,
//! the live event stream resumed with `Last-Event-ID`, signed audit exports
//! verified and tampered, and the OpenAPI document kept in `schemas/`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_engine::ids::Tenant;
use switchboard_engine::projection::ProjectionStore;
use switchboard_engine::projection::sqlite::{SqliteConfig, SqliteStore};
use switchboard_tests::TestServer;
use switchboard_workers::audit::AuditKey;
use switchboard_workers::gateway::keys::{KeyStore, Role};
use switchboard_workers::gateway::{self, Gateway, Guard, RateLimit};
use switchboard_workers::privacy::{Key, KeyRing};
use tokio::sync::watch;

const DEADLINE: Duration = Duration::from_secs(15);

/// A gateway on loopback with keys of two tenants.
struct Setup {
    _server: TestServer,
    _dir: tempfile::TempDir,
    _stop: watch::Sender<bool>,
    base: String,
    http: reqwest::Client,
    publish: String,
    operate: String,
    audit: String,
    other_tenant: String,
    keys: KeyStore,
}

fn rate(per_second: u32, burst: u32) -> RateLimit {
    RateLimit {
        per_second: NonZeroU32::new(per_second).expect("non-zero"),
        burst: NonZeroU32::new(burst).expect("non-zero"),
    }
}

impl Setup {
    async fn start(limit: RateLimit) -> Self {
        Self::start_with(limit, false).await
    }

    /// With `sealed`, personal text is encrypted under a fresh master key
    /// and the privacy routes work.
    async fn start_with(limit: RateLimit, sealed: bool) -> Self {
        let server = TestServer::start();
        let mut store = server.store().await;
        let mut ring = None;
        if sealed {
            let master = Key::generate().expect("randomness");
            let opened = KeyRing::open(store.client(), master)
                .await
                .expect("the key bucket opens");
            store = store.with_cipher(Arc::new(opened.clone()));
            ring = Some(opened);
        }
        let dir = tempfile::tempdir().expect("temporary directory");
        let projections: Arc<dyn ProjectionStore> = Arc::new(
            SqliteStore::open(SqliteConfig::new(dir.path().join("p.sqlite")))
                .await
                .expect("sqlite opens"),
        );
        let client = store.client().clone();
        let keys = KeyStore::open(&client).await.expect("key bucket");
        let brewvi = Tenant::new("brewvi").expect("valid");
        let make = |tenant: Tenant, role| {
            let keys = keys.clone();
            async move { keys.create(&tenant, role, "test").await.expect("key").0 }
        };
        let publish = make(brewvi.clone(), Role::Publish).await;
        let operate = make(brewvi.clone(), Role::Operate).await;
        let audit = make(brewvi.clone(), Role::Audit).await;
        let other_tenant = make(Tenant::new("acme").expect("valid"), Role::Operate).await;
        let audit_key = AuditKey::load_or_create(&client).await.expect("audit key");
        let mut gw = Gateway::new(
            store,
            projections,
            Guard::new(keys.clone(), limit),
            audit_key,
        );
        if let Some(ring) = ring {
            gw = gw.with_key_ring(ring);
        }
        let listener = gateway::bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("binds");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, shutdown) = watch::channel(false);
        tokio::spawn(gateway::serve(listener, gw, shutdown));
        Self {
            _server: server,
            _dir: dir,
            _stop: stop,
            base,
            http: reqwest::Client::new(),
            publish,
            operate,
            audit,
            other_tenant,
            keys,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn post(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the gateway answers");
        read(response).await
    }

    async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("the gateway answers");
        read(response).await
    }
}

async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let problem = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    let bytes = response.bytes().await.expect("a body");
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_client_error() || status.is_server_error() {
        assert!(problem, "{status} must be a problem detail: {value}");
        assert_eq!(value["status"], status.as_u16(), "{value}");
    }
    (status, value)
}

const C1: &str = "/v1/tenants/brewvi/conversations/c1";

#[tokio::test]
async fn a_message_is_stored_once_per_idempotency_key_and_shows_in_the_events() {
    let s = Setup::start(RateLimit::default()).await;
    let send = || async {
        let response = s
            .http
            .post(s.url(&format!("{C1}/messages")))
            .bearer_auth(&s.publish)
            .header("idempotency-key", "retry-1")
            .header("content-type", "application/json")
            .body(
                json!({"text": "Where is my order 10234?", "customer": "persona_001"}).to_string(),
            )
            .send()
            .await
            .expect("answers");
        read(response).await
    };
    let (first_status, first) = send().await;
    assert_eq!(first_status, StatusCode::CREATED, "{first}");
    let (again_status, again) = send().await;
    assert_eq!(again_status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["seq"], first["seq"]);
    assert_eq!(again["duplicate"], true);

    let (status, timeline) = s.get(&format!("{C1}/events"), &s.publish).await;
    assert_eq!(status, StatusCode::OK, "{timeline}");
    let entries = timeline["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "stored once: {timeline}");
    assert_eq!(entries[0]["type"], "received");
    assert_eq!(entries[0]["actor"], "channel:api");
    assert_eq!(timeline["next_step"], "screen (critic)");
}

#[tokio::test]
async fn a_human_reply_and_a_close_are_appended_and_a_second_close_is_refused() {
    let s = Setup::start(RateLimit::default()).await;
    let (status, _) = s
        .post(
            &format!("{C1}/messages"),
            &s.publish,
            json!({"text": "I need a person"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, reply) = s
        .post(
            &format!("{C1}/replies"),
            &s.operate,
            json!({"agent_id": "ana", "text": "Hello, Ana here. I am looking at it."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let (status, closed) = s
        .post(
            &format!("{C1}/close"),
            &s.operate,
            json!({"agent_id": "ana", "resolution": "resolved", "satisfaction": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{closed}");
    let (status, again) = s
        .post(
            &format!("{C1}/close"),
            &s.operate,
            json!({"agent_id": "ana", "resolution": "resolved"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert!(
        again["detail"]
            .as_str()
            .unwrap_or("")
            .contains("already closed")
    );

    let (_, timeline) = s.get(&format!("{C1}/events"), &s.audit).await;
    let types: Vec<&str> = timeline["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(types, ["received", "human_replied", "closed"]);
    assert_eq!(timeline["entries"][1]["actor"], "human:ana");
    assert_eq!(timeline["status"], "Closed");
    // until_seq shows the state then.
    let first = timeline["entries"][1]["seq"].as_u64().expect("seq");
    let (_, then) = s
        .get(&format!("{C1}/events?until_seq={first}"), &s.audit)
        .await;
    assert_eq!(then["status"], "WithHuman", "{then}");
}

#[tokio::test]
async fn every_error_is_a_specific_problem_and_changes_nothing() {
    let s = Setup::start(RateLimit::default()).await;
    let messages = format!("{C1}/messages");
    let raw = |path: String, key: Option<&str>, body: String| {
        let mut request = s
            .http
            .post(s.url(&path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        async move { read(request.send().await.expect("answers")).await }
    };
    let cases: Vec<(&str, (StatusCode, Value), StatusCode, &str)> = vec![
        (
            "malformed JSON",
            raw(messages.clone(), Some(&s.publish), "{not json".into()).await,
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            "unknown field",
            raw(
                messages.clone(),
                Some(&s.publish),
                json!({"text": "hi", "colour": 1}).to_string(),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "colour",
        ),
        (
            "empty text",
            raw(
                messages.clone(),
                Some(&s.publish),
                json!({"text": "  "}).to_string(),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "text is empty",
        ),
        (
            "no key",
            raw(messages.clone(), None, json!({"text": "hi"}).to_string()).await,
            StatusCode::UNAUTHORIZED,
            "Bearer",
        ),
        (
            "wrong key",
            raw(
                messages.clone(),
                Some("sbk_00000000_nope"),
                json!({"text": "hi"}).to_string(),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "unknown or revoked",
        ),
        (
            "another tenant's key",
            raw(
                messages.clone(),
                Some(&s.other_tenant),
                json!({"text": "hi"}).to_string(),
            )
            .await,
            StatusCode::NOT_FOUND,
            "no tenant brewvi",
        ),
        (
            "unknown tenant",
            raw(
                "/v1/tenants/nosuch/conversations/c1/messages".into(),
                Some(&s.publish),
                json!({"text": "hi"}).to_string(),
            )
            .await,
            StatusCode::NOT_FOUND,
            "no tenant nosuch",
        ),
        (
            "invalid conversation id",
            raw(
                "/v1/tenants/brewvi/conversations/c%2Ex/messages".into(),
                Some(&s.publish),
                json!({"text": "hi"}).to_string(),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "conversation id",
        ),
        (
            "oversized body",
            raw(
                messages.clone(),
                Some(&s.publish),
                json!({"text": "x".repeat(200 * 1024)}).to_string(),
            )
            .await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than",
        ),
        (
            "a publish key replying",
            raw(
                format!("{C1}/replies"),
                Some(&s.publish),
                json!({"agent_id": "a", "text": "hi"}).to_string(),
            )
            .await,
            StatusCode::FORBIDDEN,
            "needs operate",
        ),
        (
            "reply to a conversation that does not exist",
            raw(
                "/v1/tenants/brewvi/conversations/ghost/replies".into(),
                Some(&s.operate),
                json!({"agent_id": "a", "text": "hi"}).to_string(),
            )
            .await,
            StatusCode::NOT_FOUND,
            "has no events",
        ),
        (
            "unknown route",
            raw("/v1/nothing".into(), Some(&s.publish), "{}".into()).await,
            StatusCode::NOT_FOUND,
            "no such route",
        ),
    ];
    for (what, (status, problem), expected, words) in cases {
        assert_eq!(status, expected, "{what}: {problem}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(words),
            "{what}: {detail:?} should say {words:?}"
        );
    }
    let (status, _) = s.get(&format!("{C1}/events"), &s.publish).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "nothing was stored by the bad requests"
    );

    let (status, problem) = s
        .get("/v1/tenants/brewvi/analytics/nonsense", &s.operate)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("intent-distribution")
    );
    let (status, _) = s
        .get("/v1/tenants/brewvi/conversations?status=lost", &s.operate)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once() {
    let s = Setup::start(RateLimit::default()).await;
    let (status, _) = s.get("/v1/tenants/brewvi/escalations", &s.operate).await;
    assert_eq!(status, StatusCode::OK);
    let id = s
        .keys
        .list()
        .await
        .expect("list")
        .into_iter()
        .find(|r| r.role == Role::Operate && r.tenant.as_str() == "brewvi")
        .expect("the operator key")
        .id;
    s.keys.revoke(&id).await.expect("revoked");
    let (status, problem) = s.get("/v1/tenants/brewvi/escalations", &s.operate).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
}

#[tokio::test]
async fn a_key_over_its_rate_gets_429_with_retry_after() {
    let s = Setup::start(rate(1, 3)).await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let response = s
            .http
            .get(s.url("/v1/tenants/brewvi/escalations"))
            .bearer_auth(&s.operate)
            .send()
            .await
            .expect("answers");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
        }
        statuses.push(response.status());
    }
    assert_eq!(
        &statuses[..3],
        [StatusCode::OK; 3],
        "the burst passes: {statuses:?}"
    );
    assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "Retry-After in seconds"
    );
    // Another key is not limited by this one's use.
    let (status, _) = s.get(&format!("{C1}/events"), &s.audit).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Reads SSE events from `response` until `count` arrived or the deadline.
async fn sse_events(response: &mut reqwest::Response, count: usize) -> Vec<(u64, String, Value)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let until = tokio::time::Instant::now() + DEADLINE;
    while events.len() < count {
        let chunk = tokio::time::timeout_at(until, response.chunk())
            .await
            .expect("events arrive before the deadline")
            .expect("the stream stays open")
            .expect("not ended");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut id = None;
            let mut kind = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    kind = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if let Some(id) = id {
                events.push((id, kind, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
        }
    }
    events
}

#[tokio::test]
async fn the_live_stream_shows_new_events_and_resumes_after_last_event_id() {
    let s = Setup::start(RateLimit::default()).await;
    let messages = format!("{C1}/messages");
    s.post(&messages, &s.publish, json!({"text": "first"}))
        .await;
    let mut live = s
        .http
        .get(s.url(&format!("{C1}/events/stream")))
        .bearer_auth(&s.publish)
        .send()
        .await
        .expect("stream opens");
    assert_eq!(live.status(), StatusCode::OK);
    let first = sse_events(&mut live, 1).await;
    assert_eq!(first[0].1, "received");
    assert_eq!(first[0].2["data"]["text"], "first");
    // Appended while the client listens: it arrives.
    s.post(&messages, &s.publish, json!({"text": "second"}))
        .await;
    let second = sse_events(&mut live, 1).await;
    assert_eq!(second[0].2["data"]["text"], "second");
    drop(live);
    // Appended while nobody listens, then a reconnect after the first: the
    // second and the third arrive, the first does not.
    s.post(&messages, &s.publish, json!({"text": "third"}))
        .await;
    let mut resumed = s
        .http
        .get(s.url(&format!("{C1}/events/stream")))
        .bearer_auth(&s.publish)
        .header("last-event-id", first[0].0.to_string())
        .send()
        .await
        .expect("stream opens");
    let texts: Vec<Value> = sse_events(&mut resumed, 2)
        .await
        .into_iter()
        .map(|(_, _, e)| e["data"]["text"].clone())
        .collect();
    assert_eq!(texts, [json!("second"), json!("third")]);
}

#[tokio::test]
async fn an_audit_export_verifies_and_a_tampered_one_is_refused_naming_the_line() {
    let s = Setup::start(RateLimit::default()).await;
    for (conversation, text) in [("c1", "one"), ("c2", "two"), ("c1", "three")] {
        s.post(
            &format!("/v1/tenants/brewvi/conversations/{conversation}/messages"),
            &s.publish,
            json!({ "text": text }),
        )
        .await;
    }
    let export = s
        .http
        .get(s.url("/v1/tenants/brewvi/audit/export"))
        .bearer_auth(&s.audit)
        .send()
        .await
        .expect("answers");
    assert_eq!(export.status(), StatusCode::OK);
    let text = export.text().await.expect("text");
    assert_eq!(text.lines().count(), 4, "three messages and the signed end");
    let verify = |body: String| async {
        let response = s
            .http
            .post(s.url("/v1/audit/verify"))
            .bearer_auth(&s.audit)
            .body(body)
            .send()
            .await
            .expect("answers");
        read(response).await
    };
    let (status, verified) = verify(text.clone()).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["lines"], 3);
    let (status, problem) = verify(text.replace("three", "THREE")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["detail"].as_str().unwrap_or("").contains("line 3"),
        "{problem}"
    );
    // An operator may not export.
    let (status, _) = s.get("/v1/tenants/brewvi/audit/export", &s.operate).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

const SEEDED: &str = "Where is my order 10234? Mail zelda.quux@example.org";

async fn say_as(s: &Setup, path: &str, customer: &str) {
    let (status, body) = s
        .post(
            &format!("{path}/messages"),
            &s.publish,
            json!({"text": SEEDED, "customer": customer}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn an_operator_exports_then_erases_a_customer_and_nothing_is_held_after() {
    let s = Setup::start_with(RateLimit::default(), true).await;
    say_as(&s, C1, "zelda").await;
    say_as(&s, "/v1/tenants/brewvi/conversations/c2", "zelda").await;
    say_as(&s, "/v1/tenants/brewvi/conversations/c3", "someone-else").await;
    let export = "/v1/tenants/brewvi/customers/zelda/export";
    let (status, before) = s.get(export, &s.operate).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    let conversations = before["conversations"].as_array().expect("conversations");
    assert_eq!(conversations.len(), 2, "only zelda's: {before}");
    assert!(
        before.to_string().contains(SEEDED),
        "texts decrypted: {before}"
    );

    // Only the tenant's operators may erase or export.
    for key in [&s.publish, &s.audit, &s.other_tenant] {
        let (status, _) = s.get(export, key).await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{status}"
        );
        let (status, _) = s
            .post("/v1/tenants/brewvi/customers/zelda/erase", key, json!({}))
            .await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{status}"
        );
    }
    let long = "x".repeat(201);
    let (status, problem) = s
        .post(
            &format!("/v1/tenants/brewvi/customers/{long}/erase"),
            &s.operate,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");

    let (status, erased) = s
        .post(
            "/v1/tenants/brewvi/customers/zelda/erase",
            &s.operate,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    let mut names: Vec<&str> = erased["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["brewvi/c1", "brewvi/c2"]);
    // Nothing is held about them any more, and their texts read as erased.
    let (status, after) = s.get(export, &s.operate).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["conversations"], json!([]), "{after}");
    let (_, timeline) = s.get(&format!("{C1}/events"), &s.operate).await;
    assert!(!timeline.to_string().contains(SEEDED), "{timeline}");
    assert_eq!(
        timeline["entries"][0]["data"]["text"], "[erased]",
        "{timeline}"
    );
    let last = timeline["entries"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["type"], "erased", "{timeline}");
    let keys = s.keys.list().await.expect("keys");
    let brewvi = Tenant::new("brewvi").expect("valid");
    let id = keys
        .iter()
        .find(|k| k.role == Role::Operate && k.tenant == brewvi)
        .map(|k| k.id.clone())
        .expect("the operator key");
    assert_eq!(last["actor"], format!("human:key-{id}"), "{last}");
    // The other customer keeps their text; a second erase finds nothing.
    let (_, other) = s
        .get(
            "/v1/tenants/brewvi/customers/someone-else/export",
            &s.operate,
        )
        .await;
    assert!(other.to_string().contains(SEEDED), "{other}");
    let (status, again) = s
        .post(
            "/v1/tenants/brewvi/customers/zelda/erase",
            &s.operate,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["conversations"], json!([]), "{again}");
}

#[tokio::test]
async fn without_encryption_the_privacy_routes_say_so() {
    let s = Setup::start(RateLimit::default()).await;
    let (status, problem) = s
        .post(
            "/v1/tenants/brewvi/customers/zelda/erase",
            &s.operate,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("not encrypted"),
        "{problem}"
    );
    let (status, _) = s
        .get("/v1/tenants/brewvi/customers/zelda/export", &s.operate)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn health_and_readiness_answer_without_a_key() {
    let s = Setup::start(RateLimit::default()).await;
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        let response = s.http.get(s.url(path)).send().await.expect("answers");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

#[test]
fn the_openapi_document_in_schemas_matches_the_routes() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/openapi.json");
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == gateway::openapi_document(),
        "schemas/openapi.json differs from the gateway's routes: run `switchboard schemas export`"
    );
    let doc: Value = serde_json::from_str(&on_disk).expect("JSON");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    assert!(doc["paths"]["/v1/tenants/{tenant}/conversations/{id}/messages"]["post"].is_object());
}

/// Schemathesis (PyPI) generates requests from `/openapi.json` against the
/// running gateway: no response may be a server error, and every status,
/// content type and body must be one the document declares.
#[tokio::test]
async fn schemathesis_finds_no_server_error_and_nothing_outside_the_document() {
    let s = Setup::start(rate(10_000, 10_000)).await;
    s.post(
        &format!("{C1}/messages"),
        &s.publish,
        json!({"text": "hello"}),
    )
    .await;
    let openapi = s.url("/openapi.json");
    let header = format!("Authorization: Bearer {}", s.operate);
    // Run in the test's own directory: schemathesis leaves a cache there.
    let output = tokio::process::Command::new("python3")
        .current_dir(s._dir.path())
        .args([
            "-m",
            "schemathesis.cli",
            "run",
            &openapi,
            "--header",
            &header,
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--exclude-path-regex",
            "events/stream",
            "--max-examples",
            "8",
            "--seed",
            "1",
            "--request-timeout",
            "10",
            "--no-color",
        ])
        .output()
        .await
        .expect("schemathesis runs (python3 -m pip install schemathesis; ./dev test installs it)");
    let report = format!("{}{}", text_of(&output.stdout), text_of(&output.stderr));
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}"
    );
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
