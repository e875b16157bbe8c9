//! `switchboard bench`: benchmarks that print figures, each measured against
//! a raw-JetStream baseline in the same run on the same server.
//!
//! By default a benchmark starts its own managed nats-server in a temporary
//! directory, so figures are comparable between machines and runs; build
//! with `--release` for meaningful numbers.

mod append;
mod chaos;
mod load;
mod pipeline;
mod projections;
mod scaleout;
mod soak;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use switchboard_engine::nats_server::{ServerBinary, ServerOptions};
use switchboard_engine::store::{EventStore, StoreOptions};

use super::managed::ManagedBroker;
use super::{Global, ServerArgs};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Append throughput (single events and 3-event atomic batches) versus
    /// raw pipelined publishes, and load latency at 10 k and 1 M events.
    Append(append::AppendArgs),
    /// Customer messages through all five agents versus the raw publish
    /// baseline, and latency at 25 % of the maximum rate.
    Pipeline(pipeline::PipelineArgs),
    /// A long run at a steady rate: resident memory, consumer lag and
    /// answer latency, window by window.
    Soak(soak::SoakArgs),
    /// Projection rebuild throughput versus a raw pull-and-ack consume.
    Projections(projections::ProjectionsArgs),
    /// Conversations through agents in separate processes while processes
    /// and the broker are crashed; checks nothing is lost, duplicated or
    /// stuck, and that the projections equal a rebuild.
    Chaos(chaos::ChaosArgs),
}

/// Where a benchmark runs.
#[derive(Debug, Args, Clone)]
pub struct Target {
    /// Use the server at NATS_URL instead of a fresh managed one (its
    /// CONVERSATIONS stream gets the benchmark's events).
    #[arg(long)]
    pub external: bool,
    /// Keep the managed server's store here instead of a temporary directory.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Leave the managed server's atomic-batch staging on disk instead of
    /// tmpfs (nats-server's own behaviour), to measure what tmpfs buys.
    #[arg(long)]
    pub disk_batch_staging: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// A connected event store, and the server it runs on when managed.
pub struct Bench {
    pub store: EventStore,
    /// The server's URL, for benches that open connections of their own.
    pub url: String,
    _broker: Option<ManagedBroker>,
    _dir: Option<tempfile::TempDir>,
}

impl Bench {
    pub async fn start(global: &Global, target: &Target) -> anyhow::Result<Self> {
        let (url, server, dir) = if target.external {
            (global.nats_url.clone(), None, None)
        } else {
            let binary = ServerBinary::locate(target.server.nats_server.as_deref())?;
            let (path, dir) = match &target.data_dir {
                Some(p) => (p.clone(), None),
                None => {
                    let dir = tempfile::tempdir().context("creating a temporary store")?;
                    (dir.path().to_path_buf(), Some(dir))
                }
            };
            let mut options = ServerOptions::new(path);
            options.batch_staging_on_tmpfs = !target.disk_batch_staging;
            options.sync_always = target.server.durable;
            let server = ManagedBroker::start(binary, options, target.server.cluster).await?;
            (server.url(), Some(server), dir)
        };
        let client = switchboard_engine::connect(&url, "switchboard-bench").await?;
        let store = EventStore::new(client, StoreOptions::default());
        let replicas = global
            .replicas
            .or(server.as_ref().and_then(ManagedBroker::replicas));
        let specs = global.stream_specs(replicas)?;
        switchboard_engine::streams::apply(store.jetstream(), &specs, false).await?;
        if let Some(server) = &server {
            let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            server.stage_batches_on_tmpfs(&names);
        }
        Ok(Self {
            store,
            url,
            _broker: server,
            _dir: dir,
        })
    }
}

pub async fn run(global: &Global, cmd: BenchCommand) -> anyhow::Result<()> {
    // The chaos bench measures correctness, not speed: any build will do.
    if cfg!(debug_assertions) && !matches!(cmd, BenchCommand::Chaos(_)) {
        eprintln!(
            "warning: this is a debug build; benchmark with `cargo run --release -- bench ...`"
        );
    }
    match cmd {
        BenchCommand::Append(args) => append::run(global, args).await,
        BenchCommand::Pipeline(args) => pipeline::run(global, args).await,
        BenchCommand::Soak(args) => soak::run(global, args).await,
        BenchCommand::Projections(args) => projections::run(global, args).await,
        BenchCommand::Chaos(args) => chaos::run(global, args).await,
    }
}

/// Prints a benchmark's figures: one JSON object with `--json` (for users'
/// own CI), the bench's own table otherwise.
pub fn emit<R: serde::Serialize>(report: &R, json: bool, table: fn(&R)) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        table(report);
    }
    Ok(())
}

/// Median of a few measurements.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// A spinner-free progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(
        "{msg:>12} [{bar:40}] {pos}/{len} {per_sec} eta {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}
