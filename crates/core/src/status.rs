//! The kinds of status a queue item can be in, without their data: what
//! events, views and filters speak of. The data-carrying `Status` lives in
//! `postflow-queue`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The variant without its data, for counting, filtering and indexing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    WaitingForStability,
    Queued,
    PreparingFolders,
    Uploading,
    /// Another workstation is uploading this very render; see `Status`.
    Deferring,
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
    pub const ALL: [StatusKind; 13] = [
        StatusKind::WaitingForStability,
        StatusKind::Queued,
        StatusKind::PreparingFolders,
        StatusKind::Uploading,
        StatusKind::Deferring,
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
            StatusKind::Deferring => "deferring",
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
            // Back to Queued when paused or abandoned before a placeholder
            // exists; Deferring when another workstation's upload of it is
            // in flight.
            // Stacking: the file is in Frame.io, complete but never told
            // (see `Deferring`).
            PreparingFolders => matches!(
                to,
                Uploading | AlreadyInFrameio | Queued | Deferring | Stacking
            ),
            // Uploading -> Uploading records progress; -> Queued when the
            // local file changed and must be sent again whole; -> Deferring
            // or AlreadyInFrameio when another workstation's placeholder,
            // created first, wins the race.
            Uploading => matches!(
                to,
                Uploading | Verifying | Queued | Deferring | AlreadyInFrameio | Stacking
            ),
            // Deferring -> Deferring records a sign of life; -> AlreadyInFrameio
            // when the other upload completes; -> Queued when it is gone or
            // taken over.
            // -> Stacking when the other completed it but stopped before
            // telling the team: this one finishes it.
            Deferring => matches!(to, Deferring | AlreadyInFrameio | Queued | Stacking),
            Verifying => matches!(to, Stacking | Notifying | Done | Queued),
            Stacking => matches!(to, Notifying | Done),
            Notifying => matches!(to, Done),
            // A failed item's retry (due, or by hand) goes the way a queued
            // one does.
            Failed => matches!(to, Queued | PreparingFolders | Held),
            Held => matches!(to, Queued),
            Cancelled => matches!(to, Queued),
            Done | AlreadyInFrameio => false,
        }
    }
}

impl std::fmt::Display for StatusKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
