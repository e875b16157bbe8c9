//! Switchboard's workers: the agents, the projector, the gateway and the CLI
//! behind the `switchboard` binary.
//!
//! # Layout
//! - `cli`: the command-line interface (`up`, `streams`, `publish`,
//!   `replay`, `bench`, `schemas`).
//! - [`projector`]: the projector (durable consumer folding `conv.>` into
//!   the projection store), rebuild, status and the projection benchmark.
//!
//! The binary (`main.rs`) only parses the command line and the environment
//! and calls into this library.

#![forbid(unsafe_code)]

pub mod projector;
