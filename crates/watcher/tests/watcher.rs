//! The watcher task end to end, on real files in temporary folders. Windows
//! are short (hundreds of milliseconds) and time assertions have generous
//! margins: these prove behaviour, not speed.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{append, is_candidate, is_ready, mentions, write, Events};
use postflow_nomenclature::Nomenclature;
use postflow_watcher::{Observation, WatchEvent, Watcher, WatcherConfig};

const SECOND: Duration = Duration::from_secs(1);
const LONG: Duration = Duration::from_secs(60);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn config(root: &Path, rescan: Duration, window: Duration) -> WatcherConfig {
    WatcherConfig {
        rescan_interval: rescan,
        readiness_window: window,
        ..WatcherConfig::new(root)
    }
}

fn start(config: WatcherConfig) -> (postflow_watcher::WatcherHandle, Events) {
    let (handle, rx) = Watcher::spawn(config, Nomenclature::default());
    (handle, Events::new(rx))
}

fn is_scanned(event: &WatchEvent) -> bool {
    matches!(event, WatchEvent::Scanned { .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placeholder_is_a_candidate_but_ready_only_once_filled_and_stable() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let name = "SC01/SC01_A_V001.mov";
    write(root, name, b"");
    let (_handle, mut events) = start(config(root, ms(100), ms(300)));

    let (_, first) = events.until(5 * SECOND, |e| is_candidate(e, name)).await;
    assert!(matches!(
        first,
        WatchEvent::Candidate(Observation { size: 0, .. })
    ));
    events.during(SECOND).await;
    assert_eq!(events.count(|e| is_ready(e, name)), 0, "{:#?}", events.log);

    write(root, name, &[7; 4096]);
    let (_, filled) = events.until(5 * SECOND, |e| is_ready(e, name)).await;
    assert!(matches!(
        filled,
        WatchEvent::Ready(Observation { size: 4096, .. })
    ));
    events.during(SECOND).await;
    assert_eq!(
        events.count(|e| is_ready(e, name)),
        1,
        "ready once: {:#?}",
        events.log
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_growing_file_is_ready_only_after_it_stops_growing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let name = "SC01_GROW_V001.mov";
    let window = ms(400);
    let (_handle, mut events) = start(config(root, ms(100), window));
    events.until(5 * SECOND, is_scanned).await;

    write(root, name, &[1; 1000]);
    let mut last_write = Instant::now();
    // Grows for 1.5 s, longer than the window several times over.
    for _ in 0..15 {
        tokio::time::sleep(ms(100)).await;
        append(root, name, &[1; 1000]);
        last_write = Instant::now();
    }
    let (ready_at, ready) = events.until(5 * SECOND, |e| is_ready(e, name)).await;
    assert!(
        matches!(ready, WatchEvent::Ready(Observation { size: 16_000, .. })),
        "{ready:?}"
    );
    assert!(
        ready_at >= last_write + window,
        "ready {:?} after the last write, window {window:?}",
        ready_at - last_write
    );
    assert!(
        events.count(|e| is_candidate(e, name)) >= 2,
        "growth is reported as new candidates: {:#?}",
        events.log
    );
    events.during(ms(600)).await;
    assert_eq!(events.count(|e| is_ready(e, name)), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_renamed_into_place_is_one_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (_handle, mut events) = start(config(root, ms(100), ms(300)));
    events.until(5 * SECOND, is_scanned).await;

    let temp = "SC01/SC01_A_V001.mov.part";
    let done = "SC01/SC01_A_V001.mov";
    write(root, temp, &[0; 1000]);
    for _ in 0..5 {
        tokio::time::sleep(ms(100)).await;
        append(root, temp, &[0; 1000]);
    }
    fs::rename(root.join(temp), root.join(done)).unwrap();

    events.until(5 * SECOND, |e| is_ready(e, done)).await;
    events.during(ms(600)).await;
    assert_eq!(events.count(|e| mentions(e, temp)), 0, "{:#?}", events.log);
    assert_eq!(
        events.count(|e| is_candidate(e, done)),
        1,
        "{:#?}",
        events.log
    );
    assert_eq!(events.count(|e| is_ready(e, done)), 1);
    assert_eq!(events.count(|e| matches!(e, WatchEvent::Gone { .. })), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_files_folders_and_links_are_never_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "SC01/._SC01_A_V001.mov", b"x");
    write(root, "SC01/.DS_Store", b"x");
    write(root, "SC01/x.wav", b"x");
    write(root, "SC01/Thumbs.db", b"x");
    fs::create_dir_all(root.join("SC01/SC01_A_V001.mov")).unwrap();
    write(root, "elsewhere/SC09_A_V001.mov", b"x");
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        root.join("elsewhere/SC09_A_V001.mov"),
        root.join("SC01/SC01_B_V001.mov"),
    )
    .unwrap();
    write(root, "SC01/RANDOM.mov", b"x");
    let (_handle, mut events) = start(config(root, ms(100), ms(200)));

    events
        .until(5 * SECOND, |e| is_ready(e, "SC01/RANDOM.mov"))
        .await;
    // The same names created while watching (native events) are skipped too.
    write(root, "SC02/._SC02_A_V001.mov", b"x");
    write(root, "SC02/.DS_Store", b"x");
    write(root, "SC02/y.wav", b"x");
    fs::create_dir_all(root.join("SC02/SC02_A_V001.mov")).unwrap();
    events.during(SECOND).await;

    let candidates: Vec<&str> = events
        .log
        .iter()
        .filter_map(|(_, e)| match e {
            WatchEvent::Candidate(o) => Some(o.rel_path.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(candidates, ["SC01/RANDOM.mov", "elsewhere/SC09_A_V001.mov"]);
    assert_eq!(
        events.count(|e| matches!(e, WatchEvent::Unreadable { .. } | WatchEvent::Gone { .. })),
        0,
        "{:#?}",
        events.log
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_root_is_one_state_change_and_forgets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("BY_SHOT");
    let away = dir.path().join("unmounted");
    let kept = "SC01/SC01_A_V001.mov";
    write(&root, kept, b"render");
    let (_handle, mut events) = start(config(&root, ms(100), ms(200)));
    let (_, first) = events.until(5 * SECOND, |_| true).await;
    assert_eq!(first, WatchEvent::RootOnline);
    events.until(5 * SECOND, |e| is_ready(e, kept)).await;

    // Unmounted: the folder vanishes with everything in it.
    fs::rename(&root, &away).unwrap();
    events
        .until(5 * SECOND, |e| matches!(e, WatchEvent::RootOffline { .. }))
        .await;
    events.during(SECOND).await; // about ten rescans
    assert_eq!(
        events.count(|e| matches!(e, WatchEvent::RootOffline { .. })),
        1,
        "{:#?}",
        events.log
    );
    assert_eq!(events.count(|e| matches!(e, WatchEvent::Gone { .. })), 0);

    // Mounted again: scanning resumes; the unchanged file is not news.
    fs::rename(&away, &root).unwrap();
    let (back, _) = events
        .until(5 * SECOND, |e| *e == WatchEvent::RootOnline)
        .await;
    write(&root, "SC01/SC01_B_V001.mov", b"new");
    events
        .until(5 * SECOND, |e| is_ready(e, "SC01/SC01_B_V001.mov"))
        .await;
    assert!(
        events.since(back).iter().all(|e| !mentions(e, kept)),
        "{:#?}",
        events.log
    );

    // Removed for good, then re-created with other content: once the root
    // is back, the scan's absences are the truth again. The root vanishes at
    // once, as an unmount does (`remove_dir_all` alone would delete the
    // files first, and a rescan in between rightly reports them gone).
    let trash = dir.path().join("trash");
    fs::rename(&root, &trash).unwrap();
    fs::remove_dir_all(&trash).unwrap();
    events
        .until(5 * SECOND, |e| matches!(e, WatchEvent::RootOffline { .. }))
        .await;
    events.during(ms(500)).await;
    assert_eq!(
        events.count(|e| matches!(e, WatchEvent::RootOffline { .. })),
        2
    );
    write(&root, "SC02/SC02_A_V001.mov", b"other");
    events
        .until(
            5 * SECOND,
            |e| matches!(e, WatchEvent::Gone { rel_path } if rel_path == kept),
        )
        .await;
    assert_eq!(events.count(|e| *e == WatchEvent::RootOnline), 3);
    assert_eq!(events.count(|e| is_candidate(e, "SC02/SC02_A_V001.mov")), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_events_show_changes_before_the_next_rescan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (_handle, mut events) = start(config(root, LONG, LONG));
    events.until(5 * SECOND, is_scanned).await;

    let name = "SC05/SC05_A_V001.mov";
    let written = Instant::now();
    write(root, name, b"fresh");
    let (seen, _) = events.until(5 * SECOND, |e| is_candidate(e, name)).await;
    assert!(
        seen - written < 3 * SECOND,
        "seen after {:?}",
        seen - written
    );

    fs::remove_file(root.join(name)).unwrap();
    events
        .until(
            5 * SECOND,
            |e| matches!(e, WatchEvent::Gone { rel_path } if rel_path == name),
        )
        .await;
    assert_eq!(events.count(is_scanned), 1, "no periodic rescan happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_follows_the_end_of_the_window_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let window = ms(300);
    let (_handle, mut events) = start(config(root, LONG, window));
    events.until(5 * SECOND, is_scanned).await;

    // Two files, finished 400 ms apart: each has its own deadline.
    let names = ["SC01/SC01_A_V001.mov", "SC01/SC01_B_V001.mov"];
    let mut finished = Vec::new();
    for name in names {
        write(root, name, &[3; 10_000]);
        finished.push(Instant::now());
        tokio::time::sleep(ms(400)).await;
    }
    for (name, done) in names.iter().zip(finished) {
        let (at, _) = events.until(5 * SECOND, |e| is_ready(e, name)).await;
        let after = at - done;
        assert!(
            after >= window,
            "{name}: ready {after:?} after its last write"
        );
        assert!(
            after < window + ms(1500),
            "{name}: ready {after:?} after its last write, window {window:?}"
        );
    }
    assert_eq!(events.count(is_scanned), 1, "no periodic rescan happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_native_events_readiness_is_checked_when_the_window_ends() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let window = ms(300);
    let rescan = ms(1500);
    let (_handle, mut events) = start(WatcherConfig {
        native_events: false,
        ..config(root, rescan, window)
    });
    events.until(5 * SECOND, is_scanned).await;
    write(root, "SC01_A_V001.mov", b"from another workstation");
    let (seen, _) = events
        .until(5 * SECOND, |e| is_candidate(e, "SC01_A_V001.mov"))
        .await;
    let (ready, _) = events
        .until(5 * SECOND, |e| is_ready(e, "SC01_A_V001.mov"))
        .await;
    assert!(ready - seen >= window);
    assert!(
        ready - seen < window + SECOND,
        "ready {:?} after it was found; the next rescan was {rescan:?} away",
        ready - seen
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescan_now_and_stop() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (handle, mut events) = start(WatcherConfig {
        native_events: false,
        ..config(root, LONG, LONG)
    });
    events.until(5 * SECOND, is_scanned).await;
    write(root, "SC01_A_V001.mov", b"x");
    handle.rescan_now();
    events
        .until(5 * SECOND, |e| is_candidate(e, "SC01_A_V001.mov"))
        .await;
    assert!(handle.is_running());
    handle.stop().await;
    events.closed(5 * SECOND).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_handle_stops_the_watcher() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut events) = start(config(dir.path(), ms(50), LONG));
    events.until(5 * SECOND, is_scanned).await;
    drop(handle);
    events.closed(5 * SECOND).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settled_files_are_not_reported_again_unless_they_changed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "done.mov", b"uploaded before the restart");
    write(root, "edited.mov", b"uploaded, then re-rendered");
    let first = postflow_watcher::scan(root, &Nomenclature::default()).unwrap();
    write(root, "edited.mov", b"the new render, longer than before");
    let deleted = Observation {
        rel_path: "deleted.mov".into(),
        size: 1,
        mtime_ns: 1,
    };
    let (_handle, rx) = Watcher::new(config(root, ms(100), ms(200)), Nomenclature::default())
        .settled(first.files.into_iter().chain([deleted]))
        .start();
    let mut events = Events::new(rx);
    events
        .until(5 * SECOND, |e| is_ready(e, "edited.mov"))
        .await;
    events.during(ms(500)).await;
    assert_eq!(
        events.count(|e| mentions(e, "done.mov")),
        0,
        "{:#?}",
        events.log
    );
    assert_eq!(
        events.count(|e| matches!(e, WatchEvent::Gone { rel_path } if rel_path == "deleted.mov")),
        1
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_folder_is_reported_once() {
    let scratch = tempfile::tempdir().unwrap();
    if common::permissions_are_bypassed(scratch.path()) {
        common::rerun_unprivileged("unreadable_folder_is_reported_once");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let root = scratch.path().join("BY_SHOT");
    write(&root, "SC01/SC01_A_V001.mov", b"x");
    write(&root, "SC02/SC02_A_V001.mov", b"x");
    let locked = root.join("SC02");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let (_handle, mut events) = start(config(&root, ms(100), ms(200)));

    events
        .until(5 * SECOND, |e| is_ready(e, "SC01/SC01_A_V001.mov"))
        .await;
    events.during(SECOND).await; // about ten rescans
    let unreadable =
        |e: &WatchEvent| matches!(e, WatchEvent::Unreadable { rel_path, .. } if rel_path == "SC02");
    let reported = events.count(unreadable);
    let stray = events.count(|e| mentions(e, "SC02/SC02_A_V001.mov"));

    // Readable again: its file is found.
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(reported, 1, "{:#?}", events.log);
    assert_eq!(
        stray, 0,
        "unknown, neither found nor gone: {:#?}",
        events.log
    );
    events
        .until(5 * SECOND, |e| is_candidate(e, "SC02/SC02_A_V001.mov"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescans_stat_ready_files_in_turn_yet_see_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let names: Vec<String> = (0..24)
        .map(|i| format!("SC01/SC01_S{i:02}_V001.mov"))
        .collect();
    for name in &names {
        write(root, name, b"a finished render");
    }
    let every = 4;
    let (_handle, mut events) = start(WatcherConfig {
        native_events: false,
        verify_ready_every: every,
        ..config(root, ms(50), ms(100))
    });
    for name in &names {
        events.until(5 * SECOND, |e| is_ready(e, name)).await;
    }
    let scans_since = |events: &Events, since: Instant| {
        events
            .since(since)
            .into_iter()
            .filter_map(|e| match e {
                WatchEvent::Scanned { files, checked, .. } => Some((*files, *checked)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };

    // Idle: each rescan lists all 24 but stats only about a quarter.
    let idle = Instant::now();
    events.during(ms(800)).await;
    let scans = scans_since(&events, idle);
    assert!(scans.len() >= 2 * every as usize, "{scans:?}");
    assert!(scans.iter().all(|(files, _)| *files == 24), "{scans:?}");
    let checked: usize = scans.iter().map(|(_, c)| c).sum();
    assert!(
        checked * 2 < scans.len() * 24,
        "rescans stat'ed {checked} files in {} scans of 24",
        scans.len()
    );

    // Rewritten in place (same inode): seen within `every` rescans.
    let edited = &names[3];
    let at = Instant::now();
    fs::write(root.join(edited), b"re-rendered in place, a little longer").unwrap();
    events.until(5 * SECOND, |e| is_candidate(e, edited)).await;
    let waited = scans_since(&events, at).len();
    assert!(waited <= every as usize + 1, "seen after {waited} rescans");

    // Replaced by a rename (another inode): seen at the next rescan.
    let replaced = &names[7];
    let tmp = root.join("SC01/render.tmp");
    fs::write(&tmp, b"a new render written under a temp name").unwrap();
    let at = Instant::now();
    fs::rename(&tmp, root.join(replaced)).unwrap();
    events
        .until(5 * SECOND, |e| is_candidate(e, replaced))
        .await;
    let waited = scans_since(&events, at).len();
    assert!(waited <= 2, "seen after {waited} rescans");

    // New and deleted files: at the next rescan.
    let at = Instant::now();
    write(root, "SC01/SC01_NEW_V001.mov", b"new");
    fs::remove_file(root.join(&names[11])).unwrap();
    events
        .until(5 * SECOND, |e| is_candidate(e, "SC01/SC01_NEW_V001.mov"))
        .await;
    events
        .until(
            5 * SECOND,
            |e| matches!(e, WatchEvent::Gone { rel_path } if *rel_path == names[11]),
        )
        .await;
    assert!(scans_since(&events, at).len() <= 2);
}
