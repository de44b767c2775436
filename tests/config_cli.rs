//! `postflow config check` reports every problem, each with its key and a fix.

mod support;

use std::path::Path;

const ACCOUNT: &str = "7f3e1c9a-1b2c-4d5e-8f90-123456789abc";
const PROJECT: &str = "0b8e2d6c-3f4a-4b5c-9d8e-7f6a5b4c3d2e";

fn check(home: &Path, config: &Path, json: bool) -> std::process::Output {
    let mut cmd = support::postflow(home);
    cmd.arg("--config").arg(config).args(["config", "check"]);
    if json {
        cmd.arg("--json");
    }
    cmd.output().unwrap()
}

#[test]
fn five_different_mistakes_give_five_clear_messages_and_a_failure() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("settings.toml");
    std::fs::write(
        &config,
        format!(
            r#"
version = 1
[watch]
root = "/Volumes/fs/BY_SHOT"
rescan_interval_secs = "fast"

[nomenclature]
[[nomenclature.patterns]]
name = "studio"
regex = '(?P<scene>[A-Z+)_(?P<shot>[0-9]+)_(?P<version>[0-9]+)'

[frameio]
account_id = "{ACCOUNT}"
project_id = "{PROJECT}"

[discord]
language = "de"

[transfers]
parallel_parts = 0
"#
        ),
    )
    .unwrap();

    let out = check(home.path(), &config, false);
    assert_eq!(out.status.code(), Some(1), "non-zero exit");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("5 problems:"), "{stdout}");
    for expected in [
        "watch.root: /Volumes/fs/BY_SHOT does not exist",
        "watch.rescan_interval_secs: expected a whole number, found string \"fast\"\n",
        "nomenclature.patterns[0]: pattern \"studio\" is not a valid regular expression",
        "discord.language: unknown variant `de`, expected `en` or `fr`\n",
        "transfers.parallel_parts: 0 is out of range (1 to 32)",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert_eq!(
        stdout.matches("fix: ").count(),
        5,
        "a fix for each:\n{stdout}"
    );

    let out = check(home.path(), &config, true);
    let problems: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(problems.len(), 5);
    assert!(problems
        .iter()
        .all(|p| !p["fix"].as_str().unwrap().is_empty()));
}

#[test]
fn a_valid_file_passes() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path().join("BY_SHOT");
    std::fs::create_dir(&root).unwrap();
    let config = home.path().join("settings.toml");
    std::fs::write(
        &config,
        format!(
            "[watch]\nroot = {:?}\n[frameio]\naccount_id = \"{ACCOUNT}\"\nproject_id = \"{PROJECT}\"\n",
            root.display().to_string()
        ),
    )
    .unwrap();
    let out = check(home.path(), &config, false);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("No problems found."), "{stdout}");
}

#[test]
fn a_broken_file_is_reported_kept_and_defaults_run() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("settings.toml");
    let text = "[watch\nroot = 1\n";
    std::fs::write(&config, text).unwrap();
    let out = check(home.path(), &config, false);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("running on defaults"), "{stdout}");
    assert!(stdout.contains("(file): not valid TOML"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        text,
        "never overwritten"
    );
}

#[test]
fn environment_overrides_from_the_python_service_are_applied_and_shown() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path().join("BY_SHOT");
    std::fs::create_dir(&root).unwrap();
    let config = home.path().join("missing.toml");
    let out = support::postflow(home.path())
        .arg("--config")
        .arg(&config)
        .args(["config", "check"])
        .env("LUCIDLINK_BY_SHOT_PATH", &root)
        .env("FRAMEIO_ACCOUNT_ID", ACCOUNT)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("does not exist; using defaults"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("Override: watch.root from the environment variable LUCIDLINK_BY_SHOT_PATH"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("watch.root:"),
        "the root from the environment is valid:\n{stdout}"
    );
    assert!(!stdout.contains("frameio.account_id:"), "{stdout}");
    assert!(stdout.contains("frameio.project_id: not set"), "{stdout}");
}

#[test]
fn postflow_config_env_var_selects_the_file_and_init_writes_the_documented_defaults() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("nested/settings.toml");
    let out = support::postflow(home.path())
        .env("POSTFLOW_CONFIG", &config)
        .args(["config", "init"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("[watch]") && written.contains("# Extensions that are uploaded"));
    let out = support::postflow(home.path())
        .env("POSTFLOW_CONFIG", &config)
        .args(["config", "path"])
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains(&config.display().to_string()));
}
