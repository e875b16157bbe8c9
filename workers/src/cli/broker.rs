//! Broker credentials on the command line (`--nats-creds`, `--nats-nkey`,
//! `--nats-ca`, or their `SWITCHBOARD_NATS_*` variables, for every
//! command), and `switchboard streams broker-config`, which writes the
//! nats-server users per role and their seed files.

use std::path::PathBuf;

use clap::Args;
use switchboard_engine::auth::ConnectAuth;
use switchboard_engine::broker;

/// How this process authenticates to NATS and checks its certificate.
#[derive(Debug, Args, Clone, Default)]
pub struct BrokerArgs {
    /// A NATS credentials file (user JWT and seed).
    #[arg(long, global = true, env = "SWITCHBOARD_NATS_CREDS")]
    pub nats_creds: Option<PathBuf>,
    /// A file holding this role's nkey user seed (`streams broker-config`
    /// writes one per role).
    #[arg(long, global = true, env = "SWITCHBOARD_NATS_NKEY")]
    pub nats_nkey: Option<PathBuf>,
    /// The CA (PEM) that signed the server's certificate; requires TLS.
    #[arg(long, global = true, env = "SWITCHBOARD_NATS_CA")]
    pub nats_ca: Option<PathBuf>,
}

impl BrokerArgs {
    /// The settings for [`switchboard_engine::connect_with`].
    pub fn auth(&self) -> ConnectAuth {
        ConnectAuth {
            creds: self.nats_creds.clone(),
            nkey: self.nats_nkey.clone(),
            ca: self.nats_ca.clone(),
        }
    }

    /// What `config check` shows: which files, never their contents.
    pub fn describe(&self) -> String {
        let shown =
            |what: &str, p: &Option<PathBuf>| p.as_ref().map(|p| format!("{what} {}", p.display()));
        let parts: Vec<String> = [
            shown("creds", &self.nats_creds),
            shown("nkey", &self.nats_nkey),
            shown("TLS CA", &self.nats_ca),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// `switchboard streams broker-config`.
#[derive(Debug, Args)]
pub struct BrokerConfigArgs {
    /// Directory to write `server.conf`, `auth.conf` and `<role>.nk` into.
    #[arg(long)]
    pub out: PathBuf,
    /// Address in the generated `server.conf`.
    #[arg(long, default_value = "127.0.0.1:4222")]
    pub listen: String,
    /// JetStream store directory in the generated `server.conf`.
    #[arg(long, default_value = "/data/jetstream")]
    pub store_dir: PathBuf,
}

/// Generates a key pair per role and writes the configuration.
pub fn config(global: &super::Global, args: BrokerConfigArgs) -> anyhow::Result<()> {
    let keys = broker::generate()?;
    let layout = broker::Layout {
        listen: &args.listen,
        store_dir: &args.store_dir,
        partitions: broker::declared_partitions(&global.stream_specs(None)?),
    };
    let written = broker::write(&args.out, &keys, layout)?;
    println!("{}", written.server.display());
    println!("{}", written.authorization.display());
    for (role, path) in &written.seeds {
        println!("{}\t{}", role.name(), path.display());
    }
    Ok(())
}
