//! Health and metrics of real processes: a `worker` is ready once its
//! consumer is bound and caught up and not ready while its nats-server is
//! down; `/metrics` carries the step metrics once a conversation is
//! answered; the projector and the gateway serve readiness and metrics on
//! their own address; `switchboard health` exits 0 against a ready process
//! and 1, with one line on stderr, against a closed port.

use std::process::Stdio;
use std::time::Duration;

use switchboard_tests::Running as Process;
use switchboard_tests::{
    TestServer, cli, eventually, free_port, http_get as get, run_command, text,
};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");
const DEADLINE: Duration = Duration::from_secs(60);

/// Waits until `path` on `port` answers `status`; returns the body.
async fn answers(port: u16, path: &str, status: u16, what: &str) -> String {
    eventually(what, DEADLINE, || async {
        get(port, path).and_then(|(s, body)| (s == status).then_some(body))
    })
    .await
}

/// The binary started in the background on `url`, serving operations on `port`.
fn start(url: &str, port: u16, args: &[&str]) -> Process {
    let mut command = cli(BINARY, url, args);
    command
        .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Process(command.spawn().expect("switchboard starts"))
}

fn switchboard(url: &str, args: &[&str]) -> std::process::Output {
    run_command(cli(BINARY, url, args), None)
}

/// A server with the streams applied and `args` (a worker) running on it,
/// ready; and the worker's operations port.
async fn ready_worker(args: &[&str]) -> (TestServer, u16, Process) {
    let server = TestServer::start();
    let url = server.url();
    assert!(switchboard(&url, &["streams", "apply"]).status.success());
    let port = free_port();
    let worker = start(&url, port, args);
    answers(port, "/readyz", 200, "the worker ready").await;
    (server, port, worker)
}

#[tokio::test]
async fn a_worker_is_ready_once_bound_not_ready_while_nats_is_down_and_ready_again_after() {
    let mut server = TestServer::start();
    let url = server.url();
    assert!(switchboard(&url, &["streams", "apply"]).status.success());
    let port = free_port();
    let _worker = start(&url, port, &["worker", "intent"]);
    let ready = answers(port, "/readyz", 200, "the worker ready").await;
    assert!(ready.contains("\"ready\":true"), "{ready}");
    assert!(get(port, "/healthz").is_some_and(|(s, _)| s == 200));

    server.kill();
    let down = answers(port, "/readyz", 503, "the worker not ready").await;
    assert!(down.contains("\"ready\":false"), "{down}");
    assert!(down.contains("NATS connection nats is"), "{down}");
    // Alive all the same: a supervisor must not kill it for a broker outage.
    assert!(get(port, "/healthz").is_some_and(|(s, _)| s == 200));

    server.restart();
    answers(port, "/readyz", 200, "the worker ready after the restart").await;
}

#[tokio::test]
async fn metrics_carry_steps_events_and_consumer_pending_once_a_conversation_is_answered() {
    let (server, port, _worker) = ready_worker(&["worker", "all"]).await;
    let url = server.url();
    let published = switchboard(
        &url,
        &[
            "publish",
            "brewvi/ops1",
            "--text",
            "Where is my order 10234?",
        ],
    );
    assert!(published.status.success(), "{}", text(&published.stderr));
    let metrics = eventually("the answer's step metrics", DEADLINE, || async {
        get(port, "/metrics").and_then(|(_, body)| {
            body.contains("switchboard_events_appended_total{type=\"responded\"")
                .then_some(body)
        })
    })
    .await;
    for expected in [
        "switchboard_step_seconds_bucket{step=\"screen\",agent=\"critic\"",
        "switchboard_step_seconds_bucket{step=\"classify\",agent=\"intent\"",
        "switchboard_step_seconds_count{step=\"validate\",agent=\"critic\"}",
        "switchboard_events_appended_total{type=\"screened\",by=\"critic\"}",
        "switchboard_events_processed_total{type=\"received\",worker=\"all\"}",
        "switchboard_consumer_pending{consumer=\"agent-all\"}",
    ] {
        assert!(metrics.contains(expected), "no {expected} in\n{metrics}");
    }
}

#[tokio::test]
async fn the_projector_and_the_gateway_serve_readiness_and_metrics_on_their_own_address() {
    let server = TestServer::start();
    let url = server.url();
    assert!(switchboard(&url, &["streams", "apply"]).status.success());
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("projections.sqlite");
    let db = db.to_str().expect("a UTF-8 path");
    let (projector_port, gateway_port) = (free_port(), free_port());
    let _projector = start(&url, projector_port, &["projector", "--db", db]);
    let _gateway = start(
        &url,
        gateway_port,
        &["gateway", "--db", db, "--gateway-addr", "127.0.0.1:0"],
    );
    let projector = answers(projector_port, "/readyz", 200, "the projector ready").await;
    assert!(
        projector.contains("\"projector\":{\"state\":\"ready\"}"),
        "{projector}"
    );
    let gateway = answers(gateway_port, "/readyz", 200, "the gateway ready").await;
    assert!(
        gateway.contains("\"projection store\":{\"state\":\"ready\"}"),
        "{gateway}"
    );
    let lag = eventually("projection lag gauges", DEADLINE, || async {
        get(projector_port, "/metrics")
            .and_then(|(_, body)| body.contains("switchboard_projection_lag{").then_some(body))
    })
    .await;
    assert!(lag.contains("projection=\"conversations\""), "{lag}");
}

#[tokio::test]
async fn health_exits_0_against_a_ready_process_and_1_with_one_line_against_a_closed_port() {
    let (server, port, _worker) = ready_worker(&["worker", "critic"]).await;
    let url = server.url();
    let base = format!("http://127.0.0.1:{port}");
    for args in [
        vec!["health", "--url", &base],
        vec!["health", "--url", &base, "--ready"],
    ] {
        let out = switchboard(&url, &args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    }

    let closed = format!("http://127.0.0.1:{}", free_port());
    let out = switchboard(&url, &["health", "--url", &closed, "--timeout", "2"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: {closed}/healthz: no answer within 2s")),
        "{stderr}"
    );
}
