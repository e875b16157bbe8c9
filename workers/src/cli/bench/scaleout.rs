//! `bench pipeline --replicas N [--agents all|separate]`: the same batch
//! through `up`'s shape (one process, the managed server with batch
//! staging on tmpfs) and through workers as separate processes of this
//! binary against a standalone nats-server configured as deployed: the
//! generated user per role (each process connects with its role's nkey;
//! `worker all` with the operator's), batch staging on disk, the
//! conversation stream partitioned so replicas of one kind split the
//! conversations.
//!
//! Every shape does the same work: the same messages, agents answering
//! from the tenant-data bucket (the demo tenant's data imported for the
//! batch's tenant before the agents start, as `up` serves it), a warm-up
//! batch first (models trained, indexes built, caches filled), then the
//! measured batch, from the first message sent until every trigger is
//! acknowledged. With `N > 1` the one-replica shape runs too, so the
//! replicas' gain is measured in the same run.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::ValueEnum;
use serde::Serialize;
use switchboard_engine::auth::ConnectAuth;
use switchboard_engine::broker::{self, Role};
use switchboard_engine::ids::Tenant;
use switchboard_engine::nats_server::{ManagedServer, ServerBinary, ServerOptions};
use switchboard_engine::store::{EventStore, StoreOptions};
use switchboard_engine::workflow::Agent;
use switchboard_workers::agents::Agents;
use switchboard_workers::runtime::partitions::Membership;
use switchboard_workers::runtime::{
    WorkerOptions, consumer_names, stream_partitions, worker_label,
};
use switchboard_workers::tenant::{self, TenantData, TenantStore};
use tokio::sync::watch;

use super::chaos::fleet::{Fleet, Process, SINGLE};
use super::pipeline::{Keys, TEAM_CONCURRENCY, Team, answers_of, drained_of, run_batch};
use super::{Bench, Target};
use crate::cli::Global;

/// How the agents are split into processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentsShape {
    /// `worker all` per replica.
    All,
    /// Five single-agent `worker <agent>` processes per replica.
    Separate,
}

/// Partitions of the standalone server's conversation stream unless
/// `--partitions` says otherwise: two per replica, so that a replica's share
/// can move when one joins or leaves, and none for one replica, which
/// partitions would only cost (a consumer per partition and agent kind:
/// 942 against 754 conversations/s for five single-agent workers
/// unpartitioned and in 8 partitions, release build, 2026-12-02).
pub fn default_partitions(replicas: usize) -> u32 {
    if replicas > 1 {
        (2 * replicas).min(switchboard_engine::subject::MAX_PARTITIONS as usize) as u32
    } else {
        0
    }
}

/// What one shape measured.
#[derive(Debug, Serialize)]
pub struct Shape {
    pub name: String,
    pub processes: usize,
    pub partitions: u32,
    pub conversations_per_s: f64,
    /// Over `up`'s figure of the same run.
    pub ratio_to_up: f64,
    pub answered_once: usize,
    pub unanswered: usize,
    pub answered_twice: usize,
}

/// The scale-out comparison.
#[derive(Debug, Serialize)]
pub struct ScaleOut {
    pub replicas: usize,
    pub agents: AgentsShape,
    pub messages: usize,
    pub warmup: usize,
    pub shapes: Vec<Shape>,
}

impl ScaleOut {
    /// Conversations exactly-once over every shape.
    pub fn faults(&self) -> (usize, usize) {
        self.shapes.iter().fold((0, 0), |(none, twice), s| {
            (none + s.unanswered, twice + s.answered_twice)
        })
    }
}

/// Runs `up`'s shape, then the standalone shapes.
pub async fn run(
    global: &Global,
    target: &Target,
    replicas: usize,
    agents: AgentsShape,
    messages: usize,
    warmup: usize,
) -> anyhow::Result<ScaleOut> {
    anyhow::ensure!(replicas >= 1, "--replicas must be at least 1");
    anyhow::ensure!(
        !target.external && !target.server.cluster,
        "--replicas starts servers of its own: leave out --external and --cluster"
    );
    let partitions = global
        .partitions
        .unwrap_or_else(|| default_partitions(replicas));
    let up = up_shape(global, target, messages, warmup).await?;
    let up_rate = up.conversations_per_s;
    let mut shapes = vec![up];
    let mut counts = vec![1];
    if replicas > 1 {
        counts.push(replicas);
    }
    for n in counts {
        let standalone = Standalone {
            binary: ServerBinary::locate(target.server.nats_server.as_deref())?,
            replicas: n,
            agents,
            partitions,
        };
        let mut shape = standalone.measure(global, messages, warmup).await?;
        shape.ratio_to_up = shape.conversations_per_s / up_rate;
        shapes.push(shape);
    }
    Ok(ScaleOut {
        replicas,
        agents,
        messages,
        warmup,
        shapes,
    })
}

/// `up`: the managed server as the bench target makes it and the five
/// agents in this process, answering from the tenant-data bucket.
async fn up_shape(
    global: &Global,
    target: &Target,
    messages: usize,
    warmup: usize,
) -> anyhow::Result<Shape> {
    let bench = Bench::start(global, target).await?;
    let store = bench.store.clone();
    let batches = Batches::fresh("up", warmup, messages);
    batches.import(store.client()).await?;
    let (stop, shutdown) = watch::channel(false);
    let live = super::super::up::live_knowledge(store.client(), &shutdown, false).await?;
    let team = Team::start_with(&store, Agents::builtin()?.with_knowledge(live))?;
    let options = team.options.clone();
    let kinds = [Agent::ALL.to_vec()];
    let (rate, answers) = batches
        .measure(
            &store,
            &bench.url,
            &ConnectAuth::default(),
            &kinds,
            &options,
        )
        .await?;
    team.stop().await?;
    stop.send_replace(true);
    let partitions = stream_partitions(&store).await?;
    Ok(Shape {
        name: "up (one process, managed server, batch staging on tmpfs)".into(),
        processes: 1,
        partitions,
        conversations_per_s: rate,
        ratio_to_up: 1.0,
        answered_once: answers.once,
        unanswered: answers.none,
        answered_twice: answers.twice,
    })
}

/// A warm-up batch and the measured batch, each in a tenant of its own.
struct Batches {
    warmup: Keys,
    measured: Keys,
}

impl Batches {
    fn fresh(prefix: &str, warmup: usize, messages: usize) -> Self {
        Self {
            warmup: Keys::fresh(&format!("{prefix}w"), warmup),
            measured: Keys::fresh(prefix, messages),
        }
    }

    /// The demo tenant's data under both batches' tenants.
    async fn import(&self, client: &async_nats::Client) -> anyhow::Result<()> {
        let store = TenantStore::open(client).await?;
        let data = TenantData::demo()?;
        for keys in [&self.warmup, &self.measured] {
            let tenant = Tenant::new(&keys.tenant)?;
            tenant::import::seed_if_absent(&store, &tenant, &data).await?;
        }
        Ok(())
    }

    /// Sends the warm-up batch, waits for the agents to settle, then times
    /// the measured batch until the agents settle again: conversations
    /// answered per second, and the measured batch's exactly-once count.
    async fn measure(
        self,
        store: &EventStore,
        url: &str,
        auth: &ConnectAuth,
        kinds: &[Vec<Agent>],
        options: &WorkerOptions,
    ) -> anyhow::Result<(f64, super::pipeline::Answers)> {
        if self.warmup.count > 0 {
            run_batch(store, url, auth, self.warmup, None, None).await?;
            drained_of(store, kinds, options).await?;
        }
        let started = Instant::now();
        let batch = run_batch(store, url, auth, self.measured, None, None).await?;
        drained_of(store, kinds, options).await?;
        let rate = batch.latencies.len() as f64 / started.elapsed().as_secs_f64();
        Ok((rate, answers_of(store, &batch.keys).await?))
    }
}

/// A standalone server as deployed and the workers as processes.
struct Standalone {
    binary: ServerBinary,
    replicas: usize,
    agents: AgentsShape,
    partitions: u32,
}

impl Standalone {
    async fn measure(
        &self,
        global: &Global,
        messages: usize,
        warmup: usize,
    ) -> anyhow::Result<Shape> {
        let dir = tempfile::tempdir().context("creating the standalone server's directory")?;
        let keys = broker::generate()?;
        let layout = broker::Layout {
            listen: "127.0.0.1:4222",
            store_dir: &dir.path().join("jetstream"),
            partitions: self.partitions,
        };
        let written = broker::write(&dir.path().join("broker"), &keys, layout)?;
        let seed = |role: Role| {
            written
                .seeds
                .iter()
                .find(|(r, _)| *r == role)
                .map(|(_, p)| p.clone())
                .with_context(|| format!("no seed written for {}", role.name()))
        };
        let mut options = ServerOptions::new(dir.path().join("server"));
        options.batch_staging_on_tmpfs = false;
        options.extra_config = Some(broker::authorization(&keys, self.partitions));
        let binary = self.binary.clone();
        let mut server = tokio::task::spawn_blocking(move || ManagedServer::start(binary, options))
            .await
            .context("starting the standalone server")??;
        let url = server.url();
        let operator = ConnectAuth {
            nkey: Some(seed(Role::Operator)?),
            ..ConnectAuth::default()
        };
        let client = switchboard_engine::connect_with(&url, "switchboard-bench", &operator).await?;
        let store = EventStore::new(client.clone(), StoreOptions::default());
        let specs = switchboard_engine::streams::with_partitions(
            global.stream_specs(None)?,
            self.partitions,
        )?;
        switchboard_engine::streams::apply(store.jetstream(), &specs, false).await?;
        let batches = Batches::fresh(&format!("r{}", self.replicas), warmup, messages);
        batches.import(&client).await?;
        let (processes, kinds) = self.processes(&seed)?;
        let count = processes.len();
        let mut fleet = Fleet::of(&url, &dir.path().join("logs"), processes)?;
        let options = WorkerOptions {
            concurrency: TEAM_CONCURRENCY,
            ..WorkerOptions::default()
        };
        let measured = async {
            self.wait_bound(&store, &kinds, &options, &mut fleet)
                .await?;
            let gateway = ConnectAuth {
                nkey: Some(seed(Role::Gateway)?),
                ..ConnectAuth::default()
            };
            batches
                .measure(&store, &url, &gateway, &kinds, &options)
                .await
        }
        .await;
        fleet.stop(Duration::from_secs(10)).await;
        let _ = tokio::task::spawn_blocking(move || server.stop()).await;
        let (rate, answers) = match measured {
            Ok(m) => m,
            Err(e) => {
                // Kept for reading: the workers' logs say what went wrong.
                let kept = dir.keep();
                return Err(e.context(format!("workers' logs in {}", kept.join("logs").display())));
            }
        };
        Ok(Shape {
            name: format!(
                "{} x {} on a standalone server (staging on disk)",
                self.replicas,
                match self.agents {
                    AgentsShape::All => "worker all",
                    AgentsShape::Separate => "five single-agent workers",
                }
            ),
            processes: count,
            partitions: self.partitions,
            conversations_per_s: rate,
            ratio_to_up: 0.0,
            answered_once: answers.once,
            unanswered: answers.none,
            answered_twice: answers.twice,
        })
    }

    /// The worker processes (with their role's nkey) and the worker kinds
    /// they make up.
    fn processes(
        &self,
        seed: &dyn Fn(Role) -> anyhow::Result<std::path::PathBuf>,
    ) -> anyhow::Result<(Vec<Process>, Vec<Vec<Agent>>)> {
        let defaults = WorkerOptions::default();
        let kinds: Vec<(String, Vec<Agent>, Role)> = match self.agents {
            AgentsShape::All => vec![("all".into(), Agent::ALL.to_vec(), Role::Operator)],
            AgentsShape::Separate => SINGLE
                .iter()
                .map(|(name, agent)| ((*name).to_owned(), vec![*agent], Role::Agent(*agent)))
                .collect(),
        };
        let mut processes = Vec::new();
        for replica in 0..self.replicas {
            for (name, agents, role) in &kinds {
                let nkey = seed(*role)?;
                processes.push(Process {
                    name: format!("{name}-{replica}"),
                    args: vec![
                        "worker".into(),
                        name.clone(),
                        "--concurrency".into(),
                        TEAM_CONCURRENCY.to_string(),
                    ],
                    consumer: consumer_names(agents, &defaults, self.partitions)
                        .first()
                        .cloned()
                        .unwrap_or_default(),
                    env: vec![("SWITCHBOARD_NATS_NKEY".into(), nkey.display().to_string())],
                });
            }
        }
        Ok((processes, kinds.into_iter().map(|(_, a, _)| a).collect()))
    }

    /// Waits until every replica of every kind is a live member and every
    /// consumer it pulls from is bound and pulling, or a worker exits.
    async fn wait_bound(
        &self,
        store: &EventStore,
        kinds: &[Vec<Agent>],
        options: &WorkerOptions,
        fleet: &mut Fleet,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        let stream = store
            .jetstream()
            .get_stream(&store.options().stream)
            .await?;
        loop {
            anyhow::ensure!(
                fleet.exited()? == 0,
                "a worker exited while starting (its log says why)"
            );
            let mut ready = true;
            for agents in kinds {
                if self.partitions > 0 {
                    let label = worker_label(agents);
                    let members = Membership::join(store.jetstream(), &label).await?;
                    let live = members.live().await.map_err(anyhow::Error::msg)?;
                    ready &= live.len() == self.replicas;
                }
                for name in consumer_names(agents, options, self.partitions) {
                    ready &= match stream
                        .get_consumer::<async_nats::jetstream::consumer::pull::Config>(&name)
                        .await
                    {
                        Ok(mut c) => c.info().await.is_ok_and(|i| i.num_waiting > 0),
                        Err(_) => false,
                    };
                }
            }
            if ready {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the workers were not all bound after 120 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Prints the comparison.
pub fn table(r: &ScaleOut) {
    println!(
        "scale-out: {} conversations (after {} to warm up) through each shape, the same work in each",
        r.messages, r.warmup
    );
    for s in &r.shapes {
        println!(
            "  {:<70} {:>3} proc  {:>3} part  {:>7.0} conv/s  {:>5.2}x up  once {} / none {} / twice {}",
            s.name,
            s.processes,
            s.partitions,
            s.conversations_per_s,
            s.ratio_to_up,
            s.answered_once,
            s.unanswered,
            s.answered_twice
        );
    }
    let one = r.shapes.get(1).map(|s| s.conversations_per_s);
    match (r.agents, r.replicas, one) {
        (AgentsShape::All, 1, _) => {
            println!("  target: one worker all on a standalone server >= 0.9x up")
        }
        (AgentsShape::Separate, 1, _) => {
            println!("  target: five single-agent processes >= 0.5x up")
        }
        (_, n, Some(one)) => {
            if let Some(many) = r.shapes.get(2) {
                println!(
                    "  {n} replicas over one: {:.2}x (target >= 0.9x on two cores; more cores must add)",
                    many.conversations_per_s / one
                );
            }
        }
        _ => {}
    }
}
