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
use serde::Serialize;
use switchboard_engine::nats_cluster::{ManagedCluster, stream_leader};
use switchboard_engine::nats_server::{ServerBinary, ServerOptions};
use switchboard_engine::subject::Scope;
use switchboard_engine::workflow::Agent;
use switchboard_workers::runtime::{WorkerOptions, consumer_name};
use tokio::process::{Child, Command};

use crate::cli::managed::ManagedBroker;

/// The single-agent workers, by their `worker` argument.
pub const SINGLE: [(&str, Agent); 5] = [
    ("critic", Agent::Critic),
    ("intent", Agent::Intent),
    ("knowledge", Agent::Knowledge),
    ("response", Agent::Response),
    ("escalation", Agent::Escalation),
];

/// Shortest time between two starts of one member that exited on its own,
/// so a member that cannot connect does not spin.
const RESPAWN_PAUSE: Duration = Duration::from_millis(500);

/// A process to run: its name (and log file), the arguments to this
/// binary, the consumer it pulls from and extra environment.
#[derive(Debug, Clone)]
pub struct Process {
    pub name: String,
    pub args: Vec<String>,
    pub consumer: String,
    pub env: Vec<(String, String)>,
}

/// One supervised process.
struct Member {
    name: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// The JetStream consumer it pulls from (its work in flight).
    consumer: String,
    child: Option<Child>,
    started: Instant,
}

/// The agents and the projector.
pub struct Fleet {
    exe: PathBuf,
    url: String,
    /// Replicas of the buckets the members create (3 on a cluster).
    replicas: Option<usize>,
    logs: PathBuf,
    members: Vec<Member>,
    /// Exits nobody asked for (restarted as well).
    pub exits: u64,
}

impl Fleet {
    /// Starts five single-agent workers, a `worker all` and the projector
    /// (on `db`), each with `NATS_URL=url`,
    /// warnings only, stdout and stderr appended to `<logs>/<name>.log`.
    pub fn start(
        url: &str,
        replicas: Option<usize>,
        logs: &Path,
        db: &Path,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating this binary")?;
        std::fs::create_dir_all(logs).with_context(|| format!("creating {}", logs.display()))?;
        let defaults = WorkerOptions::default();
        let durable_of = |agents: &[Agent]| {
            // The chaos bench's streams are unpartitioned.
            consumer_name(agents, &defaults, Scope::Unpartitioned)
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
        Self::spawn_all(exe, url, replicas, logs, members)
    }

    /// Starts `processes`, each with `NATS_URL=url` and its own
    /// environment, warnings only, output appended to `<logs>/<name>.log`.
    pub fn of(url: &str, logs: &Path, processes: Vec<Process>) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating this binary")?;
        std::fs::create_dir_all(logs).with_context(|| format!("creating {}", logs.display()))?;
        let members = processes
            .into_iter()
            .map(|p| Member {
                env: p.env,
                ..member(&p.name, p.args, p.consumer)
            })
            .collect();
        Self::spawn_all(exe, url, None, logs, members)
    }

    fn spawn_all(
        exe: PathBuf,
        url: &str,
        replicas: Option<usize>,
        logs: &Path,
        members: Vec<Member>,
    ) -> anyhow::Result<Self> {
        let mut fleet = Self {
            exe,
            url: url.to_owned(),
            replicas,
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
        let mut command = Command::new(&self.exe);
        if let Some(replicas) = self.replicas {
            command.env("SWITCHBOARD_REPLICAS", replicas.to_string());
        }
        let child = command
            .args(&m.args)
            .envs(m.env.iter().map(|(k, v)| (k, v)))
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

    /// How many members have exited (none is restarted).
    pub fn exited(&mut self) -> anyhow::Result<usize> {
        let mut exited = 0;
        for m in &mut self.members {
            if let Some(child) = m.child.as_mut() {
                exited += usize::from(child.try_wait().context("polling a member")?.is_some());
            }
        }
        Ok(exited)
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
        env: Vec::new(),
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

/// The broker: a managed nats-server or cluster the bench may crash and
/// restart, or a server at a URL it cannot touch.
pub struct Broker {
    server: Option<ManagedBroker>,
    url: String,
}

/// A kill of a cluster's stream leader, and who took over.
#[derive(Debug, Clone, Serialize)]
pub struct Failover {
    /// The node killed: the CONVERSATIONS stream's leader when killed.
    pub killed: String,
    /// The leader elected among the survivors.
    pub new_leader: String,
    /// From the kill until the stream had its new leader.
    pub election_ms: u64,
}

/// How long a cluster may take to elect a stream leader after a kill.
const ELECTION_DEADLINE: Duration = Duration::from_secs(30);

impl Broker {
    /// Starts a managed nats-server (or with `cluster` a three-node
    /// cluster) on free loopback ports, its store in `dir`.
    pub async fn managed(
        binary: ServerBinary,
        dir: PathBuf,
        durable: bool,
        cluster: bool,
    ) -> anyhow::Result<Self> {
        let mut options = ServerOptions::new(dir);
        options.sync_always = durable;
        let server = ManagedBroker::start(binary, options, cluster).await?;
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

    /// Replicas for the streams: 3 on a cluster.
    pub fn replicas(&self) -> Option<usize> {
        self.server.as_ref().and_then(ManagedBroker::replicas)
    }

    /// Stages atomic batches of `streams` on tmpfs, as `up` does.
    pub fn stage_batches(&self, streams: &[&str]) {
        if let Some(server) = &self.server {
            server.stage_batches_on_tmpfs(streams);
        }
    }

    /// SIGKILLs the managed server and starts it again on the same port
    /// and store; on a cluster, SIGKILLs the node leading the
    /// CONVERSATIONS stream, waits for the survivors to elect another, and
    /// only then starts it again. Returns how long it was down, and the
    /// failover on a cluster.
    pub async fn crash_and_restart(
        &mut self,
        js: &async_nats::jetstream::Context,
    ) -> anyhow::Result<(Duration, Option<Failover>)> {
        let started = Instant::now();
        match self.server.take() {
            Some(ManagedBroker::Single(server)) => {
                let (server, result) =
                    blocking(server, |s| s.kill().and_then(|()| s.restart())).await;
                self.server = Some(ManagedBroker::Single(server));
                result.context("restarting nats-server on the same port and store")?;
                Ok((started.elapsed(), None))
            }
            Some(ManagedBroker::Cluster(cluster)) => {
                let (cluster, result) = kill_leader(cluster, js).await;
                self.server = Some(ManagedBroker::Cluster(cluster));
                let failover = result?;
                Ok((started.elapsed(), Some(failover)))
            }
            None => anyhow::bail!("the broker is not managed by the bench"),
        }
    }

    /// Stops the managed server gracefully.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            tokio::task::spawn_blocking(move || drop(server)).await.ok();
        }
    }
}

/// Kills `cluster`'s CONVERSATIONS leader, waits for a new one, restarts
/// the killed node; hands the cluster back whatever happened.
async fn kill_leader(
    cluster: ManagedCluster,
    js: &async_nats::jetstream::Context,
) -> (ManagedCluster, anyhow::Result<Failover>) {
    let Some(leader) = stream_leader(js, STREAM).await else {
        return (
            cluster,
            Err(anyhow::anyhow!("{STREAM} has no leader to kill")),
        );
    };
    let Some(victim) = cluster.index_of(&leader) else {
        return (
            cluster,
            Err(anyhow::anyhow!(
                "{STREAM}'s leader {leader} is not a managed node"
            )),
        );
    };
    // Watched from a survivor: a connection to the killed node would spend
    // the election reconnecting, and time it instead.
    let survivor = (0..cluster.size()).find(|i| *i != victim);
    let watcher = match survivor.and_then(|i| cluster.node(i)).map(|n| n.url()) {
        Some(url) => {
            match switchboard_engine::connect(&url, "switchboard-bench-chaos-election").await {
                Ok(client) => {
                    // Stream info is answered by the stream's leader: without
                    // one a request waits out its timeout, so keep it short.
                    let mut js = async_nats::jetstream::new(client);
                    js.set_timeout(Duration::from_millis(250));
                    js
                }
                Err(e) => {
                    return (
                        cluster,
                        Err(anyhow::Error::new(e).context("watching the election")),
                    );
                }
            }
        }
        None => js.clone(),
    };
    let killed_at = Instant::now();
    let (cluster, killed) = blocking(cluster, move |c| c.kill(victim)).await;
    if let Err(e) = killed {
        return (
            cluster,
            Err(anyhow::Error::new(e).context("killing the stream leader")),
        );
    }
    let mut new_leader = None;
    while killed_at.elapsed() < ELECTION_DEADLINE {
        if let Some(l) = stream_leader(&watcher, STREAM)
            .await
            .filter(|l| *l != leader)
        {
            new_leader = Some(l);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let election_ms = killed_at.elapsed().as_millis() as u64;
    let (cluster, restarted) = blocking(cluster, move |c| c.restart(victim)).await;
    let outcome = match (new_leader, restarted) {
        (_, Err(e)) => Err(anyhow::Error::new(e).context("restarting the killed leader")),
        (None, Ok(())) => Err(anyhow::anyhow!(
            "no new {STREAM} leader within {ELECTION_DEADLINE:?} of killing {leader}"
        )),
        (Some(new_leader), Ok(())) => Ok(Failover {
            killed: leader,
            new_leader,
            election_ms,
        }),
    };
    (cluster, outcome)
}

/// Runs `work` on `value` on a blocking thread (stopping and starting
/// servers waits on processes) and hands both back; a panic there is
/// raised again here.
async fn blocking<T, R>(mut value: T, work: impl FnOnce(&mut T) -> R + Send + 'static) -> (T, R)
where
    T: Send + 'static,
    R: Send + 'static,
{
    let done = tokio::task::spawn_blocking(move || {
        let result = work(&mut value);
        (value, result)
    });
    match done.await {
        Ok(done) => done,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("a blocking task of the chaos bench was cancelled: {e}"),
        },
    }
}

/// The stream whose leader a cluster run kills.
const STREAM: &str = "CONVERSATIONS";
