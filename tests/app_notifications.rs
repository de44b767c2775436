//! The desktop app's notifications as the desktop receives them: a real
//! notification server (dunst) on the session bus, every
//! `org.freedesktop.Notifications.Notify` call read with `dbus-monitor`,
//! while the app hosts the service against the Frame.io emulator.
//!
//! What a user asks of them: a backlog of renders is one notification, not
//! five; a render that needs a person is told once, not once per retry; a
//! click on it opens PostFlow.
//!
//! Needs a display and a session bus (`scripts/test.sh` runs the suite
//! under Xvfb and `dbus-run-session`, with `POSTFLOW_REQUIRE_DISPLAY=1`).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use postflow_api::notify::{BATCH_QUIET, START_GRACE};
use postflow_frameio_emulator::{Emulator, EmulatorConfig, RateLimits};

mod support;
use support::desktop::{app, can_run, cli, settings_for, Killed};

/// One `Notify` call: (summary, body).
type Notice = (String, String);

/// Every `Notify` call on the session bus, from `dbus-monitor`'s output.
struct Monitor {
    _child: Killed,
    rx: std::sync::mpsc::Receiver<String>,
    seen: String,
}

impl Monitor {
    fn start() -> Monitor {
        let child = Command::new("dbus-monitor")
            .args([
                "--session",
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut child = Killed(child);
        // Non-blocking reads: `notices` takes what has come so far.
        let stdout = child.0.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut stdout = stdout;
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0
                    || tx
                        .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                        .is_err()
                {
                    break;
                }
            }
        });
        Monitor {
            _child: child,
            rx,
            seen: String::new(),
        }
    }

    /// The notifications sent so far, in order.
    fn notices(&mut self) -> Vec<Notice> {
        while let Ok(chunk) = self.rx.try_recv() {
            self.seen.push_str(&chunk);
        }
        // A call reads: app_name, replaces_id, app_icon, summary, body,
        // actions, hints, timeout; the strings come in that order.
        self.seen
            .split("member=Notify")
            .skip(1)
            .filter_map(|call| {
                let strings: Vec<String> = call
                    .lines()
                    .filter_map(|l| l.trim().strip_prefix("string \""))
                    .map(|s| s.strip_suffix('"').unwrap_or(s).to_string())
                    .collect();
                Some((strings.get(2)?.clone(), strings.get(3)?.clone()))
            })
            .collect()
    }

    fn wait_for(&mut self, what: &str, timeout: Duration, ok: impl Fn(&[Notice]) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            let notices = self.notices();
            if ok(&notices) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; notifications so far: {notices:#?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn has_owner(name: &str) -> bool {
    let out = Command::new("gdbus")
        .args([
            "call",
            "--session",
            "--dest",
            "org.freedesktop.DBus",
            "--object-path",
            "/org/freedesktop/DBus",
            "--method",
            "org.freedesktop.DBus.NameHasOwner",
            name,
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains("true")
}

/// dunst with its defaults (isolated from the user's own config), once it
/// owns `org.freedesktop.Notifications` on the session bus.
fn notification_server(home: &std::path::Path) -> Killed {
    let dunst = Killed::spawn(
        Command::new("dunst")
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("HOME", home),
    );
    wait("the notification server", Duration::from_secs(20), || {
        has_owner("org.freedesktop.Notifications")
    });
    dunst
}

/// Whether a top-level window named PostFlow is on the screen.
fn window_open() -> bool {
    let out = Command::new("xwininfo")
        .args(["-root", "-tree"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains("\"PostFlow\"")
}

fn wait(what: &str, timeout: Duration, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The failed items' count, as `postflow status --json` tells it.
fn failed_count(home: &std::path::Path, config: &std::path::Path) -> i64 {
    let out = cli(home, config, &["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("status --json: {e}: {out:?}"));
    assert!(status["counts"].is_object(), "{status}");
    status["counts"]["failed"].as_i64().unwrap_or(0)
}

/// One desktop (tray host, notification server) per test at a time.
static DESKTOP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_is_one_notification_and_a_failure_is_told_once_not_per_retry() {
    let _desktop = DESKTOP.lock().await;
    if !can_run(&[
        "dunst",
        "dunstctl",
        "dbus-monitor",
        "gdbus",
        "xwininfo",
        "status-notifier-watcher",
    ]) {
        return;
    }
    // A desktop with a tray (else the app says once that it has none).
    let _watcher = Killed::spawn(&mut Command::new("status-notifier-watcher"));
    let mut monitor = Monitor::start();
    let home = tempfile::tempdir().unwrap();
    let _dunst = notification_server(home.path());

    let emu = Emulator::start(EmulatorConfig {
        rate_limits: RateLimits::unlimited(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let (config, root) = settings_for(home.path(), &emu, "");
    // The backlog: five renders already there when PostFlow starts.
    for shot in 1..=5 {
        std::fs::write(
            root.join(format!("SC01_UNDLM_{shot:04}_V001.mov")),
            vec![shot as u8; 40_000],
        )
        .unwrap();
    }
    let started = Instant::now();
    let token = emu.issue_token();
    let _app = Killed::spawn(&mut app(home.path(), &config, &token));

    // One notification for the five, naming them, once the start is over.
    monitor.wait_for(
        "the backlog's summary",
        START_GRACE + BATCH_QUIET + Duration::from_secs(60),
        |n| !n.is_empty(),
    );
    let notices = monitor.notices();
    assert_eq!(
        notices.len(),
        1,
        "one notification, not one per render: {notices:#?}"
    );
    let (summary, body) = &notices[0];
    assert!(
        summary.starts_with("5 renders uploaded to "),
        "the count and the project: {summary:?}"
    );
    for shot in 1..=5 {
        assert!(
            body.contains(&format!("SC01_UNDLM_{shot:04}_V001.mov")),
            "{body}"
        );
    }
    assert!(
        started.elapsed() >= START_GRACE,
        "the backlog is summed up after the start, not told as it goes"
    );

    // A render Frame.io refuses (422: not worth retrying by itself): told
    // at once, with the file's name and why.
    let failing = "SC02_TITRE_0010_V001.mov";
    emu.faults().fail_local_upload_named(failing, 2, 422);
    std::fs::write(root.join(failing), vec![8u8; 50_000]).unwrap();
    monitor.wait_for("the failure", Duration::from_secs(60), |n| n.len() >= 2);
    let (summary, body) = monitor.notices()[1].clone();
    assert_eq!(summary, format!("{failing} needs you"));
    assert!(!body.is_empty(), "it says why");

    // Retried from a terminal, it fails again: nothing more is said (the
    // person who retried is looking at it).
    let retried = cli(home.path(), &config, &["retry", "--all-failed"]);
    assert!(retried.status.success(), "{retried:?}");
    wait("the retry to start", Duration::from_secs(20), || {
        failed_count(home.path(), &config) == 0
    });
    wait("the retry to fail", Duration::from_secs(60), || {
        failed_count(home.path(), &config) == 1
    });
    std::thread::sleep(BATCH_QUIET + Duration::from_secs(2));
    let notices = monitor.notices();
    assert_eq!(
        notices.len(),
        2,
        "no second notification per retry: {notices:#?}"
    );

    // A click on the notification opens PostFlow (the app started in the
    // tray, so no window was open).
    assert!(!window_open(), "the app started in the tray only");
    let clicked = Command::new("dunstctl").arg("action").output().unwrap();
    assert!(clicked.status.success(), "{clicked:?}");
    wait(
        "the window, from the click",
        Duration::from_secs(30),
        window_open,
    );
}

/// A desktop without a tray host (no StatusNotifierWatcher): the app,
/// though set to start in the tray, says so once in a notification and
/// opens its window, so that it is never running unseen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_tray_host_the_app_says_so_once_and_opens_its_window() {
    let _desktop = DESKTOP.lock().await;
    if !can_run(&["dunst", "dbus-monitor", "gdbus", "xwininfo"]) {
        return;
    }
    assert!(
        !has_owner("org.kde.StatusNotifierWatcher"),
        "this test needs a desktop without a tray host"
    );
    let mut monitor = Monitor::start();
    let home = tempfile::tempdir().unwrap();
    let _dunst = notification_server(home.path());
    wait("no window before", Duration::from_secs(20), || {
        !window_open()
    });
    let emu = Emulator::start(EmulatorConfig {
        rate_limits: RateLimits::unlimited(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    // `start_minimized = true`: the tray only, were there one.
    let (config, _root) = settings_for(home.path(), &emu, "");
    let token = emu.issue_token();
    let _app = Killed::spawn(&mut app(home.path(), &config, &token));
    wait(
        "the window, as there is no tray to live in",
        Duration::from_secs(90),
        window_open,
    );
    monitor.wait_for("the no-tray notice", Duration::from_secs(30), |n| {
        n.iter().any(|(s, _)| s.contains("without a tray icon"))
    });
    std::thread::sleep(Duration::from_secs(3));
    let told: Vec<Notice> = monitor
        .notices()
        .into_iter()
        .filter(|(s, _)| s.contains("tray"))
        .collect();
    assert_eq!(told.len(), 1, "said once: {told:#?}");
    assert!(told[0].1.contains("keeps uploading"), "{told:#?}");
}
