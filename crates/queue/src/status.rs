//! An item's status: one enum whose variants carry their data (as pueue
//! does), and the transitions allowed between them.

pub use postflow_core::StatusKind;
use postflow_core::UploadSession;
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
    /// Another workstation's upload of this very render is in flight: its
    /// placeholder (same name and size, created first) is incomplete. Not
    /// uploaded here while it shows signs of life (its claim note changes);
    /// taken over (its placeholder deleted, the item started over) once it
    /// has shown none for the takeover delay. Checked again at
    /// `next_check_at`.
    Deferring {
        folder_id: String,
        /// The other workstation's placeholder.
        file_id: String,
        /// Who holds it, as its claim note says (`None`: no note).
        holder: Option<String>,
        /// The last sign of life seen (the claim note as it was), to tell a
        /// new one from the same.
        beat: Option<String>,
        /// When (this workstation's clock, unix ms) `beat` was first seen
        /// as it is: Frame.io's and the other workstation's clocks never
        /// enter the takeover decision.
        seen_at: i64,
        /// When to look again (unix ms).
        next_check_at: i64,
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

impl Status {
    pub fn kind(&self) -> StatusKind {
        match self {
            Status::WaitingForStability => StatusKind::WaitingForStability,
            Status::Queued => StatusKind::Queued,
            Status::PreparingFolders => StatusKind::PreparingFolders,
            Status::Uploading { .. } => StatusKind::Uploading,
            Status::Deferring { .. } => StatusKind::Deferring,
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
