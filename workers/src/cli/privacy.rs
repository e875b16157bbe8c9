//! Personal data: where the master key comes from, the event store every
//! command opens (sealing with the key ring when a key is configured), and
//! `switchboard erase customer`, `export customer` and `retention run`.
//!
//! The master key is, in order: `SWITCHBOARD_PRIVACY_KEY` (64 hex digits;
//! how an Azure Key Vault reference reaches a container), the file named by
//! `--privacy-key-file` / `SWITCHBOARD_PRIVACY_KEY_FILE`, or
//! `<data dir>/privacy.key`, which `switchboard up` makes on first start.
//! Without any, personal text is stored as written (a warning says so).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use switchboard_engine::event::Actor;
use switchboard_engine::ids::Tenant;
use switchboard_engine::store::{EventStore, StoreOptions};
use switchboard_workers::privacy::{self, Key, KeyRing, RetentionLedger, RetentionSchedule};
use switchboard_workers::system::Retention;

use super::Global;
use super::projections::{Missing, StoreArgs, open_store};

/// The variable that may hold the master key itself.
pub const KEY_VAR: &str = "SWITCHBOARD_PRIVACY_KEY";
/// The key file's name in the data directory.
pub const KEY_FILE: &str = "privacy.key";

/// The master key, if one is configured. `make_in`: the data directory
/// whose key file is made if missing (what `up` does).
pub fn master_key(global: &Global, make_in: Option<&Path>) -> anyhow::Result<Option<Key>> {
    if let Some(hex) = std::env::var(KEY_VAR).ok().filter(|v| !v.trim().is_empty()) {
        return Ok(Some(Key::from_hex(&hex, KEY_VAR)?));
    }
    if let Some(path) = &global.privacy_key_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the privacy key file {}", path.display()))?;
        return Ok(Some(Key::from_hex(&text, &path.display().to_string())?));
    }
    if let Some(dir) = make_in {
        return Ok(Some(Key::load_or_create_file(&dir.join(KEY_FILE))?));
    }
    let data_dir = std::env::var_os("SWITCHBOARD_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("data"));
    let default = data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&default) {
        Ok(text) => Ok(Some(Key::from_hex(&text, &default.display().to_string())?)),
        Err(_) => Ok(None),
    }
}

/// The key ring over `client`, if a master key is configured.
pub async fn key_ring(
    global: &Global,
    client: &async_nats::Client,
    make_in: Option<&Path>,
) -> anyhow::Result<Option<KeyRing>> {
    match master_key(global, make_in)? {
        Some(key) => Ok(Some(KeyRing::open(client, key).await?)),
        None => Ok(None),
    }
}

/// An event store over `client` that seals personal text with `ring`.
pub fn sealed_store(
    client: async_nats::Client,
    options: StoreOptions,
    ring: Option<&KeyRing>,
) -> EventStore {
    let store = EventStore::new(client, options);
    match ring {
        Some(ring) => store.with_cipher(Arc::new(ring.clone())),
        None => store,
    }
}

/// The event store every command uses: sealing when a key is configured.
pub async fn event_store(
    global: &Global,
    client: async_nats::Client,
    options: StoreOptions,
) -> anyhow::Result<EventStore> {
    let ring = key_ring(global, &client, None).await?;
    Ok(sealed_store(client, options, ring.as_ref()))
}

/// A key ring the command cannot do without.
async fn required_ring(global: &Global, client: &async_nats::Client) -> anyhow::Result<KeyRing> {
    key_ring(global, client, None).await?.ok_or_else(|| {
        anyhow::anyhow!(
            "no personal-data master key: set {KEY_VAR}, --privacy-key-file, or run beside `switchboard up`'s data directory"
        )
    })
}

/// `<tenant>/<customer>`.
fn parse_customer(address: &str) -> anyhow::Result<(Tenant, String)> {
    let (tenant, customer) = address.split_once('/').with_context(|| {
        format!("{address:?} is not <tenant>/<customer> (e.g. brewvi/persona_001)")
    })?;
    anyhow::ensure!(
        !customer.is_empty(),
        "{address:?}: the customer id is empty"
    );
    Ok((Tenant::new(tenant)?, customer.to_owned()))
}

/// A period: a number of seconds, or a number with `s`, `m`, `h` or `d`.
pub fn parse_period(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a period like 30d, 12h, 90m or 3600"))?;
    let unit_secs: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(format!("{text:?}: the unit is s, m, h or d")),
    };
    let seconds = n
        .checked_mul(unit_secs)
        .ok_or_else(|| format!("{text:?} is too long a period"))?;
    Ok(Duration::from_secs(seconds))
}

/// `TENANT=PERIOD`, e.g. `brewvi=30d`.
pub fn parse_tenant_period(text: &str) -> Result<(Tenant, Duration), String> {
    let (tenant, period) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not TENANT=PERIOD (e.g. brewvi=30d)"))?;
    let tenant = super::projections::parse_tenant(tenant.trim())?;
    Ok((tenant, parse_period(period)?))
}

/// Retention on a schedule, for `up` and `projector`.
#[derive(Debug, Args, Clone)]
pub struct RetentionScheduleArgs {
    /// A tenant's retention period, TENANT=PERIOD (e.g. brewvi=30d): its
    /// conversations closed longer ago have their texts shredded. Repeat
    /// the flag (or comma-separate) for several tenants; tenants not named
    /// keep everything.
    #[arg(
        long = "retention",
        env = "SWITCHBOARD_RETENTION",
        value_delimiter = ',',
        value_parser = parse_tenant_period
    )]
    pub retention: Vec<(Tenant, Duration)>,
    /// Time between retention passes (the first runs at start).
    #[arg(long, env = "SWITCHBOARD_RETENTION_EVERY", value_parser = parse_period, default_value = "1h")]
    pub retention_every: Duration,
}

impl RetentionScheduleArgs {
    /// The schedule; a tenant named twice or a zero interval is an error.
    pub fn schedule(&self) -> anyhow::Result<RetentionSchedule> {
        anyhow::ensure!(
            !self.retention_every.is_zero(),
            "SWITCHBOARD_RETENTION_EVERY must be at least one second"
        );
        let mut schedule = RetentionSchedule {
            every: self.retention_every,
            ..RetentionSchedule::default()
        };
        for (tenant, period) in &self.retention {
            if schedule.periods.insert(tenant.clone(), *period).is_some() {
                anyhow::bail!("--retention names tenant {tenant} twice");
            }
        }
        Ok(schedule)
    }

    /// What the system needs to run the schedule, if one is configured;
    /// an error when it is but personal data is not encrypted here.
    pub async fn plan(
        &self,
        client: &async_nats::Client,
        ring: Option<&KeyRing>,
    ) -> anyhow::Result<Option<Retention>> {
        let schedule = self.schedule()?;
        if schedule.is_empty() {
            return Ok(None);
        }
        let ring = ring.cloned().ok_or_else(|| {
            anyhow::anyhow!(
                "--retention needs a personal-data master key ({KEY_VAR} or --privacy-key-file): \
                 without one, texts are not encrypted and cannot be shredded"
            )
        })?;
        let ledger = RetentionLedger::open(client).await?;
        Ok(Some(Retention {
            ring,
            ledger,
            schedule,
        }))
    }
}

#[derive(Debug, Subcommand)]
pub enum EraseCommand {
    /// Shred a customer's keys: every text of theirs reads as erased from
    /// now on (the log keeps types, intents, verdicts and timings), the
    /// projections drop their text, and an `erased` event records it.
    Customer {
        /// `<tenant>/<customer>`.
        address: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Everything held about a customer as JSON (subject access request):
    /// their conversations with texts decrypted, and the projections.
    Customer(ExportCustomerArgs),
}

#[derive(Debug, Args)]
pub struct ExportCustomerArgs {
    /// `<tenant>/<customer>`.
    address: String,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Shred the keys of a tenant's conversations closed longer ago than
    /// the period; prints what was shredded as JSON.
    Run(RetentionArgs),
}

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// The tenant.
    #[arg(long)]
    tenant: String,
    /// How long closed conversations keep their texts (30d, 12h, 3600...).
    #[arg(long, value_parser = parse_period)]
    period: Duration,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn erase(global: &Global, cmd: EraseCommand) -> anyhow::Result<()> {
    let EraseCommand::Customer { address } = cmd;
    let (tenant, customer) = parse_customer(&address)?;
    let client = super::connect(global, "switchboard-erase").await?;
    let ring = required_ring(global, &client).await?;
    let store = sealed_store(client.clone(), StoreOptions::default(), Some(&ring));
    let report =
        privacy::erase_customer(&store, &ring, &tenant, &customer, Actor::human("operator"))
            .await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    client.drain().await.ok();
    Ok(())
}

pub async fn export(global: &Global, cmd: ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Customer(args) = cmd;
    let (tenant, customer) = parse_customer(&args.address)?;
    let client = super::connect(global, "switchboard-export").await?;
    let ring = required_ring(global, &client).await?;
    let store = sealed_store(client.clone(), StoreOptions::default(), Some(&ring));
    let projections = open_store(&args.store, Missing::Create).await?;
    let export = privacy::export_customer(
        &store,
        &ring,
        Some(projections.as_ref()),
        &tenant,
        &customer,
    )
    .await?;
    let text = serde_json::to_string_pretty(&export)?;
    match &args.out {
        Some(path) => std::fs::write(path, text + "\n")
            .with_context(|| format!("writing {}", path.display()))?,
        None => writeln!(std::io::stdout().lock(), "{text}")?,
    }
    eprintln!(
        "exported {} conversations of {}",
        export.conversations.len(),
        args.address
    );
    projections.close().await.ok();
    client.drain().await.ok();
    Ok(())
}

pub async fn retention(global: &Global, cmd: RetentionCommand) -> anyhow::Result<()> {
    let RetentionCommand::Run(args) = cmd;
    let tenant = Tenant::new(&args.tenant)?;
    let client = super::connect(global, "switchboard-retention").await?;
    let ring = required_ring(global, &client).await?;
    let store = sealed_store(client.clone(), StoreOptions::default(), Some(&ring));
    let projections = open_store(&args.store, Missing::Refuse).await?;
    let now = chrono::Utc::now();
    let report = privacy::apply_retention(
        &store,
        &ring,
        projections.as_ref(),
        &tenant,
        args.period,
        now,
    )
    .await?;
    RetentionLedger::open(&client)
        .await?
        .record(&report, args.period, now)
        .await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    projections.close().await.ok();
    client.drain().await.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_flags_make_a_schedule_and_bad_ones_are_named() {
        let args = RetentionScheduleArgs {
            retention: vec![parse_tenant_period("brewvi=30d").expect("valid")],
            retention_every: Duration::from_secs(600),
        };
        let schedule = args.schedule().expect("valid");
        let brewvi = Tenant::new("brewvi").expect("valid");
        assert_eq!(schedule.periods[&brewvi], Duration::from_secs(30 * 86_400));
        assert_eq!(schedule.every, Duration::from_secs(600));
        for bad in ["brewvi", "brewvi=", "bad tenant=1d", "brewvi=3w"] {
            assert!(parse_tenant_period(bad).is_err(), "{bad}");
        }
        assert!(parse_period("99999999999999999d").is_err());
        let twice = RetentionScheduleArgs {
            retention: vec![(brewvi.clone(), Duration::ZERO), (brewvi, Duration::ZERO)],
            ..args.clone()
        };
        assert!(twice.schedule().is_err());
        let never = RetentionScheduleArgs {
            retention_every: Duration::ZERO,
            ..args
        };
        assert!(never.schedule().is_err());
    }

    #[test]
    fn periods_parse_with_units_and_bad_ones_are_named() {
        assert_eq!(parse_period("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_period("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_period("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert!(parse_period("3w").is_err_and(|e| e.contains("unit")));
        assert!(parse_period("soon").is_err_and(|e| e.contains("\"soon\"")));
    }

    #[test]
    fn customer_addresses_need_a_tenant_and_an_id() {
        let (tenant, customer) = parse_customer("brewvi/persona_001").expect("valid");
        assert_eq!(
            (tenant.as_str(), customer.as_str()),
            ("brewvi", "persona_001")
        );
        assert!(parse_customer("brewvi").is_err());
        assert!(parse_customer("brewvi/").is_err());
        assert!(parse_customer("a.b/c").is_err());
    }
}
