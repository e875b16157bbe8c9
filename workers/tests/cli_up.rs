//! `switchboard up` as a user runs it: the whole system on embedded
//! defaults, a message answered and projected, Prometheus metrics served,
//! a clean stop on SIGTERM, and no nats-server left behind by a `kill -9`;
//! and `switchboard worker all` beside a
//! server of one's own, including a `kill -9` while it carries messages.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use switchboard_engine::event::{CustomerTier, EventData};
use switchboard_engine::ids::StreamSeq;
use switchboard_engine::store::{EventStore, IdempotencyKey, StoreOptions};
use switchboard_tests::Running as Up;
use switchboard_tests::events::{customer_message, key};
use switchboard_tests::{TestServer, cli, eventually, free_port, run_command, server_binary, text};

const DEADLINE: Duration = Duration::from_secs(60);

/// The body of `GET /metrics`, or `None` while nothing answers.
fn scrape(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
}

#[tokio::test]
async fn up_answers_projects_serves_metrics_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (nats_port, metrics_port) = (free_port(), free_port());
    let mut up = up(dir.path(), nats_port, metrics_port);
    eventually("the metrics endpoint", DEADLINE, || async {
        scrape(metrics_port)
    })
    .await;

    let url = format!("nats://127.0.0.1:{nats_port}");
    let published = eventually("a published message", DEADLINE, || {
        let url = url.clone();
        async move {
            let out = switchboard(
                &url,
                &["publish", "brewvi/up1", "--text", "Where is my order?"],
            );
            out.status.success().then_some(out)
        }
    })
    .await;
    assert!(text(&published.stdout).contains("brewvi/up1"));
    // The agents answered it: a `responded` with text is in the log.
    let store = EventStore::new(
        switchboard_engine::connect(&url, "cli-up-test")
            .await
            .expect("connect to the managed server"),
        StoreOptions::default(),
    );
    let answer = eventually("the answer in the log", DEADLINE, || {
        let store = store.clone();
        async move {
            let loaded = store.load(&key("brewvi/up1")).await.ok()?;
            loaded.events.iter().find_map(|e| match &e.event.data {
                EventData::Responded(r) => Some(r.text.clone()),
                _ => None,
            })
        }
    })
    .await;
    assert!(!answer.trim().is_empty(), "an empty answer");
    // The demo tenant was loaded into the tenant-data bucket on first start.
    let listed = switchboard(&url, &["kb", "list", "brewvi"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listed = text(&listed.stdout);
    assert!(
        listed.contains("policies\t") && listed.contains("faq\t"),
        "{listed}"
    );

    let metrics = eventually("projection lag in the metrics", DEADLINE, || async {
        scrape(metrics_port).filter(|body| body.contains("switchboard_projection_lag{"))
    })
    .await;
    assert!(
        metrics.contains("projection=\"conversations\""),
        "{metrics}"
    );

    stop(&mut up).await;
}

/// `switchboard up` on `data_dir` with the given ports, its output discarded.
fn up(data_dir: &std::path::Path, nats_port: u16, metrics_port: u16) -> Up {
    Up(Command::new(BINARY)
        .arg("up")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--nats-port", &nats_port.to_string()])
        .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
        .args(["--gateway-addr", "127.0.0.1:0"])
        .env("SWITCHBOARD_NATS_SERVER", server_binary().path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("switchboard up starts"))
}

/// The managed server's pid, once it wrote its pid file and takes connections.
async fn managed_server_pid(data_dir: &std::path::Path, nats_port: u16) -> u32 {
    let pid_file = data_dir.join("nats").join("nats-server.pid");
    eventually("the managed nats-server", DEADLINE, || {
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse().ok());
        let listening = TcpStream::connect(("127.0.0.1", nats_port)).is_ok();
        async move { pid.filter(|_| listening) }
    })
    .await
}

/// Whether a process runs (a zombie has exited: it holds no port or file).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(") ")?;
            rest.split_whitespace().next().map(|state| state != "Z")
        })
        .unwrap_or(false)
}

fn port_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

#[tokio::test]
async fn up_killed_with_sigkill_takes_its_nats_server_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (nats_port, metrics_port) = (free_port(), free_port());
    let mut first = up(dir.path(), nats_port, metrics_port);
    let server = managed_server_pid(dir.path(), nats_port).await;
    assert!(running(server));
    let started = std::time::Instant::now();
    first.0.kill().expect("kill -9");
    first.0.wait().expect("reaped");
    eventually(
        "the orphaned nats-server to exit",
        Duration::from_secs(15),
        || {
            let gone = !running(server);
            async move { gone.then_some(()) }
        },
    )
    .await;
    eventually("the port to be free", Duration::from_secs(15), || {
        let free = port_free(nats_port);
        async move { free.then_some(()) }
    })
    .await;
    eprintln!(
        "nats-server gone and port free {:?} after the kill",
        started.elapsed()
    );

    // A second `up` on the same data directory and ports starts, serves,
    // and on SIGTERM stops its server too.
    let mut second = up(dir.path(), nats_port, metrics_port);
    let again = managed_server_pid(dir.path(), nats_port).await;
    assert_ne!(again, server);
    let url = format!("nats://127.0.0.1:{nats_port}");
    eventually("a message published to the second up", DEADLINE, || {
        let url = url.clone();
        async move {
            let out = switchboard(&url, &["publish", "brewvi/again", "--text", "hello"]);
            out.status.success().then_some(())
        }
    })
    .await;
    stop(&mut second).await;
    assert!(!running(again), "a graceful stop stops the server");
    assert!(port_free(nats_port));
}

/// Sends SIGTERM and waits for a successful exit.
async fn stop(process: &mut Up) {
    let pid = nix::unistd::Pid::from_raw(process.0.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let status = eventually("the process to stop", DEADLINE, || {
        let exited = process.0.try_wait().expect("wait");
        async move { exited }
    })
    .await;
    assert!(status.success(), "exited with {status}");
}

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");

fn switchboard(url: &str, args: &[&str]) -> std::process::Output {
    run_command(cli(BINARY, url, args), None)
}

/// The binary started in the background on `url`, its output discarded.
fn start(url: &str, args: &[&str]) -> Up {
    Up(cli(BINARY, url, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("switchboard starts"))
}

#[tokio::test]
async fn worker_all_answers_through_every_agent_and_stops_on_sigterm() {
    let server = TestServer::start();
    let url = server.url();
    assert!(switchboard(&url, &["streams", "apply"]).status.success());
    let mut worker = start(&url, &["worker", "all"]);
    let published = switchboard(
        &url,
        &[
            "publish",
            "brewvi/w1",
            "--text",
            "How long does shipping take to California?",
        ],
    );
    assert!(published.status.success(), "{}", text(&published.stderr));
    let timeline = eventually("the answer", DEADLINE, || {
        let url = url.clone();
        async move {
            let out = switchboard(&url, &["replay", "brewvi/w1"]);
            let shown = text(&out.stdout);
            shown.contains("responded").then_some(shown)
        }
    })
    .await;
    for step in [
        "screened",
        "classified",
        "retrieved",
        "drafted",
        "validated",
    ] {
        assert!(timeline.contains(step), "no {step} in\n{timeline}");
    }
    stop(&mut worker).await;
}

/// How many conversations of `brewvi` have a `responded` event: one
/// subject-count request, cheap enough to poll.
async fn answered(store: &EventStore) -> Option<usize> {
    use futures::StreamExt;
    let stream = store
        .jetstream()
        .get_stream(&store.options().stream)
        .await
        .ok()?;
    let subjects = stream
        .info_with_subjects("conv.brewvi.*.responded")
        .await
        .ok()?;
    Some(
        subjects
            .filter(|s| std::future::ready(s.is_ok()))
            .count()
            .await,
    )
}

/// `switchboard worker all` on `url`, redelivering after a one-second ack wait.
fn worker_all(url: &str) -> Up {
    start(url, &["worker", "all", "--ack-wait-secs", "1"])
}

#[tokio::test]
async fn worker_all_killed_mid_run_is_replaced_without_loss_or_duplicates() {
    // Enough that the kill lands while it still carries messages (here about
    // half were answered by then).
    const CONVERSATIONS: usize = 120;
    let server = TestServer::start();
    let url = server.url();
    assert!(switchboard(&url, &["streams", "apply"]).status.success());
    let store = server.store().await;
    let mut first = worker_all(&url);
    let keys: Vec<_> = (0..CONVERSATIONS)
        .map(|i| key(&format!("brewvi/k{i}")))
        .collect();
    for (i, key) in keys.iter().enumerate() {
        let event = customer_message(
            key,
            "persona_001",
            CustomerTier::Standard,
            [
                "Hi, where is my order #10234?",
                "How many loyalty points do I have?",
            ][i % 2],
        );
        let idempotency = IdempotencyKey::for_message(key, "test", &format!("k{i}"));
        store
            .append(key, StreamSeq::ZERO, &[event], &idempotency)
            .await
            .expect("a customer message is appended");
    }
    // Killed once it has answered something, while it still carries the rest.
    let before = eventually("a first answer", DEADLINE, || {
        let store = store.clone();
        async move { answered(&store).await.filter(|n| *n > 0) }
    })
    .await;
    first.0.kill().expect("kill -9");
    first.0.wait().expect("reaped");
    // Read once the process is gone: nothing can be added to it any more.
    let mut answered_at_kill = 0;
    for key in &keys {
        let state = store.load(key).await.expect("load").fold();
        answered_at_kill += usize::from(state.turn.is_some_and(|t| t.responded.is_some()));
    }
    eprintln!(
        "answered when killed: {answered_at_kill} of {CONVERSATIONS} ({before} just before the kill)"
    );
    assert!(
        answered_at_kill >= before && answered_at_kill < CONVERSATIONS,
        "the kill landed mid-run: {answered_at_kill} of {CONVERSATIONS} answered by then"
    );
    let mut second = worker_all(&url);
    for key in &keys {
        let loaded = eventually(&format!("{key} answered"), DEADLINE, || {
            let store = store.clone();
            let key = key.clone();
            async move {
                let loaded = store.load(&key).await.ok()?;
                let answered = loaded.fold().turn.is_some_and(|t| t.responded.is_some());
                answered.then_some(loaded)
            }
        })
        .await;
        let mut seen = HashSet::new();
        for event in &loaded.events {
            let kind = event.event.event_type().as_str();
            assert!(seen.insert(kind), "{key}: {kind} twice");
        }
        assert_eq!(loaded.events.len(), 7, "{key}: every step once");
    }
    stop(&mut second).await;
}
