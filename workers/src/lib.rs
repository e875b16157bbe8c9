//! Switchboard's workers: the agents, the projector, the gateway and the CLI
//! behind the `switchboard` binary.
//!
//! # Layout
//! - [`runtime`]: the worker runtime every agent shares (durable pull
//!   consumer, load / decide / act / append / ack, retries, dead letters).
//! - [`kv`]: opening the JetStream KV buckets (get, or create on first use).
//! - [`knowledge`]: the tenant knowledge base, BM25 passage retrieval and
//!   order/product/loyalty look-ups (the local knowledge agent).
//! - [`response`]: grounded, template-based drafts, refusals and hand-off
//!   notices (the local response generator).
//! - [`intake`]: customer messages, human replies and closes, validated and
//!   appended idempotently (the CLI's `publish` and the gateway's `POST`s).
//! - [`escalation`]: priority, queue and hand-off summary of an escalation.
//! - [`projector`]: the projector (durable consumer folding `conv.>` into
//!   the projection store), rebuild, status and the projection benchmark.
//! - [`models`]: the local, offline models behind the agents: the rule-based
//!   critic, the trainable intent classifier and their evaluation.
//! - [`tenant`]: each tenant's knowledge base and records in a JetStream
//!   KV bucket, imported by the CLI and kept current in every worker.
//! - [`system`]: agents, projector and gateway in one process under one
//!   shutdown signal (what `up` runs).
//! - [`timeline`]: a conversation's events as steps (actor, decision,
//!   reasons, model, duration), for replay, the gateway and the console.
//! - [`gateway`]: HTTP for channels, operators and auditors (axum), API
//!   keys per tenant and role, problem details, live SSE timelines.
//! - [`audit`]: hash-chained, ed25519-signed exports of the log and their
//!   verification.
//! - [`counterfactual`]: the current version of an agent re-run over
//!   recorded decisions, without writing, and what would differ.
//! - [`agents`]: the five agents that own workflow steps, over those models.
//! - [`capability`]: the traits the agents hold (classify, screen, draft,
//!   validate), implemented by the local models and by the remote fallback.
//! - [`privacy`]: personal text sealed in the log with per-conversation
//!   keys outside it; erasure by crypto-shredding, subject access export,
//!   retention.
//! - [`ops`]: `/metrics`, `/healthz` and `/readyz` of every long-running
//!   process, the readiness its parts report, and `switchboard health`.
//! - [`remote`]: the Azure OpenAI / OpenAI-compatible model path for the
//!   agents' capabilities, with retries, a circuit breaker and local fallback.
//!
//! The binary (`main.rs` and its `cli` modules) parses the command line and
//! the environment and calls into this library.

#![forbid(unsafe_code)]

pub mod agents;
pub mod audit;
pub mod capability;
pub mod counterfactual;
pub mod escalation;
pub mod gateway;
pub mod intake;
pub mod knowledge;
pub mod kv;
pub mod language;
pub mod models;
pub mod ops;
pub mod privacy;
pub mod projector;
pub mod remote;
pub mod response;
pub mod runtime;
pub mod system;
pub mod telemetry;
pub mod tenant;
pub mod timeline;
