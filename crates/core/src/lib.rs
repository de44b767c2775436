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

pub use status::StatusKind;
pub use upload::{UploadSession, UploadUrl};

/// What a subscriber's `recv` may fail with: lagged (missed events) or closed.
pub use tokio::sync::broadcast::error::RecvError;

/// What to do about an error; every PostFlow error says (Frame.io's,
/// Discord's), so callers decide without matching on error variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    /// No new work starts; what is queued stays queued.
    Paused,
}

/// Everything that happens in PostFlow, as one stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    RunStateChanged {
        state: RunState,
    },
    /// A queue item changed status (`status` is the queue's status kind).
    ItemStatus {
        id: i64,
        file_name: String,
        status: String,
        detail: Option<String>,
    },
    /// Bytes on the wire for one item; published at a bounded rate.
    UploadProgress {
        id: i64,
        bytes_sent: u64,
        total_bytes: u64,
    },
    /// A file landed in Frame.io.
    Uploaded {
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
}

/// How many events a slow subscriber may fall behind before it is told it
/// lagged (it then re-reads state rather than replaying history).
const EVENT_CAPACITY: usize = 1024;

/// The handle shells use to observe and steer the service. Cheap to clone.
#[derive(Clone)]
pub struct Control {
    state: watch::Sender<RunState>,
    events: broadcast::Sender<Event>,
}

impl Default for Control {
    fn default() -> Self {
        Self::new(RunState::Running)
    }
}

impl Control {
    pub fn new(initial: RunState) -> Self {
        Self {
            state: watch::Sender::new(initial),
            events: broadcast::Sender::new(EVENT_CAPACITY),
        }
    }

    pub fn state(&self) -> RunState {
        *self.state.borrow()
    }

    /// Stops starting new work. Returns whether the state changed.
    pub fn pause(&self) -> bool {
        self.set(RunState::Paused)
    }

    /// Starts taking work again. Returns whether the state changed.
    pub fn resume(&self) -> bool {
        self.set(RunState::Running)
    }

    /// Pauses when running, resumes when paused; returns the new state.
    pub fn toggle(&self) -> RunState {
        match self.state() {
            RunState::Running => self.pause(),
            RunState::Paused => self.resume(),
        };
        self.state()
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

    fn set(&self, new: RunState) -> bool {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pause_and_resume_publish_each_change_once() {
        let control = Control::default();
        let mut events = control.subscribe();
        let mut state = control.watch_state();

        assert!(control.pause());
        assert!(!control.pause(), "pausing twice changes nothing");
        assert_eq!(control.state(), RunState::Paused);
        state.changed().await.unwrap();
        assert_eq!(*state.borrow_and_update(), RunState::Paused);

        assert_eq!(control.toggle(), RunState::Running);
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

    #[test]
    fn events_serialize_with_a_type_tag_for_the_ui() {
        let json = serde_json::to_string(&Event::RunStateChanged {
            state: RunState::Paused,
        })
        .unwrap();
        assert_eq!(json, r#"{"type":"run_state_changed","state":"paused"}"#);
    }
}
