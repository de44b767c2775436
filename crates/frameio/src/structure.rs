//! Folders and what is in them: `ensure_path`, remote duplicates, version
//! stacks.

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
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
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

impl Client {
    /// The id of the folder at `path` under `root_id`, creating what is
    /// missing. Looks folders up case-insensitively (an exact-case match
    /// wins, then the oldest), remembers ids in `cache`, and re-validates a
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
            let name = path[depth - 1];
            let existing = match self.child_folders(&parent).await {
                Ok(folders) => folders,
                Err(Error::NotFound(_)) => return Err(WalkError::Stale { depth: depth - 1 }),
                Err(e) => return Err(WalkError::Api(e)),
            };
            let found = existing
                .iter()
                .find(|f| f.name == name)
                .or_else(|| existing.iter().find(|f| same_name(&f.name, name)));
            let id = match found {
                Some(folder) => folder.id.clone(),
                None => match self.create_folder(&parent, name).await {
                    Ok(folder) => {
                        tracing::info!(path = %path[..depth].join("/"), "created Frame.io folder");
                        folder.id
                    }
                    Err(Error::NotFound(_)) => return Err(WalkError::Stale { depth: depth - 1 }),
                    Err(e) => return Err(WalkError::Api(e)),
                },
            };
            cache.put(&key, &id);
            parent = id;
        }
        Ok(parent)
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
                let _: serde_json::Value = self
                    .patch(
                        "move",
                        &self.account_path(&format!("files/{new_file_id}/move")),
                        json!({ "parent_id": stack_id }),
                    )
                    .await?;
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
