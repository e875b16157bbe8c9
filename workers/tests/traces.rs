//! Trace export against a real OTLP/HTTP receiver on loopback: `switchboard
//! up` with `OTEL_EXPORTER_OTLP_ENDPOINT` answers a customer message, and
//! the receiver, decoding the protobuf requests with `opentelemetry-proto`,
//! gets one span per step of the turn, each with the conversation's
//! attributes, all in one trace whose id is the turn's correlation id (the
//! customer message's event id). `RUST_LOG=warn` prints nothing of it:
//! export does not depend on what is logged.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;
use switchboard_engine::store::{EventStore, StoreOptions};
use switchboard_tests::events::key;
use switchboard_tests::{Running, eventually, free_port, server_binary};

const DEADLINE: Duration = Duration::from_secs(60);

/// A span as the receiver decoded it.
#[derive(Debug, Clone)]
struct Received {
    name: String,
    trace_id: String,
    attributes: BTreeMap<String, String>,
    service: String,
}

type Spans = Arc<Mutex<Vec<Received>>>;

async fn receive(State(spans): State<Spans>, body: Bytes) -> &'static str {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return "undecodable";
    };
    let mut out = Vec::new();
    for resource in request.resource_spans {
        let service = resource
            .resource
            .iter()
            .flat_map(|r| r.attributes.iter())
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| string(kv.value.as_ref()?.value.as_ref()?))
            .unwrap_or_default();
        for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
            let attributes = span
                .attributes
                .iter()
                .filter_map(|kv| {
                    Some((kv.key.clone(), string(kv.value.as_ref()?.value.as_ref()?)?))
                })
                .collect();
            out.push(Received {
                name: span.name,
                trace_id: hex(&span.trace_id),
                attributes,
                service: service.clone(),
            });
        }
    }
    if let Ok(mut all) = spans.lock() {
        all.extend(out);
    }
    "ok"
}

fn string(value: &AnyValue) -> Option<String> {
    match value {
        AnyValue::StringValue(s) => Some(s.clone()),
        AnyValue::IntValue(i) => Some(i.to_string()),
        AnyValue::BoolValue(b) => Some(b.to_string()),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_step_of_a_turn_is_one_span_in_the_turns_trace() {
    let spans: Spans = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let collector = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new()
        .route("/v1/traces", post(receive))
        .with_state(spans.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("tempdir");
    let nats_port = free_port();
    let _up = Running(
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("up")
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--nats-port", &nats_port.to_string()])
            .args([
                "--metrics-addr",
                "127.0.0.1:0",
                "--gateway-addr",
                "127.0.0.1:0",
            ])
            .env("SWITCHBOARD_NATS_SERVER", server_binary().path())
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector)
            .env("OTEL_BSP_SCHEDULE_DELAY", "200")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("switchboard up starts"),
    );
    let url = format!("nats://127.0.0.1:{nats_port}");
    let data_dir = dir.path().to_path_buf();
    eventually("a published message", DEADLINE, || {
        let (url, data_dir) = (url.clone(), data_dir.clone());
        async move {
            let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
                .args(["publish", "brewvi/traced-1", "--customer", "persona_001"])
                .args(["--text", "Where is my order 10234?"])
                .env("NATS_URL", &url)
                .env("SWITCHBOARD_DATA_DIR", &data_dir)
                .output()
                .ok()?;
            out.status.success().then_some(())
        }
    })
    .await;
    let store = EventStore::new(
        switchboard_engine::connect(&url, "traces-test")
            .await
            .expect("connects"),
        StoreOptions::default(),
    );
    let first = store
        .load(&key("brewvi/traced-1"))
        .await
        .expect("loads")
        .events[0]
        .event
        .envelope
        .id;
    let turn = first.as_uuid().simple().to_string();

    let wanted = ["screen", "classify", "retrieve", "draft-1", "validate-1"];
    let steps = eventually("a span per step", DEADLINE, || {
        let spans = spans.clone();
        async move {
            let all = spans.lock().ok()?.clone();
            let mine: Vec<Received> = all
                .into_iter()
                .filter(|s| {
                    s.attributes.get("conversation").map(String::as_str) == Some("traced-1")
                })
                .collect();
            let names: Vec<&str> = mine
                .iter()
                .filter_map(|s| s.attributes.get("step").map(String::as_str))
                .collect();
            wanted.iter().all(|w| names.contains(w)).then_some(mine)
        }
    })
    .await;
    for step in wanted {
        let spans: Vec<&Received> = steps
            .iter()
            .filter(|s| s.attributes.get("step").map(String::as_str) == Some(step))
            .collect();
        assert_eq!(spans.len(), 1, "one span for {step}: {spans:?}");
        let span = spans[0];
        assert_eq!(span.trace_id, turn, "{step} is in the turn's trace");
        assert_eq!(
            span.attributes.get("tenant").map(String::as_str),
            Some("brewvi")
        );
        assert!(span.attributes.contains_key("agent"), "{span:?}");
        assert_eq!(span.service, "switchboard-up");
        assert!(span.name.ends_with(step), "{}", span.name);
    }
}
