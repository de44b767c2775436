//! Test/dev only, never shipped: a stateful fake Discord webhook server on
//! 127.0.0.1, so that nothing in PostFlow's tests talks to the real Discord.
//!
//! ```no_run
//! # async fn demo() {
//! use postflow_discord::{Message, Webhook};
//! use postflow_discord_fake::DiscordFake;
//! let fake = DiscordFake::start().await;
//! let webhook = Webhook::with_api_base(&fake.hook(), &fake.base_url()).unwrap();
//! fake.rate_limit_next(1, 0.5); // the first POST gets a 429
//! let message = Message { content: Some("hi".into()), ..Message::default() };
//! webhook.send(&message).await.unwrap();
//! assert_eq!(fake.messages().len(), 1);
//! # }
//! ```
//!
//! # What is faked
//! `POST /api/webhooks/{id}/{token}` and `POST /api/v{n}/webhooks/{id}/{token}`,
//! checked in Discord's order:
//! 1. an unknown id or token, or a deleted webhook: 404
//!    `{"message": "Unknown Webhook", "code": 10015}`;
//! 2. rate limits: injected ([`DiscordFake::rate_limit_next`]) or from the
//!    webhook's bucket (5 requests per 2 s unless [`DiscordFake::set_bucket`]
//!    says otherwise): 429 `{"message": "You are being rate limited.",
//!    "retry_after": 1.0, "global": false}` with `Retry-After` (whole
//!    seconds, rounded up) and `X-RateLimit-Scope: user`;
//! 3. injected failures ([`DiscordFake::fail_next`]);
//! 4. the body: not JSON (by content type or syntax), not shaped like a
//!    message, empty, or over any of [`postflow_discord::limits`]: 400
//!    `{"code": 50035, "message": "Invalid Form Body", "errors": {...}}`, the
//!    error nested under its place (`embeds.0.title`) as Discord does; the
//!    message is not recorded. (Real Discord answers an empty message with
//!    code 50006; the fake uses 50035 for every body problem.)
//!
//! An accepted message is recorded; `?wait=true` answers 200 with a
//! message object (snowflake-like `id`, `channel_id`, `content`, `embeds`),
//! otherwise 204. Every answer carries `X-RateLimit-Limit`, `-Remaining`,
//! `-Reset`, `-Reset-After` and `-Bucket`.
//!
//! `GET` on the same paths answers the webhook object (named
//! [`WEBHOOK_NAME`]) or 404 Unknown Webhook, without rate limits or
//! injected faults.

mod routes;
mod state;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use postflow_secrets::DiscordWebhook;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::state::{Bucket, Shared};

pub use routes::{CHANNEL_ID, WEBHOOK_NAME};

/// The id of the webhook the fake knows.
pub const WEBHOOK_ID: &str = "123456789012345678";
/// Its token.
pub const WEBHOOK_TOKEN: &str = "fake-token_abc";

/// A running fake. The server stops when it is dropped.
pub struct DiscordFake {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl std::fmt::Debug for DiscordFake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordFake")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl DiscordFake {
    /// Binds a free port on 127.0.0.1 and serves on the current tokio
    /// runtime. Panics if no loopback port can be bound (tests only).
    pub async fn start() -> DiscordFake {
        Self::start_on(0).await
    }

    /// Like [`DiscordFake::start`], on a chosen loopback port (0: any).
    pub async fn start_on(port: u16) -> DiscordFake {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .expect("the fake Discord binds a loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let shared = Arc::new(Shared::new(WEBHOOK_ID, WEBHOOK_TOKEN));
        let app = routes::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::warn!(%error, "fake Discord stopped");
            }
        });
        tracing::debug!(%addr, "fake Discord listening");
        DiscordFake {
            shared,
            addr,
            _stop: stop,
        }
    }

    /// `http://127.0.0.1:PORT`, for [`postflow_discord::Webhook::with_api_base`]
    /// or `POSTFLOW_DISCORD_API_BASE`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A valid Discord webhook URL (on discord.com, as users paste them)
    /// whose id and token the fake recognises.
    pub fn hook(&self) -> DiscordWebhook {
        DiscordWebhook::parse(&format!(
            "https://discord.com/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"
        ))
        .expect("the fake's webhook URL is valid")
    }

    /// The next `n` requests (to the known webhook) get a 429 announcing
    /// `retry_after` seconds.
    pub fn rate_limit_next(&self, n: u32, retry_after: f64) {
        let mut state = self.shared.lock();
        state.rate_limit_next = n;
        state.injected_retry_after = retry_after;
    }

    /// The webhook's bucket: `limit` requests per `window` (starts afresh).
    pub fn set_bucket(&self, limit: u32, window: Duration) {
        self.shared.lock().bucket = Bucket::new(limit, window);
    }

    /// From now on every request gets 404 Unknown Webhook, as after someone
    /// deleted the webhook in Discord.
    pub fn delete_webhook(&self) {
        self.shared.lock().deleted = true;
    }

    /// Undoes [`DiscordFake::delete_webhook`].
    pub fn restore_webhook(&self) {
        self.shared.lock().deleted = false;
    }

    /// The next `n` requests (to the known webhook, past rate limits) get
    /// `status` (a 5xx, typically) and are not recorded.
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut state = self.shared.lock();
        state.fail_next = n;
        state.fail_status = status;
    }

    /// The bodies of the accepted messages, as received, in order.
    pub fn messages(&self) -> Vec<Value> {
        let state = self.shared.lock();
        state.accepted.iter().map(|a| a.body.clone()).collect()
    }

    /// The ids given to the accepted messages, in order.
    pub fn message_ids(&self) -> Vec<String> {
        let state = self.shared.lock();
        state.accepted.iter().map(|a| a.id.clone()).collect()
    }

    /// Requests (`POST` and `GET`) received for a webhook, whatever their
    /// answer.
    pub fn requests(&self) -> usize {
        self.shared.lock().arrivals.len()
    }

    /// When each of those requests arrived, in order.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.shared.lock().arrivals.clone()
    }

    /// Requests refused with 400 (invalid body).
    pub fn rejected(&self) -> usize {
        self.shared.lock().rejected
    }

    /// Requests answered with 429.
    pub fn rate_limited(&self) -> usize {
        self.shared.lock().rate_limited
    }
}
