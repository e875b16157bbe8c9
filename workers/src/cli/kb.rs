//! `switchboard kb import | list | remove`: a tenant's knowledge-base
//! documents in the tenant-data bucket. Parsing arguments and printing
//! only; the work is [`switchboard_workers::tenant::import`].

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use switchboard_engine::ids::Tenant;
use switchboard_workers::tenant::import::{self, Change};
use switchboard_workers::tenant::{DocId, TenantStore};

use super::Global;

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Import documents: Markdown (optional YAML front matter: id, title,
    /// language, tags; passages by `## <source id>: <title>` headings) or
    /// JSON ({"id","title","language","tags","body"} or an array of them).
    /// Directories are walked. Existing ids are replaced; nothing is
    /// written if any file is bad.
    Import(ImportArgs),
    /// List a tenant's documents: id, title, language, passages, revision.
    List(ListArgs),
    /// Remove one document (its history stays in the bucket).
    Remove(RemoveArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tenant.
    #[arg(value_parser = super::projections::parse_tenant)]
    pub tenant: Tenant,
    /// Files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The tenant.
    #[arg(value_parser = super::projections::parse_tenant)]
    pub tenant: Tenant,
    /// JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The tenant.
    #[arg(value_parser = super::projections::parse_tenant)]
    pub tenant: Tenant,
    /// The document id.
    #[arg(value_parser = parse_doc_id)]
    pub id: DocId,
}

fn parse_doc_id(value: &str) -> Result<DocId, String> {
    DocId::new(value).map_err(|e| e.to_string())
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
pub fn progress() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{msg} {bar:30} {pos}/{len}") {
        bar.set_style(style);
    }
    bar
}

pub async fn store(global: &Global) -> anyhow::Result<TenantStore> {
    let client = super::connect(global, "switchboard-tenant-data").await?;
    Ok(TenantStore::open(&client).await?)
}

pub async fn run(global: &Global, cmd: KbCommand) -> anyhow::Result<()> {
    match cmd {
        KbCommand::Import(args) => {
            let store = store(global).await?;
            let report =
                import::import_documents(&store, &args.tenant, &args.paths, &progress()).await?;
            for d in &report {
                println!(
                    "{}: {} ({} passages, revision {}) from {}",
                    d.id,
                    d.change.as_str(),
                    d.passages,
                    d.revision,
                    d.file
                );
            }
            let written = report
                .iter()
                .filter(|d| d.change != Change::Unchanged)
                .count();
            println!(
                "{}: {} documents imported, {written} written",
                args.tenant,
                report.len()
            );
        }
        KbCommand::List(args) => {
            let store = store(global).await?;
            let docs = import::list_documents(&store, &args.tenant).await?;
            for d in &docs {
                if args.json {
                    let line = serde_json::json!({
                        "id": d.id.as_str(), "title": d.title, "language": d.language,
                        "tags": d.tags, "passages": d.passages, "revision": d.revision,
                    });
                    println!("{line}");
                } else {
                    println!(
                        "{}\t{}\t{}\t{} passages\trevision {}",
                        d.id, d.title, d.language, d.passages, d.revision
                    );
                }
            }
            if !args.json && docs.is_empty() {
                println!("{}: no documents", args.tenant);
            }
        }
        KbCommand::Remove(args) => {
            let store = store(global).await?;
            import::remove_document(&store, &args.tenant, &args.id).await?;
            println!("{}: document {} removed", args.tenant, args.id);
        }
    }
    Ok(())
}
