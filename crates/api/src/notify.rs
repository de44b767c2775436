//! Desktop notifications: what to say, and when, from the event stream.
//! The desktop shell only shows them (`tauri-plugin-notification`), so the
//! rules are tested here:
//! - uploads come as **one notification per batch** ("5 renders uploaded to
//!   Project", naming them): a batch closes [`BATCH_QUIET`] after its last
//!   upload (at most [`BATCH_LONGEST`] after its first);
//! - the backlog found at start is **one summary**: for [`START_GRACE`]
//!   after the start, a batch stays open;
//! - what needs a person is **one notification per item and cause** (a
//!   failure that needs action, a name not recognised) and one per spell
//!   of "sign in again", **never one per retry**;
//! - `[notifications]`: `enabled` off says nothing; `on_upload` and
//!   `on_failure` choose (errors only: `on_upload = false`).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use postflow_core::StatusKind;
use postflow_settings::{Language, NotificationSettings};

/// A batch of uploads closes this long after its last upload...
pub const BATCH_QUIET: Duration = Duration::from_secs(5);
/// ...or this long after its first, whichever comes first.
pub const BATCH_LONGEST: Duration = Duration::from_secs(60);
/// Uploads in the first moments after the start are the backlog: one
/// summary for them all.
pub const START_GRACE: Duration = Duration::from_secs(30);

/// One desktop notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopNotice {
    /// Once per key (`uploads:<n>`, `needs_action:<id>`, `held:<id>`,
    /// `needs_user`).
    pub key: String,
    pub title: String,
    pub body: String,
    /// The item it is about (to open it, where the desktop allows).
    pub item: Option<i64>,
}

/// What happened that a notification may tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happened {
    Uploaded {
        file_name: String,
    },
    /// An item failed and PostFlow stopped retrying it, or its name is not
    /// recognised: a person must act.
    NeedsAction {
        id: i64,
        file_name: String,
        status: StatusKind,
        reason: String,
    },
    /// Uploads stopped for everyone (sign in again, no access).
    NeedsUser {
        reason: String,
    },
    /// The run state is back to running (a spell of "needs you" is over).
    Resumed,
}

/// Decides the notifications. Feed it what happens ([`Planner::note`]) and
/// ask it regularly what is due ([`Planner::due`]).
pub struct Planner {
    settings: NotificationSettings,
    lang: Language,
    project: Option<String>,
    started: Instant,
    batch: Vec<String>,
    first_at: Option<Instant>,
    last_at: Option<Instant>,
    batches: u64,
    told: HashSet<String>,
}

impl Planner {
    pub fn new(settings: NotificationSettings, lang: Language, now: Instant) -> Planner {
        Planner {
            settings,
            lang,
            project: None,
            started: now,
            batch: Vec::new(),
            first_at: None,
            last_at: None,
            batches: 0,
            told: HashSet::new(),
        }
    }

    /// New settings (saved in the window) apply from now on.
    pub fn set_settings(&mut self, settings: NotificationSettings, lang: Language) {
        self.settings = settings;
        self.lang = lang;
    }

    /// The project's name, for "uploaded to <project>".
    pub fn set_project(&mut self, project: Option<String>) {
        self.project = project;
    }

    /// Something happened; what needs a person is returned at once.
    pub fn note(&mut self, happened: Happened, now: Instant) -> Vec<DesktopNotice> {
        let fr = self.lang == Language::Fr;
        match happened {
            Happened::Uploaded { file_name } => {
                if self.settings.enabled && self.settings.on_upload {
                    self.batch.push(file_name);
                    self.first_at.get_or_insert(now);
                    self.last_at = Some(now);
                }
                Vec::new()
            }
            Happened::NeedsAction {
                id,
                file_name,
                status,
                reason,
            } => {
                let held = status == StatusKind::Held;
                let key = format!("{}:{id}", if held { "held" } else { "needs_action" });
                if !self.settings.enabled
                    || !self.settings.on_failure
                    || !self.told.insert(key.clone())
                {
                    return Vec::new();
                }
                let title = match (held, fr) {
                    (true, false) => format!("{file_name}: name not recognized"),
                    (true, true) => format!("{file_name} : nom non reconnu"),
                    (false, false) => format!("{file_name} needs you"),
                    (false, true) => format!("{file_name} : intervention requise"),
                };
                vec![DesktopNotice {
                    key,
                    title,
                    body: reason,
                    item: Some(id),
                }]
            }
            Happened::NeedsUser { reason } => {
                let key = "needs_user".to_string();
                if !self.settings.enabled
                    || !self.settings.on_failure
                    || !self.told.insert(key.clone())
                {
                    return Vec::new();
                }
                vec![DesktopNotice {
                    key,
                    title: if fr {
                        "PostFlow a besoin de vous : les envois sont arrêtés".into()
                    } else {
                        "PostFlow needs you: uploads have stopped".into()
                    },
                    body: reason,
                    item: None,
                }]
            }
            Happened::Resumed => {
                // The next spell of "needs you" is told again.
                self.told.remove("needs_user");
                Vec::new()
            }
        }
    }

    /// The batch of uploads, when it is due.
    pub fn due(&mut self, now: Instant) -> Option<DesktopNotice> {
        let (first, last) = (self.first_at?, self.last_at?);
        let in_grace = now.duration_since(self.started) < START_GRACE;
        let quiet = now.duration_since(last) >= BATCH_QUIET;
        let long = now.duration_since(first) >= BATCH_LONGEST;
        if !(long || (quiet && !in_grace)) {
            return None;
        }
        let names = std::mem::take(&mut self.batch);
        self.first_at = None;
        self.last_at = None;
        if names.is_empty() {
            return None;
        }
        self.batches += 1;
        let fr = self.lang == Language::Fr;
        let n = names.len();
        let title = match (n, &self.project, fr) {
            (1, Some(p), false) => format!("1 render uploaded to {p}"),
            (1, Some(p), true) => format!("1 rendu envoyé sur {p}"),
            (1, None, false) => "1 render uploaded to Frame.io".into(),
            (1, None, true) => "1 rendu envoyé sur Frame.io".into(),
            (n, Some(p), false) => format!("{n} renders uploaded to {p}"),
            (n, Some(p), true) => format!("{n} rendus envoyés sur {p}"),
            (n, None, false) => format!("{n} renders uploaded to Frame.io"),
            (n, None, true) => format!("{n} rendus envoyés sur Frame.io"),
        };
        let mut body = names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        if n > 5 {
            body.push_str(&if fr {
                format!(" et {} autres", n - 5)
            } else {
                format!(" and {} more", n - 5)
            });
        }
        Some(DesktopNotice {
            key: format!("uploads:{}", self.batches),
            title,
            body,
            item: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> NotificationSettings {
        NotificationSettings {
            enabled: true,
            on_upload: true,
            on_failure: true,
        }
    }

    fn uploaded(n: usize) -> Happened {
        Happened::Uploaded {
            file_name: format!("SC01_S{n:02}_V001.mov"),
        }
    }

    #[test]
    fn five_uploads_in_a_batch_are_one_notification_naming_them() {
        let t0 = Instant::now();
        let mut p = Planner::new(settings(), Language::En, t0 - START_GRACE);
        p.set_project(Some("Film".into()));
        for n in 0..5 {
            assert!(p
                .note(uploaded(n), t0 + Duration::from_secs(n as u64))
                .is_empty());
            assert!(
                p.due(t0 + Duration::from_secs(n as u64)).is_none(),
                "not while they come"
            );
        }
        let notice = p
            .due(t0 + Duration::from_secs(4) + BATCH_QUIET)
            .expect("the batch");
        assert_eq!(notice.title, "5 renders uploaded to Film");
        assert!(
            notice.body.contains("SC01_S00_V001.mov") && notice.body.contains("SC01_S04_V001.mov")
        );
        assert!(p.due(t0 + Duration::from_secs(60)).is_none(), "once");
    }

    #[test]
    fn the_backlog_at_start_is_one_summary() {
        let t0 = Instant::now();
        let mut p = Planner::new(settings(), Language::Fr, t0);
        for n in 0..12 {
            p.note(uploaded(n), t0 + Duration::from_secs(2 * n as u64));
            assert!(p
                .due(t0 + Duration::from_secs(2 * n as u64) + BATCH_QUIET)
                .is_none());
        }
        let notice = p.due(t0 + START_GRACE + BATCH_QUIET).expect("one summary");
        assert_eq!(notice.title, "12 rendus envoyés sur Frame.io");
        assert!(notice.body.ends_with(" et 7 autres"), "{}", notice.body);
    }

    #[test]
    fn what_needs_a_person_is_told_once_per_item_and_cause_never_per_retry() {
        let t0 = Instant::now();
        let mut p = Planner::new(settings(), Language::En, t0);
        let failed = |id| Happened::NeedsAction {
            id,
            file_name: "SC02_A_V001.mov".into(),
            status: StatusKind::Failed,
            reason: "HTTP 422".into(),
        };
        assert_eq!(p.note(failed(7), t0).len(), 1);
        assert!(
            p.note(failed(7), t0).is_empty(),
            "a retry that fails again says nothing"
        );
        assert_eq!(p.note(failed(8), t0).len(), 1, "another item does");
        let held = Happened::NeedsAction {
            id: 7,
            file_name: "X.mov".into(),
            status: StatusKind::Held,
            reason: "no pattern".into(),
        };
        assert_eq!(p.note(held, t0)[0].title, "X.mov: name not recognized");
        let out = |p: &mut Planner| {
            p.note(
                Happened::NeedsUser {
                    reason: "signed out".into(),
                },
                t0,
            )
        };
        assert_eq!(out(&mut p).len(), 1);
        assert!(out(&mut p).is_empty(), "once per spell");
        p.note(Happened::Resumed, t0);
        assert_eq!(out(&mut p).len(), 1, "a new spell is told");
    }

    #[test]
    fn settings_are_honoured() {
        let t0 = Instant::now();
        let errors_only = NotificationSettings {
            on_upload: false,
            ..settings()
        };
        let mut p = Planner::new(errors_only, Language::En, t0 - START_GRACE);
        p.note(uploaded(1), t0);
        assert!(p.due(t0 + BATCH_LONGEST).is_none(), "errors only");
        assert_eq!(
            p.note(Happened::NeedsUser { reason: "x".into() }, t0).len(),
            1
        );
        let off = NotificationSettings {
            enabled: false,
            ..settings()
        };
        let mut p = Planner::new(off, Language::En, t0);
        assert!(p
            .note(Happened::NeedsUser { reason: "x".into() }, t0)
            .is_empty());
    }
}
