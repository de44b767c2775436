//! The webhook client: posts a [`Message`], waits out Discord's rate limits,
//! and says what to do with each failure.
//!
//! The webhook URL is the credential: it appears in no error, log line or
//! `Debug` output. Errors name Discord's host and the masked webhook
//! (`https://discord.com/api/webhooks/1234…/••••`) at most.

use std::sync::Mutex;
use std::time::Duration;

use postflow_secrets::DiscordWebhook;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio::time::Instant;
use url::{Host, Url};

use crate::limits::{check_limits, truncate, LimitViolation};
use crate::message::Message;

/// Set to a loopback base (`http://127.0.0.1:PORT`) to send to a fake
/// Discord instead of the real one; see [`Webhook::from_env_or_real`].
pub const API_BASE_ENV: &str = "POSTFLOW_DISCORD_API_BASE";

/// 429s waited out within one [`Webhook::send`] before giving up.
pub const MAX_RATE_LIMIT_RETRIES: u32 = 5;

/// The longest wait [`Webhook::send`] sleeps through itself; a longer one
/// (a ban, a global limit) comes back as [`SendError::RateLimited`] for the
/// caller to schedule.
pub const MAX_INLINE_WAIT: Duration = Duration::from_secs(60);

/// When a 429 says nothing about how long to wait (Discord always does).
const FALLBACK_WAIT: Duration = Duration::from_secs(1);
/// The longest wait believed from an answer: a day (a garbled header must
/// not silence PostFlow for ever, nor overflow a clock).
const LONGEST_WAIT: Duration = Duration::from_secs(24 * 3600);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Discord's own text in an error is kept to this many characters.
const SERVER_TEXT: usize = 300;

/// What a caller should do with a [`SendError`]: retry later (network,
/// 5xx, rate limits), give up on this message, or ask for a new webhook.
pub use postflow_core::Disposition;

/// A failed send. The display says what happened and, when a person must
/// act, what to do; it never contains the webhook URL or its token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError {
    #[error("Discord webhook no longer valid (HTTP {status}: {message}); paste a new one with `postflow secrets set discord-webhook`")]
    WebhookInvalid { status: u16, message: String },
    #[error("Discord refused this message (HTTP {status}: {message})")]
    Rejected { status: u16, message: String },
    #[error("this message breaks Discord's limits ({0}); it was not sent")]
    TooLarge(LimitViolation),
    #[error("Discord is rate limiting PostFlow; retry in {:.1} s", retry_after.as_secs_f64())]
    RateLimited { retry_after: Duration },
    #[error("Discord is unavailable (HTTP {status}); will retry")]
    Unavailable { status: u16 },
    #[error("cannot reach Discord: {0}")]
    Network(String),
    #[error("unexpected answer from Discord (HTTP {status}): {what}")]
    Unexpected { status: u16, what: String },
    /// The [`API_BASE_ENV`] override (tests and demos only) is not a
    /// loopback address. Holds the scheme and host only.
    #[error("the Discord API base override must be a loopback address such as http://127.0.0.1:PORT, http://[::1]:PORT or http://localhost:PORT (got {0}); unset {API_BASE_ENV} to send to Discord")]
    NotLoopback(String),
}

impl SendError {
    pub fn disposition(&self) -> Disposition {
        match self {
            SendError::WebhookInvalid { .. } | SendError::NotLoopback(_) => Disposition::NeedsUser,
            SendError::Rejected { .. } | SendError::TooLarge(_) => Disposition::Permanent,
            SendError::RateLimited { .. }
            | SendError::Unavailable { .. }
            | SendError::Network(_)
            | SendError::Unexpected { .. } => Disposition::Transient,
        }
    }

    /// How long Discord asked to wait, for a [`SendError::RateLimited`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}

/// Discord took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The id of the message Discord created.
    pub message_id: String,
}

/// What Discord says about a webhook it knows (see [`Webhook::verify`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebhookInfo {
    /// The name the team gave the webhook in Discord.
    pub name: Option<String>,
    pub channel_id: Option<String>,
    pub guild_id: Option<String>,
}

/// A Discord webhook to post to. Remembers Discord's rate-limit bucket
/// between sends, so keep one per webhook and reuse it.
pub struct Webhook {
    http: reqwest::Client,
    /// `.../webhooks/{id}/{token}`: holds the token.
    endpoint: SecretString,
    host: String,
    masked: String,
    token: SecretString,
    /// No request before this instant (Discord said the bucket is empty).
    not_before: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("webhook", &self.masked)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// Posts to the webhook's own (Discord) URL.
    pub fn new(hook: &DiscordWebhook) -> Webhook {
        Self::build(hook, webhook_url(hook), false)
    }

    /// For tests and demos only: posts to `base` (a loopback
    /// `http://127.0.0.1:PORT`, `http://[::1]:PORT` or
    /// `http://localhost:PORT`) with the real URL's
    /// `/api/.../webhooks/{id}/{token}` path. Any other base is refused.
    pub fn with_api_base(hook: &DiscordWebhook, base: &str) -> Result<Webhook, SendError> {
        let mut url = loopback_base(base)?;
        url.set_path(webhook_url(hook).path());
        Ok(Self::build(hook, url, true))
    }

    /// [`Webhook::with_api_base`] when [`API_BASE_ENV`] is set (and not
    /// empty), else [`Webhook::new`]. A non-loopback override is an error,
    /// never silently ignored.
    pub fn from_env_or_real(hook: &DiscordWebhook) -> Result<Webhook, SendError> {
        match std::env::var(API_BASE_ENV) {
            Ok(base) if !base.trim().is_empty() => {
                tracing::warn!(base = %base.trim(), "Discord messages go to the {API_BASE_ENV} override, not to Discord");
                Self::with_api_base(hook, base.trim())
            }
            _ => Ok(Self::new(hook)),
        }
    }

    /// `loopback`: never through a proxy (an `HTTP_PROXY` meant for the
    /// internet cannot reach this machine's own ports).
    fn build(hook: &DiscordWebhook, url: Url, loopback: bool) -> Webhook {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("PostFlow/", env!("CARGO_PKG_VERSION")));
        if loopback {
            builder = builder.no_proxy();
        }
        // Timeouts, a user agent and the bundled rustls roots: nothing here
        // depends on the machine, so building cannot fail.
        let http = builder
            .build()
            .expect("a static HTTP client configuration builds");
        let token = url
            .path_segments()
            .and_then(|mut segments| segments.next_back())
            .unwrap_or_default()
            .to_string();
        Webhook {
            http,
            host: url.host_str().unwrap_or_default().to_string(),
            endpoint: SecretString::from(url.to_string()),
            masked: hook.masked().to_string(),
            token: SecretString::from(token),
            not_before: Mutex::new(None),
        }
    }

    /// The webhook as it may be shown.
    pub fn masked(&self) -> &str {
        &self.masked
    }

    /// Posts `message` and returns the id Discord gave it.
    ///
    /// The message is checked against Discord's limits first. A 429 is
    /// waited out exactly as long as Discord says, up to
    /// [`MAX_RATE_LIMIT_RETRIES`] times; when a success reports an empty
    /// bucket, the next send on this client waits for its reset. Other
    /// failures are not retried here (a 5xx may hide a posted message, and
    /// the caller's outbox retries with backoff anyway).
    pub async fn send(&self, message: &Message) -> Result<Delivered, SendError> {
        check_limits(message).map_err(SendError::TooLarge)?;
        let created: Created = self
            .call(|| {
                self.http
                    .post(self.endpoint.expose_secret())
                    .query(&[("wait", "true")])
                    .json(message)
            })
            .await?;
        Ok(Delivered {
            message_id: created.id,
        })
    }

    /// Asks Discord about the webhook without posting anything (for
    /// `postflow check`): a deleted webhook is
    /// [`SendError::WebhookInvalid`]. Rate limits are handled as in
    /// [`Webhook::send`].
    pub async fn verify(&self) -> Result<WebhookInfo, SendError> {
        self.call(|| self.http.get(self.endpoint.expose_secret()))
            .await
    }

    /// Sends the request `build` makes until it is answered with something
    /// other than a 429 (at most [`MAX_RATE_LIMIT_RETRIES`] of them), and
    /// reads a 200's JSON body.
    async fn call<T: DeserializeOwned>(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<T, SendError> {
        let mut rate_limited = 0;
        loop {
            self.wait_turn().await?;
            match self.exchange(build()).await? {
                Answer::Ok(body) => return self.parse(&body),
                Answer::Failed(error) => return Err(error),
                Answer::RateLimited(wait) => {
                    self.hold_for(wait);
                    rate_limited += 1;
                    if rate_limited > MAX_RATE_LIMIT_RETRIES {
                        return Err(SendError::RateLimited { retry_after: wait });
                    }
                    tracing::info!(webhook = %self.masked, wait_s = wait.as_secs_f64(), "Discord rate limit; waiting");
                }
            }
        }
    }

    /// One request and what its answer means.
    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<Answer, SendError> {
        let response = request.send().await.map_err(|e| self.network_error(e))?;
        let status = response.status();
        let headers = response.headers().clone();
        self.note_bucket(&headers);
        let body = response.bytes().await.map_err(|e| self.network_error(e))?;
        Ok(self.answer(status, &headers, body.to_vec()))
    }

    fn parse<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, SendError> {
        serde_json::from_slice(body).map_err(|e| SendError::Unexpected {
            status: 200,
            what: self.scrub(&format!("unreadable answer: {e}")),
        })
    }

    fn answer(&self, status: StatusCode, headers: &HeaderMap, body: Vec<u8>) -> Answer {
        let code = status.as_u16();
        match code {
            200 => Answer::Ok(body),
            429 => Answer::RateLimited(retry_after(headers, &body)),
            401 | 403 | 404 => Answer::Failed(SendError::WebhookInvalid {
                status: code,
                message: self.server_text(&body, status),
            }),
            408 | 500..=599 => Answer::Failed(SendError::Unavailable { status: code }),
            400..=499 => Answer::Failed(SendError::Rejected {
                status: code,
                message: self.server_text(&body, status),
            }),
            _ => Answer::Failed(SendError::Unexpected {
                status: code,
                what: "not an answer to a webhook message".into(),
            }),
        }
    }

    /// Waits until the bucket allows a request, unless that is further away
    /// than [`MAX_INLINE_WAIT`].
    async fn wait_turn(&self) -> Result<(), SendError> {
        let not_before = *self.not_before.lock().expect("rate-limit lock");
        let Some(not_before) = not_before else {
            return Ok(());
        };
        let wait = not_before.saturating_duration_since(Instant::now());
        if wait > MAX_INLINE_WAIT {
            return Err(SendError::RateLimited { retry_after: wait });
        }
        tokio::time::sleep_until(not_before).await;
        Ok(())
    }

    /// No request for `wait` from now (or longer, if already held longer).
    fn hold_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut not_before = self.not_before.lock().expect("rate-limit lock");
        *not_before = Some(not_before.map_or(until, |held| held.max(until)));
    }

    /// An empty bucket (`X-RateLimit-Remaining: 0`) holds the next request
    /// for `X-RateLimit-Reset-After` seconds.
    fn note_bucket(&self, headers: &HeaderMap) {
        if header_f64(headers, "x-ratelimit-remaining") == Some(0.0) {
            if let Some(wait) = header_f64(headers, "x-ratelimit-reset-after").and_then(seconds) {
                self.hold_for(wait);
            }
        }
    }

    /// Discord's `message` (and its first detailed error), scrubbed of the
    /// token and shortened; the HTTP reason when there is none.
    fn server_text(&self, body: &[u8], status: StatusCode) -> String {
        let text = serde_json::from_slice::<ErrorBody>(body)
            .ok()
            .and_then(|b| b.describe())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("no reason").to_string());
        truncate(&self.scrub(&text), SERVER_TEXT)
    }

    fn scrub(&self, text: &str) -> String {
        let token = self.token.expose_secret();
        if token.is_empty() {
            return text.to_string();
        }
        text.replace(self.endpoint.expose_secret(), &self.masked)
            .replace(token, "••••")
    }

    /// reqwest's errors carry the URL, token included: keep only the kind
    /// of failure, the host and the root cause.
    fn network_error(&self, error: reqwest::Error) -> SendError {
        let error = error.without_url();
        let what = if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "connection failed"
        } else if error.is_body() || error.is_request() {
            "connection dropped"
        } else {
            "request failed"
        };
        let mut cause: &dyn std::error::Error = &error;
        while let Some(source) = cause.source() {
            cause = source;
        }
        let cause = self.scrub(&cause.to_string());
        SendError::Network(format!("{what} ({}): {cause}", self.host))
    }
}

/// What one request came to.
enum Answer {
    /// 200, with its body.
    Ok(Vec<u8>),
    RateLimited(Duration),
    Failed(SendError),
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

/// Discord's error body: `{"message", "code", "errors"?, "retry_after"?}`.
#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
    errors: Option<serde_json::Value>,
    retry_after: Option<f64>,
}

impl ErrorBody {
    /// `Invalid Form Body (embeds.0.title: Must be 256 or fewer in length.)`
    fn describe(&self) -> Option<String> {
        let message = self.message.clone()?;
        let detail = self
            .errors
            .as_ref()
            .and_then(|e| first_error(e, String::new()));
        Some(match detail {
            Some(detail) => format!("{message} ({detail})"),
            None => message,
        })
    }
}

/// The first `_errors[0].message` in Discord's nested error tree, with its
/// path.
fn first_error(tree: &serde_json::Value, path: String) -> Option<String> {
    let object = tree.as_object()?;
    if let Some(message) = object
        .get("_errors")
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("message"))
        .and_then(|m| m.as_str())
    {
        return Some(format!("{path}: {message}"));
    }
    object.iter().find_map(|(key, child)| {
        let path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        first_error(child, path)
    })
}

/// How long a 429 asks to wait: the body's `retry_after` (precise), else
/// the `Retry-After` header, else the bucket's reset.
fn retry_after(headers: &HeaderMap, body: &[u8]) -> Duration {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.retry_after)
        .or_else(|| header_f64(headers, RETRY_AFTER.as_str()))
        .or_else(|| header_f64(headers, "x-ratelimit-reset-after"))
        .and_then(seconds)
        .unwrap_or(FALLBACK_WAIT)
}

fn header_f64(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// A wait announced in seconds, at most [`LONGEST_WAIT`].
fn seconds(value: f64) -> Option<Duration> {
    if value.is_nan() {
        return None;
    }
    Duration::try_from_secs_f64(value.min(LONGEST_WAIT.as_secs_f64())).ok()
}

fn webhook_url(hook: &DiscordWebhook) -> Url {
    Url::parse(hook.expose_url()).expect("a parsed DiscordWebhook is a valid URL")
}

/// `base` if it is a plain http address on this machine, with no path.
fn loopback_base(base: &str) -> Result<Url, SendError> {
    let refused = || SendError::NotLoopback(shown_base(base));
    let url = Url::parse(base).map_err(|_| refused())?;
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    let bare = matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if url.scheme() != "http" || !loopback || !bare {
        return Err(refused());
    }
    Ok(url)
}

/// The scheme and host of a refused base, enough to recognise it, never a
/// path that could be a pasted webhook token.
fn shown_base(base: &str) -> String {
    match Url::parse(base) {
        Ok(url) => format!(
            "{}://{}",
            url.scheme(),
            url.host_str().unwrap_or("(no host)")
        ),
        Err(_) => "an invalid address".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook() -> DiscordWebhook {
        DiscordWebhook::parse("https://discord.com/api/v10/webhooks/123456789/tok-en_1").unwrap()
    }

    #[test]
    fn loopback_bases_keep_the_webhook_path() {
        for base in [
            "http://127.0.0.1:8080",
            "http://[::1]:8080/",
            "http://localhost:8080",
        ] {
            let webhook = Webhook::with_api_base(&hook(), base).unwrap();
            let endpoint = Url::parse(webhook.endpoint.expose_secret()).unwrap();
            assert_eq!(endpoint.path(), "/api/v10/webhooks/123456789/tok-en_1");
            assert_eq!(endpoint.port(), Some(8080));
        }
    }

    #[test]
    fn a_refused_base_is_shown_without_its_path() {
        let err =
            Webhook::with_api_base(&hook(), "https://evil.example/api/webhooks/1/secret-token")
                .unwrap_err();
        assert_eq!(err, SendError::NotLoopback("https://evil.example".into()));
        assert_eq!(err.disposition(), Disposition::NeedsUser);
        assert!(!err.to_string().contains("secret-token"));
        for base in [
            "http://127.0.0.1:1/prefix",
            "http://user:pw@127.0.0.1:1",
            "http://localhost.evil.example",
            "ftp://127.0.0.1",
            "127.0.0.1:8080",
        ] {
            assert!(Webhook::with_api_base(&hook(), base).is_err(), "{base}");
        }
    }

    /// The sender runs in a spawned task.
    #[test]
    fn sending_can_happen_in_a_spawned_task() {
        fn spawnable<T: Send + 'static>(_: &T) {}
        let webhook = std::sync::Arc::new(Webhook::new(&hook()));
        let task = async move { webhook.send(&Message::default()).await };
        spawnable(&task);
    }

    #[test]
    fn debug_shows_the_masked_webhook_only() {
        let webhook = Webhook::new(&hook());
        let shown = format!("{webhook:?}");
        assert!(shown.contains(hook().masked()), "{shown}");
        assert!(!shown.contains("tok-en_1"), "{shown}");
    }

    #[test]
    fn discords_detailed_error_is_summarised() {
        let body = br#"{"code":50035,"message":"Invalid Form Body","errors":{"embeds":{"0":{"title":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH","message":"Must be 256 or fewer in length."}]}}}}}"#;
        let webhook = Webhook::new(&hook());
        assert_eq!(
            webhook.server_text(body, StatusCode::BAD_REQUEST),
            "Invalid Form Body (embeds.0.title: Must be 256 or fewer in length.)"
        );
        assert_eq!(
            webhook.server_text(b"<html>", StatusCode::BAD_REQUEST),
            "Bad Request"
        );
        let echo = br#"{"message":"bad https://discord.com/api/v10/webhooks/123456789/tok-en_1?wait=true"}"#;
        let text = webhook.server_text(echo, StatusCode::BAD_REQUEST);
        assert!(!text.contains("tok-en_1"), "{text}");
    }

    #[test]
    fn retry_after_prefers_the_precise_body() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "2".parse().unwrap());
        let body =
            br#"{"message":"You are being rate limited.","retry_after":1.25,"global":false}"#;
        assert_eq!(retry_after(&headers, body), Duration::from_millis(1250));
        assert_eq!(retry_after(&headers, b""), Duration::from_secs(2));
        assert_eq!(retry_after(&HeaderMap::new(), b""), FALLBACK_WAIT);
        let absurd = br#"{"retry_after":1e300}"#;
        assert_eq!(retry_after(&headers, absurd), LONGEST_WAIT);
        let negative = br#"{"retry_after":-3}"#;
        assert_eq!(retry_after(&HeaderMap::new(), negative), FALLBACK_WAIT);
    }

    #[test]
    fn only_a_lost_webhook_needs_the_user() {
        let invalid = SendError::WebhookInvalid {
            status: 404,
            message: "Unknown Webhook".into(),
        };
        assert_eq!(invalid.disposition(), Disposition::NeedsUser);
        assert_eq!(
            invalid.to_string(),
            "Discord webhook no longer valid (HTTP 404: Unknown Webhook); paste a new one with `postflow secrets set discord-webhook`"
        );
        assert_eq!(
            SendError::Rejected {
                status: 400,
                message: String::new()
            }
            .disposition(),
            Disposition::Permanent
        );
        let limited = SendError::RateLimited {
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(limited.disposition(), Disposition::Transient);
        assert_eq!(limited.retry_after(), Some(Duration::from_millis(1500)));
        assert_eq!(
            SendError::Unavailable { status: 502 }.disposition(),
            Disposition::Transient
        );
    }
}
