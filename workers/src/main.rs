//! The `switchboard` binary: parses the command line and the environment
//! (the only place that reads it), sets up logging, and runs a command.

mod cli;

use clap::Parser;

/// mimalloc instead of the system allocator: events are small, short-lived
/// allocations (headers, JSON) made on every core at once, where glibc's
/// malloc spent a quarter of the client's time in the append benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    // Two rustls back-ends are linked (ring, and aws-lc-rs through other
    // crates), so none is the default: TLS to NATS would panic without one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    cli::init_logging(&args);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
