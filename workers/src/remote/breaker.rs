//! A circuit breaker so a failing model service is not hammered.
//!
//! Closed: calls go through; `failure_threshold` consecutive service failures
//! open it. Open: calls fail at once with `CircuitOpen` until `cool_down` has
//! passed. Half-open: exactly one probe goes through; its success closes the
//! circuit, its failure opens it again. The clock is a parameter (`now`), so
//! the state machine is tested without sleeping.

use std::time::{Duration, Instant};

use super::config::BreakerConfig;

/// The breaker's state, for health reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail fast.
    Open,
    /// One probe is (or may be) in flight.
    HalfOpen,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probe_since: Instant },
}

/// What a call may do, once let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ticket {
    /// The circuit is closed: an ordinary call, retried per the config.
    Call,
    /// The half-open probe: one attempt, never retried, so a dead service
    /// re-opens the circuit after one try.
    Probe,
}

/// A change of state worth telling the operator about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    /// The circuit opened (after this many consecutive failures; 1 when a
    /// probe failed).
    Opened {
        /// Consecutive failures that opened it.
        failures: u32,
    },
    /// A call succeeded while the circuit was open or half-open.
    Closed,
}

/// The state machine; [`RemoteModel`](super::RemoteModel) keeps one behind a
/// mutex and records the outcome of each call.
#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    state: State,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: State::Closed { failures: 0 },
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        match self.state {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// May a call go out now? `Err` carries how long until the next probe.
    /// A probe that never reports back (its future was dropped) is replaced
    /// by a new one after another cool-down, so the breaker cannot wedge.
    pub(crate) fn acquire(&mut self, now: Instant) -> Result<Ticket, Duration> {
        match self.state {
            State::Closed { .. } => Ok(Ticket::Call),
            State::Open { until } if now < until => Err(until - now),
            State::HalfOpen { probe_since } if now < probe_since + self.config.cool_down => {
                Err(probe_since + self.config.cool_down - now)
            }
            State::Open { .. } | State::HalfOpen { .. } => {
                self.state = State::HalfOpen { probe_since: now };
                Ok(Ticket::Probe)
            }
        }
    }

    /// The service answered (even if the answer was unusable).
    pub(crate) fn success(&mut self) -> Option<Transition> {
        let was_closed = matches!(self.state, State::Closed { .. });
        self.state = State::Closed { failures: 0 };
        (!was_closed).then_some(Transition::Closed)
    }

    /// The service failed (timeout, throttling, unavailable).
    pub(crate) fn failure(&mut self, now: Instant) -> Option<Transition> {
        let open = State::Open {
            until: now + self.config.cool_down,
        };
        let (next, transition) = match self.state {
            State::Closed { failures } if failures + 1 < self.config.failure_threshold => (
                State::Closed {
                    failures: failures + 1,
                },
                None,
            ),
            State::Closed { failures } => (
                open,
                Some(Transition::Opened {
                    failures: failures + 1,
                }),
            ),
            State::HalfOpen { .. } => (open, Some(Transition::Opened { failures: 1 })),
            // A call let through before the circuit opened failed late.
            State::Open { .. } => (open, None),
        };
        self.state = next;
        transition
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL: Duration = Duration::from_secs(30);

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig {
            failure_threshold: 3,
            cool_down: COOL,
        })
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let t0 = Instant::now();
        let mut b = breaker();
        b.failure(t0);
        b.failure(t0);
        assert_eq!(b.success(), None, "a closed circuit stays closed");
        assert_eq!(b.failure(t0), None);
        assert_eq!(b.failure(t0), None);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.acquire(t0), Ok(Ticket::Call));
        assert_eq!(b.failure(t0), Some(Transition::Opened { failures: 3 }));
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(
            b.acquire(t0 + Duration::from_secs(10)),
            Err(COOL - Duration::from_secs(10))
        );
    }

    #[test]
    fn half_open_lets_one_probe_and_success_closes() {
        let t0 = Instant::now();
        let mut b = breaker();
        for _ in 0..3 {
            b.failure(t0);
        }
        let later = t0 + COOL;
        assert_eq!(
            b.acquire(later),
            Ok(Ticket::Probe),
            "cool-down over: one probe"
        );
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(
            b.acquire(later).is_err(),
            "second caller waits for the probe"
        );
        assert_eq!(b.success(), Some(Transition::Closed));
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.acquire(later), Ok(Ticket::Call));
    }

    #[test]
    fn failed_probe_reopens() {
        let t0 = Instant::now();
        let mut b = breaker();
        for _ in 0..3 {
            b.failure(t0);
        }
        let probe = t0 + COOL;
        assert_eq!(b.acquire(probe), Ok(Ticket::Probe));
        assert_eq!(b.failure(probe), Some(Transition::Opened { failures: 1 }));
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(
            b.acquire(probe + Duration::from_secs(1)),
            Err(COOL - Duration::from_secs(1))
        );
        assert_eq!(
            b.acquire(probe + COOL),
            Ok(Ticket::Probe),
            "next probe after a new cool-down"
        );
    }

    #[test]
    fn lost_probe_is_replaced_after_a_cool_down() {
        let t0 = Instant::now();
        let mut b = breaker();
        for _ in 0..3 {
            b.failure(t0);
        }
        assert_eq!(b.acquire(t0 + COOL), Ok(Ticket::Probe));
        // The probe's future was dropped: no outcome recorded.
        assert!(b.acquire(t0 + COOL + Duration::from_secs(29)).is_err());
        assert_eq!(b.acquire(t0 + COOL * 2), Ok(Ticket::Probe));
        assert_eq!(b.state(), BreakerState::HalfOpen);
    }
}
