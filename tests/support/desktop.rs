//! Helpers for the desktop app's tests: the built binaries, the display
//! and session bus they need, the app isolated in a temporary home, and
//! settings pointing at the Frame.io emulator.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use postflow_frameio_emulator::Emulator;

/// A binary built beside the test (`postflow`, `postflow-app`).
pub fn built(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Whether this machine has a display, a session bus and `tools` (else the
/// test is skipped, or fails when `POSTFLOW_REQUIRE_DISPLAY` says it must).
pub fn can_run(tools: &[&str]) -> bool {
    let display = std::env::var_os("DISPLAY").is_some();
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if display && bus && missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("POSTFLOW_REQUIRE_DISPLAY").is_none(),
        "POSTFLOW_REQUIRE_DISPLAY is set but the display ({display}) or the session bus ({bus}) is missing, or these tools: {missing:?}"
    );
    eprintln!("SKIPPED: needs a display, a session bus and {tools:?}");
    false
}

/// A child process killed when the test ends, however it ends.
pub struct Killed(pub Child);

impl Killed {
    pub fn spawn(cmd: &mut Command) -> Killed {
        Killed(
            cmd.stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}")),
        )
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The environment that keeps the desktop app inside `home`: everything
/// it reads and writes, its own keychain service name.
pub fn app_env(home: &Path, config: &Path) -> Vec<(&'static str, std::ffi::OsString)> {
    vec![
        ("HOME", home.into()),
        ("XDG_CONFIG_HOME", home.join(".config").into()),
        ("XDG_CACHE_HOME", home.join(".cache").into()),
        ("XDG_DATA_HOME", home.join(".local/share").into()),
        ("POSTFLOW_CONFIG", config.into()),
        ("POSTFLOW_DATA_DIR", home.join("data").into()),
        ("POSTFLOW_LOG_DIR", home.join("logs").into()),
        (
            "POSTFLOW_KEYCHAIN_SERVICE",
            format!("io.postflow.test.app.{}", std::process::id()).into(),
        ),
        ("NO_COLOR", "1".into()),
    ]
}

/// The desktop app, isolated in `home` ([`app_env`]), with the Frame.io
/// token in the environment.
pub fn app(home: &Path, config: &Path, token: &str) -> Command {
    let mut cmd = Command::new(built("postflow-app"));
    cmd.envs(app_env(home, config))
        .env("POSTFLOW_FRAMEIO_TOKEN", token)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// `postflow` against the app's queue in `home`.
pub fn cli(home: &Path, config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(built("postflow"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("POSTFLOW_DATA_DIR", home.join("data"))
        .env("POSTFLOW_LOG_DIR", home.join("logs-cli"))
        .output()
        .unwrap()
}

/// Complete settings (folder, emulator, tray only, no login item) plus
/// `extra` TOML; returns the settings file and the watched folder.
pub fn settings_for(home: &Path, emu: &Emulator, extra: &str) -> (PathBuf, PathBuf) {
    let root = home.join("BY_SHOT");
    std::fs::create_dir_all(&root).unwrap();
    let config = home.join("settings.toml");
    std::fs::write(
        &config,
        format!(
            "[watch]\nroot = {root:?}\nreadiness_window_secs = 1\nrescan_interval_secs = 1\n\
             [frameio]\napi_base_url = \"{base}\"\nims_base_url = \"{base}\"\naccount_id = \"{a}\"\nproject_id = \"{p}\"\n\
             [ui]\nstart_minimized = true\nstart_at_login = false\n{extra}",
            root = root.display().to_string(),
            base = emu.base_url(),
            a = emu.account_id(),
            p = emu.project_id(),
        ),
    )
    .unwrap();
    (config, root)
}
