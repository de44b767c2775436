//! The tray: what `postflow_api::tray::tray_model` says, on screen. The
//! menu is built once and its items' labels and enabled states change in
//! place (a menu replaced while open stays on screen on Linux, muda #129);
//! the icon changes at most once a second (`set_icon` writes a temporary
//! file each time on Linux). Every action goes through the API.
//!
//! On Linux (appindicator) there are no clicks and no tooltip: everything
//! is in the menu, the first line being the live status.

use std::time::{Duration, Instant};

use postflow_api::tray::{tomorrow_morning, tray_model, TrayIcon, TrayModel};
use postflow_api::Api;
use postflow_settings::TrayIcons;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use crate::AppState;

pub const TRAY_ID: &str = "postflow";
/// Recent uploads shown in the submenu.
const RECENT: usize = 5;
/// The icon changes at most this often.
const ICON_EVERY: Duration = Duration::from_secs(1);

/// The menu's items, kept to change them in place.
struct Items<R: Runtime> {
    status: MenuItem<R>,
    open: MenuItem<R>,
    open_folder: MenuItem<R>,
    toggle: MenuItem<R>,
    pause_hour: MenuItem<R>,
    pause_tomorrow: MenuItem<R>,
    retry: MenuItem<R>,
    recent: Submenu<R>,
    recent_items: Vec<MenuItem<R>>,
    sign_in: MenuItem<R>,
    settings: MenuItem<R>,
    logs: MenuItem<R>,
    quit: MenuItem<R>,
}

/// The tray icon's picture for a state, in the chosen style.
fn icon(state: TrayIcon, style: TrayIcons) -> tauri::Result<Image<'static>> {
    macro_rules! icons {
        ($($stem:literal),*) => {
            &[$(
                ($stem, [
                    include_bytes!(concat!("../../icons/", $stem, ".png")).as_slice(),
                    include_bytes!(concat!("../../icons/", $stem, "-light.png")).as_slice(),
                    include_bytes!(concat!("../../icons/", $stem, "-dark.png")).as_slice(),
                ]),
            )*]
        };
    }
    const ALL: &[(&str, [&[u8]; 3])] = icons!(
        "tray-idle",
        "tray-uploading-0",
        "tray-uploading-1",
        "tray-uploading-2",
        "tray-uploading-3",
        "tray-paused",
        "tray-attention",
        "tray-needs-you",
        "tray-offline"
    );
    let stem = state.file_stem();
    let variants = ALL
        .iter()
        .find(|(s, _)| *s == stem)
        .map(|(_, v)| v)
        .unwrap_or(&ALL[0].1);
    let index = match style {
        TrayIcons::Color => 0,
        TrayIcons::Light => 1,
        TrayIcons::Dark => 2,
    };
    Image::from_bytes(variants[index])
}

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let api = app.state::<AppState>().api.clone();
    let lang = api.settings().ui.language;
    let first = tray_model(&placeholder(&api), &[], lang);
    let item = |id: &str, text: &str, enabled: bool| {
        MenuItem::with_id(app, id, text, enabled, None::<&str>)
    };
    let recent_items: Vec<MenuItem<R>> = (0..RECENT)
        .map(|i| item(&format!("recent-{i}"), &first.recent_none, false))
        .collect::<tauri::Result<_>>()?;
    let recent_refs: Vec<&dyn tauri::menu::IsMenuItem<R>> = recent_items
        .iter()
        .map(|i| i as &dyn tauri::menu::IsMenuItem<R>)
        .collect();
    let items = Items {
        status: item("status", &first.status, false)?,
        open: item("open", &first.open, true)?,
        open_folder: item("open_folder", &first.open_folder, true)?,
        toggle: item("toggle", &first.pause_or_resume, true)?,
        pause_hour: item("pause_hour", &first.pause_hour, true)?,
        pause_tomorrow: item("pause_tomorrow", &first.pause_tomorrow, true)?,
        retry: item("retry", &first.retry_failed, false)?,
        recent: Submenu::with_id_and_items(app, "recent", &first.recent_title, true, &recent_refs)?,
        recent_items: recent_items.clone(),
        sign_in: item("sign_in", &first.sign_in, false)?,
        settings: item("settings", &first.settings, true)?,
        logs: item("logs", &first.logs, true)?,
        quit: item("quit", &first.quit, true)?,
    };
    let menu = Menu::with_items(
        app,
        &[
            &items.status,
            &PredefinedMenuItem::separator(app)?,
            &items.open,
            &items.open_folder,
            &PredefinedMenuItem::separator(app)?,
            &items.toggle,
            &items.pause_hour,
            &items.pause_tomorrow,
            &items.retry,
            &items.recent,
            &PredefinedMenuItem::separator(app)?,
            &items.sign_in,
            &items.settings,
            &items.logs,
            &PredefinedMenuItem::separator(app)?,
            &items.quit,
        ],
    )?;
    let style = api.settings().ui.tray_icons;
    let tray = TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(first.icon, style)?)
        .icon_as_template(cfg!(target_os = "macos") && style == TrayIcons::Dark)
        .tooltip(&first.status)
        .menu(&menu)
        .on_menu_event(|app, event| on_menu(app, event.id.as_ref()))
        .build(app)?;

    // Follow the snapshot, whoever changed what (the UI, the CLI, the
    // service itself): labels at once, the icon at most once a second.
    let mut snapshots = api.watch_snapshot();
    tauri::async_runtime::spawn(async move {
        let mut shown: Option<(TrayIcon, TrayIcons)> = Some((first.icon, style));
        let mut icon_at = Instant::now();
        let mut recent_urls: Vec<String> = Vec::new();
        loop {
            let snapshot = snapshots.borrow_and_update().clone();
            if let Some(snapshot) = snapshot {
                let recent = api.recent_uploads(RECENT as u32).await.unwrap_or_default();
                let settings = api.settings();
                let model = tray_model(&snapshot, &recent, settings.ui.language);
                apply(&items, &model);
                recent_urls = model.recent.iter().map(|(_, url)| url.clone()).collect();
                let _ = tray.set_tooltip(Some(&model.status));
                let wanted = (model.icon, settings.ui.tray_icons);
                if shown != Some(wanted) {
                    let wait = ICON_EVERY.saturating_sub(icon_at.elapsed());
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                    if let Ok(image) = icon(wanted.0, wanted.1) {
                        let _ = tray.set_icon(Some(image));
                        let _ = tray.set_icon_as_template(
                            cfg!(target_os = "macos") && wanted.1 == TrayIcons::Dark,
                        );
                        shown = Some(wanted);
                        icon_at = Instant::now();
                    }
                }
                tracing::debug!(status = %model.status, "tray updated");
            }
            if let Some(state) = tray.app_handle().try_state::<AppState>() {
                *state.recent.lock().unwrap_or_else(|p| p.into_inner()) = recent_urls.clone();
            }
            if snapshots.changed().await.is_err() {
                break;
            }
        }
    });
    Ok(())
}

/// A snapshot to build the first menu from, before the first real one.
fn placeholder(api: &Api) -> postflow_api::Snapshot {
    postflow_api::Snapshot {
        version: env!("CARGO_PKG_VERSION").into(),
        state: postflow_api::ServiceState::Stopped {
            detail: "starting".into(),
        },
        run_state: api.control().state(),
        paused_until: None,
        bandwidth: Default::default(),
        service_running: false,
        hosted: true,
        filespace_online: None,
        frameio_online: None,
        account: None,
        project: None,
        discord: postflow_api::DiscordView {
            enabled: false,
            webhook: None,
            problem: None,
            pending: 0,
            sent: 0,
        },
        counts: Vec::new(),
        attention: 0,
        health: 0,
        throughput_bps: 0,
        upload_bytes_sent: 0,
        upload_bytes_total: 0,
        watch_root: String::new(),
        demo: false,
        language: api.settings().ui.language,
    }
}

fn apply<R: Runtime>(items: &Items<R>, m: &TrayModel) {
    let _ = items.status.set_text(&m.status);
    let _ = items.open.set_text(&m.open);
    let _ = items.open_folder.set_text(&m.open_folder);
    let _ = items.toggle.set_text(&m.pause_or_resume);
    let _ = items.pause_hour.set_text(&m.pause_hour);
    let _ = items.pause_tomorrow.set_text(&m.pause_tomorrow);
    let _ = items.retry.set_text(&m.retry_failed);
    let _ = items.retry.set_enabled(m.retry_enabled);
    let _ = items.recent.set_text(&m.recent_title);
    for (i, slot) in items.recent_items.iter().enumerate() {
        match m.recent.get(i) {
            Some((name, _)) => {
                let _ = slot.set_text(name);
                let _ = slot.set_enabled(true);
            }
            None => {
                let _ = slot.set_text(if i == 0 {
                    m.recent_none.as_str()
                } else {
                    "—"
                });
                let _ = slot.set_enabled(false);
            }
        }
    }
    let _ = items.sign_in.set_text(&m.sign_in);
    let _ = items.sign_in.set_enabled(m.signed_out);
    let _ = items.settings.set_text(&m.settings);
    let _ = items.logs.set_text(&m.logs);
    let _ = items.quit.set_text(&m.quit);
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    let state = app.state::<AppState>();
    let api = state.api.clone();
    let app = app.clone();
    let id = id.to_string();
    tauri::async_runtime::spawn(async move {
        let result: Result<(), String> = async {
            match id.as_str() {
                "open" => crate::show_main_window(&app, None).map_err(|e| e.to_string()),
                "settings" => {
                    crate::show_main_window(&app, Some("#/settings")).map_err(|e| e.to_string())
                }
                "open_folder" => crate::open_path(&app, &api.settings().watch.root),
                "logs" => crate::open_path(&app, &api.paths().log_dir),
                "toggle" => match api.control().state() {
                    postflow_core::RunState::Running => api.pause().await.map(drop),
                    postflow_core::RunState::Paused => api.resume().await.map(drop),
                }
                .map_err(|e| e.message),
                "pause_hour" => api
                    .pause_until(postflow_queue::now_ms() + 3_600_000)
                    .await
                    .map(drop)
                    .map_err(|e| e.message),
                "pause_tomorrow" => api
                    .pause_until(tomorrow_morning(postflow_queue::now_ms()))
                    .await
                    .map(drop)
                    .map_err(|e| e.message),
                "retry" => api
                    .retry_all_failed()
                    .await
                    .map(drop)
                    .map_err(|e| e.message),
                "sign_in" => {
                    let started = api.sign_in().await.map_err(|e| e.message)?;
                    crate::open_url(&app, &started.url)
                }
                "quit" => {
                    tracing::info!("quit from the tray");
                    api.shutdown().await;
                    app.exit(0);
                    Ok(())
                }
                other => match other
                    .strip_prefix("recent-")
                    .and_then(|i| i.parse::<usize>().ok())
                {
                    Some(i) => {
                        let url = app
                            .state::<AppState>()
                            .recent
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get(i)
                            .cloned();
                        match url {
                            Some(url) => crate::open_url(&app, &url),
                            None => Ok(()),
                        }
                    }
                    None => Ok(()),
                },
            }
        }
        .await;
        match result {
            Ok(()) => tracing::info!(item = %id, "tray action"),
            Err(e) => tracing::warn!(item = %id, "tray action failed: {e}"),
        }
    });
}

/// Whether this desktop has no tray host. On Linux the tray icon is a
/// StatusNotifierItem (libayatana-appindicator), shown by the host that owns
/// `org.kde.StatusNotifierWatcher` on the session bus (KDE, most panels;
/// GNOME only with the AppIndicator extension); without one, appindicator
/// falls back to an XEmbed icon, shown by the X11 system tray that owns the
/// `_NET_SYSTEM_TRAY_S<screen>` selection (Xfce, LXDE, trayer...). Neither:
/// no tray. Elsewhere (macOS, Windows) there is always one. Without a
/// session bus nothing can be known and nothing is said.
pub fn host_missing() -> bool {
    #[cfg(target_os = "linux")]
    {
        let Ok(bus) = zbus::blocking::Connection::session() else {
            return false;
        };
        let owned = bus
            .call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus"),
                "NameHasOwner",
                &("org.kde.StatusNotifierWatcher",),
            )
            .and_then(|reply| reply.body().deserialize::<bool>());
        matches!(owned, Ok(false)) && !xembed_tray_present()
    }
    #[cfg(not(target_os = "linux"))]
    false
}

/// Whether an X11 system tray (the freedesktop System Tray protocol) owns
/// its selection on the default screen. No X display (Wayland only): no.
#[cfg(target_os = "linux")]
fn xembed_tray_present() -> bool {
    use x11_dl::xlib;
    let Ok(x) = xlib::Xlib::open() else {
        return false;
    };
    // SAFETY: Xlib calls on a display this function opens and closes, with
    // a NUL-terminated atom name; nothing outlives the call.
    unsafe {
        let display = (x.XOpenDisplay)(std::ptr::null());
        if display.is_null() {
            return false;
        }
        let screen = (x.XDefaultScreen)(display);
        let name = std::ffi::CString::new(format!("_NET_SYSTEM_TRAY_S{screen}"))
            .expect("no NUL in an atom name");
        let atom = (x.XInternAtom)(display, name.as_ptr(), xlib::False);
        let owner = (x.XGetSelectionOwner)(display, atom);
        (x.XCloseDisplay)(display);
        owner != 0
    }
}

/// The notice for a desktop without a tray, in the UI's language.
pub fn no_tray_notice(api: &postflow_api::Api) -> (String, String) {
    match api.settings().ui.language {
        postflow_settings::Language::Fr => (
            "PostFlow fonctionne sans icône de barre d’état".into(),
            "Ce bureau n’a pas de zone de notification : PostFlow continue d’envoyer les rendus ; rouvrez sa fenêtre depuis le menu des applications.".into(),
        ),
        _ => (
            "PostFlow is running without a tray icon".into(),
            "This desktop has no tray: PostFlow keeps uploading renders; open its window again from the applications menu.".into(),
        ),
    }
}
