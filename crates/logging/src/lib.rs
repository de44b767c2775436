//! PostFlow's logging: `tracing` to stderr and to daily-rotated files in the
//! OS log directory, old files pruned, every line scrubbed of secrets.
//!
//! The filter comes from `POSTFLOW_LOG` (`RUST_LOG` syntax), default `info`.
//!
//! Under systemd, when stderr is the journal (`$JOURNAL_STREAM` names
//! stderr's device and inode, as `systemd.exec(5)` says to check), lines go
//! out without colours and without timestamps (journald stamps them), each
//! prefixed with its syslog priority the way sd-daemon(3) describes (`<3>`
//! error, `<4>` warning, `<6>` info, `<7>` debug and trace; journald reads
//! the prefix, `SyslogLevelPrefix=` is on by default). A program that asks
//! for it ([`LogOptions::journal_only`]) then writes no daily files, unless
//! `POSTFLOW_LOG_FILES=1`. Elsewhere nothing changes.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tracing::{Event, Level, Subscriber};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::{FmtContext, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
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
    /// stderr is systemd's journal (detected by [`LogOptions::new`], see
    /// [`stderr_is_journal`]): no colours, no timestamps, `<N>` priorities.
    pub journal: bool,
    /// With `journal`, write no daily files (the journal keeps the lines),
    /// unless `POSTFLOW_LOG_FILES=1`. Off by default: the desktop app,
    /// started under a systemd user session, keeps its files.
    pub journal_only: bool,
    /// Colours on stderr (off under systemd: `$INVOCATION_ID`; tracing
    /// also honours `NO_COLOR`).
    pub ansi: bool,
}

impl LogOptions {
    pub fn new(file_prefix: &'static str) -> Self {
        Self {
            dir: None,
            file_prefix,
            stderr: true,
            default_filter: "info",
            keep_files: DEFAULT_KEEP_FILES,
            journal: stderr_is_journal(),
            journal_only: false,
            ansi: std::env::var_os("INVOCATION_ID").is_none(),
        }
    }
}

/// Whether stderr is connected to systemd's journal: `$JOURNAL_STREAM`
/// (`<device>:<inode>`, set by systemd 231 and later for a service whose
/// stdout or stderr goes to the journal) names the file stderr is open on.
/// The variable alone is not enough: a program started from such a service,
/// or from a desktop session whose apps log to the journal, inherits it with
/// its stderr pointing elsewhere (a terminal).
pub fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    stderr_identity()
        .is_some_and(|(dev, ino)| journal_stream_names(&value.to_string_lossy(), dev, ino))
}

/// `$JOURNAL_STREAM`'s value names this device and inode.
pub fn journal_stream_names(value: &str, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = value.trim().split_once(':') else {
        return false;
    };
    d.parse() == Ok(dev) && i.parse() == Ok(ino)
}

/// stderr's device and inode (an `fstat` of fd 2, through a duplicate).
#[cfg(unix)]
fn stderr_identity() -> Option<(u64, u64)> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let fd = io::stderr().as_fd().try_clone_to_owned().ok()?;
    let meta = std::fs::File::from(fd).metadata().ok()?;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn stderr_identity() -> Option<(u64, u64)> {
    None
}

/// The journal's line format: `<priority>LEVEL message fields`, no time, no
/// colour. A message of several lines gives several journal entries, the
/// later ones at journald's default priority (info).
struct JournalFormat {
    inner: format::Format<format::Full, ()>,
}

impl JournalFormat {
    fn new() -> Self {
        Self {
            inner: format::format()
                .without_time()
                .with_target(false)
                .with_ansi(false),
        }
    }
}

/// The sd-daemon(3) priority of a level.
fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

impl<S, N> FormatEvent<S, N> for JournalFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        write!(writer, "<{}>", priority(event.metadata().level()))?;
        self.inner.format_event(ctx, writer, event)
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
        if options.journal {
            tracing_subscriber::fmt::layer()
                .with_writer(Scrubbing(io::stderr))
                .with_ansi(false)
                .event_format(JournalFormat::new())
                .with_filter(filter())
                .boxed()
        } else {
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(Scrubbing(io::stderr))
                .with_target(false);
            // Only ever turn colours off: tracing decides otherwise (it
            // honours NO_COLOR), as before.
            let layer = if options.ansi {
                layer
            } else {
                layer.with_ansi(false)
            };
            layer.with_filter(filter()).boxed()
        }
    });
    let options = LogOptions {
        dir: options
            .dir
            .clone()
            .filter(|_| !(options.journal && options.journal_only && !files_asked())),
        ..options
    };

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

/// `POSTFLOW_LOG_FILES=1` (or `true`, `yes`): daily files even under the
/// journal.
fn files_asked() -> bool {
    std::env::var("POSTFLOW_LOG_FILES")
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn journal_lines_carry_a_priority_and_no_time_or_colour() {
        let buffer = Buffer::default();
        let out = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(Scrubbing(move || out.clone()))
                .with_ansi(false)
                .event_format(JournalFormat::new())
                .with_filter(EnvFilter::new("trace")),
        );
        postflow_secrets::redact::register("journal-secret-value-1");
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!("cannot start");
            tracing::warn!(item = 4, "held");
            tracing::info!("uploaded journal-secret-value-1");
            tracing::debug!("detail");
            tracing::trace!("more detail");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "<3>ERROR cannot start",
                "<4> WARN held item=4",
                "<6> INFO uploaded ••••",
                "<7>DEBUG detail",
                "<7>TRACE more detail",
            ],
            "{text}"
        );
        assert!(!text.contains('\x1b'), "colour codes: {text:?}");
    }

    #[test]
    fn journal_stream_is_matched_on_device_and_inode() {
        assert!(journal_stream_names("8:12345", 8, 12345));
        assert!(journal_stream_names("8:12345\n", 8, 12345));
        assert!(!journal_stream_names("8:12346", 8, 12345));
        assert!(!journal_stream_names("9:12345", 8, 12345));
        assert!(!journal_stream_names("", 8, 12345));
        assert!(!journal_stream_names("garbage", 8, 12345));
    }
}
