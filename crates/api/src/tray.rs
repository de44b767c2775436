//! What the tray says, from the snapshot: the status line, the icon, the
//! menu's labels and what is enabled. The desktop shell only puts it on
//! screen (Tauri's tray), so the words are tested here, in both languages.
//!
//! The tray never says "all good" while something fails or waits for a
//! person: [`TrayIcon::Idle`] only for [`ServiceState::Watching`].

use postflow_settings::Language;
use serde::Serialize;

use crate::views::{ItemView, Offline, ServiceState, Snapshot};

/// The tray icon for a state (`icons/tray-<name>.png`, drawn by
/// `scripts/make-icons.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrayIcon {
    /// Watching; nothing failing.
    Idle,
    /// Uploading: a frame per quarter of the way (0 to 3).
    Uploading(u8),
    Paused,
    /// Something failed (retrying, or for good), or a name is held.
    Attention,
    /// Nothing moves until a person acts: signed out, not set up, stopped.
    NeedsYou,
    /// The filespace or Frame.io cannot be reached.
    Offline,
}

impl TrayIcon {
    /// The icon file's name, without `.png`.
    pub fn file_stem(self) -> String {
        match self {
            TrayIcon::Idle => "tray-idle".into(),
            TrayIcon::Uploading(frame) => format!("tray-uploading-{}", frame.min(3)),
            TrayIcon::Paused => "tray-paused".into(),
            TrayIcon::Attention => "tray-attention".into(),
            TrayIcon::NeedsYou => "tray-needs-you".into(),
            TrayIcon::Offline => "tray-offline".into(),
        }
    }
}

/// Everything the tray shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrayModel {
    pub icon: TrayIcon,
    /// The disabled first line, and the tooltip where there is one.
    pub status: String,
    pub open: String,
    pub open_folder: String,
    /// "Pause" or "Resume" (one item).
    pub pause_or_resume: String,
    pub paused: bool,
    pub pause_hour: String,
    pub pause_tomorrow: String,
    pub retry_failed: String,
    /// Enabled only when something failed.
    pub retry_enabled: bool,
    pub recent_title: String,
    /// Up to five: (label, Frame.io link).
    pub recent: Vec<(String, String)>,
    pub recent_none: String,
    /// "Sign in…" is enabled only when signed out or a person is needed.
    pub sign_in: String,
    pub signed_out: bool,
    pub settings: String,
    pub logs: String,
    pub quit: String,
}

/// The tray for this snapshot and the latest uploads (newest first).
pub fn tray_model(snapshot: &Snapshot, recent: &[ItemView], lang: Language) -> TrayModel {
    let fr = lang == Language::Fr;
    let count = |kind: postflow_core::StatusKind| {
        snapshot
            .counts
            .iter()
            .find(|c| c.status == kind)
            .map_or(0, |c| c.count)
    };
    use postflow_core::StatusKind::*;
    let failed = count(Failed);
    let in_frameio = count(Done) + count(AlreadyInFrameio);
    let (icon, status) = match &snapshot.state {
        ServiceState::NotSetUp { .. } => (
            TrayIcon::NeedsYou,
            pick(
                fr,
                "PostFlow is not set up yet",
                "PostFlow n’est pas encore configuré",
            )
            .into(),
        ),
        ServiceState::SignedOut => (
            TrayIcon::NeedsYou,
            pick(fr, "Signed out of Frame.io", "Déconnecté de Frame.io").into(),
        ),
        ServiceState::NeedsYou { reason } => (
            TrayIcon::NeedsYou,
            format!(
                "{}: {reason}",
                pick(fr, "Needs you", "Intervention requise")
            ),
        ),
        ServiceState::Stopped { detail } => (
            TrayIcon::NeedsYou,
            format!("{}: {detail}", pick(fr, "Not running", "Arrêté")),
        ),
        ServiceState::Offline { what, .. } => (
            TrayIcon::Offline,
            match what {
                Offline::Filespace => pick(
                    fr,
                    "Filespace offline: uploads wait",
                    "Filespace hors ligne : les envois attendent",
                ),
                Offline::Frameio => pick(
                    fr,
                    "Frame.io unreachable: uploads wait",
                    "Frame.io injoignable : les envois attendent",
                ),
            }
            .into(),
        ),
        ServiceState::Paused { until } => (
            TrayIcon::Paused,
            match until {
                Some(at) => format!(
                    "{} {}",
                    pick(fr, "Paused until", "En pause jusqu’à"),
                    local_time(*at)
                ),
                None => pick(fr, "Paused", "En pause").into(),
            },
        ),
        ServiceState::Uploading { active, queued } => {
            let total = active + queued;
            let pct = percent(snapshot.upload_bytes_sent, snapshot.upload_bytes_total);
            let frame = ((pct / 25).min(3)) as u8;
            let mut line = if fr {
                format!("Envoi de {active} sur {total} · {pct} %")
            } else {
                format!("Uploading {active} of {total} · {pct} %")
            };
            if snapshot.throughput_bps > 0 {
                line.push_str(&format!(" · {}", speed(snapshot.throughput_bps, fr)));
            }
            // A cap (the setting, or the timetable now) explains a slow speed.
            if let Some(cap) = snapshot.bandwidth.cap_bytes_per_sec {
                line.push_str(&format!(
                    " · {} {}",
                    pick(fr, "capped at", "limité à"),
                    speed(cap, fr)
                ));
            }
            if snapshot.attention > 0 {
                line.push_str(&format!(" · {}", attention(snapshot.attention, fr)));
            }
            (TrayIcon::Uploading(frame), line)
        }
        ServiceState::Attention { .. } => (TrayIcon::Attention, attention(snapshot.attention, fr)),
        ServiceState::Watching => (
            TrayIcon::Idle,
            match (in_frameio, fr) {
                (0, false) => "Watching BY_SHOT: no render yet".into(),
                (0, true) => "Surveillance de BY_SHOT : aucun rendu pour l’instant".into(),
                (1, false) => "The render is in Frame.io".into(),
                (1, true) => "Le rendu est dans Frame.io".into(),
                (n, false) => format!("All {n} renders in Frame.io"),
                (n, true) => format!("Les {n} rendus sont dans Frame.io"),
            },
        ),
    };
    let status = if snapshot.demo {
        format!("{} {status}", pick(fr, "Demo:", "Démo :"))
    } else {
        status
    };
    let paused = snapshot.run_state == postflow_core::RunState::Paused;
    TrayModel {
        icon,
        status,
        open: pick(fr, "Open PostFlow", "Ouvrir PostFlow").into(),
        open_folder: pick(fr, "Open watched folder", "Ouvrir le dossier surveillé").into(),
        pause_or_resume: if paused {
            pick(fr, "Resume", "Reprendre")
        } else {
            pick(fr, "Pause", "Mettre en pause")
        }
        .into(),
        paused,
        pause_hour: pick(fr, "Pause for 1 hour", "Pause pendant 1 heure").into(),
        pause_tomorrow: pick(fr, "Pause until tomorrow", "Pause jusqu’à demain").into(),
        retry_failed: if fr {
            format!("Réessayer les échecs ({failed})")
        } else {
            format!("Retry failed ({failed})")
        },
        retry_enabled: failed > 0,
        recent_title: pick(fr, "Recent uploads", "Derniers envois").into(),
        recent: recent
            .iter()
            .filter_map(|i| i.view_url.clone().map(|url| (i.file_name.clone(), url)))
            .take(5)
            .collect(),
        recent_none: pick(fr, "Nothing uploaded yet", "Rien d’envoyé pour l’instant").into(),
        sign_in: pick(fr, "Sign in to Frame.io…", "Se connecter à Frame.io…").into(),
        // Signed out, or the sign-in stopped working (needs you).
        signed_out: matches!(
            snapshot.state,
            ServiceState::SignedOut | ServiceState::NeedsYou { .. }
        ),
        settings: pick(fr, "Settings…", "Réglages…").into(),
        logs: pick(fr, "View logs", "Voir les journaux").into(),
        quit: pick(fr, "Quit PostFlow", "Quitter PostFlow").into(),
    }
}

fn pick(fr: bool, en: &'static str, french: &'static str) -> &'static str {
    if fr {
        french
    } else {
        en
    }
}

fn attention(n: u64, fr: bool) -> String {
    match (n, fr) {
        (1, false) => "1 render needs attention".into(),
        (1, true) => "1 rendu à traiter".into(),
        (n, false) => format!("{n} renders need attention"),
        (n, true) => format!("{n} rendus à traiter"),
    }
}

fn percent(done: u64, total: u64) -> u64 {
    done.saturating_mul(100)
        .checked_div(total)
        .map_or(0, |p| p.min(100))
}

/// `38 MB/s`, `38 Mo/s`.
fn speed(bytes_per_sec: u64, fr: bool) -> String {
    let mb = bytes_per_sec as f64 / 1_000_000.0;
    let unit = if fr { "Mo/s" } else { "MB/s" };
    if mb >= 10.0 {
        format!("{mb:.0} {unit}")
    } else {
        let text = format!("{mb:.1}");
        format!("{} {unit}", if fr { text.replace('.', ",") } else { text })
    }
}

/// `15:30` in the machine's time zone.
pub fn local_time(unix_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(unix_ms)
        .map(|t| {
            t.to_zoned_datetime(jiff::tz::TimeZone::system())
                .strftime("%H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// Tomorrow at 08:00 in the machine's time zone (unix ms): "pause until
/// tomorrow" (the start of the next working day).
pub fn tomorrow_morning(now_ms: i64) -> i64 {
    let tz = jiff::tz::TimeZone::system();
    let Ok(now) = jiff::Timestamp::from_millisecond(now_ms) else {
        return now_ms + 24 * 3_600_000;
    };
    let today = now.to_zoned_datetime(tz.clone()).date();
    today
        .tomorrow()
        .ok()
        .and_then(|d| d.at(8, 0, 0, 0).to_zoned_datetime(tz).ok())
        .map_or(now_ms + 24 * 3_600_000, |z| z.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::{DiscordView, StatusCount};
    use postflow_core::{RunState, StatusKind};

    fn snapshot(state: ServiceState) -> Snapshot {
        Snapshot {
            version: "0".into(),
            state,
            run_state: RunState::Running,
            paused_until: None,
            bandwidth: Default::default(),
            service_running: true,
            hosted: true,
            filespace_online: Some(true),
            frameio_online: Some(true),
            account: None,
            project: None,
            discord: DiscordView {
                enabled: false,
                webhook: None,
                problem: None,
                pending: 0,
                sent: 0,
            },
            counts: vec![StatusCount {
                status: StatusKind::Done,
                count: 124,
            }],
            attention: 0,
            health: 100,
            throughput_bps: 0,
            upload_bytes_sent: 0,
            upload_bytes_total: 0,
            watch_root: "/fs/BY_SHOT".into(),
            demo: false,
            language: Language::En,
        }
    }

    #[test]
    fn all_good_only_when_nothing_fails() {
        let t = tray_model(&snapshot(ServiceState::Watching), &[], Language::En);
        assert_eq!(t.icon, TrayIcon::Idle);
        assert_eq!(t.status, "All 124 renders in Frame.io");
        assert!(!t.retry_enabled);
        assert_eq!(t.retry_failed, "Retry failed (0)");
        let mut s = snapshot(ServiceState::Attention { failed: 2, held: 1 });
        s.attention = 3;
        s.counts.push(StatusCount {
            status: StatusKind::Failed,
            count: 2,
        });
        let t = tray_model(&s, &[], Language::En);
        assert_eq!(t.icon, TrayIcon::Attention);
        assert_eq!(t.status, "3 renders need attention");
        assert!(t.retry_enabled);
        assert_eq!(t.retry_failed, "Retry failed (2)");
    }

    #[test]
    fn uploading_says_how_many_how_far_and_how_fast_in_both_languages() {
        let mut s = snapshot(ServiceState::Uploading {
            active: 2,
            queued: 3,
        });
        s.upload_bytes_sent = 41;
        s.upload_bytes_total = 100;
        s.throughput_bps = 38_000_000;
        let t = tray_model(&s, &[], Language::En);
        assert_eq!(t.status, "Uploading 2 of 5 · 41 % · 38 MB/s");
        assert_eq!(t.icon, TrayIcon::Uploading(1));
        s.attention = 1;
        let t = tray_model(&s, &[], Language::Fr);
        assert_eq!(
            t.status,
            "Envoi de 2 sur 5 · 41 % · 38 Mo/s · 1 rendu à traiter"
        );
        assert_eq!(t.pause_or_resume, "Mettre en pause");
        // The bandwidth cap in force says why it is no faster.
        s.attention = 0;
        s.bandwidth.cap_bytes_per_sec = Some(2_500_000);
        s.throughput_bps = 2_400_000;
        let t = tray_model(&s, &[], Language::En);
        assert_eq!(
            t.status,
            "Uploading 2 of 5 · 41 % · 2.4 MB/s · capped at 2.5 MB/s"
        );
        let t = tray_model(&s, &[], Language::Fr);
        assert_eq!(
            t.status,
            "Envoi de 2 sur 5 · 41 % · 2,4 Mo/s · limité à 2,5 Mo/s"
        );
    }

    #[test]
    fn signed_out_paused_and_offline() {
        let t = tray_model(&snapshot(ServiceState::SignedOut), &[], Language::En);
        assert_eq!(
            (t.icon, t.status.as_str()),
            (TrayIcon::NeedsYou, "Signed out of Frame.io")
        );
        assert!(t.signed_out);
        let mut s = snapshot(ServiceState::Paused { until: None });
        s.run_state = RunState::Paused;
        let t = tray_model(&s, &[], Language::En);
        assert_eq!(
            (t.icon, t.status.as_str(), t.pause_or_resume.as_str()),
            (TrayIcon::Paused, "Paused", "Resume")
        );
        let t = tray_model(
            &snapshot(ServiceState::Offline {
                what: Offline::Filespace,
                detail: None,
            }),
            &[],
            Language::Fr,
        );
        assert_eq!(t.icon, TrayIcon::Offline);
        assert!(t.status.starts_with("Filespace hors ligne"));
    }

    #[test]
    fn tomorrow_morning_is_later_than_now_and_within_two_days() {
        let now = 1_800_000_000_000;
        let t = tomorrow_morning(now);
        assert!(t > now && t - now <= 48 * 3_600_000, "{t}");
        assert_eq!(local_time(t), "08:00");
    }
}
