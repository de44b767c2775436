//! `postflow demo`: PostFlow at work without a Frame.io account. The
//! built-in Frame.io emulator and a fake Discord on loopback, a temporary
//! BY_SHOT, settings and secrets of its own (nothing touches the user's
//! settings or keychain), and sample renders arriving over about a minute:
//! the brief's three names, a new version of one, a name PostFlow does not
//! recognise, and one that Frame.io refuses once (it needs a Retry).
//!
//! The browser tests and the screenshots run on it; `--seed-items` fills
//! the queue for the board benchmark.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use postflow_discord_fake::DiscordFake;
use postflow_frameio_emulator::{Emulator, EmulatorConfig, RateLimits};
use postflow_queue::{Candidate, Queue, ShotRef, Status, StatusKind};
use postflow_secrets::SecretStore;
use postflow_settings::{Language, Paths};
use serde::Serialize;

/// The renders of the demo, in the order they arrive: (name, MB).
pub const RENDERS: &[(&str, u64)] = &[
    ("SC01_UNDLM_00412_V002.mov", 24),
    ("13H49_-_RECUPERATION_DES_2_SURVIVANTS_S01_V001.mov", 18),
    ("2EME_MAYDAY_EXT_-_NUIT_AMERICAINE_S03_V005.mp4", 30),
    ("SC01_UNDLM_00412_V003.mov", 26),
    (NOT_RECOGNISED, 6),
    (FAILS_ONCE, 12),
];

/// A name the built-in patterns do not recognise (held until a pattern such
/// as `^(?P<scene>[A-Z]+)-(?P<shot>[0-9]+)-V(?P<version>[0-9]+)$` is added).
pub const NOT_RECOGNISED: &str = "MAGASIN-0042-v7.mov";

/// The render Frame.io refuses once (422: a failure that needs a person).
pub const FAILS_ONCE: &str = "SC02_TITRE_0010_V001.mov";

#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Keep everything here instead of a temporary directory.
    pub dir: Option<PathBuf>,
    /// Time between two renders (about a minute in all by default).
    pub pace: Duration,
    /// The upload cap, so progress is visible on loopback.
    pub bandwidth_mbps: u32,
    /// Done items put in the queue before the start (the board benchmark).
    pub seed_items: usize,
    pub language: Language,
    /// The renders (all by default; the browser tests pick some).
    pub renders: Vec<(String, u64)>,
    /// Files uploaded at the same time.
    pub parallel_files: u32,
    /// Megabytes are scaled by this (the tests use small files).
    pub size_scale: f64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            dir: None,
            pace: Duration::from_secs(10),
            bandwidth_mbps: 160,
            seed_items: 0,
            language: Language::En,
            renders: RENDERS.iter().map(|(n, s)| (n.to_string(), *s)).collect(),
            size_scale: 1.0,
            parallel_files: 2,
        }
    }
}

/// What a test or a script needs to look behind the demo.
#[derive(Debug, Clone, Serialize)]
pub struct DemoInfo {
    pub dir: String,
    pub watch_root: String,
    pub config_file: String,
    pub data_dir: String,
    pub frameio_base_url: String,
    /// A token for the emulator's API (loopback only, demo only).
    pub frameio_token: String,
    pub account_id: String,
    pub project_id: String,
    pub root_folder_id: String,
    /// The fake Discord; `GET {discord_base_url}/_fake/messages` lists what
    /// it accepted.
    pub discord_base_url: String,
}

/// A running demo world. Dropping it stops the emulator and the fake and
/// (without `dir`) removes the temporary directory.
pub struct Demo {
    pub paths: Paths,
    pub secrets: Arc<SecretStore>,
    pub emulator: Emulator,
    pub discord: DiscordFake,
    pub info: DemoInfo,
    renders: Vec<(String, u64)>,
    pace: Duration,
    size_scale: f64,
    _temp: Option<tempfile::TempDir>,
}

/// Picks a free loopback port for the fake Discord. The service reads the
/// fake's address from `POSTFLOW_DISCORD_API_BASE`, which must be set
/// before any thread starts: call this first, then [`Demo::start`].
pub fn prepare_discord_port() -> std::io::Result<u16> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    // SAFETY of set_var: called before the runtime starts its threads.
    std::env::set_var(
        postflow_discord_api_base_env(),
        format!("http://127.0.0.1:{port}"),
    );
    Ok(port)
}

fn postflow_discord_api_base_env() -> &'static str {
    "POSTFLOW_DISCORD_API_BASE"
}

impl Demo {
    /// Starts the emulator (on `discord_port` for the fake Discord, see
    /// [`prepare_discord_port`]), writes the demo's settings, and seeds the
    /// queue when asked. The renders arrive with [`Demo::play`].
    pub async fn start(options: DemoOptions, discord_port: u16) -> std::io::Result<Demo> {
        let (dir, temp) = match &options.dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("postflow-demo-")
                    .tempdir()?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let watch_root = dir.join("BY_SHOT");
        std::fs::create_dir_all(&watch_root)?;
        let emulator = Emulator::start(EmulatorConfig {
            part_size: 4 * 1024 * 1024,
            rate_limits: RateLimits::unlimited(),
            ..EmulatorConfig::default()
        })
        .await?;
        // The render that needs a Retry: refused once, as Frame.io refuses a
        // file it will not take (422).
        emulator
            .faults()
            .fail_local_upload_named(FAILS_ONCE, 1, 422);
        let discord = DiscordFake::start_on(discord_port).await;
        let lang = match options.language {
            Language::En => "en",
            Language::Fr => "fr",
        };
        let config_file = dir.join("settings.toml");
        std::fs::write(
            &config_file,
            format!(
                "# PostFlow demo settings: the built-in Frame.io emulator, a fake Discord.\n\
                 [watch]\nroot = {root:?}\nreadiness_window_secs = 2\nrescan_interval_secs = 2\n\n\
                 [nomenclature]\n# Add patterns here (or in the Settings view) for names PostFlow does not know.\n\n\
                 [frameio]\napi_base_url = \"{base}\"\nims_base_url = \"{base}\"\nclient_id = \"postflow-demo\"\n\
                 account_id = \"{account}\"\nworkspace_id = \"{workspace}\"\nproject_id = \"{project}\"\n\n\
                 [discord]\nenabled = true\nlanguage = \"{lang}\"\nbatching_window_secs = 3\n\n\
                 [transfers]\nbandwidth_limit_mbps = {bw}\nparallel_files = {pf}\n\n\
                 [notifications]\nenabled = false\n\n\
                 [ui]\nlanguage = \"{lang}\"\nstart_at_login = false\n",
                root = watch_root.display().to_string(),
                base = emulator.base_url(),
                account = emulator.account_id(),
                workspace = emulator.workspace_id(),
                project = emulator.project_id(),
                bw = options.bandwidth_mbps,
                pf = options.parallel_files.max(1),
            ),
        )?;
        let paths = Paths {
            config_file: config_file.clone(),
            data_dir: dir.join("data"),
            log_dir: dir.join("logs"),
        };
        let token = emulator.issue_token();
        let hook = discord.hook().expose_url().to_string();
        let gui_key = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let env = {
            let token = token.clone();
            move |var: &str| match var {
                "POSTFLOW_FRAMEIO_TOKEN" => Some(token.clone()),
                "POSTFLOW_DISCORD_WEBHOOK_URL" => Some(hook.clone()),
                "POSTFLOW_GUI_KEY" => Some(gui_key.clone()),
                _ => None,
            }
        };
        let secrets = Arc::new(SecretStore::environment_only(
            "the demo keeps its secrets in memory",
            env,
        ));
        if options.seed_items > 0 {
            seed(&paths, options.seed_items).map_err(std::io::Error::other)?;
        }
        let info = DemoInfo {
            dir: dir.display().to_string(),
            watch_root: watch_root.display().to_string(),
            config_file: config_file.display().to_string(),
            data_dir: paths.data_dir.display().to_string(),
            frameio_base_url: emulator.base_url(),
            frameio_token: token,
            account_id: emulator.account_id(),
            project_id: emulator.project_id(),
            root_folder_id: emulator.root_folder_id(),
            discord_base_url: discord.base_url(),
        };
        Ok(Demo {
            paths,
            secrets,
            emulator,
            discord,
            info,
            renders: options.renders,
            pace: options.pace,
            size_scale: options.size_scale,
            _temp: temp,
        })
    }

    /// Writes the renders into BY_SHOT, one every `pace`, each over about a
    /// second (so "waiting for the render to finish" shows). Returns when
    /// the last is written.
    pub async fn play(&self) {
        let root = PathBuf::from(&self.info.watch_root);
        for (i, (name, mb)) in self.renders.iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(self.pace).await;
            }
            let bytes = ((*mb as f64) * self.size_scale * 1_000_000.0).max(1.0) as u64;
            if let Err(e) = write_render(&root.join(name), bytes, i as u64 + 1).await {
                tracing::warn!("demo: cannot write {name}: {e}");
            } else {
                tracing::info!("demo: rendered {name}");
            }
        }
    }
}

/// Writes `len` pseudo-random bytes in a few chunks over about a second, as
/// a renderer would.
async fn write_render(path: &Path, len: u64, seed: u64) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::File::create(path).await?;
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let chunk = (len / 4).max(1);
    let mut left = len;
    let mut buf = Vec::new();
    while left > 0 {
        let n = left.min(chunk);
        buf.clear();
        buf.reserve(n as usize);
        for _ in 0..n.div_ceil(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            buf.extend_from_slice(&state.to_le_bytes());
        }
        buf.truncate(n as usize);
        file.write_all(&buf).await?;
        file.flush().await?;
        left -= n;
        if left > 0 {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    file.sync_all().await
}

/// `count` uploads already done, over scenes and shots, as if PostFlow had
/// run for a season: the board's benchmark load.
fn seed(paths: &Paths, count: usize) -> Result<(), postflow_queue::Error> {
    let queue = Queue::open(&postflow_service::queue_path(paths))?;
    for n in 0..count {
        let scene = format!("SC{:03}", n / 200);
        let shot = format!("SHOT_{:04}", n / 4);
        let version = format!("V{:03}", n % 4 + 1);
        let rel_path = format!("{scene}_{shot}_{version}.mov");
        let id = queue.record_candidate(&Candidate {
            rel_path: rel_path.clone(),
            root: None,
            size: 100_000_000 + n as u64,
            mtime_ns: 1_700_000_000_000_000_000 + n as i64,
            shot: Some(ShotRef {
                scene,
                shot,
                version,
            }),
        })?;
        let id = id.id();
        let file_id = format!("seed-{n}");
        queue.transition(id, StatusKind::WaitingForStability, Status::Queued)?;
        queue.transition(id, StatusKind::Queued, Status::AlreadyInFrameio { file_id })?;
    }
    Ok(())
}
