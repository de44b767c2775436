//! The Frame.io V4 routes: the gate every `/v4` request passes (5xx bursts,
//! bearer auth, rate limits, injected failures, `x-ratelimit-*` headers) and
//! the handlers.
//!
//! Assumptions where the spec is silent:
//! - Malformed JSON is 400; well-formed JSON with a missing, mistyped or
//!   unknown field (the spec's request schemas forbid extra properties) is
//!   422 with `source.pointer`. Request bodies must be `application/json`.
//! - Unknown account, workspace, project, folder, file or version stack
//!   ids are 404.
//! - Lists are in creation order (moves put an asset last). Cursors are
//!   opaque, bound to one listing, and stay valid while assets are added or
//!   removed. `links.next` is a relative path carrying only `after`.
//! - `page_size` is 1..=500 for folder children (the spec's
//!   `AssetRequestPageSize`) and 1..=100 elsewhere (`RequestPageSize`).
//! - A version stack is made of files that are not in a stack already;
//!   its name is its head (newest) version's; a stack left without files
//!   disappears.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::config::RouteClass;
use crate::render;
use crate::state::{AssetBody, RateDecision, Shared, TokenCheck};
use crate::upload;
use crate::util::ceil_secs;

/// Largest `file_size` the spec allows (5 TB).
const MAX_FILE_SIZE: u64 = 5_000_000_000_000;
/// Largest `page_size` for folder children (`AssetRequestPageSize`).
const MAX_ASSET_PAGE_SIZE: u32 = 500;
/// Largest `page_size` elsewhere (`RequestPageSize`).
const MAX_PAGE_SIZE: u32 = 100;

/// The `/v4` routes, behind the gate.
pub(crate) fn routes(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/v4/me", get(me))
        .route("/v4/accounts", get(accounts))
        .route("/v4/accounts/{account_id}/workspaces", get(workspaces))
        .route(
            "/v4/accounts/{account_id}/workspaces/{workspace_id}/projects",
            get(projects),
        )
        .route(
            "/v4/accounts/{account_id}/projects/{project_id}",
            get(project),
        )
        .route(
            "/v4/accounts/{account_id}/folders/{folder_id}",
            get(folder).delete(delete_folder),
        )
        .route(
            "/v4/accounts/{account_id}/folders/{folder_id}/move",
            patch(move_folder),
        )
        .route(
            "/v4/accounts/{account_id}/version_stacks/{version_stack_id}/move",
            patch(move_version_stack),
        )
        .route(
            "/v4/accounts/{account_id}/folders/{folder_id}/children",
            get(children),
        )
        .route(
            "/v4/accounts/{account_id}/folders/{folder_id}/folders",
            post(create_folder),
        )
        .route(
            "/v4/accounts/{account_id}/folders/{folder_id}/files/local_upload",
            post(local_upload),
        )
        .route(
            "/v4/accounts/{account_id}/folders/{folder_id}/version_stacks",
            post(create_version_stack),
        )
        .route(
            "/v4/accounts/{account_id}/files/{file_id}",
            get(get_file).delete(delete_file),
        )
        .route(
            "/v4/accounts/{account_id}/files/{file_id}/status",
            get(file_status),
        )
        .route(
            "/v4/accounts/{account_id}/files/{file_id}/move",
            patch(move_file),
        )
        .route(
            "/v4/accounts/{account_id}/files/{file_id}/comments",
            get(comments).post(create_comment),
        )
        .route(
            "/v4/accounts/{account_id}/comments/{comment_id}",
            get(get_comment)
                .patch(update_comment)
                .delete(delete_comment),
        )
        .route(
            "/v4/accounts/{account_id}/version_stacks/{version_stack_id}",
            get(version_stack),
        )
        .route(
            "/v4/accounts/{account_id}/version_stacks/{version_stack_id}/children",
            get(version_stack_children),
        )
        .route_layer(axum::middleware::from_fn_with_state(shared, gate))
}

/// The route class of a matched `/v4` route.
fn classify(method: &Method, matched: Option<&str>) -> RouteClass {
    let Some(path) = matched else {
        return RouteClass::OtherApi;
    };
    let tail = path
        .strip_prefix("/v4/accounts/{account_id}")
        .unwrap_or(path);
    match (method.as_str(), tail) {
        ("GET", "/v4/me") => RouteClass::Me,
        ("GET", "/v4/accounts") => RouteClass::Accounts,
        ("GET", "/workspaces") => RouteClass::Workspaces,
        ("GET", "/workspaces/{workspace_id}/projects") => RouteClass::Projects,
        ("GET", "/projects/{project_id}") => RouteClass::Project,
        ("GET", "/folders/{folder_id}") => RouteClass::Folder,
        ("GET", "/folders/{folder_id}/children") => RouteClass::Children,
        ("POST", "/folders/{folder_id}/folders") => RouteClass::CreateFolder,
        ("POST", "/folders/{folder_id}/files/local_upload") => RouteClass::LocalUpload,
        ("POST", "/folders/{folder_id}/version_stacks") => RouteClass::VersionStacks,
        ("GET", "/files/{file_id}") => RouteClass::File,
        ("DELETE", "/files/{file_id}") => RouteClass::Delete,
        ("GET", "/files/{file_id}/status") => RouteClass::Status,
        ("PATCH", "/files/{file_id}/move") => RouteClass::Move,
        ("DELETE", "/folders/{folder_id}") => RouteClass::DeleteFolder,
        ("PATCH", "/folders/{folder_id}/move") => RouteClass::MoveFolder,
        ("PATCH", "/version_stacks/{version_stack_id}/move") => RouteClass::MoveVersionStack,
        ("GET", "/version_stacks/{version_stack_id}") => RouteClass::VersionStack,
        ("GET", "/version_stacks/{version_stack_id}/children") => RouteClass::VersionStackChildren,
        _ => RouteClass::OtherApi,
    }
}

/// The bearer token of a request, if it has one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Adds `x-ratelimit-*` (and `Retry-After` on 429 when configured).
fn with_rate_headers(mut response: Response, decision: RateDecision) -> Response {
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(decision.limit.limit));
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(decision.remaining),
    );
    let window_ms = u64::try_from(decision.limit.window.as_millis()).unwrap_or(u64::MAX);
    headers.insert("x-ratelimit-window", HeaderValue::from(window_ms));
    response
}

/// Every `/v4` request passes here: count it, then (in this order) a 5xx
/// burst, authentication, the rate limit and injected failures; every
/// answer gets the rate-limit headers.
async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let class = classify(
        request.method(),
        request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
    );
    let token = bearer(request.headers()).map(str::to_owned);
    shared.lock().stats.count_request(class);

    if shared.faults.take_burst() {
        let mut state = shared.lock();
        state.stats.injected_failures += 1;
        let decision = state.rate_peek(token.as_deref(), class);
        drop(state);
        let error = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
        return with_rate_headers(error.into_response(), decision);
    }

    let (decision, retry_after) = {
        let mut state = shared.lock();
        let check = state.auth.check(token.as_deref());
        if check != TokenCheck::Valid {
            state.stats.unauthorized += 1;
            let decision = state.rate_peek(None, class);
            drop(state);
            let error = ApiError::new(StatusCode::UNAUTHORIZED, check.detail());
            return with_rate_headers(error.into_response(), decision);
        }
        let decision = state.rate_consume(token.as_deref().unwrap_or_default(), class);
        if !decision.allowed {
            state.stats.rate_limited += 1;
        }
        (decision, state.cfg.retry_after)
    };
    let too_many = |decision: RateDecision| {
        let mut response =
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests").into_response();
        if let Some(after) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(ceil_secs(after)));
        }
        with_rate_headers(
            response,
            RateDecision {
                remaining: 0,
                ..decision
            },
        )
    };
    if !decision.allowed {
        return too_many(decision);
    }

    if let Some(status) = shared.faults.take_api_failure(class) {
        shared.lock().stats.injected_failures += 1;
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status == StatusCode::TOO_MANY_REQUESTS {
            // Indistinguishable from a real 429.
            return too_many(decision);
        }
        let error = ApiError::new(
            status,
            status.canonical_reason().unwrap_or("Injected failure"),
        );
        return with_rate_headers(error.into_response(), decision);
    }

    // Before the handler acts: a slow create widens the window in which two
    // clients both see a folder missing (see `Faults::delay_route`).
    let before = shared.faults.route_delay(class);
    if !before.is_zero() {
        tokio::time::sleep(before).await;
    }
    let response = next.run(request).await;
    let response = if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").into_response()
    } else {
        response
    };
    with_rate_headers(response, decision)
}

/// The answer to an unknown `/v4` path: 404 with the error body and headers.
pub(crate) fn unknown_route(shared: &Shared) -> Response {
    let mut state = shared.lock();
    state.stats.count_request(RouteClass::OtherApi);
    let decision = state.rate_peek(None, RouteClass::OtherApi);
    drop(state);
    with_rate_headers(
        ApiError::new(StatusCode::NOT_FOUND, "No such route").into_response(),
        decision,
    )
}

/// A V4 error answer.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    detail: String,
    pointer: Option<String>,
    /// Only for `JsonErrorResponse` answers (which require `title` and
    /// `source.pointer`).
    title: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
            pointer: None,
            title: None,
        }
    }

    fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }

    fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    fn unprocessable(pointer: &str, detail: impl Into<String>) -> ApiError {
        ApiError {
            pointer: Some(pointer.to_owned()),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
        }
    }

    /// In the `JsonErrorResponse` shape (version stack creation's 422).
    fn json_api(mut self) -> ApiError {
        if self.status == StatusCode::UNPROCESSABLE_ENTITY {
            self.title = Some("Unprocessable Content".to_owned());
            self.pointer.get_or_insert_with(|| "/data".to_owned());
        }
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = render::error_body(&self.detail, self.pointer.as_deref(), self.title.as_deref());
        (self.status, axum::Json(body)).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

fn ok(value: Value) -> ApiResult {
    Ok(axum::Json(json!({ "data": value })).into_response())
}

fn created(value: Value) -> ApiResult {
    Ok((StatusCode::CREATED, axum::Json(json!({ "data": value }))).into_response())
}

fn check_account(shared: &Shared, account_id: &str) -> Result<(), ApiError> {
    if account_id == shared.seed.account_id {
        Ok(())
    } else {
        Err(ApiError::not_found("Account"))
    }
}

// ----- request bodies -----

/// The `data` object of a JSON request body, whose keys must be among
/// `allowed`.
fn parse_data(
    headers: &HeaderMap,
    body: &Bytes,
    allowed: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::bad_request(
            "Content-Type must be application/json",
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Malformed JSON body: {e}")))?;
    let Value::Object(mut top) = value else {
        return Err(ApiError::unprocessable(
            "",
            "The body must be a JSON object",
        ));
    };
    if let Some(key) = top.keys().find(|k| *k != "data") {
        return Err(ApiError::unprocessable(
            &format!("/{key}"),
            format!("Unknown property {key:?}"),
        ));
    }
    let data = match top.remove("data") {
        Some(Value::Object(data)) => data,
        Some(_) => return Err(ApiError::unprocessable("/data", "data must be an object")),
        None => return Err(ApiError::unprocessable("/data", "data is required")),
    };
    if let Some(key) = data.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::unprocessable(
            &format!("/data/{key}"),
            format!("Unknown property {key:?}"),
        ));
    }
    Ok(data)
}

/// A required name: a string of 1..=255 characters.
fn name_field(data: &Map<String, Value>) -> Result<String, ApiError> {
    match data.get("name") {
        Some(Value::String(name)) => {
            let chars = name.chars().count();
            if (1..=255).contains(&chars) {
                Ok(name.clone())
            } else {
                Err(ApiError::unprocessable(
                    "/data/name",
                    format!("name must be 1 to 255 characters long (got {chars})"),
                ))
            }
        }
        Some(_) => Err(ApiError::unprocessable(
            "/data/name",
            "name must be a string",
        )),
        None => Err(ApiError::unprocessable("/data/name", "name is required")),
    }
}

// ----- pagination -----

/// A parsed list query: page size, cursor position and whether to count.
struct PageQuery {
    page_size: usize,
    after: Option<u64>,
    include_total: bool,
    /// Other parameters, for the handlers that read them.
    params: Vec<(String, String)>,
}

fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn encode_cursor(scope: &str, position: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{scope}|{position}"))
}

fn decode_cursor(scope: &str, cursor: &str) -> Option<u64> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (cursor_scope, position) = raw.rsplit_once('|')?;
    (cursor_scope == scope).then_some(())?;
    position.parse().ok()
}

fn page_query(
    shared: &Shared,
    raw: Option<&str>,
    scope: &str,
    max: u32,
) -> Result<PageQuery, ApiError> {
    let params = parse_query(raw);
    let default = shared.lock().cfg.page_size_default.clamp(1, max);
    let page_size = match param(&params, "page_size") {
        None | Some("") => default,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                return Err(ApiError::unprocessable(
                    "/page_size",
                    format!("page_size must be an integer from 1 to {max} (got {s:?})"),
                ))
            }
        },
    };
    let after = match param(&params, "after") {
        None | Some("") => None,
        Some(cursor) => Some(decode_cursor(scope, cursor).ok_or_else(|| {
            ApiError::unprocessable("/after", "after is not a cursor of this listing")
        })?),
    };
    let include_total = matches!(param(&params, "include_total_count"), Some("true"));
    Ok(PageQuery {
        page_size: page_size as usize,
        after,
        include_total,
        params,
    })
}

/// One page of `items` (position, value), answered as
/// `{"data": [...], "links": {"next": ...}}`.
fn page_response(
    query: &PageQuery,
    scope: &str,
    path: &str,
    items: impl Iterator<Item = (u64, Value)>,
) -> ApiResult {
    let mut data = Vec::with_capacity(query.page_size);
    let mut last = None;
    let mut more = false;
    let mut total = 0usize;
    for (position, value) in items {
        total += 1;
        if query.after.is_some_and(|after| position <= after) {
            continue;
        }
        if data.len() < query.page_size {
            data.push(value);
            last = Some(position);
        } else {
            more = true;
            if !query.include_total {
                break;
            }
        }
    }
    let next = match (more, last) {
        (true, Some(last)) => Value::String(format!("{path}?after={}", encode_cursor(scope, last))),
        _ => Value::Null,
    };
    let mut body = json!({ "data": data, "links": { "next": next } });
    if query.include_total {
        body["total_count"] = json!(total);
    }
    Ok(axum::Json(body).into_response())
}

// ----- handlers -----

async fn me(State(shared): State<Arc<Shared>>) -> ApiResult {
    ok(render::profile(&shared))
}

async fn accounts(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = page_query(&shared, raw.as_deref(), "accounts", MAX_PAGE_SIZE)?;
    let account = render::account(&shared, &shared.lock());
    page_response(
        &query,
        "accounts",
        "/v4/accounts",
        std::iter::once((1, account)),
    )
}

async fn workspaces(
    State(shared): State<Arc<Shared>>,
    Path(account_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let query = page_query(&shared, raw.as_deref(), "workspaces", MAX_PAGE_SIZE)?;
    let path = format!("/v4/accounts/{account_id}/workspaces");
    let items = std::iter::once((1, render::workspace(&shared)));
    page_response(&query, "workspaces", &path, items)
}

async fn projects(
    State(shared): State<Arc<Shared>>,
    Path((account_id, workspace_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    if workspace_id != shared.seed.workspace_id {
        return Err(ApiError::not_found("Workspace"));
    }
    let query = page_query(&shared, raw.as_deref(), &workspace_id, MAX_PAGE_SIZE)?;
    let path = format!("/v4/accounts/{account_id}/workspaces/{workspace_id}/projects");
    let state = shared.lock();
    let items = state
        .projects
        .iter()
        .enumerate()
        .map(|(i, p)| (i as u64 + 1, render::project(&shared, &state, p)));
    page_response(&query, &workspace_id, &path, items)
}

async fn project(
    State(shared): State<Arc<Shared>>,
    Path((account_id, project_id)): Path<(String, String)>,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let state = shared.lock();
    let project = state
        .project(&project_id)
        .ok_or_else(|| ApiError::not_found("Project"))?;
    ok(render::project(&shared, &state, project))
}

async fn folder(
    State(shared): State<Arc<Shared>>,
    Path((account_id, folder_id)): Path<(String, String)>,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let state = shared.lock();
    let folder = state
        .folder(&folder_id)
        .ok_or_else(|| ApiError::not_found("Folder"))?;
    ok(render::asset(&shared, &state, folder))
}

/// The `type` filter: a comma list of `file`, `folder`, `version_stack`.
fn type_filter(params: &[(String, String)]) -> Result<Option<Vec<&'static str>>, ApiError> {
    let Some(raw) = param(params, "type").filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let mut kinds = Vec::new();
    for kind in raw.split(',').map(str::trim) {
        match kind {
            "file" => kinds.push("file"),
            "folder" => kinds.push("folder"),
            "version_stack" => kinds.push("version_stack"),
            other => {
                return Err(ApiError::unprocessable(
                    "/type",
                    format!("type must be file, folder or version_stack (got {other:?})"),
                ))
            }
        }
    }
    Ok(Some(kinds))
}

fn kind_word(body: &AssetBody) -> &'static str {
    match body {
        AssetBody::File(_) => "file",
        AssetBody::Folder => "folder",
        AssetBody::VersionStack => "version_stack",
    }
}

async fn children(
    State(shared): State<Arc<Shared>>,
    Path((account_id, folder_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let query = page_query(&shared, raw.as_deref(), &folder_id, MAX_ASSET_PAGE_SIZE)?;
    let kinds = type_filter(&query.params)?;
    let state = shared.lock();
    state
        .folder(&folder_id)
        .ok_or_else(|| ApiError::not_found("Folder"))?;
    let items = state
        .children(&folder_id)
        .filter(|(_, a)| {
            kinds
                .as_ref()
                .is_none_or(|k| k.contains(&kind_word(&a.body)))
        })
        .map(|(seq, a)| (seq, render::asset(&shared, &state, a)));
    let path = format!("/v4/accounts/{account_id}/folders/{folder_id}/children");
    page_response(&query, &folder_id, &path, items)
}

async fn create_folder(
    State(shared): State<Arc<Shared>>,
    Path((account_id, folder_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let data = parse_data(&headers, &body, &["name"])?;
    let name = name_field(&data)?;
    let mut state = shared.lock();
    let id = state
        .create_folder(&folder_id, &name)
        .ok_or_else(|| ApiError::not_found("Folder"))?;
    state.stats.folders_created += 1;
    let folder = state
        .folder(&id)
        .ok_or_else(|| ApiError::not_found("Folder"))?;
    created(render::asset(&shared, &state, folder))
}

async fn local_upload(
    State(shared): State<Arc<Shared>>,
    Path((account_id, folder_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let data = parse_data(&headers, &body, &["name", "file_size"])?;
    let name = name_field(&data)?;
    if let Some(status) = shared.faults.take_named_failure(&name) {
        shared.lock().stats.injected_failures += 1;
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let detail = if status == StatusCode::UNPROCESSABLE_ENTITY {
            format!("{name} cannot be uploaded here (injected failure)")
        } else {
            status
                .canonical_reason()
                .unwrap_or("Injected failure")
                .to_string()
        };
        return Err(ApiError::new(status, detail));
    }
    let file_size = match data.get("file_size") {
        Some(Value::Number(n)) => match n.as_u64() {
            Some(size) if (1..=MAX_FILE_SIZE).contains(&size) => size,
            _ => {
                return Err(ApiError::unprocessable(
                    "/data/file_size",
                    format!("file_size must be an integer from 1 to {MAX_FILE_SIZE} (got {n})"),
                ))
            }
        },
        Some(_) => {
            return Err(ApiError::unprocessable(
                "/data/file_size",
                "file_size must be an integer",
            ))
        }
        None => {
            return Err(ApiError::unprocessable(
                "/data/file_size",
                "file_size is required",
            ))
        }
    };
    let mut state = shared.lock();
    let id = state
        .create_file(&folder_id, &name, file_size)
        .ok_or_else(|| ApiError::not_found("Folder"))?;
    state.stats.local_uploads_created += 1;
    let ttl = state.cfg.upload_url_ttl;
    let (asset, file) = state.file(&id).ok_or_else(|| ApiError::not_found("File"))?;
    let now = std::time::SystemTime::now();
    let urls = file
        .parts
        .iter()
        .enumerate()
        .map(|(index, part)| (part.size, upload::part_url(&shared, &id, index, now, ttl)))
        .collect();
    created(render::file_with_upload_urls(
        &shared, &state, asset, file, urls,
    ))
}

async fn get_file(
    State(shared): State<Arc<Shared>>,
    Path((account_id, file_id)): Path<(String, String)>,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let state = shared.lock();
    let (asset, _) = state
        .file(&file_id)
        .ok_or_else(|| ApiError::not_found("File"))?;
    ok(render::asset(&shared, &state, asset))
}

async fn delete_file(
    State(shared): State<Arc<Shared>>,
    Path((account_id, file_id)): Path<(String, String)>,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let mut state = shared.lock();
    if !state.delete_file(&file_id) {
        return Err(ApiError::not_found("File"));
    }
    state.stats.files_deleted += 1;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn file_status(
    State(shared): State<Arc<Shared>>,
    Path((account_id, file_id)): Path<(String, String)>,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let mut state = shared.lock();
    let status = state
        .file(&file_id)
        .map(|(asset, file)| render::upload_status(asset, file))
        .ok_or_else(|| ApiError::not_found("File"))?;
    state.stats.status_polls += 1;
    ok(status)
}

async fn create_version_stack(
    State(shared): State<Arc<Shared>>,
    Path((account_id, folder_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let data = parse_data(&headers, &body, &["file_ids"]).map_err(ApiError::json_api)?;
    let ids: Vec<String> = match data.get("file_ids") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    ApiError::unprocessable(
                        &format!("/data/file_ids/{i}"),
                        "file ids must be strings",
                    )
                })
            })
            .collect::<Result<_, _>>()
            .map_err(ApiError::json_api)?,
        Some(_) => {
            return Err(
                ApiError::unprocessable("/data/file_ids", "file_ids must be an array").json_api(),
            )
        }
        None => {
            return Err(
                ApiError::unprocessable("/data/file_ids", "file_ids is required").json_api(),
            )
        }
    };
    if !(2..=10).contains(&ids.len()) {
        return Err(ApiError::unprocessable(
            "/data/file_ids",
            format!("file_ids must hold 2 to 10 ids (got {})", ids.len()),
        )
        .json_api());
    }
    let mut state = shared.lock();
    state
        .folder(&folder_id)
        .ok_or_else(|| ApiError::not_found("Folder"))?;
    for (i, id) in ids.iter().enumerate() {
        let pointer = format!("/data/file_ids/{i}");
        if ids[..i].contains(id) {
            return Err(
                ApiError::unprocessable(&pointer, format!("{id} is listed twice")).json_api(),
            );
        }
        let (asset, _) = state
            .file(id)
            .ok_or_else(|| ApiError::not_found(&format!("File {id}")))?;
        let parent = asset.parent_id.as_deref().unwrap_or_default();
        if state.stack(parent).is_some() {
            return Err(ApiError::unprocessable(
                &pointer,
                format!("file {id} is already in a version stack"),
            )
            .json_api());
        }
    }
    let stack_id = state.create_stack(&folder_id, &ids);
    state.stats.version_stacks_created += 1;
    let stack = state
        .stack(&stack_id)
        .ok_or_else(|| ApiError::not_found("Version stack"))?;
    created(render::asset(&shared, &state, stack))
}

async fn version_stack(
    State(shared): State<Arc<Shared>>,
    Path((account_id, stack_id)): Path<(String, String)>,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let state = shared.lock();
    let stack = state
        .stack(&stack_id)
        .ok_or_else(|| ApiError::not_found("Version stack"))?;
    ok(render::asset(&shared, &state, stack))
}

async fn version_stack_children(
    State(shared): State<Arc<Shared>>,
    Path((account_id, stack_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let query = page_query(&shared, raw.as_deref(), &stack_id, MAX_PAGE_SIZE)?;
    let state = shared.lock();
    state
        .stack(&stack_id)
        .ok_or_else(|| ApiError::not_found("Version stack"))?;
    let items = state
        .children(&stack_id)
        .map(|(seq, a)| (seq, render::asset(&shared, &state, a)));
    let path = format!("/v4/accounts/{account_id}/version_stacks/{stack_id}/children");
    page_response(&query, &stack_id, &path, items)
}

/// The `parent_id` of a move request.
fn parent_id_field(headers: &HeaderMap, body: &Bytes) -> Result<String, ApiError> {
    let data = parse_data(headers, body, &["parent_id"])?;
    match data.get("parent_id") {
        Some(Value::String(id)) => Ok(id.clone()),
        Some(_) => Err(ApiError::unprocessable(
            "/data/parent_id",
            "parent_id must be a string",
        )),
        None => Err(ApiError::unprocessable(
            "/data/parent_id",
            "parent_id is required",
        )),
    }
}

async fn move_file(
    State(shared): State<Arc<Shared>>,
    Path((account_id, file_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let parent_id = parent_id_field(&headers, &body)?;
    let mut state = shared.lock();
    state
        .file(&file_id)
        .ok_or_else(|| ApiError::not_found("File"))?;
    if state.folder(&parent_id).is_none() && state.stack(&parent_id).is_none() {
        return Err(ApiError::not_found("Destination folder or version stack"));
    }
    state.move_file(&file_id, &parent_id);
    state.stats.files_moved += 1;
    let (asset, _) = state
        .file(&file_id)
        .ok_or_else(|| ApiError::not_found("File"))?;
    ok(render::asset(&shared, &state, asset))
}

/// Deletes a folder with everything in it, as Frame.io does (its files
/// are gone from the API). The project's root folder cannot be deleted.
async fn delete_folder(
    State(shared): State<Arc<Shared>>,
    Path((account_id, folder_id)): Path<(String, String)>,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let mut state = shared.lock();
    let folder = state
        .folder(&folder_id)
        .ok_or_else(|| ApiError::not_found("Folder"))?;
    if folder.parent_id.is_none() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "The project's root folder cannot be deleted",
        ));
    }
    state.delete_folder(&folder_id);
    state.stats.folders_deleted += 1;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn move_folder(
    State(shared): State<Arc<Shared>>,
    Path((account_id, folder_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let parent_id = parent_id_field(&headers, &body)?;
    let mut state = shared.lock();
    let folder = state
        .folder(&folder_id)
        .ok_or_else(|| ApiError::not_found("Folder"))?;
    if folder.parent_id.is_none() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "The project's root folder cannot be moved",
        ));
    }
    state
        .folder(&parent_id)
        .ok_or_else(|| ApiError::not_found("Destination folder"))?;
    if state.is_within(&parent_id, &folder_id) {
        return Err(ApiError::unprocessable(
            "/data/parent_id",
            "a folder cannot be moved into itself or one of its subfolders",
        ));
    }
    state.move_asset(&folder_id, &parent_id);
    state.stats.folders_moved += 1;
    let folder = state
        .folder(&folder_id)
        .ok_or_else(|| ApiError::not_found("Folder"))?;
    ok(render::asset(&shared, &state, folder))
}

async fn move_version_stack(
    State(shared): State<Arc<Shared>>,
    Path((account_id, stack_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let parent_id = parent_id_field(&headers, &body)?;
    let mut state = shared.lock();
    state
        .stack(&stack_id)
        .ok_or_else(|| ApiError::not_found("Version stack"))?;
    state
        .folder(&parent_id)
        .ok_or_else(|| ApiError::not_found("Destination folder"))?;
    state.move_asset(&stack_id, &parent_id);
    state.stats.version_stacks_moved += 1;
    let stack = state
        .stack(&stack_id)
        .ok_or_else(|| ApiError::not_found("Version stack"))?;
    ok(render::asset(&shared, &state, stack))
}

/// A minimal page for `view_url`s: the asset's name, kind and status.
pub(crate) async fn view(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let mut state = shared.lock();
    state.stats.count_request(RouteClass::View);
    let title = if let Some(project) = state.project(&id) {
        Some(format!("Project {}", project.name))
    } else {
        state.asset(&id).map(|a| match &a.body {
            AssetBody::File(f) => format!("File {} ({})", a.name, render::file_status_word(f)),
            AssetBody::Folder => format!("Folder {}", a.name),
            AssetBody::VersionStack => format!("Version stack {}", a.name),
        })
    };
    drop(state);
    match title {
        Some(title) => {
            let title = crate::util::html_escape(&title);
            let html = format!(
                "<!doctype html><title>{title}</title><h1>{title}</h1><p>Served by the PostFlow Frame.io emulator.</p>"
            );
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                Body::from(html),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

// ----- comments -----

/// The `text` of a comment body: a non-empty string.
fn comment_text(data: &Map<String, Value>) -> Result<String, ApiError> {
    match data.get("text") {
        Some(Value::String(t)) if !t.trim().is_empty() => Ok(t.clone()),
        _ => Err(ApiError::unprocessable(
            "/data/text",
            "text must be a non-empty string",
        )),
    }
}

async fn comments(
    State(shared): State<Arc<Shared>>,
    Path((account_id, file_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let query = page_query(&shared, raw.as_deref(), &file_id, MAX_PAGE_SIZE)?;
    let state = shared.lock();
    state
        .file(&file_id)
        .ok_or_else(|| ApiError::not_found("File"))?;
    let mut found = state.comments_on(&file_id);
    if param(&query.params, "sort") == Some("created_at_desc") {
        found.reverse();
    }
    let items = found
        .into_iter()
        .enumerate()
        .map(|(i, c)| (i as u64 + 1, render::comment(c)));
    let path = format!("/v4/accounts/{account_id}/files/{file_id}/comments");
    page_response(&query, &file_id, &path, items)
}

async fn create_comment(
    State(shared): State<Arc<Shared>>,
    Path((account_id, file_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let data = parse_data(&headers, &body, &["text"])?;
    let text = comment_text(&data)?;
    let comment = shared
        .lock()
        .add_comment(&file_id, &text)
        .ok_or_else(|| ApiError::not_found("File"))?;
    created(render::comment(&comment))
}

async fn get_comment(
    State(shared): State<Arc<Shared>>,
    Path((account_id, comment_id)): Path<(String, String)>,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let state = shared.lock();
    let comment = state
        .comments
        .get(&comment_id)
        .ok_or_else(|| ApiError::not_found("Comment"))?;
    ok(render::comment(comment))
}

async fn update_comment(
    State(shared): State<Arc<Shared>>,
    Path((account_id, comment_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    let data = parse_data(&headers, &body, &["text"])?;
    let text = comment_text(&data)?;
    let mut state = shared.lock();
    let comment = state
        .comments
        .get_mut(&comment_id)
        .ok_or_else(|| ApiError::not_found("Comment"))?;
    comment.text = text;
    comment.updated_at = std::time::SystemTime::now().max(comment.updated_at);
    let answer = render::comment(comment);
    ok(answer)
}

async fn delete_comment(
    State(shared): State<Arc<Shared>>,
    Path((account_id, comment_id)): Path<(String, String)>,
) -> ApiResult {
    check_account(&shared, &account_id)?;
    shared
        .lock()
        .comments
        .remove(&comment_id)
        .ok_or_else(|| ApiError::not_found("Comment"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_bound_to_their_listing() {
        let c = encode_cursor("folder-a", 42);
        assert!(c
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(decode_cursor("folder-a", &c), Some(42));
        assert_eq!(decode_cursor("folder-b", &c), None);
        assert_eq!(decode_cursor("folder-a", "!!"), None);
    }

    #[test]
    fn classes_of_routes() {
        let class = |m: Method, p: &str| classify(&m, Some(p));
        assert_eq!(class(Method::GET, "/v4/me"), RouteClass::Me);
        assert_eq!(
            class(Method::DELETE, "/v4/accounts/{account_id}/files/{file_id}"),
            RouteClass::Delete
        );
        assert_eq!(
            class(Method::GET, "/v4/accounts/{account_id}/files/{file_id}"),
            RouteClass::File
        );
        assert_eq!(
            class(
                Method::POST,
                "/v4/accounts/{account_id}/folders/{folder_id}/files/local_upload"
            ),
            RouteClass::LocalUpload
        );
        assert_eq!(class(Method::PUT, "/v4/me"), RouteClass::OtherApi);
        assert_eq!(classify(&Method::GET, None), RouteClass::OtherApi);
    }

    #[test]
    fn bearer_tokens() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  abc "),
        );
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
    }
}
