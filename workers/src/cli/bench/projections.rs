//! `switchboard bench projections`: rebuild throughput (replay, fold and
//! write to SQLite) against a raw read of the same events: an ordered
//! consumer over the same filter, messages counted only, no acks.

use anyhow::Context;
use clap::Args;
use switchboard_workers::projector::{BenchReport, bench_projections};

use super::{Bench, Target};
use crate::cli::Global;

/// The ratio the rebuild should reach against the raw consume (release build).
const TARGET_RATIO: f64 = 0.5;

#[derive(Debug, Args)]
pub struct ProjectionsArgs {
    /// Events published, then both replayed and consumed raw.
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub target: Target,
}

pub async fn run(global: &Global, args: ProjectionsArgs) -> anyhow::Result<()> {
    let bench = Bench::start(global, &args.target).await?;
    let report = bench_projections(bench.store.client().clone(), args.events)
        .await
        .context("running the projections benchmark")?;
    super::emit(&report, args.json, table)
}

fn table(r: &BenchReport) {
    println!("events:            {}", r.events);
    println!("rebuild:           {:.0} events/s", r.rebuild_per_s);
    println!(
        "raw ordered read:  {:.0} events/s  (baseline: same consumer kind and filter, messages counted only, no acks)",
        r.baseline_per_s
    );
    println!(
        "ratio:             {:.2} (target >= {TARGET_RATIO}) {}",
        r.ratio,
        if r.ratio >= TARGET_RATIO {
            "ok"
        } else {
            "below target"
        }
    );
}
