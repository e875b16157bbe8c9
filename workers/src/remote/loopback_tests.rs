//! End-to-end tests of our HTTP client behaviour against the scripted
//! loopback server: retries and `Retry-After`, the `json_object` fallback,
//! the breaker, timeouts, and the local fallback's marking. `agents`: the
//! response agent and the critic's validation configured remote.

mod agents;
mod redaction;

use std::time::Duration;

use switchboard_engine::event::catalog::{Classified, Entities, Intent, ModelUsage, Sentiment};

use super::stub_server::{Reply, StubServer};
use super::*;

const CLASSIFIED: &str = r##"{"intent":"ORDER_STATUS","confidence":0.9,"sentiment":"neutral",
  "entities":{"order_number":"#1001","email":null,"phone":null,"product":null,"amount":null},
  "signals":[]}"##;

/// The conversation of `first` followed by `then` (each caused by `first`),
/// folded as if stored in that order.
fn fold_after(
    first: switchboard_engine::event::Event,
    then: impl IntoIterator<Item = switchboard_engine::event::EventData>,
) -> switchboard_engine::conversation::Conversation {
    use switchboard_engine::event::{Actor, Event, StoredEvent};
    let rest: Vec<Event> = then
        .into_iter()
        .map(|data| Event::caused_by(&first.envelope, Actor::worker("test"), data))
        .collect();
    let stored: Vec<StoredEvent> = std::iter::once(first)
        .chain(rest)
        .enumerate()
        .map(|(i, event)| StoredEvent {
            seq: switchboard_engine::ids::StreamSeq::new(i as u64 + 1),
            stored_at: chrono::Utc::now(),
            event,
        })
        .collect();
    switchboard_engine::conversation::Conversation::fold(&stored)
}

fn config(server: &StubServer) -> RemoteConfig {
    let mut config = RemoteConfig::new(Endpoint::OpenAiCompatible {
        base_url: server.base_url.clone(),
        model: "gpt-4o".into(),
        api_key: Some(Secret::new("sk-test")),
    });
    config.backoff_base = Duration::from_millis(1);
    config.max_backoff = Duration::from_secs(2);
    config.timeout = Duration::from_secs(5);
    config.prices = PriceTable::empty()
        .parse("gpt-4o=0.01/0.03")
        .expect("valid prices");
    config
}

fn classifier(config: RemoteConfig) -> RemoteClassifier {
    RemoteClassifier::new(RemoteModel::new(config).expect("valid config"))
}

#[tokio::test]
async fn throttled_then_answered_records_usage_and_cost() {
    let server = StubServer::start(vec![
        Reply::status(429, &[("retry-after", "0")], r#"{"error":{"code":"429"}}"#),
        Reply::completion(CLASSIFIED),
    ])
    .await;
    let event = classifier(config(&server))
        .classify("where is #1001")
        .await
        .expect("retried");
    assert_eq!(event.intent, Intent::OrderStatus);
    let usage = event.model.expect("remote events record their model");
    assert_eq!(usage.model, "gpt-4o (gpt-4o-2024-08-06)");
    assert_eq!(
        (usage.prompt_tokens, usage.completion_tokens),
        (Some(100), Some(20))
    );
    let cost = usage.cost_usd.expect("pricing configured");
    assert!((cost - (0.001 + 0.0006)).abs() < 1e-12, "{cost}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1]["response_format"]["type"], "json_schema");
    assert_eq!(
        requests[1]["response_format"]["json_schema"]["name"],
        "classification"
    );
    assert_eq!(requests[1]["model"], "gpt-4o");
}

#[tokio::test]
async fn retry_after_ms_and_server_errors_are_retried() {
    let server = StubServer::start(vec![
        Reply::status(
            429,
            &[("retry-after-ms", "5"), ("retry-after", "3600")],
            "{}",
        ),
        Reply::status(503, &[], "upstream down"),
        Reply::completion(CLASSIFIED),
    ])
    .await;
    classifier(config(&server))
        .classify("order #1001?")
        .await
        .expect("third attempt answers");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn retry_after_beyond_the_cap_gives_up_at_once() {
    let server =
        StubServer::start(vec![Reply::status(429, &[("retry-after", "3600")], "{}")]).await;
    let err = classifier(config(&server))
        .classify("hi")
        .await
        .expect_err("throttled");
    assert!(
        matches!(err, RemoteError::Throttled { attempts: 1, retry_after: Some(d) } if d == Duration::from_secs(3600)),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn rejected_json_schema_falls_back_to_json_object_for_good() {
    let rejected = r#"{"error":{"message":"response_format json_schema is not supported","type":"invalid_request_error"}}"#;
    let server = StubServer::start(vec![
        Reply::status(400, &[], rejected),
        Reply::completion(CLASSIFIED),
    ])
    .await;
    let classifier = classifier(config(&server));
    classifier
        .classify("one: #1001")
        .await
        .expect("json_object answer");
    classifier
        .classify("two: #1001")
        .await
        .expect("json_object answer");
    let formats: Vec<_> = server
        .requests()
        .iter()
        .map(|r| {
            r["response_format"]["type"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(formats, ["json_schema", "json_object", "json_object"]);
    let requests = server.requests();
    assert!(
        requests[1..]
            .iter()
            .all(|r| r["response_format"]["schema"].is_object()),
        "json_object is sent with its schema, which constrains llama.cpp's decoding"
    );
}

#[tokio::test]
async fn a_500_about_the_response_format_moves_down_the_ladder() {
    // What llama-cpp-python's server answers to `json_schema`.
    let llama = r#"{"error":{"message":"1 validation error: ('body', 'response_format', 'type') Input should be 'text' or 'json_object'","type":"internal_server_error","param":null,"code":null}}"#;
    let server = StubServer::start(vec![
        Reply::status(500, &[], llama),
        Reply::status(500, &[], llama),
        Reply::completion(CLASSIFIED),
    ])
    .await;
    let mut config = config(&server);
    config.breaker.failure_threshold = 1;
    let model = RemoteModel::new(config).expect("valid config");
    RemoteClassifier::new(model.clone())
        .classify("where is #1001")
        .await
        .expect("answered in the last format");
    assert_eq!(model.response_format(), "json_object");
    assert_eq!(server.requests().len(), 3, "no retries of a refused format");
    assert_eq!(
        model.breaker_state(),
        BreakerState::Closed,
        "a refused format is not an outage"
    );
}

#[tokio::test]
async fn breaker_opens_after_consecutive_failures_and_stops_calling() {
    let server = StubServer::start(vec![Reply::status(500, &[], "{}")]).await;
    let mut config = config(&server);
    config.max_retries = 0;
    config.breaker.failure_threshold = 2;
    let model = RemoteModel::new(config).expect("valid config");
    let classifier = RemoteClassifier::new(model.clone());
    for _ in 0..2 {
        let err = classifier.classify("hi").await.expect_err("500");
        assert_eq!(err.kind(), RemoteErrorKind::Unavailable);
    }
    assert_eq!(model.breaker_state(), BreakerState::Open);
    let err = classifier.classify("hi").await.expect_err("open");
    assert_eq!(err.kind(), RemoteErrorKind::CircuitOpen);
    assert_eq!(server.requests().len(), 2, "no request while open");
}

#[tokio::test]
async fn bad_output_is_bad_response_and_does_not_trip_the_breaker() {
    let unknown = CLASSIFIED.replace("ORDER_STATUS", "WEATHER_REPORT");
    let server = StubServer::start(vec![Reply::completion(&unknown)]).await;
    let mut config = config(&server);
    config.breaker.failure_threshold = 1;
    let model = RemoteModel::new(config).expect("valid config");
    let err = RemoteClassifier::new(model.clone())
        .classify("hi")
        .await
        .expect_err("bad label");
    assert_eq!(err.kind(), RemoteErrorKind::BadResponse);
    assert_eq!(model.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn a_silent_server_times_out_at_the_deadline_without_retrying() {
    let server = StubServer::start(vec![Reply::Hang]).await;
    let mut config = config(&server);
    config.max_retries = 3;
    config.deadline = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let err = classifier(config)
        .classify("hi")
        .await
        .expect_err("no answer");
    let waited = started.elapsed();
    assert!(
        matches!(err, RemoteError::Timeout { attempts: 1 }),
        "{err:?}"
    );
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "one deadline in total, not per try: {waited:?}"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "a request still running is not retried"
    );
}

#[tokio::test]
async fn an_abandoned_request_keeps_its_slot_so_work_never_piles_up() {
    let server = StubServer::start(vec![Reply::Hang]).await;
    let mut config = config(&server);
    config.concurrency = 1;
    config.deadline = Duration::from_millis(200);
    let classifier = classifier(config);
    let first = classifier.classify("one").await.expect_err("hangs");
    assert_eq!(first.kind(), RemoteErrorKind::Timeout);
    let second = classifier.classify("two").await.expect_err("slot taken");
    assert!(matches!(second, RemoteError::Busy { .. }), "{second:?}");
    assert_eq!(second.reason(), "busy: no free request slot");
    assert_eq!(
        second.kind(),
        RemoteErrorKind::Busy,
        "backpressure, not an outage"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "the second call never reached the busy server"
    );
}

#[tokio::test]
async fn a_half_open_probe_is_tried_once() {
    let server = StubServer::start(vec![Reply::status(503, &[], "{}")]).await;
    let mut config = config(&server);
    config.max_retries = 3;
    config.breaker.failure_threshold = 1;
    config.breaker.cool_down = Duration::ZERO;
    let model = RemoteModel::new(config).expect("valid config");
    let classifier = RemoteClassifier::new(model.clone());
    let err = classifier.classify("hi").await.expect_err("503");
    assert!(
        matches!(err, RemoteError::Unavailable { attempts: 4, .. }),
        "{err:?}"
    );
    assert_eq!(model.breaker_state(), BreakerState::Open);
    let before = server.requests().len();
    let err = classifier.classify("hi").await.expect_err("probe fails");
    assert!(
        matches!(err, RemoteError::Unavailable { attempts: 1, .. }),
        "{err:?}"
    );
    assert_eq!(
        server.requests().len(),
        before + 1,
        "the probe is not retried"
    );
    assert_eq!(
        model.breaker_state(),
        BreakerState::Open,
        "a failed probe re-opens"
    );
}

#[tokio::test]
async fn a_refused_connection_says_so() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = closed.local_addr().expect("bound").port();
    drop(closed);
    let mut config = RemoteConfig::new(Endpoint::OpenAiCompatible {
        base_url: format!("http://127.0.0.1:{port}/v1"),
        model: "smollm2".into(),
        api_key: None,
    });
    config.max_retries = 0;
    let err = classifier(config)
        .classify("hi")
        .await
        .expect_err("nothing listens");
    assert_eq!(err.reason(), "unavailable: connection refused");
}

struct LocalIntent;

impl Classify for LocalIntent {
    async fn classify(&self, _text: &str) -> Classified {
        Classified {
            intent: Intent::GeneralInquiry,
            confidence: 0.4,
            sentiment: Sentiment::Neutral,
            entities: Entities::default(),
            signals: vec![],
            model: Some(ModelUsage::local("local-intent-v1")),
        }
    }
}

#[tokio::test]
async fn fallback_answers_locally_and_says_why() {
    let server = StubServer::start(vec![Reply::status(502, &[], "{}")]).await;
    let mut config = config(&server);
    config.max_retries = 0;
    config.breaker.failure_threshold = 1;
    let fallback = Fallback::new(classifier(config), LocalIntent);
    let model_of = |c: Classified| c.model.map(|m| m.model).unwrap_or_default();
    let first = fallback.classify("hi").await;
    let usage = first.model.clone().expect("the fallback records its model");
    assert_eq!(usage.model, "local-intent-v1 (fallback: unavailable)");
    assert_eq!(
        usage.fallback.as_deref(),
        Some("unavailable: HTTP 502 Bad Gateway")
    );
    assert_eq!(
        model_of(fallback.classify("hi").await),
        "local-intent-v1 (fallback: circuit open)"
    );
    assert_eq!(server.requests().len(), 1);
}
