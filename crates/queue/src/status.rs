//! An item's status: one enum whose variants carry their data (as pueue
//! does), and the transitions allowed between them.

use postflow_frameio::UploadSession;
use serde::{Deserialize, Serialize};

/// Where a file is on its way to Frame.io.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Status {
    /// Seen; its size and mtime must stay still for the readiness window.
    WaitingForStability,
    /// Ready; waits for a free upload slot.
    Queued,
    /// Finding or creating `SCENES/<scene>/<shot>/`.
    PreparingFolders,
    /// Parts going out. `session` (once created) and `parts_done` are what a
    /// restart needs to resume without uploading twice.
    Uploading {
        folder_id: String,
        /// When the placeholder was first requested (unix ms), written
        /// before the request: a placeholder of ours orphaned by a crash is
        /// recognised by it.
        #[serde(default)]
        requested_at: i64,
        session: Option<UploadSession>,
        parts_done: Vec<usize>,
        bytes_sent: u64,
    },
    /// Waiting for Frame.io to confirm every part arrived.
    Verifying {
        folder_id: String,
        file_id: String,
    },
    /// Stacking onto the shot's previous version.
    Stacking {
        folder_id: String,
        file_id: String,
        view_url: Option<String>,
    },
    /// Telling the team (Discord, desktop).
    Notifying {
        file_id: String,
        view_url: Option<String>,
        /// The shot's previous version it was stacked onto (its file name).
        #[serde(default)]
        stacked_onto: Option<String>,
        /// A new render of a version already in Frame.io (the same name),
        /// stacked on top of the earlier copy.
        #[serde(default)]
        rerender: bool,
    },
    Done {
        file_id: String,
        view_url: Option<String>,
    },
    /// The same name and size were already in the shot folder.
    AlreadyInFrameio {
        file_id: String,
    },
    /// Not uploaded until a person acts (an unrecognized name, ...).
    Held {
        reason: String,
    },
    /// Failed; retried at `next_retry_at` (unix ms) unless it needs action.
    Failed {
        reason: String,
        next_retry_at: Option<i64>,
        needs_action: bool,
    },
    Cancelled {
        reason: String,
    },
}

/// The variant without its data, for counting, filtering and indexing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    WaitingForStability,
    Queued,
    PreparingFolders,
    Uploading,
    Verifying,
    Stacking,
    Notifying,
    Done,
    AlreadyInFrameio,
    Held,
    Failed,
    Cancelled,
}

impl StatusKind {
    pub const ALL: [StatusKind; 12] = [
        StatusKind::WaitingForStability,
        StatusKind::Queued,
        StatusKind::PreparingFolders,
        StatusKind::Uploading,
        StatusKind::Verifying,
        StatusKind::Stacking,
        StatusKind::Notifying,
        StatusKind::Done,
        StatusKind::AlreadyInFrameio,
        StatusKind::Held,
        StatusKind::Failed,
        StatusKind::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::WaitingForStability => "waiting_for_stability",
            StatusKind::Queued => "queued",
            StatusKind::PreparingFolders => "preparing_folders",
            StatusKind::Uploading => "uploading",
            StatusKind::Verifying => "verifying",
            StatusKind::Stacking => "stacking",
            StatusKind::Notifying => "notifying",
            StatusKind::Done => "done",
            StatusKind::AlreadyInFrameio => "already_in_frameio",
            StatusKind::Held => "held",
            StatusKind::Failed => "failed",
            StatusKind::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<StatusKind> {
        StatusKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Work in progress: after a crash these are resumed, not restarted.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            StatusKind::PreparingFolders
                | StatusKind::Uploading
                | StatusKind::Verifying
                | StatusKind::Stacking
                | StatusKind::Notifying
        )
    }

    /// Nothing more will happen without a person.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            StatusKind::Done | StatusKind::AlreadyInFrameio | StatusKind::Cancelled
        )
    }

    /// Whether an item may go from `self` to `to`.
    pub fn can_become(self, to: StatusKind) -> bool {
        use StatusKind::*;
        // Failing or being cancelled is possible from any unfinished state.
        if matches!(to, Failed | Cancelled) && !self.is_final() {
            return true;
        }
        match self {
            WaitingForStability => matches!(to, Queued | Held | WaitingForStability),
            Queued => matches!(to, PreparingFolders | Held | AlreadyInFrameio),
            // Back to Queued when paused or abandoned before a placeholder exists.
            PreparingFolders => matches!(to, Uploading | AlreadyInFrameio | Queued),
            // Uploading -> Uploading records progress; -> Queued when the
            // local file changed and must be sent again whole.
            Uploading => matches!(to, Uploading | Verifying | Queued),
            Verifying => matches!(to, Stacking | Notifying | Done | Queued),
            Stacking => matches!(to, Notifying | Done),
            Notifying => matches!(to, Done),
            Held | Failed => matches!(to, Queued),
            Cancelled => matches!(to, Queued),
            Done | AlreadyInFrameio => false,
        }
    }
}

impl Status {
    pub fn kind(&self) -> StatusKind {
        match self {
            Status::WaitingForStability => StatusKind::WaitingForStability,
            Status::Queued => StatusKind::Queued,
            Status::PreparingFolders => StatusKind::PreparingFolders,
            Status::Uploading { .. } => StatusKind::Uploading,
            Status::Verifying { .. } => StatusKind::Verifying,
            Status::Stacking { .. } => StatusKind::Stacking,
            Status::Notifying { .. } => StatusKind::Notifying,
            Status::Done { .. } => StatusKind::Done,
            Status::AlreadyInFrameio { .. } => StatusKind::AlreadyInFrameio,
            Status::Held { .. } => StatusKind::Held,
            Status::Failed { .. } => StatusKind::Failed,
            Status::Cancelled { .. } => StatusKind::Cancelled,
        }
    }
}

impl std::fmt::Display for StatusKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
