//! The typed settings model. Every field has a default; `config/default.toml`
//! documents every key and a test keeps the two in step.

use std::path::PathBuf;

use postflow_nomenclature::{PatternSpec, DEFAULT_EXTENSIONS, DEFAULT_STRUCTURE_ROOT};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The settings file format this build writes. Older files are migrated on
/// load (see `load::MIGRATIONS`).
pub const CURRENT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Settings {
    /// Format version of the file.
    pub version: u32,
    pub watch: WatchSettings,
    pub nomenclature: NomenclatureSettings,
    pub frameio: FrameioSettings,
    pub discord: DiscordSettings,
    pub transfers: TransferSettings,
    pub notifications: NotificationSettings,
    pub ui: UiSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            version: CURRENT_VERSION,
            watch: WatchSettings::default(),
            nomenclature: NomenclatureSettings::default(),
            frameio: FrameioSettings::default(),
            discord: DiscordSettings::default(),
            transfers: TransferSettings::default(),
            notifications: NotificationSettings::default(),
            ui: UiSettings::default(),
        }
    }
}

/// `[watch]`: where renders land and when a file counts as finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct WatchSettings {
    /// The `BY_SHOT` folder on the LucidLink filespace. Empty: not set yet.
    #[ts(type = "string")]
    pub root: PathBuf,
    /// Extensions that are uploaded (case-insensitive, without the dot).
    pub extensions: Vec<String>,
    /// A file is ready once its size and mtime have not changed for this long.
    #[ts(type = "number")]
    pub readiness_window_secs: u64,
    /// Full rescan period. LucidLink raises no native events for files written
    /// by other workstations, so the rescan is what finds them.
    #[ts(type = "number")]
    pub rescan_interval_secs: u64,
}

impl Default for WatchSettings {
    fn default() -> Self {
        Self {
            root: PathBuf::new(),
            extensions: DEFAULT_EXTENSIONS.iter().map(|e| e.to_string()).collect(),
            readiness_window_secs: 30,
            rescan_interval_secs: 15,
        }
    }
}

/// `[nomenclature]`: how names become scene / shot / version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct NomenclatureSettings {
    /// Folder under the project root that holds the scenes.
    pub structure_root: String,
    /// Whether the built-in patterns (`sc_shot`, `titled`) are tried after
    /// the custom ones.
    pub use_builtin_patterns: bool,
    /// Custom patterns, tried first, in order.
    pub patterns: Vec<PatternSpec>,
}

impl Default for NomenclatureSettings {
    fn default() -> Self {
        Self {
            structure_root: DEFAULT_STRUCTURE_ROOT.to_string(),
            use_builtin_patterns: true,
            patterns: Vec::new(),
        }
    }
}

/// `[frameio]`: where uploads go. Tokens are never here: they live in the
/// OS keychain (see `postflow-secrets`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct FrameioSettings {
    pub api_base_url: String,
    /// Adobe IMS (sign-in) base URL.
    pub ims_base_url: String,
    /// OAuth client id of the Adobe credential (public client, PKCE).
    pub client_id: String,
    /// Where IMS sends the browser back: a loopback URL or the custom scheme
    /// Adobe assigns to Native App credentials.
    pub redirect_uri: String,
    pub account_id: String,
    pub workspace_id: String,
    pub project_id: String,
}

impl Default for FrameioSettings {
    fn default() -> Self {
        Self {
            api_base_url: "https://api.frame.io".into(),
            ims_base_url: "https://ims-na1.adobelogin.com".into(),
            client_id: String::new(),
            // Assumption (frameio-v4-notes.md): whether IMS accepts a plain
            // loopback redirect is unconfirmed, so this is a setting.
            redirect_uri: "http://127.0.0.1:8765/callback".into(),
            account_id: String::new(),
            workspace_id: String::new(),
            project_id: String::new(),
        }
    }
}

/// Message language for Discord and the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Fr,
}

/// `[discord]`: the team channel. The webhook URL is a secret: keychain only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct DiscordSettings {
    pub enabled: bool,
    pub language: Language,
    /// Uploads finishing within this window go out as one message.
    #[ts(type = "number")]
    pub batching_window_secs: u64,
    /// Who to ping on failures: `<@user id>`, `<@&role id>`, or empty.
    pub mention: String,
}

impl Default for DiscordSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            language: Language::En,
            batching_window_secs: 10,
            mention: String::new(),
        }
    }
}

/// `[transfers]`: how hard PostFlow pushes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct TransferSettings {
    /// Files uploaded at the same time.
    pub parallel_files: u32,
    /// Parts of one file uploaded at the same time.
    pub parallel_parts: u32,
    /// Upload bandwidth cap in megabits per second, shared by all uploads;
    /// 0 means no cap. A `bandwidth_timetable` replaces it.
    pub bandwidth_limit_mbps: u32,
    /// The cap by time of day, like rclone's `--bwlimit`:
    /// `"08:00,20M 19:00,off"` (rates in bytes per second: `20M` = 20 MiB/s,
    /// about 168 Mbit/s; `Mon-08:00,20M` for one day of the week). Empty:
    /// `bandwidth_limit_mbps` all day. See [`crate::BandwidthTimetable`].
    pub bandwidth_timetable: String,
    /// Attempts at one file before it is "failed: needs action" (errors
    /// that cannot get better by retrying stop at once).
    pub max_attempts: u32,
    /// Seconds before the first retry; each next one waits twice as long
    /// (with some jitter), at most an hour.
    #[ts(type = "number")]
    pub retry_base_secs: u64,
    /// Stack a new version onto the shot's previous one in Frame.io.
    pub stack_versions: bool,
    /// Another workstation's upload of the same render that shows no sign
    /// of life for this long is taken over by this one (it died, or lost
    /// Frame.io). Uploads show a sign of life every few seconds (a sixth
    /// of this, at most every 20 s), so a slow upload is never taken over.
    #[ts(type = "number")]
    pub takeover_after_secs: u64,
}

impl Default for TransferSettings {
    fn default() -> Self {
        Self {
            parallel_files: 2,
            parallel_parts: 4,
            bandwidth_limit_mbps: 0,
            bandwidth_timetable: String::new(),
            max_attempts: 8,
            retry_base_secs: 30,
            stack_versions: true,
            takeover_after_secs: 300,
        }
    }
}

/// `[notifications]`: desktop notifications on this workstation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct NotificationSettings {
    pub enabled: bool,
    pub on_upload: bool,
    pub on_failure: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            on_upload: true,
            on_failure: true,
        }
    }
}

/// How the tray icon is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum TrayIcons {
    /// A coloured square per state (each state also has its own glyph).
    #[default]
    Color,
    /// A dark glyph, for light panels.
    Light,
    /// A light glyph, for dark panels (and the macOS template image).
    Dark,
}

/// `[ui]`: the desktop app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct UiSettings {
    /// Start PostFlow when the user logs in.
    pub start_at_login: bool,
    /// Start in the tray only, without opening the window.
    pub start_minimized: bool,
    pub language: Language,
    /// Serve the web UI and its API on this address (`127.0.0.1:8484`);
    /// empty: not served (the desktop app needs no server). Loopback only
    /// unless `allow_remote` is set.
    pub listen: String,
    /// Let `listen` be an address other machines can reach. The UI then
    /// asks for its key (`postflow gui-url` prints a link that carries it).
    pub allow_remote: bool,
    /// The tray icon: "color", or monochrome "light" (for light panels) or
    /// "dark" (for dark panels).
    pub tray_icons: TrayIcons,
}

impl Default for UiSettings {
    fn default() -> Self {
        Self {
            start_at_login: true,
            start_minimized: true,
            language: Language::En,
            listen: String::new(),
            allow_remote: false,
            tray_icons: TrayIcons::Color,
        }
    }
}
