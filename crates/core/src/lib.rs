//! PostFlow's shared vocabulary, free of any UI framework: the one [`Event`]
//! enum every component publishes and subscribes to, and the service's
//! [`RunState`] with the [`Control`] that changes it.
//!
//! The engine (watcher, queue, uploads) will publish here; the tray, the web
//! UI, desktop notifications and the CLI only subscribe and call [`Control`].

mod status;
mod upload;

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};
use ts_rs::TS;

pub use status::StatusKind;
pub use upload::{UploadSession, UploadUrl};

/// What a subscriber's `recv` may fail with: lagged (missed events) or closed.
pub use tokio::sync::broadcast::error::RecvError;

/// What to do about an error; every PostFlow error says (Frame.io's,
/// Discord's), so callers decide without matching on error variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Try again later (network, 5xx, rate limits, timeouts).
    Transient,
    /// This will not succeed as it is (a name Frame.io refuses, a file that
    /// vanished, a message Discord rejects).
    Permanent,
    /// A person must act: sign in again, get access to the project, paste
    /// a new webhook.
    NeedsUser,
}

/// Whether the service is taking new work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    /// No new work starts; what is queued stays queued.
    Paused,
}

/// Everything that happens in PostFlow, as one stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    RunStateChanged {
        state: RunState,
    },
    /// A queue item changed status.
    ItemStatus {
        #[ts(type = "number")]
        id: i64,
        file_name: String,
        status: StatusKind,
        detail: Option<String>,
    },
    /// Bytes on the wire for one item, as the uploader reports them (at a
    /// bounded rate). UIs read [`Event::Progress`] instead.
    UploadProgress {
        #[ts(type = "number")]
        id: i64,
        #[ts(type = "number")]
        bytes_sent: u64,
        #[ts(type = "number")]
        total_bytes: u64,
    },
    /// Progress for the UIs, per item and per shot, at most a few times a
    /// second: everything that moved since the last one.
    Progress {
        items: Vec<ItemProgress>,
        shots: Vec<ShotProgress>,
    },
    /// A file landed in Frame.io.
    Uploaded {
        #[ts(type = "number")]
        id: i64,
        file_name: String,
        scene: String,
        shot: String,
        version: String,
        frameio_path: String,
        view_url: Option<String>,
        /// The shot's previous version it was stacked onto, if any.
        stacked_onto: Option<String>,
        /// A new render of a version already in Frame.io under this name,
        /// stacked on top of the earlier copy (`stacked_onto` is its name).
        rerender: bool,
    },
    /// Frame.io could (not) be reached; while offline no attempts are spent.
    Connectivity {
        online: bool,
        detail: Option<String>,
    },
    /// The watched folder (the LucidLink filespace) is reachable again, or
    /// not (unmounted, offline).
    Filespace {
        online: bool,
        detail: Option<String>,
    },
    /// A rescan of the watched folder finished.
    ScanFinished {
        #[ts(type = "number")]
        files: u64,
        #[ts(type = "number")]
        took_ms: u64,
    },
    /// Uploads stopped until a person acts (sign in again, grant access).
    NeedsUser {
        reason: String,
    },
    /// Discord messages go out (`ok`), or wait for the reason in `detail`
    /// (webhook no longer valid, none stored, Discord unavailable).
    Discord {
        ok: bool,
        detail: Option<String>,
    },
    /// The settings file was saved (and applied to the running service).
    SettingsChanged,
    /// The service started, stopped, or could not start (`detail` says why).
    Service {
        running: bool,
        detail: Option<String>,
    },
}

/// One item's upload progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ItemProgress {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub bytes_sent: u64,
    #[ts(type = "number")]
    pub total_bytes: u64,
    /// Recent speed, bytes per second (0 until measured).
    #[ts(type = "number")]
    pub bytes_per_sec: u64,
}

/// One shot's upload progress: the sum over its items in flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ShotProgress {
    pub scene: String,
    pub shot: String,
    #[ts(type = "number")]
    pub bytes_sent: u64,
    #[ts(type = "number")]
    pub total_bytes: u64,
    #[ts(type = "number")]
    pub bytes_per_sec: u64,
}

/// One thing wrong with a setting or a request: which key, what, and how to
/// fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Problem {
    /// Dotted key, e.g. `watch.root` or `nomenclature.patterns[1]`; `(file)`
    /// for the file as a whole.
    pub key: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

impl Problem {
    pub fn new(key: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} (fix: {})", self.key, self.message, self.fix)
    }
}

/// An error as both a person and a program need it: what happened, what to
/// do, and whether trying again can help. Every error of PostFlow's crates
/// converts into one; the API answers with it on every transport. Never
/// carries a secret: the crates' errors already keep tokens and signed URLs
/// out of their messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub disposition: Disposition,
    pub message: String,
    /// What to do about it, when PostFlow knows.
    pub fix: Option<String>,
    /// The settings (or request fields) that are wrong, each with its fix.
    pub problems: Vec<Problem>,
}

impl ApiError {
    pub fn new(disposition: Disposition, message: impl Into<String>) -> Self {
        Self {
            disposition,
            message: message.into(),
            fix: None,
            problems: Vec::new(),
        }
    }

    /// A request that cannot succeed as it is.
    pub fn invalid(message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(Disposition::Permanent, message).with_fix(fix)
    }

    #[must_use]
    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// Settings that are refused, every problem at once.
    pub fn problems(problems: Vec<Problem>) -> Self {
        let message = match problems.as_slice() {
            [one] => format!("{}: {}", one.key, one.message),
            many => format!("{} settings need fixing", many.len()),
        };
        Self {
            disposition: Disposition::Permanent,
            message,
            fix: problems.first().map(|p| p.fix.clone()),
            problems,
        }
    }
}

/// Where the run state is kept for good: the queue database's pause flag,
/// the one source of truth every process (the app, `postflow pause`, the
/// headless service) reads. [`Control::pause`] writes here first.
pub trait RunStateStore: Send + Sync {
    fn save(&self, state: RunState) -> Result<(), ApiError>;
}

/// A store that keeps the run state in memory only: for tests and for
/// tools that steer nothing but themselves.
#[derive(Debug, Default)]
pub struct MemoryStore;

impl RunStateStore for MemoryStore {
    fn save(&self, _: RunState) -> Result<(), ApiError> {
        Ok(())
    }
}

/// How many events a slow subscriber may fall behind before it is told it
/// lagged (it then re-reads state rather than replaying history).
const EVENT_CAPACITY: usize = 1024;

/// The handle the service and the API use to observe and steer the run
/// state and to publish events. Cheap to clone.
///
/// Pausing and resuming write the [`RunStateStore`] first, then change the
/// state in memory and publish [`Event::RunStateChanged`]: a pause from any
/// shell is durable and seen by every process, and nothing can change the
/// state in memory only (the service's sync from the store would undo it).
#[derive(Clone)]
pub struct Control {
    state: watch::Sender<RunState>,
    events: broadcast::Sender<Event>,
    store: std::sync::Arc<dyn RunStateStore>,
}

impl Control {
    pub fn new(initial: RunState, store: std::sync::Arc<dyn RunStateStore>) -> Self {
        Self {
            state: watch::Sender::new(initial),
            events: broadcast::Sender::new(EVENT_CAPACITY),
            store,
        }
    }

    /// Running, with the state in memory only ([`MemoryStore`]): tests.
    pub fn in_memory() -> Self {
        Self::new(RunState::Running, std::sync::Arc::new(MemoryStore))
    }

    pub fn state(&self) -> RunState {
        *self.state.borrow()
    }

    /// Stops starting new work, durably. Returns whether the state changed.
    pub fn pause(&self) -> Result<bool, ApiError> {
        self.store.save(RunState::Paused)?;
        Ok(self.adopt(RunState::Paused))
    }

    /// Starts taking work again, durably. Returns whether the state changed.
    pub fn resume(&self) -> Result<bool, ApiError> {
        self.store.save(RunState::Running)?;
        Ok(self.adopt(RunState::Running))
    }

    /// Pauses when running, resumes when paused; returns the new state.
    pub fn toggle(&self) -> Result<RunState, ApiError> {
        match self.state() {
            RunState::Running => self.pause()?,
            RunState::Paused => self.resume()?,
        };
        Ok(self.state())
    }

    /// Takes on a state that is already in the store (written by another
    /// process, or by the caller just now): memory and the event only.
    /// Returns whether the state changed.
    pub fn adopt(&self, new: RunState) -> bool {
        let changed = self.state.send_if_modified(|s| {
            let changed = *s != new;
            *s = new;
            changed
        });
        if changed {
            self.publish(Event::RunStateChanged { state: new });
        }
        changed
    }

    /// A receiver that always holds the latest state (for a tray icon).
    pub fn watch_state(&self) -> watch::Receiver<RunState> {
        self.state.subscribe()
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub fn publish(&self, event: Event) {
        // No subscriber is not an error: events are for whoever listens.
        let _ = self.events.send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pause_and_resume_publish_each_change_once() {
        let control = Control::in_memory();
        let mut events = control.subscribe();
        let mut state = control.watch_state();

        assert!(control.pause().unwrap());
        assert!(!control.pause().unwrap(), "pausing twice changes nothing");
        assert_eq!(control.state(), RunState::Paused);
        state.changed().await.unwrap();
        assert_eq!(*state.borrow_and_update(), RunState::Paused);

        assert_eq!(control.toggle().unwrap(), RunState::Running);
        assert_eq!(
            events.recv().await.unwrap(),
            Event::RunStateChanged {
                state: RunState::Paused
            }
        );
        assert_eq!(
            events.recv().await.unwrap(),
            Event::RunStateChanged {
                state: RunState::Running
            }
        );
        assert!(events.try_recv().is_err(), "no duplicate events");
    }

    /// A store that refuses: the state must not change in memory either.
    struct Refusing(std::sync::Mutex<Vec<RunState>>);
    impl RunStateStore for Refusing {
        fn save(&self, state: RunState) -> Result<(), ApiError> {
            self.0.lock().unwrap().push(state);
            Err(ApiError::new(Disposition::Transient, "disk full"))
        }
    }

    #[test]
    fn a_pause_the_store_refuses_changes_nothing() {
        let store = std::sync::Arc::new(Refusing(Default::default()));
        let control = Control::new(RunState::Running, store.clone());
        let mut events = control.subscribe();
        let err = control.pause().unwrap_err();
        assert_eq!(err.disposition, Disposition::Transient);
        assert_eq!(control.state(), RunState::Running);
        assert!(
            events.try_recv().is_err(),
            "no event for a change that did not happen"
        );
        assert_eq!(
            *store.0.lock().unwrap(),
            vec![RunState::Paused],
            "written first"
        );
        // Adopting a state another process already stored is memory only.
        assert!(control.adopt(RunState::Paused));
        assert_eq!(store.0.lock().unwrap().len(), 1);
    }

    #[test]
    fn events_serialize_with_a_type_tag_for_the_ui() {
        let json = serde_json::to_string(&Event::RunStateChanged {
            state: RunState::Paused,
        })
        .unwrap();
        assert_eq!(json, r#"{"type":"run_state_changed","state":"paused"}"#);
    }
}
