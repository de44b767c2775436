//! The PostFlow service: the watcher and the engine wired together from the
//! settings and the secrets, as `postflow run` (and, later, the tray app)
//! runs it. Other processes steer and observe it through the queue
//! database: `pause`/`resume` write the persisted pause flag, `retry` moves
//! items, and the service writes a heartbeat that `status` reads.

mod check;
mod notifier;
pub mod schedule;
mod status;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postflow_core::{Control, Event, RunState};
use postflow_engine::{Engine, EngineConfig, PAUSED_KEY, PAUSED_UNTIL_KEY};
use postflow_frameio::{Client, ClientConfig, Credentials, RetryPolicy, UploadOptions};
use postflow_queue::{now_ms, Queue, StatusKind};
use postflow_secrets::{Origin, SecretStore};
use postflow_settings::{Paths, Problem, Settings};
use postflow_watcher::{Observation, WatchEvent, Watcher, WatcherConfig};
use serde::{Deserialize, Serialize};

pub use check::{check, Check};
/// The time types of [`Clock`] and [`schedule`].
pub use jiff;
pub use notifier::{
    notify_test, problem as discord_problem, DiscordProblem, Notifier, WebhookSource,
    DISCORD_PROBLEM_KEY,
};
pub use schedule::{BandwidthPlan, BandwidthStatus, Clock, SystemClock};
pub use status::{health, Report};

/// The queue database's file name in the data directory.
pub const QUEUE_FILE: &str = "queue.sqlite";
const HEARTBEAT_KEY: &str = "service.heartbeat";
const ROOT_FOLDER_KEY: &str = "frameio.root_folder";
/// Set (to the time asked) by [`request_rescan`] from any process.
const RESCAN_KEY: &str = "service.rescan_requested";
/// The Frame.io project's name, remembered when the service resolves it.
pub const PROJECT_NAME_KEY: &str = "frameio.project_name";

/// The name of project `project_id` as the service last read it from
/// Frame.io (kept per project: after a switch, the old project's name is
/// never shown for the new one).
pub fn project_name(queue: &Queue, project_id: &str) -> Option<String> {
    if project_id.is_empty() {
        return None;
    }
    queue
        .state(&format!("{PROJECT_NAME_KEY}.{project_id}"))
        .ok()
        .flatten()
}
/// A heartbeat older than this means the service is not running.
pub const HEARTBEAT_STALE: Duration = Duration::from_secs(15);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// How soon a `postflow pause` from another process takes effect.
const CONTROL_POLL: Duration = Duration::from_millis(500);

pub fn queue_path(paths: &Paths) -> PathBuf {
    paths.data_dir.join(QUEUE_FILE)
}

/// What the running service says about itself, every couple of seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub pid: u32,
    pub version: String,
    pub started_at: i64,
    pub at: i64,
    pub paused: bool,
    pub frameio_online: bool,
    pub filespace_online: bool,
    pub needs_user: Option<String>,
    pub cpu_percent: f32,
    pub rss_bytes: u64,
    pub watch_root: String,
    pub last_scan_files: Option<usize>,
    pub last_scan_ms: Option<u64>,
    /// Set on a clean shutdown.
    pub stopped: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the settings are not ready: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Settings(Vec<Problem>),
    #[error("not signed in to Frame.io: run `postflow signin`, or set POSTFLOW_FRAMEIO_TOKEN on a server")]
    NotSignedIn,
    #[error(transparent)]
    Secrets(#[from] postflow_secrets::SecretError),
    #[error(transparent)]
    Frameio(#[from] postflow_frameio::Error),
    #[error(transparent)]
    Queue(#[from] postflow_queue::Error),
    /// One service per queue: another process (the app, or `postflow run`)
    /// holds the data directory's service lock.
    #[error("another PostFlow service{} is already running for this queue ({}); steer it with `postflow pause`, `resume`, `retry`, or stop it first", .pid.map(|p| format!(" (pid {p})")).unwrap_or_default(), .dir)]
    AlreadyRunning { pid: Option<u32>, dir: String },
    #[error("cannot take the service lock in {dir}: {reason}")]
    Lock { dir: String, reason: String },
}

/// Settings problems that keep the service from starting. A watched folder
/// that is set but not there is not one of them: an unmounted filespace is
/// a state the service waits out (offline), not a reason to stop.
pub fn blocking_problems(settings: &Settings) -> Vec<Problem> {
    settings
        .validate()
        .into_iter()
        .filter(|p| {
            p.key.starts_with("nomenclature")
                || p.key == "frameio.account_id"
                || p.key == "frameio.project_id"
                || p.key.starts_with("frameio.api")
                || (p.key == "watch.root" && settings.watch.root.as_os_str().is_empty())
        })
        .collect()
}

/// The data directory's service lock file: held (an OS file lock, released
/// when the process ends, however it ends) by the one service running for
/// this queue; it holds that service's pid for the message of the next.
pub const LOCK_FILE: &str = "service.lock";

/// Takes the service lock of `paths`' data directory, or says who has it.
pub fn lock_service(paths: &Paths) -> Result<std::fs::File, StartError> {
    use std::io::{Read, Seek, Write};
    let dir = paths.data_dir.display().to_string();
    let lock_error = |e: std::io::Error| StartError::Lock {
        dir: dir.clone(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(&paths.data_dir).map_err(lock_error)?;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(paths.data_dir.join(LOCK_FILE))
        .map_err(lock_error)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(lock_error)?;
            file.rewind().map_err(lock_error)?;
            write!(file, "{}", std::process::id()).map_err(lock_error)?;
            file.flush().map_err(lock_error)?;
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            Err(StartError::AlreadyRunning {
                pid: pid.trim().parse().ok(),
                dir,
            })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(lock_error(e)),
    }
}

/// The service running in the background of this process (the desktop app,
/// `postflow run --gui`): stop it, or ask it to rescan now. Applying new
/// settings is a stop and a start: whatever was in flight is in the queue
/// and resumes from its stored parts.
pub struct ServiceHandle {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), StartError>>,
    rescan: Arc<tokio::sync::Notify>,
    ended: Arc<Mutex<Option<String>>>,
}

impl ServiceHandle {
    /// Starts the service in the background on the current Tokio runtime.
    pub fn start(
        paths: Paths,
        settings: Settings,
        secrets: Arc<SecretStore>,
        control: Control,
    ) -> ServiceHandle {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let rescan = Arc::new(tokio::sync::Notify::new());
        let ended = Arc::new(Mutex::new(None));
        let (hook, why) = (rescan.clone(), ended.clone());
        let task = tokio::spawn(async move {
            let stop = async move {
                let _ = stopped.await;
            };
            let result = run_with(&paths, &settings, secrets, control.clone(), hook, stop).await;
            if let Err(e) = &result {
                tracing::warn!("the service stopped: {e}");
                *lock(&why) = Some(e.to_string());
                control.publish(Event::Service {
                    running: false,
                    detail: Some(e.to_string()),
                });
            }
            result
        });
        ServiceHandle {
            stop: Some(stop),
            task,
            rescan,
            ended,
        }
    }

    /// Why the service ended by itself, if it did (it could not start).
    pub fn ended_because(&self) -> Option<String> {
        lock(&self.ended).clone()
    }

    /// Rescans the watched folder at once (the backbone rescan runs anyway).
    pub fn rescan_now(&self) {
        self.rescan.notify_one();
    }

    /// Whether the service is still up (it stops by itself only when it
    /// could not start: see [`ServiceHandle::stop`] for why).
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }

    /// Stops the service and waits for it; returns why it ended early, if
    /// it did (settings incomplete, not signed in...).
    pub async fn stop(mut self) -> Result<(), StartError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(e) => {
                tracing::error!("the service task ended abnormally: {e}");
                Ok(())
            }
        }
    }
}

/// Runs the service until `stop` resolves (SIGINT/SIGTERM in the CLI).
/// Settings problems that make running impossible are returned at once;
/// everything else (Frame.io unreachable, filespace offline) is a state the
/// service waits out.
pub async fn run(
    paths: &Paths,
    settings: &Settings,
    secrets: Arc<SecretStore>,
    control: Control,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), StartError> {
    let rescan = Arc::new(tokio::sync::Notify::new());
    run_with(paths, settings, secrets, control, rescan, stop).await
}

/// [`run`], with `rescan` waking a rescan of the watched folder.
async fn run_with(
    paths: &Paths,
    settings: &Settings,
    secrets: Arc<SecretStore>,
    control: Control,
    rescan: Arc<tokio::sync::Notify>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), StartError> {
    let blocking = blocking_problems(settings);
    if !blocking.is_empty() {
        return Err(StartError::Settings(blocking));
    }
    // Held until this function returns: one service per queue.
    let _lock = lock_service(paths)?;
    let nomenclature = settings.nomenclature().map_err(StartError::Settings)?;
    let client = client(settings, secrets.clone())?;
    let queue = Arc::new(Queue::open(&queue_path(paths))?);
    let mut stop = std::pin::pin!(stop);

    let beat = Arc::new(Mutex::new(Heartbeat {
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").into(),
        started_at: now_ms(),
        frameio_online: true,
        filespace_online: true,
        watch_root: settings.watch.root.display().to_string(),
        ..Heartbeat::default()
    }));
    // Engine events -> heartbeat state.
    let states = {
        let beat = beat.clone();
        let mut rx = control.subscribe();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(Event::Connectivity { online, .. }) => lock(&beat).frameio_online = online,
                    Ok(Event::NeedsUser { reason }) => lock(&beat).needs_user = Some(reason),
                    Ok(_) => {}
                    Err(postflow_core::RecvError::Lagged(_)) => {}
                    Err(postflow_core::RecvError::Closed) => break,
                }
            }
        })
    };
    // Heartbeat out, pause flag in (from `postflow pause` in another
    // process), from the start: `status` sees a service waiting for Frame.io.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let heartbeat = tokio::spawn(heartbeat_loop(
        beat.clone(),
        queue.clone(),
        control.clone(),
        rescan.clone(),
        clock.clone(),
        CONTROL_POLL,
    ));

    let root_folder_id = tokio::select! {
        id = root_folder(&client, &queue, &settings.frameio.project_id, &control) => id,
        _ = &mut stop => {
            heartbeat.abort();
            states.abort();
            return finish(&queue, &beat);
        }
    };
    let root_folder_id = match root_folder_id {
        Ok(id) => id,
        Err(e) => {
            heartbeat.abort();
            states.abort();
            let _ = finish(&queue, &beat);
            return Err(e);
        }
    };

    let mut config = EngineConfig::new(settings.watch.root.clone(), root_folder_id);
    let bandwidth_plan = BandwidthPlan::from_settings(settings);
    apply_transfers(&mut config, settings, &bandwidth_plan, &clock.now());
    // The timetable moves the shared cap at its times, uploads in flight
    // included.
    let timetable = match (&bandwidth_plan, &config.upload.bandwidth) {
        (BandwidthPlan::Timetable(table), Some(bandwidth)) => {
            Some(tokio::spawn(schedule::follow_timetable(
                table.clone(),
                bandwidth.clone(),
                clock.clone(),
                schedule::TIMETABLE_EVERY,
            )))
        }
        _ => None,
    };
    config.team_notices = settings.discord.enabled;
    let (takeover_after, sign_of_life_every) =
        takeover_timing(settings.transfers.takeover_after_secs);
    config.takeover_after = takeover_after;
    config.sign_of_life_every = sign_of_life_every;
    config.workstation = workstation();
    // Well inside the readiness window: an upload starts at least that long
    // after a render's last write (the re-render rule in ARCHITECTURE.md).
    config.clock_tolerance = (Duration::from_secs(settings.watch.readiness_window_secs.max(1)) / 2)
        .min(Duration::from_secs(5));
    // Duplicate folders left in the project (by an older PostFlow, or by
    // hand) are folded into the first created, in the background: uploads
    // never wait for it, and the walks they make converge what they meet.
    let repair = {
        let client = client.clone();
        let queue = queue.clone();
        let root = config.project_root_folder_id.clone();
        let structure = nomenclature.structure_root().to_string();
        tokio::spawn(async move { repair_structure(&client, &queue, &root, &structure).await })
    };
    let engine = Engine::new(
        queue.clone(),
        client,
        nomenclature.clone(),
        control.clone(),
        config,
    );

    // Versions already handled are not reported again by the watcher.
    let settled_kinds: Vec<StatusKind> = StatusKind::ALL
        .into_iter()
        .filter(|k| *k != StatusKind::WaitingForStability)
        .collect();
    let settled: Vec<Observation> = queue
        .versions(&settled_kinds)?
        .into_iter()
        .map(|(rel_path, size, mtime_ns)| Observation {
            rel_path,
            size,
            mtime_ns,
        })
        .collect();
    let mut watch = WatcherConfig::new(settings.watch.root.clone());
    watch.rescan_interval = Duration::from_secs(settings.watch.rescan_interval_secs.max(1));
    watch.readiness_window = Duration::from_secs(settings.watch.readiness_window_secs.max(1));
    let (watcher, mut events) = Watcher::new(watch, nomenclature).settled(settled).start();
    let watcher = Arc::new(watcher);
    tracing::info!(root = %settings.watch.root.display(), "PostFlow service running");
    control.publish(Event::Service {
        running: true,
        detail: None,
    });
    // "Rescan now", from this process (the UI) or another (the queue
    // database's request, read by the heartbeat loop).
    let rescans = {
        let watcher = watcher.clone();
        let rescan = rescan.clone();
        tokio::spawn(async move {
            loop {
                rescan.notified().await;
                watcher.rescan_now();
            }
        })
    };

    // Watcher -> queue: record every candidate before anything else.
    let bridge = {
        let engine = engine.clone();
        let beat = beat.clone();
        let control = control.clone();
        tokio::spawn(async move {
            // What could not be recorded (the queue's disk full, the
            // database locked too long): kept here and recorded again
            // every second until it is, the latest event per file. The
            // watcher reports a file once; losing that report would lose
            // the render until a restart.
            let mut unrecorded: Vec<WatchEvent> = Vec::new();
            loop {
                let event = if unrecorded.is_empty() {
                    match events.recv().await {
                        Some(event) => event,
                        None => break,
                    }
                } else {
                    tokio::select! {
                        event = events.recv() => match event {
                            Some(event) => event,
                            None => break,
                        },
                        () = tokio::time::sleep(Duration::from_secs(1)) => {
                            let pending = std::mem::take(&mut unrecorded);
                            let before = pending.len();
                            for event in pending {
                                if record_event(&engine, &event).is_err() {
                                    unrecorded.push(event);
                                }
                            }
                            if unrecorded.is_empty() {
                                tracing::info!(renders = before, "recorded now: the queue can be written again");
                            }
                            continue;
                        }
                    }
                };
                let result = match &event {
                    WatchEvent::Candidate(_) | WatchEvent::Ready(_) => {
                        let result = record_event(&engine, &event);
                        if result.is_err() {
                            let path = match &event {
                                WatchEvent::Candidate(o) | WatchEvent::Ready(o) => {
                                    o.rel_path.clone()
                                }
                                _ => unreachable!(),
                            };
                            unrecorded.retain(|e| !matches!(e, WatchEvent::Candidate(o) | WatchEvent::Ready(o) if o.rel_path == path));
                            unrecorded.push(event.clone());
                        }
                        result
                    }
                    WatchEvent::RootOffline { reason } => {
                        tracing::warn!("filespace offline: {reason}");
                        lock(&beat).filespace_online = false;
                        control.publish(Event::Filespace {
                            online: false,
                            detail: Some(reason.clone()),
                        });
                        Ok(())
                    }
                    WatchEvent::RootOnline => {
                        lock(&beat).filespace_online = true;
                        control.publish(Event::Filespace {
                            online: true,
                            detail: None,
                        });
                        Ok(())
                    }
                    WatchEvent::Scanned { files, took, .. } => {
                        {
                            let mut b = lock(&beat);
                            b.last_scan_files = Some(*files);
                            b.last_scan_ms = Some(took.as_millis() as u64);
                        }
                        control.publish(Event::ScanFinished {
                            files: *files as u64,
                            took_ms: took.as_millis() as u64,
                        });
                        Ok(())
                    }
                    WatchEvent::Unreadable { rel_path, reason } => {
                        tracing::warn!("cannot read {rel_path}: {reason}");
                        Ok(())
                    }
                    WatchEvent::Gone { .. } => Ok(()),
                };
                if let Err(e) = result {
                    tracing::error!("cannot record {event:?}: {e}");
                }
            }
        })
    };

    // The Discord outbox, sent beside the uploads, never in their way.
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let notifier = settings.discord.enabled.then(|| {
        let mut stopped = stopped.clone();
        let notifier = Notifier::new(
            queue.clone(),
            control.clone(),
            settings.discord.clone(),
            secrets.clone(),
        )
        // Taken over while this workstation was down: not told twice.
        .with_engine(engine.clone());
        tokio::spawn(notifier.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        }))
    });
    // The claim notes of told uploads go, through a durable list; those of
    // uploads whose notice still waits keep beating.
    let (releaser, keeper) = if settings.discord.enabled {
        (
            Some(tokio::spawn(notifier::release_told_claims(
                queue.clone(),
                engine.clone(),
            ))),
            Some(tokio::spawn(notifier::keep_untold_claims_alive(
                queue.clone(),
                engine.clone(),
                sign_of_life_every,
            ))),
        )
    } else {
        (None, None)
    };

    engine.clone().run(stop).await;

    // Shut down: the notifier (a message in flight is finished), the
    // watcher, the bridge, the heartbeat; then say so.
    let _ = stopping.send(true);
    if let Some(notifier) = notifier {
        let _ = tokio::time::timeout(Duration::from_secs(10), notifier).await;
    }
    for task in [keeper, releaser].into_iter().flatten() {
        task.abort();
    }
    rescans.abort();
    let _ = rescans.await;
    match Arc::try_unwrap(watcher) {
        Ok(watcher) => watcher.stop().await,
        Err(_) => tracing::warn!("the watcher is still referenced; it stops with the process"),
    }
    repair.abort();
    if let Some(timetable) = timetable {
        timetable.abort();
    }
    heartbeat.abort();
    states.abort();
    bridge.abort();
    control.publish(Event::Service {
        running: false,
        detail: None,
    });
    finish(&queue, &beat)
}

/// The `[transfers]` settings onto the engine's configuration: files and
/// parts in parallel, the shared bandwidth cap (at its value `now`),
/// retries and version stacking.
pub fn apply_transfers(
    config: &mut EngineConfig,
    settings: &Settings,
    bandwidth: &BandwidthPlan,
    now: &jiff::ZonedDateTime,
) {
    let t = &settings.transfers;
    config.parallel_files = t.parallel_files.max(1) as usize;
    config.upload = UploadOptions {
        parallel_parts: t.parallel_parts.max(1) as usize,
        // One cap shared by every part of every file.
        bandwidth: bandwidth.bandwidth(now),
        ..UploadOptions::default()
    };
    config.max_attempts = t.max_attempts.max(1);
    config.retry_base = Duration::from_secs(t.retry_base_secs.clamp(1, 3600));
    config.stack_versions = t.stack_versions;
}

/// Folds duplicate folders under the structure root (scenes, then shots)
/// into the folder of each name created first, and says what it did. With
/// no structure root the scene folders sit in the project's root among the
/// team's own folders: those are left to the walks, which converge only the
/// names PostFlow needs.
async fn repair_structure(client: &Client, queue: &Queue, root: &str, structure: &str) {
    if structure.is_empty() {
        return;
    }
    match client
        .repair_structure(&postflow_engine::Folders(queue), root, &[structure], 2)
        .await
    {
        Ok(r) if r.folders_folded > 0 || !r.left.is_empty() => tracing::info!(
            folded = r.folders_folded,
            moved = r.items_moved,
            deleted = r.folders_deleted,
            left = r.left.len(),
            "duplicate Frame.io folders converged into the first created"
        ),
        Ok(_) => tracing::debug!("no duplicate Frame.io folders under {structure}"),
        Err(e) => tracing::warn!("cannot check {structure} for duplicate folders yet: {e}"),
    }
}

/// The last heartbeat: stopped cleanly.
fn finish(queue: &Queue, beat: &Mutex<Heartbeat>) -> Result<(), StartError> {
    let mut last = lock(beat).clone();
    last.stopped = true;
    last.at = now_ms();
    queue.set_state(
        HEARTBEAT_KEY,
        &serde_json::to_string(&last).unwrap_or_default(),
    )?;
    tracing::info!("PostFlow service stopped; state flushed");
    Ok(())
}

/// Writes the heartbeat every couple of seconds and applies the persisted
/// pause flag within `poll` ([`CONTROL_POLL`]); ends a timed pause when
/// `clock` reaches its end.
async fn heartbeat_loop(
    beat: Arc<Mutex<Heartbeat>>,
    queue: Arc<Queue>,
    control: Control,
    rescan: Arc<tokio::sync::Notify>,
    clock: Arc<dyn Clock>,
    poll: Duration,
) {
    // Without process information the heartbeat still goes out.
    let mut system = sysinfo::System::new().ok();
    let pid = sysinfo::Pid::from_u32(std::process::id());
    let mut last_beat: Option<tokio::time::Instant> = None;
    let mut rescan_seen = queue.state(RESCAN_KEY).ok().flatten();
    loop {
        let asked = queue.state(RESCAN_KEY).ok().flatten();
        if asked != rescan_seen {
            rescan_seen = asked;
            rescan.notify_one();
        }
        let mut wanted = queue.state(PAUSED_KEY).ok().flatten().as_deref() == Some("true");
        // A timed pause ends by itself, written first like any resume.
        let now = clock.now().timestamp().as_millisecond();
        if wanted && paused_until(&queue).is_some_and(|until| until <= now) {
            tracing::info!("the timed pause is over");
            if queue.set_state(PAUSED_KEY, "false").is_ok() {
                let _ = queue.clear_state(PAUSED_UNTIL_KEY);
                wanted = false;
            }
        }
        let state = control.state();
        // The flag is the one source of truth; this only brings memory in
        // line with what another process (`postflow pause`) wrote.
        if wanted && state == RunState::Running {
            tracing::info!("paused");
            control.adopt(RunState::Paused);
        } else if !wanted && state == RunState::Paused {
            tracing::info!("resumed");
            lock(&beat).needs_user = None;
            control.adopt(RunState::Running);
        }
        let changed = lock(&beat).paused != (control.state() == RunState::Paused);
        if !changed && last_beat.is_some_and(|t| t.elapsed() < HEARTBEAT_EVERY) {
            tokio::time::sleep(poll).await;
            continue;
        }
        last_beat = Some(tokio::time::Instant::now());
        if let Some(system) = system.as_mut() {
            system.refresh_processes(sysinfo::ProcessesToUpdate::Some(&[pid]), true);
        }
        let snapshot = {
            let mut b = lock(&beat);
            if let Some(p) = system.as_ref().and_then(|s| s.process(pid)) {
                b.cpu_percent = p.cpu_usage();
                b.rss_bytes = p.memory();
            }
            b.paused = control.state() == RunState::Paused;
            b.at = now_ms();
            b.clone()
        };
        if let Err(e) = queue.set_state(
            HEARTBEAT_KEY,
            &serde_json::to_string(&snapshot).unwrap_or_default(),
        ) {
            tracing::warn!("cannot write the heartbeat: {e}");
        }
        tokio::time::sleep(poll).await;
    }
}

/// This machine's name, as the team sees it in Discord.
/// This workstation's name, as the team and other workstations see it:
/// `POSTFLOW_WORKSTATION` if set (a facility's own names, or two services
/// on one machine), else the host name.
pub fn workstation() -> String {
    if let Some(name) = std::env::var("POSTFLOW_WORKSTATION")
        .ok()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
    {
        return name;
    }
    sysinfo::System::host_name()
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown workstation".into())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A Frame.io client from the settings and the stored sign-in.
pub fn client(settings: &Settings, secrets: Arc<SecretStore>) -> Result<Client, StartError> {
    let f = &settings.frameio;
    let (tokens, origin) = secrets.frameio_tokens()?.ok_or(StartError::NotSignedIn)?;
    let credentials = match (origin, tokens.refresh_token.is_some()) {
        (Origin::Keychain, true) => Credentials::OAuth {
            client_id: f.client_id.clone(),
            client_secret: None,
            tokens,
        },
        _ => Credentials::Static {
            token: tokens.access_token,
            legacy: false,
        },
    };
    Ok(Client::new(ClientConfig {
        api_base_url: f.api_base_url.clone(),
        ims_base_url: f.ims_base_url.clone(),
        account_id: f.account_id.clone(),
        credentials,
        token_sink: Some(secrets),
        retry: RetryPolicy::default(),
    })?)
}

/// The project's root folder id: asked of Frame.io, remembered in the queue
/// so a start while Frame.io is unreachable still works.
async fn root_folder(
    client: &Client,
    queue: &Queue,
    project_id: &str,
    control: &Control,
) -> Result<String, StartError> {
    let key = format!("{ROOT_FOLDER_KEY}.{project_id}");
    loop {
        match client.project(project_id).await {
            Ok(project) => {
                queue.set_state(&key, &project.root_folder_id)?;
                queue.set_state(&format!("{PROJECT_NAME_KEY}.{project_id}"), &project.name)?;
                control.publish(Event::Connectivity {
                    online: true,
                    detail: None,
                });
                return Ok(project.root_folder_id);
            }
            Err(e) if e.is_transient() => {
                if let Some(cached) = queue.state(&key)? {
                    tracing::warn!(
                        "Frame.io unreachable at start ({e}); using the remembered project folder"
                    );
                    return Ok(cached);
                }
                control.publish(Event::Connectivity {
                    online: false,
                    detail: Some(e.to_string()),
                });
                tracing::warn!("Frame.io unreachable at start ({e}); retrying in 10 s");
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The queue database as the one store of the run state (its pause flag).
pub struct PauseFlag(pub Arc<Queue>);

impl postflow_core::RunStateStore for PauseFlag {
    /// A pause or a resume by hand: any timed pause's end is forgotten
    /// (`pause_until` writes its end after this).
    fn save(&self, state: RunState) -> Result<(), postflow_core::ApiError> {
        let paused = if state == RunState::Paused {
            "true"
        } else {
            "false"
        };
        self.0.set_state(PAUSED_KEY, paused)?;
        self.0.clear_state(PAUSED_UNTIL_KEY)?;
        Ok(())
    }
}

/// When the current timed pause ends (unix ms), if it is one.
pub fn paused_until(queue: &Queue) -> Option<i64> {
    queue.state(PAUSED_UNTIL_KEY).ok()??.parse().ok()
}

/// A [`Control`] whose pause and resume write the queue database's flag
/// first, starting in the state that flag says.
pub fn control_for(paths: &Paths) -> Result<Control, postflow_queue::Error> {
    let queue = Arc::new(Queue::open(&queue_path(paths))?);
    let paused = queue.state(PAUSED_KEY)?.as_deref() == Some("true");
    let initial = if paused {
        RunState::Paused
    } else {
        RunState::Running
    };
    Ok(Control::new(initial, Arc::new(PauseFlag(queue))))
}

/// Asks the running service (in this process or another) to rescan the
/// watched folder now; it does within [`CONTROL_POLL`].
pub fn request_rescan(queue: &Queue) -> Result<(), postflow_queue::Error> {
    queue.set_state(RESCAN_KEY, &now_ms().to_string())
}

/// Pauses or resumes the service, whether or not it is running now (the
/// flag persists: a service started later starts paused).
pub fn set_paused(paths: &Paths, paused: bool) -> Result<(), postflow_queue::Error> {
    Queue::open(&queue_path(paths))?.set_state(PAUSED_KEY, if paused { "true" } else { "false" })
}

pub(crate) fn heartbeat(queue: &Queue) -> Option<Heartbeat> {
    serde_json::from_str(&queue.state(HEARTBEAT_KEY).ok()??).ok()
}

/// The takeover delay and the sign-of-life beat from the setting: six beats
/// fit in the delay (a slow upload misses none that matters), at most one
/// every 20 s, at least one every 250 ms.
pub fn takeover_timing(takeover_after_secs: u64) -> (Duration, Duration) {
    let after = Duration::from_secs(takeover_after_secs.max(1));
    let every = (after / 6).clamp(Duration::from_millis(250), Duration::from_secs(20));
    (after, every)
}

/// Records what the watcher saw (a candidate, or a file now ready).
fn record_event(engine: &Engine, event: &WatchEvent) -> Result<(), postflow_queue::Error> {
    match event {
        WatchEvent::Candidate(o) => engine.record(&o.rel_path, o.size, o.mtime_ns).map(drop),
        WatchEvent::Ready(o) => engine.mark_ready(&o.rel_path, o.size, o.mtime_ns).map(drop),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::tests::FakeClock;

    #[tokio::test]
    async fn a_pause_until_18_30_ends_by_itself_when_the_clock_reaches_18_30() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Arc::new(Queue::open(&dir.path().join(QUEUE_FILE)).unwrap());
        let clock = FakeClock::at(2026, 3, 2, 17, 0);
        let until = schedule::next_time_of_day("18:30", &clock.now()).unwrap();
        let control = Control::new(RunState::Running, Arc::new(PauseFlag(queue.clone())));
        control.pause().unwrap();
        queue
            .set_state(
                PAUSED_UNTIL_KEY,
                &until.timestamp().as_millisecond().to_string(),
            )
            .unwrap();
        let beat = Arc::new(Mutex::new(Heartbeat::default()));
        let task = tokio::spawn(heartbeat_loop(
            beat,
            queue.clone(),
            control.clone(),
            Arc::new(tokio::sync::Notify::new()),
            clock.clone(),
            Duration::from_millis(2),
        ));
        clock.set(18, 29);
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(control.state(), RunState::Paused, "18:29: still paused");
        assert!(paused_until(&queue).is_some());

        clock.set(18, 30);
        for _ in 0..200 {
            if control.state() == RunState::Running {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(control.state(), RunState::Running, "resumed at 18:30");
        // Written first, like any resume: a service started later runs.
        assert_eq!(queue.state(PAUSED_KEY).unwrap().as_deref(), Some("false"));
        assert_eq!(paused_until(&queue), None);
        task.abort();
    }

    #[test]
    fn the_transfer_settings_reach_the_engine_and_their_defaults_are_the_engine_defaults() {
        let clock = FakeClock::at(2026, 3, 2, 9, 0);
        let defaults = EngineConfig::new("/r".into(), "root".into());
        let mut config = defaults.clone();
        let settings = Settings::default();
        let plan = BandwidthPlan::from_settings(&settings);
        apply_transfers(&mut config, &settings, &plan, &clock.now());
        assert_eq!(config.max_attempts, defaults.max_attempts);
        assert_eq!(config.retry_base, defaults.retry_base);
        assert_eq!(config.stack_versions, defaults.stack_versions);
        assert!(config.upload.bandwidth.is_none(), "no cap: no limiter");

        let mut settings = Settings::default();
        settings.transfers.max_attempts = 3;
        settings.transfers.retry_base_secs = 5;
        settings.transfers.stack_versions = false;
        settings.transfers.bandwidth_timetable = "08:00,20M 19:00,off".into();
        let plan = BandwidthPlan::from_settings(&settings);
        apply_transfers(&mut config, &settings, &plan, &clock.now());
        assert_eq!(config.max_attempts, 3);
        assert_eq!(config.retry_base, Duration::from_secs(5));
        assert!(!config.stack_versions);
        let bandwidth = config.upload.bandwidth.expect("the timetable's cap");
        assert_eq!(bandwidth.rate(), Some(20 << 20), "09:00: capped");
    }
}
