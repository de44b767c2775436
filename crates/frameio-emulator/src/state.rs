//! The emulator's in-memory world: the seeded user, account, workspace and
//! project, the asset tree (folders, files, version stacks), the tokens and
//! sign-in codes, the rate-limit windows and the counters.
//!
//! Everything sits behind one mutex ([`Shared::lock`]), held only for short,
//! synchronous steps and never across an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::checksum::{checksum_of_digests, part_sizes};
use crate::config::{EmulatorConfig, RateLimit, RouteClass};
use crate::faults::FaultState;
use crate::stats::Stats;
use crate::util::{new_id, random_token};

/// Files up to this size keep their bytes in memory (see `FileInfo::bytes`).
pub(crate) const KEEP_BYTES_LIMIT: u64 = 16 * 1024 * 1024;

/// How long an authorization code can be exchanged.
const CODE_TTL: Duration = Duration::from_secs(600);

/// State shared by the server tasks and every handle.
pub(crate) struct Shared {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base_url: String,
    /// Key of the part URLs' signatures.
    pub(crate) url_secret: [u8; 32],
    /// The seeded ids.
    pub(crate) seed: Seed,
    pub(crate) faults: FaultState,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(base_url: String, config: EmulatorConfig) -> Shared {
        let now = SystemTime::now();
        let seed = Seed {
            user_id: new_id(),
            account_id: new_id(),
            workspace_id: new_id(),
            project_id: new_id(),
            root_folder_id: new_id(),
            created_at: now,
        };
        let mut url_secret = [0u8; 32];
        url_secret[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        url_secret[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        let state = State::new(config, &seed);
        Shared {
            base_url,
            url_secret,
            seed,
            faults: FaultState::default(),
            state: Mutex::new(state),
        }
    }

    /// The state. A panic while holding the lock cannot leave it half
    /// updated in a way that matters to an emulator, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `view_url` of an asset or project.
    pub(crate) fn view_url(&self, id: &str) -> String {
        format!("{}/view/{id}", self.base_url)
    }
}

/// Ids of the seeded user, account, workspace, project and root folder.
pub(crate) struct Seed {
    pub(crate) user_id: String,
    pub(crate) account_id: String,
    pub(crate) workspace_id: String,
    pub(crate) project_id: String,
    pub(crate) root_folder_id: String,
    pub(crate) created_at: SystemTime,
}

/// Seeded names.
pub(crate) const USER_NAME: &str = "Emulated User";
pub(crate) const USER_EMAIL: &str = "emulated.user@postflow.invalid";
pub(crate) const ACCOUNT_NAME: &str = "PostFlow Emulator";
pub(crate) const WORKSPACE_NAME: &str = "Emulated Workspace";
pub(crate) const PROJECT_NAME: &str = "Emulated Project";
pub(crate) const ROOT_FOLDER_NAME: &str = "root";

/// One asset of the project: a folder, a file or a version stack.
#[derive(Debug)]
pub(crate) struct Asset {
    pub(crate) id: String,
    pub(crate) name: String,
    /// `None` only for the project's root folder.
    pub(crate) parent_id: Option<String>,
    pub(crate) created_at: SystemTime,
    pub(crate) updated_at: SystemTime,
    /// Position among its parent's children (assigned when placed there).
    seq: u64,
    pub(crate) body: AssetBody,
}

/// What kind of asset, with the kind's own data.
#[derive(Debug)]
pub(crate) enum AssetBody {
    Folder,
    VersionStack,
    File(FileData),
}

/// A file created for local upload.
#[derive(Debug)]
pub(crate) struct FileData {
    pub(crate) file_size: u64,
    pub(crate) media_type: String,
    pub(crate) parts: Vec<PartSlot>,
    /// Whether stored parts keep their bytes (small files only).
    pub(crate) keep_bytes: bool,
    /// When the first part was stored.
    pub(crate) uploaded_at: Option<SystemTime>,
    /// When the last missing part was stored.
    pub(crate) completed_at: Option<SystemTime>,
    /// Set once every part is stored; recomputed when a part is replaced.
    pub(crate) checksum: Option<String>,
    /// Forced by `Faults::fail_upload`.
    pub(crate) upload_failed: bool,
    /// Set by `Faults::expire_upload_urls`.
    pub(crate) urls_expired: bool,
    /// Deleted files are kept for inspection but are gone from the API.
    pub(crate) deleted: bool,
}

impl FileData {
    pub(crate) fn complete(&self) -> bool {
        self.parts.iter().all(|p| p.stored.is_some())
    }
}

/// One part of a file: its size, what was stored, how often.
#[derive(Debug)]
pub(crate) struct PartSlot {
    pub(crate) size: u64,
    pub(crate) stored: Option<StoredPart>,
    /// Successful PUTs of this part.
    pub(crate) put_count: u32,
}

/// A stored part: its SHA-256 and, for small files, its bytes.
#[derive(Debug)]
pub(crate) struct StoredPart {
    pub(crate) sha256: [u8; 32],
    pub(crate) bytes: Option<Vec<u8>>,
}

/// Why a part could not be stored.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StoreError {
    /// The file is gone (deleted) or the part index is out of range.
    NoSuchUpload,
}

/// An authorization code waiting to be exchanged.
#[derive(Debug)]
pub(crate) struct AuthCode {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    /// The PKCE S256 challenge, when one was sent.
    pub(crate) code_challenge: Option<String>,
    pub(crate) scope: String,
    pub(crate) expires_at: Instant,
    pub(crate) used: bool,
}

#[derive(Debug)]
struct AccessToken {
    expires_at: Instant,
    revoked: bool,
}

/// A refresh token and what it was granted for.
#[derive(Debug, Clone)]
pub(crate) struct RefreshToken {
    pub(crate) client_id: String,
    pub(crate) scope: String,
    revoked: bool,
}

/// The verdict on a request's bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Valid,
    Missing,
    Unknown,
    Expired,
    Revoked,
}

impl TokenCheck {
    /// The 401 answer's detail.
    pub(crate) fn detail(self) -> &'static str {
        match self {
            TokenCheck::Valid => "OK",
            TokenCheck::Missing => "Missing bearer token: send Authorization: Bearer <token>",
            TokenCheck::Unknown => "Invalid access token",
            TokenCheck::Expired => "Access token expired",
            TokenCheck::Revoked => "Access token revoked",
        }
    }
}

/// Tokens, codes and registered IMS clients.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    /// client id -> client secret (`None` for public PKCE clients).
    pub(crate) clients: HashMap<String, Option<String>>,
    pub(crate) codes: HashMap<String, AuthCode>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    /// Whether user grants come with a refresh token.
    pub(crate) issue_refresh_tokens: bool,
}

impl AuthState {
    pub(crate) fn issue_access(&mut self, ttl: Duration) -> String {
        let token = random_token("emu_at_");
        self.access.insert(
            token.clone(),
            AccessToken {
                expires_at: Instant::now() + ttl,
                revoked: false,
            },
        );
        token
    }

    pub(crate) fn issue_refresh(&mut self, client_id: &str, scope: &str) -> String {
        let token = random_token("emu_rt_");
        self.refresh.insert(
            token.clone(),
            RefreshToken {
                client_id: client_id.to_owned(),
                scope: scope.to_owned(),
                revoked: false,
            },
        );
        token
    }

    pub(crate) fn issue_code(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        code_challenge: Option<String>,
        scope: &str,
    ) -> String {
        let code = random_token("emu_code_");
        self.codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                code_challenge,
                scope: scope.to_owned(),
                expires_at: Instant::now() + CODE_TTL,
                used: false,
            },
        );
        code
    }

    pub(crate) fn check(&self, token: Option<&str>) -> TokenCheck {
        let Some(token) = token else {
            return TokenCheck::Missing;
        };
        match self.access.get(token) {
            None => TokenCheck::Unknown,
            Some(t) if t.revoked => TokenCheck::Revoked,
            Some(t) if Instant::now() >= t.expires_at => TokenCheck::Expired,
            Some(_) => TokenCheck::Valid,
        }
    }

    /// Consumes a refresh token (rotation: it is invalid afterwards).
    pub(crate) fn redeem_refresh(&mut self, token: &str) -> Option<RefreshToken> {
        let entry = self.refresh.get_mut(token)?;
        if entry.revoked {
            return None;
        }
        entry.revoked = true;
        Some(entry.clone())
    }

    /// Revokes an access or refresh token; false when it is unknown.
    pub(crate) fn revoke(&mut self, token: &str) -> bool {
        if let Some(t) = self.access.get_mut(token) {
            t.revoked = true;
            true
        } else if let Some(t) = self.refresh.get_mut(token) {
            t.revoked = true;
            true
        } else {
            false
        }
    }

    pub(crate) fn revoke_all(&mut self) {
        self.access.values_mut().for_each(|t| t.revoked = true);
        self.refresh.values_mut().for_each(|t| t.revoked = true);
    }

    pub(crate) fn expire_all_access(&mut self) {
        let now = Instant::now();
        self.access.values_mut().for_each(|t| t.expires_at = now);
    }
}

/// A fixed rate-limit window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    used: u32,
}

/// What the rate limiter decided for one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateDecision {
    pub(crate) limit: RateLimit,
    pub(crate) remaining: u32,
    pub(crate) allowed: bool,
}

/// The mutable world.
pub(crate) struct State {
    pub(crate) cfg: EmulatorConfig,
    pub(crate) assets: HashMap<String, Asset>,
    /// container id -> position -> child id, for ordered, stable listings.
    children: BTreeMap<String, BTreeMap<u64, String>>,
    next_seq: u64,
    pub(crate) auth: AuthState,
    windows: HashMap<(String, RouteClass), Window>,
    pub(crate) stats: Stats,
    /// The workspace's projects, the seeded one first.
    pub(crate) projects: Vec<ProjectRec>,
    /// Comments by id; each is on one file.
    pub(crate) comments: HashMap<String, CommentRec>,
}

/// A comment on a file (text only: no annotation, anchor or attachment).
#[derive(Debug, Clone)]
pub(crate) struct CommentRec {
    pub(crate) id: String,
    pub(crate) file_id: String,
    pub(crate) text: String,
    pub(crate) created_at: SystemTime,
    pub(crate) updated_at: SystemTime,
    /// Creation order, for stable listings.
    pub(crate) seq: u64,
}

/// A project of the one workspace.
#[derive(Debug, Clone)]
pub(crate) struct ProjectRec {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) root_folder_id: String,
    pub(crate) created_at: SystemTime,
}

impl State {
    fn new(cfg: EmulatorConfig, seed: &Seed) -> State {
        let mut state = State {
            cfg,
            assets: HashMap::new(),
            children: BTreeMap::new(),
            next_seq: 1,
            auth: AuthState {
                issue_refresh_tokens: true,
                ..AuthState::default()
            },
            windows: HashMap::new(),
            stats: Stats::default(),
            projects: vec![ProjectRec {
                id: seed.project_id.clone(),
                name: PROJECT_NAME.to_owned(),
                root_folder_id: seed.root_folder_id.clone(),
                created_at: seed.created_at,
            }],
            comments: HashMap::new(),
        };
        state.assets.insert(
            seed.root_folder_id.clone(),
            Asset {
                id: seed.root_folder_id.clone(),
                name: ROOT_FOLDER_NAME.to_owned(),
                parent_id: None,
                created_at: seed.created_at,
                updated_at: seed.created_at,
                seq: 0,
                body: AssetBody::Folder,
            },
        );
        state
    }

    // ----- projects -----

    pub(crate) fn project(&self, id: &str) -> Option<&ProjectRec> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// Adds a project with an empty root folder.
    pub(crate) fn add_project(&mut self, name: &str) -> ProjectRec {
        let now = SystemTime::now();
        let project = ProjectRec {
            id: new_id(),
            name: name.to_owned(),
            root_folder_id: new_id(),
            created_at: now,
        };
        self.assets.insert(
            project.root_folder_id.clone(),
            Asset {
                id: project.root_folder_id.clone(),
                name: ROOT_FOLDER_NAME.to_owned(),
                parent_id: None,
                created_at: now,
                updated_at: now,
                seq: 0,
                body: AssetBody::Folder,
            },
        );
        self.projects.push(project.clone());
        project
    }

    /// The project an asset belongs to (through its root folder).
    pub(crate) fn project_of(&self, asset: &Asset) -> Option<&ProjectRec> {
        let mut current = asset;
        while let Some(parent) = current.parent_id.as_deref() {
            current = self.assets.get(parent)?;
        }
        self.projects
            .iter()
            .find(|p| p.root_folder_id == current.id)
    }

    // ----- assets -----

    /// A live asset: any folder or stack, or a file that is not deleted.
    pub(crate) fn asset(&self, id: &str) -> Option<&Asset> {
        self.assets.get(id).filter(|a| match &a.body {
            AssetBody::File(f) => !f.deleted,
            _ => true,
        })
    }

    pub(crate) fn folder(&self, id: &str) -> Option<&Asset> {
        self.asset(id)
            .filter(|a| matches!(a.body, AssetBody::Folder))
    }

    pub(crate) fn stack(&self, id: &str) -> Option<&Asset> {
        self.asset(id)
            .filter(|a| matches!(a.body, AssetBody::VersionStack))
    }

    pub(crate) fn file(&self, id: &str) -> Option<(&Asset, &FileData)> {
        let asset = self.asset(id)?;
        match &asset.body {
            AssetBody::File(f) => Some((asset, f)),
            _ => None,
        }
    }

    /// The live children of a folder or stack, in listing order, with their
    /// positions.
    pub(crate) fn children(&self, container: &str) -> impl Iterator<Item = (u64, &Asset)> {
        self.children
            .get(container)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(|(&seq, id)| self.asset(id).map(|a| (seq, a)))
    }

    /// The newest file of a version stack (its head version).
    pub(crate) fn stack_head(&self, stack_id: &str) -> Option<&Asset> {
        self.children(stack_id).last().map(|(_, a)| a)
    }

    fn attach(&mut self, id: &str, parent: &str) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(asset) = self.assets.get_mut(id) {
            asset.parent_id = Some(parent.to_owned());
            asset.seq = seq;
        }
        self.children
            .entry(parent.to_owned())
            .or_default()
            .insert(seq, id.to_owned());
    }

    fn detach(&mut self, id: &str) -> Option<String> {
        let asset = self.assets.get(id)?;
        let parent = asset.parent_id.clone()?;
        let seq = asset.seq;
        if let Some(m) = self.children.get_mut(&parent) {
            m.remove(&seq);
        }
        Some(parent)
    }

    fn insert(&mut self, parent: &str, name: &str, body: AssetBody) -> String {
        let id = new_id();
        let now = SystemTime::now();
        self.assets.insert(
            id.clone(),
            Asset {
                id: id.clone(),
                name: name.to_owned(),
                parent_id: None,
                created_at: now,
                updated_at: now,
                seq: 0,
                body,
            },
        );
        self.attach(&id, parent);
        id
    }

    /// Creates a folder under `parent` (which must be a live folder).
    pub(crate) fn create_folder(&mut self, parent: &str, name: &str) -> Option<String> {
        self.folder(parent)?;
        Some(self.insert(parent, name, AssetBody::Folder))
    }

    /// Creates a file awaiting upload under the folder `parent`.
    pub(crate) fn create_file(
        &mut self,
        parent: &str,
        name: &str,
        file_size: u64,
    ) -> Option<String> {
        self.folder(parent)?;
        let parts = part_sizes(file_size, self.cfg.part_size)
            .into_iter()
            .map(|size| PartSlot {
                size,
                stored: None,
                put_count: 0,
            })
            .collect();
        let data = FileData {
            file_size,
            media_type: media_type_for(name).to_owned(),
            parts,
            keep_bytes: file_size <= KEEP_BYTES_LIMIT,
            uploaded_at: None,
            completed_at: None,
            checksum: None,
            upload_failed: false,
            urls_expired: false,
            deleted: false,
        };
        Some(self.insert(parent, name, AssetBody::File(data)))
    }

    /// Stores one part of a file; completes the file when it was the last
    /// missing part.
    pub(crate) fn store_part(
        &mut self,
        file_id: &str,
        index: usize,
        sha256: [u8; 32],
        bytes: Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        self.store(file_id, index, sha256, bytes, true)
    }

    /// Stores `content` as the parts of a file, without counting PUTs (for
    /// seeding through the Rust API).
    pub(crate) fn seed_content(&mut self, file_id: &str, content: &[u8]) -> Result<(), StoreError> {
        let sizes: Vec<u64> = match self.file(file_id) {
            Some((_, f)) => f.parts.iter().map(|p| p.size).collect(),
            None => return Err(StoreError::NoSuchUpload),
        };
        if sizes.iter().sum::<u64>() != content.len() as u64 {
            return Err(StoreError::NoSuchUpload);
        }
        let mut rest = content;
        for (index, size) in sizes.into_iter().enumerate() {
            let (part, tail) = rest.split_at(size as usize);
            rest = tail;
            self.store(file_id, index, sha256(part), Some(part.to_vec()), false)?;
        }
        Ok(())
    }

    fn store(
        &mut self,
        file_id: &str,
        index: usize,
        sha256: [u8; 32],
        bytes: Option<Vec<u8>>,
        count_put: bool,
    ) -> Result<(), StoreError> {
        let now = SystemTime::now();
        let asset = self
            .assets
            .get_mut(file_id)
            .ok_or(StoreError::NoSuchUpload)?;
        let AssetBody::File(file) = &mut asset.body else {
            return Err(StoreError::NoSuchUpload);
        };
        if file.deleted {
            return Err(StoreError::NoSuchUpload);
        }
        let slot = file.parts.get_mut(index).ok_or(StoreError::NoSuchUpload)?;
        slot.stored = Some(StoredPart {
            sha256,
            bytes: bytes.filter(|_| file.keep_bytes),
        });
        if count_put {
            slot.put_count += 1;
        }
        file.uploaded_at.get_or_insert(now);
        if file.complete() {
            file.completed_at.get_or_insert(now);
            file.checksum = Some(checksum_of_digests(
                file.parts
                    .iter()
                    .filter_map(|p| p.stored.as_ref().map(|s| &s.sha256)),
            ));
        }
        asset.updated_at = now;
        Ok(())
    }

    // ----- comments -----

    /// A new comment on a live file; `None` when there is no such file.
    pub(crate) fn add_comment(&mut self, file_id: &str, text: &str) -> Option<CommentRec> {
        self.file(file_id)?;
        let now = SystemTime::now();
        let seq = self.next_seq;
        self.next_seq += 1;
        let comment = CommentRec {
            id: new_id(),
            file_id: file_id.to_owned(),
            text: text.to_owned(),
            created_at: now,
            updated_at: now,
            seq,
        };
        self.comments.insert(comment.id.clone(), comment.clone());
        Some(comment)
    }

    /// The comments on a file, oldest first.
    pub(crate) fn comments_on(&self, file_id: &str) -> Vec<&CommentRec> {
        let mut found: Vec<&CommentRec> = self
            .comments
            .values()
            .filter(|c| c.file_id == file_id)
            .collect();
        found.sort_by_key(|c| c.seq);
        found
    }

    /// Marks a file deleted and takes it out of its parent (its comments
    /// go with it).
    pub(crate) fn delete_file(&mut self, file_id: &str) -> bool {
        if self.file(file_id).is_none() {
            return false;
        }
        self.comments.retain(|_, c| c.file_id != file_id);
        let old_parent = self.detach(file_id);
        if let Some(asset) = self.assets.get_mut(file_id) {
            asset.updated_at = SystemTime::now();
            if let AssetBody::File(f) = &mut asset.body {
                f.deleted = true;
            }
        }
        if let Some(parent) = old_parent {
            self.refresh_stack(&parent);
        }
        true
    }

    /// Removes a folder (not the root) with everything in it; files are
    /// marked deleted.
    pub(crate) fn delete_folder(&mut self, id: &str) -> bool {
        match self.folder(id) {
            Some(folder) if folder.parent_id.is_some() => {}
            _ => return false,
        }
        self.detach(id);
        let mut pending = vec![id.to_owned()];
        while let Some(container) = pending.pop() {
            let children: Vec<String> = self
                .children
                .remove(&container)
                .map(|m| m.into_values().collect())
                .unwrap_or_default();
            pending.extend(children);
            match self.assets.get_mut(&container).map(|a| &mut a.body) {
                Some(AssetBody::File(f)) => f.deleted = true,
                Some(_) => {
                    self.assets.remove(&container);
                }
                None => {}
            }
        }
        true
    }

    /// Moves a live file into a folder or version stack (both must exist).
    pub(crate) fn move_file(&mut self, file_id: &str, new_parent: &str) {
        let old_parent = self.detach(file_id);
        self.attach(file_id, new_parent);
        if let Some(asset) = self.assets.get_mut(file_id) {
            asset.updated_at = SystemTime::now();
        }
        if let Some(old) = old_parent {
            self.refresh_stack(&old);
        }
        self.refresh_stack(new_parent);
    }

    /// Moves a folder or a version stack into the folder `new_parent`
    /// (both must exist; see [`State::is_within`] for folders).
    pub(crate) fn move_asset(&mut self, id: &str, new_parent: &str) {
        self.detach(id);
        self.attach(id, new_parent);
        if let Some(asset) = self.assets.get_mut(id) {
            asset.updated_at = SystemTime::now();
        }
    }

    /// Whether `id` is `ancestor` or lies somewhere inside it.
    pub(crate) fn is_within(&self, id: &str, ancestor: &str) -> bool {
        let mut current = Some(id);
        while let Some(at) = current {
            if at == ancestor {
                return true;
            }
            current = self.assets.get(at).and_then(|a| a.parent_id.as_deref());
        }
        false
    }

    /// Creates a version stack in `folder` holding `file_ids`, oldest first.
    pub(crate) fn create_stack(&mut self, folder: &str, file_ids: &[String]) -> String {
        let name = file_ids
            .last()
            .and_then(|id| self.asset(id))
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let stack_id = self.insert(folder, &name, AssetBody::VersionStack);
        for id in file_ids {
            self.move_file(id, &stack_id);
        }
        stack_id
    }

    /// After a stack's membership changed: takes the head's name, or
    /// removes the stack when it has no files left. No-op for folders.
    fn refresh_stack(&mut self, id: &str) {
        if self.stack(id).is_none() {
            return;
        }
        match self.stack_head(id).map(|h| h.name.clone()) {
            Some(name) => {
                if let Some(stack) = self.assets.get_mut(id) {
                    stack.name = name;
                    stack.updated_at = SystemTime::now();
                }
            }
            None => {
                self.detach(id);
                self.assets.remove(id);
                self.children.remove(id);
            }
        }
    }

    /// The folder reached from `root` by names, each of which must name
    /// exactly one folder among its siblings (compared case-insensitively,
    /// as PostFlow looks folders up). `Ok(None)` when a name is missing;
    /// `Err` with a readable line when a name is not unique: a lookup by
    /// name must never pick one of two silently.
    pub(crate) fn find_path(&self, root: &str, path: &[&str]) -> Result<Option<String>, String> {
        let Some(mut current) = self.folder(root).map(|f| f.id.clone()) else {
            return Ok(None);
        };
        for (depth, name) in path.iter().enumerate() {
            let wanted = name.to_lowercase();
            let mut matches = self
                .children(&current)
                .filter(|(_, a)| matches!(a.body, AssetBody::Folder))
                .filter(|(_, a)| a.name.to_lowercase() == wanted)
                .map(|(_, a)| a.id.clone());
            let Some(first) = matches.next() else {
                return Ok(None);
            };
            let more = matches.count();
            if more > 0 {
                return Err(format!(
                    "{} folders named {name:?} in /{}",
                    more + 1,
                    path[..depth].join("/")
                ));
            }
            current = first;
        }
        Ok(Some(current))
    }

    /// Every folder that holds two or more folders of one name (compared
    /// case-insensitively), anywhere under `root`: one line each, such as
    /// `/SCENES: 2 folders named "SC01"`.
    pub(crate) fn duplicate_folders(&self, root: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut pending = vec![(root.to_owned(), String::new())];
        while let Some((folder, at)) = pending.pop() {
            let mut by_name: BTreeMap<String, Vec<&Asset>> = BTreeMap::new();
            for (_, child) in self.children(&folder) {
                if matches!(child.body, AssetBody::Folder) {
                    by_name
                        .entry(child.name.to_lowercase())
                        .or_default()
                        .push(child);
                }
            }
            for same in by_name.values() {
                if same.len() > 1 {
                    found.push(format!(
                        "{}: {} folders named {:?}",
                        if at.is_empty() { "/" } else { &at },
                        same.len(),
                        same[0].name
                    ));
                }
                for child in same {
                    pending.push((child.id.clone(), format!("{at}/{}", child.name)));
                }
            }
        }
        found.sort();
        found
    }

    /// Sum of the sizes of completely uploaded files.
    pub(crate) fn storage_usage(&self) -> u64 {
        self.assets
            .values()
            .filter_map(|a| match &a.body {
                AssetBody::File(f) if !f.deleted && f.complete() => Some(f.file_size),
                _ => None,
            })
            .sum()
    }

    // ----- rate limits -----

    /// Counts a request against `token`'s window for `class`.
    pub(crate) fn rate_consume(&mut self, token: &str, class: RouteClass) -> RateDecision {
        let limit = self.cfg.rate_limits.get(class);
        let now = Instant::now();
        let window = self
            .windows
            .entry((token.to_owned(), class))
            .or_insert(Window {
                started: now,
                used: 0,
            });
        if now.duration_since(window.started) >= limit.window {
            *window = Window {
                started: now,
                used: 0,
            };
        }
        window.used = window.used.saturating_add(1);
        RateDecision {
            limit,
            remaining: limit.limit.saturating_sub(window.used),
            allowed: window.used <= limit.limit,
        }
    }

    /// The window of `token` for `class`, without counting a request.
    pub(crate) fn rate_peek(&self, token: Option<&str>, class: RouteClass) -> RateDecision {
        let limit = self.cfg.rate_limits.get(class);
        let used = token
            .and_then(|t| self.windows.get(&(t.to_owned(), class)))
            .filter(|w| w.started.elapsed() < limit.window)
            .map_or(0, |w| w.used);
        RateDecision {
            limit,
            remaining: limit.limit.saturating_sub(used),
            allowed: used < limit.limit,
        }
    }

    pub(crate) fn reset_rate_windows(&mut self) {
        self.windows.clear();
    }
}

/// The media type the emulator derives from a file name's extension.
pub(crate) fn media_type_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "mov" => "video/quicktime",
        "mp4" => "video/mp4",
        "mxf" => "application/mxf",
        _ => "application/octet-stream",
    }
}

/// The SHA-256 of `bytes`, as raw bytes.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> (Shared, String) {
        let shared = Shared::new("http://127.0.0.1:1".into(), EmulatorConfig::default());
        let root = shared.seed.root_folder_id.clone();
        (shared, root)
    }

    #[test]
    fn media_types_by_extension() {
        assert_eq!(media_type_for("A.MOV"), "video/quicktime");
        assert_eq!(media_type_for("a.mp4"), "video/mp4");
        assert_eq!(media_type_for("a.mxf"), "application/mxf");
        assert_eq!(media_type_for("a.wav"), "application/octet-stream");
        assert_eq!(media_type_for("noext"), "application/octet-stream");
    }

    #[test]
    fn stacks_take_the_head_name_and_vanish_when_empty() {
        let (shared, root) = world();
        let mut st = shared.lock();
        let a = st.create_file(&root, "v1.mov", 10).expect("file");
        let b = st.create_file(&root, "v2.mov", 10).expect("file");
        let stack = st.create_stack(&root, &[a.clone(), b.clone()]);
        assert_eq!(st.stack(&stack).expect("stack").name, "v2.mov");
        let listed: Vec<&str> = st.children(&root).map(|(_, a)| a.id.as_str()).collect();
        assert_eq!(listed, vec![stack.as_str()]);
        assert!(st.delete_file(&b));
        assert_eq!(st.stack(&stack).expect("stack").name, "v1.mov");
        st.move_file(&a, &root);
        assert!(st.stack(&stack).is_none(), "empty stack removed");
        let listed: Vec<&str> = st.children(&root).map(|(_, a)| a.id.as_str()).collect();
        assert_eq!(listed, vec![a.as_str()]);
    }

    #[test]
    fn parts_complete_a_file() {
        let (shared, root) = world();
        let mut st = shared.lock();
        st.cfg.part_size = 4;
        let id = st.create_file(&root, "x.bin", 6).expect("file");
        st.store_part(&id, 1, sha256(b"ef"), Some(b"ef".to_vec()))
            .expect("stored");
        assert!(st.file(&id).expect("file").1.checksum.is_none());
        st.store_part(&id, 0, sha256(b"abcd"), Some(b"abcd".to_vec()))
            .expect("stored");
        let (_, f) = st.file(&id).expect("file");
        assert_eq!(
            f.checksum.as_deref(),
            Some(crate::checksum::checksum_of_bytes(b"abcdef", &[4, 2]).as_str())
        );
        assert_eq!(
            st.store_part(&id, 2, sha256(b""), None),
            Err(StoreError::NoSuchUpload)
        );
    }

    #[test]
    fn fixed_windows() {
        let (shared, _) = world();
        let mut st = shared.lock();
        st.cfg.rate_limits =
            crate::RateLimits::unlimited().with("me", 2, Duration::from_millis(50));
        assert!(st.rate_consume("t", RouteClass::Me).allowed);
        let second = st.rate_consume("t", RouteClass::Me);
        assert!(second.allowed && second.remaining == 0);
        assert!(!st.rate_consume("t", RouteClass::Me).allowed);
        assert!(st.rate_consume("other-token", RouteClass::Me).allowed);
        assert!(st.rate_consume("t", RouteClass::Accounts).allowed);
        std::thread::sleep(Duration::from_millis(60));
        assert!(st.rate_consume("t", RouteClass::Me).allowed);
    }
}
