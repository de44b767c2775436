//! The tray icon and its menu. Its state (icon, tooltip, Pause/Resume label)
//! follows the core's run state, whoever changed it.

use postflow_core::RunState;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use crate::AppState;

const TRAY_ID: &str = "postflow";
const ICON_RUNNING: &[u8] = include_bytes!("../../icons/tray.png");
const ICON_PAUSED: &[u8] = include_bytes!("../../icons/tray-paused.png");

/// What the tray shows for a state: (status line, toggle label, tooltip).
pub fn labels(state: RunState) -> (&'static str, &'static str, &'static str) {
    match state {
        RunState::Running => (
            "PostFlow: watching",
            "Pause",
            "PostFlow: watching for renders",
        ),
        RunState::Paused => (
            "PostFlow: paused",
            "Resume",
            "PostFlow: paused, no uploads start",
        ),
    }
}

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let control = app.state::<AppState>().api.control().clone();
    let (status_text, toggle_text, tooltip) = labels(control.state());

    let status = MenuItem::with_id(app, "status", status_text, false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open PostFlow", true, None::<&str>)?;
    let toggle = MenuItem::with_id(app, "toggle", toggle_text, true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit PostFlow", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &open,
            &toggle,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;

    let tray = TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(control.state())?)
        .tooltip(tooltip)
        .menu(&menu)
        .on_menu_event(move |app, event| match event.id.as_ref() {
            "open" => {
                if let Err(e) = crate::show_main_window(app) {
                    tracing::error!("cannot open the PostFlow window: {e}");
                }
            }
            "toggle" => {
                // Through the API, like the window and the CLI: the queue
                // database's flag first, then the state and the event.
                let api = app.state::<AppState>().api.clone();
                tauri::async_runtime::spawn(async move {
                    let result = match api.control().state() {
                        RunState::Running => api.pause().await,
                        RunState::Paused => api.resume().await,
                    };
                    match result {
                        Ok(s) => {
                            tracing::info!(state = ?s.run_state, "run state changed from the tray")
                        }
                        Err(e) => tracing::error!("cannot change the run state: {}", e.message),
                    }
                });
            }
            "quit" => {
                tracing::info!("quit from the tray");
                app.exit(0);
            }
            _ => {}
        })
        .build(app)?;

    // Follow the core's state, whoever changed it (tray, window, CLI).
    let mut states = control.watch_state();
    tauri::async_runtime::spawn(async move {
        while states.changed().await.is_ok() {
            let state = *states.borrow_and_update();
            let (status_text, toggle_text, tooltip) = labels(state);
            let _ = status.set_text(status_text);
            let _ = toggle.set_text(toggle_text);
            let _ = tray.set_tooltip(Some(tooltip));
            if let Ok(image) = icon(state) {
                let _ = tray.set_icon(Some(image));
            }
        }
    });
    Ok(())
}

fn icon(state: RunState) -> tauri::Result<Image<'static>> {
    Image::from_bytes(match state {
        RunState::Running => ICON_RUNNING,
        RunState::Paused => ICON_PAUSED,
    })
}
