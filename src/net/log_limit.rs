//! Rate limits for warnings a misbehaving peer can repeat at will (bad
//! frames, refused handshakes): the first few of each window are logged,
//! the rest are counted and reported with the next one that is logged, so a
//! flood costs a line per window instead of a line per connection.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// One warning's budget: `burst` lines per `window`.
pub struct LogLimit {
    burst: u32,
    window: Duration,
    state: Mutex<Window>,
}

struct Window {
    started: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

impl LogLimit {
    pub const fn new(burst: u32, window: Duration) -> LogLimit {
        LogLimit {
            burst,
            window,
            state: parking_lot::const_mutex(Window {
                started: None,
                logged: 0,
                suppressed: 0,
            }),
        }
    }

    /// `Some(n)` when this occurrence may be logged, `n` being how many
    /// were suppressed since the last logged one; `None` to stay silent.
    pub fn check(&self) -> Option<u64> {
        self.check_at(Instant::now())
    }

    fn check_at(&self, now: Instant) -> Option<u64> {
        let mut w = self.state.lock();
        let expired = w
            .started
            .is_none_or(|started| now.duration_since(started) >= self.window);
        if expired {
            w.started = Some(now);
            w.logged = 0;
        }
        if w.logged < self.burst {
            w.logged += 1;
            Some(std::mem::take(&mut w.suppressed))
        } else {
            w.suppressed += 1;
            None
        }
    }
}

/// `tracing::warn!` through a [`LogLimit`]: adds `suppressed` (the count
/// held back since the previous line) to the fields.
#[macro_export]
macro_rules! warn_limited {
    ($limit:expr, $($rest:tt)+) => {
        if let Some(suppressed) = $limit.check() {
            tracing::warn!(suppressed, $($rest)+);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_logged_then_counted_until_the_window_ends() {
        let limit = LogLimit::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(limit.check_at(t0), Some(0));
        assert_eq!(limit.check_at(t0), Some(0));
        for _ in 0..5 {
            assert_eq!(limit.check_at(t0 + Duration::from_secs(1)), None);
        }
        // The next window's first line reports what was held back.
        assert_eq!(limit.check_at(t0 + Duration::from_secs(61)), Some(5));
        assert_eq!(limit.check_at(t0 + Duration::from_secs(62)), Some(0));
        assert_eq!(limit.check_at(t0 + Duration::from_secs(63)), None);
    }
}
