//! Discovery, folders, pagination, version stacks, moves and deletes.

use std::collections::HashSet;

use postflow_frameio_emulator::AssetKind;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

/// me -> accounts -> workspaces -> projects -> project -> root folder.
#[tokio::test]
async fn discovery_reaches_the_root_folder() {
    let h = Harness::start().await;
    let me = expect_json(h.get(&h.url("/v4/me")).await, StatusCode::OK).await;
    assert_eq!(me["data"]["id"], h.emu.user_id().as_str());
    assert!(me["data"]["email"].is_string());

    let accounts = expect_json(h.get(&h.url("/v4/accounts")).await, StatusCode::OK).await;
    assert_eq!(accounts["data"][0]["id"], h.emu.account_id().as_str());
    assert!(accounts["links"]["next"].is_null());

    let workspaces = expect_json(h.get(&h.acct("/workspaces")).await, StatusCode::OK).await;
    let workspace = workspaces["data"][0]["id"].as_str().expect("workspace id");
    assert_eq!(workspace, h.emu.workspace_id());

    let projects = expect_json(
        h.get(&h.acct(&format!("/workspaces/{workspace}/projects")))
            .await,
        StatusCode::OK,
    )
    .await;
    let project = projects["data"][0]["id"].as_str().expect("project id");
    assert_eq!(project, h.emu.project_id());

    let project = expect_json(
        h.get(&h.acct(&format!("/projects/{project}"))).await,
        StatusCode::OK,
    )
    .await;
    let root = project["data"]["root_folder_id"]
        .as_str()
        .expect("root_folder_id");
    assert_eq!(root, h.emu.root_folder_id());

    let folder = expect_json(
        h.get(&h.acct(&format!("/folders/{root}"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(folder["data"]["type"], "folder");
    assert!(folder["data"]["parent_id"].is_null());

    // Wrong ids are 404 (with the headers).
    let other = "00000000-0000-4000-8000-000000000000";
    expect_error(
        h.get(&h.url(&format!("/v4/accounts/{other}/workspaces")))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        h.get(&h.acct(&format!("/workspaces/{other}/projects")))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        h.get(&h.acct(&format!("/projects/{other}"))).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        h.get(&h.acct(&format!("/folders/{other}"))).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        h.get(&h.acct(&format!("/folders/{other}/children"))).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        h.get(&h.url("/v4/no/such/route")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let wrong_method = h
        .http
        .put(h.url("/v4/me"))
        .bearer_auth(&h.token)
        .send()
        .await
        .expect("answered");
    expect_error(wrong_method, StatusCode::METHOD_NOT_ALLOWED).await;
}

/// Folders are created as asked, duplicates included (the client must
/// converge); `find_path` walks names case-insensitively and refuses to
/// choose between two; `duplicate_folders` finds every duplicate.
#[tokio::test]
async fn folders_duplicates_and_find_path() {
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    let first = h.api_create_folder(&root, "SEQ010").await;
    assert_eq!(first["parent_id"], root.as_str());
    assert_eq!(first["type"], "folder");
    assert!(first["cover_file_id"].is_null());
    let first_id = first["id"].as_str().expect("id");
    let shot = h.api_create_folder(first_id, "SH0010").await;

    assert_eq!(h.emu.find_path(&[]), Some(root.clone()));
    assert_eq!(h.emu.find_path(&["SEQ010"]).as_deref(), Some(first_id));
    assert_eq!(
        h.emu.find_path(&["SEQ010", "SH0010"]).as_deref(),
        shot["id"].as_str()
    );
    assert_eq!(
        h.emu.find_path(&["seq010"]).as_deref(),
        Some(first_id),
        "names compare case-insensitively, as PostFlow's lookups do"
    );
    assert_eq!(h.emu.find_path(&["SEQ010", "SH0020"]), None);
    assert!(h.emu.duplicate_folders().is_empty());
    h.emu.assert_one_folder_per_name();

    // A second SEQ010 (in another case) and a second SH0010 under it.
    let second = h.api_create_folder(&root, "seq010").await;
    assert_ne!(first["id"], second["id"], "no dedupe");
    let second_id = second["id"].as_str().expect("id");
    h.api_create_folder(second_id, "SH0010").await;
    h.api_create_folder(second_id, "sh0010").await;
    let children = h.emu.folder_children(&root);
    assert_eq!(children.len(), 2);
    assert!(children.iter().all(|c| c.kind == AssetKind::Folder));
    assert_eq!(h.emu.stats().folders_created, 5);
    assert_eq!(
        h.emu.duplicate_folders(),
        vec![
            "/: 2 folders named \"SEQ010\"".to_owned(),
            "/seq010: 2 folders named \"SH0010\"".to_owned(),
        ]
    );
    let lookup = std::panic::catch_unwind(|| h.emu.find_path(&["SEQ010", "SH0010"]));
    let message = *lookup
        .expect_err("a lookup by name must fail when there are two")
        .downcast::<String>()
        .expect("message");
    assert!(message.contains("2 folders named \"SEQ010\""), "{message}");
    let files = std::panic::catch_unwind(|| h.emu.files_named(&["SEQ010"], "x.mov"));
    assert!(files.is_err(), "files_named resolves its path strictly too");
    let helper = std::panic::catch_unwind(|| h.emu.assert_one_folder_per_name());
    assert!(helper.is_err(), "the helper fails on any duplicate");

    let got = expect_json(
        h.get(&h.acct(&format!("/folders/{first_id}"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["data"]["name"], "SEQ010");

    // Folders cannot be created in a file.
    let file = h.create_upload(&root, "x.mov", 1).await;
    let url = h.acct(&format!(
        "/folders/{}/folders",
        file["id"].as_str().expect("id")
    ));
    expect_error(
        h.post(&url, &json!({"data": {"name": "n"}})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let url = h.acct(&format!("/folders/{root}/folders"));
    expect_error(
        h.post(&url, &json!({"data": {"name": ""}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

/// Follows `links.next` (re-adding `page_size`) over 1,200 children.
async fn collect_all(h: &Harness, folder: &str, extra: &str) -> (Vec<Value>, usize) {
    let base = h.acct(&format!("/folders/{folder}/children"));
    let mut url = format!("{base}?page_size=100{extra}");
    let mut items = Vec::new();
    let mut pages = 0;
    loop {
        let page = expect_json(h.get(&url).await, StatusCode::OK).await;
        pages += 1;
        let data = page["data"].as_array().expect("data");
        assert!(data.len() <= 100);
        items.extend(data.iter().cloned());
        match page["links"]["next"].as_str() {
            None => break,
            Some(next) => {
                assert!(next.starts_with('/'), "relative: {next}");
                let parsed = url::Url::parse(&h.url(next)).expect("next");
                let keys: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
                assert_eq!(keys, vec!["after"], "next carries only the cursor: {next}");
                assert_eq!(
                    parsed.path(),
                    format!(
                        "/v4/accounts/{}/folders/{folder}/children",
                        h.emu.account_id()
                    )
                );
                url = format!("{}&page_size=100{extra}", h.url(next));
            }
        }
        assert!(pages <= 100, "runaway pagination");
    }
    (items, pages)
}

#[tokio::test]
async fn pagination_over_1200_children() {
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    let big = h.emu.create_folder(&root, "BIG");
    let mut expected = HashSet::new();
    for i in 0..1000 {
        expected.insert(h.emu.create_folder(&big, &format!("F{i:04}")));
    }
    let mut files = HashSet::new();
    for i in 0..200 {
        let id = h
            .emu
            .create_uploaded_file(&big, &format!("clip{i:03}.mov"), &[i as u8 + 1]);
        files.insert(id.clone());
        expected.insert(id);
    }

    let (items, pages) = collect_all(&h, &big, "").await;
    assert_eq!(pages, 12);
    let ids: Vec<&str> = items
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    let unique: HashSet<String> = ids.iter().map(|s| s.to_string()).collect();
    assert_eq!(ids.len(), 1200, "every child once");
    assert_eq!(unique, expected);
    let emu_order: Vec<String> = h
        .emu
        .folder_children(&big)
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, emu_order, "pages follow the listing order");

    // type=folder filters; comma lists combine.
    let (folders, _) = collect_all(&h, &big, "&type=folder").await;
    assert_eq!(folders.len(), 1000);
    assert!(folders.iter().all(|f| f["type"] == "folder"));
    let (only_files, pages) = collect_all(&h, &big, "&type=file").await;
    assert_eq!(pages, 2);
    let file_ids: HashSet<String> = only_files
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(file_ids, files);
    let (both, _) = collect_all(&h, &big, "&type=folder,file").await;
    assert_eq!(both.len(), 1200);

    // Following next without re-adding page_size gets the default (50).
    let first = expect_json(
        h.get(&h.acct(&format!("/folders/{big}/children?page_size=100")))
            .await,
        StatusCode::OK,
    )
    .await;
    let next = first["links"]["next"].as_str().expect("next");
    let second = expect_json(h.get(&h.url(next)).await, StatusCode::OK).await;
    assert_eq!(second["data"].as_array().expect("data").len(), 50);
    assert_eq!(
        second["data"][0]["id"], items[100]["id"],
        "continues after the cursor"
    );

    // The last page has next: null, and include_total_count counts.
    let counted = expect_json(
        h.get(&h.acct(&format!(
            "/folders/{big}/children?page_size=500&include_total_count=true&type=file"
        )))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(counted["total_count"], 200);
    assert!(counted["links"]["next"].is_null());
}

/// Bad list queries are 422.
#[tokio::test]
async fn bad_list_queries_are_422() {
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    let children = h.acct(&format!("/folders/{root}/children"));
    for query in [
        "page_size=0",
        "page_size=501",
        "page_size=ten",
        "after=not-a-cursor",
        "type=files",
    ] {
        let r = h.get(&format!("{children}?{query}")).await;
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    expect_json(
        h.get(&format!("{children}?page_size=500")).await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        h.get(&h.url("/v4/accounts?page_size=101")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // A cursor of one folder is refused by another.
    let a = h.emu.create_folder(&root, "A");
    for i in 0..3 {
        h.emu.create_folder(&a, &format!("{i}"));
    }
    let page = expect_json(
        h.get(&h.acct(&format!("/folders/{a}/children?page_size=1")))
            .await,
        StatusCode::OK,
    )
    .await;
    let next = page["links"]["next"].as_str().expect("next");
    let cursor = next.split("after=").nth(1).expect("cursor");
    let r = h.get(&format!("{children}?after={cursor}")).await;
    expect_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
}

/// Two files make a stack (the folder lists the stack, not the files); a
/// third file moved in becomes the head.
#[tokio::test]
async fn version_stacks_and_moves() {
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    let shot = h.emu.create_folder(&root, "SH0010");
    let v1 = h.create_upload(&shot, "SH0010_v001.mov", 4).await;
    let v2 = h.create_upload(&shot, "SH0010_v002.mov", 4).await;
    let v3 = h.create_upload(&shot, "SH0010_v003.mov", 4).await;
    h.upload_all(&v1, &[1, 2, 3, 4]).await;
    h.upload_all(&v2, &[5, 6, 7, 8]).await;
    let id = |v: &Value| v["id"].as_str().expect("id").to_owned();
    let (v1, v2, v3) = (id(&v1), id(&v2), id(&v3));

    let url = h.acct(&format!("/folders/{shot}/version_stacks"));
    let created = expect_json(
        h.post(&url, &json!({"data": {"file_ids": [v1, v2]}})).await,
        StatusCode::CREATED,
    )
    .await;
    let stack = created["data"]["id"].as_str().expect("stack id").to_owned();
    assert_eq!(created["data"]["type"], "version_stack");
    assert_eq!(created["data"]["parent_id"], shot.as_str());
    assert_eq!(created["data"]["head_version"]["id"], v2.as_str());
    assert_eq!(created["data"]["name"], "SH0010_v002.mov");

    let listed = h.emu.folder_children(&shot);
    let kinds: Vec<(AssetKind, &str)> = listed.iter().map(|a| (a.kind, a.id.as_str())).collect();
    assert!(kinds.contains(&(AssetKind::VersionStack, stack.as_str())));
    assert!(
        !kinds.iter().any(|(_, i)| *i == v1 || *i == v2),
        "stacked files are not listed: {kinds:?}"
    );
    assert_eq!(listed.len(), 2, "the stack and v3");
    let page = expect_json(
        h.get(&h.acct(&format!("/folders/{shot}/children"))).await,
        StatusCode::OK,
    )
    .await;
    let api_ids: Vec<&str> = page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|a| a["id"].as_str().expect("id"))
        .collect();
    assert_eq!(api_ids, vec![v3.as_str(), stack.as_str()]);
    let stacks_only = expect_json(
        h.get(&h.acct(&format!("/folders/{shot}/children?type=version_stack")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stacks_only["data"].as_array().expect("data").len(), 1);

    let members: Vec<String> = h
        .emu
        .version_stack_children(&stack)
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(members, vec![v1.clone(), v2.clone()]);
    assert_eq!(
        h.emu.file(&v1).expect("v1").parent_id.as_deref(),
        Some(stack.as_str())
    );

    // Move v3 into the stack: it becomes the head.
    let moved = h
        .send_json(
            reqwest::Method::PATCH,
            &h.acct(&format!("/files/{v3}/move")),
            &json!({"data": {"parent_id": stack}}),
        )
        .await;
    let moved = expect_json(moved, StatusCode::OK).await;
    assert_eq!(moved["data"]["parent_id"], stack.as_str());
    let members: Vec<String> = h
        .emu
        .version_stack_children(&stack)
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(members, vec![v1.clone(), v2.clone(), v3.clone()]);
    let got = expect_json(
        h.get(&h.acct(&format!("/version_stacks/{stack}"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["data"]["head_version"]["id"], v3.as_str());
    let children = expect_json(
        h.get(&h.acct(&format!("/version_stacks/{stack}/children?page_size=2")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(children["data"].as_array().expect("data").len(), 2);
    assert!(children["links"]["next"].is_string());
    assert_eq!(
        h.emu.folder_children(&shot).len(),
        1,
        "only the stack is left"
    );

    // Refusals: too few ids, a file already stacked, unknown ids, bad moves.
    let too_few = h.post(&url, &json!({"data": {"file_ids": [v1]}})).await;
    let error = expect_error(too_few, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        error["errors"][0]["title"].is_string(),
        "JsonErrorResponse has a title"
    );
    let other = h.create_upload(&shot, "other.mov", 1).await;
    let already = h
        .post(&url, &json!({"data": {"file_ids": [id(&other), v1]}}))
        .await;
    expect_error(already, StatusCode::UNPROCESSABLE_ENTITY).await;
    let unknown = h
        .post(
            &url,
            &json!({"data": {"file_ids": [id(&other), "00000000-0000-4000-8000-000000000000"]}}),
        )
        .await;
    expect_error(unknown, StatusCode::NOT_FOUND).await;
    let nowhere = h
        .send_json(
            reqwest::Method::PATCH,
            &h.acct(&format!("/files/{v3}/move")),
            &json!({"data": {"parent_id": "00000000-0000-4000-8000-000000000000"}}),
        )
        .await;
    expect_error(nowhere, StatusCode::NOT_FOUND).await;
    assert_eq!(h.emu.stats().version_stacks_created, 1);
    assert_eq!(h.emu.stats().files_moved, 1);
}

/// DELETE removes a file from listings and GETs; the emulator keeps it for
/// inspection.
#[tokio::test]
async fn deleted_files_are_gone() {
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    let file = h.create_upload(&root, "temp.mov", 2).await;
    let id = file["id"].as_str().expect("id");
    let url = h.acct(&format!("/files/{id}"));
    let delete = || h.http.delete(&url).bearer_auth(&h.token).send();
    let r = delete().await.expect("answered");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    crate::common::assert_rate_headers(&r);
    expect_error(h.get(&url).await, StatusCode::NOT_FOUND).await;
    expect_error(h.get(&format!("{url}/status")).await, StatusCode::NOT_FOUND).await;
    expect_error(delete().await.expect("answered"), StatusCode::NOT_FOUND).await;
    assert!(h.emu.folder_children(&root).is_empty());
    assert!(h.emu.file(id).is_none(), "gone from the inspection API too");
    assert!(h.emu.was_deleted(id));
    assert_eq!(h.emu.stats().files_deleted, 1);
}

/// `delete_folder` removes a whole subtree, as a person would by hand.
#[tokio::test]
async fn delete_folder_removes_a_subtree() {
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    let scenes = h.emu.create_folder(&root, "SCENES");
    let sc01 = h.emu.create_folder(&scenes, "SC01");
    let file = h.emu.create_uploaded_file(&sc01, "a.mov", b"abc");
    let other = h.emu.create_uploaded_file(&sc01, "b.mov", b"def");
    let url = h.acct(&format!("/folders/{sc01}/version_stacks"));
    let stack = expect_json(
        h.post(&url, &json!({"data": {"file_ids": [file, other]}}))
            .await,
        StatusCode::CREATED,
    )
    .await["data"]["id"]
        .as_str()
        .expect("stack id")
        .to_owned();
    assert!(!h.emu.delete_folder(&root), "not the root");
    assert!(!h.emu.delete_folder(&file), "not a file");
    assert!(h.emu.delete_folder(&scenes));
    assert!(h.emu.folder_children(&root).is_empty());
    assert_eq!(h.emu.find_path(&["SCENES"]), None);
    assert!(h.emu.asset(&sc01).is_none() && h.emu.asset(&stack).is_none());
    assert!(h.emu.was_deleted(&file) && h.emu.was_deleted(&other));
    expect_error(
        h.get(&h.acct(&format!("/folders/{sc01}"))).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        h.get(&h.acct(&format!("/files/{file}"))).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

/// Folders and version stacks move through the API; a folder DELETE
/// takes its subtree (as Frame.io's does); the root can be neither moved
/// nor deleted, and no folder moves into itself.
#[tokio::test]
async fn folders_and_stacks_move_and_folders_delete_through_the_api() {
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    let a = h.emu.create_folder(&root, "A");
    let b = h.emu.create_folder(&root, "B");
    let inner = h.emu.create_folder(&a, "INNER");
    let v1 = h.emu.create_uploaded_file(&a, "v1.mov", b"1");
    let v2 = h.emu.create_uploaded_file(&a, "v2.mov", b"2");
    let url = h.acct(&format!("/folders/{a}/version_stacks"));
    let stack = expect_json(
        h.post(&url, &json!({"data": {"file_ids": [v1, v2]}})).await,
        StatusCode::CREATED,
    )
    .await["data"]["id"]
        .as_str()
        .expect("stack id")
        .to_owned();
    let h = &h;
    let patch = |path: String, parent: &str| {
        let body = json!({"data": {"parent_id": parent}});
        let url = h.acct(&path);
        async move { h.send_json(reqwest::Method::PATCH, &url, &body).await }
    };

    let moved = expect_json(
        patch(format!("/folders/{inner}/move"), &b).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["data"]["parent_id"], b.as_str());
    let moved = expect_json(
        patch(format!("/version_stacks/{stack}/move"), &b).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["data"]["type"], "version_stack");
    assert_eq!(h.emu.folder_children(&a).len(), 0);
    let in_b: Vec<String> = h
        .emu
        .folder_children(&b)
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(in_b, vec![inner.clone(), stack.clone()]);
    assert_eq!(
        h.emu.version_stack_children(&stack).len(),
        2,
        "versions travel with their stack"
    );

    expect_error(
        patch(format!("/folders/{b}/move"), &inner).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect_error(
        patch(format!("/folders/{root}/move"), &b).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_error(
        patch(format!("/version_stacks/{stack}/move"), &v1).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    let delete = |id: &str| {
        let url = h.acct(&format!("/folders/{id}"));
        async move {
            h.http
                .delete(url)
                .bearer_auth(&h.token)
                .send()
                .await
                .expect("answered")
        }
    };
    expect_error(delete(&root).await, StatusCode::FORBIDDEN).await;
    let gone = delete(&b).await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert!(h.emu.asset(&inner).is_none() && h.emu.asset(&stack).is_none());
    assert!(h.emu.was_deleted(&v1) && h.emu.was_deleted(&v2));
    expect_error(delete(&b).await, StatusCode::NOT_FOUND).await;
    let stats = h.emu.stats();
    assert_eq!(
        (
            stats.folders_moved,
            stats.version_stacks_moved,
            stats.folders_deleted
        ),
        (1, 1, 1)
    );
}

/// `delay_route` holds the work back, not just the answer: a folder
/// created during the delay is not there yet for a listing.
#[tokio::test]
async fn a_delayed_route_acts_only_after_its_delay() {
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    h.emu
        .faults()
        .delay_route("create_folder", std::time::Duration::from_millis(400));
    let create = h.api_create_folder(&root, "LATE");
    let look = async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        h.emu.find_path(&["LATE"])
    };
    let (created, seen_meanwhile) = tokio::join!(create, look);
    assert_eq!(seen_meanwhile, None, "not created during the delay");
    assert_eq!(
        h.emu.find_path(&["LATE"]).as_deref(),
        created["id"].as_str()
    );
    h.emu.faults().clear();
    let started = std::time::Instant::now();
    h.api_create_folder(&root, "PROMPT").await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(400),
        "clear stops it"
    );
}

/// Dropping a clone keeps the server; `shutdown` (or dropping the last
/// handle) stops it.
#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    async fn refused(addr: std::net::SocketAddr) -> bool {
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        false
    }
    let emu = postflow_frameio_emulator::Emulator::start(config())
        .await
        .expect("starts");
    let addr = emu.addr();
    let clone = emu.clone();
    drop(clone);
    let http = client();
    let token = emu.issue_token();
    let me = http
        .get(format!("{}/v4/me", emu.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("still serving after a clone is dropped");
    assert_eq!(me.status(), StatusCode::OK);
    emu.shutdown();
    assert!(refused(addr).await, "shutdown stops the listener");

    let emu = postflow_frameio_emulator::Emulator::start(config())
        .await
        .expect("starts");
    let addr = emu.addr();
    drop(emu);
    assert!(
        refused(addr).await,
        "dropping the last handle stops the listener"
    );
}
