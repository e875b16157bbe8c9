//! The command line: one subcommand per operator task.
//!
//! Configuration comes from flags or the environment variables the Azure
//! deployment injects (`NATS_URL`) plus `SWITCHBOARD_*`; it is parsed here
//! into typed values and handed to the libraries.

mod audit;
mod bench;
mod broker;
mod config;
mod eval;
mod gateway;
mod kb;
mod keys;
mod managed;
mod models;
mod ops;
mod privacy;
mod projections;
mod projector;
mod publish;
mod query;
mod replay;
mod schemas;
mod streams;
mod tenant;
mod up;
mod vars;
mod worker;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use switchboard_workers::telemetry::OtlpExport;
use tracing_subscriber::{EnvFilter, Layer};

/// Switchboard: an event-sourced workflow engine for multi-agent customer
/// service on NATS JetStream.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings every subcommand shares.
#[derive(Debug, Args)]
pub struct Global {
    /// NATS server to use.
    #[arg(
        long,
        global = true,
        env = "NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,
    /// Log format on stderr: `text` for terminals, `json` for containers.
    #[arg(long, global = true, env = "SWITCHBOARD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// File holding the personal-data master key (64 hex digits). The key
    /// may instead be in SWITCHBOARD_PRIVACY_KEY; default
    /// `<data dir>/privacy.key` if it exists (`up` makes it).
    #[arg(long, global = true, env = "SWITCHBOARD_PRIVACY_KEY_FILE")]
    pub privacy_key_file: Option<PathBuf>,
    /// Export each step as an OpenTelemetry span over OTLP/HTTP to this
    /// collector (e.g. http://127.0.0.1:4318); off when unset.
    #[arg(long, global = true, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// The service name on exported spans (default `switchboard-<command>`).
    #[arg(long, global = true, env = "OTEL_SERVICE_NAME")]
    pub otel_service_name: Option<String>,
    /// Replicas of the streams and KV buckets this process creates (1 on
    /// one server, 3 on a cluster; `--cluster` implies 3).
    #[arg(long = "stream-replicas", global = true, env = "SWITCHBOARD_REPLICAS")]
    pub replicas: Option<usize>,
    /// Partitions of the conversation stream this process creates or
    /// updates (`streams apply`, `up`, the benches): worker replicas of
    /// one kind split them (0: unpartitioned; default: the declaration's).
    #[arg(long, global = true, env = "SWITCHBOARD_PARTITIONS")]
    pub partitions: Option<u32>,
    #[command(flatten)]
    pub broker: broker::BrokerArgs,
}

impl Global {
    /// The built-in stream declarations with `replicas` and this process's
    /// `--partitions` applied.
    pub fn stream_specs(
        &self,
        replicas: Option<usize>,
    ) -> anyhow::Result<Vec<switchboard_engine::streams::StreamSpec>> {
        let specs = switchboard_engine::streams::builtin(replicas);
        self.partitioned(specs)
    }

    /// `specs` with `--partitions` applied, when given.
    pub fn partitioned(
        &self,
        specs: Vec<switchboard_engine::streams::StreamSpec>,
    ) -> anyhow::Result<Vec<switchboard_engine::streams::StreamSpec>> {
        Ok(match self.partitions {
            Some(n) => switchboard_engine::streams::with_partitions(specs, n)?,
            None => specs,
        })
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole system on embedded defaults: a managed nats-server under
    /// ./data with the streams applied, until Ctrl-C.
    Up(up::UpArgs),
    /// Run one agent (distributed mode; run as many replicas as you like).
    Worker(worker::WorkerCommand),
    /// Manage the declared JetStream streams.
    #[command(subcommand)]
    Streams(streams::StreamsCommand),
    /// Append customer messages (`received` events) from arguments or JSON lines on stdin.
    Publish(publish::PublishArgs),
    /// Print a conversation's timeline from the log.
    Replay(replay::ReplayArgs),
    /// Ask the projections a question (table, or JSON with --json).
    Query(query::QueryArgs),
    /// Run the projector alone (distributed mode): fold the log into the
    /// projection store until Ctrl-C or SIGTERM.
    Projector(projector::ProjectorArgs),
    /// Rebuild the projections from the log, or show their lag.
    #[command(subcommand)]
    Projections(projections::ProjectionsCommand),
    /// Benchmarks that print figures (build with --release).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// The JSON Schemas of the event catalog.
    #[command(subcommand)]
    Schemas(schemas::SchemasCommand),
    /// Train intent models for `--intent-model`.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Measure the agents that ship on labelled sets (own, yours, public held-out).
    Eval(eval::EvalArgs),
    /// A tenant's knowledge-base documents in the tenant-data bucket.
    #[command(subcommand)]
    Kb(kb::KbCommand),
    /// A tenant's records (products, orders, customers, loyalty) in the
    /// tenant-data bucket.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Serve the HTTP gateway and console alone (distributed mode).
    Gateway(gateway::GatewayCommandArgs),
    /// The gateway's API keys, one per channel adapter or operator.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Signed, hash-chained exports of the log, and their verification.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Inspect the resolved configuration.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Erase a customer's personal data (crypto-shredding).
    #[command(subcommand)]
    Erase(privacy::EraseCommand),
    /// Export everything held about a customer (subject access).
    #[command(subcommand)]
    Export(privacy::ExportCommand),
    /// Shred closed conversations past a tenant's retention period.
    #[command(subcommand)]
    Retention(privacy::RetentionCommand),
    /// Check a running process's /healthz (or /readyz): exit 0 when it
    /// answers 200, else 1 (a container HEALTHCHECK without curl).
    Health(ops::HealthArgs),
}

/// Where the managed nats-server binary is, if not on PATH.
#[derive(Debug, Args, Clone)]
pub struct ServerArgs {
    /// Path of the nats-server binary (default: found on PATH).
    #[arg(long, env = "SWITCHBOARD_NATS_SERVER")]
    pub nats_server: Option<PathBuf>,
    /// Durable mode: the managed nats-server fsyncs every write
    /// (`sync_interval: always`), so acknowledged events survive power loss,
    /// not only a crash; costs throughput (see the README's figures).
    #[arg(long, env = "SWITCHBOARD_DURABLE")]
    pub durable: bool,
    /// Run the managed broker as a three-node JetStream cluster on loopback
    /// (ports P, P+1, P+2), streams and buckets with replicas 3: an
    /// acknowledged event is on two nodes' disks before it is acknowledged.
    #[arg(long, env = "SWITCHBOARD_CLUSTER")]
    pub cluster: bool,
}

/// Sets up `tracing` on stderr; `RUST_LOG` filters (default `info`
/// without the NATS client's connection events, and `warn` for the
/// `projector`, which runs unattended and has nothing to say when well).
/// With an OTLP endpoint, spans are exported too; the export is returned to
/// be flushed at exit, its spans naming `command` (the subcommand as
/// typed). Call inside the tokio runtime.
pub fn init_logging(cli: &Cli, command: &str) -> anyhow::Result<Option<OtlpExport>> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // Services say what they do; one-shot commands only what went wrong
    // (the connection chatter of the NATS client never, unless asked).
    let default = match cli.command {
        Command::Up(_) | Command::Worker(_) | Command::Gateway(_) => "info,async_nats=warn",
        _ => "warn",
    };
    let global = &cli.global;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let export = match &global.otlp_endpoint {
        Some(endpoint) => {
            let service = global
                .otel_service_name
                .clone()
                .unwrap_or_else(|| format!("switchboard-{command}"));
            Some(OtlpExport::start(endpoint, &service)?)
        }
        None => None,
    };
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match global.log_format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.json().boxed(),
    };
    // RUST_LOG filters what is printed; the step spans are exported
    // whatever it says.
    let steps = tracing_subscriber::filter::Targets::new()
        .with_target("switchboard_workers", tracing::Level::INFO);
    let otlp = export.as_ref().map(|e| e.layer().with_filter(steps));
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(otlp)
        .try_init()
        .map_err(|e| anyhow::anyhow!("setting up logging: {e}"))?;
    Ok(export)
}

impl Command {
    /// Whether this is a one-shot command whose output may go to a pipe
    /// that closes early (`| head`): not the services, and not the benches,
    /// which manage processes of their own.
    pub fn writes_for_a_pipe(&self) -> bool {
        !matches!(
            self,
            Command::Up(_)
                | Command::Worker(_)
                | Command::Gateway(_)
                | Command::Projector(_)
                | Command::Bench(_)
        )
    }
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(replicas) = cli.global.replicas {
        switchboard_workers::kv::set_replicas(replicas);
    }
    match cli.command {
        Command::Up(args) => up::run(&cli.global, args).await,
        Command::Worker(cmd) => worker::run(&cli.global, cmd).await,
        Command::Streams(cmd) => streams::run(&cli.global, cmd).await,
        Command::Publish(args) => publish::run(&cli.global, args).await,
        Command::Replay(args) => replay::run(&cli.global, args).await,
        Command::Query(args) => query::run(args).await,
        Command::Projector(args) => projector::run(&cli.global, args).await,
        Command::Projections(cmd) => projections::run(&cli.global, cmd).await,
        Command::Bench(cmd) => bench::run(&cli.global, cmd).await,
        Command::Schemas(cmd) => schemas::run(cmd),
        Command::Models(cmd) => models::run(cmd),
        Command::Eval(args) => eval::run(args).await,
        Command::Config(cmd) => config::run(&cli.global, cmd).await,
        Command::Kb(cmd) => kb::run(&cli.global, cmd).await,
        Command::Tenant(cmd) => tenant::run(&cli.global, cmd).await,
        Command::Gateway(args) => gateway::run(&cli.global, args).await,
        Command::Keys(cmd) => keys::run(&cli.global, cmd).await,
        Command::Audit(cmd) => audit::run(&cli.global, cmd).await,
        Command::Erase(cmd) => privacy::erase(&cli.global, cmd).await,
        Command::Export(cmd) => privacy::export(&cli.global, cmd).await,
        Command::Retention(cmd) => privacy::retention(&cli.global, cmd).await,
        Command::Health(args) => ops::run(args).await,
    }
}

/// Connects to NATS, saying what to do when nothing answers.
pub async fn connect(global: &Global, name: &str) -> anyhow::Result<async_nats::Client> {
    switchboard_engine::connect_with(&global.nats_url, name, &global.broker.auth())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "{e}\nhint: start the system with `switchboard up`, or set NATS_URL / --nats-url"
            )
        })
}
