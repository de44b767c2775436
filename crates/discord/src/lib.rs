//! PostFlow's messages to the team's Discord channel.
//!
//! - [`Notice`]: what happened (a file uploaded, something needing a person,
//!   a test), independent of Discord; stored as JSON in the durable outbox.
//! - [`compose`]: a batch of notices → Discord [`Message`]s in English or
//!   French, batched (a digest past ten uploads) and always within Discord's
//!   [`limits`].
//! - [`Webhook`]: posts a message, waits out rate limits, and classifies
//!   failures with a [`Disposition`] (retry, give up, or ask the user).
//!
//! ```no_run
//! # async fn demo(hook: &postflow_secrets::DiscordWebhook, notices: &[postflow_discord::Notice])
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use postflow_discord::{compose, Language, Webhook};
//! let webhook = Webhook::from_env_or_real(hook)?;
//! for message in compose(notices, Language::Fr, Some("<@&456>")) {
//!     webhook.send(&message).await?;
//! }
//! # Ok(()) }
//! ```
//!
//! The webhook URL is a secret: it never appears in an error, a log line or
//! `Debug` output, only as [`postflow_secrets::DiscordWebhook::masked`].

mod client;
mod compose;
pub mod limits;
mod message;
mod notice;
mod render;
mod text;

pub use client::{
    Delivered, Disposition, SendError, Webhook, WebhookInfo, API_BASE_ENV, MAX_INLINE_WAIT,
    MAX_RATE_LIMIT_RETRIES,
};
pub use compose::{compose, compose_tracked, Composed};
pub use limits::{check_limits, LimitViolation};
pub use message::{AllowedMentions, Author, Embed, Field, Footer, Mention, Message};
pub use notice::{Action, Cause, Notice, Upload};
pub use postflow_settings::Language;
