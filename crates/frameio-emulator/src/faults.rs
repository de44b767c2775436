//! Fault injection: failing and cut part uploads, slow answers, bursts of
//! 5xx, expired upload URLs, failing API classes.
//!
//! Faults are counted down as requests consume them; [`Faults::clear`]
//! removes every pending fault (state changes such as expired URLs or
//! failed uploads stay).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::config::RouteClass;
use crate::state::{AssetBody, Shared};

/// Pending faults, shared by the server and every [`Faults`] handle.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    inner: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    /// part index -> (times left, status)
    fail_part: HashMap<usize, (u32, u16)>,
    /// part index -> times left
    cut_part: HashMap<usize, u32>,
    slow: Duration,
    burst_5xx: u32,
    /// class -> (times left, status)
    fail_api: HashMap<RouteClass, (u32, u16)>,
    /// class -> delay before the handler acts
    route_delay: HashMap<RouteClass, Duration>,
    /// file name -> (times left, status) for `local_upload`
    fail_named: HashMap<String, (u32, u16)>,
}

fn take_counted<K: std::hash::Hash + Eq, V: Copy>(
    map: &mut HashMap<K, (u32, V)>,
    key: &K,
) -> Option<V> {
    let (times, value) = map.get_mut(key)?;
    let value = *value;
    *times -= 1;
    if *times == 0 {
        map.remove(key);
    }
    Some(value)
}

impl FaultState {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The status a PUT of part `index` must fail with, if any (consumed).
    pub(crate) fn take_part_failure(&self, index: usize) -> Option<u16> {
        take_counted(&mut self.pending().fail_part, &index)
    }

    /// Whether a PUT of part `index` must be cut (consumed).
    pub(crate) fn take_cut(&self, index: usize) -> bool {
        let mut pending = self.pending();
        match pending.cut_part.get_mut(&index) {
            Some(times) => {
                *times -= 1;
                if *times == 0 {
                    pending.cut_part.remove(&index);
                }
                true
            }
            None => false,
        }
    }

    pub(crate) fn delay(&self) -> Duration {
        self.pending().slow
    }

    /// How long a `/v4` request of `class` waits before its handler acts.
    pub(crate) fn route_delay(&self, class: RouteClass) -> Duration {
        self.pending()
            .route_delay
            .get(&class)
            .copied()
            .unwrap_or_default()
    }

    /// Whether this `/v4` request falls in a 5xx burst (consumed).
    pub(crate) fn take_burst(&self) -> bool {
        let mut pending = self.pending();
        if pending.burst_5xx > 0 {
            pending.burst_5xx -= 1;
            true
        } else {
            false
        }
    }

    /// The status a `local_upload` of this file name must fail with, if any
    /// (consumed).
    pub(crate) fn take_named_failure(&self, name: &str) -> Option<u16> {
        take_counted(&mut self.pending().fail_named, &name.to_string())
    }

    /// The status this request of `class` must fail with, if any (consumed).
    pub(crate) fn take_api_failure(&self, class: RouteClass) -> Option<u16> {
        take_counted(&mut self.pending().fail_api, &class)
    }
}

/// A handle to inject faults into a running [`crate::Emulator`]
/// (see [`crate::Emulator::faults`]). Cheap to clone; it does not keep the
/// server running.
#[derive(Clone)]
pub struct Faults {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("pending", &*self.shared.faults.pending())
            .finish()
    }
}

impl Faults {
    /// The next `times` PUTs of part `part_index` (of any file) answer
    /// `status` with an S3-style XML error, after reading the body. The part
    /// is not stored. A later call for the same index replaces this one.
    pub fn fail_part(&self, part_index: usize, times: u32, status: u16) {
        let mut pending = self.shared.faults.pending();
        if times == 0 {
            pending.fail_part.remove(&part_index);
        } else {
            pending.fail_part.insert(part_index, (times, status));
        }
    }

    /// The next `times` PUTs of part `part_index` (of any file) read part of
    /// the body, then the connection is closed without an answer: the
    /// client sees a transport error, not an HTTP status.
    pub fn cut_part(&self, part_index: usize, times: u32) {
        let mut pending = self.shared.faults.pending();
        if times == 0 {
            pending.cut_part.remove(&part_index);
        } else {
            pending.cut_part.insert(part_index, times);
        }
    }

    /// Delays every answer (API, IMS, uploads) by `delay`;
    /// `Duration::ZERO` stops it.
    pub fn slow(&self, delay: Duration) {
        self.shared.faults.pending().slow = delay;
    }

    /// Every `/v4` request of the route class `route_class` (such as
    /// `"create_folder"`) waits `delay` after authentication and rate
    /// limiting and *before* its handler acts; `Duration::ZERO` stops it.
    /// Unlike [`Faults::slow`], which delays answers after the work is
    /// done, this holds the work itself back: two clients that list a
    /// folder, see a name missing and create it both land inside the
    /// window, as two workstations do on a slow day.
    ///
    /// # Panics
    /// When `route_class` is unknown or not a `/v4` class.
    pub fn delay_route(&self, route_class: &str, delay: Duration) {
        let class = RouteClass::named(route_class);
        assert!(class.is_api(), "delay_route applies to /v4 classes only");
        let mut pending = self.shared.faults.pending();
        if delay.is_zero() {
            pending.route_delay.remove(&class);
        } else {
            pending.route_delay.insert(class, delay);
        }
    }

    /// The next `count` `/v4` requests answer 503 with a JSON error body and
    /// the rate-limit headers, before authentication or rate limiting.
    pub fn burst_5xx(&self, count: u32) {
        self.shared.faults.pending().burst_5xx = count;
    }

    /// Every upload URL issued so far answers 403
    /// `<Code>AccessDenied</Code><Message>Request has expired</Message>`;
    /// URLs issued later are unaffected. Not undone by [`Faults::clear`].
    pub fn expire_upload_urls(&self) {
        let mut state = self.shared.lock();
        for asset in state.assets.values_mut() {
            if let AssetBody::File(f) = &mut asset.body {
                f.urls_expired = true;
            }
        }
    }

    /// The next `times` requests of the route class `route_class` (a `/v4`
    /// class, or `"authorize"`, `"token"`, `"revoke"`) answer `status` with
    /// the route's error body. `/v4` classes fail after authentication and
    /// rate limiting; an injected 429 looks like a real one (the same body,
    /// `x-ratelimit-remaining: 0`, `Retry-After` when configured). Use
    /// [`Faults::fail_part`] for part uploads.
    ///
    /// # Panics
    /// When `route_class` is unknown or is `"upload"`/`"view"`.
    pub fn fail_api(&self, route_class: &str, times: u32, status: u16) {
        let class = RouteClass::named(route_class);
        assert!(
            !matches!(class, RouteClass::Upload | RouteClass::View),
            "fail_api does not apply to {class}; use fail_part for uploads"
        );
        let mut pending = self.shared.faults.pending();
        if times == 0 {
            pending.fail_api.remove(&class);
        } else {
            pending.fail_api.insert(class, (times, status));
        }
    }

    /// The next `times` `local_upload` requests for a file named `name`
    /// answer `status` (after authentication and rate limiting), whatever
    /// other uploads do meanwhile: one file made to fail, e.g. with 422 for
    /// a failure that needs a person.
    pub fn fail_local_upload_named(&self, name: &str, times: u32, status: u16) {
        let mut pending = self.shared.faults.pending();
        if times == 0 {
            pending.fail_named.remove(name);
        } else {
            pending.fail_named.insert(name.to_string(), (times, status));
        }
    }

    /// Marks a file's upload as failed: its status reports
    /// `upload_failed: true` from now on. Returns false for unknown files.
    pub fn fail_upload(&self, file_id: &str) -> bool {
        let mut state = self.shared.lock();
        match state.assets.get_mut(file_id).map(|a| &mut a.body) {
            Some(AssetBody::File(f)) => {
                f.upload_failed = true;
                true
            }
            _ => false,
        }
    }

    /// Removes every pending fault and stops `slow` and `delay_route`.
    pub fn clear(&self) {
        *self.shared.faults.pending() = Pending::default();
    }
}
