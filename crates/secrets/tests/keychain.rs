//! Round trips through the real OS keychain (the Secret Service on Linux).
//!
//! `scripts/test.sh` runs this inside `dbus-run-session` with an unlocked
//! gnome-keyring and sets `POSTFLOW_REQUIRE_KEYCHAIN=1`, so in CI a missing
//! keychain fails the test instead of skipping it.

use postflow_secrets::secrecy::ExposeSecret;
use postflow_secrets::{
    DiscordWebhook, FrameioTokens, KeychainStatus, Origin, SecretKind, SecretStore,
};

fn store() -> Option<SecretStore> {
    let service = format!("io.postflow.test.{}", std::process::id());
    let store = SecretStore::open_with(&service, |_| None);
    match store.keychain_status() {
        KeychainStatus::Available => Some(store),
        KeychainStatus::Unavailable { reason } => {
            if std::env::var_os("POSTFLOW_REQUIRE_KEYCHAIN").is_some() {
                panic!("POSTFLOW_REQUIRE_KEYCHAIN is set but no keychain is reachable: {reason}");
            }
            eprintln!("SKIPPED: no keychain here ({reason}); scripts/test.sh provides one");
            None
        }
    }
}

#[test]
fn frameio_tokens_and_webhook_round_trip_through_the_keychain() {
    let Some(store) = store() else { return };

    // Nothing yet.
    assert!(store.frameio_tokens().unwrap().is_none());

    let tokens = FrameioTokens {
        access_token: "kc-access-token-0123456789".to_string().into(),
        refresh_token: Some("kc-refresh-token-abcdef".to_string().into()),
        expires_at: Some(1_900_000_000),
    };
    store.set_frameio_tokens(&tokens).unwrap();
    let (read, origin) = store.frameio_tokens().unwrap().expect("stored tokens");
    assert_eq!(origin, Origin::Keychain);
    assert_eq!(
        read.access_token.expose_secret(),
        "kc-access-token-0123456789"
    );
    assert_eq!(
        read.refresh_token.unwrap().expose_secret(),
        "kc-refresh-token-abcdef"
    );
    assert_eq!(read.expires_at, Some(1_900_000_000));

    // Refresh tokens rotate: a second write replaces the first.
    store
        .set_frameio_tokens(&FrameioTokens::static_token("kc-second-token-xyz"))
        .unwrap();
    let (read, _) = store.frameio_tokens().unwrap().unwrap();
    assert_eq!(read.access_token.expose_secret(), "kc-second-token-xyz");
    assert!(read.refresh_token.is_none());

    let hook =
        DiscordWebhook::parse("https://discord.com/api/webhooks/555566667777/kc-webhook-token")
            .unwrap();
    store.set_discord_webhook(&hook).unwrap();
    let (read, origin) = store.discord_webhook().unwrap().unwrap();
    assert_eq!((read, origin), (hook, Origin::Keychain));

    // A second store (another process, a restart) sees the same entries.
    let again = SecretStore::open_with(&format!("io.postflow.test.{}", std::process::id()), |_| {
        None
    });
    assert!(again.discord_webhook().unwrap().is_some());

    store.delete(SecretKind::FrameioTokens).unwrap();
    store.delete(SecretKind::DiscordWebhook).unwrap();
    store.delete(SecretKind::DiscordWebhook).unwrap(); // idempotent
    assert!(store.frameio_tokens().unwrap().is_none());
    assert!(store.discord_webhook().unwrap().is_none());
}

#[test]
fn the_environment_wins_over_the_keychain() {
    let Some(store) = store() else { return };
    let service = format!("io.postflow.test.env.{}", std::process::id());
    let store_env = SecretStore::open_with(&service, |k| {
        (k == "POSTFLOW_FRAMEIO_TOKEN").then(|| "env-wins-token-123".to_string())
    });
    store_env
        .set_frameio_tokens(&FrameioTokens::static_token("keychain-token-456"))
        .unwrap();
    let (read, origin) = store_env.frameio_tokens().unwrap().unwrap();
    assert_eq!(origin, Origin::Environment("POSTFLOW_FRAMEIO_TOKEN"));
    assert_eq!(read.access_token.expose_secret(), "env-wins-token-123");
    store_env.delete(SecretKind::FrameioTokens).unwrap();
    drop(store);
}
