//! The OpenAPI shape test: every kind of JSON answer the emulator produces
//! is validated against the response schema the spec gives for its path,
//! method and status.
//!
//! The validator below implements the OpenAPI 3.0 Schema Object subset the
//! spec uses, with OpenAPI's own semantics rather than a translation to
//! JSON Schema: `nullable`, `allOf`/`oneOf`/`anyOf`, `discriminator` (the
//! mapped schema is chosen by the property's value), `additionalProperties:
//! false` (counting the properties declared in `allOf` branches, which is
//! what the spec means where it combines the two), `required`, `enum`,
//! `items`, numeric and length bounds, and the `uuid`, `date-time` and
//! `int32` formats. (A JSON Schema crate was avoided on purpose: the usual
//! one turns on a `serde_json` feature that would fork every build of the
//! workspace between tests and binaries.)

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

use crate::common::*;

/// The spec, found through `POSTFLOW_SHARED_DIR` (a directory holding
/// `reference/frameio-v4-openapi.json`) or beside the repository.
pub struct Spec {
    doc: Value,
}

impl Spec {
    pub fn path() -> PathBuf {
        match std::env::var_os("POSTFLOW_SHARED_DIR") {
            Some(dir) => PathBuf::from(dir).join("reference/frameio-v4-openapi.json"),
            None => PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/reference/frameio-v4-openapi.json"
            )),
        }
    }

    pub fn load() -> Spec {
        let path = Spec::path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read the OpenAPI spec at {} ({e}); set POSTFLOW_SHARED_DIR",
                path.display()
            )
        });
        let doc = serde_json::from_str(&text).expect("the spec is JSON");
        Spec { doc }
    }

    /// The response object for a path template, method and status.
    fn response(&self, path: &str, method: &str, status: u16) -> &Value {
        let response = &self.doc["paths"][path][method]["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "the spec has no {status} response for {} {path}",
            method.to_uppercase()
        );
        self.resolve(response)
    }

    fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("only local $refs are supported: {reference}"));
            schema = self
                .doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling $ref {reference}"));
        }
        schema
    }

    /// Violations of `schema` by `instance`, one readable line each.
    pub fn violations(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.validate(schema, instance, "", &mut errors);
        errors
    }

    /// Validates a JSON answer against the spec's schema for it.
    pub fn check_body(&self, path: &str, method: &str, status: u16, body: &Value) -> Vec<String> {
        let response = self.response(path, method, status);
        match response.pointer("/content/application~1json/schema") {
            Some(schema) => self.violations(schema, body),
            None => vec![format!("the spec has no JSON body for {status}")],
        }
    }

    /// Checks the response headers the spec marks required (`x-ratelimit-*`).
    pub fn check_headers(
        &self,
        path: &str,
        method: &str,
        status: u16,
        headers: &reqwest::header::HeaderMap,
    ) -> Vec<String> {
        let response = self.response(path, method, status);
        let mut errors = Vec::new();
        if let Some(spec_headers) = response.get("headers").and_then(Value::as_object) {
            for (name, header) in spec_headers {
                let header = self.resolve(header);
                let required = header
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                match headers.get(name.as_str()).and_then(|v| v.to_str().ok()) {
                    None if required => errors.push(format!("header {name}: missing")),
                    None => {}
                    Some(value) => {
                        let parsed = value
                            .parse::<i64>()
                            .map(Value::from)
                            .unwrap_or(json!(value));
                        if let Some(schema) = header.get("schema") {
                            for e in self.violations(schema, &parsed) {
                                errors.push(format!("header {name}: {e}"));
                            }
                        }
                    }
                }
            }
        }
        errors
    }

    fn validate(&self, schema: &Value, instance: &Value, at: &str, errors: &mut Vec<String>) {
        let location = if at.is_empty() { "(root)" } else { at };
        let reference = schema.get("$ref").and_then(Value::as_str);
        let schema = self.resolve(schema);
        let named = |msg: String| match reference {
            Some(r) => format!("{location}: {msg} [{}]", r.rsplit('/').next().unwrap_or(r)),
            None => format!("{location}: {msg}"),
        };

        if instance.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
            return;
        }

        if let Some(kind) = schema.get("type").and_then(Value::as_str) {
            let ok = match kind {
                "object" => instance.is_object(),
                "array" => instance.is_array(),
                "string" => instance.is_string(),
                "boolean" => instance.is_boolean(),
                "integer" => instance.is_i64() || instance.is_u64(),
                "number" => instance.is_number(),
                other => panic!("unsupported type {other}"),
            };
            if !ok {
                errors.push(named(format!("expected {kind}, got {}", short(instance))));
                return;
            }
        }

        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            if !options.contains(instance) {
                errors.push(named(format!(
                    "{} is not one of {}",
                    short(instance),
                    Value::Array(options.clone())
                )));
            }
        }

        if let (Some(format), Some(s)) = (
            schema.get("format").and_then(Value::as_str),
            instance.as_str(),
        ) {
            let ok = match format {
                "uuid" => is_uuid(s),
                "date-time" => time::OffsetDateTime::parse(s, &Rfc3339).is_ok(),
                _ => true,
            };
            if !ok {
                errors.push(named(format!("{s:?} is not a valid {format}")));
            }
        }
        if schema.get("format").and_then(Value::as_str) == Some("int32") {
            if let Some(n) = instance
                .as_i64()
                .or_else(|| instance.as_u64().map(|_| i64::MAX))
            {
                if i32::try_from(n).is_err() {
                    errors.push(named(format!("{n} does not fit int32")));
                }
            }
        }
        if let Some(n) = instance.as_f64() {
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
                if n < min {
                    errors.push(named(format!("{n} is below the minimum {min}")));
                }
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
                if n > max {
                    errors.push(named(format!("{n} is above the maximum {max}")));
                }
            }
        }
        if let Some(s) = instance.as_str() {
            let len = s.chars().count() as u64;
            if schema
                .get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| len < m)
            {
                errors.push(named(format!("{s:?} is shorter than minLength")));
            }
            if schema
                .get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| len > m)
            {
                errors.push(named(format!("{s:?} is longer than maxLength")));
            }
        }

        if let Some(items) = instance.as_array() {
            let len = items.len() as u64;
            if schema
                .get("minItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| len < m)
            {
                errors.push(named(format!("{len} items, fewer than minItems")));
            }
            if schema
                .get("maxItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| len > m)
            {
                errors.push(named(format!("{len} items, more than maxItems")));
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    self.validate(item_schema, item, &format!("{at}/{i}"), errors);
                }
            }
        }

        if let Some(object) = instance.as_object() {
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for key in required.iter().filter_map(Value::as_str) {
                    if !object.contains_key(key) {
                        errors.push(named(format!("required property {key:?} is missing")));
                    }
                }
            }
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (key, sub) in properties {
                    if let Some(value) = object.get(key) {
                        self.validate(sub, value, &format!("{at}/{key}"), errors);
                    }
                }
            }
            match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    let mut allowed = BTreeSet::new();
                    self.declared_properties(schema, &mut allowed);
                    for key in object.keys() {
                        if !allowed.contains(key.as_str()) {
                            errors.push(named(format!(
                                "property {key:?} is not allowed (allowed: {})",
                                allowed.iter().cloned().collect::<Vec<_>>().join(", ")
                            )));
                        }
                    }
                }
                Some(extra) if extra.is_object() => {
                    let declared = schema.get("properties").and_then(Value::as_object);
                    for (key, value) in object {
                        if !declared.is_some_and(|d| d.contains_key(key)) {
                            self.validate(extra, value, &format!("{at}/{key}"), errors);
                        }
                    }
                }
                _ => {}
            }
        }

        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.validate(sub, instance, at, errors);
            }
        }
        if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
            if !any
                .iter()
                .any(|sub| self.violations_at(sub, instance, at).is_empty())
            {
                errors.push(named("matches none of anyOf".to_owned()));
            }
        }
        if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
            match schema.get("discriminator") {
                Some(discriminator) => {
                    let property = discriminator["propertyName"]
                        .as_str()
                        .expect("propertyName");
                    let value = instance.get(property).and_then(Value::as_str);
                    let target = value.and_then(|v| discriminator["mapping"].get(v));
                    match target {
                        // Mapping values are plain references, not `$ref` objects.
                        Some(Value::String(target)) => {
                            self.validate(&json!({ "$ref": target }), instance, at, errors)
                        }
                        Some(other) => panic!("unsupported discriminator mapping {other}"),
                        None => errors.push(named(format!(
                            "discriminator {property:?} is {}, not one of {}",
                            value.map_or("missing".to_owned(), |v| format!("{v:?}")),
                            discriminator["mapping"]
                                .as_object()
                                .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "))
                                .unwrap_or_default()
                        ))),
                    }
                }
                None => {
                    let matching = one
                        .iter()
                        .filter(|sub| self.violations_at(sub, instance, at).is_empty())
                        .count();
                    if matching != 1 {
                        errors.push(named(format!("matches {matching} of oneOf, not exactly 1")));
                    }
                }
            }
        }
    }

    fn violations_at(&self, schema: &Value, instance: &Value, at: &str) -> Vec<String> {
        let mut errors = Vec::new();
        self.validate(schema, instance, at, &mut errors);
        errors
    }

    /// The properties a schema declares, its `allOf` branches included.
    fn declared_properties<'a>(&'a self, schema: &'a Value, into: &mut BTreeSet<&'a str>) {
        let schema = self.resolve(schema);
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            into.extend(properties.keys().map(String::as_str));
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.declared_properties(sub, into);
            }
        }
    }

    /// A component schema by name.
    pub fn component(&self, name: &str) -> Value {
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 80 {
        format!("{}…", &text[..80])
    } else {
        text
    }
}

/// The validator itself catches violations, with readable messages.
#[test]
fn the_validator_reports_violations() {
    let spec = Spec::load();
    let file = json!({
        "id": "3f0c7f3e-6f6e-4c4b-9d0e-0a6a8f1b2c3d", "name": "a.mov", "type": "file",
        "project_id": "3f0c7f3e-6f6e-4c4b-9d0e-0a6a8f1b2c3d", "parent_id": null,
        "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00.5Z",
        "view_url": "http://x", "status": "uploaded", "media_type": "video/quicktime", "file_size": 1
    });
    let schema = spec.component("FileWithIncludes");
    assert_eq!(spec.violations(&schema, &file), Vec::<String>::new());

    let bad = |edit: &dyn Fn(&mut Value), expect: &str| {
        let mut value = file.clone();
        edit(&mut value);
        let errors = spec.violations(&schema, &value);
        assert!(
            errors.iter().any(|e| e.contains(expect)),
            "expected a violation mentioning {expect:?}, got {errors:?}"
        );
    };
    bad(
        &|v| {
            v.as_object_mut().map(|o| o.remove("media_type"));
        },
        "required property \"media_type\" is missing",
    );
    bad(
        &|v| v["file_size"] = json!("1"),
        "/file_size: expected integer",
    );
    bad(&|v| v["name"] = Value::Null, "/name: expected string");
    bad(&|v| v["id"] = json!("not-a-uuid"), "is not a valid uuid");
    bad(
        &|v| v["created_at"] = json!("yesterday"),
        "is not a valid date-time",
    );
    bad(&|v| v["status"] = json!("done"), "is not one of");
    bad(
        &|v| v["upload_urls"] = json!([]),
        "property \"upload_urls\" is not allowed",
    );

    // The discriminator picks the schema by `type`.
    let page = spec.component("FolderAssetsWithIncludesResponse");
    let mut folder_as_file = file.clone();
    folder_as_file["type"] = json!("folder");
    let errors = spec.violations(
        &page,
        &json!({"data": [folder_as_file], "links": {"next": null}}),
    );
    assert!(
        errors.iter().any(|e| e.contains("cover_file_id")),
        "{errors:?}"
    );
    let errors = spec.violations(&page, &json!({"data": [file], "links": {"next": 3}}));
    assert!(
        errors.iter().any(|e| e.contains("/links/next")),
        "{errors:?}"
    );
    let errors = spec.violations(
        &page,
        &json!({"data": [{"type": "comment"}], "links": {"next": null}}),
    );
    assert!(
        errors.iter().any(|e| e.contains("discriminator")),
        "{errors:?}"
    );
    // Error items allow only detail, title and source.
    let errors = spec.violations(
        &spec.component("NotFound"),
        &json!({"errors": [{"detail": "x", "code": "y"}]}),
    );
    assert!(
        errors.iter().any(|e| e.contains("\"code\" is not allowed")),
        "{errors:?}"
    );
    let errors = spec.violations(
        &spec.component("NotFound"),
        &json!({"errors": [{"title": "x"}]}),
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("/errors/0: required property \"detail\"")),
        "{errors:?}"
    );
}

/// One answer to check: what the spec calls it, and what came back.
struct Answer {
    label: String,
    path: &'static str,
    method: &'static str,
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Option<Value>,
}

async fn answer(
    label: &str,
    path: &'static str,
    method: &'static str,
    response: reqwest::Response,
) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        None
    } else {
        Some(
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{label}: not JSON ({e}): {text}")),
        )
    };
    Answer {
        label: label.to_owned(),
        path,
        method,
        status,
        headers,
        body,
    }
}

const ME: &str = "/v4/me";
const ACCOUNTS: &str = "/v4/accounts";
const WORKSPACES: &str = "/v4/accounts/{account_id}/workspaces";
const PROJECTS: &str = "/v4/accounts/{account_id}/workspaces/{workspace_id}/projects";
const PROJECT: &str = "/v4/accounts/{account_id}/projects/{project_id}";
const FOLDER: &str = "/v4/accounts/{account_id}/folders/{folder_id}";
const CHILDREN: &str = "/v4/accounts/{account_id}/folders/{folder_id}/children";
const CREATE_FOLDER: &str = "/v4/accounts/{account_id}/folders/{folder_id}/folders";
const LOCAL_UPLOAD: &str = "/v4/accounts/{account_id}/folders/{folder_id}/files/local_upload";
const STATUS: &str = "/v4/accounts/{account_id}/files/{file_id}/status";
const FILE: &str = "/v4/accounts/{account_id}/files/{file_id}";
const MOVE: &str = "/v4/accounts/{account_id}/files/{file_id}/move";
const CREATE_STACK: &str = "/v4/accounts/{account_id}/folders/{folder_id}/version_stacks";
const STACK: &str = "/v4/accounts/{account_id}/version_stacks/{version_stack_id}";
const STACK_CHILDREN: &str = "/v4/accounts/{account_id}/version_stacks/{version_stack_id}/children";
const MOVE_FOLDER: &str = "/v4/accounts/{account_id}/folders/{folder_id}/move";
const MOVE_STACK: &str = "/v4/accounts/{account_id}/version_stacks/{version_stack_id}/move";

/// Every kind of JSON answer, validated against the spec.
#[tokio::test]
async fn every_answer_matches_the_openapi_spec() {
    let spec = Spec::load();
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    let ws = h.emu.workspace_id();
    let project = h.emu.project_id();
    let mut answers = Vec::new();

    answers.push(answer("me", ME, "get", h.get(&h.url("/v4/me")).await).await);
    answers.push(
        answer(
            "accounts",
            ACCOUNTS,
            "get",
            h.get(&h.url("/v4/accounts")).await,
        )
        .await,
    );
    answers.push(
        answer(
            "workspaces",
            WORKSPACES,
            "get",
            h.get(&h.acct("/workspaces")).await,
        )
        .await,
    );
    answers.push(
        answer(
            "projects",
            PROJECTS,
            "get",
            h.get(&h.acct(&format!("/workspaces/{ws}/projects"))).await,
        )
        .await,
    );
    answers.push(
        answer(
            "project",
            PROJECT,
            "get",
            h.get(&h.acct(&format!("/projects/{project}"))).await,
        )
        .await,
    );
    answers.push(
        answer(
            "root folder",
            FOLDER,
            "get",
            h.get(&h.acct(&format!("/folders/{root}"))).await,
        )
        .await,
    );

    let created = h
        .post(
            &h.acct(&format!("/folders/{root}/folders")),
            &json!({"data": {"name": "SEQ010"}}),
        )
        .await;
    let created = answer("created folder", CREATE_FOLDER, "post", created).await;
    let sub = created
        .body
        .as_ref()
        .and_then(|b| b["data"]["id"].as_str())
        .expect("folder id")
        .to_owned();
    answers.push(created);
    answers.push(
        answer(
            "sub folder",
            FOLDER,
            "get",
            h.get(&h.acct(&format!("/folders/{sub}"))).await,
        )
        .await,
    );

    let upload_url = h.acct(&format!("/folders/{sub}/files/local_upload"));
    let upload = |name: &'static str| {
        let body = json!({"data": {"name": name, "file_size": PART + 5}});
        let url = upload_url.clone();
        let h = &h;
        async move { h.post(&url, &body).await }
    };
    let v1 = answer(
        "local_upload",
        LOCAL_UPLOAD,
        "post",
        upload("v001.mov").await,
    )
    .await;
    let v1_body = v1.body.clone().expect("body")["data"].clone();
    answers.push(v1);
    let v1_id = v1_body["id"].as_str().expect("id").to_owned();
    answers.push(
        answer(
            "status (created)",
            STATUS,
            "get",
            h.get(&h.acct(&format!("/files/{v1_id}/status"))).await,
        )
        .await,
    );
    answers.push(
        answer(
            "file (created)",
            FILE,
            "get",
            h.get(&h.acct(&format!("/files/{v1_id}"))).await,
        )
        .await,
    );
    h.upload_all(&v1_body, &test_bytes((PART + 5) as usize, 9))
        .await;
    answers.push(
        answer(
            "status (complete)",
            STATUS,
            "get",
            h.get(&h.acct(&format!("/files/{v1_id}/status"))).await,
        )
        .await,
    );
    answers.push(
        answer(
            "file (uploaded)",
            FILE,
            "get",
            h.get(&h.acct(&format!("/files/{v1_id}"))).await,
        )
        .await,
    );

    let v2 = answer(
        "local_upload 2",
        LOCAL_UPLOAD,
        "post",
        upload("v002.mov").await,
    )
    .await;
    let v2_id = v2
        .body
        .as_ref()
        .and_then(|b| b["data"]["id"].as_str())
        .expect("id")
        .to_owned();
    let v3 = answer(
        "local_upload 3",
        LOCAL_UPLOAD,
        "post",
        upload("v003.mov").await,
    )
    .await;
    let v3_id = v3
        .body
        .as_ref()
        .and_then(|b| b["data"]["id"].as_str())
        .expect("id")
        .to_owned();
    answers.extend([v2, v3]);
    let plates = h.emu.create_folder(&sub, "plates");

    let stack = h
        .post(
            &h.acct(&format!("/folders/{sub}/version_stacks")),
            &json!({"data": {"file_ids": [v1_id, v2_id]}}),
        )
        .await;
    let stack = answer("created version stack", CREATE_STACK, "post", stack).await;
    let stack_id = stack
        .body
        .as_ref()
        .and_then(|b| b["data"]["id"].as_str())
        .expect("id")
        .to_owned();
    answers.push(stack);
    answers.push(
        answer(
            "version stack",
            STACK,
            "get",
            h.get(&h.acct(&format!("/version_stacks/{stack_id}"))).await,
        )
        .await,
    );
    answers.push(
        answer(
            "children (file, folder, stack)",
            CHILDREN,
            "get",
            h.get(&h.acct(&format!("/folders/{sub}/children?include_total_count=true")))
                .await,
        )
        .await,
    );
    answers.push(
        answer(
            "children page with next",
            CHILDREN,
            "get",
            h.get(&h.acct(&format!("/folders/{sub}/children?page_size=1")))
                .await,
        )
        .await,
    );
    let moved = h
        .send_json(
            reqwest::Method::PATCH,
            &h.acct(&format!("/files/{v3_id}/move")),
            &json!({"data": {"parent_id": stack_id}}),
        )
        .await;
    answers.push(answer("moved file", MOVE, "patch", moved).await);
    answers.push(
        answer(
            "version stack children",
            STACK_CHILDREN,
            "get",
            h.get(&h.acct(&format!("/version_stacks/{stack_id}/children")))
                .await,
        )
        .await,
    );

    let moved_folder = h
        .send_json(
            reqwest::Method::PATCH,
            &h.acct(&format!("/folders/{plates}/move")),
            &json!({"data": {"parent_id": root}}),
        )
        .await;
    answers.push(answer("moved folder", MOVE_FOLDER, "patch", moved_folder).await);
    let moved_stack = h
        .send_json(
            reqwest::Method::PATCH,
            &h.acct(&format!("/version_stacks/{stack_id}/move")),
            &json!({"data": {"parent_id": root}}),
        )
        .await;
    answers.push(answer("moved version stack", MOVE_STACK, "patch", moved_stack).await);
    let into_itself = h
        .send_json(
            reqwest::Method::PATCH,
            &h.acct(&format!("/folders/{plates}/move")),
            &json!({"data": {"parent_id": plates}}),
        )
        .await;
    answers.push(answer("422 folder into itself", MOVE_FOLDER, "patch", into_itself).await);
    let delete_folder = h
        .http
        .delete(h.acct(&format!("/folders/{plates}")))
        .bearer_auth(&h.token)
        .send()
        .await
        .expect("answered");
    answers.push(answer("delete folder", FOLDER, "delete", delete_folder).await);

    // Errors.
    let no_token = h.http.get(h.url("/v4/me")).send().await.expect("answered");
    answers.push(answer("401", ME, "get", no_token).await);
    let missing = "00000000-0000-4000-8000-000000000000";
    answers.push(
        answer(
            "404 folder",
            FOLDER,
            "get",
            h.get(&h.acct(&format!("/folders/{missing}"))).await,
        )
        .await,
    );
    answers.push(
        answer(
            "404 file",
            FILE,
            "get",
            h.get(&h.acct(&format!("/files/{missing}"))).await,
        )
        .await,
    );
    let bad_size = h
        .post(
            &h.acct(&format!("/folders/{sub}/files/local_upload")),
            &json!({"data": {"name": "x.mov", "file_size": 0}}),
        )
        .await;
    answers.push(answer("422 local_upload", LOCAL_UPLOAD, "post", bad_size).await);
    answers.push(
        answer(
            "422 page_size",
            CHILDREN,
            "get",
            h.get(&h.acct(&format!("/folders/{sub}/children?page_size=0")))
                .await,
        )
        .await,
    );
    let one_id = h
        .post(
            &h.acct(&format!("/folders/{sub}/version_stacks")),
            &json!({"data": {"file_ids": [v3_id]}}),
        )
        .await;
    answers.push(answer("422 version_stacks", CREATE_STACK, "post", one_id).await);
    let malformed = h
        .http
        .post(h.acct(&format!("/folders/{sub}/folders")))
        .bearer_auth(&h.token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body("{")
        .send()
        .await
        .expect("answered");
    answers.push(answer("400 malformed", CREATE_FOLDER, "post", malformed).await);
    h.emu
        .set_rate_limits(postflow_frameio_emulator::RateLimits::unlimited().with(
            "status",
            1,
            std::time::Duration::from_secs(60),
        ));
    let status_url = h.acct(&format!("/files/{v1_id}/status"));
    answers.push(
        answer(
            "status under limit",
            STATUS,
            "get",
            h.get(&status_url).await,
        )
        .await,
    );
    answers.push(answer("429", STATUS, "get", h.get(&status_url).await).await);
    let delete = h
        .http
        .delete(h.acct(&format!("/files/{v3_id}")))
        .bearer_auth(&h.token)
        .send()
        .await
        .expect("answered");
    answers.push(answer("delete", FILE, "delete", delete).await);

    let mut report = Vec::new();
    let mut statuses = BTreeSet::new();
    for a in &answers {
        statuses.insert(a.status);
        let mut errors = spec.check_headers(a.path, a.method, a.status, &a.headers);
        match &a.body {
            Some(body) => errors.extend(spec.check_body(a.path, a.method, a.status, body)),
            None if a.status == 204 => {}
            None => errors.push("no body".to_owned()),
        }
        if !errors.is_empty() {
            report.push(format!(
                "{} ({} {} -> {}):\n    {}\n    body: {}",
                a.label,
                a.method.to_uppercase(),
                a.path,
                a.status,
                errors.join("\n    "),
                a.body.as_ref().map(Value::to_string).unwrap_or_default()
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {} answers break the OpenAPI spec:\n{}",
        report.len(),
        answers.len(),
        report.join("\n")
    );
    let expected: BTreeSet<u16> = [200, 201, 204, 400, 401, 404, 422, 429].into();
    assert_eq!(statuses, expected, "every kind of answer was produced");
    assert!(answers.len() >= 30);
}
