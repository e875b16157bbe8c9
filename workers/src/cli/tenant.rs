//! `switchboard tenant import | seed-demo`: a tenant's records (products,
//! orders, customers, loyalty accounts) in the tenant-data bucket. Parsing
//! arguments and printing only; the work is
//! [`switchboard_workers::tenant::import`].

use std::path::PathBuf;

use clap::{Args, Subcommand};
use switchboard_engine::ids::Tenant;
use switchboard_workers::tenant::{DEMO_TENANT, TenantData, import};

use super::Global;
use super::kb::{progress, store};

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Import records from a directory (searched recursively):
    /// products.json, orders.json, customers.json or personas.json,
    /// loyalty.json or loyalty-program.json, in the project's shapes
    /// (workers/kb/brewvi) or the Shopify-like shapes of the BrewVi sample.
    /// Kinds without a file keep their data; nothing is written if any
    /// record is bad.
    Import(ImportArgs),
    /// Load the BrewVi demo tenant if it has no data yet (what `up` does on
    /// first start), for distributed deployments.
    SeedDemo,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tenant.
    #[arg(value_parser = super::projections::parse_tenant)]
    pub tenant: Tenant,
    /// The directory holding the record files.
    pub dir: PathBuf,
}

pub async fn run(global: &Global, cmd: TenantCommand) -> anyhow::Result<()> {
    let store = store(global).await?;
    match cmd {
        TenantCommand::Import(args) => {
            let report =
                import::import_records(&store, &args.tenant, &args.dir, &progress()).await?;
            for r in &report {
                let converted = if r.converted > 0 {
                    format!(", {} converted from the Shopify-like shape", r.converted)
                } else {
                    String::new()
                };
                println!(
                    "{}: {} ({} records{converted}, revision {}) from {}",
                    r.kind.key_token(),
                    r.change.as_str(),
                    r.count,
                    r.revision,
                    r.file
                );
            }
        }
        TenantCommand::SeedDemo => {
            let tenant = Tenant::new(DEMO_TENANT)?;
            if import::seed_if_absent(&store, &tenant, &TenantData::demo()?).await? {
                println!("{tenant}: demo data loaded");
            } else {
                println!("{tenant}: has data already, left as it is");
            }
        }
    }
    Ok(())
}
