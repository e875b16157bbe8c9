//! `switchboard keys`: the gateway's API keys (create prints the key once).

use clap::Subcommand;
use switchboard_engine::ids::Tenant;
use switchboard_workers::gateway::keys::{KeyStore, Role};

use super::Global;
use super::projections::parse_tenant;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key for one tenant and role; prints the key (only now) on stdout.
    Create {
        /// The only tenant the key reaches.
        #[arg(long, value_parser = parse_tenant)]
        tenant: Tenant,
        /// What it may do.
        #[arg(long, value_enum)]
        role: Role,
        /// Who or what it is for (shown by `keys list`).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List keys (ids, tenants, roles; never the keys themselves).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by its id: it stops working at once on every gateway.
    Revoke {
        /// The key's id (as `keys list` shows it).
        id: String,
    },
}

pub async fn run(global: &Global, command: KeysCommand) -> anyhow::Result<()> {
    let client = super::connect(global, "switchboard-keys").await?;
    let keys = KeyStore::open(&client).await?;
    match command {
        KeysCommand::Create {
            tenant,
            role,
            label,
        } => {
            let (token, record) = keys.create(&tenant, role, &label).await?;
            eprintln!(
                "key {} for tenant {} ({}): store it now, it is not shown again",
                record.id,
                record.tenant,
                record.role.as_str()
            );
            println!("{token}");
        }
        KeysCommand::List { json } => {
            let records = keys.list().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&records)?);
            } else {
                println!(
                    "{:<10} {:<20} {:<8} {:<25} label",
                    "id", "tenant", "role", "created"
                );
                for r in records {
                    println!(
                        "{:<10} {:<20} {:<8} {:<25} {}",
                        r.id,
                        r.tenant,
                        r.role.as_str(),
                        r.created_at
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        r.label
                    );
                }
            }
        }
        KeysCommand::Revoke { id } => {
            let record = keys.revoke(&id).await?;
            println!("revoked key {} of tenant {}", record.id, record.tenant);
        }
    }
    client.drain().await.ok();
    Ok(())
}
