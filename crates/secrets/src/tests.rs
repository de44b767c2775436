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
