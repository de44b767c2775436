//! `transfers.bandwidth_timetable`: the upload cap by time of day (and,
//! optionally, day of the week), written like rclone's `--bwlimit`:
//!
//! ```text
//! 08:00,20M 19:00,off            20 MiB/s from 08:00, no cap from 19:00
//! Mon-08:00,20M Sat-00:00,off    weekdays capped, the weekend free
//! 10M                            one rate all day
//! ```
//!
//! Each entry is `[Day-]HH:MM,RATE`. RATE is `off` (no cap) or a number
//! with a unit, **bytes** per second and binary like rclone's: `k` KiB/s,
//! `M` MiB/s, `G` GiB/s (`20M` = 20 MiB/s ≈ 168 Mbit/s). An entry holds
//! until the next one; before the first entry of the day the last one of
//! the day before holds (the table wraps around, as rclone's does). An
//! entry without a day applies to every day. Unlike rclone, a number
//! without a unit is refused (rclone reads it as KiB/s; beside
//! `bandwidth_limit_mbps`, written in megabits, that is a trap), and so is
//! the `upload:download` form (PostFlow only uploads).
//!
//! Times are local wall-clock times: the caller passes a
//! [`jiff::civil::DateTime`] in the machine's time zone.

use std::fmt;

use jiff::civil::DateTime;

/// Upload rate in bytes per second; `None`: no cap.
pub type Rate = Option<u64>;

const MINUTES_PER_DAY: u32 = 24 * 60;
const MINUTES_PER_WEEK: u32 = 7 * MINUTES_PER_DAY;
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const FULL_DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A parsed timetable: when the cap changes, in week order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BandwidthTimetable {
    /// (minute of the week from Monday 00:00, rate), sorted, no minute twice.
    changes: Vec<(u32, Rate)>,
}

/// What is wrong with one entry of a timetable, and its fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    /// 1-based position of the entry in the text.
    pub index: usize,
    /// The entry as written.
    pub entry: String,
    pub message: String,
    pub fix: String,
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "entry {} \"{}\": {} ({})",
            self.index, self.entry, self.message, self.fix
        )
    }
}

/// One entry as written: an optional day (0 = Monday), a minute of the day.
#[derive(Debug, Clone, Copy)]
struct Written {
    day: Option<u8>,
    minute: u32,
    rate: Rate,
}

impl BandwidthTimetable {
    /// Parses `text`, refusing it whole if any entry is wrong.
    pub fn parse(text: &str) -> Result<BandwidthTimetable, Vec<EntryError>> {
        match Self::parse_lenient(text) {
            (table, errors) if errors.is_empty() => Ok(table),
            (_, errors) => Err(errors),
        }
    }

    /// Parses `text`, keeping every entry that can be used: a malformed
    /// entry or a second entry for the same time is left out, an entry out
    /// of order is used where it belongs. Each is reported, one error per
    /// entry, with its fix.
    pub fn parse_lenient(text: &str) -> (BandwidthTimetable, Vec<EntryError>) {
        let tokens: Vec<&str> = text.split_whitespace().collect();
        let mut errors = Vec::new();
        // A lone rate: all day, every day.
        if let [only] = tokens.as_slice() {
            let a_time = |t: &str| parse_time(t).is_ok();
            let looks_timed = a_time(only) || only.split_once('-').is_some_and(|(_, t)| a_time(t));
            if !only.contains(',') && !looks_timed {
                return match parse_rate(only) {
                    Ok(rate) => (
                        BandwidthTimetable {
                            changes: vec![(0, rate)],
                        },
                        errors,
                    ),
                    Err((message, fix)) => (
                        BandwidthTimetable::default(),
                        vec![EntryError {
                            index: 1,
                            entry: only.to_string(),
                            message,
                            fix,
                        }],
                    ),
                };
            }
        }
        let mut good: Vec<(usize, Written)> = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            match parse_entry(token) {
                Ok(w) => good.push((i + 1, w)),
                Err((message, fix)) => errors.push(EntryError {
                    index: i + 1,
                    entry: token.to_string(),
                    message,
                    fix,
                }),
            }
        }

        // Order: entries without a day in time order among themselves, and
        // entries with a day in week order among themselves.
        let mut out_of_order = Vec::new();
        for with_day in [false, true] {
            let mut last: Option<(usize, u32)> = None;
            for (index, w) in good.iter().filter(|(_, w)| w.day.is_some() == with_day) {
                let key = w.day.map_or(0, |d| u32::from(d) * MINUTES_PER_DAY) + w.minute;
                match last {
                    Some((before, last_key)) if key < last_key => {
                        out_of_order.push((*index, before));
                    }
                    _ => last = Some((*index, key)),
                }
            }
        }

        // Expand to minutes of the week; the first entry for a minute wins.
        let mut changes: Vec<(u32, Rate, usize)> = Vec::new();
        for (index, w) in &good {
            let days: Vec<u8> = match w.day {
                Some(d) => vec![d],
                None => (0..7).collect(),
            };
            let mut clash: Option<(usize, u8)> = None;
            for d in days {
                let at = u32::from(d) * MINUTES_PER_DAY + w.minute;
                match changes.iter().find(|(m, _, _)| *m == at) {
                    Some((_, _, first)) => {
                        clash.get_or_insert((*first, d));
                    }
                    None => changes.push((at, w.rate, *index)),
                }
            }
            if let Some((first, day)) = clash {
                let when = match w.day {
                    Some(_) => format!("{} {}", DAYS[day as usize], hhmm(w.minute)),
                    None => hhmm(w.minute),
                };
                errors.push(EntryError {
                    index: *index,
                    entry: tokens[index - 1].to_string(),
                    message: format!("{when} is already set by entry {first}"),
                    fix: format!(
                        "keep one of the two entries for {when}; this one is ignored until then"
                    ),
                });
            }
        }
        changes.sort_by_key(|(m, _, _)| *m);

        if !out_of_order.is_empty() {
            let sorted = sorted_text(&tokens, &good);
            for (index, before) in out_of_order {
                errors.push(EntryError {
                    index,
                    entry: tokens[index - 1].to_string(),
                    message: format!(
                        "it comes after entry {before} \"{}\", which is later in the day (or week)",
                        tokens[before - 1]
                    ),
                    fix: format!("write the entries in time order: \"{sorted}\""),
                });
            }
        }
        errors.sort_by_key(|e| e.index);
        let table = BandwidthTimetable {
            changes: changes.into_iter().map(|(m, r, _)| (m, r)).collect(),
        };
        (table, errors)
    }

    /// No entry: the timetable does not apply (the fixed cap does).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The cap at local time `at`; `None`: no cap (also for an empty table).
    pub fn cap_at(&self, at: DateTime) -> Rate {
        self.current(minute_of_week(at))
            .and_then(|i| self.changes[i].1)
    }

    /// The next time after `at` when the cap changes, and what it changes
    /// to; `None` if it never does (an empty table, or one rate throughout).
    /// The time is local, on the minute; entries that repeat the rate in
    /// force are skipped.
    pub fn next_change_after(&self, at: DateTime) -> Option<(DateTime, Rate)> {
        let now = minute_of_week(at);
        let current = self.current(now)?;
        let rate = self.changes[current].1;
        let n = self.changes.len();
        let start = at.with().second(0).subsec_nanosecond(0).build().ok()?;
        (1..=n)
            .map(|k| self.changes[(current + k) % n])
            .find(|(_, r)| *r != rate)
            .and_then(|(minute, r)| {
                let ahead = match (minute + MINUTES_PER_WEEK - now) % MINUTES_PER_WEEK {
                    0 => MINUTES_PER_WEEK,
                    m => m,
                };
                let when = start
                    .checked_add(jiff::SignedDuration::from_mins(i64::from(ahead)))
                    .ok()?;
                Some((when, r))
            })
    }

    /// Index of the entry in force at `minute` of the week.
    fn current(&self, minute: u32) -> Option<usize> {
        if self.changes.is_empty() {
            return None;
        }
        // The last entry at or before `minute`, else (before the first one
        // of the week) the last of the week.
        Some(
            self.changes
                .iter()
                .rposition(|(m, _)| *m <= minute)
                .unwrap_or(self.changes.len() - 1),
        )
    }
}

/// The rate as people read it: `20 MiB/s (168 Mbit/s)`, `no cap`.
pub fn describe_rate(rate: Rate) -> String {
    let Some(bytes) = rate else {
        return "no cap".into();
    };
    let mbit = bytes as f64 * 8.0 / 1_000_000.0;
    let (value, unit) = if bytes >= 1 << 30 {
        (bytes as f64 / f64::from(1u32 << 30), "GiB/s")
    } else if bytes >= 1 << 20 {
        (bytes as f64 / f64::from(1u32 << 20), "MiB/s")
    } else {
        (bytes as f64 / 1024.0, "KiB/s")
    };
    format!("{} {unit} ({} Mbit/s)", trim(value), trim(mbit))
}

fn trim(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

fn minute_of_week(at: DateTime) -> u32 {
    let day = at.weekday().to_monday_zero_offset() as u32;
    day * MINUTES_PER_DAY + at.hour() as u32 * 60 + at.minute() as u32
}

fn hhmm(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// The good entries as text, in order: the fix for entries out of order.
fn sorted_text(tokens: &[&str], good: &[(usize, Written)]) -> String {
    let mut plain: Vec<&(usize, Written)> = good.iter().filter(|(_, w)| w.day.is_none()).collect();
    plain.sort_by_key(|(_, w)| w.minute);
    let mut dated: Vec<&(usize, Written)> = good.iter().filter(|(_, w)| w.day.is_some()).collect();
    dated.sort_by_key(|(_, w)| (w.day, w.minute));
    plain
        .into_iter()
        .chain(dated)
        .map(|(i, _)| tokens[i - 1])
        .collect::<Vec<_>>()
        .join(" ")
}

type Refusal = (String, String);

const ENTRY_SHAPE: &str =
    "write HH:MM,RATE (optionally Day-HH:MM,RATE), e.g. \"08:00,20M 19:00,off\" or \"Mon-08:00,20M\"";
const RATE_SHAPE: &str =
    "write off (no cap) or a number of bytes per second with k, M or G: 512k, 20M (20 MiB/s, about 168 Mbit/s), 1.5G";

fn parse_entry(token: &str) -> Result<Written, Refusal> {
    let Some((when, rate)) = token.split_once(',') else {
        return Err((
            "an entry needs a time and a rate separated by a comma".into(),
            ENTRY_SHAPE.into(),
        ));
    };
    let (day, time) = match when.split_once('-') {
        Some((day, time)) => (Some(parse_day(day)?), time),
        None => (None, when),
    };
    let minute = parse_time(time)?;
    let rate = parse_rate(rate)?;
    Ok(Written { day, minute, rate })
}

fn parse_day(day: &str) -> Result<u8, Refusal> {
    let lower = day.to_ascii_lowercase();
    (0..7u8)
        .find(|&i| lower == DAYS[i as usize].to_ascii_lowercase() || lower == FULL_DAYS[i as usize])
        .ok_or_else(|| {
            (
                format!("\"{day}\" is not a day of the week"),
                "write Mon, Tue, Wed, Thu, Fri, Sat or Sun before the time, e.g. Mon-08:00,20M"
                    .into(),
            )
        })
}

fn parse_time(time: &str) -> Result<u32, Refusal> {
    let refuse = || {
        (
            format!("{time} is not a time of day"),
            "write the time as HH:MM from 00:00 to 23:59, e.g. 08:00,20M".to_string(),
        )
    };
    let (h, m) = time.split_once(':').ok_or_else(refuse)?;
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return Err(refuse());
    }
    let (h, m): (u32, u32) = (
        h.parse().map_err(|_| refuse())?,
        m.parse().map_err(|_| refuse())?,
    );
    if h > 23 || m > 59 {
        return Err(refuse());
    }
    Ok(h * 60 + m)
}

fn parse_rate(rate: &str) -> Result<Rate, Refusal> {
    if rate.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    if rate.contains(':') {
        return Err((
            format!("\"{rate}\" is an upload:download pair; PostFlow only uploads"),
            "write the upload rate alone, e.g. 20M".into(),
        ));
    }
    let refuse = || (format!("\"{rate}\" is not a rate"), RATE_SHAPE.to_string());
    let Some(unit) = rate.chars().last() else {
        return Err(refuse());
    };
    let multiplier: f64 = match unit {
        'k' | 'K' => 1024.0,
        'm' | 'M' => 1024.0 * 1024.0,
        'g' | 'G' => 1024.0 * 1024.0 * 1024.0,
        d if d.is_ascii_digit() => {
            return Err((
                format!("\"{rate}\" has no unit"),
                format!(
                    "add k, M or G (bytes per second): \"{rate}M\" is {rate} MiB/s; for megabits, divide by 8"
                ),
            ))
        }
        _ => return Err(refuse()),
    };
    let number = &rate[..rate.len() - 1];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(refuse());
    }
    let value: f64 = number.parse().map_err(|_| refuse())?;
    let bytes = (value * multiplier).round();
    if bytes < 1024.0 {
        return Err((
            format!("\"{rate}\" is below 1 KiB/s"),
            "write off for no cap, or at least 1k".into(),
        ));
    }
    if bytes > 1e15 {
        return Err((format!("\"{rate}\" is too large"), RATE_SHAPE.into()));
    }
    Ok(Some(bytes as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const M: u64 = 1 << 20;

    /// 2026-03-02 is a Monday.
    fn at(day: i8, h: i8, m: i8) -> DateTime {
        date(2026, 3, day).at(h, m, 0, 0)
    }

    #[test]
    fn a_day_and_night_timetable_caps_by_day_and_lifts_at_night_across_midnight() {
        let t = BandwidthTimetable::parse("08:00,20M 19:00,off").unwrap();
        assert_eq!(
            t.cap_at(at(2, 7, 59)),
            None,
            "before 08:00: the evening's off"
        );
        assert_eq!(t.cap_at(at(2, 8, 0)), Some(20 * M));
        assert_eq!(t.cap_at(at(2, 18, 59)), Some(20 * M));
        assert_eq!(t.cap_at(at(2, 19, 0)), None);
        assert_eq!(t.cap_at(at(2, 23, 59)), None);
        assert_eq!(t.cap_at(at(3, 0, 0)), None, "midnight: still off");

        assert_eq!(
            t.next_change_after(date(2026, 3, 2).at(9, 30, 15, 0)),
            Some((at(2, 19, 0), None))
        );
        // After 19:00 the next change is tomorrow morning, across midnight.
        assert_eq!(
            t.next_change_after(at(2, 19, 0)),
            Some((at(3, 8, 0), Some(20 * M)))
        );
        assert_eq!(
            t.next_change_after(at(2, 23, 30)),
            Some((at(3, 8, 0), Some(20 * M)))
        );
        assert_eq!(
            t.next_change_after(at(3, 0, 10)),
            Some((at(3, 8, 0), Some(20 * M)))
        );
    }

    #[test]
    fn a_night_cap_that_spans_midnight_holds_until_morning() {
        let t = BandwidthTimetable::parse("07:00,off 22:00,512k").unwrap();
        assert_eq!(t.cap_at(at(2, 23, 0)), Some(512 * 1024));
        assert_eq!(t.cap_at(at(3, 3, 0)), Some(512 * 1024));
        assert_eq!(t.cap_at(at(3, 7, 0)), None);
        assert_eq!(t.next_change_after(at(2, 23, 0)), Some((at(3, 7, 0), None)));
    }

    #[test]
    fn weekday_entries_apply_on_their_days_and_wrap_over_the_week() {
        let t = BandwidthTimetable::parse("Mon-08:00,20M Sat-00:00,off").unwrap();
        assert_eq!(
            t.cap_at(at(2, 7, 0)),
            None,
            "Monday before 08:00: Sunday's off"
        );
        assert_eq!(t.cap_at(at(4, 12, 0)), Some(20 * M), "Wednesday");
        assert_eq!(t.cap_at(at(7, 12, 0)), None, "Saturday");
        assert_eq!(t.next_change_after(at(6, 12, 0)), Some((at(7, 0, 0), None)));
        assert_eq!(
            t.next_change_after(at(8, 12, 0)),
            Some((at(9, 8, 0), Some(20 * M))),
            "Sunday: next Monday"
        );
        // A plain entry is every day; a day entry adds to it.
        let t = BandwidthTimetable::parse("08:00,10M 19:00,off Sat-08:00,off").unwrap_err();
        assert_eq!(t.len(), 1, "Saturday 08:00 is set twice: {t:?}");
        let t = BandwidthTimetable::parse("08:00,10M 19:00,off sunday-12:00,1G").unwrap();
        assert_eq!(t.cap_at(at(8, 13, 0)), Some(1 << 30));
        assert_eq!(t.cap_at(at(7, 13, 0)), Some(10 * M));
    }

    #[test]
    fn rates_are_binary_bytes_per_second_like_rclone() {
        let t = BandwidthTimetable::parse("00:00,512k 01:00,1.5M 02:00,2g 03:00,OFF").unwrap();
        assert_eq!(t.cap_at(at(2, 0, 30)), Some(512 * 1024));
        assert_eq!(t.cap_at(at(2, 1, 30)), Some(3 * M / 2));
        assert_eq!(t.cap_at(at(2, 2, 30)), Some(2 << 30));
        assert_eq!(t.cap_at(at(2, 3, 30)), None);
        assert_eq!(describe_rate(Some(20 * M)), "20 MiB/s (167.8 Mbit/s)");
        assert_eq!(describe_rate(None), "no cap");
    }

    #[test]
    fn a_lone_rate_holds_all_week_and_never_changes() {
        let t = BandwidthTimetable::parse("10M").unwrap();
        assert_eq!(t.cap_at(at(5, 3, 0)), Some(10 * M));
        assert_eq!(t.next_change_after(at(5, 3, 0)), None);
        let empty = BandwidthTimetable::parse("  ").unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.cap_at(at(5, 3, 0)), None);
        assert_eq!(empty.next_change_after(at(5, 3, 0)), None);
    }

    #[test]
    fn entries_repeating_the_rate_in_force_are_not_changes() {
        let t = BandwidthTimetable::parse("08:00,20M 12:00,20M 19:00,off").unwrap();
        assert_eq!(t.next_change_after(at(2, 9, 0)), Some((at(2, 19, 0), None)));
    }

    #[test]
    fn each_bad_entry_is_one_error_with_its_fix_and_the_good_ones_still_apply() {
        let (t, errors) =
            BandwidthTimetable::parse_lenient("25:00,1M 08:00,fast 09:00,5M 12:00,7 Xyz-10:00,1M");
        let by_entry: Vec<(usize, &str)> = errors
            .iter()
            .map(|e| (e.index, e.message.as_str()))
            .collect();
        assert_eq!(
            by_entry,
            [
                (1, "25:00 is not a time of day"),
                (2, "\"fast\" is not a rate"),
                (4, "\"7\" has no unit"),
                (5, "\"Xyz\" is not a day of the week"),
            ]
        );
        assert!(errors[0].fix.contains("HH:MM"), "{}", errors[0]);
        assert!(errors[1].fix.contains("20M"), "{}", errors[1]);
        assert!(errors[2].fix.contains("\"7M\""), "{}", errors[2]);
        assert!(errors[3].fix.contains("Mon"), "{}", errors[3]);
        // The one good entry is the whole table.
        assert_eq!(t.cap_at(at(2, 3, 0)), Some(5 * M));
    }

    #[test]
    fn unsorted_entries_are_reported_with_the_sorted_timetable_and_still_used() {
        let (t, errors) = BandwidthTimetable::parse_lenient("19:00,off 08:00,20M");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].index, 2);
        assert!(
            errors[0].message.contains("entry 1 \"19:00,off\""),
            "{}",
            errors[0]
        );
        assert_eq!(
            errors[0].fix,
            "write the entries in time order: \"08:00,20M 19:00,off\""
        );
        assert_eq!(t.cap_at(at(2, 12, 0)), Some(20 * M));
        assert_eq!(t.cap_at(at(2, 20, 0)), None);
    }

    #[test]
    fn a_time_set_twice_is_reported_and_the_first_entry_wins() {
        let (t, errors) = BandwidthTimetable::parse_lenient("08:00,20M 08:00,1M 19:00,off");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].index, 2);
        assert_eq!(errors[0].message, "08:00 is already set by entry 1");
        assert_eq!(t.cap_at(at(2, 9, 0)), Some(20 * M));
    }

    #[test]
    fn malformed_shapes_say_how_to_write_an_entry() {
        for (text, message) in [
            (
                "08:00",
                "an entry needs a time and a rate separated by a comma",
            ),
            ("8h,1M 9:00,off", "8h is not a time of day"),
            (
                "08:00,10M:off 09:00,off",
                "\"10M:off\" is an upload:download pair; PostFlow only uploads",
            ),
            ("08:00,0.5 09:00,off", "\"0.5\" has no unit"),
            ("08:00,0k 09:00,off", "\"0k\" is below 1 KiB/s"),
            ("08:00,-1M 09:00,off", "\"-1M\" is not a rate"),
            ("08:60,1M 09:00,off", "08:60 is not a time of day"),
        ] {
            let errors = BandwidthTimetable::parse(text).unwrap_err();
            assert_eq!(errors[0].message, message, "{text}");
        }
    }
}
