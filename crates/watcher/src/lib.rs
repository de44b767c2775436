//! The upload engine's file watcher: which finished renders are in the
//! LucidLink `BY_SHOT` folder.
//!
//! Three layers, each usable alone:
//!
//! - [`scan`] / [`Scanner`]: one cheap, parallel pass over the tree, keeping
//!   only candidate files (`parsed` or `unrecognized` names, regular files)
//!   with their size and modification time.
//! - [`Readiness`]: a pure tracker, fed scans and the time, that decides when
//!   a file is finished (non-empty, unchanged for the readiness window,
//!   openable). No clock, no disk: tested without sleeping.
//! - [`Watcher`]: the Tokio task that rescans periodically (the backbone:
//!   LucidLink raises no native events for other workstations' writes), uses
//!   native events as a fast path, re-checks files exactly when their window
//!   ends, and sends [`WatchEvent`]s.
//!
//! # For the engine
//!
//! - [`WatchEvent::Candidate`]: record the file (path, size, mtime) durably
//!   before anything else. A candidate seen again with a new size or mtime
//!   is a new version, even after it was uploaded.
//! - [`WatchEvent::Ready`]: that exact version may be uploaded (once per
//!   version; the engine's record decides whether it already was).
//! - [`WatchEvent::Gone`]: the file is no longer on disk; never a reason to
//!   delete anything in Frame.io.
//! - [`WatchEvent::RootOffline`]: **don't trust absences**; nothing is
//!   reported gone until [`WatchEvent::RootOnline`], after which scans are
//!   the truth again.
//! - [`WatchEvent::Unreadable`]: show it to the user; what lies under an
//!   unreadable folder is unknown, neither found nor gone.
//! - On restart, pass what was already handled to [`Watcher::settled`] so
//!   it is not reported again while unchanged.
//! - The watcher has no memory across restarts and never sleeps on a
//!   file's own mtime: a file counts as stable from when *it* first saw the
//!   current version, so after a restart an unsettled file waits one window.
//!
//! ```no_run
//! # async fn demo() {
//! use postflow_nomenclature::Nomenclature;
//! use postflow_watcher::{WatchEvent, Watcher, WatcherConfig};
//!
//! let config = WatcherConfig::new("/Volumes/filespace/PROJECT/BY_SHOT");
//! let (handle, mut events) = Watcher::spawn(config, Nomenclature::default());
//! while let Some(event) = events.recv().await {
//!     match event {
//!         WatchEvent::Candidate(file) => { /* record durably first */ }
//!         WatchEvent::Ready(file) => { /* upload this exact version */ }
//!         WatchEvent::RootOffline { .. } => { /* don't trust absences */ }
//!         _ => {}
//!     }
//! }
//! # drop(handle);
//! # }
//! ```

mod readiness;
mod scan;
mod watcher;

pub use readiness::{Change, OpenCheck, OpensForReading, Plan, Readiness};
pub use scan::{
    scan, Coverage, Known, Listed, Observation, Scan, ScanError, ScanOptions, Scanner, Unreadable,
};
pub use watcher::{WatchEvent, Watcher, WatcherConfig, WatcherHandle};
