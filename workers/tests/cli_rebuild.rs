//! `switchboard projections rebuild` beside a running `switchboard up`: the
//! running projector pauses, rebuilds, swaps in and resumes, and what is
//! published after the rebuild is projected into the new copy.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use switchboard_tests::{cli, eventually, run_command, server_binary, text};

const DEADLINE: Duration = Duration::from_secs(60);
const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

struct Up(Child);

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn switchboard(url: &str, data_dir: &str, args: &[&str]) -> std::process::Output {
    let mut command = cli(BINARY, url, args);
    command.env("SWITCHBOARD_DATA_DIR", data_dir);
    run_command(command, None)
}

/// Conversations of `brewvi` the projections list, once nothing is pending.
async fn projected(url: &str, data_dir: &str, expected: usize) -> String {
    eventually(
        &format!("{expected} conversations projected"),
        DEADLINE,
        || async {
            let status = switchboard(url, data_dir, &["projections", "status", "--json"]);
            let status: serde_json::Value = serde_json::from_slice(&status.stdout).ok()?;
            if status["pending"].as_u64() != Some(0) {
                return None;
            }
            let listed = switchboard(
                url,
                data_dir,
                &["query", "conversations", "--tenant", "brewvi", "--json"],
            );
            let body: serde_json::Value = serde_json::from_slice(&listed.stdout).ok()?;
            let ours = body["data"]
                .as_array()?
                .iter()
                .filter(|d| d["id"].as_str().is_some_and(|id| id.starts_with("rb-")))
                .count();
            (ours == expected).then(|| body.to_string())
        },
    )
    .await
}

#[tokio::test]
async fn rebuild_beside_a_running_up_swaps_in_and_keeps_projecting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_string_lossy().into_owned();
    let nats_port = free_port();
    let _up = Up(Command::new(BINARY)
        .arg("up")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--nats-port", &nats_port.to_string()])
        .args(["--metrics-addr", &format!("127.0.0.1:{}", free_port())])
        .args(["--gateway-addr", "127.0.0.1:0"])
        .env("SWITCHBOARD_NATS_SERVER", server_binary().path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("switchboard up starts"));
    let url = format!("nats://127.0.0.1:{nats_port}");
    for i in 0..5 {
        let address = format!("brewvi/rb-{i}");
        eventually("a published message", DEADLINE, || {
            let (url, address, data_dir) = (url.clone(), address.clone(), data_dir.clone());
            async move {
                let out = switchboard(
                    &url,
                    &data_dir,
                    &["publish", &address, "--text", "Where is my order #1001?"],
                );
                out.status.success().then_some(())
            }
        })
        .await;
    }
    projected(&url, &data_dir, 5).await;

    let rebuilt = switchboard(&url, &data_dir, &["projections", "rebuild"]);
    assert!(
        rebuilt.status.success(),
        "rebuild failed: {}",
        text(&rebuilt.stderr)
    );
    assert!(
        text(&rebuilt.stdout).contains("rebuilt:"),
        "{}",
        text(&rebuilt.stdout)
    );

    let out = switchboard(
        &url,
        &data_dir,
        &["publish", "brewvi/rb-after", "--text", "hello"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    projected(&url, &data_dir, 6).await;
}
