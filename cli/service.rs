//! `postflow run | status | pause | resume | retry`: the headless service and
//! the commands that steer and observe it from another process (through the
//! queue database).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use postflow_queue::{Queue, Status, StatusKind};
use postflow_secrets::SecretStore;
use postflow_service::{queue_path, Report};
use postflow_settings::Paths;

/// `postflow run`: the engine without a window, until SIGINT/SIGTERM.
pub fn run(paths: &Paths) -> anyhow::Result<ExitCode> {
    let loaded = postflow_settings::load(&paths.config_file);
    for problem in loaded.all_problems() {
        tracing::warn!("settings: {problem}");
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let stop = async {
            #[cfg(unix)]
            {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("SIGTERM handler");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("stopping: letting the queue settle");
        };
        let secrets = Arc::new(SecretStore::open());
        let control = postflow_service::control_for(paths)?;
        match postflow_service::run(paths, &loaded.settings, secrets, control, stop).await {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => {
                eprintln!("error: {e}");
                Ok(ExitCode::from(2))
            }
        }
    })
}

#[derive(clap::Args)]
pub struct StatusArgs {
    /// One JSON object per report.
    #[arg(long)]
    json: bool,
    /// Print once and exit (the default).
    #[arg(long, conflicts_with = "interval")]
    once: bool,
    /// Print again every N seconds until interrupted.
    #[arg(long, value_name = "N")]
    interval: Option<u64>,
}

pub fn status(paths: &Paths, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let settings = postflow_settings::load(&paths.config_file).settings;
    loop {
        let report = Report::gather(paths, &settings)?;
        if args.json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            print_report(&report);
        }
        match args.interval {
            Some(n) if !args.once => std::thread::sleep(Duration::from_secs(n.max(1))),
            _ => return Ok(ExitCode::SUCCESS),
        }
    }
}

fn print_report(r: &Report) {
    if r.running {
        println!(
            "PostFlow service: running (pid {}, up {}, CPU {:.1} %, {:.1} MiB){}",
            r.pid.unwrap_or_default(),
            duration(r.uptime_secs.unwrap_or_default()),
            r.cpu_percent.unwrap_or_default(),
            r.rss_bytes.unwrap_or_default() as f64 / 1_048_576.0,
            if r.paused { ", paused" } else { "" }
        );
    } else {
        println!(
            "PostFlow service: not running{}",
            if r.paused { " (paused)" } else { "" }
        );
    }
    println!("Health: {}/100", r.health);
    for p in &r.problems {
        println!("  - {p}");
    }
    let counts: Vec<String> = r
        .counts
        .iter()
        .map(|(k, v)| format!("{v} {}", k.replace('_', " ")))
        .collect();
    println!(
        "Queue: {}",
        if counts.is_empty() {
            "empty".into()
        } else {
            counts.join(", ")
        }
    );
    let h = &r.last_hour;
    println!(
        "Last hour: {} processed, {} uploaded, {} errors; {} scene(s), {} shot(s){}",
        h.processed,
        h.uploads_done,
        h.errors,
        h.scenes,
        h.shots,
        h.last_upload_at
            .map(|t| format!(
                "; last upload {} ago",
                duration(((postflow_queue::now_ms() - t) / 1000).max(0) as u64)
            ))
            .unwrap_or_default()
    );
    match (r.disk_free_bytes, r.disk_total_bytes) {
        (Some(free), Some(total)) => println!(
            "Watch root: {} ({:.1} GiB free of {:.1} GiB)",
            r.watch_root,
            free as f64 / 1_073_741_824.0,
            total as f64 / 1_073_741_824.0
        ),
        _ => println!(
            "Watch root: {}",
            if r.watch_root.is_empty() {
                "(not set)"
            } else {
                &r.watch_root
            }
        ),
    }
    print_discord(r);
}

fn print_discord(r: &Report) {
    let d = &r.discord;
    if !d.enabled {
        println!("Discord: off (`discord.enabled` in the settings)");
        return;
    }
    let state = match &d.problem {
        Some(p) => format!("waiting: {}", p.message),
        None => "messages going out".into(),
    };
    println!(
        "Discord: {state}; {} pending, {} sent{}",
        d.outbox.pending,
        d.outbox.sent,
        if d.outbox.given_up > 0 {
            format!(", {} refused by Discord and set aside", d.outbox.given_up)
        } else {
            String::new()
        }
    );
}

fn duration(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

pub fn set_paused(paths: &Paths, paused: bool) -> anyhow::Result<ExitCode> {
    postflow_service::set_paused(paths, paused)?;
    println!(
        "{} A running service applies it within 2 s; a service started later starts {}.",
        if paused {
            "Paused: no new upload starts."
        } else {
            "Resumed."
        },
        if paused { "paused" } else { "running" }
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct RetryArgs {
    /// The item to retry (as `postflow status --json` or the UI show it).
    #[arg(required_unless_present = "all_failed", conflicts_with = "all_failed")]
    id: Option<i64>,
    /// Retry every failed item.
    #[arg(long)]
    all_failed: bool,
}

pub fn retry(paths: &Paths, args: RetryArgs) -> anyhow::Result<ExitCode> {
    let queue = Queue::open(&queue_path(paths))?;
    if args.all_failed {
        let n = queue.retry_all_failed()?;
        println!("{n} failed item(s) queued again.");
    } else if let Some(id) = args.id {
        let item = queue.retry(id)?;
        println!("{} queued again.", item.file_name);
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// Only items in these states (e.g. `failed,held`); default: everything
    /// not finished.
    #[arg(long, value_delimiter = ',', value_name = "STATES")]
    status: Vec<String>,
    /// One JSON array of items.
    #[arg(long)]
    json: bool,
}

/// `postflow list`: the items (with the ids `retry` and `cancel` take).
pub fn list(paths: &Paths, args: ListArgs) -> anyhow::Result<ExitCode> {
    let kinds: Vec<StatusKind> = if args.status.is_empty() {
        StatusKind::ALL
            .into_iter()
            .filter(|k| !k.is_final())
            .collect()
    } else {
        args.status
            .iter()
            .map(|s| {
                StatusKind::parse(s.trim()).with_context(|| {
                    format!(
                        "unknown state {s:?}; one of: {}",
                        StatusKind::ALL.map(|k| k.as_str()).join(", ")
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    let items = Queue::open(&queue_path(paths))?.with_status(&kinds, 1000)?;
    if args.json {
        println!("{}", serde_json::to_string(&items)?);
        return Ok(ExitCode::SUCCESS);
    }
    if items.is_empty() {
        println!("Nothing here.");
    }
    for item in &items {
        let detail = match &item.status {
            Status::Held { reason } | Status::Cancelled { reason } => format!(": {reason}"),
            Status::Failed { reason, .. } => format!(" ({} attempts): {reason}", item.attempts),
            _ => String::new(),
        };
        println!(
            "{:>6}  {:<22} {}{detail}",
            item.id,
            item.status.kind().as_str(),
            item.rel_path
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct CancelArgs {
    /// The item to ignore (see `postflow list`).
    id: i64,
}

/// `postflow cancel ID`: ignore this version of a file (`retry` undoes it).
pub fn cancel(paths: &Paths, args: CancelArgs) -> anyhow::Result<ExitCode> {
    let queue = Queue::open(&queue_path(paths))?;
    let item = queue
        .get(args.id)?
        .with_context(|| format!("item {} is not in the queue (see `postflow list`)", args.id))?;
    let kind = item.status.kind();
    let idle = matches!(
        kind,
        StatusKind::WaitingForStability
            | StatusKind::Queued
            | StatusKind::Held
            | StatusKind::Failed
    );
    if !idle {
        eprintln!(
            "{} is {}: only a file waiting, queued, held or failed can be cancelled.",
            item.file_name,
            kind.as_str().replace('_', " ")
        );
        return Ok(ExitCode::FAILURE);
    }
    queue.cancel(args.id, "cancelled by the user")?;
    println!(
        "{} cancelled: this version will not be uploaded (`postflow retry {}` to undo).",
        item.file_name, args.id
    );
    Ok(ExitCode::SUCCESS)
}

/// `postflow check`: tests the setup end to end; exits 1 if anything fails.
pub fn check(paths: &Paths) -> anyhow::Result<ExitCode> {
    let settings = postflow_settings::load(&paths.config_file).settings;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let checks = runtime.block_on(postflow_service::check(
        &settings,
        Arc::new(SecretStore::open()),
    ));
    for c in &checks {
        println!(
            "{} {}: {}",
            if c.ok { "ok  " } else { "FAIL" },
            c.what,
            c.detail
        );
        if let Some(fix) = &c.fix {
            println!("     fix: {fix}");
        }
    }
    // The Discord webhook check arrives with the Discord notifications issue.
    Ok(if checks.iter().all(|c| c.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
