//! `switchboard query`, `projections` and `bench projections` end to end
//! against a real nats-server and a temporary SQLite file.

use std::path::Path;
use std::process::Output;

use switchboard_tests::{TestServer, cli, run_command, text};

fn switchboard(url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = cli(env!("CARGO_BIN_EXE_switchboard"), url, args);
    // A developer's Cosmos DB settings must not redirect the tests.
    command.env_remove("COSMOS_ENDPOINT");
    run_command(command, stdin)
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

#[test]
fn rebuild_then_query_conversations() {
    let server = TestServer::start();
    let url = server.url();
    let dir = tempfile::tempdir().expect("a temporary directory can be created");
    let db = dir.path().join("projections.sqlite");
    ok(switchboard(&url, &["streams", "apply"], None));
    let lines = concat!(
        "{\"conversation\":\"brewvi/c1\",\"text\":\"Where is my order #1001?\"}\n",
        "{\"conversation\":\"brewvi/c2\",\"text\":\"Refund please\",\"channel\":\"email\"}\n",
        "{\"conversation\":\"other/c9\",\"text\":\"not this tenant\"}\n",
    );
    ok(switchboard(&url, &["publish"], Some(lines)));

    let rebuilt = ok(switchboard(
        &url,
        &["projections", "rebuild", "--db", path(&db)],
        None,
    ));
    assert!(rebuilt.contains("rebuilt: 3 events"), "{rebuilt}");
    assert!(rebuilt.contains("events/s"), "{rebuilt}");

    let json = ok(switchboard(
        &url,
        &[
            "query",
            "conversations",
            "--tenant",
            "brewvi",
            "--db",
            path(&db),
            "--json",
        ],
        None,
    ));
    let result: serde_json::Value = serde_json::from_str(&json).expect("the output is JSON");
    assert_eq!(result["result"], "conversations", "{json}");
    let mut ids: Vec<&str> = result["data"]
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|c| c["conversationId"].as_str().expect("an id"))
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["c1", "c2"], "{json}");

    let email = ok(switchboard(
        &url,
        &[
            "query",
            "conversations",
            "--tenant",
            "brewvi",
            "--channel",
            "email",
            "--db",
            path(&db),
        ],
        None,
    ));
    assert!(email.contains("c2") && !email.contains("c1"), "{email}");

    let status = ok(switchboard(
        &url,
        &["projections", "status", "--db", path(&db), "--json"],
        None,
    ));
    let status: serde_json::Value = serde_json::from_str(&status).expect("the output is JSON");
    assert_eq!(status["stream_last_seq"], 3);
    for p in status["projections"].as_array().expect("a list") {
        assert_eq!(p["lag"], 0, "{p}");
    }
}

#[test]
fn bad_days_names_and_missing_databases_get_clear_errors() {
    let dir = tempfile::tempdir().expect("a temporary directory can be created");
    let db = dir.path().join("absent.sqlite");
    // No server is needed: every mistake is caught before any I/O.
    let url = "nats://127.0.0.1:1";
    let bad_day = switchboard(
        url,
        &[
            "query",
            "volume-per-day",
            "--tenant",
            "brewvi",
            "--from",
            "03/01/2026",
            "--db",
            path(&db),
        ],
        None,
    );
    assert!(!bad_day.status.success());
    let err = text(&bad_day.stderr);
    assert!(
        err.contains("--from") && err.contains("YYYY-MM-DD"),
        "{err}"
    );

    let bad_name = switchboard(url, &["query", "happiness", "--tenant", "brewvi"], None);
    assert!(!bad_name.status.success());
    let err = text(&bad_name.stderr);
    assert!(
        err.contains("intent-distribution") && err.contains("escalation-queue"),
        "{err}"
    );

    let missing = switchboard(
        url,
        &[
            "query",
            "escalation-rate",
            "--tenant",
            "brewvi",
            "--db",
            path(&db),
        ],
        None,
    );
    assert!(!missing.status.success());
    let err = text(&missing.stderr);
    assert!(err.contains("switchboard up"), "{err}");
    assert!(!db.exists(), "a query must not create the database");
}

#[test]
fn bench_projections_prints_the_three_figures() {
    // The benchmark starts its own managed server: the harness's URL is unused.
    let json = ok(switchboard(
        "nats://127.0.0.1:1",
        &["bench", "projections", "--events", "2000", "--json"],
        None,
    ));
    let report: serde_json::Value = serde_json::from_str(&json).expect("the output is JSON");
    for key in ["rebuild_per_s", "baseline_per_s", "ratio"] {
        assert!(
            report[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {json}"
        );
    }
}
