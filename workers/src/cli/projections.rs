//! `switchboard projections rebuild | status`, and the one place the CLI
//! chooses a projection store.
//!
//! The store is SQLite at `--db` (default `$SWITCHBOARD_DATA_DIR/projections.sqlite`,
//! the file `switchboard up` writes), or Azure Cosmos DB when
//! `COSMOS_ENDPOINT` is set.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use switchboard_engine::ids::Tenant;
use switchboard_engine::projection::ProjectionStore;
use switchboard_engine::projection::Table;
use switchboard_engine::projection::cosmos::{CosmosAuth, CosmosConfig, CosmosStore};
use switchboard_engine::projection::sqlite::{SqliteConfig, SqliteStore};
use switchboard_workers::privacy::{RetentionLedger, RetentionRecord};
use switchboard_workers::projector::control::{self, RebuildRequest, RebuildUpdate};
use switchboard_workers::projector::{self, ProjectorOptions, RebuildReport, Status};

use super::Global;

/// Which projection store to use.
#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// The SQLite projections file (default: `<data-dir>/projections.sqlite`,
    /// as written by `switchboard up`). Ignored when COSMOS_ENDPOINT is set.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Directory of local state, for the default `--db`.
    #[arg(long, env = "SWITCHBOARD_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

impl StoreArgs {
    /// The SQLite file these arguments name.
    pub fn sqlite_path(&self) -> PathBuf {
        self.db
            .clone()
            .unwrap_or_else(|| self.data_dir.join("projections.sqlite"))
    }
}

/// Whether opening a SQLite store may create the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Create an empty store (rebuild fills it).
    Create,
    /// Fail, saying to run `switchboard up` first (queries of nothing are
    /// more likely a wrong path than an empty system).
    Refuse,
}

/// Opens the projection store: Cosmos DB when `COSMOS_ENDPOINT` is set
/// (auth: `COSMOS_KEY`, else managed identity when `AZURE_CLIENT_ID` is set,
/// else the developer's Azure CLI / azd login; database `COSMOS_DATABASE`,
/// default `switchboard`), otherwise SQLite.
pub async fn open_store(
    args: &StoreArgs,
    missing: Missing,
) -> anyhow::Result<Arc<dyn ProjectionStore>> {
    if let Some(endpoint) = env_var("COSMOS_ENDPOINT") {
        let auth = if let Some(key) = env_var("COSMOS_KEY") {
            CosmosAuth::Key(key)
        } else if let Some(client_id) = env_var("AZURE_CLIENT_ID") {
            CosmosAuth::ManagedIdentity {
                client_id: Some(client_id),
            }
        } else {
            CosmosAuth::DeveloperTools
        };
        let mut config = CosmosConfig::new(endpoint.clone(), auth);
        if let Some(database) = env_var("COSMOS_DATABASE") {
            config.database = database;
        }
        config.create_if_missing = match env_var("COSMOS_CREATE_IF_MISSING").as_deref() {
            None | Some("false" | "0") => false,
            Some("true" | "1") => true,
            Some(other) => {
                anyhow::bail!("COSMOS_CREATE_IF_MISSING must be true or false, not {other:?}")
            }
        };
        let database = config.database.clone();
        let store = CosmosStore::connect(config).await.with_context(|| {
            format!(
                "connecting to Cosmos DB at {endpoint} (database {database})\nhint: the \
                 database and its containers are made by terraform/, or with \
                 COSMOS_CREATE_IF_MISSING=true and COSMOS_KEY"
            )
        })?;
        return Ok(Arc::new(store));
    }
    let path = args.sqlite_path();
    if missing == Missing::Refuse && !path.exists() {
        anyhow::bail!(
            "no projections database at {}\nhint: run `switchboard up` first (or \
             `switchboard projections rebuild`), or point --db at the file",
            path.display()
        );
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let store = SqliteStore::open(SqliteConfig::new(&path))
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    Ok(Arc::new(store))
}

/// A set, non-empty environment variable.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Replay the whole conversation log into a fresh copy of the store and
    /// swap it in. With a projector running (`switchboard up`), that
    /// projector pauses, rebuilds and resumes; otherwise it is done here.
    /// SQLite: a new file renamed over the old one. Cosmos DB: containers of
    /// the next generation, switched to atomically; needs COSMOS_KEY.
    Rebuild {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Lag of each projection behind the conversation log.
    Status {
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(global: &Global, cmd: ProjectionsCommand) -> anyhow::Result<()> {
    let client = super::connect(global, "switchboard-projections").await?;
    let options = ProjectorOptions {
        cipher: super::privacy::key_ring(global, &client, None)
            .await?
            .map(|ring| Arc::new(ring) as Arc<dyn switchboard_engine::store::Cipher>),
        ..ProjectorOptions::default()
    };
    match cmd {
        ProjectionsCommand::Rebuild { store } => {
            let location = (std::env::var_os("COSMOS_ENDPOINT").is_none())
                .then(|| store.sqlite_path().display().to_string());
            let bar = super::bench::progress(0, "rebuild");
            let on_progress = |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let report = match remote_rebuild(&client, location, on_progress).await? {
                Some(report) => report,
                None => {
                    let store = open_store(&store, Missing::Create).await?;
                    projector::rebuild(client, store, &options, on_progress)
                        .await
                        .context("rebuilding the projections")?
                }
            };
            bar.finish_and_clear();
            println!(
                "rebuilt: {} events ({} undecodable) up to seq {} in {:.2} s, {:.0} events/s",
                report.events, report.undecodable, report.last_seq, report.seconds, report.per_s
            );
        }
        ProjectionsCommand::Status { json, store } => {
            let store = open_store(&store, Missing::Refuse).await?;
            let status = projector::status(client.clone(), store.as_ref(), &options)
                .await
                .context("reading the projections' status")?;
            let retention = match RetentionLedger::existing(&client).await {
                Some(ledger) => ledger.all().await?,
                None => Vec::new(),
            };
            if json {
                let out = StatusOut {
                    status: &status,
                    retention: &retention,
                };
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                print!("{}", status_table(&status));
                println!(
                    "stream last seq {}; {} event(s) not yet projected",
                    status.stream_last_seq, status.pending
                );
                if !retention.is_empty() {
                    print!("{}", retention_table(&retention));
                }
            }
        }
    }
    Ok(())
}

/// Asks a running projector to rebuild (it pauses, rebuilds, swaps in and
/// resumes). `None` when no projector is running: rebuild here.
async fn remote_rebuild(
    client: &async_nats::Client,
    location: Option<String>,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<Option<RebuildReport>> {
    use futures::StreamExt;
    let inbox = client.new_inbox();
    let mut updates = client.subscribe(inbox.clone()).await?;
    let request = RebuildRequest {
        progress: inbox,
        location,
    };
    let reply = match client
        .request(
            control::REBUILD_SUBJECT,
            serde_json::to_vec(&request)?.into(),
        )
        .await
    {
        Ok(reply) => reply,
        Err(e) if e.kind() == async_nats::RequestErrorKind::NoResponders => return Ok(None),
        Err(e) => return Err(e).context("asking the running projector to rebuild"),
    };
    match serde_json::from_slice::<RebuildUpdate>(&reply.payload) {
        Ok(RebuildUpdate::Accepted { .. }) => {}
        Ok(RebuildUpdate::Failed { error }) => {
            anyhow::bail!("the running projector refused: {error}")
        }
        other => anyhow::bail!("unexpected answer from the running projector: {other:?}"),
    }
    // The projector reports after every written batch; silence this long
    // means it died (its copy is left aside, the old one stays in place).
    let stall = std::time::Duration::from_secs(120);
    loop {
        let update = tokio::time::timeout(stall, updates.next())
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "the running projector said nothing for {stall:?}; is it still running?"
                )
            })?
            .ok_or_else(|| anyhow::anyhow!("lost the connection to NATS during the rebuild"))?;
        match serde_json::from_slice::<RebuildUpdate>(&update.payload) {
            Ok(RebuildUpdate::Progress { done, total }) => progress(done, total),
            Ok(RebuildUpdate::Done { report }) => return Ok(Some(report)),
            Ok(RebuildUpdate::Failed { error }) => anyhow::bail!("rebuild failed: {error}"),
            Ok(RebuildUpdate::Accepted { .. }) => {}
            Err(e) => anyhow::bail!("malformed update from the running projector: {e}"),
        }
    }
}

/// `projections status --json`: the status, and the last retention pass
/// per tenant.
#[derive(serde::Serialize)]
struct StatusOut<'a> {
    #[serde(flatten)]
    status: &'a Status,
    retention: &'a [RetentionRecord],
}

fn retention_table(records: &[RetentionRecord]) -> Table {
    Table {
        headers: [
            "retention",
            "period_s",
            "last_run",
            "closed",
            "shredded",
            "total",
        ]
        .map(String::from)
        .to_vec(),
        rows: records
            .iter()
            .map(|r| {
                vec![
                    r.tenant.clone(),
                    r.period_secs.to_string(),
                    r.last_run_at.clone(),
                    r.closed.to_string(),
                    r.shredded_last.to_string(),
                    r.shredded_total.to_string(),
                ]
            })
            .collect(),
    }
}

fn status_table(status: &Status) -> Table {
    Table {
        headers: vec!["projection".into(), "last_seq".into(), "lag".into()],
        rows: status
            .projections
            .iter()
            .map(|p| {
                vec![
                    p.projection.clone(),
                    p.last_seq.to_string(),
                    p.lag.to_string(),
                ]
            })
            .collect(),
    }
}

/// Parses a tenant for `--tenant` (validated as a subject token).
pub fn parse_tenant(value: &str) -> Result<Tenant, String> {
    Tenant::new(value).map_err(|e| e.to_string())
}
