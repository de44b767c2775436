//! The API hosting a real service: a real queue database, real files in a
//! temporary BY_SHOT, the Frame.io emulator on loopback.

use std::sync::Arc;
use std::time::Duration;

use postflow_api::{Api, ApiOptions, Filter, ItemQuery, ServiceState};
use postflow_core::{Disposition, RunState, StatusKind};
use postflow_frameio_emulator::{Emulator, EmulatorConfig, RateLimits};
use postflow_nomenclature::PatternSpec;
use postflow_secrets::SecretStore;
use postflow_settings::Paths;

struct Rig {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    emu: Emulator,
    api: Api,
}

async fn rig() -> Rig {
    let emu = Emulator::start(EmulatorConfig {
        part_size: 256 * 1024,
        rate_limits: RateLimits::unlimited(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("BY_SHOT");
    std::fs::create_dir_all(&root).unwrap();
    let config = dir.path().join("settings.toml");
    std::fs::write(
        &config,
        format!(
            "# kept\n[watch]\nroot = {root:?}\nreadiness_window_secs = 1\nrescan_interval_secs = 1\n\
             [frameio]\napi_base_url = \"{base}\"\nims_base_url = \"{base}\"\naccount_id = \"{a}\"\nproject_id = \"{p}\"\n",
            root = root.display().to_string(),
            base = emu.base_url(),
            a = emu.account_id(),
            p = emu.project_id(),
        ),
    )
    .unwrap();
    let token = emu.issue_token();
    let secrets = SecretStore::environment_only("tests", move |var| {
        (var == "POSTFLOW_FRAMEIO_TOKEN").then(|| token.clone())
    });
    let api = Api::open(ApiOptions {
        paths: Paths {
            config_file: config,
            data_dir: dir.path().join("data"),
            log_dir: dir.path().join("logs"),
        },
        secrets: Arc::new(secrets),
        host: true,
        demo: false,
    })
    .await
    .unwrap();
    Rig {
        _dir: dir,
        root,
        emu,
        api,
    }
}

async fn until<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn status_of(api: &Api, name: &str) -> Option<StatusKind> {
    api.items(ItemQuery::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|i| i.file_name == name)
        .map(|i| i.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_name_is_uploaded_once_a_pattern_for_it_is_saved() {
    let rig = rig().await;
    let name = "MAGASIN-0042-v7.mov";
    std::fs::write(rig.root.join(name), vec![5u8; 70_000]).unwrap();
    until("the name held", async || {
        (status_of(&rig.api, name).await == Some(StatusKind::Held)).then_some(())
    })
    .await;
    let snapshot = rig.api.snapshot().await.unwrap();
    assert!(
        matches!(snapshot.state, ServiceState::Attention { held: 1, .. }),
        "{:?}",
        snapshot.state
    );

    // The tester, with the pattern not saved yet, says how it reads.
    let mut settings = rig.api.settings();
    settings.nomenclature.patterns.push(PatternSpec {
        name: "magasin".into(),
        regex: "^(?P<scene>[A-Z]+)-(?P<shot>[0-9]+)-V(?P<version>[0-9]+)$".into(),
    });
    let tested = rig
        .api
        .test_names(vec![name.into()], Some(settings.clone()), true)
        .await
        .unwrap();
    assert_eq!(tested.names[0].scene.as_deref(), Some("MAGASIN"));
    assert_eq!(tested.names[0].version.as_deref(), Some("V007"));
    assert_eq!(
        tested.folder.len(),
        1,
        "the file now in BY_SHOT is tested too"
    );
    let before = rig
        .api
        .test_names(vec![name.into()], None, false)
        .await
        .unwrap();
    assert!(
        before.names[0].reason.is_some(),
        "saved settings still hold it"
    );

    rig.api.save_settings(settings).await.unwrap();
    until("the held name uploaded", async || {
        (status_of(&rig.api, name).await == Some(StatusKind::Done)).then_some(())
    })
    .await;
    assert_eq!(
        rig.emu
            .files_named(&["SCENES", "MAGASIN", "0042"], name)
            .len(),
        1
    );
    let text = std::fs::read_to_string(rig.api.paths().config_file.clone()).unwrap();
    assert!(text.starts_with("# kept"), "comments kept:\n{text}");
    rig.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_refuse_what_cannot_be_done_and_say_why() {
    let rig = rig().await;
    let name = "SC01_UNDLM_00412_V002.mov";
    std::fs::write(rig.root.join(name), vec![3u8; 300_000]).unwrap();
    let id = until("the upload", async || {
        let page = rig.api.items(ItemQuery::default()).await.unwrap();
        page.items
            .into_iter()
            .find(|i| i.file_name == name && i.status == StatusKind::Done)
            .map(|i| i.id)
    })
    .await;
    let done = rig.api.item(id).await.unwrap();
    assert_eq!(
        done.frameio_path.as_deref(),
        Some("SCENES/SC01/UNDLM_00412")
    );
    assert!(done.item.view_url.is_some());
    assert!(done.timeline.len() >= 6, "{:?}", done.timeline);

    let retry = rig.api.retry(id).await.unwrap_err();
    assert_eq!(retry.disposition, Disposition::Permanent);
    assert!(retry
        .message
        .contains("only a failed, held or cancelled item"));
    let cancel = rig.api.cancel(id).await.unwrap_err();
    assert!(cancel.fix.is_some());
    let missing = rig.api.item(987_654).await.unwrap_err();
    assert!(missing.message.contains("not in the queue"));

    // Pause: durable, seen by the snapshot; resume.
    let paused = rig.api.pause().await.unwrap();
    assert_eq!(paused.run_state, RunState::Paused);
    assert!(matches!(paused.state, ServiceState::Paused { until: None }));
    let queue =
        postflow_queue::Queue::open(&postflow_service::queue_path(rig.api.paths())).unwrap();
    assert_eq!(queue.state("paused").unwrap().as_deref(), Some("true"));
    rig.api.resume().await.unwrap();

    // A timed pause: refused in the past; else it ends by itself, written
    // to the queue first like any resume.
    let past = rig.api.pause_until(1).await.unwrap_err();
    assert!(past.message.contains("future"));
    let end = postflow_queue::now_ms() + 1500;
    let timed = rig.api.pause_until(end).await.unwrap();
    assert!(
        matches!(timed.state, ServiceState::Paused { until: Some(u) } if u == end),
        "{:?}",
        timed.state
    );
    assert_eq!(timed.paused_until, Some(end));
    until("the timed pause to end", async || {
        let s = rig.api.snapshot().await.unwrap();
        (s.run_state == RunState::Running && s.paused_until.is_none()).then_some(())
    })
    .await;
    assert_eq!(queue.state("paused").unwrap().as_deref(), Some("false"));
    assert_eq!(rig.api.control().state(), RunState::Running);

    // Filters and search.
    let done_only = rig
        .api
        .items(ItemQuery {
            filter: Filter::Done,
            search: Some("undlm".into()),
            ..ItemQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(done_only.total, 1);
    let none = rig
        .api
        .items(ItemQuery {
            filter: Filter::Attention,
            ..ItemQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(none.total, 0);
    rig.api.shutdown().await;
}

/// Progress reaches the UIs folded per item and per shot, at most about 4
/// times a second however many parts report; the snapshot watch follows
/// the service's state without being asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_folded_at_four_a_second_and_the_snapshot_watch_follows() {
    let rig = rig().await;
    let mut watch = rig.api.watch_snapshot();
    let mut events = rig.api.subscribe();
    // 16 MiB at 40 Mbit/s: about 3 s of parts; the cap is shared.
    let mut settings = rig.api.settings();
    settings.transfers.bandwidth_limit_mbps = 40;
    rig.api.save_settings(settings).await.unwrap();
    let name = "SC07_PROG_0001_V001.mov";
    std::fs::write(rig.root.join(name), vec![9u8; 16 << 20]).unwrap();
    let started = tokio::time::Instant::now();
    let (mut progress, mut shots_seen, mut last_sent) = (0u32, 0usize, 0u64);
    let (mut uploading_seen, mut watch_followed) = (false, false);
    let deadline = started + Duration::from_secs(60);
    let mut first_progress = None;
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("the upload ends in time")
            .unwrap();
        match event {
            postflow_core::Event::Progress { items, shots } => {
                first_progress.get_or_insert_with(tokio::time::Instant::now);
                progress += 1;
                shots_seen += shots.len();
                for i in items {
                    assert!(i.bytes_sent >= last_sent, "progress never goes back");
                    last_sent = i.bytes_sent;
                }
            }
            postflow_core::Event::ItemStatus { status, .. } => {
                if status == StatusKind::Uploading {
                    uploading_seen = true;
                }
                if status == StatusKind::Done {
                    break;
                }
            }
            _ => {}
        }
        watch_followed |= uploading_seen
            && watch
                .borrow_and_update()
                .as_ref()
                .is_some_and(|s| matches!(s.state, ServiceState::Uploading { .. }));
    }
    let span = first_progress
        .expect("progress was reported")
        .elapsed()
        .as_secs_f64();
    assert!(
        progress >= 4,
        "only {progress} progress events over {span:.1} s"
    );
    assert!(
        f64::from(progress) <= span * 4.0 + 2.0,
        "{progress} progress events over {span:.1} s: more than 4 a second"
    );
    assert!(watch_followed, "the snapshot watch showed the upload");
    assert!(shots_seen >= 1, "progress is folded per shot too");
    // And back to watching once done.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if watch
            .borrow_and_update()
            .as_ref()
            .is_some_and(|s| matches!(s.state, ServiceState::Watching))
        {
            break;
        }
        tokio::time::timeout_at(deadline, watch.changed())
            .await
            .expect("the watch says watching again")
            .unwrap();
    }
    rig.api.shutdown().await;
}

/// A filespace not mounted when PostFlow starts is offline, not "not set
/// up": the service starts, says so, and uploads once it is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmounted_filespace_at_start_is_offline_and_waited_out() {
    let rig = rig().await;
    rig.api.shutdown().await;
    std::fs::remove_dir_all(&rig.root).unwrap();
    let api = Api::open(ApiOptions {
        paths: rig.api.paths().clone(),
        secrets: Arc::new(SecretStore::environment_only("tests", {
            let token = rig.emu.issue_token();
            move |var| (var == "POSTFLOW_FRAMEIO_TOKEN").then(|| token.clone())
        })),
        host: true,
        demo: false,
    })
    .await
    .unwrap();
    let offline = until("the filespace offline", async || {
        let s = api.snapshot().await.unwrap();
        matches!(s.state, ServiceState::Offline { .. }).then_some(s)
    })
    .await;
    assert!(
        matches!(
            offline.state,
            ServiceState::Offline {
                what: postflow_api::Offline::Filespace,
                ..
            }
        ),
        "{:?}",
        offline.state
    );
    std::fs::create_dir_all(&rig.root).unwrap();
    std::fs::write(rig.root.join("SC03_BACK_0001_V001.mov"), vec![1u8; 50_000]).unwrap();
    until("the upload once mounted", async || {
        (status_of(&api, "SC03_BACK_0001_V001.mov").await == Some(StatusKind::Done)).then_some(())
    })
    .await;
    api.shutdown().await;
}

/// A 12 MiB render `name` (bytes cycling modulo `modulo`) under a 24
/// Mbit/s cap, once its upload has sent bytes: about 4 s of upload left to
/// change the settings in. Returns its content.
async fn slow_upload_under_way(rig: &Rig, name: &str, modulo: u32) -> Vec<u8> {
    let mut settings = rig.api.settings();
    settings.transfers.bandwidth_limit_mbps = 24;
    rig.api.save_settings(settings).await.unwrap();
    let content: Vec<u8> = (0..12u32 << 20).map(|i| (i % modulo) as u8).collect();
    std::fs::write(rig.root.join(name), &content).unwrap();
    uploading_with_bytes(&rig.api, name).await;
    content
}

/// The item of `name`, once it shows `bytes_sent > 0` while uploading.
async fn uploading_with_bytes(api: &Api, name: &str) {
    until("the upload under way", async || {
        api.items(ItemQuery::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|i| i.file_name == name)
            .filter(|i| i.status == StatusKind::Uploading && i.bytes_sent > 0)
            .map(|_| ())
    })
    .await;
}

/// Switching project in the settings while a render uploads: the render
/// in flight finishes where it began (its placeholder is in the first
/// project), once; what arrives next goes to the new project; nothing is
/// duplicated in either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_switch_during_an_upload_finishes_it_once_and_sends_the_next_to_the_new_project()
{
    let rig = rig().await;
    let first = "SC08_SWAP_0001_V001.mov";
    let content = slow_upload_under_way(&rig, first, 251).await;

    let second_project = rig.emu.add_project("Second Project");
    rig.api
        .use_project(
            rig.emu.account_id(),
            rig.emu.workspace_id(),
            second_project.project_id.clone(),
        )
        .await
        .unwrap();
    assert_eq!(
        rig.api.settings().frameio.project_id,
        second_project.project_id
    );
    assert_eq!(
        status_of(&rig.api, first).await,
        Some(StatusKind::Uploading),
        "the switch (the service restarted on the new settings) came mid-upload"
    );
    // The old project's name is never shown for the new one.
    let shown = rig.api.snapshot().await.unwrap().project.unwrap();
    assert_eq!(shown.id, second_project.project_id);
    assert_ne!(shown.name.as_deref(), Some("Emulated Project"));
    until("the new project's name", async || {
        let name = rig.api.snapshot().await.unwrap().project?.name?;
        (name == "Second Project").then_some(())
    })
    .await;
    until("the render in flight done", async || {
        (status_of(&rig.api, first).await == Some(StatusKind::Done)).then_some(())
    })
    .await;
    let shot = ["SCENES", "SC08", "SWAP_0001"];
    let there = rig.emu.files_named(&shot, first);
    assert_eq!(there.len(), 1, "uploaded once, where it began: {there:?}");
    assert_eq!(
        rig.emu.file(&there[0]).and_then(|f| f.bytes).as_deref(),
        Some(&content[..]),
        "byte for byte"
    );
    assert!(
        rig.emu
            .files_named_in(&second_project.root_folder_id, &shot, first)
            .is_empty(),
        "not uploaded again to the new project"
    );

    let next = "SC08_SWAP_0001_V002.mov";
    std::fs::write(rig.root.join(next), vec![3u8; 300_000]).unwrap();
    until("the next render done", async || {
        (status_of(&rig.api, next).await == Some(StatusKind::Done)).then_some(())
    })
    .await;
    assert_eq!(
        rig.emu
            .files_named_in(&second_project.root_folder_id, &shot, next)
            .len(),
        1,
        "the next render goes to the new project"
    );
    assert!(rig.emu.files_named(&shot, next).is_empty());
    let done = rig.api.items(ItemQuery::default()).await.unwrap().items;
    assert_eq!(done.len(), 2, "two items, nothing recorded twice: {done:?}");
    rig.emu.assert_one_folder_per_name();
    rig.api.shutdown().await;
}

/// Choosing another BY_SHOT while a render uploads: the render in flight
/// is read where it was found and finishes once; renders in the new folder
/// are picked up; nothing is duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_root_change_during_an_upload_finishes_it_once_and_watches_the_new_folder() {
    let rig = rig().await;
    let first = "SC09_MOVE_0001_V001.mov";
    let content = slow_upload_under_way(&rig, first, 241).await;

    let new_root = rig.root.parent().unwrap().join("OTHER_BY_SHOT");
    std::fs::create_dir_all(&new_root).unwrap();
    let mut settings = rig.api.settings();
    settings.watch.root = new_root.clone();
    rig.api.save_settings(settings).await.unwrap();
    assert_eq!(
        rig.api.snapshot().await.unwrap().watch_root,
        new_root.display().to_string()
    );
    assert_eq!(
        status_of(&rig.api, first).await,
        Some(StatusKind::Uploading),
        "the change (the service restarted on the new settings) came mid-upload"
    );
    let detail = rig
        .api
        .item(rig.api.items(ItemQuery::default()).await.unwrap().items[0].id)
        .await
        .unwrap();
    assert_eq!(
        detail.local_path,
        rig.root.join(first).display().to_string(),
        "read from where it was found"
    );
    until("the render in flight done", async || {
        (status_of(&rig.api, first).await == Some(StatusKind::Done)).then_some(())
    })
    .await;
    let shot = ["SCENES", "SC09", "MOVE_0001"];
    let there = rig.emu.files_named(&shot, first);
    assert_eq!(there.len(), 1, "uploaded once: {there:?}");
    assert_eq!(
        rig.emu.file(&there[0]).and_then(|f| f.bytes).as_deref(),
        Some(&content[..])
    );

    let next = "SC09_MOVE_0001_V002.mov";
    std::fs::write(new_root.join(next), vec![4u8; 300_000]).unwrap();
    until("the render in the new folder done", async || {
        (status_of(&rig.api, next).await == Some(StatusKind::Done)).then_some(())
    })
    .await;
    assert_eq!(rig.emu.files_named(&shot, next).len(), 1);
    assert_eq!(rig.emu.files_named(&shot, first).len(), 1);
    let items = rig.api.items(ItemQuery::default()).await.unwrap().items;
    assert_eq!(items.len(), 2, "nothing recorded twice: {items:?}");
    rig.emu.assert_one_folder_per_name();
    rig.api.shutdown().await;
}
