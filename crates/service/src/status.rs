//! `postflow status`: what the service is doing, from the queue database
//! and the service's heartbeat, with a health score.
//!
//! **Health score** (0–100): start from 100 and subtract, for each problem
//! found: service not running 50; signed out / needs a person 40; Frame.io
//! unreachable 30; filespace offline 30; paused 10; items failed and needing
//! action 5 each (at most 20); errors in the last hour 2 each (at most 10);
//! less than 5 % free space on the watch root's disk 10; Discord messages
//! not going out (webhook no longer valid, none stored, Discord
//! unavailable) 10. Clamped to 0.

use std::collections::BTreeMap;
use std::path::Path;

use postflow_queue::{now_ms, OutboxSummary, Queue, Status, StatusKind, Summary};
use postflow_settings::{Paths, Settings};
use serde::Serialize;

use crate::{
    heartbeat, notifier, queue_path, Clock as _, DiscordProblem, Heartbeat, HEARTBEAT_STALE,
};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub running: bool,
    pub pid: Option<u32>,
    pub uptime_secs: Option<u64>,
    pub cpu_percent: Option<f32>,
    pub rss_bytes: Option<u64>,
    /// The persisted pause flag (what `pause`/`resume` set).
    pub paused: bool,
    /// When a timed pause ends (unix ms).
    pub paused_until: Option<i64>,
    /// The upload cap now and its next change (from the settings: the
    /// timetable, else `bandwidth_limit_mbps`).
    pub bandwidth: crate::BandwidthStatus,
    /// Whether the running service has applied a pause (from its heartbeat).
    pub service_paused: Option<bool>,
    pub frameio_online: Option<bool>,
    pub filespace_online: Option<bool>,
    pub counts: BTreeMap<String, u64>,
    pub last_hour: Summary,
    pub failed_needing_action: u64,
    pub watch_root: String,
    pub disk_free_bytes: Option<u64>,
    pub disk_total_bytes: Option<u64>,
    /// Where the queue database is, and the free bytes of its disk.
    pub queue_dir: Option<String>,
    pub queue_disk_free_bytes: Option<u64>,
    pub discord: DiscordReport,
    pub health: u8,
    pub problems: Vec<String>,
}

impl Report {
    /// Everything `postflow status` and the health view show.
    pub fn gather(paths: &Paths, settings: &Settings) -> Result<Report, postflow_queue::Error> {
        Self::gather_with(&Queue::open(&queue_path(paths))?, settings, true)
    }

    /// What the one-glance snapshot needs, refreshed every few seconds by a
    /// running app: the last hour only as far as health needs it (its
    /// errors, counted through an index), not what was processed in it (a
    /// scan of every recent transition: after a large batch, the bulk of
    /// an idle app's CPU). Read through the caller's open `queue`.
    pub fn gather_brief(
        queue: &Queue,
        settings: &Settings,
    ) -> Result<Report, postflow_queue::Error> {
        Self::gather_with(queue, settings, false)
    }

    fn gather_with(
        queue: &Queue,
        settings: &Settings,
        whole_hour: bool,
    ) -> Result<Report, postflow_queue::Error> {
        let now = now_ms();
        let clock = crate::SystemClock.now();
        let beat: Option<Heartbeat> = heartbeat(queue);
        let running = beat.as_ref().is_some_and(|b| {
            !b.stopped && now - b.at < HEARTBEAT_STALE.as_millis() as i64 && process_alive(b.pid)
        });
        let live = beat.as_ref().filter(|_| running);
        let counts = queue.counts()?;
        let failed_needing_action = queue
            .with_status(&[StatusKind::Failed], usize::MAX >> 1)?
            .iter()
            .filter(|i| {
                matches!(
                    i.status,
                    Status::Failed {
                        needs_action: true,
                        ..
                    }
                )
            })
            .count() as u64;
        let last_hour = if whole_hour {
            queue.summary_since(now - 3_600_000)?
        } else {
            Summary {
                errors: queue.errors_since(now - 3_600_000)?,
                ..Summary::default()
            }
        };
        let (disk_free_bytes, disk_total_bytes) = disk_space(&settings.watch.root).unzip();
        let queue_dir = queue.path().and_then(|p| p.parent().map(Path::to_path_buf));
        let queue_disk_free_bytes = queue_dir.as_deref().and_then(free_bytes);
        let mut report = Report {
            running,
            pid: live.map(|b| b.pid),
            uptime_secs: live.map(|b| ((now - b.started_at) / 1000) as u64),
            cpu_percent: live.map(|b| b.cpu_percent),
            rss_bytes: live.map(|b| b.rss_bytes),
            paused: queue.state(postflow_engine::PAUSED_KEY)?.as_deref() == Some("true"),
            paused_until: crate::paused_until(queue),
            bandwidth: crate::BandwidthPlan::from_settings(settings).status(&clock),
            service_paused: live.map(|b| b.paused),
            frameio_online: live.map(|b| b.frameio_online),
            filespace_online: live.map(|b| b.filespace_online),
            counts: counts
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), *v))
                .collect(),
            last_hour,
            failed_needing_action,
            watch_root: settings.watch.root.display().to_string(),
            disk_free_bytes,
            disk_total_bytes,
            queue_dir: queue_dir.map(|d| d.display().to_string()),
            queue_disk_free_bytes,
            discord: DiscordReport {
                enabled: settings.discord.enabled,
                outbox: queue.outbox_summary(postflow_engine::DISCORD_CHANNEL)?,
                problem: notifier::problem(queue).filter(|_| settings.discord.enabled),
            },
            health: 100,
            problems: Vec::new(),
        };
        let (score, problems) = health(&report, live.and_then(|b| b.needs_user.clone()));
        report.health = score;
        report.problems = problems;
        Ok(report)
    }
}

/// The Discord outbox: what waits, what went out, and why it waits.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiscordReport {
    pub enabled: bool,
    pub outbox: OutboxSummary,
    /// Why messages are not going out, when they are not.
    pub problem: Option<DiscordProblem>,
}

/// The score and the problems behind it (see the module docs).
pub fn health(report: &Report, needs_user: Option<String>) -> (u8, Vec<String>) {
    let mut score: i32 = 100;
    let mut problems = Vec::new();
    let mut minus = |points: i32, problem: String| {
        score -= points;
        problems.push(problem);
    };
    if !report.running {
        minus(
            50,
            "the service is not running (start it with `postflow run`)".into(),
        );
    }
    if let Some(reason) = needs_user {
        minus(40, format!("needs you: {reason}"));
    }
    if report.frameio_online == Some(false) {
        minus(30, "Frame.io is unreachable; uploads wait".into());
    }
    if report.filespace_online == Some(false) {
        minus(
            30,
            format!(
                "the filespace is offline ({} is not reachable)",
                report.watch_root
            ),
        );
    }
    if report.paused {
        minus(10, "paused (`postflow resume` to continue)".into());
    }
    if report.failed_needing_action > 0 {
        minus(
            (5 * report.failed_needing_action as i32).min(20),
            format!(
                "{} item(s) failed and need action (`postflow retry --all-failed`)",
                report.failed_needing_action
            ),
        );
    }
    if report.last_hour.errors > 0 {
        minus(
            (2 * report.last_hour.errors as i32).min(10),
            format!("{} error(s) in the last hour", report.last_hour.errors),
        );
    }
    if let (Some(free), Some(total)) = (report.disk_free_bytes, report.disk_total_bytes) {
        if total > 0 && free * 20 < total {
            minus(
                10,
                "less than 5 % free space on the watch root's disk".into(),
            );
        }
    }
    if let (Some(free), Some(dir)) = (report.queue_disk_free_bytes, &report.queue_dir) {
        if free < QUEUE_DISK_LOW {
            minus(
                40,
                format!(
                    "the disk holding PostFlow's queue ({dir}) is full: free some space there. \
                     Nothing recorded is lost; new renders are recorded as soon as there is room"
                ),
            );
        }
    }
    if let Some(problem) = &report.discord.problem {
        minus(
            10,
            format!(
                "Discord messages wait ({} kept): {}",
                report.discord.outbox.pending, problem.message
            ),
        );
    }
    (score.clamp(0, 100) as u8, problems)
}

fn process_alive(pid: u32) -> bool {
    // Cannot tell: trust the fresh heartbeat.
    let Ok(mut system) = sysinfo::System::new() else {
        return true;
    };
    let pid = sysinfo::Pid::from_u32(pid);
    system.refresh_processes(sysinfo::ProcessesToUpdate::Some(&[pid]), true);
    system.process(pid).is_some()
}

/// Below this, the queue's disk counts as full: SQLite needs room for its
/// journal before it can write a page.
const QUEUE_DISK_LOW: u64 = 1 << 20;

/// Free bytes (for an unprivileged writer) of the filesystem holding `dir`.
#[cfg(unix)]
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a statvfs to fill, both ours.
    if unsafe { libc::statvfs(c.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    Some(stat.f_bavail as u64 * stat.f_frsize as u64)
}

#[cfg(not(unix))]
fn free_bytes(dir: &Path) -> Option<u64> {
    disk_space(dir).map(|(free, _)| free)
}

/// Free and total bytes of the disk holding `root` (the mount point that is
/// the longest prefix of it).
fn disk_space(root: &Path) -> Option<(u64, u64)> {
    if root.as_os_str().is_empty() {
        return None;
    }
    let disks = sysinfo::Disks::new_with_refreshed_list().ok()?;
    disks
        .iter()
        .filter(|d| root.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len())
        .map(|d| (d.available_space(), d.total_space()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            running: true,
            pid: Some(1),
            uptime_secs: Some(10),
            cpu_percent: Some(0.1),
            rss_bytes: Some(1),
            paused: false,
            paused_until: None,
            bandwidth: crate::BandwidthStatus::default(),
            service_paused: Some(false),
            frameio_online: Some(true),
            filespace_online: Some(true),
            counts: BTreeMap::new(),
            last_hour: Summary::default(),
            failed_needing_action: 0,
            watch_root: "/fs/BY_SHOT".into(),
            disk_free_bytes: Some(50),
            queue_dir: Some("/data".into()),
            queue_disk_free_bytes: Some(1 << 30),
            disk_total_bytes: Some(100),
            discord: DiscordReport::default(),
            health: 0,
            problems: vec![],
        }
    }

    #[test]
    fn a_healthy_service_scores_100_with_no_problems() {
        assert_eq!(health(&report(), None), (100, vec![]));
    }

    #[test]
    fn each_problem_costs_what_the_formula_says_and_is_named() {
        let mut r = report();
        r.paused = true;
        r.failed_needing_action = 7; // capped at 20
        r.last_hour.errors = 2;
        r.disk_free_bytes = Some(4); // < 5 %
        r.discord.outbox.pending = 3;
        r.discord.problem = Some(DiscordProblem {
            kind: "webhook_invalid".into(),
            message: "Discord webhook no longer valid".into(),
            since: 0,
        });
        let (score, problems) = health(&r, None);
        assert_eq!(score, 100 - 10 - 20 - 4 - 10 - 10);
        assert_eq!(problems.len(), 5);
        assert!(
            problems[4].contains("3 kept") && problems[4].contains("no longer valid"),
            "{problems:?}"
        );
        assert!(problems[1].contains("retry --all-failed"), "{problems:?}");

        let mut r = report();
        r.running = false;
        r.frameio_online = Some(false);
        r.filespace_online = Some(false);
        let (score, problems) = health(&r, Some("sign in again".into()));
        assert_eq!(score, 0, "clamped");
        assert!(problems.iter().any(|p| p.contains("sign in again")));
    }
}
