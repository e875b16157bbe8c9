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
