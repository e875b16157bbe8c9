//! The `switchboard` binary end to end against a real nats-server: what an
//! operator types, and what it prints.

use std::process::Output;

use switchboard_tests::{TestServer, cli, run_command, text};

fn switchboard(url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    run_command(cli(env!("CARGO_BIN_EXE_switchboard"), url, args), stdin)
}

#[test]
fn streams_apply_reports_what_changed() {
    let server = TestServer::start();
    let first = switchboard(&server.url(), &["streams", "apply"], None);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("CONVERSATIONS: created"),
        "{}",
        text(&first.stdout)
    );
    let again = switchboard(&server.url(), &["streams", "apply"], None);
    assert!(
        text(&again.stdout).contains("CONVERSATIONS: unchanged"),
        "{}",
        text(&again.stdout)
    );
    let grown = switchboard(
        &server.url(),
        &["streams", "apply", "--replicas", "1"],
        None,
    );
    assert!(grown.status.success());
}

#[test]
fn publish_then_replay_shows_the_timeline() {
    let server = TestServer::start();
    assert!(
        switchboard(&server.url(), &["streams", "apply"], None)
            .status
            .success()
    );
    let one = switchboard(
        &server.url(),
        &[
            "publish",
            "brewvi/c1",
            "--text",
            "Where is my order #1001?",
            "--tier",
            "vip",
        ],
        None,
    );
    assert!(one.status.success(), "{}", text(&one.stderr));
    let lines = "{\"conversation\":\"brewvi/c1\",\"text\":\"second\"}\n\n{\"conversation\":\"brewvi/c2\",\"text\":\"other\",\"channel\":\"email\"}\n";
    let many = switchboard(&server.url(), &["publish"], Some(lines));
    assert!(many.status.success(), "{}", text(&many.stderr));
    assert_eq!(text(&many.stdout).lines().count(), 2);

    let timeline = switchboard(&server.url(), &["replay", "brewvi/c1"], None);
    let out = text(&timeline.stdout);
    assert!(out.starts_with("brewvi/c1: 2 events"), "{out}");
    assert!(
        out.contains("Where is my order") && out.contains("Vip"),
        "{out}"
    );
    assert!(out.contains("next step: screen (critic)"), "{out}");

    let json = switchboard(&server.url(), &["replay", "brewvi/c1", "--json"], None);
    let events: Vec<serde_json::Value> = text(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["type"], "received");
    assert_eq!(events[1]["data"]["text"], "second");
    let first_seq = events[0]["seq"].as_u64().expect("seq");
    let until = switchboard(
        &server.url(),
        &[
            "replay",
            "brewvi/c1",
            "--json",
            "--until-seq",
            &first_seq.to_string(),
        ],
        None,
    );
    assert_eq!(text(&until.stdout).lines().count(), 1);
}

#[test]
fn a_bad_line_publishes_nothing_and_names_the_line() {
    let server = TestServer::start();
    assert!(
        switchboard(&server.url(), &["streams", "apply"], None)
            .status
            .success()
    );
    let lines = concat!(
        "{\"conversation\":\"brewvi/ok\",\"text\":\"fine\"}\n",
        "{\"conversation\":\"brewvi/bad.id\",\"text\":\"nope\"}\n",
        "{\"conversation\":\"brewvi/ok\",\"text\":\"x\",\"surprise\":1}\n",
        "not json\n",
    );
    let out = switchboard(&server.url(), &["publish"], Some(lines));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("nothing published"), "{err}");
    assert!(err.contains("line 2") && err.contains("'.'"), "{err}");
    assert!(err.contains("line 3") && err.contains("surprise"), "{err}");
    assert!(err.contains("line 4"), "{err}");
    let replay = switchboard(&server.url(), &["replay", "brewvi/ok"], None);
    assert!(
        text(&replay.stdout).starts_with("brewvi/ok: 0 events"),
        "{}",
        text(&replay.stdout)
    );
}

#[test]
fn invalid_ids_and_unreachable_servers_get_clear_errors() {
    // Nothing listens on port 1: the id is refused before any connection attempt.
    let bad_id = switchboard(
        "nats://127.0.0.1:1",
        &["publish", "acme/a*b", "--text", "hi"],
        None,
    );
    assert!(!bad_id.status.success());
    let err = text(&bad_id.stderr);
    assert!(
        err.contains("contains '*'") && !err.contains("cannot connect"),
        "{err}"
    );
    let down = switchboard("nats://127.0.0.1:1", &["replay", "acme/c1"], None);
    assert!(!down.status.success());
    let err = text(&down.stderr);
    assert!(
        err.contains("cannot connect to NATS") && err.contains("switchboard up"),
        "{err}"
    );
}

#[test]
fn an_address_without_a_slash_is_named_as_such() {
    // Refused before any connection attempt, so no server is needed.
    let out = switchboard(
        "nats://127.0.0.1:1",
        &["publish", "x", "--text", "hi"],
        None,
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("\"x\" has no '/'") && err.contains("tenant/conversation"),
        "{err}"
    );
    assert!(!err.contains("contains '/'"), "{err}");
}

/// The event ids `replay --json` shows for `address`.
fn stored_ids(url: &str, address: &str) -> Vec<String> {
    let json = switchboard(url, &["replay", address, "--json"], None);
    text(&json.stdout)
        .lines()
        .map(|l| {
            let event: serde_json::Value = serde_json::from_str(l).expect("each line is JSON");
            event["id"].as_str().expect("an id").to_owned()
        })
        .collect()
}

#[test]
fn a_repeated_message_is_reported_with_the_event_that_holds_it() {
    let server = TestServer::start();
    let url = server.url();
    assert!(
        switchboard(&url, &["streams", "apply"], None)
            .status
            .success()
    );
    // The same channel message twice on stdin, and a third time later by
    // argument; and the same message id in another tenant's conversation.
    let lines = concat!(
        "{\"conversation\":\"brewvi/d1\",\"text\":\"hi\",\"message_id\":\"m-1\"}\n",
        "{\"conversation\":\"brewvi/d1\",\"text\":\"hi\",\"message_id\":\"m-1\"}\n",
        "{\"conversation\":\"acme/d1\",\"text\":\"hi\",\"message_id\":\"m-1\"}\n",
    );
    let out = switchboard(&url, &["publish"], Some(lines));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let printed: Vec<&str> = printed.lines().collect();
    assert_eq!(printed.len(), 3, "{printed:?}");
    let stored = stored_ids(&url, "brewvi/d1");
    assert_eq!(stored.len(), 1, "stored once");
    let fields = |line: &str| {
        let f: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        f
    };
    let (first, second) = (fields(printed[0]), fields(printed[1]));
    assert_eq!(first[1], stored[0], "the stored event's id is printed");
    assert!(!printed[0].contains("duplicate"), "{}", printed[0]);
    assert_eq!(
        second[1], stored[0],
        "the repeat names the stored event: {}",
        printed[1]
    );
    assert_eq!(second[3], first[3], "and its sequence");
    assert!(printed[1].contains("duplicate"), "{}", printed[1]);
    // The other tenant's message with the same id is its own, stored.
    let other = stored_ids(&url, "acme/d1");
    assert_eq!(other.len(), 1);
    assert_eq!(fields(printed[2])[1], other[0]);
    assert!(!printed[2].contains("duplicate"), "{}", printed[2]);

    let again = switchboard(
        &url,
        &[
            "publish",
            "brewvi/d1",
            "--text",
            "hi",
            "--message-id",
            "m-1",
        ],
        None,
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    let line = text(&again.stdout);
    assert_eq!(fields(&line)[1], stored[0], "{line}");
    assert!(line.contains("duplicate"), "{line}");
    assert_eq!(stored_ids(&url, "brewvi/d1").len(), 1);
}

/// The binary with a personal-data master key and its own data directory.
fn sealed(url: &str, dir: &std::path::Path, args: &[&str]) -> Output {
    let mut command = cli(env!("CARGO_BIN_EXE_switchboard"), url, args);
    command
        .env("SWITCHBOARD_PRIVACY_KEY", "11".repeat(32))
        .env("SWITCHBOARD_DATA_DIR", dir);
    run_command(command, None)
}

#[test]
fn export_then_erase_a_customer_from_the_command_line() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = server.url();
    let secret = "My card 4111 1111 1111 1111 was charged twice";
    let applied = sealed(&url, dir.path(), &["streams", "apply"]);
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    for (address, customer) in [("brewvi/e1", "zelda"), ("brewvi/e2", "link")] {
        let published = sealed(
            &url,
            dir.path(),
            &["publish", address, "--customer", customer, "--text", secret],
        );
        assert!(published.status.success(), "{}", text(&published.stderr));
    }
    let out = dir.path().join("zelda.json");
    let out_arg = out.display().to_string();
    let export = sealed(
        &url,
        dir.path(),
        &["export", "customer", "brewvi/zelda", "--out", &out_arg],
    );
    assert!(export.status.success(), "{}", text(&export.stderr));
    let exported = std::fs::read_to_string(&out).expect("the export was written");
    assert!(
        exported.contains(secret) && exported.contains("brewvi/e1"),
        "{exported}"
    );
    assert!(!exported.contains("brewvi/e2"), "only zelda's: {exported}");

    let erase = sealed(&url, dir.path(), &["erase", "customer", "brewvi/zelda"]);
    assert!(erase.status.success(), "{}", text(&erase.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&erase.stdout).expect("the report is JSON");
    assert_eq!(report["conversations"], serde_json::json!(["brewvi/e1"]));
    let replay = sealed(&url, dir.path(), &["replay", "brewvi/e1"]);
    let shown = text(&replay.stdout);
    assert!(
        !shown.contains(secret) && shown.contains("[erased]"),
        "{shown}"
    );
    let kept = sealed(&url, dir.path(), &["replay", "brewvi/e2"]);
    assert!(text(&kept.stdout).contains(secret), "link keeps their text");

    // Quiet and specific on bad input, and without a key.
    let bad = sealed(&url, dir.path(), &["erase", "customer", "no-slash"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("<tenant>/<customer>"),
        "{}",
        text(&bad.stderr)
    );
    let mut keyless = cli(
        env!("CARGO_BIN_EXE_switchboard"),
        &url,
        &["erase", "customer", "brewvi/zelda"],
    );
    keyless
        .env_remove("SWITCHBOARD_PRIVACY_KEY")
        .env("SWITCHBOARD_DATA_DIR", dir.path().join("empty"));
    let keyless = run_command(keyless, None);
    assert!(!keyless.status.success());
    assert!(
        text(&keyless.stderr).contains("no personal-data master key"),
        "{}",
        text(&keyless.stderr)
    );
}
