//! The desktop app's tray as the desktop sees it: the StatusNotifierItem
//! and its dbusmenu on the session bus (a real `status-notifier-watcher`),
//! read and clicked with `gdbus`, while the app hosts the service against
//! the Frame.io emulator. Also one app per user: a second launch starts no
//! second service, and `postflow run` beside it is refused.
//!
//! Needs a display and a session bus (`scripts/test.sh` runs the suite
//! under Xvfb and `dbus-run-session`, with `POSTFLOW_REQUIRE_DISPLAY=1` so
//! that a missing one fails instead of skipping).

use std::process::Command;
use std::time::{Duration, Instant};

use postflow_frameio_emulator::{Emulator, EmulatorConfig, RateLimits};

mod support;
use support::desktop::{app, built, can_run, cli, settings_for, Killed};

fn gdbus(args: &[&str]) -> String {
    let out = Command::new("gdbus").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The first `'...'` string after `key` in gdbus's text output.
fn quoted_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let rest = &text[text.find(key)? + key.len()..];
    let start = rest.find('\'')? + 1;
    let end = rest[start..].find('\'')? + start;
    Some(&rest[start..end])
}

/// One menu entry: (dbusmenu id, label, enabled).
type Entry = (u32, String, bool);

/// The tray's menu as a desktop reads it: the registered item's menu
/// object, `com.canonical.dbusmenu.GetLayout`.
struct Tray {
    bus: String,
    menu: String,
}

impl Tray {
    fn find(timeout: Duration) -> Tray {
        let deadline = Instant::now() + timeout;
        loop {
            let items = gdbus(&[
                "call",
                "--session",
                "--dest",
                "org.kde.StatusNotifierWatcher",
                "--object-path",
                "/StatusNotifierWatcher",
                "--method",
                "org.freedesktop.DBus.Properties.Get",
                "org.kde.StatusNotifierWatcher",
                "RegisteredStatusNotifierItems",
            ]);
            if let Some(bus) = quoted_after(&items, "[") {
                let tree = gdbus(&[
                    "introspect",
                    "--session",
                    "--dest",
                    bus,
                    "--object-path",
                    "/",
                    "--recurse",
                ]);
                let item = tree
                    .split_whitespace()
                    .find(|w| {
                        w.starts_with("/org/ayatana/NotificationItem/") && !w.ends_with("/Menu")
                    })
                    .map(str::to_string);
                if let Some(item) = item {
                    let props = gdbus(&[
                        "call",
                        "--session",
                        "--dest",
                        bus,
                        "--object-path",
                        &item,
                        "--method",
                        "org.freedesktop.DBus.Properties.Get",
                        "org.kde.StatusNotifierItem",
                        "Menu",
                    ]);
                    if let Some(menu) =
                        quoted_after(&props, "<objectpath ").or_else(|| quoted_after(&props, "(<"))
                    {
                        return Tray {
                            bus: bus.to_string(),
                            menu: menu.to_string(),
                        };
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "no tray item registered with the watcher: {items}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn entries(&self) -> Vec<Entry> {
        let layout = gdbus(&[
            "call",
            "--session",
            "--dest",
            &self.bus,
            "--object-path",
            &self.menu,
            "--method",
            "com.canonical.dbusmenu.GetLayout",
            "--",
            "0",
            "-1",
            "['label','enabled']",
        ]);
        // Entries look like `(7, {'label': <'Pause'>, 'enabled': <true>}, ...`.
        let mut entries = Vec::new();
        for part in layout.split("<(").skip(1) {
            let Some((id, rest)) = part.split_once(", {") else {
                continue;
            };
            let Ok(id) = id.trim().parse() else { continue };
            let props = rest.split('}').next().unwrap_or_default();
            let Some(label) = quoted_after(props, "'label': <") else {
                continue;
            };
            let enabled = !props.contains("'enabled': <false>");
            // GTK menus take `_` for a mnemonic: labels carry `__` for one
            // underscore, which the desktop shows as `_`.
            entries.push((id, label.replace("__", "_"), enabled));
        }
        entries
    }

    fn status(&self) -> String {
        self.entries()
            .first()
            .map(|e| e.1.clone())
            .unwrap_or_default()
    }

    fn entry(&self, label_start: &str) -> Option<Entry> {
        self.entries()
            .into_iter()
            .find(|e| e.1.starts_with(label_start))
    }

    fn click(&self, label_start: &str) {
        let (id, ..) = self
            .entry(label_start)
            .unwrap_or_else(|| panic!("no menu item {label_start:?} in {:?}", self.entries()));
        gdbus(&[
            "call",
            "--session",
            "--dest",
            &self.bus,
            "--object-path",
            &self.menu,
            "--method",
            "com.canonical.dbusmenu.Event",
            "--",
            &id.to_string(),
            "clicked",
            "<0>",
            "0",
        ]);
    }

    fn wait(&self, what: &str, timeout: Duration, ok: impl Fn(&Tray) -> bool) {
        let deadline = Instant::now() + timeout;
        while !ok(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the menu: {:#?}",
                self.entries()
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_tells_the_truth_through_idle_uploading_failed_paused_and_signed_out() {
    if !can_run(&["status-notifier-watcher", "gdbus"]) {
        return;
    }
    let _watcher = Killed::spawn(&mut Command::new("status-notifier-watcher"));
    let emu = Emulator::start(EmulatorConfig {
        part_size: 256 * 1024,
        rate_limits: RateLimits::unlimited(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let (config, root) = settings_for(
        home.path(),
        &emu,
        "[transfers]\nbandwidth_limit_mbps = 16\n",
    );
    let token = emu.issue_token();
    let _app = Killed(app(home.path(), &config, &token).spawn().unwrap());
    let tray = Tray::find(Duration::from_secs(60));

    // Idle: all good, nothing to retry.
    tray.wait("idle", Duration::from_secs(60), |t| {
        t.status() == "Watching BY_SHOT: no render yet"
    });
    let retry = tray.entry("Retry failed").unwrap();
    assert_eq!((retry.1.as_str(), retry.2), ("Retry failed (0)", false));
    assert_eq!(tray.entry("Sign in").map(|e| e.2), Some(false));

    // Uploading: 4 MB at 16 Mbit/s is two seconds of parts.
    std::fs::write(root.join("SC01_UNDLM_00412_V002.mov"), vec![7u8; 4_000_000]).unwrap();
    tray.wait("uploading", Duration::from_secs(60), |t| {
        t.status().starts_with("Uploading 1 of 1")
    });
    tray.wait("the upload done", Duration::from_secs(60), |t| {
        t.status() == "The render is in Frame.io"
    });
    tray.wait("recent uploads", Duration::from_secs(10), |t| {
        t.entry("SC01_UNDLM_00412_V002.mov").is_some_and(|e| e.2)
    });

    // Failed: never "all good" while something fails.
    let failing = "SC02_TITRE_0010_V001.mov";
    emu.faults().fail_local_upload_named(failing, 1, 422);
    std::fs::write(root.join(failing), vec![8u8; 50_000]).unwrap();
    tray.wait("attention", Duration::from_secs(60), |t| {
        t.status() == "1 render needs attention"
    });
    tray.wait("Retry failed (1) enabled", Duration::from_secs(10), |t| {
        t.entry("Retry failed")
            .is_some_and(|(_, label, enabled)| label == "Retry failed (1)" && enabled)
    });

    // Paused from the tray: durable (a terminal sees it), and resumed from a
    // terminal: the tray follows.
    tray.click("Pause");
    tray.wait("paused", Duration::from_secs(10), |t| {
        t.status() == "Paused" && t.entry("Resume").is_some()
    });
    let status = cli(home.path(), &config, &["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["paused"], true, "{status}");
    assert_eq!(
        status["running"], true,
        "the app's service is the one running: {status}"
    );
    let resumed = cli(home.path(), &config, &["resume"]);
    assert!(resumed.status.success());
    tray.wait("resumed from a terminal", Duration::from_secs(10), |t| {
        t.entry("Pause").is_some()
    });

    // One service per queue: `postflow run` beside the app is refused, and
    // a second app launch starts nothing.
    let second = Command::new(built("postflow"))
        .args(["--config", config.to_str().unwrap(), "run"])
        .env("POSTFLOW_DATA_DIR", home.path().join("data"))
        .env("POSTFLOW_LOG_DIR", home.path().join("logs2"))
        .env("POSTFLOW_FRAMEIO_TOKEN", &token)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2));
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(said.contains("another PostFlow service"), "{said}");
    let again = app(home.path(), &config, &token).output().unwrap();
    assert!(
        again.status.success(),
        "a second launch hands over and exits"
    );

    // Signed out: Frame.io refuses the sign-in; the tray says a person is
    // needed, and "Sign in…" is offered.
    emu.revoke_all_tokens();
    std::fs::write(root.join("SC03_AFTER_0001_V001.mov"), vec![9u8; 50_000]).unwrap();
    tray.wait("needs you", Duration::from_secs(60), |t| {
        t.status().starts_with("Needs you")
    });
    assert_eq!(tray.entry("Sign in").map(|e| e.2), Some(true));
}
