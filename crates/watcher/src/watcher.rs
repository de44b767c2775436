//! The watcher task: periodic rescans (the backbone), native events (the
//! fast path) and timed readiness checks, turned into one stream of
//! [`WatchEvent`]s.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, MetadataKind, ModifyKind};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use postflow_nomenclature::Nomenclature;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;

use crate::readiness::{Change, OpensForReading, Readiness};
use crate::scan::{Observation, Scan, ScanError, ScanOptions, Scanner};

/// Beyond this many distinct changed paths between two flushes, a full
/// rescan is cheaper than re-stat'ing each one.
const MAX_TARGETED_PATHS: usize = 256;

/// The shortest rescan interval honoured.
const MIN_RESCAN_INTERVAL: Duration = Duration::from_millis(10);

/// How the watcher runs. [`WatcherConfig::new`] gives the product defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherConfig {
    /// The `BY_SHOT` folder.
    pub root: PathBuf,
    /// Full rescan period (settings `watch.rescan_interval_secs`, default
    /// 15 s; at least 10 ms). Files written by other workstations on a LucidLink mount raise
    /// no native event: this is what finds them.
    pub rescan_interval: Duration,
    /// How long size and modification time must stay unchanged (settings
    /// `watch.readiness_window_secs`, default 30 s).
    pub readiness_window: Duration,
    /// Native events are gathered for this long before the paths they name
    /// are looked at again (default 200 ms): a render writing a file raises
    /// thousands of events, which become one re-stat.
    pub event_debounce: Duration,
    /// Whether to use native file system events at all (default true).
    pub native_events: bool,
    /// Capacity of the event channel; the watcher waits when it is full.
    pub channel_capacity: usize,
    /// A file already reported ready is stat'ed again on one full rescan in
    /// this many (default 8: every 2 minutes at the default interval); on
    /// the others its directory entry alone shows it is still there and
    /// not replaced (see [`Readiness::plan`]). New, growing and vanished
    /// files are seen at every rescan. 1: stat every file every time.
    pub verify_ready_every: u32,
    pub scan: ScanOptions,
}

impl WatcherConfig {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            rescan_interval: Duration::from_secs(15),
            readiness_window: Duration::from_secs(30),
            event_debounce: Duration::from_millis(200),
            native_events: true,
            channel_capacity: 1024,
            verify_ready_every: 8,
            scan: ScanOptions::default(),
        }
    }
}

/// What the watcher tells the engine.
///
/// The first event is always `RootOnline` or `RootOffline`. Paths are
/// relative to the root, `/`-separated, exactly as on disk.
///
/// **`RootOffline` means: don't trust absences.** While the root is offline
/// nothing is reported gone; the engine keeps every file it knows, pauses
/// work that reads from the filespace, and shows "filespace offline". After
/// `RootOnline`, the next scan reports what really changed meanwhile
/// (including `Gone` for files deleted while it was offline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// The root is listable (at start, or again after `RootOffline`).
    RootOnline,
    /// The root is missing or unreadable (filespace unmounted). Sent once
    /// per outage, not on every rescan.
    RootOffline { reason: String },
    /// A candidate seen for the first time, or with a new size or
    /// modification time (also after it was ready: a new version, which the
    /// engine must treat as new work). Record it durably first. Sent at most
    /// once per debounce interval or rescan per file.
    Candidate(Observation),
    /// This exact version (size, mtime) has been stable for the readiness
    /// window, is non-empty and opens for reading: it can be uploaded. Sent
    /// once per version.
    Ready(Observation),
    /// The file is no longer there (deleted, renamed away), as seen by a
    /// scan of a reachable root. Never sent while the root is offline, nor
    /// for files under an unreadable folder.
    Gone { rel_path: String },
    /// A folder that cannot be listed, a name that is not UTF-8, or a file
    /// that would be ready but cannot be opened. Sent once, not on every
    /// rescan (a folder again only after it was readable in between, or
    /// after an outage of the root; a file again only for a new version). What lies under an unreadable folder is
    /// unknown: neither found nor gone.
    Unreadable { rel_path: String, reason: String },
    /// A full rescan finished (every `rescan_interval`): how many candidate
    /// files it found and how long it took. For status displays.
    /// `checked`: how many of them it stat'ed; the others were ready files
    /// whose directory entry showed them unchanged (see
    /// [`WatcherConfig::verify_ready_every`]).
    Scanned {
        files: usize,
        checked: usize,
        took: Duration,
    },
}

/// Builds and starts the watcher task. See [`Watcher::spawn`].
#[derive(Debug)]
pub struct Watcher {
    config: WatcherConfig,
    nomenclature: Nomenclature,
    settled: Vec<Observation>,
}

impl Watcher {
    pub fn new(config: WatcherConfig, nomenclature: Nomenclature) -> Self {
        Self {
            config,
            nomenclature,
            settled: Vec::new(),
        }
    }

    /// Versions the engine already handled (uploaded, or held) before a
    /// restart: they are not reported again while unchanged, so a restart
    /// over 100,000 uploaded files sends no 100,000 candidates. A settled
    /// file that changed is a `Candidate`; one that is missing is `Gone`.
    pub fn settled(mut self, known: impl IntoIterator<Item = Observation>) -> Self {
        self.settled.extend(known);
        self
    }

    /// Starts watching with this configuration: an initial scan, then a
    /// rescan every `rescan_interval`, native events in between, and timed
    /// readiness checks. Must be called within a Tokio runtime.
    pub fn spawn(
        config: WatcherConfig,
        nomenclature: Nomenclature,
    ) -> (WatcherHandle, mpsc::Receiver<WatchEvent>) {
        Self::new(config, nomenclature).start()
    }

    /// Starts the task. Must be called within a Tokio runtime.
    pub fn start(self) -> (WatcherHandle, mpsc::Receiver<WatchEvent>) {
        let mut config = self.config;
        // A zero interval would rescan in a loop.
        config.rescan_interval = config.rescan_interval.max(MIN_RESCAN_INTERVAL);
        let (events_tx, events_rx) = mpsc::channel(config.channel_capacity.max(1));
        let (commands_tx, commands_rx) = mpsc::channel(4);
        let now = Instant::now();
        let mut readiness = Readiness::new(config.readiness_window);
        for known in self.settled {
            readiness.settle(known, now);
        }
        let core = Core {
            verify_ready_every: config.verify_ready_every,
            scanner: Scanner::new(self.nomenclature, config.scan.clone()),
            open: OpensForReading {
                root: config.root.clone(),
            },
            readiness,
            root_state: RootState::Unknown,
            reported: HashSet::new(),
            root: config.root.clone(),
            native: config.native_events.then(|| Native {
                inbox: Arc::new(Inbox::default()),
                watcher: None,
                failed: None,
            }),
        };
        let task = tokio::spawn(run(core, config, commands_rx, events_tx));
        let handle = WatcherHandle {
            commands: commands_tx,
            task: Some(task),
        };
        (handle, events_rx)
    }
}

enum Command {
    Rescan,
    Stop,
}

/// Controls a running watcher. Dropping it stops the watcher (so does
/// dropping the event receiver).
#[derive(Debug)]
pub struct WatcherHandle {
    commands: mpsc::Sender<Command>,
    task: Option<JoinHandle<()>>,
}

impl WatcherHandle {
    /// Asks for a full rescan now (e.g. the user pressed "rescan", or the
    /// engine has reason to doubt what it knows). Requests made while one
    /// is pending are merged.
    pub fn rescan_now(&self) {
        // Full: a request is already waiting; closed: the watcher stopped.
        let _ = self.commands.try_send(Command::Rescan);
    }

    /// Whether the watcher task is still running.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the watcher and waits for it to finish (a scan in progress is
    /// completed first). The event receiver then ends. Keep receiving (or
    /// drop the receiver) meanwhile: a watcher waiting on a full channel
    /// cannot see the request.
    pub async fn stop(mut self) {
        let _ = self.commands.send(Command::Stop).await;
        if let Some(task) = self.task.take() {
            if let Err(e) = task.await {
                if e.is_panic() {
                    tracing::error!("the watcher task panicked: {e}");
                }
            }
        }
    }
}

impl Drop for WatcherHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RootState {
    Unknown,
    Online,
    Offline,
}

/// The watcher's synchronous state: scanning and deciding, no async. Moved
/// onto a blocking thread for each pass (scans and open checks block).
struct Core {
    root: PathBuf,
    verify_ready_every: u32,
    scanner: Scanner,
    readiness: Readiness,
    open: OpensForReading,
    root_state: RootState,
    /// Unreadable paths already reported (until a full scan finds them
    /// readable again).
    reported: HashSet<String>,
    /// The native-event fast path, if enabled.
    native: Option<Native>,
}

/// The result of one pass.
#[derive(Default)]
struct Pass {
    events: Vec<WatchEvent>,
}

impl Core {
    /// A full rescan. Starts the native watch first if it is not running,
    /// so that no change falls between the scan and the watch.
    fn full(&mut self) -> Pass {
        let online = self.is_online();
        if let Some(native) = self.native.as_mut() {
            native.ensure(&self.root, online);
        }
        let plan = self.readiness.plan(self.verify_ready_every);
        let result = self.scanner.scan_known(&self.root, &plan);
        self.apply(result, true)
    }

    /// Stops the native watch; the next full rescan restarts it.
    fn drop_native_watch(&mut self) {
        if let Some(native) = self.native.as_mut() {
            native.watcher = None;
        }
    }

    /// Looks again at a few paths (changed according to native events, or
    /// due for a readiness check).
    fn targeted(&mut self, rel_paths: &[String]) -> Pass {
        let result = self.scanner.scan_paths(&self.root, rel_paths);
        self.apply(result, false)
    }

    /// Turns a scan that just finished into events.
    fn apply(&mut self, result: Result<Scan, ScanError>, full: bool) -> Pass {
        let now = Instant::now();
        let mut pass = Pass::default();
        let scan = match result {
            Ok(scan) => scan,
            Err(ScanError::RootUnavailable { reason }) => {
                if self.root_state != RootState::Offline {
                    tracing::warn!("watched folder offline: {reason}");
                    self.root_state = RootState::Offline;
                    self.drop_native_watch();
                    // Whatever is still unreadable after the outage is
                    // reported again, after `RootOnline`.
                    self.reported.clear();
                    pass.events.push(WatchEvent::RootOffline { reason });
                }
                return pass;
            }
        };
        if self.root_state != RootState::Online {
            tracing::info!("watching {}", self.root.display());
            self.root_state = RootState::Online;
            pass.events.push(WatchEvent::RootOnline);
        }

        for unreadable in &scan.unreadable {
            if self.reported.insert(unreadable.rel_path.clone()) {
                tracing::warn!("cannot read {}: {}", unreadable.rel_path, unreadable.reason);
                pass.events.push(WatchEvent::Unreadable {
                    rel_path: unreadable.rel_path.clone(),
                    reason: unreadable.reason.clone(),
                });
            }
        }
        if full {
            // Readable again: forget it, so a new failure is reported anew.
            self.reported
                .retain(|path| scan.unreadable.iter().any(|u| &u.rel_path == path));
        }

        let changes = self.readiness.observe(&scan, now, &mut self.open);
        pass.events
            .extend(changes.into_iter().map(|change| match change {
                Change::Appeared(obs) | Change::Changed(obs) => WatchEvent::Candidate(obs),
                Change::Ready(obs) => WatchEvent::Ready(obs),
                Change::Gone(rel_path) => WatchEvent::Gone { rel_path },
                Change::NotOpenable {
                    observation,
                    reason,
                } => WatchEvent::Unreadable {
                    rel_path: observation.rel_path,
                    reason: format!("cannot be opened for reading: {reason}"),
                },
            }));
        if full {
            pass.events.push(WatchEvent::Scanned {
                files: scan.files.len() + scan.unchanged,
                checked: scan.statted,
                took: scan.took,
            });
        }
        pass
    }

    fn is_online(&self) -> bool {
        self.root_state == RootState::Online
    }
}

/// Paths named by native events since the last flush, filled on notify's
/// thread.
#[derive(Default)]
struct Inbox {
    paths: Mutex<HashSet<PathBuf>>,
    /// The events overflowed, or said to rescan: a targeted look won't do.
    rescan: AtomicBool,
    wake: Notify,
}

impl Inbox {
    fn push(&self, event: notify::Result<notify::Event>) {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                tracing::debug!("native event error: {e}");
                return;
            }
        };
        if event.need_rescan() {
            self.rescan.store(true, Ordering::Relaxed);
        } else if is_relevant(&event.kind) {
            let mut paths = self.paths.lock().unwrap_or_else(PoisonError::into_inner);
            if paths.len() + event.paths.len() > MAX_TARGETED_PATHS {
                self.rescan.store(true, Ordering::Relaxed);
                paths.clear();
            } else {
                paths.extend(event.paths);
            }
        } else {
            return;
        }
        self.wake.notify_one();
    }

    /// Forgets what arrived so far (a full rescan is about to cover it).
    fn clear(&self) {
        self.rescan.store(false, Ordering::Relaxed);
        self.paths
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// What to look at again: `None` for a full rescan.
    fn take(&self, root: &Roots) -> Option<Vec<String>> {
        let paths = std::mem::take(&mut *self.paths.lock().unwrap_or_else(PoisonError::into_inner));
        if self.rescan.swap(false, Ordering::Relaxed) {
            return None;
        }
        let mut rel_paths = Vec::with_capacity(paths.len());
        for path in paths {
            match root.relative(&path) {
                // The root itself was removed, renamed or re-created.
                Some(rel) if rel.is_empty() => return None,
                Some(rel) => rel_paths.push(rel),
                None => {}
            }
        }
        rel_paths.sort_unstable();
        Some(rel_paths)
    }
}

/// Our own open checks and directory listings raise access events; only a
/// file closed after writing says something changed.
fn is_relevant(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        _ => true,
    }
}

/// The root as configured and as the OS may report it in events (macOS
/// FSEvents reports `/private/var/…` for `/var/…`).
struct Roots {
    given: PathBuf,
    canonical: Option<PathBuf>,
}

impl Roots {
    fn new(root: &Path) -> Self {
        Self {
            given: root.to_path_buf(),
            canonical: root.canonicalize().ok(),
        }
    }

    /// `path` relative to the root, `/`-separated; `None` if outside it or
    /// not UTF-8 (the next rescan reports such names).
    fn relative(&self, path: &Path) -> Option<String> {
        let rest = path
            .strip_prefix(&self.given)
            .ok()
            .or_else(|| path.strip_prefix(self.canonical.as_ref()?).ok())?;
        let mut rel = String::new();
        for component in rest.components() {
            let Component::Normal(name) = component else {
                return None;
            };
            if !rel.is_empty() {
                rel.push('/');
            }
            rel.push_str(name.to_str()?);
        }
        Some(rel)
    }
}

/// The native watcher, restarted whenever the root comes back.
struct Native {
    inbox: Arc<Inbox>,
    watcher: Option<RecommendedWatcher>,
    /// The last failure, logged once.
    failed: Option<String>,
}

impl Native {
    /// Starts a recursive watch of the root if none is running. Blocking:
    /// a recursive watch walks the tree to add a watch per directory.
    ///
    /// A watch that fails part-way (an unreadable folder, the inotify watch
    /// limit) is kept for what it covers and not retried until the root
    /// comes back from offline: re-walking the tree on every rescan would
    /// double its cost, and rescans cover the rest anyway.
    fn ensure(&mut self, root: &Path, root_online: bool) {
        if self.watcher.is_some() {
            return;
        }
        let inbox = Arc::clone(&self.inbox);
        let config = notify::Config::default().with_follow_symlinks(false);
        let mut watcher = match RecommendedWatcher::new(move |event| inbox.push(event), config) {
            Ok(watcher) => watcher,
            Err(e) => return self.failed(root, root_online, e),
        };
        match watcher.watch(root, RecursiveMode::Recursive) {
            Ok(()) => self.failed = None,
            // The root is missing: offline, try again at the next rescan.
            Err(e) if !root.is_dir() => return self.failed(root, root_online, e),
            Err(e) => self.failed(root, true, e),
        }
        self.watcher = Some(watcher);
    }

    /// Logs a failure once (and not at all while the root is offline, when
    /// failing is expected).
    fn failed(&mut self, root: &Path, root_online: bool, error: notify::Error) {
        let message = error.to_string();
        if root_online && self.failed.as_deref() != Some(message.as_str()) {
            tracing::warn!(
                "native file events unavailable for (part of) {} ({message}); \
                 changes there are found by rescans",
                root.display()
            );
        }
        self.failed = Some(message);
    }
}

/// The watcher task's state between passes.
struct Task {
    /// Locked by one pass at a time, on a blocking thread (scans and open
    /// checks block), or briefly by the loop to read deadlines.
    core: Arc<Mutex<Core>>,
    events: mpsc::Sender<WatchEvent>,
}

impl Task {
    fn core(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one pass on a blocking thread and sends its events. `false` if
    /// the watcher must stop (receiver gone, or the pass panicked).
    async fn pass(&self, pass: impl FnOnce(&mut Core) -> Pass + Send + 'static) -> bool {
        let core = Arc::clone(&self.core);
        let joined = tokio::task::spawn_blocking(move || {
            let mut core = core.lock().unwrap_or_else(PoisonError::into_inner);
            pass(&mut core)
        })
        .await;
        let pass = match joined {
            Ok(pass) => pass,
            Err(e) => {
                tracing::error!("the watcher stopped: a scan failed: {e}");
                return false;
            }
        };
        for event in pass.events {
            if self.events.send(event).await.is_err() {
                return false;
            }
        }
        true
    }
}

async fn run(
    core: Core,
    config: WatcherConfig,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<WatchEvent>,
) {
    let roots = Roots::new(&config.root);
    let inbox = core.native.as_ref().map(|n| Arc::clone(&n.inbox));
    let task = Task {
        core: Arc::new(Mutex::new(core)),
        events,
    };
    let mut next_rescan = Instant::now();
    let mut flush_at: Option<Instant> = None;

    loop {
        let now = Instant::now();
        if now >= next_rescan {
            // The rescan covers whatever the events named so far.
            if let Some(inbox) = &inbox {
                inbox.clear();
            }
            flush_at = None;
            if !task.pass(Core::full).await {
                return;
            }
            next_rescan = Instant::now() + config.rescan_interval;
        } else if let (Some(inbox), Some(at)) = (&inbox, flush_at) {
            if at <= now {
                flush_at = None;
                match inbox.take(&roots) {
                    None => {
                        // Overflow, or the root itself changed: restart the
                        // native watch and rescan everything.
                        task.core().drop_native_watch();
                        next_rescan = now;
                        continue;
                    }
                    Some(paths) if !paths.is_empty() && task.core().is_online() => {
                        if !task.pass(move |core| core.targeted(&paths)).await {
                            return;
                        }
                    }
                    Some(_) => {}
                }
            }
        }

        // Files whose readiness window has ended: look at them again now,
        // rather than at the next rescan.
        let due = {
            let mut core = task.core();
            if core.is_online() {
                core.readiness.due(Instant::now())
            } else {
                Vec::new()
            }
        };
        if !due.is_empty() && !task.pass(move |core| core.targeted(&due)).await {
            return;
        }

        let mut wake = next_rescan;
        if let Some(at) = flush_at {
            wake = wake.min(at);
        }
        {
            let core = task.core();
            if core.is_online() {
                if let Some(at) = core.readiness.next_deadline() {
                    wake = wake.min(at);
                }
            }
        }
        let listen = inbox.as_ref().filter(|_| flush_at.is_none());
        tokio::select! {
            biased;
            command = commands.recv() => match command {
                Some(Command::Rescan) => next_rescan = Instant::now(),
                Some(Command::Stop) | None => return,
            },
            () = task.events.closed() => return,
            () = async { if let Some(inbox) = listen { inbox.wake.notified().await } }, if listen.is_some() => {
                flush_at = Some(Instant::now() + config.event_debounce);
            }
            () = tokio::time::sleep_until(wake.into()) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_writes_and_structure_changes_are_relevant() {
        use notify::event::{CreateKind, RemoveKind, RenameMode};
        assert!(is_relevant(&EventKind::Create(CreateKind::File)));
        assert!(is_relevant(&EventKind::Remove(RemoveKind::Any)));
        assert!(is_relevant(&EventKind::Modify(ModifyKind::Name(
            RenameMode::Both
        ))));
        assert!(is_relevant(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(!is_relevant(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_relevant(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
    }

    #[test]
    fn event_paths_become_root_relative() {
        let roots = Roots {
            given: PathBuf::from("/mnt/fs/BY_SHOT"),
            canonical: Some(PathBuf::from("/private/mnt/fs/BY_SHOT")),
        };
        assert_eq!(
            roots
                .relative(Path::new("/mnt/fs/BY_SHOT/SC01/a.mov"))
                .as_deref(),
            Some("SC01/a.mov")
        );
        assert_eq!(
            roots
                .relative(Path::new("/private/mnt/fs/BY_SHOT/SC01/a.mov"))
                .as_deref(),
            Some("SC01/a.mov")
        );
        assert_eq!(
            roots.relative(Path::new("/mnt/fs/BY_SHOT")).as_deref(),
            Some("")
        );
        assert_eq!(roots.relative(Path::new("/mnt/fs/OTHER/a.mov")), None);
    }

    #[test]
    fn an_event_on_the_root_asks_for_a_full_rescan() {
        let inbox = Inbox::default();
        let roots = Roots {
            given: PathBuf::from("/r"),
            canonical: None,
        };
        let event = |path: &str| {
            Ok(
                notify::Event::new(EventKind::Create(notify::event::CreateKind::File))
                    .add_path(PathBuf::from(path)),
            )
        };
        inbox.push(event("/r/SC01/b.mov"));
        inbox.push(event("/r/SC01/a.mov"));
        inbox.push(event("/r/SC01/a.mov"));
        assert_eq!(
            inbox.take(&roots),
            Some(vec!["SC01/a.mov".to_string(), "SC01/b.mov".to_string()])
        );
        inbox.push(event("/r"));
        assert_eq!(inbox.take(&roots), None);
        for i in 0..=MAX_TARGETED_PATHS {
            inbox.push(event(&format!("/r/{i}.mov")));
        }
        assert_eq!(inbox.take(&roots), None, "too many paths: rescan");
        assert_eq!(inbox.take(&roots), Some(vec![]));
    }
}
