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
    assert!(matches!(paused.state, ServiceState::Paused));
    let queue =
        postflow_queue::Queue::open(&postflow_service::queue_path(rig.api.paths())).unwrap();
    assert_eq!(queue.state("paused").unwrap().as_deref(), Some("true"));
    rig.api.resume().await.unwrap();

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
