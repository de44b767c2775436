//! The TypeScript bindings the UI compiles against are generated from the
//! Rust view types; this writes them into `ui/src/bindings`. CI runs it,
//! then fails when `git diff --exit-code ui/src/bindings` shows a change
//! (a Rust type changed without the bindings being regenerated and
//! committed) and when `tsc --noEmit` rejects them.

use std::path::PathBuf;

#[test]
fn typescript_bindings_are_written_for_every_view_type_event_and_command() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings");
    // Stale files of types that are gone would linger: start afresh.
    if dir.exists() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "ts") {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
    postflow_api::export_bindings(&dir).unwrap();
    let commands = std::fs::read_to_string(dir.join("commands.ts")).unwrap();
    for name in postflow_api::COMMANDS {
        assert!(
            commands.contains(&format!("  {name}: {{ args:")),
            "{name} is missing from commands.ts"
        );
    }
    for file in [
        "Snapshot.ts",
        "ItemView.ts",
        "Event.ts",
        "ApiError.ts",
        "Settings.ts",
    ] {
        assert!(dir.join(file).exists(), "{file} was not written");
    }
    let item = std::fs::read_to_string(dir.join("ItemView.ts")).unwrap();
    assert!(
        !item.contains("bigint"),
        "64-bit numbers are JSON numbers:\n{item}"
    );
}
