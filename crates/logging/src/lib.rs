//! PostFlow's logging: `tracing` to stderr and to daily-rotated files in the
//! OS log directory, old files pruned, every line scrubbed of secrets.
//!
//! The filter comes from `POSTFLOW_LOG` (`RUST_LOG` syntax), default `info`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Days of log files kept by default.
pub const DEFAULT_KEEP_FILES: usize = 14;

/// How to log.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// Folder for the daily files; `None` logs to stderr only.
    pub dir: Option<PathBuf>,
    /// File name prefix: `<prefix>.<YYYY-MM-DD>.log`. Use distinct prefixes
    /// per program (one must not start with another: pruning matches prefixes).
    pub file_prefix: &'static str,
    /// Also log to stderr.
    pub stderr: bool,
    /// Filter used when `POSTFLOW_LOG` is not set.
    pub default_filter: &'static str,
    /// How many daily files to keep.
    pub keep_files: usize,
}

impl LogOptions {
    pub fn new(file_prefix: &'static str) -> Self {
        Self {
            dir: None,
            file_prefix,
            stderr: true,
            default_filter: "info",
            keep_files: DEFAULT_KEEP_FILES,
        }
    }
}

/// Keeps the file writer alive; drop it last (it flushes on drop).
#[must_use = "dropping the guard stops file logging"]
pub struct LogGuard {
    _file: Option<WorkerGuard>,
    /// The file logging could not start here (and why); stderr still works.
    pub file_error: Option<String>,
    pub dir: Option<PathBuf>,
}

/// Installs the global subscriber. Never fails the program: if the log folder
/// cannot be used (permissions, a full disk), logging goes to stderr only and
/// the guard says why. Calling it twice keeps the first subscriber.
pub fn init(options: LogOptions) -> LogGuard {
    let filter = || {
        EnvFilter::try_from_env("POSTFLOW_LOG")
            .unwrap_or_else(|_| EnvFilter::new(options.default_filter))
    };
    let stderr_layer = options.stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(Scrubbing(io::stderr))
            .with_target(false)
            .with_filter(filter())
    });

    let mut file_error = None;
    let mut guard = None;
    let file_layer = match options.dir.as_deref().map(|d| file_writer(d, &options)) {
        Some(Ok((writer, g))) => {
            guard = Some(g);
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_ansi(false)
                    .with_filter(filter()),
            )
        }
        Some(Err(e)) => {
            file_error = Some(e);
            None
        }
        None => None,
    };

    let installed = tracing_subscriber::registry()
        .with(stderr_layer)
        .with(file_layer)
        .try_init()
        .is_ok();
    if let (true, Some(e), Some(dir)) = (installed, &file_error, &options.dir) {
        tracing::warn!(
            "cannot write log files in {}: {e}; logging to stderr only",
            dir.display()
        );
    }
    LogGuard {
        _file: guard,
        file_error,
        dir: options.dir,
    }
}

fn file_writer(
    dir: &Path,
    options: &LogOptions,
) -> Result<(tracing_appender::non_blocking::NonBlocking, WorkerGuard), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let appender = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix(options.file_prefix)
        .filename_suffix("log")
        .max_log_files(options.keep_files.max(1))
        .build(dir)
        .map_err(|e| e.to_string())?;
    Ok(tracing_appender::non_blocking(ScrubbingWriter(appender)))
}

/// A `MakeWriter` whose writers scrub secrets (see `postflow_secrets::redact`).
#[derive(Clone, Copy)]
struct Scrubbing<F>(F);

impl<'a, F, W> MakeWriter<'a> for Scrubbing<F>
where
    F: Fn() -> W + 'static,
    W: Write,
{
    type Writer = ScrubbingWriter<W>;
    fn make_writer(&'a self) -> Self::Writer {
        ScrubbingWriter((self.0)())
    }
}

/// Scrubs each write. `tracing-subscriber` formats a whole event before
/// writing it, so a secret is never split across two writes.
struct ScrubbingWriter<W>(W);

impl<W: Write> Write for ScrubbingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let clean = postflow_secrets::redact::scrub(&text);
        self.0.write_all(clean.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}
