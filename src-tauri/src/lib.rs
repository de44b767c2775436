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
    /// The demo world (emulator, fake Discord, sample renders) when
    /// started with [`DEMO_ARG`]; kept alive as long as the app.
    pub demo: Option<std::sync::Arc<postflow_demo::Demo>>,
    /// The Frame.io links of the tray's "Recent uploads", in menu order.
    pub recent: std::sync::Mutex<Vec<String>>,
}

/// The argument the login item starts PostFlow with: the tray only.
pub const BACKGROUND_ARG: &str = "--background";

/// The argument of "Try the demo": the app runs on the built-in Frame.io
/// emulator and sample renders, with settings and secrets of its own.
pub const DEMO_ARG: &str = "--demo";

/// With [`DEMO_ARG`], from "Try the demo": quitting the demo starts the
/// user's PostFlow again.
pub const DEMO_RETURN_ARG: &str = "--return-after-demo";

/// Label of the one window.
pub const MAIN_WINDOW: &str = "main";

pub fn run() {
    // GTK 3 probes GLX when it opens the display, to choose its visuals:
    // that loads the GL driver (Mesa's, and LLVM with it), about 50 MiB
    // resident in a process that, in the tray, draws a menu. PostFlow's
    // window needs no GL in this process: WebKit renders in its own web
    // process. Measured on Debian 12 (GTK 3.24.38, WebKitGTK 2.50.6): the
    // shot board renders the same with GL off, and the tray-only app is
    // 52 MiB smaller (docs/benchmarks.md). Assumed to hold on other GTK 3
    // desktops; a GDK_GL set by the person (e.g. `GDK_GL=always`) wins.
    #[cfg(target_os = "linux")]
    if std::env::var_os("GDK_GL").is_none() {
        // Before any thread is started.
        std::env::set_var("GDK_GL", "disable");
    }
    let demo_mode = std::env::args().any(|a| a == DEMO_ARG);
    // Before any thread: the demo's service reads the fake Discord's
    // address from the environment.
    let demo_discord_port = if demo_mode {
        match postflow_demo::prepare_discord_port() {
            Ok(port) => Some(port),
            Err(e) => {
                eprintln!("PostFlow cannot start the demo: no free loopback port ({e})");
                std::process::exit(2);
            }
        }
    } else {
        None
    };
    let user_paths = match Paths::resolve(None) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("PostFlow cannot start: {e}");
            std::process::exit(2);
        }
    };
    let mut log_options = postflow_logging::LogOptions::new("postflow-app");
    log_options.dir = Some(user_paths.log_dir.clone());
    let _log = postflow_logging::init(log_options);

    if let Err(e) = postflow_settings::write_default_if_missing(&user_paths.config_file) {
        tracing::warn!("cannot create the settings file: {e}");
    }
    let user_settings = postflow_settings::load(&user_paths.config_file);
    let demo = demo_discord_port.map(|port| start_demo(port, &user_settings.settings));
    let paths = demo
        .as_ref()
        .map_or_else(|| user_paths.clone(), |d| d.paths.clone());
    let loaded = if demo.is_some() {
        postflow_settings::load(&paths.config_file)
    } else {
        user_settings
    };
    for problem in loaded.all_problems() {
        tracing::warn!("settings: {problem}");
    }
    tracing::info!(config = %paths.config_file.display(), "PostFlow starting");

    let background = std::env::args().any(|a| a == BACKGROUND_ARG);
    let start_minimized = (loaded.settings.ui.start_minimized || background) && demo.is_none();
    let start_at_login = loaded.settings.ui.start_at_login;
    // The service runs here once the settings are complete and Frame.io is
    // signed in (until then the window shows what is missing). When
    // `postflow run` already holds the queue's service lock, the API steers
    // that service through the queue database instead.
    let api = tauri::async_runtime::block_on(Api::open(ApiOptions {
        paths: paths.clone(),
        secrets: demo.as_ref().map_or_else(
            || std::sync::Arc::new(postflow_secrets::SecretStore::open()),
            |d| d.secrets.clone(),
        ),
        host: true,
        demo: demo.is_some(),
    }));
    let api = match api {
        Ok(api) => api,
        Err(e) => {
            tracing::error!("PostFlow cannot open its queue: {}", e.message);
            eprintln!("PostFlow cannot start: {}", e.message);
            std::process::exit(2);
        }
    };
    if let Some(demo) = &demo {
        let demo = demo.clone();
        tauri::async_runtime::spawn(async move { demo.play().await });
    }
    let return_after_demo = demo_mode && std::env::args().any(|a| a == DEMO_RETURN_ARG);
    let state = AppState {
        api,
        demo,
        recent: std::sync::Mutex::new(Vec::new()),
    };

    let mut builder = tauri::Builder::default();
    if !demo_mode {
        // First: a second launch only brings this one's window forward.
        // (The demo is a PostFlow of its own, started as this one quits.)
        builder = builder.plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            tracing::info!(?args, "PostFlow was launched again: showing the window");
            if let Err(e) = show_main_window(app, None) {
                tracing::warn!("cannot show the window: {e}");
            }
        }));
    }
    let app = builder
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![BACKGROUND_ARG]),
        ))
        .manage(state)
        .invoke_handler(commands::handler())
        .setup(move |app| {
            if !demo_mode {
                apply_autostart(app.handle(), start_at_login);
            }
            tray::create(app.handle())?;
            forward_events(app.handle());
            notices::start(app.handle());
            let no_tray = tray::host_missing();
            if no_tray {
                // Said once per start: the log, a notification, and the
                // window (a PostFlow in the tray only would be invisible).
                tracing::warn!("no tray host on this desktop (neither a StatusNotifierWatcher on the session bus nor an X11 system tray): PostFlow keeps working; its window and notifications tell");
                notices::show_once(app.handle(), tray::no_tray_notice(&app.state::<AppState>().api));
            }
            if !start_minimized || no_tray {
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

    app.run(move |_app, event| match event {
        // Keep running in the tray when no window is open; Quit exits with a code.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        // Quitting the demo brings the user's PostFlow back.
        RunEvent::Exit if return_after_demo => {
            if let Ok(exe) = std::env::current_exe() {
                if let Err(e) = std::process::Command::new(exe).spawn() {
                    tracing::warn!("cannot start PostFlow again after the demo: {e}");
                }
            }
        }
        _ => {}
    });
}

/// The demo world, in the user's language, or exit with why not.
fn start_demo(
    discord_port: u16,
    user: &postflow_settings::Settings,
) -> std::sync::Arc<postflow_demo::Demo> {
    let options = postflow_demo::DemoOptions {
        language: user.ui.language,
        ..postflow_demo::DemoOptions::default()
    };
    match tauri::async_runtime::block_on(postflow_demo::Demo::start(options, discord_port)) {
        Ok(demo) => {
            tracing::info!(dir = %demo.info.dir, "PostFlow demo: the built-in Frame.io emulator and sample renders");
            std::sync::Arc::new(demo)
        }
        Err(e) => {
            tracing::error!("PostFlow cannot start the demo: {e}");
            eprintln!("PostFlow cannot start the demo: {e}");
            std::process::exit(2);
        }
    }
}

/// The folder picker's title, in the window's language.
pub fn pick_folder_title(api: &Api) -> &'static str {
    match api.settings().ui.language {
        postflow_settings::Language::Fr => "Choisir le dossier BY_SHOT",
        _ => "Choose the BY_SHOT folder",
    }
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
    let demo = app.state::<AppState>().demo.is_some();
    WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::App(page.into()))
        .title(if demo { "PostFlow (demo)" } else { "PostFlow" })
        .inner_size(760.0, 540.0)
        .min_inner_size(520.0, 360.0)
        .build()?;
    tracing::info!("PostFlow window opened");
    Ok(())
}

/// Core events go to the web UI as they happen; new settings also set the
/// login item (`ui.start_at_login`, saved in the window) at once.
fn forward_events<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let mut events = app.state::<AppState>().api.subscribe();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        while let Some(event) = events.next().await {
            let _ = app.emit(EVENT_CHANNEL, &event);
            let state = app.state::<AppState>();
            if matches!(event, postflow_core::Event::SettingsChanged) && state.demo.is_none() {
                apply_autostart(&app, state.api.settings().ui.start_at_login);
            }
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
