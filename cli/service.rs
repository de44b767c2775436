//! `postflow run | status | pause | resume | retry`: the headless service and
//! the commands that steer and observe it from another process (through the
//! queue database).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use postflow_queue::StatusKind;
use postflow_secrets::SecretStore;
use postflow_service::Report;
use postflow_settings::Paths;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Also serve the web UI and its API (on `ui.listen`, else 127.0.0.1:8484).
    #[arg(long)]
    gui: bool,
    /// Serve the web UI on this address instead (implies --gui).
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
}

/// SIGINT or SIGTERM.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("stopping: letting the queue settle");
}

/// The default web UI address of `postflow run --gui`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8484";

/// Where the web UI is served: `--listen`, else `ui.listen`, else (with
/// `--gui`) the default; `None`: not served.
pub fn gui_listen(
    settings: &postflow_settings::Settings,
    gui: bool,
    listen: Option<std::net::SocketAddr>,
) -> anyhow::Result<Option<std::net::SocketAddr>> {
    if let Some(addr) = listen {
        return Ok(Some(addr));
    }
    let configured = settings.ui.listen.trim();
    if !configured.is_empty() {
        return Ok(Some(configured.parse().with_context(|| {
            format!(
                "ui.listen = {configured:?} is not an address and port, e.g. \"{DEFAULT_LISTEN}\""
            )
        })?));
    }
    Ok(gui.then(|| DEFAULT_LISTEN.parse().expect("a valid address")))
}

/// `postflow run`: the service without a window, until SIGINT/SIGTERM;
/// with the web UI, the API hosts it (settings saved in the UI apply at
/// once, and a service that cannot start yet says why in the UI).
pub fn run(paths: &Paths, args: RunArgs) -> anyhow::Result<ExitCode> {
    let loaded = postflow_settings::load(&paths.config_file);
    for problem in loaded.all_problems() {
        tracing::warn!("settings: {problem}");
    }
    let listen = gui_listen(&loaded.settings, args.gui, args.listen)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let secrets = Arc::new(SecretStore::open());
        log_sign_in(&secrets);
        let Some(listen) = listen else {
            let control = postflow_service::control_for(paths)?;
            return match postflow_service::run(
                paths,
                &loaded.settings,
                secrets,
                control,
                stop_signal(),
            )
            .await
            {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(2))
                }
            };
        };
        serve_with_gui(
            paths,
            secrets,
            &loaded.settings,
            listen,
            false,
            &|url| println!("PostFlow web UI: {url}"),
            stop_signal(),
        )
        .await
    })
}

/// Says where the Frame.io sign-in comes from (never the token); run by
/// systemd without one, says where the unit reads it.
fn log_sign_in(secrets: &SecretStore) {
    match secrets.frameio_tokens() {
        Ok(Some((_, origin))) => tracing::info!("Frame.io sign-in from {origin}"),
        Ok(None) if std::env::var_os(postflow_secrets::credentials::DIRECTORY_VAR).is_some() => {
            tracing::error!(
                "no Frame.io token: the systemd credential frameio-token is empty; write the token to the file the unit's LoadCredential=frameio-token: line names (by default /etc/postflow/credentials/frameio-token, `install -m 0400`), then restart the service"
            )
        }
        // Not signed in, or a bad secret: the service says so as it starts.
        Ok(None) | Err(_) => {}
    }
}

/// Hosts the service in the API and serves the web UI until `stop`.
pub async fn serve_with_gui(
    paths: &Paths,
    secrets: Arc<SecretStore>,
    settings: &postflow_settings::Settings,
    listen: std::net::SocketAddr,
    demo: bool,
    announce: &dyn Fn(&str),
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<ExitCode> {
    let (key, origin) = secrets.gui_key().map_err(|e| anyhow::anyhow!("{e}"))?;
    let api = postflow_api::Api::open(postflow_api::ApiOptions {
        paths: paths.clone(),
        secrets,
        host: true,
        demo,
    })
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let server = match postflow_http::serve(
        api.clone(),
        postflow_http::GuiOptions {
            listen,
            allow_remote: settings.ui.allow_remote,
            key,
        },
    )
    .await
    {
        Ok(server) => server,
        Err(e) => {
            api.shutdown().await;
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if !server.addr().ip().is_loopback() {
        eprintln!(
            "WARNING: the web UI is reachable from other machines at {}; it asks for its key (`postflow gui-url`).",
            server.addr()
        );
    }
    if !postflow_http::UI_BUILT {
        eprintln!("note: this build has no web UI inside (build it with ./scripts/run.sh); the API is served.");
    }
    // The address goes to the terminal only, never to a log file: it
    // carries the key.
    announce(&server.url_with_key());
    if origin.is_none() {
        println!("(no keychain here: this key lasts until the service stops)");
    }
    stop.await;
    server.stop().await;
    api.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// `postflow gui-url`: the web UI's address with its key (opens signed in).
pub fn gui_url(paths: &Paths) -> anyhow::Result<ExitCode> {
    let settings = postflow_settings::load(&paths.config_file).settings;
    let listen = gui_listen(&settings, true, None)?.expect("--gui gives an address");
    let (key, origin) = SecretStore::open()
        .gui_key()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if origin.is_none() {
        eprintln!("No keychain on this machine: the running service printed its address when it started (or set POSTFLOW_GUI_KEY for a lasting key).");
        return Ok(ExitCode::FAILURE);
    }
    println!("{}", postflow_http::url_with_key(listen, &key));
    Ok(ExitCode::SUCCESS)
}

/// The API over the queue database of `paths`, steering whatever service
/// runs for it (in this process: none).
fn remote(paths: &Paths) -> anyhow::Result<(tokio::runtime::Runtime, postflow_api::Api)> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let api = runtime
        .block_on(postflow_api::Api::open(postflow_api::ApiOptions {
            paths: paths.clone(),
            secrets: Arc::new(SecretStore::open()),
            host: false,
            demo: false,
        }))
        .map_err(api_error)?;
    Ok((runtime, api))
}

fn api_error(e: postflow_core::ApiError) -> anyhow::Error {
    match e.fix {
        Some(fix) => anyhow::anyhow!("{} ({fix})", e.message),
        None => anyhow::anyhow!("{}", e.message),
    }
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
    use postflow_service::Clock as _;
    let now = postflow_service::SystemClock.now();
    if r.running {
        println!(
            "PostFlow service: running (pid {}, up {}, CPU {:.1} %, {:.1} MiB){}",
            r.pid.unwrap_or_default(),
            duration(r.uptime_secs.unwrap_or_default()),
            r.cpu_percent.unwrap_or_default(),
            r.rss_bytes.unwrap_or_default() as f64 / 1_048_576.0,
            if r.paused { ", paused" } else { "" }
        );
        if let Some(until) = r.paused_until {
            println!(
                "Paused until {} ({} from now); resumes by itself.",
                postflow_service::schedule::local_time_of(until, &now),
                duration(((until - postflow_queue::now_ms()) / 1000).max(0) as u64)
            );
        }
    } else {
        println!(
            "PostFlow service: not running{}",
            if r.paused { " (paused)" } else { "" }
        );
        if let Some(until) = r.paused_until {
            println!(
                "Paused until {}.",
                postflow_service::schedule::local_time_of(until, &now)
            );
        }
    }
    println!(
        "Bandwidth: {}{}",
        r.bandwidth.describe(&now),
        if r.bandwidth.scheduled {
            " (transfers.bandwidth_timetable)"
        } else {
            ""
        }
    );
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

#[derive(clap::Args, Debug)]
pub struct PauseArgs {
    /// Resume by itself after this many minutes.
    #[arg(long = "for", value_name = "MINUTES", conflicts_with = "until")]
    minutes: Option<u64>,
    /// Resume by itself at this local time (HH:MM): today, or tomorrow if
    /// it is already past.
    #[arg(long, value_name = "HH:MM")]
    until: Option<String>,
}

/// When a timed pause asked with `args` ends (unix ms), seen from `now`;
/// `None`: a pause until resumed by hand.
fn pause_end(
    args: &PauseArgs,
    now: &postflow_service::jiff::ZonedDateTime,
) -> anyhow::Result<Option<i64>> {
    let now_ms = now.timestamp().as_millisecond();
    match (args.minutes, &args.until) {
        (Some(minutes), _) => {
            anyhow::ensure!(minutes > 0, "--for takes a number of minutes above 0");
            Ok(Some(now_ms + (minutes as i64) * 60_000))
        }
        (None, Some(time)) => {
            let at = postflow_service::schedule::next_time_of_day(time, now)
                .map_err(|e| anyhow::anyhow!("--until {e}"))?;
            Ok(Some(at.timestamp().as_millisecond()))
        }
        (None, None) => Ok(None),
    }
}

/// `postflow pause [--for MINUTES | --until HH:MM]`.
pub fn pause(paths: &Paths, args: PauseArgs) -> anyhow::Result<ExitCode> {
    use postflow_service::Clock as _;
    let now = postflow_service::SystemClock.now();
    let Some(until) = pause_end(&args, &now)? else {
        return set_paused(paths, true);
    };
    let (runtime, api) = remote(paths)?;
    runtime
        .block_on(api.pause_until(until))
        .map_err(api_error)?;
    let at = postflow_service::schedule::local_time_of(until, &now);
    let how_long = match args.minutes {
        Some(minutes) => format!("for {minutes} min (until {at})"),
        None => format!("until {at}"),
    };
    println!(
        "Paused {how_long}: no new upload starts; the service resumes by itself then (`postflow resume` sooner)."
    );
    Ok(ExitCode::SUCCESS)
}

pub fn set_paused(paths: &Paths, paused: bool) -> anyhow::Result<ExitCode> {
    let (runtime, api) = remote(paths)?;
    runtime
        .block_on(async {
            if paused {
                api.pause().await
            } else {
                api.resume().await
            }
        })
        .map_err(api_error)?;
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
    let (runtime, api) = remote(paths)?;
    if args.all_failed {
        let moved = runtime
            .block_on(api.retry_all_failed())
            .map_err(api_error)?;
        println!("{} failed item(s) queued again.", moved.count);
    } else if let Some(id) = args.id {
        let item = runtime.block_on(api.retry(id)).map_err(api_error)?;
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
    let (runtime, api) = remote(paths)?;
    let page = runtime
        .block_on(api.items(postflow_api::ItemQuery {
            statuses: Some(kinds),
            limit: Some(20_000),
            ..Default::default()
        }))
        .map_err(api_error)?;
    let items = page.items;
    if args.json {
        // View types: never an upload session or its signed part URLs.
        println!("{}", serde_json::to_string(&items)?);
        return Ok(ExitCode::SUCCESS);
    }
    if items.is_empty() {
        println!("Nothing here.");
    }
    for item in &items {
        let detail = match (&item.detail, item.status) {
            (Some(reason), StatusKind::Failed) => {
                format!(" ({} attempts): {reason}", item.attempts)
            }
            (Some(reason), _) => format!(": {reason}"),
            (None, _) => String::new(),
        };
        println!(
            "{:>6}  {:<22} {}{detail}",
            item.id,
            item.status.as_str(),
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
    let (runtime, api) = remote(paths)?;
    match runtime.block_on(api.cancel(args.id)) {
        Ok(item) => {
            println!(
                "{} cancelled: this version will not be uploaded (`postflow retry {}` to undo).",
                item.file_name, args.id
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.disposition == postflow_core::Disposition::Permanent => {
            eprintln!(
                "{}{}",
                e.message,
                e.fix.map(|f| format!(" ({f})")).unwrap_or_default()
            );
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(api_error(e)),
    }
}

#[derive(clap::Args)]
pub struct ProjectsArgs {
    /// Upload to this project from now on (its id, as listed).
    #[arg(long = "use", value_name = "PROJECT_ID")]
    use_id: Option<String>,
    /// One JSON array of accounts, with their workspaces and projects.
    #[arg(long)]
    json: bool,
}

/// `postflow projects [--use ID]`: where uploads can go, and choosing it.
pub fn projects(paths: &Paths, args: ProjectsArgs) -> anyhow::Result<ExitCode> {
    let (runtime, api) = remote(paths)?;
    let accounts = runtime.block_on(api.projects()).map_err(api_error)?;
    let current = api.settings().frameio.project_id;
    if let Some(wanted) = args.use_id {
        let found = accounts.iter().find_map(|a| {
            a.workspaces.iter().find_map(|w| {
                w.projects
                    .iter()
                    .find(|p| p.id == wanted)
                    .map(|p| (a.id.clone(), w.id.clone(), p.clone()))
            })
        });
        let Some((account, workspace, project)) = found else {
            eprintln!("No project {wanted:?} among yours; `postflow projects` lists them.");
            return Ok(ExitCode::FAILURE);
        };
        runtime
            .block_on(api.use_project(account, workspace, project.id.clone()))
            .map_err(api_error)?;
        println!("Uploads go to {} from now on.", project.name);
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        println!("{}", serde_json::to_string(&accounts)?);
        return Ok(ExitCode::SUCCESS);
    }
    for a in &accounts {
        println!("{} ({})", a.name.as_deref().unwrap_or("account"), a.id);
        for w in &a.workspaces {
            println!("  {} ({})", w.name, w.id);
            for p in &w.projects {
                let mark = if p.id == current {
                    "  <- uploads go here"
                } else {
                    ""
                };
                println!("    {}  {}{mark}", p.id, p.name);
            }
        }
    }
    println!("Choose one with `postflow projects --use PROJECT_ID`.");
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use postflow_service::jiff;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        pause: PauseArgs,
    }

    fn now() -> jiff::ZonedDateTime {
        jiff::civil::date(2026, 3, 2)
            .at(17, 0, 0, 0)
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .unwrap()
    }

    fn end(args: &[&str]) -> anyhow::Result<Option<i64>> {
        let cli = Cli::try_parse_from(std::iter::once("pause").chain(args.iter().copied()))?;
        pause_end(&cli.pause, &now())
    }

    #[test]
    fn pause_until_parses_a_time_later_today_and_a_past_time_as_tomorrow() {
        let at = |ms: i64| {
            jiff::Timestamp::from_millisecond(ms)
                .unwrap()
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        };
        let today = at(end(&["--until", "18:30"]).unwrap().unwrap());
        assert_eq!((today.day(), today.hour(), today.minute()), (2, 18, 30));
        let tomorrow = at(end(&["--until", "08:00"]).unwrap().unwrap());
        assert_eq!(
            (tomorrow.day(), tomorrow.hour()),
            (3, 8),
            "08:00 is past at 17:00"
        );
        let minutes = end(&["--for", "30"]).unwrap().unwrap();
        assert_eq!(minutes - now().timestamp().as_millisecond(), 30 * 60_000);
        assert_eq!(end(&[]).unwrap(), None, "no end: until resumed");
    }

    #[test]
    fn pause_until_refuses_a_non_time_and_both_ends_at_once() {
        let e = end(&["--until", "25:00"]).unwrap_err().to_string();
        assert!(e.contains("--until") && e.contains("HH:MM"), "{e}");
        assert!(end(&["--for", "10", "--until", "18:30"]).is_err());
        assert!(end(&["--for", "0"]).is_err());
    }
}
