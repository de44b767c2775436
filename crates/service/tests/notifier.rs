//! The Discord outbox sender against a fake Discord on loopback, with a
//! real SQLite queue file: batching, limits, rate limits, a deleted
//! webhook, and restarts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use postflow_core::Control;
use postflow_discord::{Notice, Upload};
use postflow_discord_fake::DiscordFake;
use postflow_engine::DISCORD_CHANNEL;
use postflow_queue::Queue;
use postflow_secrets::DiscordWebhook;
use postflow_service::{discord_problem, Notifier, WebhookSource};
use postflow_settings::DiscordSettings;
use serde_json::Value;
use tokio::sync::oneshot;

struct Stored(DiscordWebhook);

impl WebhookSource for Stored {
    fn webhook(&self) -> Result<Option<DiscordWebhook>, postflow_core::ApiError> {
        Ok(Some(self.0.clone()))
    }
}

fn upload(n: usize) -> Notice {
    Notice::Uploaded(Upload {
        file_name: format!("SC01_UNDLM_{n:05}_V002.mov"),
        scene: "SC01".into(),
        shot: format!("UNDLM_{n:05}"),
        version: "V002".into(),
        size_bytes: 1_200_000_000,
        frameio_path: format!("SCENES/SC01/UNDLM_{n:05}"),
        view_url: Some(format!("https://next.frame.io/project/p/view/{n}")),
        workstation: "edit-3".into(),
        uploaded_at: 1_764_000_000,
        previous_version: Some("V001".into()),
        rerender: false,
    })
}

fn enqueue(queue: &Queue, range: std::ops::Range<usize>) {
    for n in range {
        let payload = serde_json::to_string(&upload(n)).unwrap();
        assert!(queue
            .enqueue_notice(DISCORD_CHANNEL, &format!("uploaded:{n}"), &payload)
            .unwrap());
    }
}

fn settings(window_secs: u64) -> DiscordSettings {
    DiscordSettings {
        enabled: true,
        batching_window_secs: window_secs,
        ..DiscordSettings::default()
    }
}

/// A running notifier; `stop` ends it as a service shutdown would.
struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    fn start(queue: &Arc<Queue>, fake: &DiscordFake, window_secs: u64) -> Running {
        let notifier = Notifier::new(
            queue.clone(),
            Control::in_memory(),
            settings(window_secs),
            Arc::new(Stored(fake.hook())),
        )
        .with_api_base(fake.base_url());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(notifier.run(async {
            let _ = stopped.await;
        }));
        Running { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }
}

async fn until(what: &str, timeout: Duration, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until nothing is pending in the Discord outbox.
async fn until_sent(queue: &Queue, timeout: Duration) {
    until("the outbox to empty", timeout, || {
        queue.outbox_summary(DISCORD_CHANNEL).unwrap().pending == 0
    })
    .await;
}

/// How many times each file name appears across every message received.
fn mentions(messages: &[Value], n: usize) -> usize {
    let name = format!("SC01_UNDLM_{n:05}_V002.mov");
    messages
        .iter()
        .map(|m| m.to_string().matches(&name).count().min(1))
        .sum()
}

fn open_queue(dir: &tempfile::TempDir) -> Arc<Queue> {
    Arc::new(Queue::open(&dir.path().join("queue.sqlite")).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_uploads_within_the_window_go_out_as_one_message_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open_queue(&dir);
    let fake = DiscordFake::start().await;
    let started = Instant::now();
    enqueue(&queue, 0..5);
    let notifier = Running::start(&queue, &fake, 2);
    until("a message", Duration::from_secs(10), || {
        !fake.messages().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let messages = fake.messages();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["embeds"].as_array().unwrap().len(), 5);
    assert!(
        fake.arrivals()[0] >= started + Duration::from_secs(2),
        "sent before the batching window ended"
    );
    assert_eq!(queue.outbox_summary(DISCORD_CHANNEL).unwrap().pending, 0);
    notifier.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_uploads_go_out_within_discords_limits_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open_queue(&dir);
    let fake = DiscordFake::start().await;
    enqueue(&queue, 0..30);
    let notifier = Running::start(&queue, &fake, 0);
    until_sent(&queue, Duration::from_secs(20)).await;
    notifier.stop().await;
    let messages = fake.messages();
    // The fake answers 400 to anything over a limit, as Discord does.
    assert_eq!(fake.rejected(), 0);
    for n in 0..30 {
        assert_eq!(mentions(&messages, n), 1, "file {n} in {messages:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_waited_out_and_the_message_sent_once() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open_queue(&dir);
    let fake = DiscordFake::start().await;
    fake.rate_limit_next(1, 1.0);
    enqueue(&queue, 0..3);
    let notifier = Running::start(&queue, &fake, 0);
    until_sent(&queue, Duration::from_secs(10)).await;
    notifier.stop().await;
    assert_eq!(fake.rate_limited(), 1);
    let arrivals = fake.arrivals();
    assert!(
        arrivals[1] - arrivals[0] >= Duration::from_secs(1),
        "retried before retry_after"
    );
    let messages = fake.messages();
    assert_eq!(messages.len(), 1);
    for n in 0..3 {
        assert_eq!(mentions(&messages, n), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_webhook_stops_sending_keeps_every_notice_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open_queue(&dir);
    let fake = DiscordFake::start().await;
    fake.delete_webhook();
    enqueue(&queue, 0..4);
    let notifier = Running::start(&queue, &fake, 0);
    until("the problem to show", Duration::from_secs(10), || {
        discord_problem(&queue).is_some()
    })
    .await;
    let problem = discord_problem(&queue).unwrap();
    assert_eq!(problem.kind, "webhook_invalid");
    assert!(
        problem.message.contains("no longer valid"),
        "{}",
        problem.message
    );
    assert!(!problem
        .message
        .contains(postflow_discord_fake::WEBHOOK_TOKEN));
    // No retrying into a ban: one request, and nothing lost.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fake.requests(), 1);
    assert_eq!(queue.outbox_summary(DISCORD_CHANNEL).unwrap().pending, 4);
    notifier.stop().await;

    // Restarted with the webhook working again: everything goes, once.
    fake.restore_webhook();
    queue
        .clear_state(postflow_service::DISCORD_PROBLEM_KEY)
        .unwrap();
    let notifier = Running::start(&queue, &fake, 0);
    until_sent(&queue, Duration::from_secs(10)).await;
    notifier.stop().await;
    for n in 0..4 {
        assert_eq!(mentions(&fake.messages(), n), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_in_the_middle_send_each_pending_message_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let fake = DiscordFake::start().await;

    // First run: the first batch goes out.
    let queue = open_queue(&dir);
    enqueue(&queue, 0..5);
    let notifier = Running::start(&queue, &fake, 0);
    until("the first batch", Duration::from_secs(10), || {
        fake.messages().len() == 1
    })
    .await;
    notifier.stop().await;

    // Second run: Discord is down; the second batch waits, noted.
    let queue = open_queue(&dir);
    fake.fail_next(100, 503);
    enqueue(&queue, 5..12);
    let notifier = Running::start(&queue, &fake, 0);
    until("a failed send", Duration::from_secs(10), || {
        queue
            .outbox_summary(DISCORD_CHANNEL)
            .unwrap()
            .last_error
            .is_some()
    })
    .await;
    notifier.stop().await;
    drop(queue);

    // Third run (a fresh process would open the same file): Discord is back.
    fake.fail_next(0, 503);
    let queue = open_queue(&dir);
    let notifier = Running::start(&queue, &fake, 0);
    until_sent(&queue, Duration::from_secs(15)).await;
    notifier.stop().await;
    let messages = fake.messages();
    for n in 0..12 {
        assert_eq!(mentions(&messages, n), 1, "file {n} in {messages:#?}");
    }
    assert_eq!(discord_problem(&queue), None, "recovered");
}
