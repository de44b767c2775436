//! The Discord webhook URL: validated strictly, shown only masked.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use secrecy::{ExposeSecret, SecretString};

/// Only Discord's own webhook URLs are accepted, so a mistyped or hostile URL
/// never receives data (shape from discord-webhook-notes.md).
static WEBHOOK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api(?:/v[0-9]+)?/webhooks/([0-9]+)/[A-Za-z0-9_-]+$")
        .expect("webhook pattern compiles")
});

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the Discord webhook URL is empty; paste it from Discord: Server Settings > Integrations > Webhooks > Copy Webhook URL")]
    Empty,
    #[error("this is not a Discord webhook URL ({why}); it must look like https://discord.com/api/webhooks/<id>/<token>, copied from Server Settings > Integrations > Webhooks")]
    NotDiscord { why: &'static str },
}

/// A Discord webhook URL (the URL itself is the credential).
#[derive(Clone)]
pub struct DiscordWebhook {
    url: SecretString,
    masked: String,
}

impl DiscordWebhook {
    /// Accepts only a Discord webhook URL. The error never repeats the input.
    pub fn parse(input: &str) -> Result<Self, WebhookError> {
        let url = input.trim();
        if url.is_empty() {
            return Err(WebhookError::Empty);
        }
        let Some(caps) = WEBHOOK.captures(url) else {
            let why = if !url.starts_with("https://") {
                "it does not start with https://"
            } else if !url.contains("discord") {
                "it is not on discord.com"
            } else if !url.contains("/webhooks/") {
                "it is not a webhook address"
            } else {
                "the id or token part is malformed or incomplete"
            };
            return Err(WebhookError::NotDiscord { why });
        };
        super::redact::register(url);
        let id = &caps[1];
        let shown: String = id.chars().take(4).collect();
        let prefix = &url[..caps.get(1).expect("id group").start()];
        let masked = format!("{prefix}{shown}…/••••");
        Ok(Self {
            url: SecretString::from(url.to_string()),
            masked,
        })
    }

    /// `https://discord.com/api/webhooks/1234…/••••`: the only form shown
    /// anywhere (logs, UI, CLI).
    pub fn masked(&self) -> &str {
        &self.masked
    }

    /// The full URL, for the HTTP client that posts to it and nothing else.
    pub fn expose_url(&self) -> &str {
        self.url.expose_secret()
    }
}

impl fmt::Debug for DiscordWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DiscordWebhook").field(&self.masked).finish()
    }
}

impl fmt::Display for DiscordWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked)
    }
}

impl PartialEq for DiscordWebhook {
    fn eq(&self, other: &Self) -> bool {
        self.expose_url() == other.expose_url()
    }
}
