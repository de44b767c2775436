//! Every error says what to do about it: retry later, give up on this item,
//! or ask the user.

use std::fmt;

pub use postflow_core::Disposition;

/// A Frame.io error body's first `detail`, or the HTTP reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiProblem {
    pub status: u16,
    pub detail: String,
}

impl fmt::Display for ApiProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}: {}", self.status, self.detail)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("signed out of Frame.io ({0}); sign in again")]
    SignedOut(String),
    #[error("Frame.io sign-in failed: {0}")]
    SignIn(String),
    #[error("no access in Frame.io ({0}); ask an admin for access to the project, or sign in with another account")]
    Forbidden(ApiProblem),
    #[error("not found in Frame.io ({0})")]
    NotFound(ApiProblem),
    #[error("Frame.io refused the request ({0})")]
    Rejected(ApiProblem),
    #[error("Frame.io is rate limiting PostFlow ({0}); will retry")]
    RateLimited(ApiProblem),
    #[error("Frame.io is unavailable ({0}); will retry")]
    Unavailable(ApiProblem),
    #[error("cannot reach Frame.io: {0}")]
    Network(String),
    #[error("unexpected answer from Frame.io: {0}")]
    Protocol(String),
    #[error("the upload links of this file have expired")]
    UploadUrlsExpired,
    #[error("storage refused part {part} ({status}): {message}")]
    Storage {
        part: usize,
        status: u16,
        message: String,
    },
    #[error("Frame.io reports the upload failed")]
    UploadFailed,
    #[error("Frame.io did not confirm the upload within {0:?}")]
    ProcessingTimeout(std::time::Duration),
    #[error("cannot read the local file {path}: {source}")]
    LocalFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the local file {path} is {actual} bytes, not the {expected} bytes being uploaded; it changed")]
    LocalFileChanged {
        path: String,
        expected: u64,
        actual: u64,
    },
}

impl Error {
    pub fn disposition(&self) -> Disposition {
        use Disposition::*;
        match self {
            Error::SignedOut(_) | Error::SignIn(_) | Error::Forbidden(_) => NeedsUser,
            Error::NotFound(_) | Error::Rejected(_) => Permanent,
            Error::LocalFile { source, .. } => {
                if local_read_is_transient(source) {
                    Transient
                } else {
                    Permanent
                }
            }
            Error::RateLimited(_)
            | Error::Unavailable(_)
            | Error::Network(_)
            | Error::Protocol(_)
            | Error::UploadUrlsExpired
            | Error::UploadFailed
            | Error::ProcessingTimeout(_)
            | Error::LocalFileChanged { .. } => Transient,
            Error::Storage { status, .. } => {
                if *status == 408 || *status == 429 || *status >= 500 {
                    Transient
                } else {
                    Permanent
                }
            }
        }
    }

    pub fn is_transient(&self) -> bool {
        self.disposition() == Disposition::Transient
    }

    pub(crate) fn network(e: reqwest::Error) -> Error {
        // reqwest includes the URL; upload URLs carry signatures, so keep
        // only the kind of failure and the host.
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else if e.is_body() || e.is_request() {
            "connection dropped"
        } else if e.is_decode() {
            "bad response body"
        } else {
            "request failed"
        };
        let host = e
            .url()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        Error::Network(format!("{what} ({host})"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for postflow_core::ApiError {
    fn from(e: Error) -> Self {
        let fix = match &e {
            Error::SignedOut(_) | Error::SignIn(_) => Some("sign in to Frame.io again"),
            Error::Forbidden(_) => {
                Some("ask the project's admin for access, or sign in with another account")
            }
            Error::NotFound(_) => {
                Some("check the account and project chosen in Settings → Frame.io")
            }
            Error::Network(_) | Error::Unavailable(_) | Error::RateLimited(_) => {
                Some("nothing to do: PostFlow retries by itself")
            }
            Error::LocalFile { .. } => Some("check that the file is still in BY_SHOT and readable"),
            _ => None,
        };
        let mut api = postflow_core::ApiError::new(e.disposition(), e.to_string());
        api.fix = fix.map(str::to_string);
        api
    }
}

/// Whether a failed read of a local file may succeed if tried again. On a
/// LucidLink filespace (a FUSE mount), reads fail with EIO when its cache is
/// full or the network drops, with ENOTCONN when its daemon is gone, with
/// ETIMEDOUT or EAGAIN when it is slow: none of these says anything about
/// the file. A file that is gone or that PostFlow may not read is another
/// matter (the engine checks the filespace is mounted before believing it).
pub fn local_read_is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        NotFound | PermissionDenied | InvalidInput | InvalidData
    ) {
        return false;
    }
    // EIO, ENOTCONN, ETIMEDOUT, EAGAIN, EINTR, ESTALE, ENXIO, ECONNABORTED,
    // EHOSTDOWN; and anything unknown: a retry costs little and the
    // attempts cap it.
    true
}
