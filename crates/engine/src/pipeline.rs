//! One item, one step at a time. Each step's result is written to the queue
//! before the next step acts on it (see the crate docs for the table).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

use postflow_core::Event;
use postflow_discord::{Cause, Notice, Upload};
use postflow_frameio::structure::seniority;
use postflow_frameio::{
    Disposition, Error as FrameioError, FolderFile, Progress, UploadObserver, UploadSession,
};
use postflow_nomenclature::Classification;
use postflow_queue::{now_ms, Item, ShotRef, Status, StatusKind};
use rand::Rng;

use crate::{Engine, Folders};

/// How processing an item ended (for now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    AlreadyInFrameio,
    Held,
    Cancelled,
    /// Failed; retried later unless `needs_action`.
    Failed {
        needs_action: bool,
    },
    /// Frame.io (or the filespace) is unreachable: nothing was spent; the
    /// item stays where it was and is picked up again later.
    Offline(String),
    /// A person must act (sign in again); the engine paused itself.
    NeedsUser(String),
    /// Back in the queue without spending an attempt (its placeholder vanished).
    Requeued,
    /// Nothing to do (not in the queue, or in a final state).
    Nothing,
}

pub(crate) enum StepError {
    Frameio(FrameioError),
    /// The local file is not what was recorded any more.
    LocalChanged(String),
    /// The watch root is unreachable (filespace offline).
    RootOffline(String),
    /// Our placeholder or the shot folder vanished from Frame.io (deleted in
    /// the web app, withdrawn in favour of another workstation's, or folded
    /// into the folder of its name created first): start the item over
    /// without spending an attempt. The text says which.
    StartOver(&'static str),
    Queue(postflow_queue::Error),
}

impl From<FrameioError> for StepError {
    fn from(e: FrameioError) -> Self {
        StepError::Frameio(e)
    }
}

impl From<postflow_queue::Error> for StepError {
    fn from(e: postflow_queue::Error) -> Self {
        StepError::Queue(e)
    }
}

impl Engine {
    /// Takes one item as far as it can go now.
    pub async fn process(&self, id: i64) -> Outcome {
        // The first step resumes whatever state the item was left in.
        let mut resumed = true;
        loop {
            let item = match self.queue.get(id) {
                Ok(Some(item)) => item,
                Ok(None) => return Outcome::Nothing,
                Err(e) => {
                    tracing::error!(id, "cannot read the queue: {e}");
                    return Outcome::Nothing;
                }
            };
            let from = item.status.kind();
            let next = match self.step(&item, resumed).await {
                Ok(next) => next,
                Err(error @ StepError::LocalChanged(_)) => {
                    self.withdraw_placeholders(id, &item).await;
                    return self.fail(&item, error);
                }
                Err(error) => return self.fail(&item, error),
            };
            resumed = false;
            let Some(next) = next else {
                return Outcome::Nothing;
            };
            let kind = next.kind();
            let detail = match &next {
                Status::Held { reason } | Status::Cancelled { reason } => Some(reason.clone()),
                _ => None,
            };
            if let Err(e) = self.queue.transition(id, from, next) {
                tracing::error!(id, "cannot record the next step: {e}");
                return Outcome::Nothing;
            }
            if let (StatusKind::Held, Some(reason)) = (kind, &detail) {
                self.notice_held(id, &item.file_name, reason);
            }
            self.publish_status(id, &item.rel_path, kind, detail);
            match kind {
                StatusKind::Done => return Outcome::Done,
                StatusKind::AlreadyInFrameio => return Outcome::AlreadyInFrameio,
                StatusKind::Held => return Outcome::Held,
                StatusKind::Cancelled => return Outcome::Cancelled,
                _ => {}
            }
        }
    }

    /// What comes after `item`'s current status; `None` when there is
    /// nothing to do.
    async fn step(&self, item: &Item, resumed: bool) -> Result<Option<Status>, StepError> {
        Ok(Some(match &item.status {
            Status::Queued | Status::Failed { .. } => {
                self.check_local(item).await?;
                match item.shot {
                    Some(_) => Status::PreparingFolders,
                    // A name held before may be recognised now (a pattern
                    // was added): classified again with today's rules.
                    None => match self.nomenclature.classify(&item.rel_path) {
                        Classification::Parsed(p) => {
                            self.queue.set_shot(
                                item.id,
                                Some(&ShotRef {
                                    scene: p.scene,
                                    shot: p.shot,
                                    version: p.version,
                                }),
                            )?;
                            Status::PreparingFolders
                        }
                        Classification::Unrecognized { reason } => Status::Held { reason },
                        _ => Status::Held {
                            reason: "the name gives no scene and shot".into(),
                        },
                    },
                }
            }
            Status::PreparingFolders => {
                self.check_local(item).await?;
                let shot = item
                    .shot
                    .as_ref()
                    .expect("parsed items only reach this step");
                let path = self.folder_path(shot);
                let folder_id = self
                    .client
                    .ensure_path(
                        &Folders(&self.queue),
                        &self.config.project_root_folder_id,
                        &path,
                    )
                    .await?;
                // Frame.io is the source of truth: this very render already
                // there (complete or in flight from another workstation) is
                // not uploaded again. An earlier render of the same name and
                // size is not this one (see `may_be_this_render`).
                let files = self
                    .client
                    .files_in_folder(&folder_id)
                    .await
                    .map_err(|e| self.folder_gone(item, e))?;
                let earlier = self.queue.earlier_renders(&item.rel_path, item.id)?;
                let existing = files
                    .iter()
                    .filter(|f| {
                        f.asset.name == item.file_name && f.asset.file_size == Some(item.size)
                    })
                    .filter(|f| self.may_be_this_render(item, f, &earlier))
                    .min_by_key(|f| seniority(f.asset.created_at.as_deref(), &f.asset.id));
                if let Some(existing) = existing {
                    // Complete and told: already in Frame.io. In flight, or
                    // complete but not yet told, from another workstation:
                    // deferred to while it shows signs of life (see
                    // `takeover`, which tells these apart by its claim note).
                    let next = self
                        .look_at_twin(item, &folder_id, &existing.asset.id, None)
                        .await?;
                    match &next {
                        Status::AlreadyInFrameio { .. } => {
                            tracing::info!(file = %item.file_name, "already in Frame.io; not uploading again")
                        }
                        Status::Deferring { .. } => {
                            tracing::info!(file = %item.file_name, "another workstation is uploading this file; waiting for it")
                        }
                        _ => {}
                    }
                    return Ok(Some(next));
                }
                Status::Uploading {
                    folder_id,
                    requested_at: now_ms(),
                    session: None,
                    parts_done: Vec::new(),
                    bytes_sent: 0,
                }
            }
            Status::Uploading {
                folder_id,
                requested_at,
                session,
                parts_done,
                ..
            } => {
                self.check_local(item).await?;
                let session = match session {
                    Some(s) => s.clone(),
                    None => {
                        let s = self
                            .client
                            .create_upload(folder_id, &item.file_name, item.size)
                            .await
                            .map_err(|e| self.folder_gone(item, e))?;
                        // Written before any byte is sent: a crash from here
                        // resumes this placeholder instead of making another.
                        self.queue.transition(
                            item.id,
                            StatusKind::Uploading,
                            Status::Uploading {
                                folder_id: folder_id.clone(),
                                requested_at: *requested_at,
                                session: Some(s.clone()),
                                parts_done: Vec::new(),
                                bytes_sent: 0,
                            },
                        )?;
                        // Only an item found in this state after a restart can
                        // have left an orphan behind.
                        let orphans_since = if resumed { *requested_at } else { 0 };
                        let twin = match self.earlier_twin(folder_id, item, &s, orphans_since).await
                        {
                            Err(StepError::Frameio(e @ FrameioError::NotFound(_))) => {
                                // The folder was folded into its twin under
                                // us (our placeholder moved with it): ours is
                                // withdrawn and the item starts over there.
                                self.delete_quietly(&s.file_id).await;
                                return Err(self.folder_gone(item, e));
                            }
                            other => other?,
                        };
                        if let Some(winner) = twin {
                            tracing::info!(
                                file = %item.file_name,
                                "another workstation is uploading this file; withdrawing ours"
                            );
                            self.delete_quietly(&s.file_id).await;
                            return self
                                .look_at_twin(item, folder_id, &winner, None)
                                .await
                                .map(Some);
                        }
                        s
                    }
                };
                let mut done = vec![false; session.parts.len()];
                for i in parts_done {
                    if let Some(d) = done.get_mut(*i) {
                        *d = true;
                    }
                }
                let observer = Persist {
                    engine: self,
                    item,
                    folder_id,
                    requested_at: *requested_at,
                    state: Mutex::new((session.clone(), parts_done.clone())),
                };
                let path = self.local_path(item);
                // The claim note on our placeholder beats while parts go
                // out: other workstations see this upload is alive.
                let placeholder = session.file_id.clone();
                let file = crate::takeover::while_claimed(
                    &self.client,
                    &placeholder,
                    (&self.config.workstation, self.instance()),
                    self.config.sign_of_life_every,
                    self.client
                        .resume_upload(session, done, &path, &self.config.upload, &observer),
                )
                .await;
                let file = match file {
                    Ok(file) => file,
                    // Reading the render failed (after the part's own
                    // retries): an unmounted or unreachable filespace waits
                    // without spending an attempt, a file gone or changed
                    // is told as such; else a transient read fault is
                    // retried later, the parts already stored kept.
                    Err(e @ FrameioError::LocalFile { .. }) => {
                        self.check_local(item).await?;
                        return Err(StepError::Frameio(e));
                    }
                    Err(e) => return Err(placeholder_gone(e)),
                };
                Status::Verifying {
                    folder_id: folder_id.clone(),
                    file_id: file.id,
                }
            }
            Status::Deferring {
                folder_id,
                file_id,
                beat,
                seen_at,
                next_check_at,
                ..
            } => {
                if *next_check_at > now_ms() {
                    return Ok(None);
                }
                self.look_at_twin(item, folder_id, file_id, Some((beat.clone(), *seen_at)))
                    .await?
            }
            Status::Verifying { folder_id, file_id } => {
                // Still beating: until the team is told, the file is ours
                // to finish (see `takeover`: a survivor finishes a
                // complete file whose note went silent).
                let file = crate::takeover::while_claimed(
                    &self.client,
                    file_id,
                    (&self.config.workstation, self.instance()),
                    self.config.sign_of_life_every,
                    self.client.wait_for_upload(file_id, &self.config.upload),
                )
                .await
                .map_err(placeholder_gone)?;
                // The render must not have changed while it was sent.
                if let Err(e) = self.check_local(item).await {
                    self.delete_quietly(file_id).await;
                    return Err(e);
                }
                // Stacking also tells a re-render from a new version, so it
                // runs (without stacking) when stacking is off.
                Status::Stacking {
                    folder_id: folder_id.clone(),
                    file_id: file.id,
                    view_url: file.view_url,
                }
            }
            Status::Stacking {
                folder_id,
                file_id,
                view_url,
            } => {
                let (stacked_onto, rerender) = self.stack(item, folder_id, file_id).await?;
                Status::Notifying {
                    file_id: file_id.clone(),
                    view_url: view_url.clone(),
                    stacked_onto,
                    rerender,
                }
            }
            Status::Notifying {
                file_id,
                view_url,
                stacked_onto,
                rerender,
            } => {
                // Written to the outbox (once, however often this step is
                // replayed) before the item is done: the notice survives
                // any crash, and sending it never holds the upload up.
                self.announce(item, view_url.clone(), stacked_onto.clone(), *rerender)?;
                // With no team channel, told now: the claim notes have done
                // their work. With one, once the message is sent (the
                // service's durable release list): a workstation that dies
                // with the notice still in its outbox leaves the note, and
                // a survivor tells the team.
                if !self.config.team_notices {
                    crate::takeover::release_claim(&self.client, file_id).await?;
                }
                Status::Done {
                    file_id: file_id.clone(),
                    view_url: view_url.clone(),
                }
            }
            Status::WaitingForStability
            | Status::Done { .. }
            | Status::AlreadyInFrameio { .. }
            | Status::Held { .. }
            | Status::Cancelled { .. } => return Ok(None),
        }))
    }

    /// Among the files of this name and size in the folder, the one created
    /// first (then the smallest id) keeps the upload. Returns it when it is
    /// not ours.
    ///
    /// When resuming after a crash (`orphans_since` > 0), an incomplete twin
    /// created since we first requested a placeholder (less a margin for
    /// clock skew) is taken for our own, orphaned between Frame.io creating
    /// it and the queue recording it: it is deleted. Were it in fact another
    /// workstation's, that one finds its placeholder gone, starts its item
    /// over and then finds ours.
    async fn earlier_twin(
        &self,
        folder_id: &str,
        item: &Item,
        ours: &UploadSession,
        orphans_since: i64,
    ) -> Result<Option<String>, StepError> {
        const SKEW_MS: i64 = 5 * 60 * 1000;
        let earlier = self.queue.earlier_renders(&item.rel_path, item.id)?;
        let mut twins = Vec::new();
        for f in self.client.files_in_folder(folder_id).await? {
            if f.asset.id == ours.file_id {
                self.check_clocks(item, &f);
                twins.push(f);
                continue;
            }
            if f.asset.name != item.file_name
                || f.asset.file_size != Some(item.size)
                || !self.may_be_this_render(item, &f, &earlier)
            {
                continue;
            }
            let incomplete = f.asset.status.as_deref() == Some("created");
            let created = f.asset.created_at.as_deref().and_then(rfc3339_ms);
            if incomplete
                && orphans_since > 0
                && created.is_some_and(|c| c >= orphans_since - SKEW_MS)
            {
                tracing::info!(file = %item.file_name, orphan = %f.asset.id, "deleting a placeholder orphaned by an earlier crash");
                self.delete_quietly(&f.asset.id).await;
                continue;
            }
            twins.push(f);
        }
        let first = twins
            .iter()
            .min_by_key(|f| seniority(f.asset.created_at.as_deref(), &f.asset.id));
        Ok(first
            .filter(|f| f.asset.id != ours.file_id)
            .map(|f| f.asset.id.clone()))
    }

    /// Whether a Frame.io file of this item's name and size can be this very
    /// render rather than an earlier render of the same name (a fix
    /// re-rendered in place, at the same size).
    ///
    /// - A file this workstation recorded for another size or mtime of the
    ///   same path is an earlier render, whatever its dates.
    /// - An upload of a render can only begin after the render was last
    ///   modified (the readiness window passes in between), so a file
    ///   Frame.io created before the local mtime, less
    ///   [`EngineConfig::clock_tolerance`], is an earlier render.
    ///
    /// Assumed: workstation clocks (which set the filespace's mtimes) and
    /// Frame.io's clock (`created_at`) agree within the tolerance; a writer
    /// whose clock runs ahead by more than the readiness window plus the
    /// tolerance would make a second workstation upload an untouched file
    /// again (a duplicate, never a loss). [`Engine::check_clocks`] warns
    /// when it sees that. A file without a readable `created_at` may be
    /// this render (the older rule: name and size).
    ///
    /// [`EngineConfig::clock_tolerance`]: crate::EngineConfig::clock_tolerance
    fn may_be_this_render(&self, item: &Item, f: &FolderFile, earlier: &[String]) -> bool {
        if earlier.contains(&f.asset.id) {
            return false;
        }
        match f.asset.created_at.as_deref().and_then(rfc3339_ms) {
            Some(created) => created >= item.mtime_ns / 1_000_000 - self.tolerance_ms(),
            None => true,
        }
    }

    fn tolerance_ms(&self) -> i64 {
        i64::try_from(self.config.clock_tolerance.as_millis()).unwrap_or(i64::MAX)
    }

    /// Our own new placeholder predates the render's mtime beyond the
    /// tolerance: this workstation's clock (or the one that wrote the file)
    /// is ahead of Frame.io's, and the re-render rule cannot be trusted.
    fn check_clocks(&self, item: &Item, ours: &FolderFile) {
        let Some(created) = ours.asset.created_at.as_deref().and_then(rfc3339_ms) else {
            return;
        };
        let ahead_ms = item.mtime_ns / 1_000_000 - created;
        if ahead_ms > self.tolerance_ms() {
            tracing::warn!(
                file = %item.file_name,
                ahead_s = ahead_ms / 1000,
                "the render's modification time is later than Frame.io's clock: set this \
                 workstation's (and the renderer's) clock by NTP, or workstations may \
                 upload an untouched render twice"
            );
        }
    }

    /// Stacks the new file onto what came before it in the shot folder:
    /// the earlier copy of the same name when this is a re-render (the
    /// newest one created before ours), else the highest earlier version of
    /// the shot. Returns that file's name and whether this is a re-render.
    /// Already stacked, or stacking turned off: nothing is moved.
    async fn stack(
        &self,
        item: &Item,
        folder_id: &str,
        file_id: &str,
    ) -> Result<(Option<String>, bool), StepError> {
        let Some(shot) = &item.shot else {
            return Ok((None, false));
        };
        let files = match self.client.files_in_folder(folder_id).await {
            Ok(files) => files,
            // The shot folder was folded into its twin since the upload
            // began; our file moved with its contents: stack where it is.
            Err(FrameioError::NotFound(_)) => {
                let Some(parent) = self.client.file(file_id).await?.parent_id else {
                    return Ok((None, false));
                };
                match self.client.files_in_folder(&parent).await {
                    Ok(files) => files,
                    Err(FrameioError::NotFound(_)) => {
                        tracing::info!(file = %item.file_name, "not stacked: the file is no longer in a folder of its own");
                        return Ok((None, false));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        let ours = files.iter().find(|f| f.asset.id == file_id);
        let ours_stacked = ours.is_some_and(|f| f.stack_id.is_some());
        let our_seniority = ours.map(|f| seniority(f.asset.created_at.as_deref(), &f.asset.id));
        // A re-render: the same name already there, created before ours.
        let earlier_copy = files
            .iter()
            .filter(|f| f.asset.id != file_id && f.asset.name == item.file_name)
            .filter(|f| {
                our_seniority
                    .as_ref()
                    .is_none_or(|o| seniority(f.asset.created_at.as_deref(), &f.asset.id) < *o)
            })
            .max_by_key(|f| seniority(f.asset.created_at.as_deref(), &f.asset.id));
        let rerender = earlier_copy.is_some();
        let our_version = version_number(&shot.version);
        let previous = earlier_copy.cloned().or_else(|| {
            files
                .iter()
                .filter(|f| f.asset.id != file_id)
                .filter_map(|f| match self.nomenclature.classify(&f.asset.name) {
                    Classification::Parsed(p) if p.scene == shot.scene && p.shot == shot.shot => {
                        let v = version_number(&p.version);
                        (v < our_version).then_some((v, f))
                    }
                    _ => None,
                })
                .max_by_key(|(v, _)| *v)
                .map(|(_, f)| f.clone())
        });
        let Some(previous) = previous else {
            return Ok((None, false));
        };
        if !self.config.stack_versions {
            return Ok((None, rerender));
        }
        if !ours_stacked {
            self.client
                .stack_versions(folder_id, &previous, file_id)
                .await?;
            if rerender {
                tracing::info!(file = %item.file_name, "re-render stacked on top of the earlier copy");
            } else {
                tracing::info!(file = %item.file_name, onto = %previous.asset.name, "stacked onto the previous version");
            }
        }
        Ok((Some(previous.asset.name), rerender))
    }

    fn announce(
        &self,
        item: &Item,
        view_url: Option<String>,
        stacked_onto: Option<String>,
        rerender: bool,
    ) -> Result<(), StepError> {
        let Some(shot) = &item.shot else {
            return Ok(());
        };
        let folder_path = self.folder_path(shot).join("/");
        let frameio_path = format!("{folder_path}/{}", item.file_name);
        let previous_version =
            stacked_onto
                .as_deref()
                .and_then(|name| match self.nomenclature.classify(name) {
                    Classification::Parsed(p) => Some(p.version),
                    _ => None,
                });
        let notice = Notice::Uploaded(Upload {
            file_name: item.file_name.clone(),
            scene: shot.scene.clone(),
            shot: shot.shot.clone(),
            version: shot.version.clone(),
            size_bytes: item.size,
            frameio_path: folder_path,
            view_url: view_url.clone(),
            workstation: self.config.workstation.clone(),
            uploaded_at: now_ms() / 1000,
            previous_version,
            rerender,
        });
        self.notify(&format!("uploaded:{}", item.id), &notice)?;
        self.control.publish(Event::Uploaded {
            id: item.id,
            file_name: item.file_name.clone(),
            scene: shot.scene.clone(),
            shot: shot.shot.clone(),
            version: shot.version.clone(),
            frameio_path,
            view_url,
            stacked_onto,
            rerender,
        });
        Ok(())
    }

    /// `SCENES/<scene>/<shot>` (the structure root is a setting, maybe empty).
    fn folder_path<'a>(&'a self, shot: &'a ShotRef) -> Vec<&'a str> {
        let root = self.nomenclature.structure_root();
        let mut path = Vec::with_capacity(3);
        if !root.is_empty() {
            path.push(root);
        }
        path.extend([shot.scene.as_str(), shot.shot.as_str()]);
        path
    }

    fn local_path(&self, item: &Item) -> PathBuf {
        item.local_path(&self.config.watch_root)
    }

    /// The local file is still the one recorded (size and mtime).
    async fn check_local(&self, item: &Item) -> Result<(), StepError> {
        let root = item.source_root(&self.config.watch_root);
        if tokio::fs::metadata(&root).await.is_err() {
            return Err(StepError::RootOffline(format!(
                "the filespace at {} is offline",
                root.display()
            )));
        }
        let path = self.local_path(item);
        match tokio::fs::metadata(&path).await {
            Ok(m) if m.len() == item.size && mtime_ns(&m) == Some(item.mtime_ns) => Ok(()),
            Ok(_) => Err(StepError::LocalChanged(
                "the file changed; its new version is queued separately".into(),
            )),
            Err(e) => Err(StepError::LocalChanged(format!(
                "the file is no longer in BY_SHOT ({e})"
            ))),
        }
    }

    /// A 404 for the shot folder: the remembered path is forgotten (it was
    /// folded into the folder of its name created first, or deleted by
    /// hand) and the item starts over, walking the path afresh.
    fn folder_gone(&self, item: &Item, error: FrameioError) -> StepError {
        match (error, &item.shot) {
            (FrameioError::NotFound(_), Some(shot)) => {
                let path = self.folder_path(shot);
                self.client.forget_path(
                    &Folders(&self.queue),
                    &self.config.project_root_folder_id,
                    &path,
                );
                StepError::StartOver("the shot folder is gone from Frame.io")
            }
            (e, _) => StepError::Frameio(e),
        }
    }

    /// The render this item was sending changed or went away, so the item
    /// is cancelled (new content comes as an item of its own): a
    /// placeholder it made can never be completed and would stay in
    /// Frame.io, incomplete, beside the real copy. Deleted here: the one its
    /// session names (as last written: an expiry restart makes a new one),
    /// and, for an upload that failed before (a failed item keeps no
    /// session), an incomplete file of this name and the old size carrying
    /// this PostFlow's claim note. Found by the full chaos soak (a render
    /// rewritten while its upload links expired left such a stray).
    async fn withdraw_placeholders(&self, id: i64, item: &Item) {
        if let Ok(Some(current)) = self.queue.get(id) {
            if let Status::Uploading {
                session: Some(session),
                ..
            } = &current.status
            {
                self.delete_quietly(&session.file_id).await;
            }
        }
        let Some(shot) = &item.shot else { return };
        let Some(folder_id) = self.client.known_path(
            &Folders(&self.queue),
            &self.config.project_root_folder_id,
            &self.folder_path(shot),
        ) else {
            return;
        };
        let Ok(files) = self.client.files_in_folder(&folder_id).await else {
            return;
        };
        for f in files.iter().filter(|f| {
            f.asset.name == item.file_name
                && f.asset.file_size == Some(item.size)
                && f.asset.status.as_deref() == Some("created")
        }) {
            if self.is_claimed_by_us(&f.asset.id).await {
                tracing::info!(file = %item.file_name, "withdrawing the incomplete upload of a render that changed");
                self.delete_quietly(&f.asset.id).await;
            }
        }
    }

    async fn delete_quietly(&self, file_id: &str) {
        match self.client.delete_file(file_id).await {
            Ok(()) | Err(FrameioError::NotFound(_)) => {}
            Err(e) => tracing::warn!(file_id, "cannot delete a placeholder: {e}"),
        }
    }

    /// Records a failure as the error asks: wait (offline), retry later,
    /// or stop for a person.
    fn fail(&self, item: &Item, error: StepError) -> Outcome {
        let (reason, disposition, error_kind) = match error {
            StepError::RootOffline(why) => return Outcome::Offline(why),
            StepError::StartOver(why) => {
                tracing::info!(file = %item.file_name, "{why}; starting the item over");
                let _ = self
                    .queue
                    .transition(item.id, item.status.kind(), Status::Queued);
                self.publish_status(item.id, &item.rel_path, StatusKind::Queued, None);
                return Outcome::Requeued;
            }
            StepError::Queue(e) => {
                tracing::error!(id = item.id, "queue error: {e}");
                return Outcome::Nothing;
            }
            StepError::LocalChanged(why) => {
                let _ = self.queue.transition(
                    item.id,
                    item.status.kind(),
                    Status::Cancelled {
                        reason: why.clone(),
                    },
                );
                self.publish_status(item.id, &item.rel_path, StatusKind::Cancelled, Some(why));
                return Outcome::Cancelled;
            }
            StepError::Frameio(FrameioError::Network(why)) => return Outcome::Offline(why),
            StepError::Frameio(e) => (e.to_string(), e.disposition(), Some(e)),
        };
        if disposition == Disposition::NeedsUser {
            // Nothing queued is lost: the item stays where it is, and the
            // engine stops starting work until a person acts.
            tracing::error!("{reason}");
            let _ = self.pause();
            let cause = match &error_kind {
                Some(FrameioError::Forbidden(_)) => Cause::FrameioAccess,
                _ => Cause::SignInExpired,
            };
            self.notice_needs_user(cause, &reason);
            self.control.publish(Event::NeedsUser {
                reason: reason.clone(),
            });
            return Outcome::NeedsUser(reason);
        }
        let attempts = item.attempts + 1;
        let needs_action =
            disposition == Disposition::Permanent || attempts >= self.config.max_attempts;
        let next_retry_at =
            (!needs_action).then(|| now_ms() + self.backoff(attempts).as_millis() as i64);
        tracing::warn!(file = %item.file_name, attempts, needs_action, "upload step failed: {reason}");
        let status = Status::Failed {
            reason: reason.clone(),
            next_retry_at,
            needs_action,
        };
        if let Err(e) = self.queue.transition(item.id, item.status.kind(), status) {
            tracing::error!(id = item.id, "cannot record the failure: {e}");
        }
        if needs_action {
            let notice = self.action(
                Cause::KeepsFailing { attempts },
                Some(&item.file_name),
                &reason,
            );
            self.notify_quietly(&format!("needs_action:{}", item.id), &notice);
        }
        self.publish_status(item.id, &item.rel_path, StatusKind::Failed, Some(reason));
        Outcome::Failed { needs_action }
    }

    /// Exponential from `retry_base`, with ±25 % jitter, capped at an hour.
    fn backoff(&self, attempts: u32) -> Duration {
        let base = self
            .config
            .retry_base
            .saturating_mul(1 << attempts.saturating_sub(1).min(16));
        let capped = base.min(Duration::from_secs(3600));
        capped.mul_f64(rand::rng().random_range(0.75..1.25))
    }
}

/// Persists upload progress as the client reports it.
struct Persist<'a> {
    engine: &'a Engine,
    item: &'a Item,
    folder_id: &'a str,
    requested_at: i64,
    state: Mutex<(UploadSession, Vec<usize>)>,
}

impl Persist<'_> {
    fn write(&self, bytes_sent: u64) {
        let (session, parts) = self.state.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let status = Status::Uploading {
            folder_id: self.folder_id.to_string(),
            requested_at: self.requested_at,
            session: Some(session),
            parts_done: parts,
            bytes_sent,
        };
        if let Err(e) = self
            .engine
            .queue
            .transition(self.item.id, StatusKind::Uploading, status)
        {
            tracing::error!(id = self.item.id, "cannot record upload progress: {e}");
        }
    }
}

impl UploadObserver for Persist<'_> {
    fn session_created(&self, session: &UploadSession) {
        // The links expired and the upload restarted with a new placeholder.
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = (session.clone(), Vec::new());
        self.write(0);
    }

    fn part_done(&self, _session: &UploadSession, index: usize) {
        let bytes = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.1.push(index);
            state.1.iter().map(|i| state.0.parts[*i].size).sum()
        };
        // Written as each part is stored: a restart sends only the rest.
        self.write(bytes);
    }

    fn progress(&self, progress: Progress) {
        self.engine.control.publish(Event::UploadProgress {
            id: self.item.id,
            bytes_sent: progress.bytes_sent,
            total_bytes: progress.total_bytes,
        });
    }
}

/// A 404 for our own placeholder (from the API or from storage) means it
/// was deleted under us.
fn placeholder_gone(error: FrameioError) -> StepError {
    match error {
        FrameioError::NotFound(_) | FrameioError::Storage { status: 404, .. } => {
            StepError::StartOver("the placeholder is gone from Frame.io")
        }
        other => StepError::Frameio(other),
    }
}

fn rfc3339_ms(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

fn version_number(version: &str) -> u64 {
    version.trim_start_matches(['V', 'v']).parse().unwrap_or(0)
}

/// Modification time in nanoseconds since the epoch, as the watcher records it.
pub fn mtime_ns(metadata: &std::fs::Metadata) -> Option<i64> {
    let modified = metadata.modified().ok()?;
    let d = modified.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_nanos()).ok()
}
