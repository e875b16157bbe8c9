//! Counterfactual replay against a real nats-server: conversations answered
//! by the shipped agents, then re-decided by the same model (nothing
//! changes) and by a model trained on different labels (the changed
//! classifications are reported, per intent), with nothing written.

mod agents_support;

use agents_support::{Running, options, say, settled};
use switchboard_engine::event::Intent;
use switchboard_engine::ids::Tenant;
use switchboard_engine::workflow::Agent;
use switchboard_tests::TestServer;
use switchboard_workers::agents::Agents;
use switchboard_workers::counterfactual::{self, Report};
use switchboard_workers::models::intent::train;

#[tokio::test]
async fn a_model_trained_on_other_labels_reports_the_decisions_it_would_change() {
    let server = TestServer::start();
    let store = server.store().await;
    let running = Running::all(&store, &options());
    let order = say(
        &store,
        "brewvi/cf-order",
        "Where is my order 10234? It has not arrived",
    )
    .await;
    let refund = say(
        &store,
        "brewvi/cf-refund",
        "When will I get my refund for the return?",
    )
    .await;
    settled(&store, &order).await;
    settled(&store, &refund).await;
    running.shutdown().await;

    let tenant = Tenant::new("brewvi").expect("valid");
    let keys = counterfactual::conversations(&store, &tenant)
        .await
        .expect("listed");
    assert_eq!(keys, [order.clone(), refund.clone()]);
    let version_before = store.load(&order).await.expect("loads").version;

    let compare = |agents: Agents| {
        let store = store.clone();
        let keys = keys.clone();
        async move {
            let team = agents.team();
            let mut report = Report::default();
            for key in &keys {
                let loaded = store.load(key).await.expect("loads");
                report.add(&team, Agent::Intent, &loaded).await;
            }
            report
        }
    };
    let same = compare(Agents::builtin().expect("builtin")).await;
    assert_eq!(same.decisions, 2, "{same:?}");
    assert!(
        same.differences.is_empty(),
        "the shipped model decides as recorded: {same:?}"
    );

    // A model that knows one label only: every order question becomes a
    // shipping estimate.
    let rows: Vec<(String, Intent)> = [
        "where is my order",
        "my order has not arrived",
        "when will I get my refund",
        "how long does shipping take",
    ]
    .iter()
    .map(|t| (t.to_string(), Intent::ShippingEstimate))
    .collect();
    let other = compare(Agents::with_intent_model(train(&rows)).expect("builds")).await;
    assert_eq!(other.decisions, 2);
    assert_eq!(other.differences.len(), 2, "{other:?}");
    assert!(
        other
            .differences
            .iter()
            .all(|d| d.now == "ShippingEstimate")
    );
    let tally = other
        .by_intent
        .get("OrderStatus")
        .expect("the recorded order-status decision is tallied");
    assert_eq!((tally.changed, tally.unchanged), (1, 0));
    assert_eq!(
        store.load(&order).await.expect("loads").version,
        version_before,
        "nothing was written"
    );
}

/// `switchboard replay ...` against `server`, its output.
fn replay(server: &TestServer, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command =
        switchboard_tests::cli(env!("CARGO_BIN_EXE_switchboard"), &server.url(), args);
    command.env("SWITCHBOARD_DATA_DIR", dir.path());
    switchboard_tests::run_command(command, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_with_an_agent_from_the_command_line_reports_and_writes_nothing() {
    let server = TestServer::start();
    let store = server.store().await;
    let running = Running::all(&store, &options());
    let key = say(
        &store,
        "brewvi/cf-cli",
        "Where is my order 10234? It has not arrived",
    )
    .await;
    settled(&store, &key).await;
    running.shutdown().await;
    let version = store.load(&key).await.expect("loads").version;
    let text = switchboard_tests::text;

    // The shipped model re-decides as recorded.
    let same = replay(
        &server,
        &["replay", "brewvi/cf-cli", "--with", "intent", "--json"],
    );
    assert!(same.status.success(), "{}", text(&same.stderr));
    let report: serde_json::Value = serde_json::from_slice(&same.stdout).expect("JSON");
    assert_eq!(
        (
            report["conversations"].as_u64(),
            report["decisions"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(report["differences"], serde_json::json!([]), "{report}");

    // A model trained on one label, from a file: the change is reported.
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("one-label.json");
    let rows: Vec<(String, Intent)> = ["where is my order", "my order has not arrived"]
        .iter()
        .map(|t| (t.to_string(), Intent::ShippingEstimate))
        .collect();
    train(&rows).save(&model).expect("saves");
    let model_arg = model.display().to_string();
    let args = [
        "replay",
        "--with",
        "intent",
        "--tenant",
        "brewvi",
        "--intent-model",
        &model_arg,
    ];
    let other = replay(&server, &args);
    assert!(other.status.success(), "{}", text(&other.stderr));
    let shown = text(&other.stdout);
    assert!(shown.contains("1 decisions, 1 would change"), "{shown}");
    assert!(
        shown.contains("brewvi/cf-cli") && shown.contains("ShippingEstimate"),
        "{shown}"
    );
    assert!(
        text(&other.stderr).trim().is_empty(),
        "quiet: {}",
        text(&other.stderr)
    );
    assert_eq!(
        store.load(&key).await.expect("loads").version,
        version,
        "nothing written"
    );

    // Clear errors, nothing written.
    let missing = replay(
        &server,
        &[
            "replay",
            "brewvi/cf-cli",
            "--with",
            "intent",
            "--intent-model",
            "/nonexistent/model.json",
        ],
    );
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("/nonexistent/model.json"),
        "{}",
        text(&missing.stderr)
    );
    let neither = replay(&server, &["replay", "--with", "intent"]);
    assert!(!neither.status.success());
    assert!(
        text(&neither.stderr).contains("--tenant"),
        "{}",
        text(&neither.stderr)
    );
}
