//! The log's sentry: every message on `conv.>` that is not a valid event is
//! dead-lettered with the reason, and its conversation goes to a human.
//!
//! Agents only see the event types their consumers filter on, so a message
//! of an unknown type, on a subject with an extra token, or malformed on a
//! type no agent reads would otherwise be stored and never reported. The
//! projector reads every message in order already; it reports what it
//! cannot decode before its checkpoint moves past it, so a crash can repeat
//! a report (deduplicated: one dead letter per stored message) but never
//! skip one.

use std::time::Duration;

use switchboard_engine::store::EventStore;
use tokio::sync::watch;

use super::decode::Rejected;
use crate::runtime::{Reason, StepError, bury};

/// Dead-letters every rejected message, retrying while NATS is unavailable.
/// `false` when shutdown interrupted it (the batch is not written, so it is
/// read and reported again on restart).
pub(super) async fn report(
    store: &EventStore,
    rejected: &[Rejected],
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    for r in rejected {
        let error = StepError::permanent(
            "undecodable",
            format!("not a valid event ({:?}): {}", r.error.kind(), r.error),
        );
        let reason = Reason {
            by: "sentry",
            error: &error,
            attempts: 1,
        };
        let mut attempt = 0u32;
        loop {
            match bury(store, &r.letter, &reason).await {
                Ok(_) => break,
                Err(e) => {
                    attempt += 1;
                    tracing::warn!(error = %e, seq = r.letter.seq, "could not dead-letter an undecodable message; retrying");
                    let delay = Duration::from_millis(50 * 2u64.pow(attempt.min(7)));
                    tokio::select! {
                        _ = shutdown.changed() => return false,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }
    true
}
