//! `postflow demo`: PostFlow at work on the built-in Frame.io emulator and
//! a fake Discord, with sample renders arriving over a minute, and the web
//! UI to watch it. Nothing touches your settings, keychain or Frame.io.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use postflow_demo::{Demo, DemoOptions};
use postflow_settings::Language;

#[derive(clap::Args)]
pub struct Args {
    /// Serve the web UI here (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8484")]
    listen: std::net::SocketAddr,
    /// Seconds between two renders (about a minute in all by default).
    #[arg(long, default_value_t = 10.0)]
    pace: f64,
    /// The UI's and the team messages' language: en or fr.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Done items to put in the queue first (the board benchmark).
    #[arg(long, default_value_t = 0)]
    seed_items: usize,
    /// Keep the demo's files here (default: a temporary folder, removed after).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Only these renders (comma-separated names of the demo's list).
    #[arg(long, value_delimiter = ',')]
    renders: Vec<String>,
    /// No sample renders (the queue's seeded items only, or what you write).
    #[arg(long, conflicts_with = "renders")]
    no_renders: bool,
    /// Scale the renders' sizes (0.1: a tenth).
    #[arg(long, default_value_t = 1.0)]
    size_scale: f64,
    /// Upload cap in Mbit/s, so progress shows on loopback.
    #[arg(long, default_value_t = 160)]
    bandwidth: u32,
    /// Files uploaded at the same time.
    #[arg(long, default_value_t = 2)]
    parallel_files: u32,
    /// One JSON line with the address and what lies behind the demo
    /// (for scripts and tests), instead of words.
    #[arg(long)]
    json: bool,
    /// Do not open the browser.
    #[arg(long)]
    no_browser: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let language = match args.lang.as_str() {
        "fr" => Language::Fr,
        "en" => Language::En,
        other => anyhow::bail!("--lang {other:?}: use en or fr"),
    };
    // Before any thread: the service reads the fake Discord's address from
    // the environment.
    let discord_port = postflow_demo::prepare_discord_port().context("no free loopback port")?;
    let renders = if args.no_renders {
        Vec::new()
    } else if args.renders.is_empty() {
        DemoOptions::default().renders
    } else {
        let known = DemoOptions::default().renders;
        args.renders
            .iter()
            .map(|name| {
                known
                    .iter()
                    .find(|(n, _)| n == name)
                    .cloned()
                    .with_context(|| format!("{name:?} is not one of the demo's renders"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let options = DemoOptions {
        dir: args.dir,
        pace: Duration::from_secs_f64(args.pace.max(0.0)),
        bandwidth_mbps: args.bandwidth,
        seed_items: args.seed_items,
        language,
        renders,
        size_scale: args.size_scale,
        parallel_files: args.parallel_files,
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let demo = Demo::start(options, discord_port)
            .await
            .context("cannot start the demo's emulator")?;
        let settings = postflow_settings::load(&demo.paths.config_file).settings;
        let info = demo.info.clone();
        let json = args.json;
        let open = !args.no_browser && !json;
        let announce = move |url: &str| {
            if json {
                let mut line = serde_json::to_value(&info).unwrap_or_default();
                line["url"] = serde_json::Value::String(url.to_string());
                println!("{line}");
            } else {
                println!("PostFlow demo: {url}");
                println!(
                    "(renders arrive in {} over the next minute; Ctrl-C stops the demo)",
                    info.watch_root
                );
                if open {
                    let _ = webbrowser::open(url);
                }
            }
        };
        let play = async {
            demo.play().await;
            std::future::pending::<()>().await
        };
        let stop = async {
            tokio::select! {
                _ = crate::service::stop_signal() => {}
                _ = play => {}
            }
        };
        crate::service::serve_with_gui(
            &demo.paths,
            demo.secrets.clone(),
            &settings,
            args.listen,
            true,
            &announce,
            stop,
        )
        .await
    })
}
