//! Local uploads: Frame.io sizes the parts; PostFlow streams each part from
//! disk, several at a time, retries each part on its own, reports progress
//! at a bounded rate, and can resume from the parts already stored.
//!
//! **Memory bound.** Nothing holds a whole part: each part in flight reads
//! the file through one buffer of [`UploadOptions::read_buffer`] bytes, and
//! the HTTP stack holds at most a couple of chunks per request. Peak memory
//! for transfer data is therefore about
//! `parallel_parts × 2 × read_buffer` (4 × 2 × 1 MiB = 8 MiB by default),
//! whatever the file or part size.
//!
//! **Bandwidth.** An optional [`Bandwidth`] cap, shared by every part of
//! every file (the engine hands one to all its uploads), paces the bytes
//! as they leave the read buffer.

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{StreamExt, TryStreamExt};
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::client::RetryPolicy;
use crate::error::{Error, Result};
use crate::model::{FileWithUploadUrls, RemoteFile, UploadStatus};
use crate::Client;

pub use postflow_core::UploadSession;

/// When the part URLs of a session stop working, read from `X-Amz-Date` and
/// `X-Amz-Expires` (unix seconds), if the URLs say. Presigned URL lifetime is
/// unconfirmed for Frame.io, so absence means "unknown".
pub fn urls_expire_at(session: &UploadSession) -> Option<u64> {
    session
        .parts
        .iter()
        .filter_map(|p| presigned_expiry(&p.url))
        .min()
}

/// How an upload runs.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// Parts uploaded at the same time.
    pub parallel_parts: usize,
    /// Retries of one part (5xx, 408, 429, dropped connections).
    pub part_retry: RetryPolicy,
    /// Read buffer per part in flight (see the module's memory bound).
    pub read_buffer: usize,
    /// Progress is reported at most this often.
    pub progress_every: Duration,
    /// How long to wait for Frame.io to confirm the upload.
    pub confirm_timeout: Duration,
    /// First interval between status polls (doubles up to 2 s).
    pub confirm_poll: Duration,
    /// Restarts allowed when the part URLs expire.
    pub max_restarts: usize,
    /// The upload bandwidth cap shared by all uploads, if any.
    pub bandwidth: Option<Arc<Bandwidth>>,
}

/// An upload bandwidth cap: a token bucket (the `governor` crate) counted in
/// KiB, with a burst of a quarter of a second, shared by all uploads. The
/// rate can change while uploads run ([`Bandwidth::set_rate`]: the
/// bandwidth timetable): parts waiting at the old rate wake and go on at
/// the new one at once; `None` lets everything through.
pub struct Bandwidth {
    cap: tokio::sync::watch::Sender<Option<Arc<Cap>>>,
}

/// One rate's token bucket; replaced whole when the rate changes.
struct Cap {
    limiter: governor::DefaultDirectRateLimiter,
    burst_kib: u32,
    bytes_per_sec: u64,
}

impl Cap {
    fn new(bytes_per_sec: u64) -> Option<Arc<Cap>> {
        // Never below 1 KiB/s.
        let kib_per_sec = (bytes_per_sec / 1024).max(1);
        let kib_per_sec = NonZeroU32::new(u32::try_from(kib_per_sec).unwrap_or(u32::MAX))?;
        let burst_kib = (kib_per_sec.get() / 4).max(16);
        let quota = governor::Quota::per_second(kib_per_sec)
            .allow_burst(NonZeroU32::new(burst_kib).expect("at least 16"));
        Some(Arc::new(Cap {
            limiter: governor::RateLimiter::direct(quota),
            burst_kib,
            bytes_per_sec,
        }))
    }
}

impl Bandwidth {
    /// A cap of `mbps` megabits per second; `None` for 0 (no cap).
    pub fn mbps(mbps: u32) -> Option<Arc<Bandwidth>> {
        (mbps != 0).then(|| Bandwidth::new(Some(u64::from(mbps) * 125_000)))
    }

    /// A cap of `bytes_per_sec` (`None`: no cap for now) that
    /// [`Bandwidth::set_rate`] can change later.
    pub fn new(bytes_per_sec: Option<u64>) -> Arc<Bandwidth> {
        let (cap, _) = tokio::sync::watch::channel(bytes_per_sec.and_then(Cap::new));
        Arc::new(Bandwidth { cap })
    }

    /// Changes the rate for every upload sharing this cap, parts in flight
    /// included; the same rate again changes nothing.
    pub fn set_rate(&self, bytes_per_sec: Option<u64>) {
        self.cap.send_if_modified(|cap| {
            if cap.as_ref().map(|c| c.bytes_per_sec) == bytes_per_sec {
                return false;
            }
            *cap = bytes_per_sec.and_then(Cap::new);
            true
        });
    }

    /// [`Bandwidth::set_rate`] in megabits per second; 0: no cap.
    pub fn set_mbps(&self, mbps: u32) {
        self.set_rate((mbps != 0).then(|| u64::from(mbps) * 125_000));
    }

    /// The rate in force, bytes per second; `None`: no cap.
    pub fn rate(&self) -> Option<u64> {
        self.cap.borrow().as_ref().map(|c| c.bytes_per_sec)
    }

    /// Waits until `bytes` may go out, at the rate in force; a new rate
    /// set meanwhile applies to what is left at once.
    async fn admit(&self, bytes: usize) {
        let mut kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
        let mut changes = self.cap.subscribe();
        while kib > 0 {
            let Some(cap) = changes.borrow_and_update().clone() else {
                return;
            };
            let n = NonZeroU32::new(kib.min(cap.burst_kib)).expect("kib > 0");
            tokio::select! {
                // `n` never exceeds the burst, so this cannot fail.
                _ = cap.limiter.until_n_ready(n) => kib -= n.get(),
                // Nothing was taken from the old bucket: wait at the new rate.
                _ = changes.changed() => {}
            }
        }
    }
}

impl std::fmt::Debug for Bandwidth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.rate() {
            Some(bytes) => write!(f, "Bandwidth({bytes} B/s)"),
            None => write!(f, "Bandwidth(no cap)"),
        }
    }
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self {
            parallel_parts: 4,
            part_retry: RetryPolicy {
                max_retries: 6,
                min_delay: Duration::from_millis(500),
                max_delay: Duration::from_secs(30),
            },
            read_buffer: 1 << 20,
            progress_every: Duration::from_millis(250),
            confirm_timeout: Duration::from_secs(600),
            confirm_poll: Duration::from_millis(250),
            max_restarts: 2,
            bandwidth: None,
        }
    }
}

/// Bytes on the wire so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub bytes_sent: u64,
    pub total_bytes: u64,
    pub parts_done: usize,
    pub parts_total: usize,
}

/// Hooks for whoever drives an upload (the engine persists through them).
pub trait UploadObserver: Send + Sync {
    /// A placeholder exists in Frame.io: record it before any part is sent.
    fn session_created(&self, _session: &UploadSession) {}
    /// Part `index` is stored.
    fn part_done(&self, _session: &UploadSession, _index: usize) {}
    /// Called at most every `progress_every`, and once at the end.
    fn progress(&self, _progress: Progress) {}
}

/// An observer that ignores everything.
pub struct NoObserver;
impl UploadObserver for NoObserver {}

impl Client {
    /// Uploads a local file into `folder_id` under `name` and waits until
    /// Frame.io confirms it. Restarts from scratch when the part URLs expire.
    pub async fn upload_file(
        &self,
        folder_id: &str,
        name: &str,
        path: &Path,
        options: &UploadOptions,
        observer: &dyn UploadObserver,
    ) -> Result<RemoteFile> {
        let size = file_size(path).await?;
        let session = self.create_upload(folder_id, name, size).await?;
        observer.session_created(&session);
        let done = vec![false; session.parts.len()];
        self.resume_upload(session, done, path, options, observer)
            .await
    }

    /// Continues an upload: sends only the parts not marked done, then waits
    /// for Frame.io's confirmation. When the URLs have expired (known from
    /// the URL, or a 403 from storage), deletes the placeholder and starts
    /// again, saying so in the log.
    pub async fn resume_upload(
        &self,
        mut session: UploadSession,
        mut done: Vec<bool>,
        path: &Path,
        options: &UploadOptions,
        observer: &dyn UploadObserver,
    ) -> Result<RemoteFile> {
        let mut restarts = 0;
        loop {
            let expired_already = urls_expire_at(&session).is_some_and(|at| at <= unix_now());
            let outcome = if expired_already {
                Err(Error::UploadUrlsExpired)
            } else {
                self.upload_parts(&session, &done, path, options, observer)
                    .await
            };
            match outcome {
                Ok(()) => return self.wait_for_upload(&session.file_id, options).await,
                Err(Error::UploadUrlsExpired) if restarts < options.max_restarts => {
                    restarts += 1;
                    tracing::warn!(
                        file = %session.name,
                        placeholder = %session.file_id,
                        "upload links expired; deleting the placeholder and uploading again from the start"
                    );
                    match self.delete_file(&session.file_id).await {
                        Ok(()) | Err(Error::NotFound(_)) => {}
                        Err(e) => return Err(e),
                    }
                    session = self
                        .create_upload(&session.folder_id, &session.name, session.file_size)
                        .await?;
                    observer.session_created(&session);
                    done = vec![false; session.parts.len()];
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `local_upload`: a placeholder file and the part URLs Frame.io chose.
    pub async fn create_upload(
        &self,
        folder_id: &str,
        name: &str,
        file_size: u64,
    ) -> Result<UploadSession> {
        let created: FileWithUploadUrls = self
            .post(
                "local_upload",
                &self.account_path(&format!("folders/{folder_id}/files/local_upload")),
                json!({ "name": name, "file_size": file_size }),
            )
            .await?;
        let total: u64 = created.upload_urls.iter().map(|p| p.size).sum();
        if total != file_size || created.upload_urls.is_empty() {
            return Err(Error::Protocol(format!(
                "Frame.io sized the parts to {total} bytes for a {file_size}-byte file"
            )));
        }
        Ok(UploadSession {
            file_id: created.file.id,
            folder_id: folder_id.to_string(),
            name: name.to_string(),
            file_size,
            // The notes: application/octet-stream when null.
            media_type: if created.file.media_type.is_empty() {
                "application/octet-stream".into()
            } else {
                created.file.media_type
            },
            parts: created.upload_urls,
            view_url: created.file.view_url,
        })
    }

    /// PUTs every part not yet `done`, `parallel_parts` at a time.
    pub async fn upload_parts(
        &self,
        session: &UploadSession,
        done: &[bool],
        path: &Path,
        options: &UploadOptions,
        observer: &dyn UploadObserver,
    ) -> Result<()> {
        let actual = file_size(path).await?;
        if actual != session.file_size {
            return Err(Error::LocalFileChanged {
                path: path.display().to_string(),
                expected: session.file_size,
                actual,
            });
        }
        let parts_total = session.parts.len();
        let already: u64 = (0..parts_total)
            .filter(|i| done.get(*i).copied().unwrap_or(false))
            .map(|i| session.parts[i].size)
            .sum();
        let sent = Arc::new(AtomicU64::new(already));
        let parts_done = Arc::new(AtomicUsize::new(done.iter().filter(|d| **d).count()));
        let snapshot = || Progress {
            bytes_sent: sent.load(Ordering::Relaxed),
            total_bytes: session.file_size,
            parts_done: parts_done.load(Ordering::Relaxed),
            parts_total,
        };

        let missing: Vec<usize> = (0..parts_total)
            .filter(|i| !done.get(*i).copied().unwrap_or(false))
            .collect();
        tracing::debug!(file = %session.name, parts = missing.len(), of = parts_total, "uploading parts");

        let uploads = futures::stream::iter(missing.into_iter().map(Ok)).try_for_each_concurrent(
            options.parallel_parts.max(1),
            |index| {
                let sent = sent.clone();
                let parts_done = parts_done.clone();
                async move {
                    self.put_part(session, index, path, &sent, options).await?;
                    parts_done.fetch_add(1, Ordering::Relaxed);
                    observer.part_done(session, index);
                    Ok::<(), Error>(())
                }
            },
        );
        tokio::pin!(uploads);

        // Progress at a bounded rate while the parts go out.
        let mut ticker = tokio::time::interval(options.progress_every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut last = None;
        let result = loop {
            tokio::select! {
                result = &mut uploads => break result,
                _ = ticker.tick() => {
                    let now = snapshot();
                    if last != Some(now) {
                        observer.progress(now);
                        last = Some(now);
                    }
                }
            }
        };
        observer.progress(snapshot());
        result
    }

    async fn put_part(
        &self,
        session: &UploadSession,
        index: usize,
        path: &Path,
        sent: &Arc<AtomicU64>,
        options: &UploadOptions,
    ) -> Result<()> {
        let part = &session.parts[index];
        let offset = session.offset(index);
        let mut delays = options.part_retry.delays();
        loop {
            let attempt_bytes = Arc::new(AtomicU64::new(0));
            let body = part_body(
                path,
                offset,
                part.size,
                options.read_buffer,
                options.bandwidth.clone(),
                sent.clone(),
                attempt_bytes.clone(),
            )
            .await;
            let outcome = match body {
                Ok(body) => Ok(self
                    .inner
                    .http
                    .put(&part.url)
                    .header("x-amz-acl", "private")
                    .header(CONTENT_TYPE, &session.media_type)
                    .header(CONTENT_LENGTH, part.size)
                    .body(body)
                    .send()
                    .await),
                // The file could not be opened: retried below when that
                // may pass (the filespace's EIO), as a failed read is.
                Err(e) => Err(e),
            };
            let error = match outcome {
                Err(local) if local.is_transient() && tokio::fs::metadata(path).await.is_ok() => {
                    local
                }
                Err(local) => return Err(local),
                Ok(outcome) => match outcome {
                    Ok(response) if response.status().is_success() => return Ok(()),
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let text = response.text().await.unwrap_or_default();
                        if status == 403
                            && (text.contains("expired") || text.contains("AccessDenied"))
                        {
                            return Err(Error::UploadUrlsExpired);
                        }
                        Error::Storage {
                            part: index,
                            status,
                            message: s3_message(&text),
                        }
                    }
                    Err(e) => match local_error(&e) {
                        // A local read failure surfaces as a body error: report
                        // the file, not the network. One that may pass (EIO on a
                        // FUSE filespace) is retried like a network error: the
                        // part is read again from its start.
                        Some(local) if local.is_transient() => {
                            // The file itself out of reach (the filespace
                            // unmounted, its daemon gone): no use trying
                            // again here; the caller tells an offline
                            // filespace from a file that went away.
                            if tokio::fs::metadata(path).await.is_err() {
                                return Err(local);
                            }
                            tracing::info!(part = index, path = %path.display(), "{local}; reading the part again");
                            local
                        }
                        Some(local) => return Err(local),
                        None => Error::network(e),
                    },
                },
            };
            // This attempt's bytes did not count.
            sent.fetch_sub(attempt_bytes.load(Ordering::Relaxed), Ordering::Relaxed);
            if !error.is_transient() {
                return Err(error);
            }
            match delays.next() {
                Some(delay) => {
                    tracing::debug!(part = index, ?delay, "{error}; retrying the part");
                    tokio::time::sleep(delay).await;
                }
                None => return Err(error),
            }
        }
    }

    /// Polls the upload status until Frame.io confirms every part arrived,
    /// then returns the file (with its `view_url`).
    pub async fn wait_for_upload(
        &self,
        file_id: &str,
        options: &UploadOptions,
    ) -> Result<RemoteFile> {
        let deadline = tokio::time::Instant::now() + options.confirm_timeout;
        let mut interval = options.confirm_poll;
        loop {
            let status: UploadStatus = self
                .get(
                    "status",
                    &self.account_path(&format!("files/{file_id}/status")),
                    &[],
                )
                .await?;
            if status.upload_failed {
                return Err(Error::UploadFailed);
            }
            if status.upload_complete {
                return self.file(file_id).await;
            }
            if tokio::time::Instant::now() + interval > deadline {
                return Err(Error::ProcessingTimeout(options.confirm_timeout));
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(Duration::from_secs(2));
        }
    }
}

/// A streaming body of `size` bytes from `offset`, counting bytes as they go.
async fn part_body(
    path: &Path,
    offset: u64,
    size: u64,
    buffer: usize,
    bandwidth: Option<Arc<Bandwidth>>,
    sent: Arc<AtomicU64>,
    attempt: Arc<AtomicU64>,
) -> Result<reqwest::Body> {
    let local = |source| Error::LocalFile {
        path: path.display().to_string(),
        source,
    };
    let mut file = tokio::fs::File::open(path).await.map_err(local)?;
    file.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(local)?;
    let reader = file.take(size);
    let stream = tokio_util::io::ReaderStream::with_capacity(reader, buffer.max(8 * 1024));
    let counted = stream.then(move |chunk| {
        let (bandwidth, sent, attempt) = (bandwidth.clone(), sent.clone(), attempt.clone());
        async move {
            let chunk = chunk.map_err(LocalReadError)?;
            if let Some(bandwidth) = &bandwidth {
                bandwidth.admit(chunk.len()).await;
            }
            sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            attempt.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            Ok::<_, LocalReadError>(chunk)
        }
    });
    // A file that shrank would end the stream early; the Content-Length
    // mismatch then fails the request, and the size check before the next
    // attempt reports the change.
    Ok(reqwest::Body::wrap_stream(counted))
}

/// A read error from the local file, told apart from network errors.
#[derive(Debug)]
struct LocalReadError(std::io::Error);

impl std::fmt::Display for LocalReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reading the local file: {}", self.0)
    }
}

impl std::error::Error for LocalReadError {}

fn local_error(e: &reqwest::Error) -> Option<Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(LocalReadError(io)) = s.downcast_ref::<LocalReadError>() {
            return Some(Error::LocalFile {
                path: String::new(),
                source: std::io::Error::new(io.kind(), io.to_string()),
            });
        }
        source = s.source();
    }
    None
}

async fn file_size(path: &Path) -> Result<u64> {
    tokio::fs::metadata(path)
        .await
        .map(|m| m.len())
        .map_err(|source| Error::LocalFile {
            path: path.display().to_string(),
            source,
        })
}

/// `<Message>...</Message>` of an S3 error body.
fn s3_message(body: &str) -> String {
    body.split_once("<Message>")
        .and_then(|(_, rest)| rest.split_once("</Message>"))
        .map(|(m, _)| m.to_string())
        .unwrap_or_else(|| body.chars().take(200).collect())
}

fn presigned_expiry(url: &str) -> Option<u64> {
    let url = url::Url::parse(url).ok()?;
    let mut date = None;
    let mut expires = None;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "X-Amz-Date" => date = Some(v.into_owned()),
            "X-Amz-Expires" => expires = v.parse::<u64>().ok(),
            _ => {}
        }
    }
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let signed = time::PrimitiveDateTime::parse(&date?, &format)
        .ok()?
        .assume_utc();
    Some(signed.unix_timestamp().max(0) as u64 + expires?)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_expiry_reads_amz_date_and_expires() {
        let at = presigned_expiry(
            "https://s3.example/b/k?X-Amz-Date=20261124T120000Z&X-Amz-Expires=3600&X-Amz-Signature=ab",
        );
        assert_eq!(at, Some(1_795_521_600 + 3600));
        assert_eq!(presigned_expiry("https://s3.example/b/k?x=1"), None);
    }

    #[tokio::test]
    async fn a_part_waiting_at_a_slow_rate_goes_on_at_once_when_the_cap_is_lifted() {
        // 1 KiB/s with a 16 KiB burst: 64 KiB would take about 48 s.
        let bandwidth = Bandwidth::new(Some(1024));
        let waiting = {
            let bandwidth = bandwidth.clone();
            tokio::spawn(async move { bandwidth.admit(64 * 1024).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "held at 1 KiB/s");
        bandwidth.set_rate(None);
        assert_eq!(bandwidth.rate(), None);
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("the lifted cap reached the waiting part within a second")
            .unwrap();
    }

    #[tokio::test]
    async fn a_faster_rate_reaches_a_waiting_part_and_a_slower_one_holds_new_bytes() {
        let bandwidth = Bandwidth::new(Some(1024));
        let waiting = {
            let bandwidth = bandwidth.clone();
            tokio::spawn(async move { bandwidth.admit(64 * 1024).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        bandwidth.set_rate(Some(1 << 30));
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("1 GiB/s lets 64 KiB through at once")
            .unwrap();
        // Back to a crawl: the burst goes out, the rest waits.
        bandwidth.set_mbps(1);
        assert_eq!(bandwidth.rate(), Some(125_000));
        assert_eq!(format!("{bandwidth:?}"), "Bandwidth(125000 B/s)");
        let slow = tokio::time::timeout(Duration::from_millis(300), bandwidth.admit(256 * 1024));
        assert!(slow.await.is_err(), "256 KiB at 1 Mbit/s takes seconds");
    }

    #[tokio::test]
    async fn no_cap_for_now_lets_everything_through_and_zero_mbps_is_no_cap() {
        let bandwidth = Bandwidth::new(None);
        tokio::time::timeout(Duration::from_millis(100), bandwidth.admit(1 << 30))
            .await
            .expect("no cap: no wait");
        assert!(Bandwidth::mbps(0).is_none());
        bandwidth.set_mbps(0);
        assert_eq!(bandwidth.rate(), None);
    }

    #[test]
    fn s3_errors_are_summarised() {
        assert_eq!(
            s3_message(
                "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
            ),
            "Request has expired"
        );
    }
}
