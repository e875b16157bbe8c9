//! The `switchboard` binary: parses the command line and the environment
//! (the only place that reads it), sets up logging, and runs a command.

mod cli;
mod memory;

use clap::{CommandFactory, FromArgMatches};

/// mimalloc instead of the system allocator: events are small, short-lived
/// allocations (headers, JSON) made on every core at once, where glibc's
/// malloc spent a quarter of the client's time in the append benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let matches = cli::Cli::command().get_matches();
    let args = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let command = matches
        .subcommand_name()
        .unwrap_or("switchboard")
        .to_owned();
    // Two rustls back-ends are linked (ring, and aws-lc-rs through other
    // crates), so none is the default: TLS to NATS would panic without one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if args.command.writes_for_a_pipe() {
        restore_sigpipe();
    }
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
    // Trace export sends on this runtime, so logging starts inside it.
    let export = match runtime.block_on(async { cli::init_logging(&args, &command) }) {
        Ok(export) => export,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(cli::run(args));
    if let Some(export) = export {
        export.shutdown();
    }
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A one-shot command piped into `head` stops quietly when the reader goes
/// away, as Unix tools do, rather than panicking in `println!` (Rust
/// ignores SIGPIPE by default). Sockets are unaffected: the standard
/// library sends on them with `MSG_NOSIGNAL`.
fn restore_sigpipe() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: called first thing in `main`, before any other thread exists;
    // it restores the default disposition and installs no handler.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}
