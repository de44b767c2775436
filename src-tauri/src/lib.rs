//! PostFlow's desktop shell: a tray icon, a small window and the IPC
//! adapter, all over the PostFlow API (`postflow-api`). No PostFlow logic
//! lives here: the shell shows state and forwards the user's intent.

mod commands;
mod notices;
mod tray;

use postflow_api::{Api, ApiOptions};
use postflow_settings::Paths;
use tauri::{Emitter, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder, WindowEvent};

pub use commands::EVENT_CHANNEL;

/// What the shell keeps for its commands.
pub struct AppState {
    pub api: Api,
    /// The Frame.io links of the tray's "Recent uploads", in menu order.
    pub recent: std::sync::Mutex<Vec<String>>,
}

/// The argument the login item starts PostFlow with: the tray only.
pub const BACKGROUND_ARG: &str = "--background";

/// Label of the one window.
pub const MAIN_WINDOW: &str = "main";

pub fn run() {
    let paths = match Paths::resolve(None) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("PostFlow cannot start: {e}");
            std::process::exit(2);
        }
    };
    let mut log_options = postflow_logging::LogOptions::new("postflow-app");
    log_options.dir = Some(paths.log_dir.clone());
    let _log = postflow_logging::init(log_options);

    if let Err(e) = postflow_settings::write_default_if_missing(&paths.config_file) {
        tracing::warn!("cannot create the settings file: {e}");
    }
    let loaded = postflow_settings::load(&paths.config_file);
    for problem in loaded.all_problems() {
        tracing::warn!("settings: {problem}");
    }
    tracing::info!(config = %paths.config_file.display(), "PostFlow starting");

    let background = std::env::args().any(|a| a == BACKGROUND_ARG);
    let start_minimized = loaded.settings.ui.start_minimized || background;
    let start_at_login = loaded.settings.ui.start_at_login;
    // The service runs here once the settings are complete and Frame.io is
    // signed in (until then the window shows what is missing). When
    // `postflow run` already holds the queue's service lock, the API steers
    // that service through the queue database instead.
    let api = tauri::async_runtime::block_on(Api::open(ApiOptions {
        paths: paths.clone(),
        secrets: std::sync::Arc::new(postflow_secrets::SecretStore::open()),
        host: true,
        demo: false,
    }));
    let api = match api {
        Ok(api) => api,
        Err(e) => {
            tracing::error!("PostFlow cannot open its queue: {}", e.message);
            eprintln!("PostFlow cannot start: {}", e.message);
            std::process::exit(2);
        }
    };
    let state = AppState {
        api,
        recent: std::sync::Mutex::new(Vec::new()),
    };

    let app = tauri::Builder::default()
        // First: a second launch only brings this one's window forward.
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            tracing::info!(?args, "PostFlow was launched again: showing the window");
            if let Err(e) = show_main_window(app, None) {
                tracing::warn!("cannot show the window: {e}");
            }
        }))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![BACKGROUND_ARG]),
        ))
        .manage(state)
        .invoke_handler(commands::handler())
        .setup(move |app| {
            apply_autostart(app.handle(), start_at_login);
            tray::create(app.handle())?;
            forward_events(app.handle());
            notices::start(app.handle());
            if !start_minimized {
                show_main_window(app.handle(), None)?;
            }
            tracing::info!("PostFlow is ready: tray icon set up");
            Ok(())
        })
        .on_window_event(|_window, event| {
            // Closing the window destroys its webview (a tray-only PostFlow
            // keeps no browser engine in memory); the app stays in the tray.
            if let WindowEvent::Destroyed = event {
                tracing::info!("PostFlow window closed; still in the tray");
            }
        })
        .build(tauri::generate_context!())
        .unwrap_or_else(|e| {
            tracing::error!("PostFlow cannot start its window system: {e}");
            std::process::exit(1);
        });

    app.run(|_app, event| {
        // Keep running in the tray when no window is open; Quit exits with a code.
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
}

/// Opens a file or folder with the desktop's handler, from Rust (the
/// webview has no opener permission).
pub fn open_path<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    path: &std::path::Path,
) -> Result<(), String> {
    use tauri_plugin_opener::OpenerExt;
    if path.as_os_str().is_empty() {
        return Err("no folder is set yet".into());
    }
    app.opener()
        .open_path(path.display().to_string(), None::<&str>)
        .map_err(|e| e.to_string())
}

/// Opens a link in the system browser, from Rust. Only http(s) links.
pub fn open_url<R: tauri::Runtime>(app: &tauri::AppHandle<R>, url: &str) -> Result<(), String> {
    use tauri_plugin_opener::OpenerExt;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("not a web link: {url}"));
    }
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| e.to_string())
}

/// Opens (or brings forward) the main window, at `hash` (`#/settings`)
/// when given.
pub fn show_main_window<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    hash: Option<&str>,
) -> tauri::Result<()> {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        if let Some(hash) = hash {
            let hash = serde_json::to_string(hash).unwrap_or_default();
            window.eval(format!("window.location.hash = {hash}"))?;
        }
        window.show()?;
        window.unminimize()?;
        window.set_focus()?;
        return Ok(());
    }
    let page = format!("index.html{}", hash.unwrap_or_default());
    WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::App(page.into()))
        .title("PostFlow")
        .inner_size(760.0, 540.0)
        .min_inner_size(520.0, 360.0)
        .build()?;
    tracing::info!("PostFlow window opened");
    Ok(())
}

/// Core events go to the web UI as they happen.
fn forward_events<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let mut events = app.state::<AppState>().api.subscribe();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        while let Some(event) = events.next().await {
            let _ = app.emit(EVENT_CHANNEL, &event);
        }
    });
}

/// Makes the login item match `ui.start_at_login`.
fn apply_autostart<R: tauri::Runtime>(app: &tauri::AppHandle<R>, wanted: bool) {
    use tauri_plugin_autostart::ManagerExt;
    let autolaunch = app.autolaunch();
    let result = match (wanted, autolaunch.is_enabled()) {
        (true, Ok(false)) => autolaunch.enable(),
        (false, Ok(true)) => autolaunch.disable(),
        (_, Ok(_)) => Ok(()),
        (_, Err(e)) => Err(e),
    };
    match result {
        Ok(()) => tracing::debug!(start_at_login = wanted, "login item in step with settings"),
        Err(e) => tracing::warn!("cannot set PostFlow to start at login: {e}"),
    }
}
