//! The [`Emulator`] handle: start, configure, seed, inspect, stop.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{EmulatorConfig, RateLimits};
use crate::faults::Faults;
use crate::server;
use crate::state::{AssetBody, Shared, State};
use crate::stats::Stats;

/// A running emulator. Cheap to clone (all clones share one server); the
/// server stops when [`Emulator::shutdown`] is called or the last clone is
/// dropped.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.inner.shared.base_url)
            .finish_non_exhaustive()
    }
}

/// What kind of asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetKind {
    File,
    Folder,
    VersionStack,
}

/// An asset as seen from the emulator's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetInfo {
    pub id: String,
    pub name: String,
    pub kind: AssetKind,
    /// `None` only for the project's root folder.
    pub parent_id: Option<String>,
}

/// A file and its upload, as seen from the emulator's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub id: String,
    pub name: String,
    /// A folder or version stack id.
    pub parent_id: Option<String>,
    pub file_size: u64,
    pub media_type: String,
    /// The part sizes handed out with the upload URLs.
    pub part_sizes: Vec<u64>,
    /// Which parts are stored.
    pub parts_received: Vec<bool>,
    /// Successful PUTs per part (2 or more: the part was re-sent).
    pub put_counts: Vec<u32>,
    /// Every part is stored.
    pub complete: bool,
    /// See [`crate::checksum_of_file`]; `Some` once complete.
    pub checksum: Option<String>,
    /// The content, once complete, for files up to 16 MiB.
    pub bytes: Option<Vec<u8>>,
    /// Forced by [`Faults::fail_upload`].
    pub upload_failed: bool,
}

/// An access token with its refresh token (see [`Emulator::issue_tokens`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
}

impl Emulator {
    /// Binds `127.0.0.1:config.port`, seeds one user, account, workspace
    /// and project (with its root folder), and serves on the current tokio
    /// runtime.
    pub async fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(format!("http://{addr}"), config));
        let router = server::router(shared.clone());
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(server::serve(listener, shared.clone(), router, stopped));
        tracing::info!(%addr, "Frame.io emulator listening");
        Ok(Emulator {
            inner: Arc::new(Inner { shared, addr, stop }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.shared().lock())
    }

    /// `http://127.0.0.1:PORT`: the API base, also serving IMS
    /// (`/ims/...`), the part URLs and the view pages.
    pub fn base_url(&self) -> String {
        self.shared().base_url.clone()
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    pub fn user_id(&self) -> String {
        self.shared().seed.user_id.clone()
    }

    pub fn account_id(&self) -> String {
        self.shared().seed.account_id.clone()
    }

    pub fn workspace_id(&self) -> String {
        self.shared().seed.workspace_id.clone()
    }

    pub fn project_id(&self) -> String {
        self.shared().seed.project_id.clone()
    }

    pub fn root_folder_id(&self) -> String {
        self.shared().seed.root_folder_id.clone()
    }

    /// Adds a project to the workspace (empty, with its own root folder):
    /// what switching projects is tested against. The helpers that look
    /// things up by path ([`Emulator::find_path`], ...) stay on the seeded
    /// project; [`Emulator::files_named_in`] looks in another.
    pub fn add_project(&self, name: &str) -> ProjectIds {
        let project = self.with_state(|s| s.add_project(name));
        ProjectIds {
            project_id: project.id,
            root_folder_id: project.root_folder_id,
        }
    }

    // ----- sign-in -----

    /// Registers an IMS client: public (PKCE, no secret) when
    /// `client_secret` is `None`. Registering again replaces the secret.
    pub fn register_client(&self, client_id: &str, client_secret: Option<&str>) {
        self.with_state(|s| {
            s.auth
                .clients
                .insert(client_id.to_owned(), client_secret.map(str::to_owned))
        });
    }

    /// A valid access token (lifetime: the current token TTL).
    pub fn issue_token(&self) -> String {
        self.with_state(|s| {
            let ttl = s.cfg.token_ttl;
            s.auth.issue_access(ttl)
        })
    }

    /// An access token and a refresh token bound to `client_id` (which the
    /// refresh grant must then name), without going through sign-in.
    pub fn issue_tokens(&self, client_id: &str) -> TokenPair {
        self.with_state(|s| {
            let ttl = s.cfg.token_ttl;
            TokenPair {
                access_token: s.auth.issue_access(ttl),
                refresh_token: s.auth.issue_refresh(
                    client_id,
                    "openid profile email offline_access additional_info.roles",
                ),
            }
        })
    }

    /// Revokes an access or refresh token.
    pub fn revoke_token(&self, token: &str) {
        self.with_state(|s| s.auth.revoke(token));
    }

    /// Revokes every access and refresh token issued so far.
    pub fn revoke_all_tokens(&self) {
        self.with_state(|s| s.auth.revoke_all());
    }

    /// Makes every access token issued so far expired (refresh tokens keep
    /// working): the next API call with one answers 401.
    pub fn expire_access_tokens(&self) {
        self.with_state(|s| s.auth.expire_all_access());
    }

    /// The lifetime of access tokens issued from now on.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.with_state(|s| s.cfg.token_ttl = ttl);
    }

    /// Whether user grants (`authorization_code`, `refresh_token`) come
    /// with a refresh token (default true).
    pub fn set_refresh_tokens(&self, enabled: bool) {
        self.with_state(|s| s.auth.issue_refresh_tokens = enabled);
    }

    // ----- behaviour -----

    /// New rate limits; every window starts afresh.
    pub fn set_rate_limits(&self, limits: RateLimits) {
        self.with_state(|s| {
            s.cfg.rate_limits = limits;
            s.reset_rate_windows();
        });
    }

    /// `Retry-After` on 429 answers from now on (`None`: no header).
    pub fn set_retry_after(&self, retry_after: Option<Duration>) {
        self.with_state(|s| s.cfg.retry_after = retry_after);
    }

    /// The part size of files created from now on.
    pub fn set_part_size(&self, bytes: u64) {
        self.with_state(|s| s.cfg.part_size = bytes);
    }

    /// The lifetime of part URLs issued from now on.
    pub fn set_upload_url_ttl(&self, ttl: Duration) {
        self.with_state(|s| s.cfg.upload_url_ttl = ttl);
    }

    /// The page size of list answers without `page_size`.
    pub fn set_page_size_default(&self, page_size: u32) {
        self.with_state(|s| s.cfg.page_size_default = page_size);
    }

    /// The current configuration (with the run-time changes).
    pub fn config(&self) -> EmulatorConfig {
        self.with_state(|s| s.cfg.clone())
    }

    /// A handle to inject faults.
    pub fn faults(&self) -> Faults {
        Faults {
            shared: self.inner.shared.clone(),
        }
    }

    // ----- inspection -----

    /// A file; `None` for unknown ids, non-files and deleted files (see
    /// [`Emulator::was_deleted`]).
    pub fn file(&self, id: &str) -> Option<FileInfo> {
        self.file_info(id, true)
    }

    /// [`Emulator::file`] without the content (`bytes` is `None`): cheap
    /// enough to poll a project of hundreds of large files (soaks).
    pub fn file_meta(&self, id: &str) -> Option<FileInfo> {
        self.file_info(id, false)
    }

    fn file_info(&self, id: &str, with_bytes: bool) -> Option<FileInfo> {
        let state = self.shared().lock();
        let (asset, f) = state.file(id)?;
        let complete = f.complete();
        let bytes = if with_bytes && complete && f.keep_bytes {
            f.parts
                .iter()
                .map(|p| p.stored.as_ref().and_then(|s| s.bytes.as_deref()))
                .collect::<Option<Vec<&[u8]>>>()
                .map(|parts| parts.concat())
        } else {
            None
        };
        Some(FileInfo {
            id: asset.id.clone(),
            name: asset.name.clone(),
            parent_id: asset.parent_id.clone(),
            file_size: f.file_size,
            media_type: f.media_type.clone(),
            part_sizes: f.parts.iter().map(|p| p.size).collect(),
            parts_received: f.parts.iter().map(|p| p.stored.is_some()).collect(),
            put_counts: f.parts.iter().map(|p| p.put_count).collect(),
            complete,
            checksum: f.checksum.clone().filter(|_| complete),
            bytes,
            upload_failed: f.upload_failed,
        })
    }

    /// Whether `id` is a file that was deleted (through the API or
    /// [`Emulator::delete_folder`]).
    pub fn was_deleted(&self, id: &str) -> bool {
        let state = self.shared().lock();
        matches!(state.assets.get(id).map(|a| &a.body), Some(AssetBody::File(f)) if f.deleted)
    }

    /// Any live asset.
    pub fn asset(&self, id: &str) -> Option<AssetInfo> {
        let state = self.shared().lock();
        state.asset(id).map(info)
    }

    /// The children of a folder as the API lists them (folders, files and
    /// version stacks, not the files inside stacks), in listing order.
    pub fn folder_children(&self, folder_id: &str) -> Vec<AssetInfo> {
        let state = self.shared().lock();
        if state.folder(folder_id).is_none() {
            return Vec::new();
        }
        state.children(folder_id).map(|(_, a)| info(a)).collect()
    }

    /// The files of a version stack, oldest first (the last is the head).
    pub fn version_stack_children(&self, stack_id: &str) -> Vec<AssetInfo> {
        let state = self.shared().lock();
        if state.stack(stack_id).is_none() {
            return Vec::new();
        }
        state.children(stack_id).map(|(_, a)| info(a)).collect()
    }

    /// The folder reached from the root folder by names (`&[]` is the
    /// root); `None` when one is missing.
    ///
    /// # Panics
    /// When a folder on the way has two or more siblings of its name
    /// (compared case-insensitively): a project PostFlow made never has
    /// them, and a lookup by name must not pick one of two silently.
    #[track_caller]
    pub fn find_path(&self, path: &[&str]) -> Option<String> {
        let state = self.shared().lock();
        match state.find_path(&self.shared().seed.root_folder_id, path) {
            Ok(found) => found,
            Err(duplicate) => panic!("find_path {path:?}: {duplicate}"),
        }
    }

    /// The ids of the files named `name` in the folder at `path` (see
    /// [`Emulator::find_path`], which panics on duplicate folders),
    /// including those inside its version stacks: what "this render is in
    /// Frame.io exactly once" is checked against.
    #[track_caller]
    pub fn files_named(&self, path: &[&str], name: &str) -> Vec<String> {
        self.files_named_in(&self.shared().seed.root_folder_id, path, name)
    }

    /// [`Emulator::files_named`] from the root folder `root_folder_id` (of
    /// a project made with [`Emulator::add_project`]).
    #[track_caller]
    pub fn files_named_in(&self, root_folder_id: &str, path: &[&str], name: &str) -> Vec<String> {
        let found = self.shared().lock().find_path(root_folder_id, path);
        let folder = match found {
            Ok(Some(folder)) => folder,
            Ok(None) => return Vec::new(),
            Err(duplicate) => panic!("files_named_in {path:?}: {duplicate}"),
        };
        let mut found = Vec::new();
        for asset in self.folder_children(&folder) {
            match asset.kind {
                AssetKind::File if asset.name == name => found.push(asset.id),
                AssetKind::VersionStack => found.extend(
                    self.version_stack_children(&asset.id)
                        .into_iter()
                        .filter(|f| f.name == name)
                        .map(|f| f.id),
                ),
                _ => {}
            }
        }
        found
    }

    /// Every folder of the project holding two or more folders of one name
    /// (compared case-insensitively), one line each, such as
    /// `/SCENES: 2 folders named "SC01"`. Empty for a well-kept project.
    pub fn duplicate_folders(&self) -> Vec<String> {
        let state = self.shared().lock();
        state.duplicate_folders(&self.shared().seed.root_folder_id)
    }

    /// Fails the test when any folder of the project holds two folders of
    /// one name (see [`Emulator::duplicate_folders`]).
    ///
    /// # Panics
    /// When there is a duplicate anywhere in the tree.
    #[track_caller]
    pub fn assert_one_folder_per_name(&self) {
        let duplicates = self.duplicate_folders();
        assert!(
            duplicates.is_empty(),
            "the Frame.io project has duplicate folders:\n  {}",
            duplicates.join("\n  ")
        );
    }

    /// Creates a folder directly (not counted in [`Stats`]).
    ///
    /// # Panics
    /// When `parent_id` is not a folder.
    pub fn create_folder(&self, parent_id: &str, name: &str) -> String {
        self.with_state(|s| s.create_folder(parent_id, name))
            .unwrap_or_else(|| panic!("create_folder: {parent_id} is not a folder"))
    }

    /// Creates a completely uploaded file holding `content` directly (not
    /// counted in [`Stats`]), e.g. to stand for an earlier upload.
    ///
    /// # Panics
    /// When `parent_id` is not a folder or `content` is empty (the API's
    /// smallest file is 1 byte).
    pub fn create_uploaded_file(&self, parent_id: &str, name: &str, content: &[u8]) -> String {
        assert!(!content.is_empty(), "create_uploaded_file: empty content");
        self.with_state(|s| {
            let id = s
                .create_file(parent_id, name, content.len() as u64)
                .unwrap_or_else(|| panic!("create_uploaded_file: {parent_id} is not a folder"));
            // The file was just created with content.len() bytes: this cannot fail.
            let _ = s.seed_content(&id, content);
            id
        })
    }

    /// Deletes a folder and everything in it directly, as someone would by
    /// hand in the web app (not counted in [`Stats`]). False when `id` is
    /// not a folder or is the root folder.
    pub fn delete_folder(&self, id: &str) -> bool {
        self.with_state(|s| s.delete_folder(id))
    }

    /// The counters so far.
    /// The text of every comment on a file, oldest first.
    pub fn comments_on(&self, file_id: &str) -> Vec<String> {
        self.with_state(|s| {
            s.comments_on(file_id)
                .into_iter()
                .map(|c| c.text.clone())
                .collect()
        })
    }

    pub fn stats(&self) -> Stats {
        self.with_state(|s| s.stats.clone())
    }

    /// Zeroes the counters.
    pub fn reset_stats(&self) {
        self.with_state(|s| s.stats = Stats::default());
    }

    /// Stops the server: no new connections; open ones get a second to
    /// finish. (Dropping the last clone does the same.)
    pub fn shutdown(self) {
        let _ = self.inner.stop.send(true);
    }
}

fn info(asset: &crate::state::Asset) -> AssetInfo {
    AssetInfo {
        id: asset.id.clone(),
        name: asset.name.clone(),
        kind: match asset.body {
            AssetBody::File(_) => AssetKind::File,
            AssetBody::Folder => AssetKind::Folder,
            AssetBody::VersionStack => AssetKind::VersionStack,
        },
        parent_id: asset.parent_id.clone(),
    }
}

/// The ids of a project made with [`Emulator::add_project`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectIds {
    pub project_id: String,
    pub root_folder_id: String,
}
