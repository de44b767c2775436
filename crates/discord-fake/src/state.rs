//! What the fake remembers: the registered webhook, its rate-limit bucket,
//! pending faults, and everything it received.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Discord's epoch (2015-01-01) in unix milliseconds, for snowflake ids.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    pub fn new(webhook_id: &str, token: &str) -> Shared {
        Shared {
            state: Mutex::new(State::new(webhook_id, token)),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the fake from the others.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub(crate) struct State {
    pub webhook_id: String,
    pub token: String,
    pub deleted: bool,
    pub bucket: Bucket,
    /// Injected 429s still to answer, and the `retry_after` they announce.
    pub rate_limit_next: u32,
    pub injected_retry_after: f64,
    /// Injected failures still to answer, and their status.
    pub fail_next: u32,
    pub fail_status: u16,
    pub accepted: Vec<Accepted>,
    pub arrivals: Vec<Instant>,
    pub rejected: usize,
    pub rate_limited: usize,
    last_id: u64,
}

/// A message the fake accepted: its id and the body as received.
pub(crate) struct Accepted {
    pub id: String,
    pub body: Value,
}

impl State {
    fn new(webhook_id: &str, token: &str) -> State {
        State {
            webhook_id: webhook_id.to_string(),
            token: token.to_string(),
            deleted: false,
            bucket: Bucket::new(5, Duration::from_secs(2)),
            rate_limit_next: 0,
            injected_retry_after: 0.0,
            fail_next: 0,
            fail_status: 500,
            accepted: Vec::new(),
            arrivals: Vec::new(),
            rejected: 0,
            rate_limited: 0,
            last_id: 0,
        }
    }

    /// The registered, not deleted webhook is `id`/`token`.
    pub fn knows(&self, id: &str, token: &str) -> bool {
        !self.deleted && id == self.webhook_id && token == self.token
    }

    /// The next snowflake-like id: milliseconds since Discord's epoch in the
    /// high bits, strictly increasing.
    pub fn next_id(&mut self) -> String {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let id = (now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22).max(self.last_id + 1);
        self.last_id = id;
        id.to_string()
    }
}

/// Discord's per-webhook bucket: `limit` requests per fixed `window`.
pub(crate) struct Bucket {
    pub limit: u32,
    pub window: Duration,
    started: Instant,
    used: u32,
}

/// The bucket as the `X-RateLimit-*` headers show it.
#[derive(Clone, Copy)]
pub(crate) struct BucketView {
    pub limit: u32,
    pub remaining: u32,
    pub reset_after: Duration,
}

impl Bucket {
    pub fn new(limit: u32, window: Duration) -> Bucket {
        Bucket {
            limit,
            window,
            started: Instant::now(),
            used: 0,
        }
    }

    /// Spends one request, or says how long until the bucket refills.
    pub fn take(&mut self, now: Instant) -> Result<BucketView, Duration> {
        self.roll(now);
        if self.used >= self.limit {
            return Err(self.reset_after(now));
        }
        self.used += 1;
        Ok(self.view(now))
    }

    /// The bucket without spending anything.
    pub fn view(&mut self, now: Instant) -> BucketView {
        self.roll(now);
        BucketView {
            limit: self.limit,
            remaining: self.limit.saturating_sub(self.used),
            reset_after: self.reset_after(now),
        }
    }

    fn roll(&mut self, now: Instant) {
        if now.duration_since(self.started) >= self.window {
            self.started = now;
            self.used = 0;
        }
    }

    fn reset_after(&self, now: Instant) -> Duration {
        (self.started + self.window).saturating_duration_since(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_refills_after_its_window() {
        let mut bucket = Bucket::new(2, Duration::from_secs(2));
        let start = Instant::now();
        assert_eq!(bucket.take(start).unwrap().remaining, 1);
        assert_eq!(bucket.take(start).unwrap().remaining, 0);
        let wait = bucket
            .take(start + Duration::from_millis(500))
            .err()
            .unwrap();
        assert!(wait <= Duration::from_millis(1500) && wait > Duration::from_millis(1000));
        assert_eq!(
            bucket
                .take(start + Duration::from_secs(3))
                .unwrap()
                .remaining,
            1
        );
    }

    #[test]
    fn ids_always_increase() {
        let mut state = State::new("1", "t");
        let a: u64 = state.next_id().parse().unwrap();
        let b: u64 = state.next_id().parse().unwrap();
        assert!(b > a);
    }
}
