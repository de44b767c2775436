//! IPC commands the web UI calls. Generic over the runtime so they are tested
//! with Tauri's mock runtime, without a display.

use postflow_core::RunState;
use postflow_settings::Problem;
use serde::Serialize;
use tauri::{Runtime, State};

use crate::AppState;

/// The event name core events are emitted under, to the web UI.
pub const EVENT_CHANNEL: &str = "postflow://event";

/// What the window shows at a glance.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Status {
    pub version: &'static str,
    pub state: RunState,
    pub settings_file: String,
    pub problems: Vec<Problem>,
}

pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![get_status, pause, resume]
}

#[tauri::command]
pub fn get_status(state: State<'_, AppState>) -> Status {
    let loaded = state.settings.lock().unwrap_or_else(|p| p.into_inner());
    Status {
        version: env!("CARGO_PKG_VERSION"),
        state: state.control.state(),
        settings_file: loaded.source.path().display().to_string(),
        problems: loaded.all_problems(),
    }
}

#[tauri::command]
pub fn pause(state: State<'_, AppState>) -> RunState {
    state.control.pause();
    state.control.state()
}

#[tauri::command]
pub fn resume(state: State<'_, AppState>) -> RunState {
    state.control.resume();
    state.control.state()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use postflow_core::Control;
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
    use tauri::webview::InvokeRequest;
    use tauri::WebviewWindowBuilder;

    use super::*;

    fn app(control: Control, config: &std::path::Path) -> tauri::App<tauri::test::MockRuntime> {
        mock_builder()
            .manage(AppState {
                control,
                settings: Mutex::new(postflow_settings::load_with_env(config, |_| None)),
            })
            .invoke_handler(handler())
            .build(mock_context(noop_assets()))
            .expect("mock app builds")
    }

    fn invoke(
        window: &tauri::WebviewWindow<tauri::test::MockRuntime>,
        cmd: &str,
    ) -> serde_json::Value {
        get_ipc_response(
            window,
            InvokeRequest {
                cmd: cmd.into(),
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
                body: tauri::ipc::InvokeBody::default(),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .expect("command answers")
        .deserialize()
        .expect("JSON answer")
    }

    #[test]
    fn pause_and_resume_drive_the_core_state() {
        let dir = tempfile::tempdir().unwrap();
        let control = Control::default();
        let app = app(control.clone(), &dir.path().join("settings.toml"));
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();

        assert_eq!(invoke(&window, "pause"), serde_json::json!("paused"));
        assert_eq!(control.state(), RunState::Paused);
        assert_eq!(invoke(&window, "get_status")["state"], "paused");
        assert_eq!(invoke(&window, "resume"), serde_json::json!("running"));
        assert_eq!(control.state(), RunState::Running);
    }

    #[test]
    fn status_carries_every_settings_problem() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("settings.toml");
        std::fs::write(
            &config,
            "[transfers]\nparallel_parts = 0\n[ui]\ncolour = 1\n",
        )
        .unwrap();
        let app = app(Control::default(), &config);
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        let status = invoke(&window, "get_status");
        let keys: Vec<&str> = status["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["key"].as_str().unwrap())
            .collect();
        for key in ["ui.colour", "transfers.parallel_parts", "watch.root"] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
        assert_eq!(status["settings_file"], config.display().to_string());
    }
}
