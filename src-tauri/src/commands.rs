//! The IPC command the web UI calls: one adapter over the PostFlow API's
//! command list (the HTTP transport serves the same list). Generic over the
//! runtime so it is tested with Tauri's mock runtime, without a display.

use postflow_core::ApiError;
use tauri::{AppHandle, Runtime, State};

use crate::AppState;

/// The event name core events are emitted under, to the web UI.
pub const EVENT_CHANNEL: &str = "postflow://event";

/// Every command the window may call: the API's list (`api`) and what
/// only the desktop can do. `build.rs` names the same four, and the
/// window's capability allows exactly these (no plugin permission).
pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![api, pick_folder, open_url, try_demo]
}

/// `invoke("api", {command, args})`: any command of `postflow_api::COMMANDS`.
#[tauri::command]
pub async fn api(
    command: String,
    args: serde_json::Value,
    state: State<'_, AppState>,
) -> Result<Box<serde_json::value::RawValue>, ApiError> {
    state.api.dispatch(&command, args).await
}

/// The native folder picker, from Rust (the webview has no dialog
/// permission): the chosen folder, or `None` when the person cancels.
#[tauri::command]
pub async fn pick_folder<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Option<String>, ApiError> {
    use tauri_plugin_dialog::DialogExt;
    let current = state.api.settings().watch.root;
    let (sender, chosen) = tokio::sync::oneshot::channel();
    let mut dialog = app
        .dialog()
        .file()
        .set_title(crate::pick_folder_title(&state.api));
    // Open where the person is: the folder already set, else their home.
    // With no folder given, GTK opens on "Recent", where a folder cannot be
    // chosen until the person navigates away.
    use tauri::Manager;
    let start = Some(current)
        .filter(|c| c.is_dir())
        .or_else(|| app.path().home_dir().ok().filter(|h| h.is_dir()));
    if let Some(start) = start {
        dialog = dialog.set_directory(start);
    }
    dialog.pick_folder(move |folder| {
        let _ = sender.send(folder);
    });
    let folder = chosen.await.ok().flatten();
    match folder.map(|f| f.into_path()) {
        None => Ok(None),
        Some(Ok(path)) => Ok(Some(path.display().to_string())),
        Some(Err(e)) => Err(ApiError::invalid(
            format!("the folder chosen cannot be used: {e}"),
            "choose a folder on a local disk or the mounted filespace, or type its path",
        )),
    }
}

/// Opens a web link (a Frame.io page, the sign-in) in the system browser,
/// from Rust: the webview has no opener permission.
#[tauri::command]
pub fn open_url<R: Runtime>(app: AppHandle<R>, url: String) -> Result<(), ApiError> {
    crate::open_url(&app, &url).map_err(|e| {
        ApiError::invalid(
            format!("cannot open {url}: {e}"),
            "copy the link into your browser",
        )
    })
}

/// "Try the demo": PostFlow starts again on the built-in Frame.io emulator
/// and sample renders, with settings and secrets of its own; quitting the
/// demo brings this PostFlow back.
#[tauri::command]
pub fn try_demo<R: Runtime>(app: AppHandle<R>) -> Result<(), ApiError> {
    let exe = std::env::current_exe().map_err(|e| {
        ApiError::new(
            postflow_core::Disposition::Transient,
            format!("cannot find PostFlow's program to start the demo: {e}"),
        )
    })?;
    std::process::Command::new(exe)
        .args([crate::DEMO_ARG, crate::DEMO_RETURN_ARG])
        .spawn()
        .map_err(|e| {
            ApiError::new(
                postflow_core::Disposition::Transient,
                format!("cannot start the demo: {e}"),
            )
        })?;
    tracing::info!("the demo starts in its own PostFlow; this one quits");
    app.exit(0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
    use tauri::webview::InvokeRequest;
    use tauri::WebviewWindowBuilder;

    use super::*;

    struct Rig {
        _dir: tempfile::TempDir,
        app: tauri::App<tauri::test::MockRuntime>,
        api: postflow_api::Api,
    }

    fn rig(settings: &str) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("settings.toml");
        std::fs::write(&config, settings).unwrap();
        let paths = postflow_settings::Paths {
            config_file: config,
            data_dir: dir.path().join("data"),
            log_dir: dir.path().join("logs"),
        };
        let api =
            tauri::async_runtime::block_on(postflow_api::Api::open(postflow_api::ApiOptions {
                paths,
                secrets: std::sync::Arc::new(postflow_secrets::SecretStore::environment_only(
                    "tests",
                    |_| None,
                )),
                host: false,
                demo: false,
            }))
            .unwrap();
        let app = mock_builder()
            .manage(AppState {
                api: api.clone(),
                demo: None,
                recent: Default::default(),
            })
            .invoke_handler(handler())
            .build(mock_context(noop_assets()))
            .expect("mock app builds");
        Rig {
            _dir: dir,
            app,
            api,
        }
    }

    fn invoke(
        window: &tauri::WebviewWindow<tauri::test::MockRuntime>,
        command: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        get_ipc_response(
            window,
            InvokeRequest {
                cmd: "api".into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                // The app's own origin, as Tauri checks it for app commands.
                url: if cfg!(windows) {
                    "http://tauri.localhost"
                } else {
                    "tauri://localhost"
                }
                .parse()
                .unwrap(),
                body: tauri::ipc::InvokeBody::Json(
                    serde_json::json!({"command": command, "args": args}),
                ),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize().expect("JSON answer"))
    }

    #[test]
    fn pause_through_ipc_is_durable_and_seen_by_every_process() {
        let rig = rig("");
        let window = WebviewWindowBuilder::new(&rig.app, "main", Default::default())
            .build()
            .unwrap();
        let paused = invoke(&window, "pause", serde_json::Value::Null).unwrap();
        assert_eq!(paused["run_state"], "paused");
        assert_eq!(rig.api.control().state(), postflow_core::RunState::Paused);
        // The flag is in the queue database: another process sees it.
        let queue =
            postflow_queue::Queue::open(&postflow_service::queue_path(rig.api.paths())).unwrap();
        assert_eq!(queue.state("paused").unwrap().as_deref(), Some("true"));
        let resumed = invoke(&window, "resume", serde_json::Value::Null).unwrap();
        assert_eq!(resumed["run_state"], "running");
    }

    #[test]
    fn settings_carry_every_problem_and_errors_say_what_to_do() {
        let rig = rig("[transfers]\nparallel_parts = 0\n[ui]\ncolour = 1\n");
        let window = WebviewWindowBuilder::new(&rig.app, "main", Default::default())
            .build()
            .unwrap();
        let view = invoke(&window, "settings_view", serde_json::Value::Null).unwrap();
        let keys: Vec<&str> = view["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["key"].as_str().unwrap())
            .collect();
        for key in ["ui.colour", "transfers.parallel_parts", "watch.root"] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
        let error = invoke(&window, "retry", serde_json::json!({"id": 999})).unwrap_err();
        assert_eq!(error["disposition"], "permanent");
        assert!(error["fix"].is_string(), "{error}");
        let unknown = invoke(&window, "format_disk", serde_json::Value::Null).unwrap_err();
        assert!(unknown["message"].as_str().unwrap().contains("no command"));
    }
}
