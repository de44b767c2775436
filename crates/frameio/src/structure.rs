//! Folders and what is in them: `ensure_path`, converging duplicate
//! folders, remote duplicates of files, version stacks.
//!
//! **One folder per name, whoever creates it first.** Frame.io allows two
//! folders of one name under one parent, and two workstations that list a
//! parent, see a name missing and create it at the same moment make two.
//! Frame.io is the only arbiter every workstation sees, so the rule is
//! decided from what it lists: after creating a folder, list the parent
//! again; among the folders of that name (case-insensitively), the one
//! created first (ties: the smallest id, see [`seniority`]) is the folder
//! everyone uses. A loser folds itself into the winner: deleted when still
//! empty, else its children are moved into the winner first (same-named
//! subfolders folded the same way, recursively). A folder is deleted only
//! when a listing just before showed it empty. The same folding repairs
//! duplicates met later ([`Client::repair_structure`], and every walk that
//! lists a parent holding them).
//!
//! Assumed, not documented by Frame.io: `created_at` is the server's clock
//! at creation (microseconds in the spec's examples), so every client sees
//! the same order; and a listing made after a create answered shows that
//! folder (a folder missing from it is added back by its creator, so the
//! worst a lagging listing can do is leave a duplicate for the repair).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::error::{Error, Result};
use crate::model::{Asset, AssetKind, Folder, RemoteFile, VersionStack};
use crate::Client;

/// Where folder ids are remembered between runs (the queue database in the
/// app; [`MemoryFolderCache`] in tests). Keys are case-folded paths under a
/// root folder id: `<root id>/scenes/sc01`.
pub trait FolderCache: Send + Sync {
    fn get(&self, key: &str) -> Option<String>;
    fn put(&self, key: &str, folder_id: &str);
    /// Forgets `key` and every key below it (`key/...`): when a folder's
    /// id is wrong, the ids remembered under it are suspect too.
    fn remove(&self, key: &str);
}

/// A [`FolderCache`] in memory.
#[derive(Default)]
pub struct MemoryFolderCache(Mutex<HashMap<String, String>>);

impl FolderCache for MemoryFolderCache {
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }
    fn put(&self, key: &str, folder_id: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string(), folder_id.to_string());
    }
    fn remove(&self, key: &str) {
        let below = format!("{key}/");
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|k, _| k != key && !k.starts_with(&below));
    }
}

/// One lock per folder path, so concurrent callers create each folder once.
#[derive(Default)]
pub(crate) struct FolderLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl FolderLocks {
    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.to_string())
            .or_default()
            .clone()
    }
}

fn cache_key(root_id: &str, path: &[&str]) -> String {
    let mut key = root_id.to_string();
    for part in path {
        key.push('/');
        key.push_str(&part.to_lowercase());
    }
    key
}

/// Frame.io folder names compare case-insensitively for PostFlow, so a
/// folder made by hand as `sc01` is reused for `SC01`.
fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// The order every workstation agrees on among same-named assets: created
/// first, then the smallest id. `created_at` is compared as a time, not as
/// text (`...:01Z` is earlier than `...:01.1Z`); an asset without a
/// readable `created_at` sorts after every dated one.
pub fn seniority(created_at: Option<&str>, id: &str) -> (i128, String) {
    let at = created_at
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
        .map_or(i128::MAX, |t| t.unix_timestamp_nanos());
    (at, id.to_string())
}

fn senior(folders: &[Folder]) -> Option<&Folder> {
    folders
        .iter()
        .min_by_key(|f| seniority(f.created_at.as_deref(), &f.id))
}

/// What converging duplicate folders did (see [`Client::repair_structure`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repair {
    /// Duplicate folders folded into the folder of their name created first.
    pub folders_folded: usize,
    /// Files, version stacks and folders moved out of them.
    pub items_moved: usize,
    /// Empty duplicates deleted.
    pub folders_deleted: usize,
    /// Duplicates left in place because Frame.io refused to move something
    /// out of them (one line each: path, ids and why); never deleted.
    pub left: Vec<String>,
}

impl Repair {
    fn absorb(&mut self, other: Repair) {
        self.folders_folded += other.folders_folded;
        self.items_moved += other.items_moved;
        self.folders_deleted += other.folders_deleted;
        self.left.extend(other.left);
    }
}

impl Client {
    /// The id of the folder at `path` under `root_id`, creating what is
    /// missing. Looks folders up case-insensitively; among same-named
    /// folders (met, or made by a workstation creating at the same moment)
    /// the one created first is used and the others are folded into it
    /// (see the module docs). Remembers ids in `cache`, and re-validates a
    /// remembered id that has gone.
    pub async fn ensure_path(
        &self,
        cache: &dyn FolderCache,
        root_id: &str,
        path: &[&str],
    ) -> Result<String> {
        // A stale cached id shows up as a 404 when listing under it; then
        // forget the path from there and walk again (a bounded number of times).
        for _attempt in 0..3 {
            match self.walk(cache, root_id, path).await {
                Ok(id) => return Ok(id),
                Err(WalkError::Api(e)) => return Err(e),
                Err(WalkError::Stale { depth }) => {
                    for d in depth..=path.len() {
                        cache.remove(&cache_key(root_id, &path[..d]));
                    }
                    if depth == 0 {
                        return Err(Error::NotFound(crate::error::ApiProblem {
                            status: 404,
                            detail: format!("the project root folder {root_id} no longer exists"),
                        }));
                    }
                    tracing::info!(path = %path[..depth].join("/"), "cached Frame.io folder is gone; looking it up again");
                }
            }
        }
        Err(Error::Protocol(
            "folders keep disappearing while being created".into(),
        ))
    }

    /// The remembered id of the folder at `path`, without asking Frame.io
    /// (`None`: never walked, or forgotten).
    pub fn known_path(
        &self,
        cache: &dyn FolderCache,
        root_id: &str,
        path: &[&str],
    ) -> Option<String> {
        cache.get(&cache_key(root_id, path))
    }

    /// Forgets a cached path (its folder id turned out to be gone).
    pub fn forget_path(&self, cache: &dyn FolderCache, root_id: &str, path: &[&str]) {
        for d in 1..=path.len() {
            cache.remove(&cache_key(root_id, &path[..d]));
        }
    }

    async fn walk(
        &self,
        cache: &dyn FolderCache,
        root_id: &str,
        path: &[&str],
    ) -> std::result::Result<String, WalkError> {
        let mut parent = root_id.to_string();
        for depth in 1..=path.len() {
            let key = cache_key(root_id, &path[..depth]);
            if let Some(id) = cache.get(&key) {
                parent = id;
                continue;
            }
            let lock = self.inner.folders.lock_for(&key);
            let _guard = lock.lock().await;
            // Another caller may have made it while we waited.
            if let Some(id) = cache.get(&key) {
                parent = id;
                continue;
            }
            let label = path[..depth].join("/");
            let name = path[depth - 1];
            let stale = |e: Error| match e {
                Error::NotFound(_) => WalkError::Stale { depth: depth - 1 },
                e => WalkError::Api(e),
            };
            let mut same = self.same_named(&parent, name).await.map_err(stale)?;
            if same.is_empty() {
                let ours = self.create_folder(&parent, name).await.map_err(stale)?;
                tracing::info!(path = %label, id = %ours.id, "created Frame.io folder");
                // Another workstation may have created it at the same moment:
                // list again and agree on the first created.
                same = self.same_named(&parent, name).await.map_err(stale)?;
                if !same.iter().any(|f| f.id == ours.id) {
                    same.push(ours);
                }
            }
            let (winner, repair) = self.converge(&label, &same).await;
            if repair.folders_folded > 0 {
                // Ids remembered below the losers are suspect.
                cache.remove(&key);
            }
            cache.put(&key, &winner);
            parent = winner;
        }
        Ok(parent)
    }

    /// The folders in `parent` named `name`, case-insensitively.
    async fn same_named(&self, parent: &str, name: &str) -> Result<Vec<Folder>> {
        Ok(self
            .child_folders(parent)
            .await?
            .into_iter()
            .filter(|f| same_name(&f.name, name))
            .collect())
    }

    /// Of same-named sibling folders (at least one), the one everyone uses
    /// ([`seniority`]), after folding every other into it. A fold that
    /// fails is logged and left for a later repair: the winner is known
    /// either way.
    async fn converge(&self, label: &str, same: &[Folder]) -> (String, Repair) {
        let winner = senior(same).expect("converge needs a folder").id.clone();
        let mut repair = Repair::default();
        for loser in same.iter().filter(|f| f.id != winner) {
            tracing::info!(
                path = %label, kept = %winner, folded = %loser.id,
                "two Frame.io folders of one name: folding the later one into the first created"
            );
            match self.fold_into(label, &loser.id, &winner).await {
                Ok(r) => repair.absorb(r),
                Err(e) => tracing::warn!(
                    path = %label, folded = %loser.id,
                    "cannot fold a duplicate folder yet ({e}); the next repair tries again"
                ),
            }
        }
        (winner, repair)
    }

    /// Moves everything in `loser` into `winner` (same-named subfolders are
    /// folded in turn), then deletes `loser` if a fresh listing shows it
    /// empty. Something Frame.io refuses to move is left, reported in
    /// [`Repair::left`], and keeps its folder from being deleted. Things
    /// that vanish meanwhile (another workstation folding the same pair)
    /// are skipped.
    async fn fold_into(&self, label: &str, loser: &str, winner: &str) -> Result<Repair> {
        let mut repair = Repair {
            folders_folded: 1,
            ..Repair::default()
        };
        let children = match self.children(loser).await {
            Ok(children) => children,
            Err(Error::NotFound(_)) => return Ok(repair),
            Err(e) => return Err(e),
        };
        if !children.is_empty() {
            let winner_folders = self.child_folders(winner).await?;
            for child in children {
                let moved = match child.kind {
                    AssetKind::Folder => {
                        let twins: Vec<Folder> = winner_folders
                            .iter()
                            .filter(|f| same_name(&f.name, &child.name))
                            .cloned()
                            .collect();
                        match senior(&twins) {
                            Some(twin) => {
                                let sub = format!("{label}/{}", child.name);
                                let folded =
                                    Box::pin(self.fold_into(&sub, &child.id, &twin.id)).await?;
                                repair.absorb(folded);
                                continue;
                            }
                            None => self.move_folder(&child.id, winner).await,
                        }
                    }
                    AssetKind::File => self.move_file(&child.id, winner).await,
                    AssetKind::VersionStack => self.move_version_stack(&child.id, winner).await,
                };
                match moved {
                    Ok(()) => {
                        repair.items_moved += 1;
                        tracing::info!(path = %label, item = %child.name, "moved into the folder kept");
                    }
                    Err(Error::NotFound(_)) => {}
                    Err(e @ (Error::Forbidden(_) | Error::Rejected(_))) => {
                        let line = format!(
                            "{label}: {} ({}) stays in the duplicate folder {loser}: {e}",
                            child.name, child.id
                        );
                        tracing::warn!("{line}");
                        repair.left.push(line);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        // Deleted only when a listing made just now shows it empty: a folder
        // is never deleted with something in it.
        match self.children(loser).await {
            Ok(rest) if rest.is_empty() => match self.delete_folder(loser).await {
                Ok(()) | Err(Error::NotFound(_)) => {
                    repair.folders_deleted += 1;
                    tracing::info!(path = %label, folder = %loser, "deleted the emptied duplicate folder");
                }
                Err(e) => return Err(e),
            },
            Ok(rest) => {
                if repair.left.is_empty() {
                    repair.left.push(format!(
                        "{label}: the duplicate folder {loser} still holds {} item(s) (added meanwhile); left for the next repair",
                        rest.len()
                    ));
                }
            }
            Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        Ok(repair)
    }

    /// Converges duplicate folders down the structure: the folder at
    /// `structure` (e.g. `["SCENES"]`, walked from `root_id`), then
    /// `levels` levels below it (scenes, then shots: 2). Each duplicate is
    /// folded into the folder of its name created first, as
    /// [`Client::ensure_path`] does; the cache ends up holding the folders
    /// kept. One listing per folder visited. A missing structure folder is
    /// nothing to repair.
    pub async fn repair_structure(
        &self,
        cache: &dyn FolderCache,
        root_id: &str,
        structure: &[&str],
        levels: usize,
    ) -> Result<Repair> {
        let mut repair = Repair::default();
        let mut parent = root_id.to_string();
        for depth in 1..=structure.len() {
            let same = self.same_named(&parent, structure[depth - 1]).await?;
            if same.is_empty() {
                return Ok(repair);
            }
            let key = cache_key(root_id, &structure[..depth]);
            let (winner, r) = self
                .converge_locked(cache, &key, &structure[..depth].join("/"), &same)
                .await;
            repair.absorb(r);
            parent = winner;
        }
        // (folder id, its path names) of the level being visited.
        let mut level: Vec<(String, Vec<String>)> =
            vec![(parent, structure.iter().map(|s| s.to_string()).collect())];
        for _ in 0..levels {
            let mut next = Vec::new();
            for (folder, names) in level {
                let mut groups: Vec<Vec<Folder>> = Vec::new();
                for f in self.child_folders(&folder).await? {
                    match groups.iter_mut().find(|g| same_name(&g[0].name, &f.name)) {
                        Some(g) => g.push(f),
                        None => groups.push(vec![f]),
                    }
                }
                for group in groups {
                    let mut path = names.clone();
                    path.push(group[0].name.clone());
                    let winner = if group.len() > 1 {
                        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
                        let key = cache_key(root_id, &refs);
                        let (winner, r) = self
                            .converge_locked(cache, &key, &path.join("/"), &group)
                            .await;
                        repair.absorb(r);
                        winner
                    } else {
                        group[0].id.clone()
                    };
                    next.push((winner, path));
                }
            }
            level = next;
        }
        Ok(repair)
    }

    /// [`Client::converge`] under the path's lock, recording the winner.
    async fn converge_locked(
        &self,
        cache: &dyn FolderCache,
        key: &str,
        label: &str,
        same: &[Folder],
    ) -> (String, Repair) {
        let lock = self.inner.folders.lock_for(key);
        let _guard = lock.lock().await;
        let (winner, repair) = self.converge(label, same).await;
        if same.len() > 1 {
            cache.remove(key);
        }
        cache.put(key, &winner);
        (winner, repair)
    }

    /// The folders directly inside `folder_id`, every page.
    pub async fn child_folders(&self, folder_id: &str) -> Result<Vec<Folder>> {
        let assets: Vec<Asset> = self
            .paginate(
                "children",
                &self.account_path(&format!("folders/{folder_id}/children")),
                &[
                    ("type", "folder".to_string()),
                    ("page_size", "100".to_string()),
                ],
            )
            .await?;
        Ok(assets
            .into_iter()
            .filter(|a| a.kind == AssetKind::Folder)
            .map(|a| Folder {
                id: a.id,
                name: a.name,
                parent_id: a.parent_id,
                created_at: a.created_at,
            })
            .collect())
    }

    /// Everything directly inside a folder (files, folders, version stacks).
    pub async fn children(&self, folder_id: &str) -> Result<Vec<Asset>> {
        self.paginate(
            "children",
            &self.account_path(&format!("folders/{folder_id}/children")),
            &[("page_size", "100".to_string())],
        )
        .await
    }

    pub async fn create_folder(&self, parent_id: &str, name: &str) -> Result<Folder> {
        self.post(
            "create_folder",
            &self.account_path(&format!("folders/{parent_id}/folders")),
            json!({ "name": name }),
        )
        .await
    }

    /// Every file in a folder, including those inside its version stacks
    /// (a stack hides its files from the folder's own listing).
    pub async fn files_in_folder(&self, folder_id: &str) -> Result<Vec<FolderFile>> {
        let mut files = Vec::new();
        for asset in self.children(folder_id).await? {
            match asset.kind {
                AssetKind::File => files.push(FolderFile {
                    asset,
                    stack_id: None,
                }),
                AssetKind::VersionStack => {
                    let inside: Vec<Asset> = self
                        .paginate(
                            "children",
                            &self.account_path(&format!("version_stacks/{}/children", asset.id)),
                            &[("page_size", "100".to_string())],
                        )
                        .await?;
                    files.extend(
                        inside
                            .into_iter()
                            .filter(|a| a.kind == AssetKind::File)
                            .map(|a| FolderFile {
                                asset: a,
                                stack_id: Some(asset.id.clone()),
                            }),
                    );
                }
                AssetKind::Folder => {}
            }
        }
        Ok(files)
    }

    /// A file already in the folder with this name (exact, as uploaded
    /// names are kept byte for byte) and, if given, this size.
    pub async fn find_file(
        &self,
        folder_id: &str,
        name: &str,
        size: Option<u64>,
    ) -> Result<Option<FolderFile>> {
        Ok(self
            .files_in_folder(folder_id)
            .await?
            .into_iter()
            .find(|f| f.asset.name == name && size.is_none_or(|s| f.asset.file_size == Some(s))))
    }

    /// Deletes a folder **with everything in it** (Frame.io deletes
    /// recursively); callers check that it is empty first.
    pub async fn delete_folder(&self, folder_id: &str) -> Result<()> {
        self.delete(
            "delete_folder",
            &self.account_path(&format!("folders/{folder_id}")),
        )
        .await
    }

    /// Moves a file into a folder or a version stack.
    pub async fn move_file(&self, file_id: &str, parent_id: &str) -> Result<()> {
        let _: serde_json::Value = self
            .patch(
                "move",
                &self.account_path(&format!("files/{file_id}/move")),
                json!({ "parent_id": parent_id }),
            )
            .await?;
        Ok(())
    }

    /// Moves a folder (with its contents) into another folder.
    pub async fn move_folder(&self, folder_id: &str, parent_id: &str) -> Result<()> {
        let _: serde_json::Value = self
            .patch(
                "move_folder",
                &self.account_path(&format!("folders/{folder_id}/move")),
                json!({ "parent_id": parent_id }),
            )
            .await?;
        Ok(())
    }

    /// Moves a version stack (with its versions) into a folder.
    pub async fn move_version_stack(&self, stack_id: &str, parent_id: &str) -> Result<()> {
        let _: serde_json::Value = self
            .patch(
                "move_version_stack",
                &self.account_path(&format!("version_stacks/{stack_id}/move")),
                json!({ "parent_id": parent_id }),
            )
            .await?;
        Ok(())
    }

    pub async fn file(&self, file_id: &str) -> Result<RemoteFile> {
        self.get("file", &self.account_path(&format!("files/{file_id}")), &[])
            .await
    }

    pub async fn delete_file(&self, file_id: &str) -> Result<()> {
        self.delete("delete", &self.account_path(&format!("files/{file_id}")))
            .await
    }

    /// Stacks `new_file_id` onto `previous`: into its stack if it has one,
    /// else a new stack of the two (older first).
    pub async fn stack_versions(
        &self,
        folder_id: &str,
        previous: &FolderFile,
        new_file_id: &str,
    ) -> Result<String> {
        match &previous.stack_id {
            Some(stack_id) => {
                self.move_file(new_file_id, stack_id).await?;
                Ok(stack_id.clone())
            }
            None => {
                let stack: VersionStack = self
                    .post(
                        "version_stacks",
                        &self.account_path(&format!("folders/{folder_id}/version_stacks")),
                        json!({ "file_ids": [previous.asset.id, new_file_id] }),
                    )
                    .await?;
                Ok(stack.id)
            }
        }
    }
}

/// A file in a folder, and the version stack holding it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderFile {
    pub asset: Asset,
    pub stack_id: Option<String>,
}

enum WalkError {
    /// A cached folder id was gone: the path from this depth is stale.
    Stale {
        depth: usize,
    },
    Api(Error),
}
