//! `postflow notify-test`: sends a test message to the team's Discord
//! channel and reports exactly what Discord answered.

use std::process::ExitCode;

use anyhow::Context;
use postflow_secrets::SecretStore;
use postflow_settings::Paths;

pub fn test(paths: &Paths) -> anyhow::Result<ExitCode> {
    let settings = postflow_settings::load(&paths.config_file).settings;
    let store = SecretStore::open();
    let Some((hook, origin)) = store.discord_webhook()? else {
        eprintln!(
            "No Discord webhook is stored. Paste the channel's webhook URL into \
             `postflow secrets set discord-webhook` (Discord: Server Settings > Integrations > Webhooks)."
        );
        return Ok(ExitCode::FAILURE);
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let outcome = runtime.block_on(postflow_service::notify_test(
        paths,
        &settings.discord,
        &hook,
    ));
    match outcome {
        Ok(message_id) => {
            println!(
                "Discord accepted the test message (message {message_id}) on webhook {} (from {origin}).",
                hook.masked()
            );
            if !settings.discord.enabled {
                println!(
                    "Note: Discord messages are off; set discord.enabled = true to send one per upload."
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("Discord test message failed: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
