//! `switchboard worker <agent>`: one agent as its own process (distributed
//! mode), or `all` of them behind one consumer as `up` runs them. Run as
//! many replicas as needed: they compete, they never duplicate. The
//! knowledge agent answers each conversation from its tenant's data in the
//! tenant-data bucket, picking up changes while it runs.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use switchboard_engine::store::StoreOptions;
use switchboard_engine::workflow::Agent;
use switchboard_workers::ops::Readiness;
use switchboard_workers::runtime::WorkerOptions;
use tokio::sync::watch;

use super::Global;
use super::config::RemoteArgs;

/// The agents that can run as workers.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AgentName {
    /// Screens messages, validates drafts, delivers answers.
    Critic,
    /// Classifies intent, sentiment and entities.
    Intent,
    /// Retrieves passages and records.
    Knowledge,
    /// Drafts grounded answers.
    Response,
    /// Hands conversations to humans.
    Escalation,
    /// All five behind one consumer, each message carried through every
    /// step in one go (what `switchboard up` runs).
    All,
}

impl AgentName {
    /// The single agent named; `None` for `all`.
    pub fn agent(self) -> Option<Agent> {
        match self {
            AgentName::Critic => Some(Agent::Critic),
            AgentName::Intent => Some(Agent::Intent),
            AgentName::Knowledge => Some(Agent::Knowledge),
            AgentName::Response => Some(Agent::Response),
            AgentName::Escalation => Some(Agent::Escalation),
            AgentName::All => None,
        }
    }
}

/// Worker settings shared by `worker` and `up`.
#[derive(Debug, Args, Clone)]
pub struct WorkerArgs {
    /// Messages processed at once per worker.
    #[arg(long, env = "SWITCHBOARD_CONCURRENCY", default_value_t = 32)]
    pub concurrency: usize,
    /// Seconds before an unacked message is redelivered: how soon the
    /// messages of a worker that died come back (held ones are extended).
    #[arg(long, env = "SWITCHBOARD_ACK_WAIT_SECS", default_value_t = 10)]
    pub ack_wait_secs: u64,
    /// Deliveries before a message is dead-lettered.
    #[arg(long, env = "SWITCHBOARD_MAX_DELIVER", default_value_t = 5)]
    pub max_deliver: i64,
    /// Intent model written by `switchboard models train` (default: the
    /// shipped model).
    #[arg(long, env = "SWITCHBOARD_INTENT_MODEL")]
    pub intent_model: Option<PathBuf>,
    /// The tenants answered, comma-separated (default: every tenant). A
    /// conversation of another tenant is dead-lettered and handed to a human.
    #[arg(long, env = "SWITCHBOARD_TENANTS", value_delimiter = ',', value_parser = super::projections::parse_tenant)]
    pub tenants: Vec<switchboard_engine::ids::Tenant>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

impl WorkerArgs {
    pub fn options(&self) -> WorkerOptions {
        WorkerOptions {
            concurrency: self.concurrency.max(1),
            ack_wait: Duration::from_secs(self.ack_wait_secs.max(1)),
            max_deliver: self.max_deliver.max(1),
            tenants: (!self.tenants.is_empty()).then(|| self.tenants.clone()),
            ..WorkerOptions::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct WorkerCommand {
    /// Which agent to run.
    pub agent: AgentName,
    #[command(flatten)]
    pub settings: WorkerArgs,
    #[command(flatten)]
    pub ops: super::ops::OpsArgs,
}

pub async fn run(global: &Global, cmd: WorkerCommand) -> anyhow::Result<()> {
    // Models first: a bad model file or remote config fails before connecting.
    let agents = cmd.settings.agents()?;
    let readiness = Readiness::new();
    cmd.ops.serve(readiness.clone()).await?;
    let client = super::connect(
        global,
        &format!("switchboard-worker-{:?}", cmd.agent).to_lowercase(),
    )
    .await?;
    readiness.watch_connection("nats", &client);
    let (stop, shutdown) = watch::channel(false);
    // Only the knowledge agent reads tenant data.
    let agents = match cmd.agent {
        AgentName::Knowledge | AgentName::All => {
            agents.with_knowledge(super::up::live_knowledge(&client, &shutdown, false).await?)
        }
        _ => agents,
    };
    let store = super::privacy::event_store(global, client, StoreOptions::default()).await?;
    let mut options = cmd.settings.options();
    options.readiness = readiness.part("worker");
    let mut handle = match cmd.agent.agent() {
        Some(agent) => agents.spawn(agent, store, options, shutdown),
        None => agents.spawn_team(&store, &options, &shutdown),
    };
    tokio::select! {
        result = &mut handle => return Ok(result??),
        _ = super::up::shutdown_signal() => {}
    }
    // Stop pulling and let in-flight messages finish.
    stop.send_replace(true);
    Ok(handle.await??)
}
