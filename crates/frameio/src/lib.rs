//! A typed Frame.io V4 client for PostFlow (no UI, no Tauri).
//!
//! - [`auth`]: static tokens, server-to-server, OAuth sign-in with PKCE and
//!   single-flight refresh;
//! - [`Client`]: discovery (me, accounts, workspaces, projects), pacing from
//!   `x-ratelimit-*`, retries, typed [`Error`]s that say whether to retry;
//! - [`structure`]: `ensure_path`, remote duplicates, version stacks;
//! - [`upload`]: parallel, streamed, retried, resumable local uploads.
//!
//! Facts and assumptions about the API are in
//! `shared/reference/frameio-v4-notes.md`; the contract is the OpenAPI file
//! beside it. Tests run against `postflow-frameio-emulator`, never the real
//! service.

pub mod auth;
mod client;
pub mod comments;
pub mod error;
pub mod model;
pub mod structure;
pub mod upload;

pub use auth::{Credentials, OAuthConfig, SignIn, TokenSink};
pub use client::{Client, ClientConfig, RetryPolicy};
pub use comments::Comment;
pub use error::{Disposition, Error, Result};
pub use structure::{FolderCache, FolderFile, MemoryFolderCache};
pub use upload::{Bandwidth, NoObserver, Progress, UploadObserver, UploadOptions, UploadSession};
