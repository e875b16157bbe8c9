//! `switchboard schemas`: write or check the event JSON Schemas and the
//! gateway's OpenAPI document in `schemas/`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use switchboard_engine::event::EventType;
use switchboard_engine::event::schema::{current_schema_text, schema_path};
use switchboard_workers::gateway::openapi_document;

/// The gateway's OpenAPI document, beside the event schemas.
pub const OPENAPI_FILE: &str = "openapi.json";

#[derive(Debug, Subcommand)]
pub enum SchemasCommand {
    /// Write the current version of every event schema into DIR.
    Export {
        /// The schemas directory.
        #[arg(long, default_value = "schemas")]
        dir: PathBuf,
    },
    /// Fail if DIR differs from what this build's types describe.
    Check {
        /// The schemas directory.
        #[arg(long, default_value = "schemas")]
        dir: PathBuf,
    },
}

pub fn run(cmd: SchemasCommand) -> anyhow::Result<()> {
    match cmd {
        SchemasCommand::Export { dir } => {
            for t in EventType::ALL {
                let path = dir.join(schema_path(t, t.current_version()));
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                std::fs::write(&path, current_schema_text(t))
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            }
            let path = dir.join(OPENAPI_FILE);
            std::fs::write(&path, openapi_document())
                .with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(())
        }
        SchemasCommand::Check { dir } => {
            let mut stale = Vec::new();
            for t in EventType::ALL {
                let path = dir.join(schema_path(t, t.current_version()));
                let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
                if on_disk != current_schema_text(t) {
                    stale.push(path.display().to_string());
                }
            }
            let path = dir.join(OPENAPI_FILE);
            if std::fs::read_to_string(&path).unwrap_or_default() != openapi_document() {
                stale.push(path.display().to_string());
            }
            anyhow::ensure!(
                stale.is_empty(),
                "schemas differ from the Rust types or the gateway's routes: {}\nrun `switchboard schemas export` after a compatible change, or add a new version",
                stale.join(", ")
            );
            println!("all {} schemas match", EventType::ALL.len());
            Ok(())
        }
    }
}
