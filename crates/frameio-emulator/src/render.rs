//! JSON shapes of the V4 answers, following the OpenAPI response schemas
//! (`Profile`, `Account`, `WorkspaceWithIncludes`, `ProjectWithIncludes`,
//! `FolderWithIncludes`, `FileWithIncludes`, `File` + `upload_urls`,
//! `VersionStackWithIncludes`, `FileUploadStatus`).
//!
//! `FileWithIncludes` forbids properties it does not list, so file objects
//! carry exactly the listed ones; `ProjectWithIncludes` requires a
//! `description` although `Project` does not define it, so projects carry
//! `"description": null`.

use serde_json::{json, Value};

use crate::state::{
    Asset, AssetBody, FileData, ProjectRec, Shared, State, ACCOUNT_NAME, USER_EMAIL, USER_NAME,
    WORKSPACE_NAME,
};
use crate::util::rfc3339;

pub(crate) fn profile(shared: &Shared) -> Value {
    json!({
        "id": shared.seed.user_id,
        "name": USER_NAME,
        "email": USER_EMAIL,
        "avatar_url": null,
    })
}

pub(crate) fn account(shared: &Shared, state: &State) -> Value {
    let created = rfc3339(shared.seed.created_at);
    json!({
        "id": shared.seed.account_id,
        "display_name": ACCOUNT_NAME,
        "roles": ["owner"],
        "storage_limit": null,
        "storage_usage": state.storage_usage(),
        "image": null,
        "adobe_id": null,
        "created_at": created,
        "updated_at": created,
        "v4_migrated_at": created,
    })
}

pub(crate) fn workspace(shared: &Shared) -> Value {
    let created = rfc3339(shared.seed.created_at);
    json!({
        "id": shared.seed.workspace_id,
        "name": WORKSPACE_NAME,
        "account_id": shared.seed.account_id,
        "created_at": created,
        "updated_at": created,
    })
}

pub(crate) fn project(shared: &Shared, state: &State, project: &ProjectRec) -> Value {
    let created = rfc3339(project.created_at);
    json!({
        "id": project.id,
        "name": project.name,
        "description": null,
        "status": "active",
        "restricted": false,
        "storage": state.storage_usage(),
        "workspace_id": shared.seed.workspace_id,
        "root_folder_id": project.root_folder_id,
        "created_at": created,
        "updated_at": created,
        "view_url": shared.view_url(&project.id),
    })
}

/// The properties every asset has (`AssetCommon`).
fn common(
    shared: &Shared,
    state: &State,
    asset: &Asset,
    kind: &str,
) -> serde_json::Map<String, Value> {
    let project_id = state
        .project_of(asset)
        .map_or(shared.seed.project_id.as_str(), |p| p.id.as_str());
    let mut map = serde_json::Map::new();
    map.insert("id".into(), json!(asset.id));
    map.insert("name".into(), json!(asset.name));
    map.insert("type".into(), json!(kind));
    map.insert("project_id".into(), json!(project_id));
    map.insert("parent_id".into(), json!(asset.parent_id));
    map.insert("created_at".into(), json!(rfc3339(asset.created_at)));
    map.insert("updated_at".into(), json!(rfc3339(asset.updated_at)));
    map.insert("view_url".into(), json!(shared.view_url(&asset.id)));
    map
}

/// `created` until every part is stored, then `uploaded`.
pub(crate) fn file_status_word(file: &FileData) -> &'static str {
    if file.complete() {
        "uploaded"
    } else {
        "created"
    }
}

fn file(shared: &Shared, state: &State, asset: &Asset, data: &FileData) -> Value {
    let mut map = common(shared, state, asset, "file");
    map.insert("status".into(), json!(file_status_word(data)));
    map.insert("media_type".into(), json!(data.media_type));
    map.insert("file_size".into(), json!(data.file_size));
    Value::Object(map)
}

/// A file with its presigned part URLs (the `local_upload` answer).
pub(crate) fn file_with_upload_urls(
    shared: &Shared,
    state: &State,
    asset: &Asset,
    data: &FileData,
    urls: Vec<(u64, String)>,
) -> Value {
    let mut value = file(shared, state, asset, data);
    let urls: Vec<Value> = urls
        .into_iter()
        .map(|(size, url)| json!({"size": size, "url": url}))
        .collect();
    if let Value::Object(map) = &mut value {
        map.insert("upload_urls".into(), Value::Array(urls));
    }
    value
}

/// Any asset, by kind (`AssetWithIncludes`).
pub(crate) fn asset(shared: &Shared, state: &State, asset: &Asset) -> Value {
    match &asset.body {
        AssetBody::File(data) => file(shared, state, asset, data),
        AssetBody::Folder => {
            let mut map = common(shared, state, asset, "folder");
            map.insert("cover_file_id".into(), Value::Null);
            Value::Object(map)
        }
        AssetBody::VersionStack => {
            let mut map = common(shared, state, asset, "version_stack");
            let head = state
                .stack_head(&asset.id)
                .map_or(Value::Null, |h| self::asset(shared, state, h));
            map.insert("head_version".into(), head);
            Value::Object(map)
        }
    }
}

pub(crate) fn upload_status(asset: &Asset, data: &FileData) -> Value {
    json!({
        "id": asset.id,
        "filetype": data.media_type,
        "upload_complete": data.complete(),
        "upload_failed": data.upload_failed,
        "uploaded_at": data.uploaded_at.map(rfc3339),
        "upload_completed_at": data.completed_at.filter(|_| data.complete()).map(rfc3339),
    })
}

/// A V4 error body: `{"errors":[{"detail": ..., "source": {"pointer": ...}}]}`,
/// with `title` only where the spec's `JsonErrorResponse` asks for it.
pub(crate) fn error_body(detail: &str, pointer: Option<&str>, title: Option<&str>) -> Value {
    let mut item = serde_json::Map::new();
    if let Some(title) = title {
        item.insert("title".into(), json!(title));
    }
    item.insert("detail".into(), json!(detail));
    if let Some(pointer) = pointer {
        item.insert("source".into(), json!({ "pointer": pointer }));
    }
    json!({ "errors": [item] })
}

/// A comment (`Comment`): the OpenAPI file's required properties, those
/// PostFlow does not use as null or empty.
pub(crate) fn comment(c: &crate::state::CommentRec) -> Value {
    json!({
        "id": c.id,
        "file_id": c.file_id,
        "text": c.text,
        "annotation": null,
        "page": null,
        "text_edited_at": if c.updated_at > c.created_at { json!(rfc3339(c.updated_at)) } else { Value::Null },
        "timestamp": null,
        "duration": null,
        "text_review_annotation": null,
        "created_at": rfc3339(c.created_at),
        "updated_at": rfc3339(c.updated_at),
        "completed_at": null,
        "completer_id": null,
        "attachments": [],
        "mentions": [],
        "links": [],
    })
}
