//! `postflow secrets status | set | delete`. Values are read from standard
//! input, never from arguments (which end up in shell history and `ps`).

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use postflow_secrets::{DiscordWebhook, FrameioTokens, KeychainStatus, SecretKind, SecretStore};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Say which secrets are set and where they come from (never their values).
    Status,
    /// Store a secret in the OS keychain, read from standard input.
    Set {
        #[arg(value_enum)]
        which: Which,
    },
    /// Remove a secret from the OS keychain.
    Delete {
        #[arg(value_enum)]
        which: Which,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Which {
    /// A static Frame.io bearer token (server use; the app signs in instead).
    FrameioToken,
    /// The Discord webhook URL of the team channel.
    DiscordWebhook,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    let store = SecretStore::open();
    match command {
        Command::Status => status(&store),
        Command::Set { which } => {
            let value = read_value(which)?;
            match which {
                Which::FrameioToken => {
                    store.set_frameio_tokens(&FrameioTokens::static_token(value))?;
                    println!("Frame.io token stored in the OS keychain.");
                }
                Which::DiscordWebhook => {
                    let webhook = DiscordWebhook::parse(&value)?;
                    store.set_discord_webhook(&webhook)?;
                    println!(
                        "Discord webhook {} stored in the OS keychain.",
                        webhook.masked()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Delete { which } => {
            store.delete(match which {
                Which::FrameioToken => SecretKind::FrameioTokens,
                Which::DiscordWebhook => SecretKind::DiscordWebhook,
            })?;
            println!("Removed.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn status(store: &SecretStore) -> anyhow::Result<ExitCode> {
    match store.keychain_status() {
        KeychainStatus::Available => println!("Keychain: available"),
        KeychainStatus::Unavailable { reason } => println!(
            "Keychain: not available ({reason}); secrets are read from environment variables only"
        ),
    }
    match store.frameio_tokens() {
        Ok(Some((tokens, origin))) => println!(
            "Frame.io: signed in ({}, from {origin})",
            if tokens.refresh_token.is_some() {
                "renewable sign-in"
            } else {
                "static token"
            }
        ),
        Ok(None) => println!("Frame.io: not signed in"),
        Err(e) => println!("Frame.io: {e}"),
    }
    match store.discord_webhook() {
        Ok(Some((webhook, origin))) => println!("Discord: {} (from {origin})", webhook.masked()),
        Ok(None) => println!("Discord: no webhook set"),
        Err(e) => println!("Discord: {e}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn read_value(which: Which) -> anyhow::Result<String> {
    let what = match which {
        Which::FrameioToken => "the Frame.io token",
        Which::DiscordWebhook => "the Discord webhook URL",
    };
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("Paste {what} and press Enter:");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("cannot read {what} from standard input"))?;
    let value = line.trim().to_string();
    anyhow::ensure!(
        !value.is_empty(),
        "no value given: pipe or paste {what} on standard input"
    );
    Ok(value)
}
