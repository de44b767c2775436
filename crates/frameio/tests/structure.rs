//! Folders, pagination, remote duplicates and version stacks.

mod support;

use postflow_frameio::{MemoryFolderCache, NoObserver};
use postflow_frameio_emulator::AssetKind;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_callers_create_each_folder_exactly_once() {
    let emu = emulator(MIB).await;
    let client = client(&emu);
    let cache = MemoryFolderCache::default();
    let root = emu.root_folder_id();
    let calls =
        (0..8).map(|_| client.ensure_path(&cache, &root, &["SCENES", "SC01", "UNDLM_00412"]));
    let ids = futures::future::join_all(calls).await;
    let ids: Vec<String> = ids.into_iter().map(Result::unwrap).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_eq!(emu.stats().folders_created, 3);
    assert_eq!(
        emu.find_path(&["SCENES", "SC01", "UNDLM_00412"]),
        Some(ids[0].clone())
    );

    // Cached: no request at all the second time.
    let before = emu.stats().folders_created;
    assert_eq!(
        client
            .ensure_path(&cache, &root, &["SCENES", "SC01", "UNDLM_00412"])
            .await
            .unwrap(),
        ids[0]
    );
    assert_eq!(emu.stats().folders_created, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_folders_are_reused_case_insensitively() {
    let emu = emulator(MIB).await;
    let client = client(&emu);
    let root = emu.root_folder_id();
    let scenes = emu.create_folder(&root, "Scenes");
    let sc01 = emu.create_folder(&scenes, "sc01");
    let id = client
        .ensure_path(
            &MemoryFolderCache::default(),
            &root,
            &["SCENES", "SC01", "S01"],
        )
        .await
        .unwrap();
    assert_eq!(
        emu.stats().folders_created,
        1,
        "only the shot folder was new"
    );
    let shot = emu.folder_children(&sc01);
    assert_eq!(
        (shot.len(), shot[0].id.as_str(), shot[0].name.as_str()),
        (1, id.as_str(), "S01")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_folder_that_was_deleted_is_looked_up_again() {
    let emu = emulator(MIB).await;
    let client = client(&emu);
    let root = emu.root_folder_id();
    let cache = MemoryFolderCache::default();
    let first = client
        .ensure_path(&cache, &root, &["SCENES", "SC09"])
        .await
        .unwrap();
    // Someone deleted SC09 by hand: the cache entry is stale.
    cache_entry_points_to_a_missing_folder(&cache, &root);
    let again = client
        .ensure_path(&cache, &root, &["SCENES", "SC09", "S01"])
        .await
        .unwrap();
    assert_ne!(again, first);
    assert!(emu.find_path(&["SCENES", "SC09", "S01"]).is_some());
}

fn cache_entry_points_to_a_missing_folder(cache: &MemoryFolderCache, root: &str) {
    use postflow_frameio::FolderCache;
    cache.put(
        &format!("{root}/scenes/sc09"),
        "00000000-0000-4000-8000-00000000dead",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_follows_pagination_over_1200_children() {
    let emu = emulator(MIB).await;
    let client = client(&emu);
    let root = emu.root_folder_id();
    let big = emu.create_folder(&root, "BIG");
    for i in 0..1200 {
        emu.create_folder(&big, &format!("F{i:04}"));
    }
    let folders = client.child_folders(&big).await.unwrap();
    assert_eq!(folders.len(), 1200);
    let mut names: Vec<&str> = folders.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 1200, "each child exactly once");
    // And the last one is found by name.
    let id = client
        .ensure_path(&MemoryFolderCache::default(), &root, &["BIG", "F1199"])
        .await
        .unwrap();
    assert_eq!(
        emu.folder_children(&big)
            .iter()
            .filter(|a| a.name == "F1199")
            .count(),
        1
    );
    assert!(!id.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_version_ends_in_one_stack_with_the_first_and_a_third_joins_it() {
    let emu = emulator(MIB).await;
    let client = client(&emu);
    let dir = tempfile::tempdir().unwrap();
    let cache = MemoryFolderCache::default();
    let shot = client
        .ensure_path(
            &cache,
            &emu.root_folder_id(),
            &["SCENES", "SC01", "UNDLM_00412"],
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for v in 1..=3 {
        let name = format!("SC01_UNDLM_00412_V00{v}.mov");
        let path = random_file(dir.path(), &name, 10_000 + v, v);
        let previous = client
            .files_in_folder(&shot)
            .await
            .unwrap()
            .into_iter()
            .max_by_key(|f| f.asset.name.clone());
        let file = client
            .upload_file(&shot, &name, &path, &options(2), &NoObserver)
            .await
            .unwrap();
        if let Some(previous) = previous {
            client
                .stack_versions(&shot, &previous, &file.id)
                .await
                .unwrap();
        }
        ids.push(file.id);
    }
    let children = emu.folder_children(&shot);
    assert_eq!(
        children.len(),
        1,
        "one stack in the shot folder: {children:?}"
    );
    assert_eq!(children[0].kind, AssetKind::VersionStack);
    let mut in_stack: Vec<String> = emu
        .version_stack_children(&children[0].id)
        .into_iter()
        .map(|a| a.id)
        .collect();
    in_stack.sort();
    ids.sort();
    assert_eq!(in_stack, ids);

    // Remote duplicates are found inside the stack too, by name and size.
    let found = client
        .find_file(&shot, "SC01_UNDLM_00412_V002.mov", Some(10_002))
        .await
        .unwrap();
    assert!(found.is_some_and(|f| f.stack_id == Some(children[0].id.clone())));
    assert!(client
        .find_file(&shot, "SC01_UNDLM_00412_V002.mov", Some(1))
        .await
        .unwrap()
        .is_none());
}

/// Workstations (each its own client, its own folder locks and cache) that
/// walk the same new path at the same moment. Folder creation is held back
/// by the emulator so that every one of them lists, sees the name missing
/// and creates it: the race is hit, not dodged, and the result must still
/// be one folder per name, the one every caller returned.
async fn race(workstations: usize, rounds: usize) {
    let emu = emulator(MIB).await;
    emu.faults()
        .delay_route("create_folder", std::time::Duration::from_millis(150));
    let root = emu.root_folder_id();
    let clients: Vec<_> = (0..workstations).map(|_| client(&emu)).collect();
    let caches: Vec<_> = (0..workstations)
        .map(|_| MemoryFolderCache::default())
        .collect();
    for round in 0..rounds {
        let scene = format!("SC{round:02}");
        let shot = format!("SHOT_{round:03}");
        let before = emu.stats();
        let path = ["SCENES", scene.as_str(), shot.as_str()];
        let calls = clients
            .iter()
            .zip(&caches)
            .map(|(c, cache)| c.ensure_path(cache, &root, &path));
        let ids: Vec<String> = futures::future::join_all(calls)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        emu.assert_one_folder_per_name();
        let kept = emu
            .find_path(&["SCENES", &scene, &shot])
            .expect("the shot folder exists");
        assert!(
            ids.iter().all(|id| *id == kept),
            "round {round}: every workstation uses the folder kept: {ids:?} vs {kept}"
        );
        let after = emu.stats();
        let made = after.folders_created - before.folders_created;
        // SCENES is new in the first round only.
        let new = if round == 0 { 3 } else { 2 };
        assert!(
            made > new,
            "round {round}: only {made} creations for {new} new folders; the race was not hit"
        );
        assert_eq!(
            after.folders_deleted - before.folders_deleted,
            made - new,
            "round {round}: every duplicate made in the race was withdrawn"
        );
        // The caches hold only the folders kept.
        for (cache, c) in caches.iter().zip(&clients) {
            let again = c.ensure_path(cache, &root, &path).await.unwrap();
            assert_eq!(again, kept);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workstations_creating_a_path_at_once_agree_on_one_folder_per_name() {
    race(2, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workstations_creating_a_path_at_once_agree_on_one_folder_per_name() {
    race(3, 20).await;
}

/// A project left with duplicates (by an older PostFlow, or by hand):
/// `SCENES/SC01` twice, the later one holding a file, a version stack and a
/// shot folder that also exists in the first. Everything ends in the first
/// created, nothing is lost, and only emptied duplicates are deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_folders_already_in_a_project_are_folded_into_the_first_created() {
    let emu = emulator(MIB).await;
    let client = client(&emu);
    let root = emu.root_folder_id();
    let scenes = emu.create_folder(&root, "SCENES");
    let first = emu.create_folder(&scenes, "SC01");
    let first_shot = emu.create_folder(&first, "UNDLM_00412");
    let kept_file = emu.create_uploaded_file(&first_shot, "SC01_UNDLM_00412_V001.mov", b"v1");
    std::thread::sleep(std::time::Duration::from_millis(5));
    let later = emu.create_folder(&scenes, "sc01");
    let later_shot = emu.create_folder(&later, "UNDLM_00412");
    let moved_file = emu.create_uploaded_file(&later_shot, "SC01_UNDLM_00412_V002.mov", b"v2");
    let other_shot = emu.create_folder(&later, "UNDLM_00413");
    let a = emu.create_uploaded_file(&other_shot, "SC01_UNDLM_00413_V001.mov", b"a");
    let b = emu.create_uploaded_file(&other_shot, "SC01_UNDLM_00413_V002.mov", b"b");
    let loose = emu.create_uploaded_file(&later, "notes.txt", b"n");
    let cache = MemoryFolderCache::default();
    {
        use postflow_frameio::FolderCache;
        // A cache that remembered the duplicate must not keep it.
        cache.put(&format!("{root}/scenes/sc01"), &later);
        cache.put(&format!("{root}/scenes/sc01/undlm_00412"), &later_shot);
    }
    let stack = client
        .stack_versions(
            &other_shot,
            &postflow_frameio::FolderFile {
                asset: client
                    .children(&other_shot)
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|x| x.id == a)
                    .unwrap(),
                stack_id: None,
            },
            &b,
        )
        .await
        .unwrap();
    assert_eq!(emu.duplicate_folders().len(), 1);

    let repair = client
        .repair_structure(&cache, &root, &["SCENES"], 2)
        .await
        .unwrap();

    emu.assert_one_folder_per_name();
    assert!(repair.left.is_empty(), "{:?}", repair.left);
    assert_eq!(
        repair.folders_folded, 2,
        "SC01 and its UNDLM_00412: {repair:?}"
    );
    assert_eq!(repair.folders_deleted, 2, "{repair:?}");
    assert_eq!(emu.find_path(&["SCENES", "SC01"]), Some(first.clone()));
    assert!(emu.asset(&later).is_none() && emu.asset(&later_shot).is_none());
    // Every file kept, each once, in the folder kept.
    for (path, name, id) in [
        (
            vec!["SCENES", "SC01", "UNDLM_00412"],
            "SC01_UNDLM_00412_V001.mov",
            &kept_file,
        ),
        (
            vec!["SCENES", "SC01", "UNDLM_00412"],
            "SC01_UNDLM_00412_V002.mov",
            &moved_file,
        ),
        (
            vec!["SCENES", "SC01", "UNDLM_00413"],
            "SC01_UNDLM_00413_V001.mov",
            &a,
        ),
        (
            vec!["SCENES", "SC01", "UNDLM_00413"],
            "SC01_UNDLM_00413_V002.mov",
            &b,
        ),
        (vec!["SCENES", "SC01"], "notes.txt", &loose),
    ] {
        assert_eq!(emu.files_named(&path, name), vec![id.clone()], "{name}");
        assert!(emu.file(id).is_some_and(|f| f.complete), "{name} intact");
    }
    assert_eq!(
        emu.file(&a).unwrap().parent_id.as_deref(),
        Some(stack.as_str()),
        "the version stack moved whole"
    );
    // The cache points at the folders kept.
    let id = client
        .ensure_path(&cache, &root, &["SCENES", "SC01", "UNDLM_00412"])
        .await
        .unwrap();
    assert_eq!(id, first_shot);
}

/// A walk that meets duplicates folds them too, and a move Frame.io
/// refuses leaves the duplicate in place, reported, never deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_that_cannot_be_emptied_is_left_and_never_deleted() {
    let emu = emulator(MIB).await;
    let client = client(&emu);
    let root = emu.root_folder_id();
    let scenes = emu.create_folder(&root, "SCENES");
    let first = emu.create_folder(&scenes, "SC02");
    std::thread::sleep(std::time::Duration::from_millis(5));
    let later = emu.create_folder(&scenes, "SC02");
    let file = emu.create_uploaded_file(&later, "SC02_A_V001.mov", b"x");
    emu.faults().fail_api("move", 1, 403);
    let repair = client
        .repair_structure(&MemoryFolderCache::default(), &root, &["SCENES"], 2)
        .await
        .unwrap();
    assert_eq!(repair.left.len(), 1, "{repair:?}");
    assert!(
        repair.left[0].contains("SC02_A_V001.mov"),
        "{:?}",
        repair.left
    );
    assert_eq!(repair.folders_deleted, 0);
    assert!(
        emu.asset(&later).is_some(),
        "a folder with something in it is never deleted"
    );
    assert!(emu.file(&file).is_some());

    // The next walk through the path tries again and succeeds.
    let id = client
        .ensure_path(&MemoryFolderCache::default(), &root, &["SCENES", "SC02"])
        .await
        .unwrap();
    assert_eq!(id, first);
    emu.assert_one_folder_per_name();
    assert_eq!(
        emu.files_named(&["SCENES", "SC02"], "SC02_A_V001.mov"),
        vec![file]
    );
}
