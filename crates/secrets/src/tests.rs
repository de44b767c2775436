use super::*;

const HOOK: &str = "https://discord.com/api/webhooks/123456789012345678/AbC-dEf_GhI123456789";

#[test]
fn webhooks_are_validated_strictly() {
    for ok in [
        HOOK,
        "https://ptb.discord.com/api/webhooks/1/abc",
        "https://canary.discordapp.com/api/v10/webhooks/99/x-y_z",
    ] {
        assert!(DiscordWebhook::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "http://discord.com/api/webhooks/1/abc",
        "https://discord.com.evil.example/api/webhooks/1/abc",
        "https://evil.example/api/webhooks/1/abc",
        "https://discord.com/api/webhooks/abc/def",
        "https://discord.com/api/webhooks/123/",
        "https://discord.com/channels/1/2",
        "https://discord.com/api/webhooks/1/abc?wait=true",
    ] {
        let err = DiscordWebhook::parse(bad).expect_err(bad).to_string();
        assert!(err.contains("Discord"), "{err}");
        if bad.len() > 8 {
            assert!(
                !err.contains(bad),
                "the error must not repeat the URL: {err}"
            );
        }
    }
}

#[test]
fn webhooks_show_only_masked() {
    let hook = DiscordWebhook::parse(HOOK).unwrap();
    assert_eq!(hook.masked(), "https://discord.com/api/webhooks/1234…/••••");
    assert_eq!(hook.to_string(), hook.masked());
    assert!(!format!("{hook:?}").contains("AbC-dEf"));
    assert_eq!(hook.expose_url(), HOOK);
}

#[test]
fn token_debug_output_is_redacted() {
    let t = FrameioTokens {
        access_token: "eyJhbGciOiJSUzI1NiJ9.secret-access".to_string().into(),
        refresh_token: Some("refresh-secret-value".to_string().into()),
        expires_at: Some(42),
    };
    let shown = format!("{t:?}");
    assert!(!shown.contains("secret"), "{shown}");
    assert!(shown.contains("42"));
}

#[test]
fn scrub_masks_registered_values_and_secret_shapes() {
    redact::register("zq-registered-secret-9");
    let text = format!(
        "a zq-registered-secret-9 b; POST {HOOK} failed; Authorization: Bearer abc.def-ghi; \
         {{\"access_token\":\"tok123\",\"refresh_token\": \"r456\"}} code_verifier=xyz"
    );
    let out = redact::scrub(&text);
    for leaked in [
        "zq-registered-secret-9",
        "AbC-dEf",
        "abc.def-ghi",
        "tok123",
        "r456",
        "xyz",
    ] {
        assert!(!out.contains(leaked), "{leaked} leaked: {out}");
    }
    assert!(out.contains("webhooks/1234…/••••"), "{out}");
    assert!(out.contains("Bearer ••••"), "{out}");
    // Text without secrets is untouched and not copied.
    assert!(matches!(
        redact::scrub("nothing to hide"),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn without_a_keychain_secrets_come_from_the_environment_only() {
    let store = SecretStore::environment_only("test: no keychain", |k| match k {
        "POSTFLOW_FRAMEIO_TOKEN" => Some("env-token-value-1".into()),
        "DISCORD_WEBHOOK_URL" => Some(HOOK.into()),
        _ => None,
    });
    let (tokens, origin) = store.frameio_tokens().unwrap().unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "env-token-value-1");
    assert_eq!(origin, Origin::Environment("POSTFLOW_FRAMEIO_TOKEN"));
    let (hook, origin) = store.discord_webhook().unwrap().unwrap();
    assert_eq!(hook.expose_url(), HOOK);
    assert_eq!(origin, Origin::Environment("DISCORD_WEBHOOK_URL"));

    // Storing is refused with a message that says what to do instead.
    let err = store.set_discord_webhook(&hook).unwrap_err().to_string();
    assert!(
        err.contains("no OS keychain") && err.contains("POSTFLOW_DISCORD_WEBHOOK_URL"),
        "{err}"
    );
    assert!(!err.contains("AbC-dEf"));
}

#[test]
fn the_new_variable_wins_over_the_old_one_and_bad_values_are_named() {
    let store = SecretStore::environment_only("test", |k| match k {
        "POSTFLOW_DISCORD_WEBHOOK_URL" => Some("https://example.com/hook".into()),
        "DISCORD_WEBHOOK_URL" => Some(HOOK.into()),
        "POSTFLOW_FRAMEIO_TOKEN" => Some("two words".into()),
        _ => None,
    });
    let err = store.discord_webhook().unwrap_err().to_string();
    assert!(
        err.starts_with("POSTFLOW_DISCORD_WEBHOOK_URL is set but"),
        "{err}"
    );
    assert!(!err.contains("example.com/hook"), "{err}");
    let err = store.frameio_tokens().unwrap_err().to_string();
    assert!(err.contains("POSTFLOW_FRAMEIO_TOKEN"), "{err}");
}

#[test]
fn nothing_set_is_none() {
    let store = SecretStore::environment_only("test", |_| None);
    assert!(store.frameio_tokens().unwrap().is_none());
    assert!(store.discord_webhook().unwrap().is_none());
}

/// A `CREDENTIALS_DIRECTORY` as systemd makes it: one file per credential,
/// `0400`.
fn credentials_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, value) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, value).unwrap();
        set_mode(&path, 0o400);
    }
    dir
}

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn store_on(dir: &std::path::Path, env: &'static [(&'static str, &'static str)]) -> SecretStore {
    let dir = dir.to_string_lossy().into_owned();
    SecretStore::environment_only("test: a system service", move |k| {
        if k == "CREDENTIALS_DIRECTORY" {
            return Some(dir.clone());
        }
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
}

#[test]
fn systemd_credentials_are_read_from_the_credentials_directory() {
    let dir = credentials_dir(&[
        // `echo TOKEN > file` leaves a newline: trimmed.
        ("frameio-token", "cred-token-value-7f3a\n"),
        ("discord-webhook", &format!("{HOOK}\n")),
        ("gui-key", "0123456789abcdef0123456789abcdef"),
    ]);
    let store = store_on(dir.path(), &[]);
    let (tokens, origin) = store.frameio_tokens().unwrap().unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "cred-token-value-7f3a");
    assert!(tokens.refresh_token.is_none());
    assert_eq!(origin, Origin::Credential("frameio-token"));
    assert_eq!(origin.to_string(), "the systemd credential frameio-token");
    let (hook, origin) = store.discord_webhook().unwrap().unwrap();
    assert_eq!(hook.expose_url(), HOOK);
    assert_eq!(origin, Origin::Credential("discord-webhook"));
    let (key, origin) = store.gui_key().unwrap();
    assert_eq!(key, "0123456789abcdef0123456789abcdef");
    assert_eq!(origin, Some(Origin::Credential("gui-key")));
    // Registered with the log scrubber like every other secret.
    let line = redact::scrub("token cred-token-value-7f3a in a log line");
    assert!(!line.contains("cred-token-value-7f3a"), "{line}");
    // Never shown by the store's Debug.
    assert!(!format!("{store:?}").contains("cred-token"));
}

#[test]
fn the_environment_wins_over_a_credential() {
    let dir = credentials_dir(&[("frameio-token", "cred-token-value-1")]);
    let store = store_on(
        dir.path(),
        &[("POSTFLOW_FRAMEIO_TOKEN", "env-token-value-2")],
    );
    let (tokens, origin) = store.frameio_tokens().unwrap().unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "env-token-value-2");
    assert_eq!(origin, Origin::Environment("POSTFLOW_FRAMEIO_TOKEN"));
}

#[test]
fn a_missing_or_empty_credential_is_none() {
    // No file at all; an empty one (the unit's `SetCredential=name:`
    // fallback); a directory that is not there.
    let dir = credentials_dir(&[("discord-webhook", "")]);
    let store = store_on(dir.path(), &[]);
    assert!(store.frameio_tokens().unwrap().is_none());
    assert!(store.discord_webhook().unwrap().is_none());
    let gone = dir.path().join("not-there");
    let store = store_on(&gone, &[]);
    assert!(store.frameio_tokens().unwrap().is_none());
    assert!(credentials::read(&gone, "frameio-token").unwrap().is_none());
}

#[test]
fn a_bad_credential_is_named_never_shown() {
    let dir = credentials_dir(&[
        ("frameio-token", "two words-secretish"),
        ("discord-webhook", "https://example.com/hook-secretish"),
    ]);
    let store = store_on(dir.path(), &[]);
    let err = store.frameio_tokens().unwrap_err();
    assert!(matches!(
        err,
        SecretError::BadCredential {
            name: "frameio-token",
            ..
        }
    ));
    let text = err.to_string();
    assert!(
        text.starts_with("the systemd credential frameio-token is not a token"),
        "{text}"
    );
    assert!(!text.contains("secretish"), "{text}");
    let text = store.discord_webhook().unwrap_err().to_string();
    assert!(text.contains("discord-webhook"), "{text}");
    assert!(!text.contains("secretish"), "{text}");
    assert_eq!(
        postflow_core::ApiError::from(SecretError::BadCredential {
            name: "gui-key",
            problem: "x".into()
        })
        .disposition,
        postflow_core::Disposition::NeedsUser
    );
}

#[cfg(unix)]
#[test]
fn a_world_readable_credential_warns() {
    let dir = credentials_dir(&[("frameio-token", "cred-token-value-3\n")]);
    let path = dir.path().join("frameio-token");
    let quiet = credentials::read(dir.path(), "frameio-token")
        .unwrap()
        .unwrap();
    assert!(quiet.warning.is_none(), "{:?}", quiet.warning);
    set_mode(&path, 0o644);
    let loud = credentials::read(dir.path(), "frameio-token")
        .unwrap()
        .unwrap();
    assert_eq!(loud.value, "cred-token-value-3");
    let warning = loud
        .warning
        .clone()
        .expect("a world-readable credential warns");
    assert!(
        warning.contains("readable by every user")
            && warning.contains("0644")
            && warning.contains("chmod 0400"),
        "{warning}"
    );
    assert!(!warning.contains("cred-token-value-3"), "{warning}");
    assert!(!format!("{loud:?}").contains("cred-token-value-3"));
}

#[test]
fn without_a_keychain_the_error_names_the_credential() {
    let store = SecretStore::environment_only("test: no keychain", |_| None);
    let err = store
        .set_discord_webhook(&DiscordWebhook::parse(HOOK).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("systemd credential discord-webhook")
            && err.contains("POSTFLOW_DISCORD_WEBHOOK_URL"),
        "{err}"
    );
}

#[test]
fn every_secret_has_a_credential_name() {
    let names: Vec<&str> = SecretKind::ALL.iter().map(|k| k.credential()).collect();
    assert_eq!(names, ["frameio-token", "discord-webhook", "gui-key"]);
}
