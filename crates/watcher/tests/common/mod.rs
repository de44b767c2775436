//! Helpers shared by the integration tests: real files in temporary folders.

#![allow(dead_code)] // each test binary uses its own subset

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use postflow_watcher::WatchEvent;
use tokio::sync::mpsc;

/// Writes `bytes` to `root/rel`, creating folders.
pub fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, bytes).unwrap();
}

/// Appends `bytes` to `root/rel`.
pub fn append(root: &Path, rel: &str, bytes: &[u8]) {
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(root.join(rel))
        .unwrap();
    file.write_all(bytes).unwrap();
}

/// Whether this process can read folders whatever their permissions (root
/// with CAP_DAC_OVERRIDE): then `chmod 000` blocks nothing.
#[cfg(unix)]
pub fn permissions_are_bypassed(scratch: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = scratch.join("probe");
    fs::create_dir(&probe).unwrap();
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o000)).unwrap();
    let readable = fs::read_dir(&probe).is_ok();
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o755)).unwrap();
    fs::remove_dir(&probe).unwrap();
    readable
}

/// Every event received, with when it arrived.
pub struct Events {
    rx: mpsc::Receiver<WatchEvent>,
    pub log: Vec<(Instant, WatchEvent)>,
}

impl Events {
    pub fn new(rx: mpsc::Receiver<WatchEvent>) -> Self {
        Self {
            rx,
            log: Vec::new(),
        }
    }

    /// Waits for the first event (from now on) matching `pred`; panics with
    /// the log after `timeout`.
    pub async fn until(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&WatchEvent) -> bool,
    ) -> (Instant, WatchEvent) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(event)) => {
                    let at = Instant::now();
                    self.log.push((at, event.clone()));
                    if pred(&event) {
                        return (at, event);
                    }
                }
                Ok(None) => panic!("the watcher stopped; events: {:#?}", self.log),
                Err(_) => panic!("timed out after {timeout:?}; events: {:#?}", self.log),
            }
        }
    }

    /// Collects every event for `duration`.
    pub async fn during(&mut self, duration: Duration) {
        let deadline = tokio::time::Instant::now() + duration;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            self.log.push((Instant::now(), event));
        }
    }

    /// Waits for the end of the stream; panics after `timeout`.
    pub async fn closed(&mut self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(event)) => self.log.push((Instant::now(), event)),
                Ok(None) => return,
                Err(_) => panic!("the stream did not end; events: {:#?}", self.log),
            }
        }
    }

    /// How many logged events match.
    pub fn count(&self, pred: impl Fn(&WatchEvent) -> bool) -> usize {
        self.log.iter().filter(|(_, e)| pred(e)).count()
    }

    /// Logged events after `since`.
    pub fn since(&self, since: Instant) -> Vec<&WatchEvent> {
        self.log
            .iter()
            .filter(|(at, _)| *at >= since)
            .map(|(_, e)| e)
            .collect()
    }
}

pub fn is_candidate(event: &WatchEvent, path: &str) -> bool {
    matches!(event, WatchEvent::Candidate(o) if o.rel_path == path)
}

pub fn is_ready(event: &WatchEvent, path: &str) -> bool {
    matches!(event, WatchEvent::Ready(o) if o.rel_path == path)
}

/// Whether the event names `path` at all.
pub fn mentions(event: &WatchEvent, path: &str) -> bool {
    match event {
        WatchEvent::Candidate(o) | WatchEvent::Ready(o) => o.rel_path == path,
        WatchEvent::Gone { rel_path } | WatchEvent::Unreadable { rel_path, .. } => rel_path == path,
        _ => false,
    }
}

/// Set in the child process that re-runs a test without root's permission
/// bypass.
#[cfg(unix)]
const UNPRIVILEGED_CHILD: &str = "POSTFLOW_WATCHER_TEST_UNPRIVILEGED";

/// Runs one test of the current test binary again as user `nobody` (via
/// util-linux `setpriv`), so that `chmod 000` means something even when the
/// suite runs as root (as CI does). Skips, saying so, where that is not
/// possible.
#[cfg(unix)]
pub fn rerun_unprivileged(test: &str) {
    if std::env::var_os(UNPRIVILEGED_CHILD).is_some() {
        eprintln!("SKIPPED assertion in {test}: even user nobody bypasses permissions here");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(UNPRIVILEGED_CHILD, "1")
        .env("TMPDIR", std::env::temp_dir())
        // Captured, so the child's own summary line is not counted twice.
        .output();
    match output {
        Ok(out)
            if out.status.success()
                && String::from_utf8_lossy(&out.stdout).contains("1 passed") =>
        {
            if String::from_utf8_lossy(&out.stderr).contains("SKIPPED") {
                eprintln!("SKIPPED assertion in {test}: user nobody bypasses permissions too");
            } else {
                eprintln!("{test}: passed in an unprivileged child process (user nobody)");
            }
        }
        // setpriv itself could not run the test binary (e.g. its folder is
        // closed to nobody).
        Ok(out) if matches!(out.status.code(), Some(126 | 127)) => eprintln!(
            "SKIPPED assertion in {test}: running as root (chmod 000 blocks nothing) and \
             user nobody cannot run the test binary: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Ok(out) => panic!(
            "{test} failed as user nobody ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!(
            "SKIPPED assertion in {test}: running as root (chmod 000 blocks nothing) and \
             cannot re-run as user nobody with setpriv: {e}"
        ),
    }
}
