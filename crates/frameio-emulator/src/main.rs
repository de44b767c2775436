//! `postflow-frameio-emulator`: runs the Frame.io V4 emulator on
//! 127.0.0.1 for demos and benchmarks.
//!
//! On start it prints one JSON line to stdout:
//! `{"base_url", "account_id", "workspace_id", "project_id", "root_folder_id", "token"}`
//! (the token is a ready access token), then serves until SIGINT or SIGTERM.
//! Logs go to stderr (`RUST_LOG`, default `info`).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use postflow_frameio_emulator::{parse_byte_size, Emulator, EmulatorConfig, RateLimits};

/// A local emulator of the Frame.io V4 API subset PostFlow uses.
#[derive(Debug, Parser)]
#[command(name = "postflow-frameio-emulator", version)]
struct Args {
    /// TCP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Upload part size: bytes, or with a unit (64KiB, 32MiB, 5MB).
    #[arg(long, default_value = "32MiB", value_parser = parse_byte_size)]
    part_size: u64,
    /// Access-token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    token_ttl_secs: u64,
    /// Lifetime of presigned part URLs in seconds.
    #[arg(long, default_value_t = 3600)]
    upload_url_ttl_secs: u64,
    /// Never answer 429.
    #[arg(long)]
    no_rate_limits: bool,
    /// Register an IMS client with this id (public unless --client-secret).
    #[arg(long)]
    client_id: Option<String>,
    /// The registered client's secret (makes it confidential).
    #[arg(long, requires = "client_id")]
    client_secret: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let config = EmulatorConfig {
        port: args.port,
        part_size: args.part_size,
        token_ttl: Duration::from_secs(args.token_ttl_secs),
        upload_url_ttl: Duration::from_secs(args.upload_url_ttl_secs),
        rate_limits: if args.no_rate_limits {
            RateLimits::unlimited()
        } else {
            RateLimits::default()
        },
        ..EmulatorConfig::default()
    };
    let emulator = match Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!(
                "postflow-frameio-emulator: cannot listen on 127.0.0.1:{}: {error}",
                args.port
            );
            return ExitCode::FAILURE;
        }
    };
    if let Some(client_id) = &args.client_id {
        emulator.register_client(client_id, args.client_secret.as_deref());
    }
    let stop = stop_signal();
    let line = serde_json::json!({
        "base_url": emulator.base_url(),
        "account_id": emulator.account_id(),
        "workspace_id": emulator.workspace_id(),
        "project_id": emulator.project_id(),
        "root_folder_id": emulator.root_folder_id(),
        "token": emulator.issue_token(),
    });
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(stdout);

    stop.await;
    tracing::info!("stopping");
    emulator.shutdown();
    ExitCode::SUCCESS
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM. The handlers are
/// registered by this call, not when the future is first polled: called
/// before the coordinates are printed, since a caller may stop this
/// process as soon as it has read them (a CI run caught a SIGTERM that
/// arrived first and killed the process instead of stopping it).
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            match (term, interrupt) {
                (Ok(mut term), Ok(mut interrupt)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
