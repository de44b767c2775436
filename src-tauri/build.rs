//! Tauri embeds the web UI from `ui/dist` (built by `scripts/build-ui.sh`,
//! which `scripts/run.sh` runs first). A fresh clone built before the UI
//! gets a page that says how to build it, never a blank window or a
//! cryptic build error.

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>PostFlow: the UI is not built</title>\
<main style=\"font-family:sans-serif;max-width:40em;margin:3em auto\"><h1>PostFlow's window was not built</h1>\
<p>This app was compiled before its web UI. Run <code>./scripts/run.sh</code> (it builds the UI, then the app), \
or <code>./scripts/build-ui.sh</code> and then <code>cargo build</code>.</p></main></html>";

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist");
    if !dist.join("index.html").is_file() {
        println!("cargo:warning=ui/dist is missing: the window will say how to build it (./scripts/build-ui.sh)");
        std::fs::create_dir_all(&dist).expect("ui/dist can be created");
        std::fs::write(dist.join("index.html"), NOT_BUILT)
            .expect("ui/dist/index.html can be written");
    }
    // The window's commands, as permissions (`allow-api`, ...): the
    // capability in capabilities/default.json grants exactly these.
    let manifest =
        tauri_build::AppManifest::new().commands(&["api", "pick_folder", "open_url", "try_demo"]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("the Tauri build step runs");
}
