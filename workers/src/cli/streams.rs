//! `switchboard streams apply`: create or update the declared streams.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use switchboard_engine::streams::{self, Applied, Change};

use super::Global;

#[derive(Debug, Subcommand)]
pub enum StreamsCommand {
    /// Create or update the streams idempotently; prints what changed.
    Apply {
        /// A streams declaration file (default: the built-in streams/streams.toml).
        #[arg(long)]
        file: Option<PathBuf>,
        /// Replicas for every stream (1 locally, 3 on a cluster; default
        /// SWITCHBOARD_REPLICAS, else the file's).
        #[arg(long)]
        replicas: Option<usize>,
        /// Apply changes that can lose data (removed subjects, lower limits,
        /// storage or retention changes, which recreate the stream).
        #[arg(long)]
        force: bool,
    },
    /// Write a nats-server configuration with one nkey user per role
    /// (each agent, projector, gateway, operator) allowed to publish only
    /// its own event types and only its own durable consumers, and one
    /// 0600 seed file per role. The durables guarded are those of the
    /// conversation stream's `--partitions`: run it again after changing them.
    BrokerConfig(super::broker::BrokerConfigArgs),
}

pub async fn run(global: &Global, cmd: StreamsCommand) -> anyhow::Result<()> {
    match cmd {
        StreamsCommand::Apply {
            file,
            replicas,
            force,
        } => apply(global, file, replicas.or(global.replicas), force).await,
        StreamsCommand::BrokerConfig(args) => super::broker::config(global, args),
    }
}

async fn apply(
    global: &Global,
    file: Option<PathBuf>,
    replicas: Option<usize>,
    force: bool,
) -> anyhow::Result<()> {
    let specs = match &file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            streams::parse(&text)?
        }
        None => streams::builtin(None),
    };
    let mut specs = global.partitioned(specs)?;
    if let Some(r) = replicas {
        specs.iter_mut().for_each(|s| s.replicas = r);
    }
    let client = super::connect(global, "switchboard-streams").await?;
    let js = async_nats::jetstream::new(client);
    let applied = streams::apply(&js, &specs, force).await?;
    for line in describe(&applied) {
        println!("{line}");
    }
    Ok(())
}

/// One line per stream, plus one per changed field.
pub fn describe(applied: &[Applied]) -> Vec<String> {
    let mut lines = Vec::new();
    for a in applied {
        match &a.change {
            Change::Created => lines.push(format!("{}: created", a.stream)),
            Change::Unchanged => lines.push(format!("{}: unchanged", a.stream)),
            Change::Updated(changes) | Change::Recreated(changes) => {
                let verb = if matches!(a.change, Change::Updated(_)) {
                    "updated"
                } else {
                    "recreated"
                };
                lines.push(format!("{}: {verb}", a.stream));
                lines.extend(changes.iter().map(|c| format!("  {c}")));
            }
        }
    }
    lines
}
