//! `switchboard audit`: signed, hash-chained exports of the log, and their
//! verification (see the library's `audit` module for the format).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use switchboard_engine::ids::{ConversationId, Tenant};
use switchboard_engine::store::{EventStore, StoreOptions};
use switchboard_workers::audit::{self, AuditKey, ExportFilter};

use super::Global;
use super::projections::parse_tenant;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write a tenant's log (or one conversation's) as signed JSON lines.
    Export {
        /// The tenant.
        #[arg(long, value_parser = parse_tenant)]
        tenant: Tenant,
        /// Only this conversation id.
        #[arg(long)]
        conversation: Option<String>,
        /// Only messages stored at or after this time (RFC 3339).
        #[arg(long)]
        from: Option<DateTime<Utc>>,
        /// Only messages stored before this time (RFC 3339).
        #[arg(long)]
        to: Option<DateTime<Utc>>,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check an export: every line's hash and link, and the signature.
    Verify {
        /// The export file.
        file: PathBuf,
        /// The trusted public key (hex); default: the deployment's, read from NATS.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Print the deployment's audit public key (hex) for auditors.
    PublicKey,
}

pub async fn run(global: &Global, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Export {
            tenant,
            conversation,
            from,
            to,
            out,
        } => {
            let conversation = conversation
                .as_deref()
                .map(ConversationId::new)
                .transpose()?;
            let filter = ExportFilter {
                tenant,
                conversation,
                from,
                to,
            };
            let client = super::connect(global, "switchboard-audit").await?;
            let key = AuditKey::load_or_create(&client).await?;
            let store = EventStore::new(client.clone(), StoreOptions::default());
            let summary = match &out {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .with_context(|| format!("creating {}", path.display()))?;
                    let mut writer = std::io::BufWriter::new(file);
                    let summary = audit::export(&store, &key, &filter, &mut writer).await?;
                    writer.flush()?;
                    summary
                }
                None => {
                    let mut stdout = std::io::stdout().lock();
                    audit::export(&store, &key, &filter, &mut stdout).await?
                }
            };
            eprintln!("exported {} messages, head {}", summary.lines, summary.head);
            client.drain().await.ok();
        }
        AuditCommand::Verify { file, public_key } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let trusted = match public_key {
                Some(hex) => audit::parse_public_key(&hex)?,
                None => {
                    let client = super::connect(global, "switchboard-audit").await?;
                    AuditKey::load_or_create(&client).await?.verifying_key()
                }
            };
            let verified = audit::verify(&text, &trusted)
                .with_context(|| format!("{} does not verify", file.display()))?;
            println!(
                "{}: {} messages, chain intact, signed by {}",
                file.display(),
                verified.lines,
                verified.public_key
            );
        }
        AuditCommand::PublicKey => {
            let client = super::connect(global, "switchboard-audit").await?;
            println!("{}", AuditKey::load_or_create(&client).await?.public_hex());
        }
    }
    Ok(())
}
