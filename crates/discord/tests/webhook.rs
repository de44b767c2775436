//! The webhook client against the fake Discord: rate limits, failures and
//! what they tell the caller, and the webhook URL never leaking.

mod support;

use std::time::{Duration, Instant};

use postflow_discord::{
    Disposition, Embed, Message, SendError, Webhook, API_BASE_ENV, MAX_RATE_LIMIT_RETRIES,
};
use postflow_discord_fake::{WEBHOOK_NAME, WEBHOOK_TOKEN};
use support::*;

fn hello() -> Message {
    Message {
        content: Some("hello".into()),
        ..Message::default()
    }
}

/// The error, as a user or a log would see it, shows no secret.
fn assert_no_secret(error: &SendError, hook_url: &str) {
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(WEBHOOK_TOKEN), "token in {shown}");
        assert!(!shown.contains(hook_url), "URL in {shown}");
    }
}

#[tokio::test]
async fn a_delivered_message_has_the_id_discord_gave_it() {
    let (fake, webhook) = fake_and_webhook().await;
    let delivered = webhook.send(&hello()).await.unwrap();
    assert_eq!(fake.message_ids(), [delivered.message_id]);
    assert_eq!(fake.messages()[0]["content"], "hello");
}

#[tokio::test]
async fn a_429_is_waited_out_and_the_message_recorded_once() {
    let (fake, webhook) = fake_and_webhook().await;
    fake.rate_limit_next(1, 1.0);
    webhook.send(&hello()).await.unwrap();

    let arrivals = fake.arrivals();
    assert_eq!(arrivals.len(), 2);
    let waited = arrivals[1] - arrivals[0];
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    assert!(
        waited < Duration::from_secs(3),
        "waited too long: {waited:?}"
    );
    assert_eq!(fake.messages().len(), 1);
    assert_eq!(fake.rate_limited(), 1);
}

#[tokio::test]
async fn an_empty_bucket_delays_the_next_send_instead_of_hitting_a_429() {
    let (fake, webhook) = fake_and_webhook().await;
    fake.set_bucket(1, Duration::from_millis(800));
    webhook.send(&hello()).await.unwrap();
    webhook.send(&hello()).await.unwrap();

    let arrivals = fake.arrivals();
    assert!(arrivals[1] - arrivals[0] >= Duration::from_millis(750));
    assert_eq!(fake.rate_limited(), 0, "the client waited for the reset");
    assert_eq!(fake.messages().len(), 2);
}

#[tokio::test]
async fn endless_rate_limits_end_in_a_transient_error_after_bounded_retries() {
    let (fake, webhook) = fake_and_webhook().await;
    fake.rate_limit_next(100, 0.05);
    let error = webhook.send(&hello()).await.unwrap_err();
    assert_eq!(
        error,
        SendError::RateLimited {
            retry_after: Duration::from_millis(50)
        }
    );
    assert_eq!(error.disposition(), Disposition::Transient);
    assert_eq!(fake.requests(), 1 + MAX_RATE_LIMIT_RETRIES as usize);
    assert!(fake.messages().is_empty());
}

#[tokio::test]
async fn a_long_rate_limit_is_handed_back_instead_of_blocking_the_sender() {
    let (fake, webhook) = fake_and_webhook().await;
    fake.rate_limit_next(1, 3600.0);
    let started = Instant::now();
    let error = webhook.send(&hello()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let retry_after = error.retry_after().expect("a rate limit");
    assert!(retry_after > Duration::from_secs(3500), "{retry_after:?}");
    // The next send does not knock on Discord's door before the hour is up.
    assert!(webhook
        .send(&hello())
        .await
        .unwrap_err()
        .retry_after()
        .is_some());
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn a_deleted_webhook_needs_the_user_and_the_error_hides_the_webhook() {
    let (fake, webhook) = fake_and_webhook().await;
    fake.delete_webhook();
    let error = webhook.send(&hello()).await.unwrap_err();
    assert_eq!(
        error,
        SendError::WebhookInvalid {
            status: 404,
            message: "Unknown Webhook".into()
        }
    );
    assert_eq!(error.disposition(), Disposition::NeedsUser);
    assert!(error
        .to_string()
        .contains("postflow secrets set discord-webhook"));
    assert_no_secret(&error, fake.hook().expose_url());
    assert_eq!(fake.requests(), 1, "a 404 is never retried");
}

#[tokio::test]
async fn discord_down_is_transient_and_not_retried_blindly() {
    let (fake, webhook) = fake_and_webhook().await;
    fake.fail_next(1, 503);
    let error = webhook.send(&hello()).await.unwrap_err();
    assert_eq!(error, SendError::Unavailable { status: 503 });
    assert_eq!(error.disposition(), Disposition::Transient);
    assert_eq!(fake.requests(), 1);
    webhook.send(&hello()).await.unwrap();
    assert_eq!(fake.messages().len(), 1);
}

#[tokio::test]
async fn a_message_over_the_limits_is_refused_before_it_is_sent() {
    let (fake, webhook) = fake_and_webhook().await;
    let too_long = Message {
        embeds: vec![Embed {
            title: Some("x".repeat(300)),
            ..Embed::default()
        }],
        ..Message::default()
    };
    let error = webhook.send(&too_long).await.unwrap_err();
    assert!(matches!(&error, SendError::TooLarge(v) if v.path == "embeds.0.title"));
    assert_eq!(error.disposition(), Disposition::Permanent);
    assert_eq!(fake.requests(), 0);
}

#[tokio::test]
async fn an_unreachable_discord_is_a_network_error_without_the_webhook() {
    let hook = postflow_discord_fake::DiscordFake::start().await.hook();
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let webhook =
        Webhook::with_api_base(&hook, &format!("http://127.0.0.1:{closed_port}")).unwrap();
    let error = webhook.send(&hello()).await.unwrap_err();
    assert!(matches!(error, SendError::Network(_)), "{error:?}");
    assert_eq!(error.disposition(), Disposition::Transient);
    assert!(error.to_string().contains("127.0.0.1"), "{error}");
    assert_no_secret(&error, hook.expose_url());
}

#[tokio::test]
async fn verify_names_the_webhook_and_spots_a_deleted_one() {
    let (fake, webhook) = fake_and_webhook().await;
    let info = webhook.verify().await.unwrap();
    assert_eq!(info.name.as_deref(), Some(WEBHOOK_NAME));
    fake.delete_webhook();
    let error = webhook.verify().await.unwrap_err();
    assert_eq!(error.disposition(), Disposition::NeedsUser);
    assert!(fake.messages().is_empty(), "verifying posts nothing");
}

#[tokio::test]
async fn the_api_base_override_accepts_loopback_only() {
    let hook = postflow_discord_fake::DiscordFake::start().await.hook();
    for base in [
        "http://example.com",
        "https://discord.com",
        "http://10.0.0.1:8080",
        "https://127.0.0.1:8080",
    ] {
        let error = Webhook::with_api_base(&hook, base).unwrap_err();
        assert!(matches!(error, SendError::NotLoopback(_)), "{base}");
        assert!(error.to_string().contains("loopback"), "{error}");
    }
}

/// The only test touching the environment variable.
#[tokio::test]
async fn the_environment_override_is_applied_and_checked() {
    let (fake, _) = fake_and_webhook().await;
    let hook = fake.hook();

    std::env::set_var(API_BASE_ENV, fake.base_url());
    let webhook = Webhook::from_env_or_real(&hook).unwrap();
    webhook.send(&hello()).await.unwrap();
    assert_eq!(fake.messages().len(), 1, "sent to the fake");

    std::env::set_var(API_BASE_ENV, "https://attacker.example");
    let error = Webhook::from_env_or_real(&hook).unwrap_err();
    assert!(matches!(error, SendError::NotLoopback(_)));

    std::env::remove_var(API_BASE_ENV);
    let real = Webhook::from_env_or_real(&hook).unwrap();
    assert!(format!("{real:?}").contains("discord.com"), "{real:?}");
}
