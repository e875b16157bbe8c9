//! Switchboard's workers: the agents, the projector, the gateway and the CLI
//! behind the `switchboard` binary.
//!
//! # Layout
//! - `cli`: the command-line interface (`up`, `streams`, `publish`,
//!   `replay`, `bench`, `schemas`).
//! - `models`: the local, offline models behind the agents: the rule-based
//!   critic, the trainable intent classifier and their evaluation.
//!
//! The binary (`main.rs`) only parses the command line and the environment
//! and calls into this library.

#![forbid(unsafe_code)]

pub mod models;
