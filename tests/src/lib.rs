//! The test harness: a real nats-server per test on a free loopback port,
//! with its own temporary store, through the engine's managed server.
//!
//! Tests never mock NATS. They wait on conditions with deadlines
//! ([`eventually`]), never on sleeps, and everything is cleaned up on drop.

pub mod cosmos;
pub mod events;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use switchboard_engine::nats_cluster::ManagedCluster;
use switchboard_engine::nats_server::{ManagedServer, ServerBinary, ServerOptions};
use switchboard_engine::store::{EventStore, StoreOptions};

/// A running nats-server with JetStream and a temporary store directory.
pub struct TestServer {
    server: ManagedServer,
    // Dropped after the server (fields drop in order): the store outlives it.
    _dir: tempfile::TempDir,
}

/// The nats-server binary tests use: `SWITCHBOARD_NATS_SERVER` or PATH.
pub fn server_binary() -> ServerBinary {
    let explicit = std::env::var_os("SWITCHBOARD_NATS_SERVER").map(PathBuf::from);
    match ServerBinary::locate(explicit.as_deref()) {
        Ok(binary) => binary,
        Err(e) => panic!("the tests need a real nats-server: {e}"),
    }
}

impl TestServer {
    /// Starts a server and waits until it is ready.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// Starts a server with `extra` appended to its configuration (e.g. an
    /// `authorization` block of users per role).
    pub fn start_with(extra: Option<String>) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory can be created");
        let mut options = ServerOptions::new(dir.path());
        options.extra_config = extra;
        let server = ManagedServer::start(server_binary(), options)
            .unwrap_or_else(|e| panic!("nats-server did not start: {e}"));
        Self { server, _dir: dir }
    }

    /// The server's store directory (JetStream's files live under it).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// A fresh connection.
    pub async fn client(&self) -> async_nats::Client {
        connect(&self.url()).await
    }

    /// A connection with the built-in streams applied, wrapped in an event store.
    pub async fn store(&self) -> EventStore {
        self.store_with(StoreOptions::default()).await
    }

    /// Like [`TestServer::store`] with custom store options.
    pub async fn store_with(&self, options: StoreOptions) -> EventStore {
        let store = EventStore::new(self.client().await, options);
        let specs = apply_streams(&store, None).await;
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        self.server.stage_batches_on_tmpfs(&names);
        store
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        self.server.kill().expect("nats-server can be killed");
    }

    /// Starts the server again on the same port and store.
    pub fn restart(&mut self) {
        self.server.restart().expect("nats-server restarts");
    }
}

/// A three-node JetStream cluster on loopback, each node with its own
/// temporary store.
pub struct TestCluster {
    cluster: ManagedCluster,
    _dir: tempfile::TempDir,
}

impl TestCluster {
    /// Starts three nodes and waits until JetStream can place a
    /// replicas-3 stream.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory can be created");
        let options = ServerOptions::new(dir.path());
        let cluster =
            tokio::task::spawn_blocking(move || ManagedCluster::start(server_binary(), options, 3))
                .await
                .expect("the start-up thread finishes")
                .unwrap_or_else(|e| panic!("the cluster did not start: {e}"));
        let this = Self { cluster, _dir: dir };
        let js = async_nats::jetstream::new(this.client().await);
        this.cluster
            .wait_for_jetstream(&js, Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        this
    }

    /// The cluster itself (nodes, names, kill and restart).
    pub fn cluster(&mut self) -> &mut ManagedCluster {
        &mut self.cluster
    }

    /// Node `i`'s store directory.
    pub fn node_dir(&self, i: usize) -> PathBuf {
        self._dir.path().join(format!("node-{i}"))
    }

    /// Every node's URL, comma-separated.
    pub fn url(&self) -> String {
        self.cluster.url()
    }

    /// A fresh connection to any node.
    pub async fn client(&self) -> async_nats::Client {
        connect(&self.url()).await
    }

    /// A connection with the built-in streams applied at replicas 3.
    pub async fn store(&self) -> EventStore {
        let store = EventStore::new(self.client().await, StoreOptions::default());
        apply_streams(&store, Some(3)).await;
        store
    }
}

/// A test's connection to `url` (one server, or a cluster's nodes).
async fn connect(url: &str) -> async_nats::Client {
    switchboard_engine::connect(url, "switchboard-tests")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Applies the built-in streams (with `replicas` when given) through
/// `store`; returns them.
async fn apply_streams(
    store: &EventStore,
    replicas: Option<usize>,
) -> Vec<switchboard_engine::streams::StreamSpec> {
    let specs = switchboard_engine::streams::builtin(replicas);
    switchboard_engine::streams::apply(store.jetstream(), &specs, false)
        .await
        .unwrap_or_else(|e| panic!("streams apply: {e}"));
    specs
}

/// `GET path` on a loopback port over plain HTTP/1.0: the status and the
/// body, or `None` while nothing answers (a process's `/readyz`,
/// `/healthz`, `/metrics`).
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// A free loopback port (free when asked; tests bind it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A child process killed (and reaped) when dropped, so a failing test
/// leaves nothing running.
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `check` until it returns `Some`, or panics after `deadline` with
/// `what`. For conditions that become true asynchronously.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() >= until {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs a prepared command (a binary under test), writing `stdin` to it when
/// given and closing it either way, and returns what it printed.
/// A command line for the binary at `binary` (a test's
/// `env!("CARGO_BIN_EXE_switchboard")`) on the NATS server at `url`,
/// logging warnings only, serving metrics and health on a free port (tests
/// run processes side by side).
pub fn cli(binary: &str, url: &str, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(binary);
    command
        .args(args)
        .env("NATS_URL", url)
        .env("RUST_LOG", "warn")
        .env("SWITCHBOARD_METRICS_ADDR", "127.0.0.1:0");
    command
}

pub fn run_command(
    mut command: std::process::Command,
    stdin: Option<&str>,
) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let (Some(mut pipe), Some(text)) = (child.stdin.take(), stdin) {
        pipe.write_all(text.as_bytes())
            .expect("stdin accepts input");
    }
    child.wait_with_output().expect("the binary finishes")
}

/// A process's output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
