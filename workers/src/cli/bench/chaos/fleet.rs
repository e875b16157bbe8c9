//! The processes `bench chaos` runs and crashes: the agents and the
//! projector as separate processes of this very binary, and the broker.
//!
//! Every member is started again at once after a kill, and also when it
//! exits on its own (a worker started while the broker is down fails to
//! connect and exits): the bench plays the part of a container
//! orchestrator's restart policy.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use switchboard_engine::nats_server::{ManagedServer, ServerBinary, ServerOptions};
use switchboard_engine::workflow::Agent;
use switchboard_workers::runtime::{WorkerOptions, consumer_config};
use tokio::process::{Child, Command};

/// The single-agent workers, by their `worker` argument.
const SINGLE: [(&str, Agent); 5] = [
    ("critic", Agent::Critic),
    ("intent", Agent::Intent),
    ("knowledge", Agent::Knowledge),
    ("response", Agent::Response),
    ("escalation", Agent::Escalation),
];

/// Shortest time between two starts of one member that exited on its own,
/// so a member that cannot connect does not spin.
const RESPAWN_PAUSE: Duration = Duration::from_millis(500);

/// One supervised process.
struct Member {
    name: String,
    args: Vec<String>,
    /// The JetStream consumer it pulls from (its work in flight).
    consumer: String,
    child: Option<Child>,
    started: Instant,
}

/// The agents and the projector.
pub struct Fleet {
    exe: PathBuf,
    url: String,
    logs: PathBuf,
    members: Vec<Member>,
    /// Exits nobody asked for (restarted as well).
    pub exits: u64,
}

impl Fleet {
    /// Starts five single-agent workers, a `worker all` and the projector
    /// (on `db`), each with `NATS_URL=url`,
    /// warnings only, stdout and stderr appended to `<logs>/<name>.log`.
    pub fn start(url: &str, logs: &Path, db: &Path) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating this binary")?;
        std::fs::create_dir_all(logs).with_context(|| format!("creating {}", logs.display()))?;
        let defaults = WorkerOptions::default();
        let durable_of = |agents: &[Agent]| {
            consumer_config(agents, &defaults)
                .durable_name
                .unwrap_or_default()
        };
        let mut members: Vec<Member> = SINGLE
            .iter()
            .map(|(name, agent)| {
                member(
                    name,
                    vec!["worker".into(), (*name).into()],
                    durable_of(&[*agent]),
                )
            })
            .collect();
        members.push(member(
            "all",
            vec!["worker".into(), "all".into()],
            durable_of(&Agent::ALL),
        ));
        let db = db.display().to_string();
        members.push(member(
            "projector",
            vec!["projector".into(), "--db".into(), db],
            // No consumer of its own (an ordered cursor from its store's
            // checkpoint): the schedule watches the checkpoint instead.
            "projector".into(),
        ));
        let mut fleet = Self {
            exe,
            url: url.to_owned(),
            logs: logs.to_path_buf(),
            members,
            exits: 0,
        };
        for i in 0..fleet.members.len() {
            fleet.spawn(i)?;
        }
        Ok(fleet)
    }

    /// How many members there are.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// A member's name (`critic`, ..., `all`, `projector`).
    pub fn name(&self, i: usize) -> &str {
        &self.members[i].name
    }

    /// The consumer a member pulls from.
    pub fn consumer(&self, i: usize) -> &str {
        &self.members[i].consumer
    }

    /// The consumers of the agents (the projector's excluded).
    pub fn agent_consumers(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .members
            .iter()
            .filter(|m| m.name != "projector")
            .map(|m| m.consumer.clone())
            .collect();
        names.dedup();
        names
    }

    fn spawn(&mut self, i: usize) -> anyhow::Result<()> {
        let m = &self.members[i];
        let log = self.logs.join(format!("{}.log", m.name));
        let out = append(&log)?;
        let err = out
            .try_clone()
            .with_context(|| format!("opening {}", log.display()))?;
        let child = Command::new(&self.exe)
            .args(&m.args)
            .env("NATS_URL", &self.url)
            .env("RUST_LOG", "warn")
            .env("SWITCHBOARD_LOG_FORMAT", "text")
            // Several processes on one host: each its own metrics port.
            .env("SWITCHBOARD_METRICS_ADDR", "127.0.0.1:0")
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} {}", self.exe.display(), m.args.join(" ")))?;
        let m = &mut self.members[i];
        m.child = Some(child);
        m.started = Instant::now();
        Ok(())
    }

    /// SIGKILLs member `i` (no shutdown, as a crash); [`Fleet::restart`]
    /// starts it again.
    pub async fn kill(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some(mut child) = self.members[i].child.take() {
            // start_kill is SIGKILL on unix; an already exited child is fine.
            child.start_kill().ok();
            child.wait().await.context("reaping a killed member")?;
        }
        Ok(())
    }

    /// Starts member `i` again after [`Fleet::kill`].
    pub fn restart(&mut self, i: usize) -> anyhow::Result<()> {
        self.spawn(i)
    }

    /// Restarts members that exited on their own; returns how many.
    pub fn reap(&mut self) -> anyhow::Result<u64> {
        let mut restarted = 0;
        for i in 0..self.members.len() {
            let exited = match self.members[i].child.as_mut() {
                Some(child) => child.try_wait().context("polling a member")?.is_some(),
                None => true,
            };
            if exited && self.members[i].started.elapsed() >= RESPAWN_PAUSE {
                self.members[i].child = None;
                self.spawn(i)?;
                self.exits += 1;
                restarted += 1;
            }
        }
        Ok(restarted)
    }

    /// Stops every member gracefully (SIGTERM), killing any still running
    /// after `grace`.
    pub async fn stop(&mut self, grace: Duration) {
        for m in &mut self.members {
            if let Some(pid) = m.child.as_ref().and_then(Child::id) {
                let pid = nix::unistd::Pid::from_raw(pid as i32);
                nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).ok();
            }
        }
        for m in &mut self.members {
            if let Some(mut child) = m.child.take()
                && tokio::time::timeout(grace, child.wait()).await.is_err()
            {
                child.start_kill().ok();
                child.wait().await.ok();
            }
        }
    }
}

fn member(name: &str, args: Vec<String>, consumer: String) -> Member {
    Member {
        name: name.to_owned(),
        args,
        consumer,
        child: None,
        started: Instant::now(),
    }
}

fn append(path: &Path) -> anyhow::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

/// The broker: a managed nats-server the bench may crash and restart, or
/// a server at a URL it cannot touch.
pub struct Broker {
    server: Option<ManagedServer>,
    url: String,
}

impl Broker {
    /// Starts a managed nats-server on a free loopback port, its store in `dir`.
    pub async fn managed(binary: ServerBinary, dir: PathBuf) -> anyhow::Result<Self> {
        let options = ServerOptions::new(dir);
        let server = tokio::task::spawn_blocking(move || ManagedServer::start(binary, options))
            .await
            .context("starting nats-server")??;
        Ok(Self {
            url: server.url(),
            server: Some(server),
        })
    }

    /// The server at `url`: never restarted.
    pub fn external(url: &str) -> Self {
        Self {
            server: None,
            url: url.to_owned(),
        }
    }

    /// Where clients connect.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the bench owns the server (and so may crash it).
    pub fn managed_here(&self) -> bool {
        self.server.is_some()
    }

    /// Stages atomic batches of `streams` on tmpfs, as `up` does.
    pub fn stage_batches(&self, streams: &[&str]) {
        if let Some(server) = &self.server {
            server.stage_batches_on_tmpfs(streams);
        }
    }

    /// SIGKILLs the managed server and starts it again on the same port
    /// and store; returns how long it was down.
    pub async fn crash_and_restart(&mut self) -> anyhow::Result<Duration> {
        let Some(mut server) = self.server.take() else {
            anyhow::bail!("the broker is not managed by the bench");
        };
        let started = Instant::now();
        let (server, result) = tokio::task::spawn_blocking(move || {
            let result = server.kill().and_then(|()| server.restart());
            (server, result)
        })
        .await
        .context("restarting nats-server")?;
        self.server = Some(server);
        result.context("restarting nats-server on the same port and store")?;
        Ok(started.elapsed())
    }

    /// Stops the managed server gracefully.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            tokio::task::spawn_blocking(move || drop(server)).await.ok();
        }
    }
}
