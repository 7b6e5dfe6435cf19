//! A circuit breaker, lock-free: after `threshold` failures in a row the
//! store is not asked for `cool_down`; then one request probes it.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub(crate) struct Breaker {
    threshold: u32,
    cool_down: Duration,
    /// How long a probe may take before another request may probe.
    probe_for: Duration,
    origin: Instant,
    failures: AtomicU32,
    /// Milliseconds since `origin`: closed to all until then.
    open_until: AtomicU64,
    /// Milliseconds since `origin` of the latest probe's start (+1; 0: none).
    probing_since: AtomicU64,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, cool_down: Duration, probe_for: Duration) -> Self {
        Breaker {
            threshold: threshold.max(1),
            cool_down,
            probe_for,
            origin: Instant::now(),
            failures: AtomicU32::new(0),
            open_until: AtomicU64::new(0),
            probing_since: AtomicU64::new(0),
        }
    }

    pub(crate) fn threshold(&self) -> u32 {
        self.threshold
    }

    pub(crate) fn cool_down(&self) -> Duration {
        self.cool_down
    }

    fn now(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    /// Whether the store may be asked now.
    pub(crate) fn allows(&self) -> bool {
        if self.failures.load(Ordering::SeqCst) < self.threshold {
            return true;
        }
        let now = self.now();
        if now < self.open_until.load(Ordering::SeqCst) {
            return false;
        }
        // Half open: one probe at a time; a probe that never reported back
        // (its request was dropped) stops counting after `probe_for`.
        let since = self.probing_since.load(Ordering::SeqCst);
        if since != 0 && now < since - 1 + self.probe_for.as_millis() as u64 {
            return false;
        }
        self.probing_since
            .compare_exchange(since, now + 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Whether the breaker is open (the store is not being asked).
    pub(crate) fn is_open(&self) -> bool {
        self.failures.load(Ordering::SeqCst) >= self.threshold
    }

    pub(crate) fn succeeded(&self) {
        if self.failures.swap(0, Ordering::SeqCst) >= self.threshold {
            tracing::info!(target: "authorizer", "session store answers again: circuit breaker closed");
        }
        self.probing_since.store(0, Ordering::SeqCst);
    }

    pub(crate) fn failed(&self) {
        let failures = self.failures.fetch_add(1, Ordering::SeqCst) + 1;
        if failures >= self.threshold {
            self.open_until
                .store(self.now() + self.cool_down.as_millis() as u64, Ordering::SeqCst);
            self.probing_since.store(0, Ordering::SeqCst);
            if failures == self.threshold {
                tracing::warn!(
                    target: "authorizer",
                    cool_down_ms = self.cool_down.as_millis() as u64,
                    "session store failing: circuit breaker open"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_lets_one_probe_through() {
        let breaker = Breaker::new(2, Duration::ZERO, Duration::from_secs(60));
        assert!(breaker.allows());
        breaker.failed();
        assert!(breaker.allows() && !breaker.is_open());
        breaker.failed();
        assert!(breaker.is_open());
        // The cool-down (zero here) is over: one probe, not two.
        assert!(breaker.allows());
        assert!(!breaker.allows());
        breaker.succeeded();
        assert!(!breaker.is_open() && breaker.allows() && breaker.allows());
    }

    #[test]
    fn stays_shut_during_the_cool_down() {
        let breaker = Breaker::new(1, Duration::from_secs(3600), Duration::from_secs(1));
        breaker.failed();
        assert!(!breaker.allows());
    }
}
