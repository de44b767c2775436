//! Desktop notifications: the API decides what is worth telling and when
//! (`postflow_api::notify`: batched, once per cause, as the settings say);
//! this shows each notice through the notification plugin and opens the
//! window on the item when the notice is clicked.
//!
//! Assumed (tauri-plugin-notification 2.8 on Linux, read in its source):
//! the notice goes to `org.freedesktop.Notifications.Notify` on the session
//! bus through notify-rust; a click is reported to `on_action` as `tap`
//! only when the server offers a default action (dunst, GNOME and KDE do),
//! and the `extra` map set on the builder comes back with it.

use tauri::Manager;
use tauri_plugin_notification::NotificationExt;

use crate::{show_main_window, AppState};

/// Starts showing the API's notices, for as long as the app runs.
pub fn start<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let on_click = app.clone();
    if let Err(e) = app.notification().on_action(move |action| {
        if action.action_id() != "tap" {
            return;
        }
        let item = action
            .notification()
            .and_then(|n| n.extra().get("item"))
            .and_then(|v| v.as_i64());
        let hash = item.map(|id| format!("#/?item={id}"));
        if let Err(e) = show_main_window(&on_click, hash.as_deref()) {
            tracing::warn!("cannot open the window from a notification: {e}");
        }
    }) {
        tracing::debug!("notification clicks are not reported here: {e}");
    }

    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut notices = app.state::<AppState>().api.desktop_notices();
        while let Some(notice) = notices.recv().await {
            let mut builder = app
                .notification()
                .builder()
                .title(&notice.title)
                .body(&notice.body);
            if let Some(item) = notice.item {
                builder = builder.extra("item", item);
            }
            match builder.show() {
                Ok(()) => tracing::info!(key = %notice.key, "desktop notification shown"),
                // No notification server (a bare session): the window and
                // the tray still tell; nothing is lost.
                Err(e) => tracing::warn!(key = %notice.key, "desktop notification not shown: {e}"),
            }
        }
    });
}

/// Shows one notice now, outside the API's plan (the shell's own news,
/// such as a desktop without a tray).
pub fn show_once<R: tauri::Runtime>(app: &tauri::AppHandle<R>, (title, body): (String, String)) {
    if let Err(e) = app
        .notification()
        .builder()
        .title(&title)
        .body(&body)
        .show()
    {
        tracing::warn!("desktop notification not shown: {e}");
    }
}
