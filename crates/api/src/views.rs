//! What the API answers: view types for people and programs. They never
//! carry a presigned upload URL, a token or the webhook URL (masked only);
//! `tests/api.rs` scans every answer for them.
//!
//! Every type here is exported to TypeScript (`ui/src/bindings`); 64-bit
//! integers are JSON numbers (`#[ts(type = "number")]`): ids and byte
//! counts stay far below 2^53.

use std::collections::BTreeMap;

use postflow_core::{Disposition, Problem, RunState, StatusKind};
use postflow_settings::Settings;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the service is doing, as the header and the tray say it. One state
/// at a time, the most pressing first: a person needed outranks offline,
/// which outranks paused, which outranks uploading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ServiceState {
    /// Settings are missing or wrong: the first-run flow (or Settings).
    NotSetUp { problems: Vec<Problem> },
    /// No Frame.io sign-in is stored.
    SignedOut,
    /// Uploads wait for a person: signed out mid-way, no access, webhook dead.
    NeedsYou { reason: String },
    /// The filespace or Frame.io cannot be reached; nothing is spent.
    Offline {
        what: Offline,
        detail: Option<String>,
    },
    /// No new upload starts; a timed pause ends by itself at `until`.
    Paused {
        #[ts(type = "number | null")]
        until: Option<i64>,
    },
    Uploading {
        #[ts(type = "number")]
        active: u64,
        #[ts(type = "number")]
        queued: u64,
    },
    /// Nothing uploading, but items need a person (failed for good, or a
    /// name not recognized): never shown as "all good".
    Attention {
        #[ts(type = "number")]
        failed: u64,
        #[ts(type = "number")]
        held: u64,
    },
    /// Watching BY_SHOT; nothing to do right now, nothing failing.
    Watching,
    /// Not running (`detail` says why: it could not start, or no service is
    /// running for this queue).
    Stopped { detail: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Offline {
    Filespace,
    Frameio,
}

/// The one-glance state of PostFlow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Snapshot {
    pub version: String,
    pub state: ServiceState,
    pub run_state: RunState,
    /// When a timed pause ends (unix ms).
    #[ts(type = "number | null")]
    pub paused_until: Option<i64>,
    /// The upload cap in force and its next change.
    pub bandwidth: BandwidthView,
    /// A service is running for this queue (here or in another process).
    pub service_running: bool,
    /// The service runs inside this process (the app, `postflow run --gui`);
    /// otherwise the API steers another process through the queue database.
    pub hosted: bool,
    pub filespace_online: Option<bool>,
    pub frameio_online: Option<bool>,
    pub account: Option<AccountView>,
    pub project: Option<ProjectView>,
    pub discord: DiscordView,
    /// Items per status.
    pub counts: Vec<StatusCount>,
    /// Items that need a person: failed for good, or held.
    #[ts(type = "number")]
    pub attention: u64,
    /// 0–100, as `postflow status` computes it.
    pub health: u8,
    /// Upload speed right now, bytes per second, over every file.
    #[ts(type = "number")]
    pub throughput_bps: u64,
    /// Bytes sent and to send of the files uploading now.
    #[ts(type = "number")]
    pub upload_bytes_sent: u64,
    #[ts(type = "number")]
    pub upload_bytes_total: u64,
    pub watch_root: String,
    /// Running on the built-in Frame.io emulator (`postflow demo`).
    pub demo: bool,
    /// The UI's language (from the settings).
    pub language: postflow_settings::Language,
}

/// The upload bandwidth cap: in force now, and what the timetable makes
/// of it next ("capped at 20 MiB/s until 19:00, then no cap").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BandwidthView {
    /// Bytes per second; `null`: no cap.
    #[ts(type = "number | null")]
    pub cap_bytes_per_sec: Option<u64>,
    /// From `transfers.bandwidth_timetable` (else `bandwidth_limit_mbps`).
    pub scheduled: bool,
    pub next: Option<CapChangeView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CapChangeView {
    /// Unix ms.
    #[ts(type = "number")]
    pub at: i64,
    /// Bytes per second from then; `null`: no cap.
    #[ts(type = "number | null")]
    pub cap_bytes_per_sec: Option<u64>,
}

impl From<&postflow_service::BandwidthStatus> for BandwidthView {
    fn from(s: &postflow_service::BandwidthStatus) -> Self {
        BandwidthView {
            cap_bytes_per_sec: s.cap_bytes_per_sec,
            scheduled: s.scheduled,
            next: s.next.as_ref().map(|n| CapChangeView {
                at: n.at,
                cap_bytes_per_sec: n.cap_bytes_per_sec,
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatusCount {
    pub status: StatusKind,
    #[ts(type = "number")]
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AccountView {
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProjectView {
    pub id: String,
    pub name: Option<String>,
}

/// The team channel, without the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DiscordView {
    pub enabled: bool,
    /// `https://discord.com/api/webhooks/1234…/••••`, when one is stored.
    pub webhook: Option<String>,
    /// Why messages wait, when they do.
    pub problem: Option<String>,
    #[ts(type = "number")]
    pub pending: u64,
    #[ts(type = "number")]
    pub sent: u64,
}

/// Which items a board shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    #[default]
    All,
    /// Waiting, queued or on their way.
    Active,
    Failed,
    Held,
    Done,
    Cancelled,
    /// Failed for good, or held: what needs a person.
    Attention,
}

impl Filter {
    pub fn kinds(self) -> Vec<StatusKind> {
        use StatusKind::*;
        match self {
            Filter::All => StatusKind::ALL.to_vec(),
            Filter::Active => StatusKind::ALL
                .into_iter()
                .filter(|k| !k.is_final() && !matches!(k, Held | Failed))
                .collect(),
            Filter::Failed => vec![Failed],
            Filter::Held => vec![Held],
            Filter::Done => vec![Done, AlreadyInFrameio],
            Filter::Cancelled => vec![Cancelled],
            Filter::Attention => vec![Failed, Held],
        }
    }
}

/// A page of the board.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct ItemQuery {
    pub filter: Filter,
    /// These statuses instead of the filter's, when given.
    pub statuses: Option<Vec<StatusKind>>,
    /// Part of the file's path, any case.
    pub search: Option<String>,
    /// Only items changed since then (unix ms): catching up after events.
    #[ts(type = "number | null")]
    pub updated_since: Option<i64>,
    #[ts(type = "number")]
    pub offset: u64,
    /// At most this many (default 500, at most 20,000).
    #[ts(type = "number | null")]
    pub limit: Option<u64>,
}

/// Items in board order (scene, shot, version), with how many match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ItemPage {
    pub items: Vec<ItemView>,
    #[ts(type = "number")]
    pub total: u64,
    #[ts(type = "number")]
    pub offset: u64,
    /// When this page was read (unix ms): ask `updated_since` it next time.
    #[ts(type = "number")]
    pub read_at: i64,
}

/// Another workstation's upload of the same render, which this one waits
/// for (and takes over if it shows no sign of life for the takeover delay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WaitingFor {
    /// As its claim note names it; `None` when it left no note.
    pub workstation: Option<String>,
    /// When this workstation last saw a sign of life (unix ms, this
    /// workstation's clock): the note changing, or first seeing it.
    #[ts(type = "number")]
    pub last_sign_of_life_at: i64,
    /// Taken over if no new sign of life comes by then (unix ms).
    #[ts(type = "number")]
    pub takeover_at: i64,
}

/// Who put the file in Frame.io.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Uploader {
    /// This workstation (its name).
    ThisWorkstation { name: String },
    /// Another workstation watching the same filespace was first; Frame.io
    /// does not say which.
    AnotherWorkstation,
}

/// One file on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ItemView {
    #[ts(type = "number")]
    pub id: i64,
    /// Relative to BY_SHOT.
    pub rel_path: String,
    pub file_name: String,
    pub scene: Option<String>,
    pub shot: Option<String>,
    pub version: Option<String>,
    #[ts(type = "number")]
    pub size: u64,
    pub status: StatusKind,
    /// Why it is held, failed or cancelled.
    pub detail: Option<String>,
    /// A failure that will not clear by itself (or after every attempt).
    pub needs_action: bool,
    /// When PostFlow tries a failed item again by itself (unix ms).
    #[ts(type = "number | null")]
    pub next_retry_at: Option<i64>,
    pub attempts: u32,
    /// Bytes stored in Frame.io so far (uploading), or the size once there.
    #[ts(type = "number")]
    pub bytes_sent: u64,
    /// Recent speed while uploading, bytes per second.
    #[ts(type = "number")]
    pub bytes_per_sec: u64,
    pub view_url: Option<String>,
    pub uploaded_by: Option<Uploader>,
    /// Deferring: the other workstation's upload it waits for.
    pub waiting_for: Option<WaitingFor>,
    /// A re-render of a version already in Frame.io (told as such).
    pub rerender: bool,
    #[ts(type = "number")]
    pub created_at: i64,
    #[ts(type = "number")]
    pub updated_at: i64,
    #[ts(type = "number | null")]
    pub finished_at: Option<i64>,
}

/// One status an item went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TimelineEntry {
    #[ts(type = "number")]
    pub at: i64,
    pub status: StatusKind,
    pub detail: Option<String>,
}

/// An error as the UI shows it: the cause in words and the one fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ErrorView {
    pub message: String,
    pub disposition: Disposition,
    pub fix: String,
}

/// Everything about one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ItemDetail {
    pub item: ItemView,
    /// Where the file is on this workstation.
    pub local_path: String,
    /// Where it goes in Frame.io (`SCENES/SC01/UNDLM_00412`).
    pub frameio_path: Option<String>,
    pub timeline: Vec<TimelineEntry>,
    pub last_error: Option<ErrorView>,
}

/// The settings as the Settings view edits them, with what is wrong and
/// where secrets stand (never the secrets themselves).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SettingsView {
    pub settings: Settings,
    pub problems: Vec<Problem>,
    /// The settings file.
    pub path: String,
    /// Keys whose value comes from an environment variable (not the file).
    pub from_environment: Vec<String>,
    pub signed_in: bool,
    pub account: Option<AccountView>,
    /// The stored Discord webhook, masked.
    pub webhook: Option<String>,
    /// Secrets come from the environment: no keychain on this machine.
    pub secrets_from_environment: bool,
}

/// How a name is understood, as `postflow parse --json` says it.
pub type NameTest = postflow_nomenclature::ParseReport;

/// The names tested, and (asked for) the files now in BY_SHOT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NameTests {
    pub names: Vec<NameTest>,
    /// The real files now in the watched folder (at most 200), tested.
    pub folder: Vec<NameTest>,
    /// Why the folder could not be read, when it could not.
    pub folder_error: Option<String>,
    /// The patterns tested are wrong (each with its fix); names are then
    /// tested without them.
    pub problems: Vec<Problem>,
}

/// Frame.io: accounts, each with its workspaces and their projects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AccountTree {
    pub id: String,
    pub name: Option<String>,
    pub workspaces: Vec<WorkspaceTree>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WorkspaceTree {
    pub id: String,
    pub name: String,
    pub projects: Vec<ProjectChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProjectChoice {
    pub id: String,
    pub name: String,
}

/// A sign-in begun: open this address in a browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SignInStarted {
    pub url: String,
}

/// What Discord answered to the test message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WebhookTest {
    pub ok: bool,
    /// Discord's answer, in its words (or why nothing was sent).
    pub answer: String,
}

/// How many items a command moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Moved {
    #[ts(type = "number")]
    pub count: u64,
}

/// The health panel: what `postflow status` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HealthView {
    pub running: bool,
    pub pid: Option<u32>,
    #[ts(type = "number | null")]
    pub uptime_secs: Option<u64>,
    pub cpu_percent: Option<f32>,
    #[ts(type = "number | null")]
    pub rss_bytes: Option<u64>,
    pub paused: bool,
    pub frameio_online: Option<bool>,
    pub filespace_online: Option<bool>,
    pub counts: Vec<StatusCount>,
    #[ts(type = "number")]
    pub processed_last_hour: u64,
    #[ts(type = "number")]
    pub uploaded_last_hour: u64,
    #[ts(type = "number")]
    pub errors_last_hour: u64,
    #[ts(type = "number | null")]
    pub last_upload_at: Option<i64>,
    #[ts(type = "number")]
    pub failed_needing_action: u64,
    pub watch_root: String,
    #[ts(type = "number | null")]
    pub disk_free_bytes: Option<u64>,
    #[ts(type = "number | null")]
    pub disk_total_bytes: Option<u64>,
    pub discord: DiscordView,
    pub health: u8,
    /// What costs health points, in words.
    pub problems: Vec<String>,
}

pub(crate) fn status_counts(counts: &BTreeMap<StatusKind, u64>) -> Vec<StatusCount> {
    counts
        .iter()
        .map(|(status, count)| StatusCount {
            status: *status,
            count: *count,
        })
        .collect()
}
