//! Sends the Discord outbox: the team notices the engine wrote to the queue
//! database (see `postflow_engine::DISCORD_CHANNEL`).
//!
//! - **Batching.** Nothing is sent until the oldest pending notice is
//!   `batching_window_secs` old; then everything pending goes out, as few
//!   messages as Discord's limits allow (`postflow_discord::compose`).
//! - **Once.** A notice is marked sent only after Discord accepted the
//!   message that carried it; a restart or an outage in between leaves it
//!   pending. (Discord's webhooks take no idempotency key: a crash in the
//!   milliseconds between Discord's answer and the mark would send that one
//!   message again. We prefer that to losing it.)
//! - **Never in the way.** This task only reads the outbox: uploads never
//!   wait for Discord.
//! - **Errors.** A 429 is waited out inside `Webhook::send`; Discord down or
//!   unreachable: retried with backoff, notices kept; a webhook Discord no
//!   longer knows (401/403/404): sending stops, notices kept, and the state
//!   "Discord webhook no longer valid" shows in `postflow status` until a
//!   new webhook is stored (checked every 30 s) or `notify-test` succeeds.

use std::sync::Arc;
use std::time::Duration;

use postflow_core::{Control, Event};
use postflow_discord::{compose, compose_tracked, Disposition, Notice, Webhook};
use postflow_engine::{Engine, Telling, DISCORD_CHANNEL};
use postflow_queue::{now_ms, OutboxEntry, Queue};
use postflow_secrets::{DiscordWebhook, SecretStore};
use postflow_settings::DiscordSettings;
use serde::{Deserialize, Serialize};

/// Why the outbox is not being sent, in the queue database's service state
/// (so `postflow status` in another process shows it).
pub const DISCORD_PROBLEM_KEY: &str = "discord.problem";
/// Notices taken per round (each message carries at most this many).
const BATCH: usize = 100;
const IDLE_POLL: Duration = Duration::from_secs(2);
const RECHECK_WEBHOOK: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Why notices are waiting instead of going out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscordProblem {
    /// `no_webhook`, `webhook_invalid` or `unavailable`.
    pub kind: String,
    /// For the user: what happened and what to do.
    pub message: String,
    /// Since when (unix ms).
    pub since: i64,
}

/// The Frame.io files of upload notices (their keys are `uploaded:<item
/// id>`; the item holds the file id).
fn files_of<'a>(queue: &Queue, entries: impl Iterator<Item = &'a OutboxEntry>) -> Vec<String> {
    entries
        .filter_map(|e| e.key.strip_prefix("uploaded:")?.parse::<i64>().ok())
        .filter_map(|item| match queue.get(item).ok()??.status {
            postflow_queue::Status::Done { file_id, .. }
            | postflow_queue::Status::Notifying { file_id, .. } => Some(file_id),
            _ => None,
        })
        .collect()
}

/// The queue outbox's channel of Frame.io files whose claim notes are to
/// be deleted (their uploads told); key `release:<file id>`, payload the
/// file id. Sent once the notes are gone.
pub const CLAIM_RELEASE_CHANNEL: &str = "frameio-claim-release";

/// Notices read per look by [`untold_uploads`]: far more than a facility
/// renders within a takeover delay.
const UNTOLD_LOOK: usize = 10_000;

/// The Frame.io files of uploads whose team notice is still waiting to go
/// out (within the batching window, or Discord down): their claim notes
/// must keep beating until it has (see `Engine::keep_claims_alive`).
fn untold_uploads(queue: &Queue) -> Vec<String> {
    match queue.pending_notices(DISCORD_CHANNEL, UNTOLD_LOOK) {
        Ok(pending) => files_of(queue, pending.iter()),
        Err(e) => {
            tracing::warn!("cannot read the Discord outbox: {e}");
            Vec::new()
        }
    }
}

/// Keeps the claim notes of uploads whose notice is still waiting beating,
/// every `every` (runs until aborted): silent for the takeover delay,
/// another workstation would finish the file and tell the team a second
/// time.
pub async fn keep_untold_claims_alive(queue: Arc<Queue>, engine: Arc<Engine>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for file in untold_uploads(&queue) {
            engine.keep_claims_alive(&file).await;
        }
    }
}

/// Works through [`CLAIM_RELEASE_CHANNEL`] every second (runs until
/// aborted): the claim notes of told uploads are deleted, and what a
/// crash left is deleted at the next start. A failure is retried.
pub async fn release_told_claims(queue: Arc<Queue>, engine: Arc<Engine>) {
    loop {
        match queue.pending_notices(CLAIM_RELEASE_CHANNEL, 100) {
            Ok(pending) => {
                for entry in pending {
                    match engine.release_claims(&entry.payload).await {
                        Ok(()) => {
                            let _ = queue.mark_notices_sent(&[entry.id]);
                        }
                        Err(e) => {
                            tracing::warn!(
                                file_id = %entry.payload,
                                "cannot delete the claim note of a told upload (retried): {e}"
                            );
                            let _ = queue.note_notice_failure(&[entry.id], &e.to_string());
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("cannot read the claim notes to delete: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Where the webhook comes from: the keychain (or its environment-variable
/// fallback), read again only when there is reason to.
pub trait WebhookSource: Send + Sync {
    fn webhook(&self) -> Result<Option<DiscordWebhook>, postflow_core::ApiError>;
}

impl WebhookSource for SecretStore {
    fn webhook(&self) -> Result<Option<DiscordWebhook>, postflow_core::ApiError> {
        Ok(self.discord_webhook()?.map(|(hook, _origin)| hook))
    }
}

pub struct Notifier {
    queue: Arc<Queue>,
    control: Control,
    settings: DiscordSettings,
    source: Arc<dyn WebhookSource>,
    /// Test-only: a loopback fake Discord instead of discord.com. Unset,
    /// the `POSTFLOW_DISCORD_API_BASE` override applies, as everywhere.
    api_base: Option<String>,
    /// The engine whose uploads the notices tell of: asked, before an
    /// upload's notice goes out, whether another workstation took the
    /// telling over (`Engine::may_tell`).
    engine: Option<Arc<Engine>>,
}

/// The webhook in use and what Discord last said of it.
enum Hook {
    Unknown,
    Ready(DiscordWebhook, Webhook),
    /// Refused by Discord (or malformed for the override); not retried
    /// until the stored URL changes.
    Refused(DiscordWebhook),
    Missing,
}

impl Notifier {
    pub fn new(
        queue: Arc<Queue>,
        control: Control,
        settings: DiscordSettings,
        source: Arc<dyn WebhookSource>,
    ) -> Self {
        Self {
            queue,
            control,
            settings,
            source,
            api_base: None,
            engine: None,
        }
    }

    /// Before an upload's notice goes out, `engine` says whether another
    /// workstation finished that upload for this one (a survivor that took
    /// over while this one was down): the notice is then set aside, not
    /// sent twice.
    pub fn with_engine(mut self, engine: Arc<Engine>) -> Self {
        self.engine = Some(engine);
        self
    }

    /// `pending` without the upload notices another workstation took over
    /// (set aside in the outbox, with who).
    /// Also says whether any was held back because Frame.io could not be
    /// asked.
    async fn without_taken_over(&self, pending: Vec<OutboxEntry>) -> (Vec<OutboxEntry>, bool) {
        let Some(engine) = &self.engine else {
            return (pending, false);
        };
        let mut held = false;
        let mut kept = Vec::with_capacity(pending.len());
        for entry in pending {
            if let Some(file) = files_of(&self.queue, std::iter::once(&entry)).pop() {
                let by = match engine.may_tell(&file).await {
                    Telling::Ours => None,
                    Telling::TakenBy(by) => Some(by),
                    // Not sent on a guess: it waits for the next round.
                    Telling::Unknown(e) => {
                        tracing::warn!(key = %entry.key, "cannot ask Frame.io whether this upload is ours to tell (retried): {e}");
                        held = true;
                        continue;
                    }
                };
                if let Some(by) = by {
                    tracing::info!(
                        key = %entry.key,
                        "{by} finished this upload while this workstation was down and tells the team; not telling it twice"
                    );
                    let _ = self.queue.give_up_notices(
                        &[entry.id],
                        &format!("told by {by}, which finished this upload"),
                    );
                    // Our notes on the file (made by this upload's resumed
                    // beats) go as after a telling: left, they would make
                    // a later workstation finish and tell it again.
                    self.release_later(vec![file]);
                    continue;
                }
            }
            kept.push(entry);
        }
        (kept, held)
    }

    /// The claim notes on `files` are to go: their uploads are told (or
    /// told by another). Written to the outbox's release channel, which
    /// the service works through (`CLAIM_RELEASE_CHANNEL`), so a crash
    /// between telling and deleting leaves them to delete at the next
    /// start: a note left on a told file would make another workstation
    /// finish it and tell it again (seen in the full chaos soak).
    fn release_later(&self, files: Vec<String>) {
        for file in files {
            if let Err(e) =
                self.queue
                    .enqueue_notice(CLAIM_RELEASE_CHANNEL, &format!("release:{file}"), &file)
            {
                tracing::warn!(file, "cannot record the claim note to delete: {e}");
            }
        }
    }

    /// The Frame.io files of the upload notices among `ids`.
    fn uploaded_files(&self, pending: &[OutboxEntry], ids: &[i64]) -> Vec<String> {
        files_of(&self.queue, pending.iter().filter(|e| ids.contains(&e.id)))
    }

    /// Sends to a fake Discord on loopback (tests; see `Webhook::with_api_base`).
    pub fn with_api_base(mut self, base: impl Into<String>) -> Self {
        self.api_base = Some(base.into());
        self
    }

    /// Sends the outbox until `stop` resolves.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut events = self.control.subscribe();
        let mut hook = Hook::Unknown;
        let mut backoff = Duration::ZERO;
        loop {
            let wait = self.round(&mut hook, &mut backoff).await;
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(wait) => {}
                // A new notice may be waiting: look sooner than the poll.
                Ok(Event::Uploaded { .. } | Event::NeedsUser { .. }) = events.recv(), if wait >= IDLE_POLL => {}
            }
        }
    }

    /// One look at the outbox; returns how long to wait before the next.
    async fn round(&self, hook: &mut Hook, backoff: &mut Duration) -> Duration {
        let pending = match self.queue.pending_notices(DISCORD_CHANNEL, BATCH) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("cannot read the Discord outbox: {e}");
                return IDLE_POLL;
            }
        };
        let Some(oldest) = pending.first() else {
            return IDLE_POLL;
        };
        // Uploads finishing within the window go out together.
        let window = Duration::from_secs(self.settings.batching_window_secs);
        let age = Duration::from_millis((now_ms() - oldest.created_at).max(0) as u64);
        if age < window {
            return window - age;
        }
        let Some(webhook) = self.webhook(hook) else {
            return RECHECK_WEBHOOK;
        };
        let (pending, held) = self.without_taken_over(pending).await;
        if pending.is_empty() {
            return if held { IDLE_POLL } else { Duration::ZERO };
        }
        let (notices, ids) = self.readable(&pending);
        let mention = Some(self.settings.mention.trim()).filter(|m| !m.is_empty());
        let mut failure = None;
        for composed in compose_tracked(&notices, self.settings.language, mention) {
            let carried: Vec<i64> = composed.notices.iter().map(|&i| ids[i]).collect();
            if let Err(e) = webhook.send(&composed.message).await {
                failure = Some((e, carried));
                break;
            }
            if let Err(e) = self.queue.mark_notices_sent(&carried) {
                tracing::error!("Discord accepted a message but the outbox cannot record it: {e}");
            }
            self.release_later(self.uploaded_files(&pending, &carried));
        }
        match failure {
            Some((e, carried)) => {
                // `may_tell` deleted their notes; they wait again, noted.
                if let Some(engine) = &self.engine {
                    if e.disposition() != Disposition::Permanent {
                        for file in self.uploaded_files(&pending, &carried) {
                            engine.reclaim(&file).await;
                        }
                    }
                }
                self.failed(e, &carried, hook, backoff)
            }
            None => {
                *backoff = Duration::ZERO;
                self.clear_problem();
                Duration::ZERO
            }
        }
    }

    /// What a failed send means for the notices it carried; returns how
    /// long to wait.
    fn failed(
        &self,
        e: postflow_discord::SendError,
        carried: &[i64],
        hook: &mut Hook,
        backoff: &mut Duration,
    ) -> Duration {
        let reason = e.to_string();
        let _ = self.queue.note_notice_failure(carried, &reason);
        match e.disposition() {
            Disposition::NeedsUser => {
                tracing::error!("{reason}");
                self.set_problem("webhook_invalid", &reason);
                if let Hook::Ready(stored, _) = std::mem::replace(hook, Hook::Unknown) {
                    *hook = Hook::Refused(stored);
                }
                RECHECK_WEBHOOK
            }
            Disposition::Permanent => {
                // Discord refused this message itself; the others must not
                // wait behind it forever.
                tracing::error!("Discord refused a message; its notices are set aside: {reason}");
                let _ = self.queue.give_up_notices(carried, &reason);
                Duration::ZERO
            }
            Disposition::Transient => {
                *backoff = (*backoff * 2).clamp(Duration::from_secs(2), MAX_BACKOFF);
                tracing::warn!("Discord unavailable ({reason}); retrying in {backoff:?}");
                self.set_problem("unavailable", &reason);
                *backoff
            }
        }
    }

    /// The webhook to send with, reading the keychain when none is known or
    /// the last one was refused (a new one may have been stored since).
    fn webhook<'h>(&self, hook: &'h mut Hook) -> Option<&'h Webhook> {
        if !matches!(hook, Hook::Ready(..)) {
            let stored = match self.source.webhook() {
                Ok(stored) => stored,
                Err(e) => {
                    self.set_problem(
                        "no_webhook",
                        &format!("cannot read the Discord webhook: {e}"),
                    );
                    return None;
                }
            };
            *hook = match (stored, &*hook) {
                (None, _) => {
                    self.set_problem(
                        "no_webhook",
                        "no Discord webhook is stored; set one with `postflow secrets set discord-webhook`",
                    );
                    Hook::Missing
                }
                // Refused before and not replaced since: wait, unless a
                // successful `notify-test` cleared the problem meanwhile.
                (Some(stored), Hook::Refused(refused))
                    if stored == *refused && problem(&self.queue).is_some() =>
                {
                    return None
                }
                (Some(stored), _) => match self.connect(&stored) {
                    Ok(webhook) => Hook::Ready(stored, webhook),
                    Err(e) => {
                        self.set_problem("webhook_invalid", &e.to_string());
                        Hook::Refused(stored)
                    }
                },
            };
        }
        match hook {
            Hook::Ready(_, webhook) => Some(webhook),
            _ => None,
        }
    }

    fn connect(&self, hook: &DiscordWebhook) -> Result<Webhook, postflow_discord::SendError> {
        match &self.api_base {
            Some(base) => Webhook::with_api_base(hook, base),
            None => Webhook::from_env_or_real(hook),
        }
    }

    /// The pending notices this version can read, with their outbox ids;
    /// any other is set aside (written by a newer PostFlow?), not retried.
    fn readable(&self, pending: &[OutboxEntry]) -> (Vec<Notice>, Vec<i64>) {
        let mut notices = Vec::with_capacity(pending.len());
        let mut ids = Vec::with_capacity(pending.len());
        for entry in pending {
            match serde_json::from_str::<Notice>(&entry.payload) {
                Ok(notice) => {
                    notices.push(notice);
                    ids.push(entry.id);
                }
                Err(e) => {
                    tracing::warn!(key = %entry.key, "unreadable notice set aside: {e}");
                    let _ = self
                        .queue
                        .give_up_notices(&[entry.id], &format!("unreadable notice: {e}"));
                }
            }
        }
        (notices, ids)
    }

    fn set_problem(&self, kind: &str, message: &str) {
        let current: Option<DiscordProblem> = self
            .queue
            .state(DISCORD_PROBLEM_KEY)
            .ok()
            .flatten()
            .and_then(|s| serde_json::from_str(&s).ok());
        if current
            .as_ref()
            .is_some_and(|c| c.kind == kind && c.message == message)
        {
            return;
        }
        let problem = DiscordProblem {
            kind: kind.into(),
            message: message.into(),
            since: current.map_or_else(now_ms, |c| c.since),
        };
        let _ = self.queue.set_state(
            DISCORD_PROBLEM_KEY,
            &serde_json::to_string(&problem).expect("problems serialize"),
        );
        self.control.publish(Event::Discord {
            ok: false,
            detail: Some(message.into()),
        });
    }

    fn clear_problem(&self) {
        if self
            .queue
            .state(DISCORD_PROBLEM_KEY)
            .ok()
            .flatten()
            .is_some()
        {
            let _ = self.queue.clear_state(DISCORD_PROBLEM_KEY);
            tracing::info!("Discord messages are going out again");
            self.control.publish(Event::Discord {
                ok: true,
                detail: None,
            });
        }
    }
}

/// The last recorded reason notices are waiting, if any.
pub fn problem(queue: &Queue) -> Option<DiscordProblem> {
    serde_json::from_str(&queue.state(DISCORD_PROBLEM_KEY).ok()??).ok()
}

/// `postflow notify-test`: one test message, sent now (not through the
/// outbox), with Discord's exact answer. A success also lifts a recorded
/// "webhook no longer valid" state, so a running service sends again.
pub async fn notify_test(
    paths: &postflow_settings::Paths,
    settings: &DiscordSettings,
    hook: &DiscordWebhook,
) -> Result<String, postflow_discord::SendError> {
    let webhook = Webhook::from_env_or_real(hook)?;
    let notice = Notice::Test {
        workstation: crate::workstation(),
        at: now_ms() / 1000,
    };
    let mut messages = compose(&[notice], settings.language, None);
    let delivered = webhook.send(&messages.remove(0)).await?;
    if let Ok(queue) = Queue::open(&crate::queue_path(paths)) {
        if problem(&queue).is_some() {
            let _ = queue.clear_state(DISCORD_PROBLEM_KEY);
        }
    }
    Ok(delivered.message_id)
}
