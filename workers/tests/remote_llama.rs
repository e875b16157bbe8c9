//! The remote model path against a real OpenAI-compatible server:
//! llama-cpp-python's server with SmolLM2-135M on loopback (see
//! `remote_llama/server.rs`). The model's words are nonsense at this size,
//! so these tests check protocol, shape and behaviour: the structured format
//! this server accepts, fallbacks and their recorded reasons, the breaker
//! across a server's death and return, the deadline and request slots, and
//! a conversation's turn carried end to end with remote decisions on its
//! events.
//!
//! Ignored unless run with `--ignored`, which `./dev test --llama` does after
//! installing the server (a ~12 minute build from source); skipped with a
//! `SKIPPED:` line when the server is not configured.

mod agents_support;
#[path = "remote_llama/server.rs"]
mod server;

use std::time::{Duration, Instant};

use server::{LlamaServer, MODEL, configured};
use switchboard_engine::event::catalog::{
    Classified, Drafted, Entities, Intent, ModelUsage, Passage, Retrieved, Sentiment,
};
use switchboard_engine::event::{CustomerTier, EventData, StoredEvent};
use switchboard_engine::workflow::Agent;
use switchboard_tests::events::{customer_message, key};
use switchboard_tests::{TestServer, eventually};
use switchboard_workers::agents::{Agents, AgentsConfig};
use switchboard_workers::models::LocalClassifier;
use switchboard_workers::remote::{
    BreakerState, Classify, DraftRequest, Endpoint, Fallback, PriceTable, RemoteClassifier,
    RemoteConfig, RemoteError, RemoteErrorKind, RemoteModel, RemoteResponder, RemoteScreener,
    RemoteValidator, ValidateRequest,
};
use switchboard_workers::runtime::WorkerOptions;
use tokio::sync::watch;

/// One server at a time: two llama servers on two cores would time each
/// other out.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn config(server: &LlamaServer) -> RemoteConfig {
    let mut config = RemoteConfig::new(Endpoint::OpenAiCompatible {
        base_url: server.base_url(),
        model: MODEL.into(),
        api_key: None,
    });
    // Generous: a cold 700-token prompt on a busy two-core machine can take
    // a minute. The deadline itself is tested with a short one below.
    config.deadline = Duration::from_secs(300);
    config.timeout = Duration::from_secs(300);
    config.concurrency = 1;
    config.max_tokens = 400;
    config.prices = PriceTable::empty()
        .parse("smollm2=0.0001/0.0002")
        .expect("valid prices");
    config
}

/// The server answered and its answer followed the schema: either it was
/// used, or it was refused for what it said (an invented entity, an
/// ungrounded draft) or cut off at `max_tokens` (a 135M model sometimes
/// repeats itself inside a string), never for being malformed JSON or off
/// the schema. Returns whether the answer decoded.
fn assert_shaped<T: std::fmt::Debug>(what: &str, result: &Result<T, RemoteError>) -> bool {
    let Err(e) = result else { return true };
    let reason = e.reason();
    assert!(
        e.spent().is_some(),
        "{what}: the server did not answer: {reason}"
    );
    for malformed in ["not JSON", "does not match the schema"] {
        assert!(!reason.contains(malformed), "{what}: {reason}");
    }
    !reason.contains("truncated")
}

fn retrieved() -> Retrieved {
    Retrieved {
        query: "order status".into(),
        passages: vec![Passage {
            source_id: "kb-shipping".into(),
            text: "Orders ship within 2 business days; tracking is e-mailed.".into(),
            score: 3.0,
            language: None,
        }],
        records: vec![],
    }
}

fn classified() -> Classified {
    Classified {
        intent: Intent::OrderStatus,
        confidence: 0.9,
        sentiment: Sentiment::Neutral,
        entities: Entities::default(),
        signals: vec![],
        model: None,
    }
}

#[tokio::test]
#[ignore = "needs the llama-cpp-python server (./dev test --llama)"]
async fn every_capability_is_answered_in_json_object_with_schema_and_the_classification_decodes() {
    let Some(installed) = configured("every_capability_is_answered_in_json_object_with_schema")
    else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let server = LlamaServer::start(installed).await;
    let model = RemoteModel::new(config(&server)).expect("valid config");
    let text = "Where is my order 10234? It has not arrived.";

    let classify = RemoteClassifier::new(model.clone()).classify(text).await;
    assert!(
        assert_shaped("classify", &classify),
        "the classification decoded"
    );
    assert_eq!(
        model.response_format(),
        "json_object+schema",
        "llama-cpp-python refuses json_schema with a 500 and constrains decoding to a schema beside json_object"
    );
    let screen = RemoteScreener::new(model.clone()).screen(text).await;
    let _ = assert_shaped("screen", &screen);

    let (retrieved, classified) = (retrieved(), classified());
    let request = DraftRequest {
        customer_text: text,
        customer_id: "persona_001",
        language: "en",
        classified: &classified,
        retrieved: &retrieved,
        attempt: 1,
        feedback: &[],
    };
    let draft = RemoteResponder::new(model.clone()).draft(&request).await;
    let _ = assert_shaped("draft", &draft);

    let drafted = Drafted {
        text: "Orders ship within 2 business days.".into(),
        sources: vec!["kb-shipping".into()],
        attempt: 1,
        model: ModelUsage::local("test"),
    };
    let validate = RemoteValidator::new(model.clone())
        .validate(&ValidateRequest {
            draft: &drafted,
            received_text: text,
            screened_text: text,
            retrieved: Some(&retrieved),
        })
        .await;
    let _ = assert_shaped("validate", &validate);
    if let Ok(event) = &classify {
        let usage = event
            .model
            .as_ref()
            .expect("remote events record their model");
        assert!(
            usage.prompt_tokens.is_some() && usage.latency_ms.is_some(),
            "{usage:?}"
        );
        assert!(usage.cost_usd.is_some(), "smollm2 is priced in this test");
    }
}

#[tokio::test]
#[ignore = "needs the llama-cpp-python server (./dev test --llama)"]
async fn a_refused_answer_falls_back_with_its_reason_and_its_cost_on_the_event() {
    let Some(installed) = configured("a_refused_answer_falls_back_with_its_reason") else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let server = LlamaServer::start(installed).await;
    let mut config = config(&server);
    config.max_tokens = 6; // no classification fits in six tokens
    let remote = RemoteClassifier::new(RemoteModel::new(config).expect("valid config"));
    let fallback = Fallback::new(remote, LocalClassifier::builtin());
    let event = fallback.classify("Where is my order 10234?").await;
    let usage = event.model.expect("the fallback records its model");
    assert_eq!(
        usage.fallback.as_deref(),
        Some("bad response: output truncated (max_tokens)")
    );
    assert!(
        usage.model.ends_with("(fallback: bad response)"),
        "{}",
        usage.model
    );
    assert_eq!(
        usage.completion_tokens,
        Some(6),
        "the refused answer was paid for"
    );
    assert!(usage.cost_usd.is_some_and(|c| c > 0.0), "{usage:?}");
    assert_eq!(event.intent, Intent::OrderStatus, "the local model decided");
}

#[tokio::test]
#[ignore = "needs the llama-cpp-python server (./dev test --llama)"]
async fn the_breaker_opens_when_the_server_dies_and_closes_when_it_returns() {
    let Some(installed) = configured("the_breaker_opens_when_the_server_dies") else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let mut server = LlamaServer::start(installed).await;
    let mut config = config(&server);
    config.max_retries = 0;
    config.breaker.failure_threshold = 2;
    config.breaker.cool_down = Duration::from_millis(500);
    let model = RemoteModel::new(config).expect("valid config");
    let classifier = RemoteClassifier::new(model.clone());
    let _ = assert_shaped("before", &classifier.classify("Where is my order?").await);

    server.kill();
    // The first call may meet a pooled connection the dead server left
    // behind ("connection closed"); a new one is refused.
    let mut reasons = Vec::new();
    for _ in 0..2 {
        let err = classifier.classify("hi").await.expect_err("server is gone");
        assert_eq!(err.kind(), RemoteErrorKind::Unavailable, "{err}");
        reasons.push(err.reason());
    }
    assert!(
        reasons
            .iter()
            .any(|r| r == "unavailable: connection refused"),
        "{reasons:?}"
    );
    assert_eq!(model.breaker_state(), BreakerState::Open);
    let started = Instant::now();
    let err = classifier.classify("hi").await.expect_err("circuit open");
    assert_eq!(err.kind(), RemoteErrorKind::CircuitOpen);
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "open fails fast"
    );

    server.restart().await;
    let restarted = Instant::now();
    let closing = eventually("the circuit to close", Duration::from_secs(120), || {
        let classifier = classifier.clone();
        let model = model.clone();
        async move {
            let result = classifier.classify("Where is my order?").await;
            (model.breaker_state() == BreakerState::Closed).then_some(result)
        }
    })
    .await;
    let _ = assert_shaped("the call that closed the circuit", &closing);
    println!(
        "breaker closed {} ms after the server served again",
        restarted.elapsed().as_millis()
    );
}

#[tokio::test]
#[ignore = "needs the llama-cpp-python server (./dev test --llama)"]
async fn a_step_waits_one_deadline_and_an_abandoned_request_keeps_the_server_to_itself() {
    let Some(installed) = configured("a_step_waits_one_deadline") else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let server = LlamaServer::start(installed).await;
    let mut config = config(&server);
    config.deadline = Duration::from_millis(1500);
    config.max_retries = 3;
    let model = RemoteModel::new(config).expect("valid config");
    let classifier = RemoteClassifier::new(model.clone());
    // A cold server evaluates the ~700-token prompt for several seconds.
    let started = Instant::now();
    let first = classifier.classify("Where is my order 10234?").await;
    let waited = started.elapsed();
    let err = first.expect_err("a cold prompt takes longer than 1.5 s");
    assert!(
        matches!(err, RemoteError::Timeout { attempts: 1 }),
        "{err:?}"
    );
    assert!(
        waited < Duration::from_millis(2500),
        "one deadline in total: {waited:?}"
    );
    assert_eq!(
        model.in_flight(),
        1,
        "the abandoned request is still running"
    );
    let second = classifier
        .classify("And my refund?")
        .await
        .expect_err("busy");
    assert!(matches!(second, RemoteError::Busy { .. }), "{second:?}");
    assert_eq!(
        model.in_flight(),
        1,
        "the busy server was sent nothing more"
    );
    eventually(
        "the abandoned request to end",
        Duration::from_secs(120),
        || {
            let model = model.clone();
            async move { (model.in_flight() == 0).then_some(()) }
        },
    )
    .await;
}

fn remote_agents(config: RemoteConfig) -> Agents {
    Agents::new(AgentsConfig {
        intent_model: None,
        remote: Some(config),
        remote_agents: vec![Agent::Intent, Agent::Critic, Agent::Response],
    })
    .expect("agents build")
}

/// Waits until the conversation's turn ended (an answer or a hand-off to a
/// human), then returns its events.
async fn turn_ended(
    store: &switchboard_engine::store::EventStore,
    key: &switchboard_engine::ids::ConversationKey,
    deadline: Duration,
) -> Vec<StoredEvent> {
    eventually("the turn to end", deadline, || async {
        let loaded = store.load(key).await.ok()?;
        let ended = loaded.events.iter().any(|e| {
            matches!(
                e.event.data,
                EventData::Responded(_) | EventData::Escalated(_)
            )
        });
        ended.then_some(loaded.events)
    })
    .await
}

/// The model of each decision step, in order: (event type, usage).
fn decisions(events: &[StoredEvent]) -> Vec<(&'static str, ModelUsage)> {
    events
        .iter()
        .filter_map(|e| {
            let usage = match &e.event.data {
                EventData::Screened(s) => s.model.clone(),
                EventData::Classified(c) => c.model.clone(),
                EventData::Drafted(d) => Some(d.model.clone()),
                EventData::Validated(v) => v.model.clone(),
                _ => None,
            }?;
            Some((e.event.event_type().as_str(), usage))
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs the llama-cpp-python server (./dev test --llama)"]
async fn a_conversation_ends_its_turn_through_nats_with_remote_decisions_on_its_events() {
    let Some(installed) = configured("a_conversation_ends_its_turn_through_nats") else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let llama = LlamaServer::start(installed).await;
    let nats = TestServer::start();
    let store = nats.store().await;
    let (stop, shutdown) = watch::channel(false);
    // A loaded two-core machine can take minutes per call at this size.
    let mut config = config(&llama);
    config.deadline = Duration::from_secs(300);
    config.timeout = Duration::from_secs(300);
    config.max_tokens = 250;
    let team = remote_agents(config).spawn_team(&store, &WorkerOptions::default(), &shutdown);

    let key = key("brewvi/llama-e2e");
    let message = customer_message(
        &key,
        "persona_001",
        CustomerTier::Standard,
        "Where is my order 10234?",
    );
    agents_support::publish(&store, message).await;
    let events = turn_ended(&store, &key, Duration::from_secs(1200)).await;
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), team).await;

    let decided = decisions(&events);
    for (step, usage) in &decided {
        println!(
            "{step:<10} {:<45} fallback={:?} latency_ms={:?} tokens={:?}+{:?} cost={:?}",
            usage.model,
            usage.fallback,
            usage.latency_ms,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.cost_usd
        );
        let remote = usage.model.starts_with(MODEL) && usage.fallback.is_none();
        assert!(
            remote || usage.fallback.is_some(),
            "{step}: every decision is the remote model's or says why not: {usage:?}"
        );
    }
    let screened = decided
        .iter()
        .find(|(step, _)| *step == "screened")
        .expect("the message was screened");
    assert!(
        screened.1.model.starts_with(MODEL) && screened.1.fallback.is_none(),
        "the remote critic screened the message: {:?}",
        screened.1
    );
}

/// Per step: remote decisions, fallbacks by reason, remote latencies.
#[derive(Default, Debug)]
struct StepTally {
    remote: usize,
    fallbacks: std::collections::BTreeMap<String, usize>,
    latencies_ms: Vec<u64>,
}

fn tally(all: &[Vec<StoredEvent>]) -> std::collections::BTreeMap<&'static str, StepTally> {
    let mut steps: std::collections::BTreeMap<&'static str, StepTally> = Default::default();
    for events in all {
        for (step, usage) in decisions(events) {
            let t = steps.entry(step).or_default();
            match &usage.fallback {
                None if usage.model.starts_with(MODEL) => {
                    t.remote += 1;
                    t.latencies_ms.extend(usage.latency_ms);
                }
                None => *t.fallbacks.entry("no remote path".into()).or_default() += 1,
                Some(reason) => {
                    let kind = reason.split(':').next().unwrap_or(reason).to_owned();
                    *t.fallbacks.entry(kind).or_default() += 1;
                }
            }
        }
    }
    steps
}

fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    let rank = ((p * sorted.len() as f64).ceil() as usize).max(1);
    sorted.get(rank - 1).copied()
}

/// The closing note's run: 50 messages scheduled 3 s apart against the
/// real server with the shipped defaults (20 s deadline, one slot), the
/// server killed at message 20 and restarted at message 30. Prints, per
/// step, remote decisions against fallbacks by reason and the remote
/// latency. Runs only with SWITCHBOARD_LLAMA_REPORT=1 (about 10 minutes).
#[tokio::test]
#[ignore = "needs the llama-cpp-python server (./dev test --llama)"]
async fn fifty_messages_with_a_server_loss_report() {
    if std::env::var("SWITCHBOARD_LLAMA_REPORT").is_err() {
        println!(
            "SKIPPED: fifty_messages_with_a_server_loss_report: set SWITCHBOARD_LLAMA_REPORT=1"
        );
        return;
    }
    let Some(installed) = configured("fifty_messages_with_a_server_loss_report") else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let mut llama = LlamaServer::start(installed).await;
    let nats = TestServer::start();
    let store = nats.store().await;
    let (stop, shutdown) = watch::channel(false);
    let mut config = config(&llama);
    config.deadline = Duration::from_secs(20);
    config.timeout = Duration::from_secs(60);
    let team = remote_agents(config).spawn_team(&store, &WorkerOptions::default(), &shutdown);
    const TEXTS: [&str; 5] = [
        "Where is my order 10234?",
        "How long do refunds take?",
        "Do you ship to Canada?",
        "My grinder arrived broken, I want a replacement.",
        "Can I change the address on my order?",
    ];
    let started = tokio::time::Instant::now();
    let mut keys = Vec::new();
    for i in 0..50u32 {
        tokio::time::sleep_until(started + Duration::from_secs(3) * i).await;
        match i {
            20 => llama.kill(),
            30 => llama.restart().await,
            _ => {}
        }
        let key = key(&format!("brewvi/report-{i}"));
        let text = TEXTS[i as usize % TEXTS.len()];
        agents_support::publish(
            &store,
            customer_message(&key, "persona_001", CustomerTier::Standard, text),
        )
        .await;
        keys.push(key);
    }
    let mut all = Vec::new();
    for key in &keys {
        let events = turn_ended(&store, key, Duration::from_secs(900)).await;
        agents_support::assert_no_duplicates(key, &events);
        all.push(events);
    }
    println!(
        "all 50 ended {} s after the first was sent",
        started.elapsed().as_secs()
    );
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(60), team).await;
    let phase = |range: std::ops::Range<usize>| tally(&all[range]);
    for (name, steps) in [
        ("all 50", phase(0..50)),
        ("before the kill (0-19)", phase(0..20)),
        ("server down (20-29)", phase(20..30)),
        ("after the restart (30-49)", phase(30..50)),
    ] {
        println!("{name}:");
        for (step, t) in &steps {
            let mut l = t.latencies_ms.clone();
            l.sort_unstable();
            println!(
                "  {step:<10} remote {:>2}  fallbacks {:?}  remote latency p50 {:?} ms p95 {:?} ms",
                t.remote,
                t.fallbacks,
                percentile(&l, 0.5),
                percentile(&l, 0.95)
            );
        }
    }
    let down = phase(20..30);
    assert!(
        down.values().all(|t| t.remote == 0
            || t.fallbacks.contains_key("unavailable")
            || t.fallbacks.contains_key("circuit open")),
        "messages sent while the server was down fell back: {down:?}"
    );
    let after = phase(30..50);
    assert!(
        after.values().any(|t| t.remote > 0),
        "the remote model decided again after the restart: {after:?}"
    );
}
