//! `postflow`: PostFlow without a window, for servers, scripts and tests.
//! A thin shell over the core crates: argument parsing and printing only.

mod config;
mod demo;
mod notify;
mod parse;
mod secrets;
mod service;
mod signin;
mod unit;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "postflow",
    version,
    about = "Sends finished shots from a LucidLink BY_SHOT folder to Frame.io"
)]
struct Cli {
    /// Settings file to use instead of the one in the OS config directory.
    #[arg(long, global = true, value_name = "FILE", env = "POSTFLOW_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show how file names are understood: scene, shot, version, Frame.io path.
    Parse(parse::Args),
    /// Inspect and check the settings.
    #[command(subcommand)]
    Config(config::Command),
    /// Manage the Frame.io token and the Discord webhook in the OS keychain.
    #[command(subcommand)]
    Secrets(secrets::Command),
    /// Sign in to Frame.io in the browser and keep the sign-in in the keychain.
    Signin(signin::Args),
    /// Run the service without a window: watch BY_SHOT and upload (SIGINT/SIGTERM stop it).
    Run(service::RunArgs),
    /// Print the web UI's address with its key (opens signed in).
    GuiUrl,
    /// See PostFlow at work without a Frame.io account: the built-in emulator, sample renders, the web UI.
    Demo(demo::Args),
    /// List the Frame.io accounts, workspaces and projects; `--use ID` chooses where uploads go.
    Projects(service::ProjectsArgs),
    /// Show what the service is doing, with a health score.
    Status(service::StatusArgs),
    /// Stop starting new uploads (also for a service started later).
    Pause(service::PauseArgs),
    /// Start uploading again.
    Resume,
    /// Queue a failed (held, cancelled) item again, or every failed item.
    Retry(service::RetryArgs),
    /// List the queue's items, with the ids `retry` and `cancel` take.
    List(service::ListArgs),
    /// Ignore an item: this version of the file is not uploaded.
    Cancel(service::CancelArgs),
    /// Test the setup end to end: watch root, Frame.io sign-in, project, structure root, Discord webhook.
    Check,
    /// Send a test message to the team's Discord channel and show Discord's answer.
    NotifyTest,
    /// Install or remove PostFlow as a systemd service (a server without a desktop).
    #[command(subcommand)]
    Service(unit::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let paths = match postflow_settings::Paths::resolve(cli.config.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The service logs to daily files as well; one-shot commands only warn
    // on stderr.
    let _guard = postflow_logging::init(match cli.command {
        Command::Run(_) | Command::Demo(_) => {
            let mut log = postflow_logging::LogOptions::new("postflow-service");
            log.dir = Some(paths.log_dir.clone());
            // Under systemd the journal keeps the log (POSTFLOW_LOG_FILES=1
            // for daily files as well).
            log.journal_only = matches!(cli.command, Command::Run(_));
            log
        }
        _ => {
            let mut log = postflow_logging::LogOptions::new("postflow-cli");
            log.default_filter = "warn";
            log
        }
    });
    let result = match cli.command {
        Command::Parse(args) => parse::run(&paths, args),
        Command::Config(cmd) => config::run(&paths, cmd),
        Command::Secrets(cmd) => secrets::run(cmd),
        Command::Signin(args) => signin::run(&paths, args),
        Command::Run(args) => service::run(&paths, args),
        Command::GuiUrl => service::gui_url(&paths),
        Command::Demo(args) => demo::run(args),
        Command::Projects(args) => service::projects(&paths, args),
        Command::Status(args) => service::status(&paths, args),
        Command::Pause(args) => service::pause(&paths, args),
        Command::Resume => service::set_paused(&paths, false),
        Command::Retry(args) => service::retry(&paths, args),
        Command::List(args) => service::list(&paths, args),
        Command::Cancel(args) => service::cancel(&paths, args),
        Command::Check => service::check(&paths),
        Command::NotifyTest => notify::test(&paths),
        Command::Service(cmd) => unit::run(cmd, cli.config.clone()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
