//! When a file is finished: a pure tracker fed with scans and the time.
//!
//! A file is **ready** when
//! 1. its size is above 0 (LucidLink shows 0-byte placeholders first),
//! 2. its size and modification time have stayed the same for the readiness
//!    window, as *observed by us*: seen unchanged at two instants at least
//!    the window apart (the window starts when a version is first seen, not
//!    at its mtime, which another workstation's clock wrote), and
//! 3. it can be opened for reading (an [`OpenCheck`], faked in tests).
//!
//! [`Ready`](Change::Ready) is emitted once per version (path, size, mtime).
//! A file that changes afterwards is a new candidate and waits a full window
//! again. The tracker never reads the clock or the disk itself: the caller
//! passes `now` and the open check, so it is tested without sleeping.

mod files;

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use crate::scan::{join_rel, Known, Listed, Observation, Scan};

use files::Files;

/// The longest a pending file waits between two timed re-checks once its
/// window has passed without it being confirmed (e.g. its re-stat failed).
const RECHECK: Duration = Duration::from_secs(1);
/// The shortest such wait, so a zero window cannot spin.
const MIN_RECHECK: Duration = Duration::from_millis(50);

/// Whether a file can be opened for reading.
pub trait OpenCheck {
    /// `Ok` if the file at `rel_path` (relative to the watched root) opens
    /// for reading now.
    fn check(&mut self, rel_path: &str) -> io::Result<()>;
}

impl<F> OpenCheck for F
where
    F: FnMut(&str) -> io::Result<()>,
{
    fn check(&mut self, rel_path: &str) -> io::Result<()> {
        self(rel_path)
    }
}

/// The real [`OpenCheck`]: opens the file under `root` and closes it again.
/// (On Windows this fails while a renderer holds the file exclusively.)
#[derive(Debug, Clone)]
pub struct OpensForReading {
    pub root: PathBuf,
}

impl OpenCheck for OpensForReading {
    fn check(&mut self, rel_path: &str) -> io::Result<()> {
        File::open(join_rel(&self.root, rel_path)).map(drop)
    }
}

/// What a scan changed, in this order within one call: appearances and
/// changes (in scan order), then `Gone`, `Ready` and `NotOpenable` (each
/// sorted by path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A candidate seen for the first time.
    Appeared(Observation),
    /// A known candidate with a new size or modification time (also after it
    /// was ready: it is a new version and waits a full window again).
    Changed(Observation),
    /// Stable for the window, non-empty and readable. Once per version.
    Ready(Observation),
    /// Would be ready but does not open for reading. Once per version; the
    /// open is retried on every later scan that sees the file.
    NotOpenable {
        observation: Observation,
        reason: String,
    },
    /// No longer there (deleted, renamed away, or no longer a candidate)
    /// where the scan looked.
    Gone(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for its window (or for its size to leave 0).
    Pending,
    /// Window passed, but the open check failed (reported once).
    NotOpenable,
    /// Reported ready (or settled by the caller).
    Ready,
}

#[derive(Debug)]
struct Tracked {
    size: u64,
    mtime_ns: i64,
    /// When this version (size, mtime) was first seen.
    stable_since: Instant,
    /// When this version was last seen unchanged.
    confirmed_at: Instant,
    /// When a timed re-check is due (see [`Readiness::due`]).
    check_at: Instant,
    /// Scan generation that last saw it. Atomic: a [`Plan`] marks files
    /// seen from the scanning threads.
    seen: AtomicU64,
    /// The inode number its directory entry gave the last planned scan
    /// (0: not known yet). A different one means the file was replaced.
    ino: AtomicU64,
    state: State,
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked {
            seen: AtomicU64::new(self.seen()),
            ino: AtomicU64::new(self.ino.load(Relaxed)),
            ..*self
        }
    }
}

impl Tracked {
    /// A version (size, mtime) seen for the first time at `now`.
    fn first_seen(
        obs: &Observation,
        state: State,
        now: Instant,
        check_at: Instant,
        seen: u64,
    ) -> Tracked {
        Tracked {
            size: obs.size,
            mtime_ns: obs.mtime_ns,
            stable_since: now,
            confirmed_at: now,
            check_at,
            seen: AtomicU64::new(seen),
            ino: AtomicU64::new(0),
            state,
        }
    }

    fn seen(&self) -> u64 {
        self.seen.load(Relaxed)
    }

    fn observation(&self, rel_path: impl ToString) -> Observation {
        Observation {
            rel_path: rel_path.to_string(),
            size: self.size,
            mtime_ns: self.mtime_ns,
        }
    }

    fn awaits_window(&self) -> bool {
        self.state == State::Pending && self.size > 0
    }
}

/// Tracks every candidate file and decides when each is ready.
#[derive(Debug, Clone)]
pub struct Readiness {
    window: Duration,
    files: Files,
    generation: u64,
}

impl Readiness {
    /// A tracker with this readiness window (the default setting is 30 s).
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            files: Files::default(),
            generation: 0,
        }
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// How many files are tracked.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.len() == 0
    }

    /// The tracked version of `rel_path`, if any.
    pub fn get(&self, rel_path: &str) -> Option<Observation> {
        self.files.get(rel_path).map(|t| t.observation(rel_path))
    }

    /// Whether `rel_path`'s current version has been reported ready (or was
    /// settled).
    pub fn is_ready(&self, rel_path: &str) -> bool {
        self.files
            .get(rel_path)
            .is_some_and(|t| t.state == State::Ready)
    }

    /// Records a version the caller already handled (e.g. uploaded before a
    /// restart), so it is not reported again while it stays the same. If a
    /// scan finds it changed it is a new candidate; if a scan does not find
    /// it, it is gone.
    pub fn settle(&mut self, observation: Observation, now: Instant) {
        let tracked = Tracked::first_seen(&observation, State::Ready, now, now, self.generation);
        self.files.insert(&observation.rel_path, tracked);
    }

    /// Applies a scan that finished at `now`. Files the scan covered but did
    /// not find are gone, unless they lie under a path it could not read.
    /// `open` is consulted only for files whose window has just passed.
    ///
    /// A scan reads each file at some instant within its `took` span, so,
    /// to never overstate stability, a new version counts as seen at `now`
    /// (the scan's end) and an unchanged one as confirmed at `now - took`
    /// (its start). This matters for a long rescan of a network mount.
    pub fn observe(&mut self, scan: &Scan, now: Instant, open: &mut impl OpenCheck) -> Vec<Change> {
        let confirmed = now.checked_sub(scan.took).unwrap_or(now);
        // A planned scan already marked what it took as unchanged with the
        // plan's generation; any other scan starts a new one.
        let generation = match scan.generation {
            Some(planned) => planned,
            None => self.generation + 1,
        };
        self.generation = self.generation.max(generation);
        let window = self.window;
        let mut changes = Vec::new();
        // Files confirmed by this scan whose window may have passed.
        let mut maybe_ready = Vec::new();
        // Distinct tracked files this scan saw (those a plan took as
        // unchanged are not in `scan.files`).
        let mut seen = scan.unchanged;

        for obs in &scan.files {
            match self.files.get_mut(&obs.rel_path) {
                None => {
                    self.files.insert(
                        &obs.rel_path,
                        Tracked::first_seen(obs, State::Pending, now, now + window, generation),
                    );
                    seen += 1;
                    changes.push(Change::Appeared(obs.clone()));
                    if window.is_zero() {
                        maybe_ready.push(obs.rel_path.as_str());
                    }
                }
                Some(t) if t.size != obs.size || t.mtime_ns != obs.mtime_ns => {
                    if t.seen() != generation {
                        seen += 1;
                    }
                    let ino = t.ino.load(Relaxed);
                    *t = Tracked::first_seen(obs, State::Pending, now, now + window, generation);
                    t.ino = AtomicU64::new(ino);
                    changes.push(Change::Changed(obs.clone()));
                    if window.is_zero() {
                        maybe_ready.push(obs.rel_path.as_str());
                    }
                }
                Some(t) => {
                    if t.seen() != generation {
                        seen += 1;
                    }
                    t.confirmed_at = t.confirmed_at.max(confirmed);
                    *t.seen.get_mut() = generation;
                    if t.state != State::Ready
                        && t.size > 0
                        && t.confirmed_at.saturating_duration_since(t.stable_since) >= window
                    {
                        maybe_ready.push(obs.rel_path.as_str());
                    }
                }
            }
        }

        let mut gone: Vec<String> = match &scan.coverage {
            // The scan saw every tracked file: nothing is gone, and no need
            // to sweep 100,000 entries.
            crate::scan::Coverage::Root if seen == self.files.len() => Vec::new(),
            // Every path the scan covers and did not see.
            crate::scan::Coverage::Root => self
                .files
                .iter()
                .filter(|(_, t)| t.seen() != generation)
                .map(|(path, _)| path.to_string())
                .filter(|path| !scan.is_unknown(path))
                .collect(),
            crate::scan::Coverage::Paths(paths) => {
                // A targeted re-stat of known files needs no sweep; a
                // directory (or a vanished one) does.
                let only_files = paths.iter().all(|p| self.files.contains_key(p));
                if only_files {
                    paths
                        .iter()
                        .filter(|p| self.files.get(p).is_some_and(|t| t.seen() != generation))
                        .filter(|p| !scan.is_unknown(p))
                        .cloned()
                        .collect()
                } else {
                    self.files
                        .iter()
                        .filter(|(_, t)| t.seen() != generation)
                        .map(|(path, _)| path.to_string())
                        .filter(|path| scan.covers(path) && !scan.is_unknown(path))
                        .collect()
                }
            }
        };
        gone.sort_unstable();
        gone.dedup();
        for path in &gone {
            self.files.remove(path);
        }
        changes.extend(gone.into_iter().map(Change::Gone));

        maybe_ready.sort_unstable();
        maybe_ready.dedup();
        let mut not_openable = Vec::new();
        for path in maybe_ready {
            let Some(t) = self.files.get_mut(path) else {
                continue;
            };
            match open.check(path) {
                Ok(()) => {
                    t.state = State::Ready;
                    changes.push(Change::Ready(t.observation(path)));
                }
                Err(e) => {
                    if t.state == State::Pending {
                        not_openable.push(Change::NotOpenable {
                            observation: t.observation(path),
                            reason: e.to_string(),
                        });
                    }
                    t.state = State::NotOpenable;
                }
            }
        }
        changes.extend(not_openable);
        changes
    }

    /// When the next timed re-check is due: the earliest instant a
    /// non-empty pending file's window ends (or, once passed without
    /// confirmation, its next re-check). `None` if nothing is waiting.
    /// Files that did not open are retried by scans, not by the timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.files
            .values()
            .filter(|t| t.awaits_window())
            .map(|t| t.check_at)
            .min()
    }

    /// The files whose re-check is due at `now`, sorted: re-stat them (e.g.
    /// with [`Scanner::scan_paths`](crate::Scanner::scan_paths)) and
    /// [`observe`](Self::observe) the result, which reports them ready if
    /// unchanged. Each returned file's next re-check moves a little later,
    /// so a file whose re-stat keeps failing is not re-stat'ed in a loop.
    pub fn due(&mut self, now: Instant) -> Vec<String> {
        let recheck = RECHECK.min(self.window).max(MIN_RECHECK);
        let mut due: Vec<String> = self
            .files
            .iter_mut()
            .filter(|(_, t)| t.awaits_window() && t.check_at <= now)
            .map(|(path, t)| {
                t.check_at = now + recheck;
                path.to_string()
            })
            .collect();
        due.sort_unstable();
        due
    }

    /// Starts a full scan that stats only what may have changed (pass the
    /// plan to [`Scanner::scan_known`](crate::Scanner::scan_known), then
    /// [`observe`](Self::observe) its result). A file that is ready (or
    /// settled) is taken as unchanged from its directory entry alone while
    /// that entry's inode number stays the same, except on one rescan in
    /// `verify_every`, in turn: so a file rewritten in place (same inode)
    /// is noticed within `verify_every` rescans, a file replaced by a rename
    /// at the next one, and new, growing and vanished files at once.
    /// Pending files are always stat'ed. `verify_every` 1 stats everything.
    pub fn plan(&mut self, verify_every: u32) -> Plan<'_> {
        self.generation += 1;
        Plan {
            readiness: self,
            generation: self.generation,
            verify_every: u64::from(verify_every.max(1)),
        }
    }

    /// Every tracked version, in no particular order.
    pub fn observations(&self) -> impl Iterator<Item = Observation> + '_ {
        self.files.iter().map(|(path, t)| t.observation(path))
    }
}

/// A full scan's view of what the tracker knows; see [`Readiness::plan`].
#[derive(Debug)]
pub struct Plan<'a> {
    readiness: &'a Readiness,
    generation: u64,
    verify_every: u64,
}

impl Known for Plan<'_> {
    fn listed(&self, rel_path: &str, ino: u64) -> Listed {
        let Some(t) = self.readiness.files.get(rel_path) else {
            return Listed::New;
        };
        let replaced = t.ino.swap(ino, Relaxed) != ino;
        if replaced || t.state != State::Ready {
            return Listed::Known;
        }
        // Each file's turn comes once every `verify_every` generations: by
        // its inode number, or its path where the platform gives none.
        let key = match ino {
            0 => self.readiness.files.hash_one(rel_path),
            ino => ino,
        };
        let turn = key % self.verify_every;
        if turn == self.generation % self.verify_every {
            return Listed::Known;
        }
        t.seen.store(self.generation, Relaxed);
        Listed::Unchanged
    }

    fn unchanged_version(&self, rel_path: &str, size: u64, mtime_ns: i64) -> bool {
        let Some(t) = self.readiness.files.get(rel_path) else {
            return false;
        };
        if t.state != State::Ready || t.size != size || t.mtime_ns != mtime_ns {
            return false;
        }
        t.seen.store(self.generation, Relaxed);
        true
    }

    fn generation(&self) -> u64 {
        self.generation
    }
}

#[cfg(test)]
mod tests;
