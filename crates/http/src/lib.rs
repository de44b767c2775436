//! The web UI and the PostFlow API over HTTP, for the headless service
//! (`postflow run --gui`, `[ui] listen`): the same command list as the
//! desktop app's IPC, events as Server-Sent Events.
//!
//! Locked down the way Syncthing's GUI is:
//! - bound to loopback unless `allow_remote` (then the caller warns);
//! - a `Host` header allowlist (loopback names and the bound address):
//!   anything else is 403 "Host check error", which defeats DNS rebinding;
//! - every `/api` request, reads included, carries the key: the
//!   `X-PostFlow-Key` header (the page takes it from the same-origin
//!   cookie `postflow_key`, set with the page; `?key=` for the event
//!   stream, which `EventSource` cannot give headers);
//! - state-changing requests from a browser must come from this origin
//!   (`Origin` checked); no CORS headers, ever;
//! - on a remote bind the page itself needs the key once (`?key=`, the link
//!   `postflow gui-url` prints), which sets the cookie.
//!
//! Answers carry view types only (no tokens, no signed URLs, the webhook
//! masked): the API guarantees it, the tests scan for it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use postflow_api::Api;
use postflow_core::{ApiError, Disposition};

mod ui {
    include!(concat!(env!("OUT_DIR"), "/ui_files.rs"));
}

/// Whether the built UI is in this binary (else a page says how to build it).
pub const UI_BUILT: bool = ui::BUILT;

/// The cookie that carries the key to the page.
pub const KEY_COOKIE: &str = "postflow_key";
/// The header every `/api` request carries the key in.
pub const KEY_HEADER: &str = "x-postflow-key";

/// How to serve.
#[derive(Clone)]
pub struct GuiOptions {
    pub listen: SocketAddr,
    /// Allow a bind other machines can reach (the page then needs the key).
    pub allow_remote: bool,
    /// The API key (from the keychain, see `SecretStore::gui_key`).
    pub key: String,
}

/// The running server.
pub struct GuiServer {
    addr: SocketAddr,
    key: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl GuiServer {
    /// The bound address (the port is chosen when `listen` asked for 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's address with the key: opens logged in, wherever bound.
    pub fn url_with_key(&self) -> String {
        url_with_key(self.addr, &self.key)
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// `http://127.0.0.1:8484/?key=...`.
pub fn url_with_key(addr: SocketAddr, key: &str) -> String {
    format!("http://{addr}/?key={key}")
}

/// Why the server cannot start.
#[derive(Debug)]
pub enum ServeError {
    /// A non-loopback address without `allow_remote`.
    NotLoopback(SocketAddr),
    Bind(SocketAddr, std::io::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::NotLoopback(addr) => write!(
                f,
                "{addr} can be reached from other machines: use 127.0.0.1, or set ui.allow_remote = true"
            ),
            ServeError::Bind(addr, e) => write!(
                f,
                "cannot serve the web UI on {addr}: {e} (another program may use the port; set ui.listen to another)"
            ),
        }
    }
}

impl std::error::Error for ServeError {}

struct Shared {
    api: Api,
    key: String,
    /// `host:port` values a request's `Host` may carry.
    hosts: Vec<String>,
    /// `http://host:port` values a request's `Origin` may carry.
    origins: Vec<String>,
    remote: bool,
}

/// Serves `api` and the UI on `options.listen` until stopped.
pub async fn serve(api: Api, options: GuiOptions) -> Result<GuiServer, ServeError> {
    if !options.listen.ip().is_loopback() && !options.allow_remote {
        return Err(ServeError::NotLoopback(options.listen));
    }
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| ServeError::Bind(options.listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError::Bind(options.listen, e))?;
    let port = addr.port();
    let mut hosts = vec![
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ];
    if !addr.ip().is_loopback() && !addr.ip().is_unspecified() {
        hosts.push(addr.to_string());
    }
    let origins = hosts.iter().map(|h| format!("http://{h}")).collect();
    let shared = Arc::new(Shared {
        api,
        key: options.key.clone(),
        hosts,
        origins,
        remote: !addr.ip().is_loopback(),
    });
    let app = router(shared);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = server.await {
            tracing::error!("the web UI server stopped: {e}");
        }
    });
    tracing::info!(%addr, "web UI served");
    Ok(GuiServer {
        addr,
        key: options.key,
        stop: Some(stop),
        task,
    })
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/events", get(events))
        .route("/api/{command}", post(command))
        .route("/", get(page))
        .route("/index.html", get(page))
        .fallback(get(asset))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// Every request: the Host allowlist, the key on `/api`, the Origin on
/// state changes, and safe headers on every answer.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !shared.hosts.contains(&host) {
        return with_safety(refuse(
            StatusCode::FORBIDDEN,
            "Host check error: open PostFlow at http://127.0.0.1 (the name in the address bar is not this machine's)",
        ));
    }
    let path = request.uri().path().to_string();
    if path.starts_with("/api/") {
        let query_key = (path == "/api/events")
            .then(|| query_param(request.uri().query(), "key"))
            .flatten();
        let given = headers
            .get(KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or(query_key);
        if !given.is_some_and(|k| constant_time_eq(k.as_bytes(), shared.key.as_bytes())) {
            return with_safety(refuse(
                StatusCode::UNAUTHORIZED,
                "the PostFlow API key is missing or wrong: open the page again (or `postflow gui-url`)",
            ));
        }
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            if !shared.origins.iter().any(|o| o.as_str() == origin) {
                return with_safety(refuse(
                    StatusCode::FORBIDDEN,
                    "cross-origin requests are refused",
                ));
            }
        }
    }
    with_safety(next.run(request).await)
}

/// `POST /api/{command}` with the arguments as a JSON object.
async fn command(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim() == "application/json");
    let args = if body.is_empty() {
        serde_json::Value::Null
    } else if !is_json {
        return error(&ApiError::invalid(
            "the body must be JSON (Content-Type: application/json)",
            "send the command's arguments as a JSON object",
        ));
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return error(&ApiError::invalid(
                    format!("the body is not JSON: {e}"),
                    "send the command's arguments as a JSON object",
                ))
            }
        }
    };
    if !postflow_api::COMMANDS.contains(&name.as_str()) {
        let mut response = error(&ApiError::invalid(
            format!("there is no command {name:?}"),
            "see ui/src/bindings/commands.ts for the list",
        ));
        *response.status_mut() = StatusCode::NOT_FOUND;
        return response;
    }
    match shared.api.dispatch(&name, args).await {
        Ok(json) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            String::from(Box::<str>::from(json)),
        )
            .into_response(),
        Err(e) => error(&e),
    }
}

/// `GET /api/events`: every event, as it happens, one JSON object per SSE
/// message; a comment every 15 s keeps proxies from closing the stream.
async fn events(State(shared): State<Arc<Shared>>) -> Response {
    let events = shared.api.subscribe();
    let stream = futures::stream::unfold(events, |mut events| async move {
        let event = events.next().await?;
        let data = serde_json::to_string(&event).unwrap_or_default();
        Some((
            Ok::<_, std::convert::Infallible>(SseEvent::default().data(data)),
            events,
        ))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// The page; sets the key cookie. On a remote bind the first visit must
/// carry `?key=` (then the address is cleaned of it).
async fn page(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let given = query.get("key");
    let has_cookie = cookie(&headers, KEY_COOKIE)
        .is_some_and(|k| constant_time_eq(k.as_bytes(), shared.key.as_bytes()));
    let key_ok = given.is_some_and(|k| constant_time_eq(k.as_bytes(), shared.key.as_bytes()));
    if shared.remote && !key_ok && !has_cookie {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "This PostFlow is reachable from other machines, so its page needs the key: open the link `postflow gui-url` prints.",
        );
    }
    if given.is_some() && key_ok {
        // Set the cookie and drop the key from the address bar and history.
        let mut response = Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, "/")
            .body(Body::empty())
            .unwrap_or_default();
        set_key_cookie(&mut response, &shared.key);
        return response;
    }
    let mut response = asset_response("index.html");
    set_key_cookie(&mut response, &shared.key);
    response
}

async fn asset(request: Request) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    asset_response(path)
}

/// Set to a built UI folder (`ui/dist`) to serve it from disk instead of
/// the copy inside the binary: for working on the UI without rebuilding.
pub const UI_DIR_ENV: &str = "POSTFLOW_UI_DIR";

fn asset_response(path: &str) -> Response {
    if let Some(dir) = std::env::var_os(UI_DIR_ENV) {
        let clean = !path.split('/').any(|part| part == ".." || part.is_empty());
        if clean {
            if let Ok(bytes) = std::fs::read(std::path::Path::new(&dir).join(path)) {
                return Response::builder()
                    .header(header::CONTENT_TYPE, content_type(path))
                    .header(header::CACHE_CONTROL, "no-cache")
                    .body(Body::from(bytes))
                    .unwrap_or_default();
            }
        }
    }
    match ui::FILES.iter().find(|(p, _)| *p == path) {
        Some((_, bytes)) => {
            let cache = if path.starts_with("assets/") {
                // Vite names them by content hash.
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            Response::builder()
                .header(header::CONTENT_TYPE, content_type(path))
                .header(header::CACHE_CONTROL, cache)
                .body(Body::from(*bytes))
                .unwrap_or_default()
        }
        None if path == "index.html" => Response::builder()
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .body(Body::from(NOT_BUILT))
            .unwrap_or_default(),
        None => refuse(StatusCode::NOT_FOUND, "not found"),
    }
}

/// The page served when the UI was not built into this binary.
const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>PostFlow: the UI is not built</title>\
<main style=\"font-family:sans-serif;max-width:40em;margin:3em auto\"><h1>PostFlow's web UI was not built</h1>\
<p>This binary was compiled before the UI. Build it and compile again: run <code>./scripts/run.sh</code>, \
or <code>npm ci &amp;&amp; npm run build</code> in <code>ui/</code>, then <code>cargo build</code>.</p>\
<p>The service itself runs: <code>postflow status</code> shows what it does.</p></main></html>";

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn set_key_cookie(response: &mut Response, key: &str) {
    // Read by the page's script (so not HttpOnly), sent only to this origin.
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{KEY_COOKIE}={key}; Path=/; SameSite=Strict; Max-Age=31536000"
    )) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An API error as its HTTP answer: the status says the disposition
/// (422 will not succeed as asked, 409 needs a person, 503 try later).
fn error(e: &ApiError) -> Response {
    let status = match e.disposition {
        Disposition::Permanent => StatusCode::UNPROCESSABLE_ENTITY,
        Disposition::NeedsUser => StatusCode::CONFLICT,
        Disposition::Transient => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, axum::Json(e)).into_response()
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let disposition = if status == StatusCode::NOT_FOUND {
        Disposition::Permanent
    } else {
        Disposition::NeedsUser
    };
    (status, axum::Json(ApiError::new(disposition, message))).into_response()
}

fn with_safety(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    response
}
