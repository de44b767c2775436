//! `scan` and `Scanner` on real trees: what counts as a candidate, what is
//! unreadable, and when the root is unavailable.

mod common;

use std::fs;
use std::path::Path;

use common::write;
use postflow_nomenclature::Nomenclature;
use postflow_watcher::{scan, Coverage, Observation, ScanError, ScanOptions, Scanner};

fn paths(files: &[Observation]) -> Vec<&str> {
    files.iter().map(|o| o.rel_path.as_str()).collect()
}

/// A tree with one of everything the scan must skip, and three candidates.
fn mixed_tree(root: &Path) {
    write(root, "SC01/SC01_A_V001.mov", b"render");
    write(root, "SC01/RANDOM.mov", b"?"); // unrecognized: still a candidate
    write(root, "SC01/._SC01_A_V001.mov", b"appledouble");
    write(root, "SC01/.DS_Store", b"x");
    write(root, "SC01/x.wav", b"audio");
    write(root, "SC01/Thumbs.db", b"x");
    write(root, "SC01/~lock.mov", b"x");
    write(root, "SC01/SC01_B_V001.mov.part", b"half a render");
    // A directory with a candidate's name is no file (its content is).
    write(root, "SC02/SC01_A_V002.mov/inner.txt", b"x");
    write(root, "SC02/SC01_A_V002.mov/SC01_C_V001.mov", b"nested");
    // Trash and other hidden folders are never looked into.
    write(root, ".Trashes/501/SC01_A_V000.mov", b"deleted");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            root.join("SC01/SC01_A_V001.mov"),
            root.join("SC01/SC01_LINK_V001.mov"),
        )
        .unwrap();
        std::os::unix::fs::symlink(root.join("SC01"), root.join("SC03")).unwrap();
    }
}

#[test]
fn only_regular_files_with_candidate_names_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    mixed_tree(root);

    let scan = scan(root, &Nomenclature::default()).unwrap();
    assert_eq!(
        paths(&scan.files),
        [
            "SC01/RANDOM.mov",
            "SC01/SC01_A_V001.mov",
            "SC02/SC01_A_V002.mov/SC01_C_V001.mov",
        ]
    );
    assert!(scan.unreadable.is_empty(), "{:?}", scan.unreadable);
    assert_eq!(scan.coverage, Coverage::Root);

    let render = &scan.files[1];
    let meta = fs::metadata(root.join("SC01/SC01_A_V001.mov")).unwrap();
    assert_eq!(render.size, 6);
    assert_eq!(render.mtime(), meta.modified().unwrap());
    assert_eq!(render.file_name(), "SC01_A_V001.mov");
    assert_eq!(render.path_in(root), root.join("SC01/SC01_A_V001.mov"));
}

#[test]
fn a_scanner_remembers_names_and_agrees_with_a_one_off_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    mixed_tree(root);
    for threads in [1, 2, 8] {
        let scanner = Scanner::new(
            Nomenclature::default(),
            ScanOptions {
                threads,
                ..ScanOptions::default()
            },
        );
        let first = scanner.scan(root).unwrap();
        let again = scanner.scan(root).unwrap();
        let one_off = scan(root, &Nomenclature::default()).unwrap();
        for other in [&again, &one_off] {
            assert_eq!(first.files, other.files, "{threads} threads");
            assert_eq!(first.unreadable, other.unreadable);
            assert_eq!(first.coverage, other.coverage);
        }
    }
}

#[test]
fn hidden_folders_can_be_included() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".renders/SC01_A_V001.mov", b"x");
    let scanner = Scanner::new(
        Nomenclature::default(),
        ScanOptions {
            skip_hidden_dirs: false,
            ..ScanOptions::default()
        },
    );
    assert_eq!(
        paths(&scanner.scan(dir.path()).unwrap().files),
        [".renders/SC01_A_V001.mov"]
    );
}

#[test]
fn names_keep_their_bytes_no_normalisation() {
    let dir = tempfile::tempdir().unwrap();
    // Decomposed (NFD, as macOS writes it) and composed (NFC) "é".
    let nfd = "SC01_AME\u{301}LIE_V001.mov";
    let nfc = "SC01_AM\u{c9}LIE_V002.mov";
    write(dir.path(), nfd, b"x");
    write(dir.path(), nfc, b"x");
    let scan = scan(dir.path(), &Nomenclature::default()).unwrap();
    let mut expected = vec![nfd, nfc];
    expected.sort();
    assert_eq!(paths(&scan.files), expected);
}

#[cfg(target_os = "linux")]
#[test]
fn a_name_that_is_not_utf8_is_reported_when_it_looks_like_a_candidate() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join(OsStr::from_bytes(b"SC01_\xff_V001.mov")), b"x").unwrap();
    fs::write(root.join(OsStr::from_bytes(b"._\xff.mov")), b"x").unwrap();
    fs::write(root.join(OsStr::from_bytes(b"notes_\xff.txt")), b"x").unwrap();
    write(root, "SC01_A_V001.mov", b"x");
    let scan = scan(root, &Nomenclature::default()).unwrap();
    assert_eq!(paths(&scan.files), ["SC01_A_V001.mov"]);
    assert_eq!(scan.unreadable.len(), 1, "{:?}", scan.unreadable);
    assert_eq!(scan.unreadable[0].rel_path, "SC01_\u{fffd}_V001.mov");
    assert!(scan.unreadable[0].reason.contains("UTF-8"));
}

#[test]
fn a_missing_root_or_a_file_as_root_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("BY_SHOT");
    let Err(ScanError::RootUnavailable { reason }) = scan(&missing, &Nomenclature::default())
    else {
        panic!("a missing root is unavailable")
    };
    assert!(reason.contains("BY_SHOT"), "{reason}");

    write(dir.path(), "file", b"x");
    let Err(ScanError::RootUnavailable { reason }) =
        scan(&dir.path().join("file"), &Nomenclature::default())
    else {
        panic!("a file is no root")
    };
    assert!(reason.contains("not a folder"), "{reason}");
}

#[test]
fn targeted_scans_cover_files_folders_and_vanished_paths() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    mixed_tree(root);
    let scanner = Scanner::new(Nomenclature::default(), ScanOptions::default());
    let targets: Vec<String> = [
        "SC01/SC01_A_V001.mov",
        "SC02",
        "SC01/gone.mov",
        "SC01/x.wav",
        "SC01/SC01_LINK_V001.mov",
        "../escape.mov",
    ]
    .map(String::from)
    .to_vec();
    let scan = scanner.scan_paths(root, &targets).unwrap();
    assert_eq!(
        paths(&scan.files),
        [
            "SC01/SC01_A_V001.mov",
            "SC02/SC01_A_V002.mov/SC01_C_V001.mov"
        ]
    );
    assert!(scan.covers("SC01/gone.mov"));
    assert!(scan.covers("SC02/anything/below.mov"));
    assert!(!scan.covers("SC01/RANDOM.mov"));
    assert!(!scan.covers("../escape.mov"), "unsafe paths are dropped");

    // A hidden folder's file stays invisible even when named directly.
    let hidden = scanner
        .scan_paths(root, &[".Trashes/501/SC01_A_V000.mov".to_string()])
        .unwrap();
    assert!(hidden.files.is_empty());
}

#[cfg(unix)]
#[test]
fn an_unreadable_folder_is_reported_and_the_rest_is_scanned() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    if common::permissions_are_bypassed(root) {
        common::rerun_unprivileged("an_unreadable_folder_is_reported_and_the_rest_is_scanned");
        return;
    }
    write(root, "SC01/SC01_A_V001.mov", b"x");
    write(root, "SC02/SC02_A_V001.mov", b"x");
    let locked = root.join("SC02");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let result = scan(root, &Nomenclature::default());
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
    let scan = result.unwrap();
    assert_eq!(paths(&scan.files), ["SC01/SC01_A_V001.mov"]);
    assert_eq!(scan.unreadable.len(), 1);
    assert_eq!(scan.unreadable[0].rel_path, "SC02");
    assert!(scan.is_unknown("SC02/SC02_A_V001.mov"));
}
