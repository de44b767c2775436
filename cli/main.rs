//! `postflow`: PostFlow without a window, for servers, scripts and tests.
//! A thin shell over the core crates: argument parsing and printing only.

mod config;
mod parse;
mod secrets;
mod signin;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // One-shot commands log warnings to stderr only; the service (a later
    // issue) logs to files as well.
    let mut log = postflow_logging::LogOptions::new("postflow-cli");
    log.default_filter = "warn";
    let _guard = postflow_logging::init(log);

    let paths = match postflow_settings::Paths::resolve(cli.config.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Parse(args) => parse::run(&paths, args),
        Command::Config(cmd) => config::run(&paths, cmd),
        Command::Secrets(cmd) => secrets::run(cmd),
        Command::Signin(args) => signin::run(&paths, args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
