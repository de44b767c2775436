//! One pass over the watched tree: which candidate files exist, with their
//! size and modification time.
//!
//! A scan lists directories in parallel (several threads share a queue of
//! directories to read; on a network mount each `readdir` and `stat` is a
//! round trip, so more threads than cores pays off), classifies every regular
//! file's **name** with the [`Nomenclature`] and stats only the candidates
//! (`parsed` or `unrecognized`). Directories, symlinks and other non-regular
//! files are skipped silently, as are `ignored` and `unsupported` names.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, Metadata};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use postflow_nomenclature::Nomenclature;
use serde::{Deserialize, Serialize};

/// A candidate file as seen on disk at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Observation {
    /// The path relative to the watched root, components joined with `/`,
    /// exactly as on disk (never Unicode-normalised: a decomposed macOS name
    /// stays decomposed, so it can be opened and uploaded byte for byte).
    pub rel_path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch (negative
    /// before 1970; 0 where the platform reports none).
    pub mtime_ns: i64,
}

impl Observation {
    /// The last path component: the file name the nomenclature reads and
    /// Frame.io receives.
    pub fn file_name(&self) -> &str {
        file_name_of(&self.rel_path)
    }

    /// The file's absolute path under `root`.
    pub fn path_in(&self, root: &Path) -> PathBuf {
        join_rel(root, &self.rel_path)
    }

    /// The modification time as a [`SystemTime`].
    pub fn mtime(&self) -> SystemTime {
        let magnitude = Duration::from_nanos(self.mtime_ns.unsigned_abs());
        if self.mtime_ns >= 0 {
            UNIX_EPOCH + magnitude
        } else {
            UNIX_EPOCH - magnitude
        }
    }

    /// Whether two observations show the same content version (same size and
    /// modification time), whatever their paths.
    pub fn same_version(&self, other: &Observation) -> bool {
        self.size == other.size && self.mtime_ns == other.mtime_ns
    }
}

/// A path the scan could not read: a directory that cannot be listed, a
/// candidate file that cannot be stat'ed, or a name that is not valid UTF-8
/// (PostFlow could not upload it under its exact name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreadable {
    /// Relative to the root, `/`-separated (lossy if the name is not UTF-8).
    pub rel_path: String,
    /// What went wrong, for the user.
    pub reason: String,
}

/// What a [`Scan`] looked at, so that files it did not see can be declared
/// gone only where it actually looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// The whole tree under the root.
    Root,
    /// Only these relative paths: each one a file, or a directory together
    /// with everything under it, or a path that turned out not to exist.
    Paths(Vec<String>),
}

/// The result of a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Candidate files, sorted by `rel_path` (byte order), no duplicates.
    pub files: Vec<Observation>,
    /// Paths that could not be read, sorted by `rel_path`. Files under an
    /// unreadable directory are *unknown*, not gone.
    pub unreadable: Vec<Unreadable>,
    /// What the scan covered.
    pub coverage: Coverage,
    /// Candidate files a [`Known`] took as unchanged from their directory
    /// listing alone: seen, not stat'ed, and not in `files`.
    pub unchanged: usize,
    /// Candidate files stat'ed (all of them, without a [`Known`]).
    pub statted: usize,
    /// The [`Known`] generation those files were marked seen with, when
    /// the scan consulted one.
    pub generation: Option<u64>,
    /// How long the scan took. A file's state was read somewhere within
    /// that span, which [`Readiness`](crate::Readiness) accounts for: a
    /// version counts as seen at the scan's end, confirmed at its start.
    pub took: Duration,
}

impl Scan {
    /// Whether the scan looked at `rel_path`, so that not finding it there
    /// means it is gone (unless it lies under an [`unreadable`](Self::unreadable) path).
    pub fn covers(&self, rel_path: &str) -> bool {
        match &self.coverage {
            Coverage::Root => true,
            Coverage::Paths(paths) => paths.iter().any(|p| is_within(rel_path, p)),
        }
    }

    /// Whether `rel_path` is, or lies under, a path this scan could not read:
    /// its absence proves nothing.
    pub fn is_unknown(&self, rel_path: &str) -> bool {
        self.unreadable
            .iter()
            .any(|u| is_within(rel_path, &u.rel_path))
    }
}

/// What a full scan may take for granted: the files it already knows and
/// need not `stat` this time (see [`Readiness::plan`](crate::Readiness::plan)).
///
/// Listing a directory costs one round trip for many names; a `stat` costs
/// one per file. Over 100,000 settled files a rescan that stats only what
/// may have changed does a fifth of the work (`docs/benchmarks.md`).
pub trait Known: Sync {
    /// A regular file's path relative to the root and the inode number its
    /// directory entry gives (0 where the platform gives none), as listed.
    fn listed(&self, rel_path: &str, ino: u64) -> Listed;

    /// Asked after a `stat` of a file [`listed`](Self::listed) did not
    /// vouch for: `true` if this is exactly the version already known and
    /// ready, so it is counted as seen instead of reported (a rescan of an
    /// unchanged tree then allocates nothing per file).
    fn unchanged_version(&self, rel_path: &str, size: u64, mtime_ns: i64) -> bool;

    /// The generation the files taken as unchanged were marked seen with.
    fn generation(&self) -> u64;
}

/// What a [`Known`] says of a file from its directory entry alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// Known, ready, and the same entry: seen, no `stat` needed.
    Unchanged,
    /// Known (so a candidate, no need to read its name again): `stat` it.
    Known,
    /// Not known: classify its name, and `stat` it if it is a candidate.
    New,
}

/// Why a scan produced no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The watched root is missing, not a folder, or cannot be listed
    /// (typically: the LucidLink filespace is not mounted). Nothing can be
    /// concluded about the files under it.
    #[error("the watched folder is unavailable: {reason}")]
    RootUnavailable { reason: String },
}

/// How a scan runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// Directory-listing threads. Directory reads on a network mount wait on
    /// round trips more than on the CPU, so the default is 4 even on 2 cores.
    pub threads: usize,
    /// Skip directories whose name starts with `.` (`.Trashes`,
    /// `.TemporaryItems`, `.fseventsd`, …): a render is never delivered
    /// there, and a file in a trash folder must not be uploaded.
    pub skip_hidden_dirs: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            threads: 4,
            skip_hidden_dirs: true,
        }
    }
}

/// Scans the whole tree under `root` once, with default options and no
/// reuse between calls. A [`Scanner`] is faster for repeated rescans.
pub fn scan(root: &Path, nomenclature: &Nomenclature) -> Result<Scan, ScanError> {
    Walk {
        root,
        nomenclature,
        options: &ScanOptions::default(),
        names: None,
        known: None,
    }
    .run(Seeds::Root)
    .map(|(scan, _)| scan)
}

/// Which names are candidates, remembered across scans: the name decides,
/// not the folder, and most names are the same from one rescan to the next.
type NameCache = HashMap<Box<str>, bool>;

/// Repeated scans of one tree with one nomenclature. Remembers the
/// classification of every file name it has seen, so a rescan of an
/// unchanged tree costs a `readdir` per directory and an `lstat` per
/// candidate, and no pattern matching.
#[derive(Debug)]
pub struct Scanner {
    nomenclature: Nomenclature,
    options: ScanOptions,
    names: Mutex<Arc<NameCache>>,
}

impl Scanner {
    pub fn new(nomenclature: Nomenclature, options: ScanOptions) -> Self {
        Self {
            nomenclature,
            options,
            names: Mutex::new(Arc::new(NameCache::new())),
        }
    }

    pub fn nomenclature(&self) -> &Nomenclature {
        &self.nomenclature
    }

    /// Scans the whole tree under `root`.
    pub fn scan(&self, root: &Path) -> Result<Scan, ScanError> {
        self.run(root, Seeds::Root, None)
    }

    /// Scans the whole tree under `root`, but stats only the candidate
    /// files `known` does not take as unchanged from their listing.
    pub fn scan_known(&self, root: &Path, known: &dyn Known) -> Result<Scan, ScanError> {
        self.run(root, Seeds::Root, Some(known))
    }

    /// Looks again at a few paths relative to `root`: each is re-stat'ed if
    /// it is a file, walked if it is a directory, and reported gone (through
    /// [`Coverage::Paths`]) if it no longer exists. Paths that are absolute
    /// or contain `..` are ignored.
    pub fn scan_paths(&self, root: &Path, rel_paths: &[String]) -> Result<Scan, ScanError> {
        let paths = rel_paths
            .iter()
            .filter(|p| is_plain_relative(p))
            .map(|p| p.trim_end_matches('/').to_string())
            .collect();
        self.run(root, Seeds::Paths(paths), None)
    }

    fn run(&self, root: &Path, seeds: Seeds, known: Option<&dyn Known>) -> Result<Scan, ScanError> {
        let names = Arc::clone(&lock(&self.names));
        let (scan, outcome) = Walk {
            root,
            nomenclature: &self.nomenclature,
            options: &self.options,
            names: Some(&names),
            known,
        }
        .run(seeds)?;
        let mut cache = lock(&self.names);
        // Names of deleted files would pile up forever: start afresh when the
        // cache is far larger than what the tree holds.
        if outcome.full && cache.len() > 4 * outcome.regular_files + 4096 {
            *cache = Arc::new(NameCache::new());
        }
        if !outcome.new_names.is_empty() {
            drop(names);
            let map = Arc::make_mut(&mut cache);
            map.extend(outcome.new_names);
        }
        Ok(scan)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

enum Seeds {
    Root,
    Paths(Vec<String>),
}

/// What a walk learned besides the scan itself.
#[derive(Default)]
struct Outcome {
    full: bool,
    regular_files: usize,
    new_names: Vec<(Box<str>, bool)>,
}

/// One scan in progress.
struct Walk<'a> {
    root: &'a Path,
    nomenclature: &'a Nomenclature,
    options: &'a ScanOptions,
    names: Option<&'a NameCache>,
    known: Option<&'a dyn Known>,
}

/// A directory waiting to be listed.
struct Dir {
    abs: PathBuf,
    rel: String,
}

/// What one worker found.
#[derive(Default)]
struct Found {
    files: Vec<Observation>,
    unreadable: Vec<Unreadable>,
    new_names: Vec<(Box<str>, bool)>,
    regular_files: usize,
    unchanged: usize,
    statted: usize,
}

impl Found {
    fn merge(&mut self, other: Found) {
        self.files.extend(other.files);
        self.unreadable.extend(other.unreadable);
        self.new_names.extend(other.new_names);
        self.regular_files += other.regular_files;
        self.unchanged += other.unchanged;
        self.statted += other.statted;
    }
}

impl Walk<'_> {
    fn run(&self, seeds: Seeds) -> Result<(Scan, Outcome), ScanError> {
        let started = Instant::now();
        let root_meta = fs::metadata(self.root).map_err(|e| root_unavailable(self.root, &e))?;
        if !root_meta.is_dir() {
            return Err(ScanError::RootUnavailable {
                reason: format!("{} is not a folder", self.root.display()),
            });
        }

        let mut found = Found::default();
        let (dirs, coverage) = match seeds {
            Seeds::Root => {
                // The root itself must list; a subdirectory may fail alone.
                let entries =
                    fs::read_dir(self.root).map_err(|e| root_unavailable(self.root, &e))?;
                let mut dirs = Vec::new();
                self.list(entries, "", &mut dirs, &mut found);
                (dirs, Coverage::Root)
            }
            Seeds::Paths(paths) => {
                let mut dirs = Vec::new();
                for rel in &paths {
                    self.seed(rel, &mut dirs, &mut found);
                }
                (dirs, Coverage::Paths(paths))
            }
        };
        found.merge(self.walk(dirs));

        // A filespace unmounted mid-scan makes directories vanish one by one;
        // a partial listing must not pass for the truth.
        if let Err(e) = fs::metadata(self.root) {
            return Err(root_unavailable(self.root, &e));
        }

        found
            .files
            .sort_unstable_by(|a, b| a.rel_path.cmp(&b.rel_path));
        found.files.dedup_by(|a, b| a.rel_path == b.rel_path);
        found
            .unreadable
            .sort_unstable_by(|a, b| a.rel_path.cmp(&b.rel_path));
        found.unreadable.dedup_by(|a, b| a.rel_path == b.rel_path);
        let outcome = Outcome {
            full: coverage == Coverage::Root,
            regular_files: found.regular_files,
            new_names: found.new_names,
        };
        let scan = Scan {
            files: found.files,
            unreadable: found.unreadable,
            coverage,
            unchanged: found.unchanged,
            statted: found.statted,
            generation: self.known.map(|k| k.generation()),
            took: started.elapsed(),
        };
        Ok((scan, outcome))
    }

    /// Starts a targeted scan at one relative path.
    fn seed(&self, rel: &str, dirs: &mut Vec<Dir>, found: &mut Found) {
        let abs = join_rel(self.root, rel);
        let meta = match fs::symlink_metadata(&abs) {
            Ok(meta) => meta,
            Err(e) if is_absent(&e) => return,
            Err(e) => {
                found.unreadable.push(Unreadable {
                    rel_path: rel.to_string(),
                    reason: e.to_string(),
                });
                return;
            }
        };
        let name = file_name_of(rel);
        if meta.is_dir() {
            if !self.skips_dir(rel) {
                dirs.push(Dir {
                    abs,
                    rel: rel.to_string(),
                });
            }
        } else if meta.is_file() && !self.skips_dir(parent_of(rel)) {
            found.regular_files += 1;
            if self.is_candidate(name, &mut found.new_names) {
                found.files.push(observation(rel.to_string(), &meta));
            }
        }
    }

    /// Whether a directory (by relative path) or anything above it is hidden
    /// and skipped.
    fn skips_dir(&self, rel_dir: &str) -> bool {
        self.options.skip_hidden_dirs
            && rel_dir
                .split('/')
                .any(|component| component.starts_with('.'))
    }

    /// Lists every directory in `dirs` and below, on up to
    /// `options.threads` threads (the calling one included).
    fn walk(&self, dirs: Vec<Dir>) -> Found {
        if dirs.is_empty() {
            return Found::default();
        }
        let queue = WorkQueue::new(dirs);
        let threads = self.options.threads.max(1);
        std::thread::scope(|s| {
            let helpers: Vec<_> = (1..threads)
                .map(|_| s.spawn(|| self.work(&queue)))
                .collect();
            let mut found = self.work(&queue);
            for helper in helpers {
                match helper.join() {
                    Ok(theirs) => found.merge(theirs),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            found
        })
    }

    fn work(&self, queue: &WorkQueue) -> Found {
        let mut found = Found::default();
        while let Some(mut job) = queue.next() {
            let dir = &job.dir;
            match fs::read_dir(&dir.abs) {
                Ok(entries) => {
                    let mut subdirs = Vec::new();
                    self.list(entries, &dir.rel, &mut subdirs, &mut found);
                    job.found = subdirs;
                }
                // Removed (or replaced by a file) since its parent was listed.
                Err(e) if is_absent(&e) => {}
                Err(e) => found.unreadable.push(Unreadable {
                    rel_path: dir.rel.clone(),
                    reason: e.to_string(),
                }),
            }
        }
        found
    }

    /// Reads one directory's entries: subdirectories go to `subdirs`,
    /// candidate files (stat'ed) to `found`.
    fn list(&self, entries: fs::ReadDir, rel_dir: &str, subdirs: &mut Vec<Dir>, found: &mut Found) {
        // Each file's relative path is built in one buffer: a known,
        // unchanged file costs no allocation.
        let mut rel = String::with_capacity(rel_dir.len() + 64);
        rel.push_str(rel_dir);
        if !rel.is_empty() {
            rel.push('/');
        }
        let base = rel.len();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    // The listing broke off: what was not listed is unknown.
                    found.unreadable.push(Unreadable {
                        rel_path: rel_dir.to_string(),
                        reason: e.to_string(),
                    });
                    return;
                }
            };
            let os_name = entry.file_name();
            let Some(name) = os_name.to_str() else {
                self.non_utf8(&os_name, rel_dir, &entry, found);
                continue;
            };
            // `file_type` comes from the directory entry itself where the
            // file system says (no `stat`), and never follows a symlink.
            let file_type = match entry.file_type() {
                Ok(t) => t,
                Err(e) if is_absent(&e) => continue,
                Err(e) => {
                    found.unreadable.push(Unreadable {
                        rel_path: join(rel_dir, name),
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            if file_type.is_dir() {
                if !(self.options.skip_hidden_dirs && name.starts_with('.')) {
                    subdirs.push(Dir {
                        abs: entry.path(),
                        rel: join(rel_dir, name),
                    });
                }
            } else if file_type.is_file() {
                found.regular_files += 1;
                rel.truncate(base);
                rel.push_str(name);
                // A file the tracker knows is a candidate: no need to
                // classify its name again.
                let listed = self
                    .known
                    .map_or(Listed::New, |k| k.listed(&rel, entry_ino(&entry)));
                match listed {
                    Listed::Unchanged => {
                        found.unchanged += 1;
                        continue;
                    }
                    Listed::Known => {}
                    Listed::New => {
                        if !self.is_candidate(name, &mut found.new_names) {
                            continue;
                        }
                    }
                }
                // `lstat` relative to the open directory: no path lookup.
                found.statted += 1;
                match entry.metadata() {
                    Ok(meta) if meta.is_file() => {
                        let (size, mtime_ns) = version(&meta);
                        if self
                            .known
                            .is_some_and(|k| k.unchanged_version(&rel, size, mtime_ns))
                        {
                            found.unchanged += 1;
                            continue;
                        }
                        found.files.push(Observation {
                            rel_path: rel.clone(),
                            size,
                            mtime_ns,
                        });
                    }
                    Ok(_) => {}
                    Err(e) if is_absent(&e) => {}
                    Err(e) => found.unreadable.push(Unreadable {
                        rel_path: rel.clone(),
                        reason: e.to_string(),
                    }),
                }
            }
            // Symlinks, sockets, FIFOs, devices: skipped silently (§1).
        }
    }

    /// A name that is not UTF-8 cannot be represented, classified exactly
    /// or uploaded under its own name. Reported if it looks like a candidate
    /// (or is a directory, which might hold some); skipped otherwise.
    fn non_utf8(&self, os_name: &OsStr, rel_dir: &str, entry: &fs::DirEntry, found: &mut Found) {
        let lossy = os_name.to_string_lossy();
        let file_type = entry.file_type().ok();
        let is_dir = file_type.is_some_and(|t| t.is_dir());
        let is_file = file_type.is_some_and(|t| t.is_file());
        if is_dir && !(self.options.skip_hidden_dirs && lossy.starts_with('.'))
            || is_file && self.nomenclature.classify(&lossy).is_queued()
        {
            found.unreadable.push(Unreadable {
                rel_path: join(rel_dir, &lossy),
                reason: "the name is not valid UTF-8; rename it so PostFlow can read it"
                    .to_string(),
            });
        }
    }

    /// Whether a regular file with this name is a candidate (`parsed` or
    /// `unrecognized`), from the cache when the name was seen before.
    fn is_candidate(&self, name: &str, new_names: &mut Vec<(Box<str>, bool)>) -> bool {
        if let Some(&known) = self.names.and_then(|cache| cache.get(name)) {
            return known;
        }
        let queued = self.nomenclature.classify(name).is_queued();
        // With a tracker, a candidate's name is classified once: from then
        // on the tracker knows the file. Only other names (a `.wav` beside
        // the renders) are worth remembering across scans.
        if self.names.is_some() && !(queued && self.known.is_some()) {
            new_names.push((name.into(), queued));
        }
        queued
    }
}

/// A queue of directories shared by the walking threads; ends when it is
/// empty and no thread is still listing (and so might add more).
struct WorkQueue {
    state: Mutex<QueueState>,
    changed: Condvar,
}

struct QueueState {
    dirs: Vec<Dir>,
    busy: usize,
}

/// One directory being listed. Dropping it (even while unwinding from a
/// panic) hands the subdirectories found back to the queue and marks the
/// thread idle, so the other threads never wait forever.
struct Job<'q> {
    queue: &'q WorkQueue,
    dir: Dir,
    found: Vec<Dir>,
}

impl Drop for Job<'_> {
    fn drop(&mut self) {
        let mut state = lock(&self.queue.state);
        state.busy -= 1;
        let wake = !self.found.is_empty() || state.busy == 0;
        state.dirs.append(&mut self.found);
        drop(state);
        if wake {
            self.queue.changed.notify_all();
        }
    }
}

impl WorkQueue {
    fn new(dirs: Vec<Dir>) -> Self {
        Self {
            state: Mutex::new(QueueState { dirs, busy: 0 }),
            changed: Condvar::new(),
        }
    }

    fn next(&self) -> Option<Job<'_>> {
        let mut state = lock(&self.state);
        loop {
            if let Some(dir) = state.dirs.pop() {
                state.busy += 1;
                return Some(Job {
                    queue: self,
                    dir,
                    found: Vec::new(),
                });
            }
            if state.busy == 0 {
                return None;
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The inode number the directory entry gives, without a `stat`.
#[cfg(unix)]
fn entry_ino(entry: &fs::DirEntry) -> u64 {
    std::os::unix::fs::DirEntryExt::ino(entry)
}

#[cfg(not(unix))]
fn entry_ino(_entry: &fs::DirEntry) -> u64 {
    0
}

fn observation(rel_path: String, meta: &Metadata) -> Observation {
    let (size, mtime_ns) = version(meta);
    Observation {
        rel_path,
        size,
        mtime_ns,
    }
}

/// Size and modification time (ns since the epoch; 0 if the platform has none).
fn version(meta: &Metadata) -> (u64, i64) {
    (meta.len(), meta.modified().map(system_time_ns).unwrap_or(0))
}

/// Nanoseconds since the Unix epoch, saturating at `i64`'s range (year 2262).
pub(crate) fn system_time_ns(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

fn root_unavailable(root: &Path, error: &io::Error) -> ScanError {
    ScanError::RootUnavailable {
        reason: format!("{}: {error}", root.display()),
    }
}

/// Gone, or no longer a directory: a race with a change, not a problem.
fn is_absent(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn join(rel_dir: &str, name: &str) -> String {
    if rel_dir.is_empty() {
        name.to_string()
    } else {
        let mut path = String::with_capacity(rel_dir.len() + 1 + name.len());
        path.push_str(rel_dir);
        path.push('/');
        path.push_str(name);
        path
    }
}

/// `root` joined with each `/`-separated component of `rel`.
pub(crate) fn join_rel(root: &Path, rel: &str) -> PathBuf {
    let mut path = root.to_path_buf();
    path.extend(rel.split('/').filter(|c| !c.is_empty()));
    path
}

fn file_name_of(rel_path: &str) -> &str {
    rel_path.rsplit('/').next().unwrap_or(rel_path)
}

fn parent_of(rel_path: &str) -> &str {
    rel_path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// `path` is `prefix` itself or lies under it (`prefix` empty: everything).
pub(crate) fn is_within(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A non-empty relative path made of normal components only.
fn is_plain_relative(rel: &str) -> bool {
    !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_is_component_wise() {
        assert!(is_within("SC01/a.mov", "SC01"));
        assert!(is_within("SC01", "SC01"));
        assert!(is_within("anything", ""));
        assert!(!is_within("SC010/a.mov", "SC01"));
        assert!(!is_within("SC0", "SC01"));
    }

    #[test]
    fn mtime_round_trips_both_sides_of_the_epoch() {
        for ns in [0_i64, 1, 1_700_000_000_123_456_789, -1_000_000_007] {
            let obs = Observation {
                rel_path: "a.mov".into(),
                size: 1,
                mtime_ns: ns,
            };
            assert_eq!(system_time_ns(obs.mtime()), ns);
        }
    }

    #[test]
    fn plain_relative_paths_only() {
        assert!(is_plain_relative("SC01/a.mov"));
        assert!(!is_plain_relative("../a.mov"));
        assert!(!is_plain_relative("/etc/passwd"));
        assert!(!is_plain_relative("SC01/../../x"));
        assert!(!is_plain_relative(""));
    }

    #[test]
    fn observation_names_and_paths() {
        let obs = Observation {
            rel_path: "SC01/SH010/SC01_SH010_V001.mov".into(),
            size: 3,
            mtime_ns: 0,
        };
        assert_eq!(obs.file_name(), "SC01_SH010_V001.mov");
        assert_eq!(
            obs.path_in(Path::new("/mnt/BY_SHOT")),
            Path::new("/mnt/BY_SHOT/SC01/SH010/SC01_SH010_V001.mov")
        );
        assert_eq!(parent_of(&obs.rel_path), "SC01/SH010");
    }
}
