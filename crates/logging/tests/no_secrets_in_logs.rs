//! Secrets passed through PostFlow's normal code paths never reach the log
//! files. One test per binary: the subscriber is global.

use postflow_logging::{init, LogOptions};
use postflow_secrets::{DiscordWebhook, SecretStore};

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.test-access-token.Zm9vYmFy";
const HOOK: &str = "https://discord.com/api/webhooks/987654321098765432/Sup3r-Secret_Webhook-Token";

#[test]
fn tokens_and_webhook_urls_never_reach_the_log_files() {
    let dir = tempfile::tempdir().unwrap();
    // Leftovers from earlier days: pruning keeps at most `keep_files`.
    for day in 1..=9 {
        std::fs::write(
            dir.path().join(format!("leak-test.2020-01-0{day}.log")),
            "old\n",
        )
        .unwrap();
    }
    let mut options = LogOptions::new("leak-test");
    options.dir = Some(dir.path().to_path_buf());
    options.keep_files = 5;
    options.default_filter = "trace";
    let guard = init(options);
    assert!(guard.file_error.is_none(), "{:?}", guard.file_error);

    // The normal paths: secrets read from the environment (a server) ...
    let store = SecretStore::environment_only("test", |k| match k {
        "POSTFLOW_FRAMEIO_TOKEN" => Some(TOKEN.into()),
        "POSTFLOW_DISCORD_WEBHOOK_URL" => Some(HOOK.into()),
        _ => None,
    });
    let (tokens, origin) = store.frameio_tokens().unwrap().unwrap();
    let (hook, _) = store.discord_webhook().unwrap().unwrap();
    tracing::info!(?tokens, %origin, "signed in");
    tracing::info!(webhook = %hook, "Discord notifications on");
    tracing::debug!(?hook, "webhook in debug form");
    // ... an attempt to store them without a keychain ...
    if let Err(e) = store.set_discord_webhook(&hook) {
        tracing::error!("cannot store the webhook: {e}");
    }
    // ... a bad URL typed by a user ...
    if let Err(e) = DiscordWebhook::parse(&HOOK.replace("https", "http")) {
        tracing::warn!("refused webhook: {e}");
    }
    // ... and errors from lower layers that quote what they were given, as
    // HTTP clients do with URLs and headers.
    tracing::error!("error sending request for url ({HOOK}?wait=true): connection refused");
    tracing::warn!(header = %format!("Authorization: Bearer {TOKEN}"), "request failed");
    tracing::warn!("token endpoint said: {{\"access_token\":\"{TOKEN}\",\"expires_in\":86400}}");
    drop(guard); // flushes the file writer

    let mut logs = String::new();
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        logs.push_str(&std::fs::read_to_string(&path).unwrap());
        files += 1;
    }
    assert!(files <= 5, "old files were not pruned: {files} files");
    assert!(
        logs.contains("Discord notifications on"),
        "nothing was logged:\n{logs}"
    );
    assert!(
        logs.contains("https://discord.com/api/webhooks/9876…/••••"),
        "{logs}"
    );
    for secret in [
        TOKEN,
        HOOK,
        "Sup3r-Secret_Webhook-Token",
        "test-access-token",
    ] {
        assert!(!logs.contains(secret), "{secret} reached the log:\n{logs}");
    }
}
