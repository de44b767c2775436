//! The engine: takes items from the durable queue to a verified file in
//! `SCENES/<scene>/<shot>/` on Frame.io, stacked onto the shot's previous
//! version, exactly once.
//!
//! Each item moves through [`postflow_queue::Status`] one step at a time;
//! every step is **written to the queue before it is acted on**, so after a
//! crash [`Engine::process`] picks an item up where it was:
//!
//! | status | on (re)entry |
//! | --- | --- |
//! | queued / failed | checks the local file, then preparing folders |
//! | preparing folders | `ensure_path`; this very render already there (same name and size, not an earlier render: see `may_be_this_render`) → already in Frame.io; else uploading |
//! | uploading, no session | `local_upload`; the session is written before any part is sent; then the race check below |
//! | uploading, session | resumes: only the parts not recorded as done |
//! | verifying | waits for Frame.io's confirmation; re-checks the local file |
//! | stacking | stacks onto the earlier copy (a re-render) or the previous version (skipped if already stacked or stacking is off) |
//! | notifying | publishes [`Event::Uploaded`], then done |
//!
//! **Several workstations, one upload.** Frame.io is the source of truth.
//! Before creating a placeholder the engine looks for the name and size in
//! the shot folder (inside version stacks too). Two workstations can still
//! both pass that check; so right after creating its placeholder each lists
//! the folder again, and among the files of that name and size the one
//! created first (ties: the smallest id) wins: a loser deletes its own
//! placeholder (before sending any bytes) and records the item as already
//! in Frame.io. Any later placeholder sees the earlier one, so both sides
//! agree and exactly one file stays. Folders converge the same way
//! (`postflow_frameio::structure`). (ARCHITECTURE.md states the whole
//! protocol, crash orphans included.)

mod pipeline;
mod takeover;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use postflow_core::{Control, Event, RunState};
use postflow_discord::{Action, Cause, Notice};
use postflow_frameio::{Client, UploadOptions};
use postflow_nomenclature::{Classification, Nomenclature};
use postflow_queue::{Candidate, Queue, Recorded, ShotRef, Status, StatusKind};

pub use pipeline::Outcome;
pub use takeover::Telling;

/// How the engine works.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The watched `BY_SHOT` folder; queue paths are relative to it.
    pub watch_root: PathBuf,
    /// The Frame.io project's root folder id.
    pub project_root_folder_id: String,
    /// Files uploaded at the same time.
    pub parallel_files: usize,
    pub upload: UploadOptions,
    /// Stack a new version onto the shot's previous one.
    pub stack_versions: bool,
    /// Attempts before an item is "failed: needs action".
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt (with jitter), capped at 1 h.
    pub retry_base: Duration,
    /// How often the loop looks for due work when idle.
    pub poll_interval: Duration,
    /// Write team notices (uploads, items that need a person) to the
    /// Discord outbox. Off: nothing is written, so turning Discord on later
    /// does not replay old news.
    pub team_notices: bool,
    /// This workstation's name, as the team sees it in notices.
    pub workstation: String,
    /// How far a render's mtime (the writer's clock) and Frame.io's
    /// `created_at` (Frame.io's clock) may disagree when telling this
    /// render from an earlier one of the same name (see the re-render rule
    /// in ARCHITECTURE.md). Keep it well inside the readiness window.
    pub clock_tolerance: Duration,
    /// How long another workstation's upload of a render may show no sign
    /// of life before this one takes it over (see `takeover`). Keep it
    /// well above `sign_of_life_every`.
    pub takeover_after: Duration,
    /// How often an upload refreshes its claim note, and a deferring item
    /// looks at the other's.
    pub sign_of_life_every: Duration,
}

impl EngineConfig {
    pub fn new(watch_root: PathBuf, project_root_folder_id: String) -> Self {
        Self {
            watch_root,
            project_root_folder_id,
            parallel_files: 2,
            upload: UploadOptions::default(),
            stack_versions: true,
            max_attempts: 8,
            retry_base: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
            team_notices: false,
            workstation: "this workstation".into(),
            clock_tolerance: Duration::from_secs(5),
            takeover_after: Duration::from_secs(300),
            sign_of_life_every: Duration::from_secs(20),
        }
    }
}

/// The queue database as the Frame.io client's folder cache: folder ids
/// survive restarts. (The adapter lives here so that the queue crate does
/// not depend on the Frame.io client.)
pub struct Folders<'a>(pub &'a Queue);

impl postflow_frameio::FolderCache for Folders<'_> {
    fn get(&self, key: &str) -> Option<String> {
        self.0.folder_get(key)
    }
    fn put(&self, key: &str, folder_id: &str) {
        self.0.folder_put(key, folder_id)
    }
    fn remove(&self, key: &str) {
        self.0.folder_forget(key)
    }
}

/// The engine. Share it behind an `Arc`.
pub struct Engine {
    pub(crate) queue: Arc<Queue>,
    pub(crate) client: Client,
    pub(crate) nomenclature: Nomenclature,
    pub(crate) control: Control,
    pub(crate) config: EngineConfig,
    /// This PostFlow's id, kept in its queue: set once, never shared with
    /// another data directory (claim notes carry it).
    instance: String,
}

/// Key of this PostFlow's instance id in the queue database.
const INSTANCE_KEY: &str = "instance_id";

/// Key of the persisted pause state in the queue database.
pub const PAUSED_KEY: &str = "paused";
/// When a timed pause ends (unix ms), beside [`PAUSED_KEY`]; absent for a
/// pause until resumed by hand. The running service resumes at that time.
pub const PAUSED_UNTIL_KEY: &str = "paused_until";

/// The outbox channel of Discord notices (see [`postflow_queue::Queue::enqueue_notice`]).
pub const DISCORD_CHANNEL: &str = "discord";

/// Since when (unix ms) uploads wait for a person (sign in again, grant
/// access): one notice per such spell, however often it is hit.
const NEEDS_USER_SINCE_KEY: &str = "needs_user_since";

impl Engine {
    pub fn new(
        queue: Arc<Queue>,
        client: Client,
        nomenclature: Nomenclature,
        control: Control,
        config: EngineConfig,
    ) -> Arc<Engine> {
        // A restart while paused stays paused, unless a timed pause ended
        // while nothing ran.
        let until: Option<i64> = queue
            .state(PAUSED_UNTIL_KEY)
            .ok()
            .flatten()
            .and_then(|v| v.parse().ok());
        if until.is_some_and(|u| u <= postflow_queue::now_ms()) {
            let _ = queue.set_state(PAUSED_KEY, "false");
            let _ = queue.clear_state(PAUSED_UNTIL_KEY);
            control.adopt(RunState::Running);
        } else if queue.state(PAUSED_KEY).ok().flatten().as_deref() == Some("true") {
            control.adopt(RunState::Paused);
        }
        let fresh = format!("{:016x}", rand::random::<u64>());
        let instance = queue.state_or_insert(INSTANCE_KEY, &fresh).unwrap_or(fresh);
        Arc::new(Engine {
            queue,
            client,
            nomenclature,
            control,
            config,
            instance,
        })
    }

    /// This PostFlow's instance id (see the claim notes in `takeover`).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub fn queue(&self) -> &Arc<Queue> {
        &self.queue
    }

    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Pauses (no new item starts) and remembers it across restarts.
    pub fn pause(&self) -> Result<(), postflow_queue::Error> {
        self.queue.set_state(PAUSED_KEY, "true")?;
        self.control.adopt(RunState::Paused);
        Ok(())
    }

    pub fn resume(&self) -> Result<(), postflow_queue::Error> {
        self.queue.set_state(PAUSED_KEY, "false")?;
        self.queue.clear_state(NEEDS_USER_SINCE_KEY)?;
        self.control.adopt(RunState::Running);
        Ok(())
    }

    /// Records a file the watcher saw (before anything else happens to it).
    /// Names the nomenclature ignores or does not support are not recorded.
    pub fn record(
        &self,
        rel_path: &str,
        size: u64,
        mtime_ns: i64,
    ) -> Result<Option<Recorded>, postflow_queue::Error> {
        let classification = self.nomenclature.classify(rel_path);
        if !classification.is_queued() {
            return Ok(None);
        }
        let shot = match &classification {
            Classification::Parsed(p) => Some(ShotRef {
                scene: p.scene.clone(),
                shot: p.shot.clone(),
                version: p.version.clone(),
            }),
            _ => None,
        };
        let recorded = self.queue.record_candidate(&Candidate {
            rel_path: rel_path.to_string(),
            root: Some(self.config.watch_root.display().to_string()),
            size,
            mtime_ns,
            shot,
        })?;
        if let Recorded::New(id) = recorded {
            self.publish_status(id, rel_path, StatusKind::WaitingForStability, None);
        }
        Ok(Some(recorded))
    }

    /// The watcher says this exact file is complete and stable: queue it,
    /// or hold it when its name is not understood.
    pub fn mark_ready(
        &self,
        rel_path: &str,
        size: u64,
        mtime_ns: i64,
    ) -> Result<Option<i64>, postflow_queue::Error> {
        let Some(recorded) = self.record(rel_path, size, mtime_ns)? else {
            return Ok(None);
        };
        let id = recorded.id();
        let item = self
            .queue
            .get(id)?
            .ok_or(postflow_queue::Error::NoSuchItem(id))?;
        if item.status.kind() != StatusKind::WaitingForStability {
            return Ok(Some(id));
        }
        let next = match self.nomenclature.classify(rel_path) {
            Classification::Unrecognized { reason } => Status::Held { reason },
            _ => Status::Queued,
        };
        let detail = match &next {
            Status::Held { reason } => Some(reason.clone()),
            _ => None,
        };
        let kind = next.kind();
        self.queue
            .transition(id, StatusKind::WaitingForStability, next)?;
        if let Some(reason) = &detail {
            self.notice_held(id, &item.file_name, reason);
        }
        self.publish_status(id, rel_path, kind, detail);
        Ok(Some(id))
    }

    /// Writes a team notice to the Discord outbox, once per `key`.
    pub(crate) fn notify(&self, key: &str, notice: &Notice) -> Result<(), postflow_queue::Error> {
        if !self.config.team_notices {
            return Ok(());
        }
        let payload = serde_json::to_string(notice).expect("notices serialize");
        self.queue.enqueue_notice(DISCORD_CHANNEL, key, &payload)?;
        Ok(())
    }

    /// A notice that can be lost without losing work (the item's state is
    /// in the queue either way): a failure to write it is only logged.
    pub(crate) fn notify_quietly(&self, key: &str, notice: &Notice) {
        if let Err(e) = self.notify(key, notice) {
            tracing::warn!("cannot write the team notice {key}: {e}");
        }
    }

    pub(crate) fn action(&self, cause: Cause, file_name: Option<&str>, detail: &str) -> Notice {
        Notice::NeedsAction(Action {
            cause,
            file_name: file_name.map(str::to_string),
            detail: detail.to_string(),
            workstation: self.config.workstation.clone(),
            at: postflow_queue::now_ms() / 1000,
        })
    }

    pub(crate) fn notice_held(&self, id: i64, file_name: &str, reason: &str) {
        let notice = self.action(Cause::NameHeld, Some(file_name), reason);
        self.notify_quietly(&format!("held:{id}"), &notice);
    }

    /// Once per spell of "a person must act", however many items hit it.
    pub(crate) fn notice_needs_user(&self, cause: Cause, reason: &str) {
        let since = self
            .queue
            .state_or_insert(NEEDS_USER_SINCE_KEY, &postflow_queue::now_ms().to_string());
        match since {
            Ok(since) => {
                let notice = self.action(cause, None, reason);
                self.notify_quietly(&format!("needs_user:{since}"), &notice);
            }
            Err(e) => tracing::warn!("cannot record why uploads wait: {e}"),
        }
    }

    /// Runs until `stop` resolves: resumes what a previous run left in
    /// flight, then starts due items, `parallel_files` at a time, while not
    /// paused. On stop, items in flight are abandoned where they are (their
    /// state is in the queue) and picked up by the next run.
    pub async fn run(self: Arc<Self>, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut running = tokio::task::JoinSet::new();
        let mut busy = std::collections::HashSet::new();
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(i64, Outcome)>();
        // While Frame.io is unreachable nothing new starts until this instant.
        let mut offline_until: Option<tokio::time::Instant> = None;

        loop {
            let now = tokio::time::Instant::now();
            let may_start =
                self.control.state() == RunState::Running && offline_until.is_none_or(|t| now >= t);
            let free = self.config.parallel_files.saturating_sub(busy.len());
            if may_start && free > 0 {
                match self.startable(free + busy.len()) {
                    Ok(items) => {
                        let fresh: Vec<i64> = items
                            .into_iter()
                            .filter(|id| !busy.contains(id))
                            .take(free)
                            .collect();
                        for id in fresh {
                            busy.insert(id);
                            let engine = self.clone();
                            let done = done_tx.clone();
                            running.spawn(async move {
                                let outcome = engine.process(id).await;
                                let _ = done.send((id, outcome));
                            });
                        }
                    }
                    Err(e) => tracing::error!("cannot read the queue: {e}"),
                }
            }
            tokio::select! {
                _ = &mut stop => break,
                Some((id, outcome)) = done_rx.recv() => {
                    busy.remove(&id);
                    match outcome {
                        Outcome::Offline(why) => {
                            if offline_until.is_none() {
                                tracing::warn!("Frame.io unreachable ({why}); waiting without spending attempts");
                                self.control.publish(Event::Connectivity { online: false, detail: Some(why) });
                            }
                            offline_until = Some(tokio::time::Instant::now() + self.config.poll_interval * 4);
                        }
                        _ if offline_until.is_some() => {
                            offline_until = None;
                            tracing::info!("Frame.io reachable again");
                            self.control.publish(Event::Connectivity { online: true, detail: None });
                        }
                        _ => {}
                    }
                }
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                _ = self.control_changed() => {}
            }
        }
        // Abandon what is in flight: its state is in the queue.
        running.abort_all();
        while running.join_next().await.is_some() {}
    }

    /// Items to work on now: in flight first (resumed after a crash), then due.
    fn startable(&self, limit: usize) -> Result<Vec<i64>, postflow_queue::Error> {
        let active = [
            StatusKind::PreparingFolders,
            StatusKind::Uploading,
            StatusKind::Verifying,
            StatusKind::Stacking,
            StatusKind::Notifying,
        ];
        let mut ids: Vec<i64> = self
            .queue
            .with_status(&active, limit)?
            .into_iter()
            .map(|i| i.id)
            .collect();
        if ids.len() < limit {
            ids.extend(
                self.queue
                    .due(postflow_queue::now_ms(), limit - ids.len())?
                    .into_iter()
                    .map(|i| i.id),
            );
        }
        Ok(ids)
    }

    async fn control_changed(&self) {
        let mut state = self.control.watch_state();
        let _ = state.changed().await;
    }

    pub(crate) fn publish_status(
        &self,
        id: i64,
        rel_path: &str,
        status: StatusKind,
        detail: Option<String>,
    ) {
        let file_name = rel_path.rsplit('/').next().unwrap_or(rel_path).to_string();
        self.control.publish(Event::ItemStatus {
            id,
            file_name,
            status,
            detail,
        });
    }
}
