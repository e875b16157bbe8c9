//! Operations: every long-running process (each `worker`, the `projector`,
//! the `gateway`, `up`) serves `/metrics`, `/healthz` and `/readyz` on one
//! address of its own, and `switchboard health` checks them without curl.
//!
//! # What ready means
//! `/readyz` answers 200 only when every NATS connection the process
//! registered is `Connected` and every [`Part`] it registered is ready;
//! otherwise 503 with a JSON body naming each reason. The parts:
//! - a worker ([`crate::runtime`]): starting until its durable consumer is
//!   bound and a fetch has come back with fewer messages than it asked for
//!   (the backlog it found at start fits in its window: it has caught up);
//!   then ready, until a fetch fails (down until one succeeds again);
//! - the projector ([`crate::projector`]): catching up while the log holds
//!   more than one batch of events past its checkpoint after it (re)starts
//!   projecting; ready once within a batch, down while the projection store
//!   refuses writes; a replica without the lease is a standby (ready);
//! - a store probe ([`gauges::probe`]): the projection store answers a
//!   cheap read (checkpoints) every few seconds, for the gateway;
//! - the gateway: ready once it listens.
//!
//! The handler only reads these states; the work to keep them current is
//! done by the parts themselves or by periodic tasks ([`gauges`]), which
//! also set the consumer-pending and projection-lag gauges.

pub mod check;
pub mod gauges;
pub mod readiness;
pub mod server;

pub use check::{CheckError, check};
pub use readiness::{Part, PartState, Readiness, Report};
pub use server::{OpsError, OpsServer, install_recorder};
