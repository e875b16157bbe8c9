//! Switchboard's workers: the agents, the projector, the gateway and the CLI
//! behind the `switchboard` binary.
//!
//! # Layout
//! - [`runtime`]: the worker runtime every agent shares (durable pull
//!   consumer, load / decide / act / append / ack, retries, dead letters).
//! - [`knowledge`]: the tenant knowledge base, BM25 passage retrieval and
//!   order/product/loyalty look-ups (the local knowledge agent).
//! - [`response`]: grounded, template-based drafts, refusals and hand-off
//!   notices (the local response generator).
//! - [`escalation`]: priority, queue and hand-off summary of an escalation.
//! - [`projector`]: the projector (durable consumer folding `conv.>` into
//!   the projection store), rebuild, status and the projection benchmark.
//! - [`models`]: the local, offline models behind the agents: the rule-based
//!   critic, the trainable intent classifier and their evaluation.
//! - [`tenant`]: each tenant's knowledge base and records in a JetStream
//!   KV bucket, imported by the CLI and kept current in every worker.
//! - [`agents`]: the five agents that own workflow steps, over those models.
//! - [`remote`]: the Azure OpenAI / OpenAI-compatible model path for the
//!   agents' capabilities, with retries, a circuit breaker and local fallback.
//!
//! The binary (`main.rs` and its `cli` modules) parses the command line and
//! the environment and calls into this library.

#![forbid(unsafe_code)]

pub mod agents;
pub mod escalation;
pub mod knowledge;
pub mod language;
pub mod models;
pub mod projector;
pub mod remote;
pub mod response;
pub mod runtime;
pub mod tenant;
