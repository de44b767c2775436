//! The parts of Frame.io V4's schemas PostFlow reads (see
//! `shared/reference/frameio-v4-openapi.json`). Unknown fields are ignored,
//! so additions on Frame.io's side never break PostFlow.

use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<T> {
    pub data: T,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Page<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub links: Option<Links>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Links {
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Account {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub account_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub root_folder_id: String,
    #[serde(default)]
    pub workspace_id: Option<String>,
    #[serde(default)]
    pub view_url: Option<String>,
}

/// What kind of asset a folder child is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    File,
    Folder,
    VersionStack,
}

/// A child of a folder or a version stack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Asset {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AssetKind,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub view_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Folder {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    /// RFC 3339, with microseconds on Frame.io (`2023-09-25T19:18:29.614189Z`).
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A file as Frame.io describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RemoteFile {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    pub file_size: u64,
    /// `created`, `uploaded` or `transcoded`.
    pub status: String,
    pub media_type: String,
    #[serde(default)]
    pub view_url: Option<String>,
}

pub use postflow_core::UploadUrl;

/// The answer to `local_upload`: a placeholder file and its part URLs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct FileWithUploadUrls {
    #[serde(flatten)]
    pub file: RemoteFile,
    pub upload_urls: Vec<UploadUrl>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct UploadStatus {
    pub id: String,
    pub upload_complete: bool,
    pub upload_failed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct VersionStack {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<String>,
}
