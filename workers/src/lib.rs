//! Switchboard's workers: the agents, the projector, the gateway and the CLI
//! behind the `switchboard` binary.
//!
//! # Layout
//! - [`runtime`]: the worker runtime every agent shares (durable pull
//!   consumer, load / decide / act / append / ack, retries, dead letters).
//! - [`remote`]: the Azure OpenAI / OpenAI-compatible model path for the
//!   agents' capabilities, with retries, a circuit breaker and local fallback.
//!
//! The binary (`main.rs` and its `cli` modules) parses the command line and
//! the environment and calls into this library.

#![forbid(unsafe_code)]

pub mod remote;
pub mod runtime;
