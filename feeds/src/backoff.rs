//! Reconnect delays: `retry_backoff_ms` doubled per failed attempt, capped, and back to the
//! start once a connection delivered data.

use std::time::Duration;

/// Capped exponential backoff.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// Starts at `first`, never above `max`.
    pub fn new(first: Duration, max: Duration) -> Self {
        Self { first, max: max.max(first), attempt: 0 }
    }

    /// The delay before the next attempt; each call doubles the following one.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32 << self.attempt.min(20);
        self.attempt = self.attempt.saturating_add(1);
        self.first.saturating_mul(factor).min(self.max)
    }

    /// Back to the first delay (a connection worked).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_millis(1_500));
        let delays: Vec<u128> = (0..5).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, [250, 500, 1000, 1500, 1500]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(250));
        let mut long = Backoff::new(Duration::from_millis(10), Duration::from_secs(30));
        assert!((0..100).map(|_| long.next_delay()).all(|d| d <= Duration::from_secs(30)), "no overflow past the cap");
    }
}
