//! The Cosmos DB projection suites (the store contract, the queries, the
//! guarded rebuild swap and a rebuild equal to a SQLite replay) against a
//! Cosmos SQL-API server on loopback: npm `@vercel/cosmosdb-server` behind
//! the test-only bridge of `tests/cosmos/server.mjs`
//! ([`switchboard_tests::cosmos`]). The same suites run against a real
//! account in `projections.rs` when `COSMOS_ENDPOINT` is set.
//!
//! Its own binary without the libtest harness: the SDK reads its HTTP/2,
//! binary-encoding and trusted-root settings from the environment, which is
//! set here once, before any thread that could read it exists. It speaks
//! enough of libtest's command line for `cargo test`: name filters,
//! `--list`, and `--ignored` (it has no ignored tests, so runs none).
//! Without node or the npm package it reports itself ignored, or fails
//! when `SWITCHBOARD_REQUIRE_COSMOS_EMULATOR=1` (as `./dev test` sets).

#[path = "projections/common.rs"]
mod common;
#[allow(dead_code, unused_imports)]
#[path = "projections/contract.rs"]
mod contract;
#[allow(dead_code, unused_imports)]
#[path = "projections/queries.rs"]
mod queries;
mod support;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::process::ExitCode;

// The suites reach the shared helpers as `super::…`.
#[allow(unused_imports)]
use common::*;
use switchboard_engine::projection::cosmos::{CosmosAuth, CosmosConfig};
use switchboard_tests::cosmos::{self as emulator, CosmosServer};

type Case = fn(CosmosConfig) -> Pin<Box<dyn Future<Output = ()>>>;

/// (name, database suffix, suite): each suite on a database of its own.
const CASES: &[(&str, &str, Case)] = &[
    ("contract_and_queries_on_the_cosmos_emulator", "", |c| {
        Box::pin(contract::contract_and_queries_on(c))
    }),
    ("rebuild_on_the_cosmos_emulator", "-rebuild", |c| {
        Box::pin(contract::rebuild_on(c))
    }),
];

const PREFIX: &str = "cosmos_emulator::";

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list {
        for (name, ..) in CASES {
            println!("{PREFIX}{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let selected: Vec<_> = CASES
        .iter()
        .filter(|(name, ..)| !args.ignored && args.selects(&format!("{PREFIX}{name}")))
        .collect();
    println!("\nrunning {} tests", selected.len());
    if selected.is_empty() {
        println!("\ntest result: ok. 0 passed; 0 failed; 0 ignored\n");
        return ExitCode::SUCCESS;
    }
    let server = match CosmosServer::start() {
        Ok(server) => server,
        Err(reason) => return unavailable(&selected, &reason),
    };
    for (name, value) in server.client_env() {
        // SAFETY: no other thread of this process reads or writes the
        // environment: the only one so far reads the server's stdout.
        unsafe { std::env::set_var(name, value) };
    }
    let failed = run(&selected, &server);
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        selected.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("the Cosmos server's log:\n{}", server.log());
        ExitCode::FAILURE
    }
}

/// Runs each case on a runtime of its own; the names of those that failed.
fn run(cases: &[&(&str, &str, Case)], server: &CosmosServer) -> Vec<String> {
    let mut failed = Vec::new();
    for (name, suffix, case) in cases {
        let mut config = CosmosConfig::new(
            server.endpoint().to_owned(),
            CosmosAuth::Key(emulator::KEY.into()),
        );
        config.database = format!("switchboard-tests{suffix}");
        config.create_if_missing = true;
        let outcome = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map(|runtime| {
                std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(case(config))))
            });
        let ok = matches!(outcome, Ok(Ok(())));
        println!(
            "test {PREFIX}{name} ... {}",
            if ok { "ok" } else { "FAILED" }
        );
        if !ok {
            failed.push((*name).to_owned());
        }
    }
    failed
}

/// Reported as ignored, with the reason, unless the run requires the server.
fn unavailable(cases: &[&(&str, &str, Case)], reason: &str) -> ExitCode {
    let required = emulator::required();
    for (name, ..) in cases {
        let outcome = if required { "FAILED" } else { "ignored, " };
        let why = if required { "" } else { reason };
        println!("test {PREFIX}{name} ... {outcome}{why}");
    }
    if required {
        eprintln!("the Cosmos test server is required here but cannot start: {reason}");
        return ExitCode::FAILURE;
    }
    println!(
        "\ntest result: ok. 0 passed; 0 failed; {} ignored\n",
        cases.len()
    );
    ExitCode::SUCCESS
}

/// The part of libtest's command line this binary honours.
#[derive(Default)]
struct Args {
    filters: Vec<String>,
    skips: Vec<String>,
    exact: bool,
    ignored: bool,
    list: bool,
}

impl Args {
    fn parse() -> Self {
        let mut args = Self::default();
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--list" => args.list = true,
                "--ignored" => args.ignored = true,
                "--exact" => args.exact = true,
                "--skip" => args.skips.extend(it.next()),
                // Options with a value this binary has no use for.
                "--test-threads" | "--format" | "--color" | "--logfile" | "-Z" => {
                    it.next();
                }
                flag if flag.starts_with('-') => {}
                filter => args.filters.push(filter.to_owned()),
            }
        }
        args
    }

    fn selects(&self, name: &str) -> bool {
        let matches = |pattern: &String| {
            if self.exact {
                name == pattern
            } else {
                name.contains(pattern.as_str())
            }
        };
        (self.filters.is_empty() || self.filters.iter().any(matches))
            && !self.skips.iter().any(|s| name.contains(s.as_str()))
    }
}
