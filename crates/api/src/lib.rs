//! PostFlow's one typed API over the core: every command a person can give
//! (pause, retry, save settings, sign in...) and every question the UI asks
//! (the snapshot, the board, an item's detail...), with view types.
//!
//! Two transports serve it, and neither holds logic: the desktop app's
//! Tauri IPC (`src-tauri/`) and the headless service's loopback HTTP
//! (`postflow-http`). Both call [`Api::dispatch`] with a command name and
//! its JSON arguments, from the one list in [`commands`] (also exported to
//! TypeScript); both push [`Api::subscribe`]'s events.
//!
//! **One source of truth per fact.** The run state is the queue database's
//! pause flag (every process reads it); a command writes it first, then
//! the state in memory changes and the event goes out ([`Control`]). The
//! settings are the settings file: a save writes the file, then applies it
//! to the running service, then says so. What is in Frame.io is Frame.io's.
//!
//! The API either **hosts** the service (the desktop app, `postflow run
//! --gui`: started here, restarted when the settings change; in-flight
//! uploads resume from their stored parts) or **steers** one running in
//! another process through the queue database (`postflow pause` beside a
//! running app).

pub mod commands;
pub mod notify;
mod progress;
pub mod tray;
pub mod views;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postflow_core::{ApiError, Control, Disposition, Event, RunState, StatusKind};
use postflow_queue::{Item, Queue, Status};
use postflow_secrets::{DiscordWebhook, KeychainStatus, SecretKind, SecretStore};
use postflow_service::{blocking_problems, queue_path, Report, ServiceHandle};
use postflow_settings::{Loaded, Paths, Settings};
use tokio::sync::broadcast;

pub use commands::COMMANDS;
pub use views::*;

/// The shortest time between two reads of the snapshot for
/// [`Api::watch_snapshot`].
pub const SNAPSHOT_EVERY: Duration = Duration::from_millis(200);

/// Where the signed-in Frame.io account's name is remembered (not secret).
const ACCOUNT_KEY: &str = "frameio.account";

/// How the API is opened.
pub struct ApiOptions {
    pub paths: Paths,
    pub secrets: Arc<SecretStore>,
    /// Run the service in this process (and restart it on new settings).
    pub host: bool,
    /// Running on the built-in emulator (`postflow demo`): said everywhere.
    pub demo: bool,
}

/// The API. Cheap to clone; every clone is the same API.
#[derive(Clone)]
pub struct Api {
    inner: Arc<Inner>,
}

struct Inner {
    paths: Paths,
    secrets: Arc<SecretStore>,
    queue: Arc<Queue>,
    control: Control,
    settings: Mutex<Loaded>,
    host: bool,
    demo: bool,
    service: tokio::sync::Mutex<Option<ServiceHandle>>,
    /// Why the hosted service is not running, when it could not start.
    stopped_because: Mutex<Option<String>>,
    progress: progress::Progress,
    signin: Mutex<Option<tokio::task::JoinHandle<()>>>,
    workstation: String,
    /// The latest snapshot, kept current by the events (see
    /// [`Api::watch_snapshot`]).
    snapshot: tokio::sync::watch::Sender<Option<Snapshot>>,
}

impl Api {
    /// Opens the API over the data directory and settings in `options`, and
    /// (hosting) starts the service when the settings and the sign-in allow.
    /// Must be called inside a Tokio runtime.
    pub async fn open(options: ApiOptions) -> Result<Api, ApiError> {
        let queue = Arc::new(Queue::open(&queue_path(&options.paths))?);
        let paused = queue.state(postflow_engine::PAUSED_KEY)?.as_deref() == Some("true");
        let control = Control::new(
            if paused {
                RunState::Paused
            } else {
                RunState::Running
            },
            Arc::new(postflow_service::PauseFlag(queue.clone())),
        );
        let settings = postflow_settings::load(&options.paths.config_file);
        let api = Api {
            inner: Arc::new(Inner {
                progress: progress::Progress::start(control.clone(), queue.clone()),
                paths: options.paths,
                secrets: options.secrets,
                queue,
                control,
                settings: Mutex::new(settings),
                host: options.host,
                demo: options.demo,
                service: tokio::sync::Mutex::new(None),
                stopped_because: Mutex::new(None),
                signin: Mutex::new(None),
                workstation: postflow_service::workstation(),
                snapshot: tokio::sync::watch::Sender::new(None),
            }),
        };
        if api.inner.host {
            api.restart_service().await;
        }
        api.keep_snapshot();
        Ok(api)
    }

    /// The current snapshot, cheap to read and to wait on (the tray's icon
    /// and status line): re-read after every event that can change it (at
    /// most every [`SNAPSHOT_EVERY`]) and every few seconds (the heartbeat
    /// of a service in another process, the disk). `None` until the first.
    pub fn watch_snapshot(&self) -> tokio::sync::watch::Receiver<Option<Snapshot>> {
        self.inner.snapshot.subscribe()
    }

    /// The desktop notifications to show, as they are due (see
    /// [`notify`]): the desktop shell shows them; the rules live here.
    pub fn desktop_notices(&self) -> tokio::sync::mpsc::UnboundedReceiver<notify::DesktopNotice> {
        use notify::{Happened, Planner};
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let api = self.clone();
        let mut events = self.inner.control.subscribe();
        tokio::spawn(async move {
            let settings = api.settings();
            let mut planner = Planner::new(
                settings.notifications.clone(),
                settings.ui.language,
                std::time::Instant::now(),
            );
            planner.set_project(api.project_name());
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                let happened = tokio::select! {
                    _ = tick.tick() => None,
                    event = events.recv() => match event {
                        Ok(Event::Uploaded { file_name, .. }) => Some(Happened::Uploaded { file_name }),
                        Ok(Event::ItemStatus { id, status: status @ (StatusKind::Failed | StatusKind::Held), .. }) => {
                            // Only what PostFlow will not retry by itself.
                            match api.inner.queue.get(id) {
                                Ok(Some(item)) => {
                                    let view = api.item_view(&item);
                                    (status == StatusKind::Held || view.needs_action).then(|| Happened::NeedsAction {
                                        id,
                                        file_name: view.file_name,
                                        status,
                                        reason: view.detail.unwrap_or_default(),
                                    })
                                }
                                _ => None,
                            }
                        }
                        Ok(Event::NeedsUser { reason }) => Some(Happened::NeedsUser { reason }),
                        Ok(Event::RunStateChanged { state: RunState::Running }) => Some(Happened::Resumed),
                        Ok(Event::SettingsChanged) => {
                            let s = api.settings();
                            planner.set_settings(s.notifications.clone(), s.ui.language);
                            planner.set_project(api.project_name());
                            None
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => None,
                        Err(broadcast::error::RecvError::Closed) => break,
                    },
                };
                let now = std::time::Instant::now();
                let mut out = match happened {
                    Some(h) => planner.note(h, now),
                    None => Vec::new(),
                };
                out.extend(planner.due(now));
                for notice in out {
                    if tx.send(notice).is_err() {
                        return;
                    }
                }
            }
        });
        rx
    }

    fn keep_snapshot(&self) {
        let weak = Arc::downgrade(&self.inner);
        let mut events = self.inner.control.subscribe();
        tokio::spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else { break };
                let api = Api { inner };
                match api.snapshot().await {
                    Ok(s) => {
                        api.inner.snapshot.send_if_modified(|old| {
                            let changed = old.as_ref() != Some(&s);
                            *old = Some(s);
                            changed
                        });
                    }
                    Err(e) => tracing::debug!("snapshot not read: {}", e.message),
                }
                // The next change, or the periodic refresh, whichever first;
                // then a moment to gather a burst of events into one read.
                // Hosting, every change here is an event and the refresh
                // only catches what other processes wrote (a terminal's
                // pause, which the service also turns into an event);
                // steering another process, its heartbeat is all there is.
                let every = if api.inner.host { 15 } else { 5 };
                drop(api);
                let refresh = tokio::time::sleep(Duration::from_secs(every));
                tokio::pin!(refresh);
                loop {
                    tokio::select! {
                        _ = &mut refresh => break,
                        event = events.recv() => match event {
                            Ok(Event::UploadProgress { .. }) | Ok(Event::Progress { .. }) => continue,
                            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => break,
                            Err(broadcast::error::RecvError::Closed) => return,
                        },
                    }
                }
                tokio::time::sleep(SNAPSHOT_EVERY).await;
            }
        });
    }

    /// The run state and the event stream, for shells that watch them (the
    /// tray's icon). Steer through the commands, not through this.
    pub fn control(&self) -> &Control {
        &self.inner.control
    }

    /// Every event from now on, for the UIs: the raw per-part progress is
    /// left out ([`Event::Progress`] carries it, a few times a second).
    pub fn subscribe(&self) -> Events {
        Events(self.inner.control.subscribe())
    }

    pub fn paths(&self) -> &Paths {
        &self.inner.paths
    }

    /// The settings in use (as loaded from the file).
    pub fn settings(&self) -> Settings {
        lock(&self.inner.settings).settings.clone()
    }

    /// Stops the hosted service (on quit).
    pub async fn shutdown(&self) {
        if let Some(handle) = self.inner.service.lock().await.take() {
            let _ = handle.stop().await;
        }
    }

    /// (Re)starts the hosted service on the current settings; records why
    /// when it cannot run.
    async fn restart_service(&self) {
        let mut slot = self.inner.service.lock().await;
        if let Some(handle) = slot.take() {
            if let Err(e) = handle.stop().await {
                tracing::debug!("the previous service had stopped: {e}");
            }
        }
        let settings = self.settings();
        let why = match self.startable(&settings) {
            Err(why) => Some(why),
            Ok(()) => {
                *slot = Some(ServiceHandle::start(
                    self.inner.paths.clone(),
                    settings,
                    self.inner.secrets.clone(),
                    self.inner.control.clone(),
                ));
                None
            }
        };
        if let Some(why) = &why {
            tracing::info!("the service is not started: {why}");
            self.inner.control.publish(Event::Service {
                running: false,
                detail: Some(why.clone()),
            });
        }
        *lock(&self.inner.stopped_because) = why;
    }

    /// The chosen project's name, once the service has read it.
    fn project_name(&self) -> Option<String> {
        postflow_service::project_name(&self.inner.queue, &self.settings().frameio.project_id)
    }

    /// Whether the service can start on these settings (else why not).
    fn startable(&self, settings: &Settings) -> Result<(), String> {
        if let Some(p) = blocking_problems(settings).first() {
            return Err(format!("{}: {}", p.key, p.message));
        }
        match self.inner.secrets.frameio_tokens() {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err("not signed in to Frame.io".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn hosted_running(&self) -> bool {
        self.inner
            .service
            .lock()
            .await
            .as_ref()
            .is_some_and(ServiceHandle::is_running)
    }

    // ----- queries -----

    pub async fn snapshot(&self) -> Result<Snapshot, ApiError> {
        let settings = self.settings();
        let report = Report::gather_brief(&self.inner.queue, &settings)?;
        // The report's counts (one GROUP BY over every item is enough).
        let counts: std::collections::BTreeMap<StatusKind, u64> = (report.counts.iter())
            .filter_map(|(k, n)| Some((StatusKind::parse(k)?, *n)))
            .collect();
        let count = |k: StatusKind| counts.get(&k).copied().unwrap_or(0);
        let hosted_running = self.hosted_running().await;
        let running = hosted_running || report.running;
        let signed_in = matches!(self.inner.secrets.frameio_tokens(), Ok(Some(_)));
        let needs_user = (report.problems.iter())
            .find_map(|p| p.strip_prefix("needs you: ").map(str::to_string));
        let problems = blocking_problems(&settings);
        let active: u64 = StatusKind::ALL
            .into_iter()
            .filter(|k| k.is_active())
            .map(count)
            .sum();
        let state = if !problems.is_empty() {
            ServiceState::NotSetUp { problems }
        } else if !signed_in {
            ServiceState::SignedOut
        } else if let Some(reason) = needs_user {
            ServiceState::NeedsYou { reason }
        } else if !running {
            let ended =
                (self.inner.service.lock().await.as_ref()).and_then(ServiceHandle::ended_because);
            let detail = ended.or_else(|| lock(&self.inner.stopped_because).clone()).unwrap_or_else(|| {
                if self.inner.host {
                    "the service is starting".into()
                } else {
                    "no PostFlow service is running for this queue (start the app or `postflow run`)"
                        .into()
                }
            });
            ServiceState::Stopped { detail }
        } else if report.filespace_online == Some(false) {
            ServiceState::Offline {
                what: Offline::Filespace,
                detail: Some(format!(
                    "{} is not reachable",
                    settings.watch.root.display()
                )),
            }
        } else if report.frameio_online == Some(false) {
            ServiceState::Offline {
                what: Offline::Frameio,
                detail: None,
            }
        } else if self.inner.control.state() == RunState::Paused || report.paused {
            ServiceState::Paused {
                until: postflow_service::paused_until(&self.inner.queue),
            }
        } else if active > 0 {
            ServiceState::Uploading {
                active,
                queued: count(StatusKind::Queued),
            }
        } else if count(StatusKind::Failed) + count(StatusKind::Held) > 0 {
            ServiceState::Attention {
                failed: count(StatusKind::Failed),
                held: count(StatusKind::Held),
            }
        } else {
            ServiceState::Watching
        };
        let run_state = if report.paused {
            RunState::Paused
        } else {
            RunState::Running
        };
        Ok(Snapshot {
            version: env!("CARGO_PKG_VERSION").into(),
            state,
            run_state,
            paused_until: postflow_service::paused_until(&self.inner.queue),
            bandwidth: BandwidthView::from(&report.bandwidth),
            service_running: running,
            hosted: self.inner.host,
            filespace_online: report.filespace_online,
            frameio_online: report.frameio_online,
            account: self.account(),
            project: (!settings.frameio.project_id.is_empty()).then(|| ProjectView {
                id: settings.frameio.project_id.clone(),
                name: self.project_name(),
            }),
            discord: self.discord_view(&settings, &report),
            counts: status_counts(&counts),
            attention: report.failed_needing_action + count(StatusKind::Held),
            health: report.health,
            throughput_bps: self.inner.progress.throughput(),
            upload_bytes_sent: self.inner.progress.totals().0,
            upload_bytes_total: self.inner.progress.totals().1,
            watch_root: settings.watch.root.display().to_string(),
            demo: self.inner.demo,
            language: settings.ui.language,
        })
    }

    pub async fn health(&self) -> Result<HealthView, ApiError> {
        let settings = self.settings();
        let r = Report::gather(&self.inner.paths, &settings)?;
        let counts = self.inner.queue.counts()?;
        Ok(HealthView {
            running: r.running || self.hosted_running().await,
            pid: r.pid,
            uptime_secs: r.uptime_secs,
            cpu_percent: r.cpu_percent,
            rss_bytes: r.rss_bytes,
            paused: r.paused,
            frameio_online: r.frameio_online,
            filespace_online: r.filespace_online,
            counts: status_counts(&counts),
            processed_last_hour: r.last_hour.processed,
            uploaded_last_hour: r.last_hour.uploads_done,
            errors_last_hour: r.last_hour.errors,
            last_upload_at: r.last_hour.last_upload_at,
            failed_needing_action: r.failed_needing_action,
            watch_root: r.watch_root.clone(),
            disk_free_bytes: r.disk_free_bytes,
            disk_total_bytes: r.disk_total_bytes,
            discord: self.discord_view(&settings, &r),
            health: r.health,
            problems: r.problems.clone(),
        })
    }

    pub async fn items(&self, query: ItemQuery) -> Result<ItemPage, ApiError> {
        let limit = query.limit.unwrap_or(500).clamp(1, 20_000) as usize;
        let kinds = query
            .statuses
            .clone()
            .unwrap_or_else(|| query.filter.kinds());
        let read_at = postflow_queue::now_ms();
        let (items, total) = self.inner.queue.page(
            &kinds,
            query.search.as_deref().map(str::trim),
            query.updated_since,
            query.offset as usize,
            limit,
        )?;
        Ok(ItemPage {
            items: items.iter().map(|i| self.item_view(i)).collect(),
            total,
            offset: query.offset,
            read_at,
        })
    }

    pub async fn item(&self, id: i64) -> Result<ItemDetail, ApiError> {
        let item = self.get(id)?;
        let settings = self.settings();
        let timeline = self
            .inner
            .queue
            .transitions(id)?
            .into_iter()
            .map(|(at, status)| TimelineEntry {
                at,
                status: status.kind(),
                detail: status_detail(&status),
            })
            .collect();
        let frameio_path = item.shot.as_ref().map(|s| {
            let root = &settings.nomenclature.structure_root;
            let mut path: Vec<&str> = Vec::new();
            if !root.is_empty() {
                path.push(root);
            }
            path.extend([s.scene.as_str(), s.shot.as_str()]);
            path.join("/")
        });
        Ok(ItemDetail {
            local_path: item.local_path(&settings.watch.root).display().to_string(),
            frameio_path,
            last_error: error_view(&item),
            item: self.item_view(&item),
            timeline,
        })
    }

    /// The latest files this workstation put in Frame.io, newest first.
    pub async fn recent_uploads(&self, limit: u32) -> Result<Vec<ItemView>, ApiError> {
        Ok(self
            .inner
            .queue
            .recent_done(limit.clamp(1, 100) as usize)?
            .iter()
            .map(|i| self.item_view(i))
            .collect())
    }

    pub async fn settings_view(&self) -> Result<SettingsView, ApiError> {
        let loaded = lock(&self.inner.settings).clone();
        Ok(SettingsView {
            problems: loaded.all_problems(),
            path: loaded.source.path().display().to_string(),
            from_environment: loaded
                .env_overrides
                .iter()
                .map(|o| o.key.to_string())
                .collect(),
            settings: loaded.settings,
            signed_in: matches!(self.inner.secrets.frameio_tokens(), Ok(Some(_))),
            account: self.account(),
            webhook: self.webhook_masked(),
            secrets_from_environment: matches!(
                self.inner.secrets.keychain_status(),
                KeychainStatus::Unavailable { .. }
            ),
        })
    }

    /// Tests names with the nomenclature `candidate` describes (the
    /// settings being edited, not yet saved), and, asked, the files now in
    /// BY_SHOT: the Rust nomenclature itself, not a JavaScript imitation.
    pub async fn test_names(
        &self,
        names: Vec<String>,
        candidate: Option<Settings>,
        folder: bool,
    ) -> Result<NameTests, ApiError> {
        let settings = candidate.unwrap_or_else(|| self.settings());
        let (nomenclature, problems) = settings.nomenclature_lenient();
        let names = names
            .iter()
            .filter(|n| !n.trim().is_empty())
            .map(|n| nomenclature.report(n.trim()))
            .collect();
        let (found, folder_error) = if folder {
            let root = settings.watch.root.clone();
            match tokio::task::spawn_blocking(move || folder_names(&root, 200)).await {
                Ok(Ok(found)) => (found, None),
                Ok(Err(e)) => (Vec::new(), Some(e)),
                Err(e) => (Vec::new(), Some(e.to_string())),
            }
        } else {
            (Vec::new(), None)
        };
        Ok(NameTests {
            names,
            folder: found.iter().map(|n| nomenclature.report(n)).collect(),
            folder_error,
            problems,
        })
    }

    /// Accounts → workspaces → projects the signed-in user can upload to.
    pub async fn projects(&self) -> Result<Vec<AccountTree>, ApiError> {
        let settings = self.settings();
        let mut out = Vec::new();
        let base =
            postflow_service::client(&settings, self.inner.secrets.clone()).map_err(start_error)?;
        for account in base.accounts().await? {
            let mut frameio = settings.clone();
            frameio.frameio.account_id = account.id.clone();
            let client = postflow_service::client(&frameio, self.inner.secrets.clone())
                .map_err(start_error)?;
            let mut workspaces = Vec::new();
            for ws in client.workspaces().await? {
                let projects = client
                    .projects(&ws.id)
                    .await?
                    .into_iter()
                    .map(|p| ProjectChoice {
                        id: p.id,
                        name: p.name,
                    })
                    .collect();
                workspaces.push(WorkspaceTree {
                    id: ws.id,
                    name: ws.name,
                    projects,
                });
            }
            out.push(AccountTree {
                id: account.id,
                name: account.display_name,
                workspaces,
            });
        }
        Ok(out)
    }

    // ----- commands -----

    pub async fn pause(&self) -> Result<Snapshot, ApiError> {
        self.inner.control.pause()?;
        self.snapshot().await
    }

    /// Pauses until `until` (unix ms, in the future): "for an hour", "until
    /// tomorrow". The service resumes by itself then (or at its next start,
    /// if it was not running).
    pub async fn pause_until(&self, until: i64) -> Result<Snapshot, ApiError> {
        if until <= postflow_queue::now_ms() {
            return Err(ApiError::invalid(
                "the end of a timed pause must be in the future",
                "choose a later time, or Pause without an end",
            ));
        }
        self.inner.control.pause()?;
        self.inner
            .queue
            .set_state(postflow_engine::PAUSED_UNTIL_KEY, &until.to_string())?;
        self.snapshot().await
    }

    pub async fn resume(&self) -> Result<Snapshot, ApiError> {
        self.inner.control.resume()?;
        self.snapshot().await
    }

    /// Queues a failed, held or cancelled item again.
    pub async fn retry(&self, id: i64) -> Result<ItemView, ApiError> {
        let item = self.get(id)?;
        if !matches!(
            item.status.kind(),
            StatusKind::Failed | StatusKind::Held | StatusKind::Cancelled
        ) {
            return Err(ApiError::invalid(
                format!(
                    "{} is {}: only a failed, held or cancelled item can be retried",
                    item.file_name,
                    item.status.kind().as_str().replace('_', " ")
                ),
                "wait for it to finish",
            ));
        }
        let item = self.inner.queue.retry(id)?;
        self.published(&item);
        Ok(self.item_view(&item))
    }

    /// Every failed item of one shot ("Retry all in SC01 · UNDLM_00412").
    pub async fn retry_shot(&self, scene: String, shot: String) -> Result<Moved, ApiError> {
        let failed = self.failed_of(Some((&scene, &shot)))?;
        let count = self.inner.queue.retry_shot(&scene, &shot)?;
        self.publish_queued(&failed);
        Ok(Moved {
            count: count as u64,
        })
    }

    /// Every item of one scene that failed.
    pub async fn retry_scene(&self, scene: String) -> Result<Moved, ApiError> {
        let failed: Vec<Item> = self
            .failed_of(None)?
            .into_iter()
            .filter(|i| i.shot.as_ref().is_some_and(|s| s.scene == scene))
            .collect();
        for item in &failed {
            self.inner.queue.retry(item.id)?;
        }
        self.publish_queued(&failed);
        Ok(Moved {
            count: failed.len() as u64,
        })
    }

    pub async fn retry_all_failed(&self) -> Result<Moved, ApiError> {
        let failed = self.failed_of(None)?;
        let count = self.inner.queue.retry_all_failed()?;
        self.publish_queued(&failed);
        Ok(Moved {
            count: count as u64,
        })
    }

    /// Ignores this version of a file (retry undoes it). Only an item not
    /// in flight can be cancelled.
    pub async fn cancel(&self, id: i64) -> Result<ItemView, ApiError> {
        let item = self.get(id)?;
        let kind = item.status.kind();
        if !matches!(
            kind,
            StatusKind::WaitingForStability
                | StatusKind::Queued
                | StatusKind::Held
                | StatusKind::Failed
        ) {
            return Err(ApiError::invalid(
                format!(
                    "{} is {}: only a file waiting, queued, held or failed can be cancelled",
                    item.file_name,
                    kind.as_str().replace('_', " ")
                ),
                "pause PostFlow first if it must not go out",
            ));
        }
        let item = self.inner.queue.cancel(id, "cancelled by the user")?;
        self.published(&item);
        Ok(self.item_view(&item))
    }

    /// Rescans BY_SHOT now (the periodic rescan runs anyway).
    pub async fn rescan(&self) -> Result<Moved, ApiError> {
        match self.inner.service.lock().await.as_ref() {
            Some(handle) if handle.is_running() => handle.rescan_now(),
            _ => postflow_service::request_rescan(&self.inner.queue)?,
        }
        Ok(Moved { count: 0 })
    }

    /// Saves the settings: every wrong value refused at once (nothing
    /// written; values not set yet are not wrong, see
    /// `Settings::validate_for_saving`);
    /// else only what changed is written (comments kept), the file re-read,
    /// and the hosted service restarted on it (uploads resume).
    pub async fn save_settings(&self, settings: Settings) -> Result<SettingsView, ApiError> {
        // Values still to be filled in (the folder, the project) do not
        // stop a save: first-run is done in steps. Wrong values do.
        let problems = settings.validate_for_saving();
        if !problems.is_empty() {
            return Err(ApiError::problems(problems));
        }
        let (path, current) = {
            let loaded = lock(&self.inner.settings);
            (loaded.source.path().to_path_buf(), loaded.settings.clone())
        };
        postflow_settings::save_changes(&path, &current, &settings)?;
        self.reload_settings(&path).await;
        self.requeue_recognised(&settings)?;
        self.settings_view().await
    }

    /// Held names that the new settings recognise go back to the queue.
    fn requeue_recognised(&self, settings: &Settings) -> Result<(), ApiError> {
        let (nomenclature, _) = settings.nomenclature_lenient();
        for item in self
            .inner
            .queue
            .with_status(&[StatusKind::Held], usize::MAX >> 1)?
        {
            if matches!(
                nomenclature.classify(&item.rel_path),
                postflow_nomenclature::Classification::Parsed(_)
            ) {
                let item = self.inner.queue.retry(item.id)?;
                tracing::info!(file = %item.file_name, "now recognised: queued again");
                self.published(&item);
            }
        }
        Ok(())
    }

    /// Re-reads the settings file and applies it.
    async fn reload_settings(&self, path: &Path) {
        *lock(&self.inner.settings) = postflow_settings::load(path);
        if self.inner.host {
            self.restart_service().await;
        }
        self.inner.control.publish(Event::SettingsChanged);
    }

    /// Chooses the Frame.io project uploads go to (from [`Api::projects`]).
    pub async fn use_project(
        &self,
        account_id: String,
        workspace_id: String,
        project_id: String,
    ) -> Result<SettingsView, ApiError> {
        let mut settings = self.settings();
        settings.frameio.account_id = account_id;
        settings.frameio.workspace_id = workspace_id;
        settings.frameio.project_id = project_id;
        self.save_settings(settings).await
    }

    /// Begins a Frame.io sign-in: returns the address to open; the answer
    /// comes back on the loopback redirect, the tokens go to the keychain,
    /// and the service starts ([`Event::Service`] says so).
    pub async fn sign_in(&self) -> Result<SignInStarted, ApiError> {
        let f = self.settings().frameio;
        if f.client_id.trim().is_empty() {
            return Err(ApiError::invalid(
                "frameio.client_id is not set",
                "set it to the client id of your organisation's Adobe credential (Settings → Frame.io)",
            ));
        }
        let signin = postflow_frameio::SignIn::start(postflow_frameio::OAuthConfig {
            ims_base_url: f.ims_base_url.clone(),
            client_id: f.client_id.clone(),
            client_secret: None,
            redirect_uri: f.redirect_uri.clone(),
            scopes: postflow_frameio::auth::DEFAULT_SCOPES.into(),
        })?;
        let url = signin.authorize_url.to_string();
        let api = self.clone();
        let task = tokio::spawn(async move {
            let outcome = async {
                let callback = signin.receive_on_loopback(Duration::from_secs(600)).await?;
                let tokens = signin.complete(&reqwest::Client::new(), &callback).await?;
                api.inner.secrets.set_frameio_tokens(&tokens)?;
                let settings = api.settings();
                let client = postflow_service::client(&settings, api.inner.secrets.clone())
                    .map_err(start_error)?;
                if let Ok(me) = client.me().await {
                    let account = AccountView {
                        name: me.name,
                        email: me.email,
                    };
                    let _ = api.inner.queue.set_state(
                        ACCOUNT_KEY,
                        &serde_json::to_string(&account).unwrap_or_default(),
                    );
                }
                Ok::<(), ApiError>(())
            }
            .await;
            match outcome {
                Ok(()) => {
                    tracing::info!("signed in to Frame.io");
                    if api.inner.host {
                        api.restart_service().await;
                    }
                    api.inner.control.publish(Event::SettingsChanged);
                }
                Err(e) => {
                    tracing::warn!("Frame.io sign-in did not complete: {}", e.message);
                    api.inner.control.publish(Event::NeedsUser {
                        reason: format!("Frame.io sign-in did not complete: {}", e.message),
                    });
                }
            }
        });
        if let Some(previous) = lock(&self.inner.signin).replace(task) {
            previous.abort();
        }
        Ok(SignInStarted { url })
    }

    /// Forgets the Frame.io sign-in (keychain) and stops the service.
    pub async fn sign_out(&self) -> Result<Snapshot, ApiError> {
        self.inner.secrets.delete(SecretKind::FrameioTokens)?;
        let _ = self.inner.queue.clear_state(ACCOUNT_KEY);
        if self.inner.host {
            self.restart_service().await;
        }
        self.inner.control.publish(Event::SettingsChanged);
        self.snapshot().await
    }

    /// Validates and stores the Discord webhook in the keychain; answers
    /// only the masked form.
    pub async fn store_webhook(&self, url: String) -> Result<SettingsView, ApiError> {
        let hook =
            DiscordWebhook::parse(url.trim()).map_err(postflow_secrets::SecretError::from)?;
        self.inner.secrets.set_discord_webhook(&hook)?;
        let _ = self
            .inner
            .queue
            .clear_state(postflow_service::DISCORD_PROBLEM_KEY);
        self.inner.control.publish(Event::Discord {
            ok: true,
            detail: None,
        });
        self.settings_view().await
    }

    pub async fn delete_webhook(&self) -> Result<SettingsView, ApiError> {
        self.inner.secrets.delete(SecretKind::DiscordWebhook)?;
        self.settings_view().await
    }

    /// Sends a test message to the channel; answers with Discord's words.
    pub async fn test_webhook(&self) -> Result<WebhookTest, ApiError> {
        let settings = self.settings();
        let Some((hook, _)) = self.inner.secrets.discord_webhook()? else {
            return Ok(WebhookTest {
                ok: false,
                answer: "no webhook is stored: paste one first".into(),
            });
        };
        Ok(
            match postflow_service::notify_test(&self.inner.paths, &settings.discord, &hook).await {
                Ok(message_id) => WebhookTest {
                    ok: true,
                    answer: format!("Discord accepted the test message (message {message_id})"),
                },
                Err(e) => WebhookTest {
                    ok: false,
                    answer: e.to_string(),
                },
            },
        )
    }

    // ----- helpers -----

    fn get(&self, id: i64) -> Result<Item, ApiError> {
        self.inner.queue.get(id)?.ok_or_else(|| {
            ApiError::invalid(format!("item {id} is not in the queue"), "refresh the list")
        })
    }

    fn failed_of(&self, shot: Option<(&str, &str)>) -> Result<Vec<Item>, ApiError> {
        let items = match shot {
            Some((scene, shot)) => self.inner.queue.shot_history(scene, shot)?,
            None => self
                .inner
                .queue
                .with_status(&[StatusKind::Failed], usize::MAX >> 1)?,
        };
        Ok(items
            .into_iter()
            .filter(|i| i.status.kind() == StatusKind::Failed)
            .collect())
    }

    fn publish_queued(&self, items: &[Item]) {
        for item in items {
            self.inner.control.publish(Event::ItemStatus {
                id: item.id,
                file_name: item.file_name.clone(),
                status: StatusKind::Queued,
                detail: None,
            });
        }
    }

    fn published(&self, item: &Item) {
        self.inner.control.publish(Event::ItemStatus {
            id: item.id,
            file_name: item.file_name.clone(),
            status: item.status.kind(),
            detail: status_detail(&item.status),
        });
    }

    fn account(&self) -> Option<AccountView> {
        serde_json::from_str(&self.inner.queue.state(ACCOUNT_KEY).ok()??).ok()
    }

    fn webhook_masked(&self) -> Option<String> {
        match self.inner.secrets.discord_webhook() {
            Ok(Some((hook, _))) => Some(hook.masked().to_string()),
            _ => None,
        }
    }

    fn discord_view(&self, settings: &Settings, report: &Report) -> DiscordView {
        DiscordView {
            enabled: settings.discord.enabled,
            webhook: self.webhook_masked(),
            problem: report.discord.problem.as_ref().map(|p| p.message.clone()),
            pending: report.discord.outbox.pending,
            sent: report.discord.outbox.sent,
        }
    }

    /// The takeover delay of the settings in force, in ms.
    fn takeover_after_ms(&self) -> i64 {
        let secs = self.settings().transfers.takeover_after_secs;
        let (after, _) = postflow_service::takeover_timing(secs);
        i64::try_from(after.as_millis()).unwrap_or(i64::MAX)
    }

    fn item_view(&self, item: &Item) -> ItemView {
        let (mut bytes_sent, mut bytes_per_sec) = (0, 0);
        let mut view_url = None;
        let mut uploaded_by = None;
        let mut rerender = false;
        let mut waiting_for = None;
        let (mut detail, mut needs_action, mut next_retry_at) = (None, false, None);
        match &item.status {
            Status::Deferring {
                holder, seen_at, ..
            } => {
                let ago = (postflow_queue::now_ms() - seen_at).max(0) / 1000;
                detail = Some(format!(
                    "waiting for {}'s upload, last sign of life {ago} s ago",
                    holder.as_deref().unwrap_or("another workstation")
                ));
                waiting_for = Some(views::WaitingFor {
                    workstation: holder.clone(),
                    last_sign_of_life_at: *seen_at,
                    takeover_at: seen_at.saturating_add(self.takeover_after_ms()),
                });
            }
            Status::Uploading { bytes_sent: b, .. } => bytes_sent = *b,
            Status::Verifying { .. } | Status::Stacking { .. } => bytes_sent = item.size,
            Status::Notifying {
                view_url: url,
                rerender: r,
                ..
            } => {
                bytes_sent = item.size;
                view_url = url.clone();
                rerender = *r;
            }
            Status::Done { view_url: url, .. } => {
                bytes_sent = item.size;
                view_url = url.clone();
                uploaded_by = Some(Uploader::ThisWorkstation {
                    name: self.inner.workstation.clone(),
                });
            }
            Status::AlreadyInFrameio { .. } => {
                bytes_sent = item.size;
                uploaded_by = Some(Uploader::AnotherWorkstation);
            }
            Status::Held { reason } | Status::Cancelled { reason } => detail = Some(reason.clone()),
            Status::Failed {
                reason,
                next_retry_at: at,
                needs_action: n,
            } => {
                detail = Some(reason.clone());
                needs_action = *n;
                next_retry_at = *at;
            }
            _ => {}
        }
        if let Some(live) = self.inner.progress.of(item.id) {
            if item.status.kind() == StatusKind::Uploading {
                bytes_sent = bytes_sent.max(live.bytes_sent);
                bytes_per_sec = live.bytes_per_sec;
            }
        }
        ItemView {
            id: item.id,
            rel_path: item.rel_path.clone(),
            file_name: item.file_name.clone(),
            scene: item.shot.as_ref().map(|s| s.scene.clone()),
            shot: item.shot.as_ref().map(|s| s.shot.clone()),
            version: item.shot.as_ref().map(|s| s.version.clone()),
            size: item.size,
            status: item.status.kind(),
            detail,
            needs_action,
            next_retry_at,
            attempts: item.attempts,
            bytes_sent,
            bytes_per_sec,
            view_url,
            uploaded_by,
            waiting_for,
            rerender,
            created_at: item.created_at,
            updated_at: item.updated_at,
            finished_at: item.finished_at,
        }
    }
}

/// The UI's event stream.
pub struct Events(broadcast::Receiver<Event>);

impl Events {
    /// The next event for a UI; `None` once the API is gone. A subscriber
    /// that fell behind gets [`Event::SettingsChanged`] (re-read
    /// everything) instead of the events it missed.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            match self.0.recv().await {
                Ok(Event::UploadProgress { .. }) => continue,
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(_)) => return Some(Event::SettingsChanged),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

fn start_error(e: postflow_service::StartError) -> ApiError {
    use postflow_service::StartError::*;
    match e {
        Settings(problems) => ApiError::problems(problems),
        NotSignedIn => ApiError::new(Disposition::NeedsUser, "not signed in to Frame.io")
            .with_fix("sign in to Frame.io (Settings → Frame.io → Sign in)"),
        Secrets(e) => e.into(),
        Frameio(e) => e.into(),
        Queue(e) => e.into(),
        e @ AlreadyRunning { .. } => ApiError::new(Disposition::NeedsUser, e.to_string()),
        e @ Lock { .. } => ApiError::new(Disposition::NeedsUser, e.to_string())
            .with_fix("check that PostFlow's data folder is writable"),
    }
}

fn status_detail(status: &Status) -> Option<String> {
    match status {
        Status::Held { reason } | Status::Cancelled { reason } | Status::Failed { reason, .. } => {
            Some(reason.clone())
        }
        _ => None,
    }
}

/// The cause and the one fix, for a failed or held item.
fn error_view(item: &Item) -> Option<ErrorView> {
    match &item.status {
        Status::Held { reason } => Some(ErrorView {
            message: reason.clone(),
            disposition: Disposition::NeedsUser,
            fix: "rename the file to follow the naming rule, or add a pattern for it in Settings → Nomenclature (the tester there shows why a name does not match)".into(),
        }),
        Status::Failed {
            reason,
            needs_action,
            next_retry_at,
        } => Some(ErrorView {
            message: reason.clone(),
            disposition: if *needs_action {
                Disposition::Permanent
            } else {
                Disposition::Transient
            },
            fix: match (needs_action, next_retry_at) {
                (true, _) => format!(
                    "PostFlow gave up after {} attempt(s): fix the cause above, then Retry",
                    item.attempts
                ),
                (false, Some(_)) => {
                    "nothing to do: PostFlow tries again by itself; Retry tries now".into()
                }
                (false, None) => "Retry tries again now".into(),
            },
        }),
        _ => None,
    }
}

/// The file names directly or deeply in `root` (at most `limit`), as the
/// watcher would see them.
fn folder_names(root: &Path, limit: usize) -> Result<Vec<String>, String> {
    if root.as_os_str().is_empty() {
        return Err("the watched folder is not set".into());
    }
    let mut out = Vec::new();
    let mut pending: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => pending.push(path),
                Ok(t) if t.is_file() => {
                    if let Ok(rel) = path.strip_prefix(root) {
                        out.push(rel.to_string_lossy().replace('\\', "/"));
                    }
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes the TypeScript bindings of every view type, event and error, and
/// the command map, into `dir` (`ui/src/bindings`): what the UI compiles
/// against. The bindings test calls it; CI then checks nothing changed.
pub fn export_bindings(dir: &Path) -> Result<(), String> {
    use ts_rs::TS;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let e = |e: ts_rs::ExportError| e.to_string();
    Snapshot::export_all_to(dir).map_err(e)?;
    HealthView::export_all_to(dir).map_err(e)?;
    ItemPage::export_all_to(dir).map_err(e)?;
    ItemQuery::export_all_to(dir).map_err(e)?;
    ItemDetail::export_all_to(dir).map_err(e)?;
    SettingsView::export_all_to(dir).map_err(e)?;
    NameTests::export_all_to(dir).map_err(e)?;
    AccountTree::export_all_to(dir).map_err(e)?;
    SignInStarted::export_all_to(dir).map_err(e)?;
    WebhookTest::export_all_to(dir).map_err(e)?;
    Moved::export_all_to(dir).map_err(e)?;
    Event::export_all_to(dir).map_err(e)?;
    ApiError::export_all_to(dir).map_err(e)?;
    std::fs::write(dir.join("commands.ts"), commands::typescript()).map_err(|e| e.to_string())?;
    Ok(())
}
