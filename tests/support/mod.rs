//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub mod desktop;
pub mod faultfs;
pub mod webdriver;

/// `../shared` beside the repository (or `POSTFLOW_SHARED_DIR`).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("POSTFLOW_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// The `postflow` binary, isolated from the user's real settings, data, logs
/// and secrets: everything points into `home`.
pub fn postflow(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("postflow").expect("postflow is built");
    isolate(&mut cmd, home);
    cmd
}

pub fn isolate(cmd: &mut Command, home: &Path) {
    for var in [
        "POSTFLOW_CONFIG",
        "LUCIDLINK_BY_SHOT_PATH",
        "FRAMEIO_ACCOUNT_ID",
        "FRAMEIO_WORKSPACE_ID",
        "POSTFLOW_FRAMEIO_TOKEN",
        "POSTFLOW_DISCORD_WEBHOOK_URL",
        "DISCORD_WEBHOOK_URL",
        "POSTFLOW_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("POSTFLOW_DATA_DIR", home.join("data"))
        .env("POSTFLOW_LOG_DIR", home.join("logs"))
        .env("XDG_CONFIG_HOME", home.join("config"));
}
