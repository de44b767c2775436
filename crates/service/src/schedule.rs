//! What happens at a time of day: the bandwidth timetable moves the shared
//! upload cap, and a timed pause ends (the heartbeat loop). Both read the
//! time through a [`Clock`], so tests move a fake one instead of waiting.
//!
//! Local time comes from the system time zone through `jiff` (the
//! workspace's one local-time crate: the tray's "until 15:30" uses it too).
//! Not the `time` crate's local offset: on Linux it refuses to answer once
//! the process has more than one thread, which a Tokio service always has.
//! When the time zone cannot be determined, PostFlow runs on UTC and says
//! so once in the log ([`local_zone`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};
use postflow_frameio::Bandwidth;
use postflow_settings::{describe_rate, BandwidthTimetable, Rate, Settings};
use serde::Serialize;

/// Where the service reads the time of day.
pub trait Clock: Send + Sync {
    /// Now, in the machine's time zone.
    fn now(&self) -> ZonedDateTime;
}

/// The system clock in the machine's time zone.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> ZonedDateTime {
        ZonedDateTime::new(Timestamp::now(), local_zone())
    }
}

/// The machine's time zone; UTC when it cannot be determined (no
/// `/etc/localtime`, a `TZ` naming no zone), logged once.
pub fn local_zone() -> TimeZone {
    static WARNED: AtomicBool = AtomicBool::new(false);
    match TimeZone::try_system() {
        Ok(tz) => tz,
        Err(e) => {
            if !WARNED.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "cannot tell this machine's time zone ({e}); times of day (the bandwidth timetable, pause until) are read as UTC"
                );
            }
            TimeZone::UTC
        }
    }
}

/// How often the timetable task looks at the clock: a change applies
/// within this of its time. Looking (rather than sleeping until the next
/// change) also follows clock changes, daylight saving and a machine
/// waking from sleep.
pub const TIMETABLE_EVERY: Duration = Duration::from_secs(1);

/// The cap the settings ask for: one rate all day, or a timetable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BandwidthPlan {
    /// `bandwidth_limit_mbps` (`None`: no cap).
    Fixed(Rate),
    Timetable(BandwidthTimetable),
}

impl BandwidthPlan {
    /// From `transfers`: the timetable when it has a usable entry (its bad
    /// entries are left out and reported by validation), else the fixed cap.
    pub fn from_settings(settings: &Settings) -> BandwidthPlan {
        let table = settings.bandwidth_timetable();
        if table.is_empty() {
            let mbps = settings.transfers.bandwidth_limit_mbps;
            BandwidthPlan::Fixed((mbps != 0).then(|| u64::from(mbps) * 125_000))
        } else {
            BandwidthPlan::Timetable(table)
        }
    }

    pub fn cap_at(&self, now: &ZonedDateTime) -> Rate {
        match self {
            BandwidthPlan::Fixed(rate) => *rate,
            BandwidthPlan::Timetable(t) => t.cap_at(now.datetime()),
        }
    }

    /// The next change after `now`, as an instant, and the cap from then.
    pub fn next_change(&self, now: &ZonedDateTime) -> Option<(Timestamp, Rate)> {
        let BandwidthPlan::Timetable(t) = self else {
            return None;
        };
        let (at, rate) = t.next_change_after(now.datetime())?;
        // A time the clocks skip (a daylight-saving gap) applies just after.
        let at = now
            .time_zone()
            .to_ambiguous_timestamp(at)
            .compatible()
            .ok()?;
        Some((at, rate))
    }

    /// The shared cap the uploads start with: none at all for "no cap, ever".
    pub fn bandwidth(&self, now: &ZonedDateTime) -> Option<Arc<Bandwidth>> {
        match self {
            BandwidthPlan::Fixed(None) => None,
            _ => Some(Bandwidth::new(self.cap_at(now))),
        }
    }

    pub fn status(&self, now: &ZonedDateTime) -> BandwidthStatus {
        BandwidthStatus {
            cap_bytes_per_sec: self.cap_at(now),
            scheduled: matches!(self, BandwidthPlan::Timetable(_)),
            next: self.next_change(now).map(|(at, rate)| CapChange {
                at: at.as_millisecond(),
                cap_bytes_per_sec: rate,
            }),
        }
    }
}

/// The upload cap now and its next change, for `postflow status` and the
/// snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BandwidthStatus {
    /// Bytes per second; `None`: no cap.
    pub cap_bytes_per_sec: Rate,
    /// From `transfers.bandwidth_timetable` (else `bandwidth_limit_mbps`).
    pub scheduled: bool,
    pub next: Option<CapChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapChange {
    /// Unix ms.
    pub at: i64,
    pub cap_bytes_per_sec: Rate,
}

impl BandwidthStatus {
    /// "capped at 20 MiB/s (167.8 Mbit/s) until 19:00, then no cap".
    pub fn describe(&self, now: &ZonedDateTime) -> String {
        let cap = match self.cap_bytes_per_sec {
            Some(_) => format!("capped at {}", describe_rate(self.cap_bytes_per_sec)),
            None => "no cap".into(),
        };
        match &self.next {
            Some(next) => format!(
                "{cap} until {}, then {}",
                local_time_of(next.at, now),
                match next.cap_bytes_per_sec {
                    Some(_) => describe_rate(next.cap_bytes_per_sec),
                    None => "no cap".into(),
                }
            ),
            None => cap,
        }
    }
}

/// `unix_ms` as a local time of day seen from `now`: "18:30" today,
/// "tomorrow 08:00", "Sat 08:00" within the week, else the date.
pub fn local_time_of(unix_ms: i64, now: &ZonedDateTime) -> String {
    let Ok(at) = Timestamp::from_millisecond(unix_ms) else {
        return String::new();
    };
    let at = at.to_zoned_datetime(now.time_zone().clone());
    let days = (at.date() - now.date()).get_days();
    match days {
        0 => at.strftime("%H:%M").to_string(),
        1 => at.strftime("tomorrow %H:%M").to_string(),
        2..=6 => at.strftime("%a %H:%M").to_string(),
        _ => at.strftime("%Y-%m-%d %H:%M").to_string(),
    }
}

/// "18:30" as the next such time from `now`: today, or tomorrow when it is
/// already past (or now). For `postflow pause --until`.
pub fn next_time_of_day(text: &str, now: &ZonedDateTime) -> Result<ZonedDateTime, String> {
    let bad = || format!("{text:?} is not a time of day: write HH:MM, e.g. 18:30");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=23).contains(&h) || !(0..=59).contains(&m) || text.trim().len() > 5 {
        return Err(bad());
    }
    let at = |date: jiff::civil::Date| {
        now.time_zone()
            .to_ambiguous_zoned_datetime(date.at(h, m, 0, 0))
            .compatible()
            .map_err(|e| e.to_string())
    };
    let today = at(now.date())?;
    if today.timestamp() > now.timestamp() {
        return Ok(today);
    }
    at(now.date().tomorrow().map_err(|e| e.to_string())?)
}

/// Moves `bandwidth` to the timetable's cap at each change time, looking
/// at `clock` every `every`, until the task is dropped.
pub async fn follow_timetable(
    table: BandwidthTimetable,
    bandwidth: Arc<Bandwidth>,
    clock: Arc<dyn Clock>,
    every: Duration,
) {
    loop {
        let now = clock.now();
        let cap = table.cap_at(now.datetime());
        if cap != bandwidth.rate() {
            let plan = BandwidthPlan::Timetable(table.clone());
            tracing::info!("bandwidth timetable: {}", plan.status(&now).describe(&now));
            bandwidth.set_rate(cap);
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Mutex;

    use jiff::civil::date;

    /// A clock that moves only when told.
    pub(crate) struct FakeClock(Mutex<ZonedDateTime>);

    impl FakeClock {
        pub(crate) fn at(y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Arc<FakeClock> {
            let tz = TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC);
            let now = date(y, mo, d)
                .at(h, mi, 0, 0)
                .to_zoned_datetime(tz)
                .unwrap();
            Arc::new(FakeClock(Mutex::new(now)))
        }
        pub(crate) fn set(&self, h: i8, mi: i8) {
            let mut now = self.0.lock().unwrap();
            *now = now.with().hour(h).minute(mi).build().unwrap();
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> ZonedDateTime {
            self.0.lock().unwrap().clone()
        }
    }

    const M: u64 = 1 << 20;

    fn settings(timetable: &str, mbps: u32) -> Settings {
        let mut s = Settings::default();
        s.transfers.bandwidth_timetable = timetable.into();
        s.transfers.bandwidth_limit_mbps = mbps;
        s
    }

    /// Waits (a few milliseconds at a time, at most a second) for `check`.
    async fn soon(what: &str, check: impl Fn() -> bool) {
        for _ in 0..200 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("{what} did not happen within a second");
    }

    #[tokio::test]
    async fn the_running_cap_follows_the_timetable_at_08_00_and_is_lifted_at_19_00() {
        // Monday 2 March 2026, 07:59.
        let clock = FakeClock::at(2026, 3, 2, 7, 59);
        let plan = BandwidthPlan::from_settings(&settings("08:00,20M 19:00,off", 100));
        let BandwidthPlan::Timetable(table) = plan.clone() else {
            panic!("a timetable replaces bandwidth_limit_mbps");
        };
        let bandwidth = plan.bandwidth(&clock.now()).expect("a cap that can change");
        assert_eq!(bandwidth.rate(), None, "no cap before 08:00");
        let task = tokio::spawn(follow_timetable(
            table,
            bandwidth.clone(),
            clock.clone(),
            Duration::from_millis(2),
        ));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(bandwidth.rate(), None, "still 07:59");

        clock.set(8, 0);
        soon("the 08:00 cap", || bandwidth.rate() == Some(20 * M)).await;
        clock.set(18, 59);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(bandwidth.rate(), Some(20 * M));
        clock.set(19, 0);
        soon("the 19:00 lift", || bandwidth.rate().is_none()).await;
        task.abort();
    }

    #[test]
    fn without_a_timetable_the_fixed_cap_holds_all_day_and_no_cap_means_no_limiter() {
        let clock = FakeClock::at(2026, 3, 2, 12, 0);
        let fixed = BandwidthPlan::from_settings(&settings("", 80));
        assert_eq!(fixed, BandwidthPlan::Fixed(Some(10_000_000)));
        assert_eq!(fixed.next_change(&clock.now()), None);
        assert_eq!(
            fixed.status(&clock.now()).describe(&clock.now()),
            "capped at 9.5 MiB/s (80 Mbit/s)"
        );
        let none = BandwidthPlan::from_settings(&settings("", 0));
        assert!(none.bandwidth(&clock.now()).is_none());
        assert_eq!(none.status(&clock.now()).describe(&clock.now()), "no cap");
        // A timetable whose every entry is wrong falls back to the fixed cap.
        let broken = BandwidthPlan::from_settings(&settings("25:00,1M", 80));
        assert_eq!(broken, fixed);
    }

    #[test]
    fn the_status_says_the_cap_in_force_until_when_and_what_follows() {
        let clock = FakeClock::at(2026, 3, 2, 9, 30);
        let plan = BandwidthPlan::from_settings(&settings("08:00,20M 19:00,off", 0));
        let now = clock.now();
        let status = plan.status(&now);
        assert_eq!(status.cap_bytes_per_sec, Some(20 * M));
        assert!(status.scheduled);
        assert_eq!(
            status.describe(&now),
            "capped at 20 MiB/s (167.8 Mbit/s) until 19:00, then no cap"
        );
        clock.set(20, 0);
        let now = clock.now();
        assert_eq!(
            plan.status(&now).describe(&now),
            "no cap until tomorrow 08:00, then 20 MiB/s (167.8 Mbit/s)"
        );
        let next = plan.status(&now).next.unwrap();
        let at = Timestamp::from_millisecond(next.at)
            .unwrap()
            .to_zoned_datetime(now.time_zone().clone());
        assert_eq!((at.day(), at.hour(), at.minute()), (3, 8, 0));
    }

    #[test]
    fn pause_until_a_time_is_today_or_tomorrow_when_already_past() {
        let clock = FakeClock::at(2026, 3, 2, 17, 0);
        let now = clock.now();
        let later = next_time_of_day("18:30", &now).unwrap();
        assert_eq!((later.day(), later.hour(), later.minute()), (2, 18, 30));
        let past = next_time_of_day("08:00", &now).unwrap();
        assert_eq!((past.day(), past.hour(), past.minute()), (3, 8, 0));
        let this_minute = next_time_of_day("17:00", &now).unwrap();
        assert_eq!(this_minute.day(), 3, "now is not in the future");
        assert_eq!(
            local_time_of(later.timestamp().as_millisecond(), &now),
            "18:30"
        );
        assert_eq!(
            local_time_of(past.timestamp().as_millisecond(), &now),
            "tomorrow 08:00"
        );
        for bad in ["25:00", "18h30", "18:3x", "", "18:300"] {
            let e = next_time_of_day(bad, &now).unwrap_err();
            assert!(e.contains("HH:MM"), "{bad}: {e}");
        }
    }
}
