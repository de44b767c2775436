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
