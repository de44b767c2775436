//! `/api/webhooks/{id}/{token}` and `/api/v{n}/webhooks/{id}/{token}`:
//! `POST` (execute) answers what Discord would, in the order Discord checks
//! (webhook, rate limit, body); `GET` describes the webhook.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use postflow_discord::limits::{self, LimitViolation, Problem};
use postflow_discord::Message;
use serde_json::{json, Value};

use crate::state::{BucketView, Shared, State as FakeState};

/// The channel every message lands in.
pub const CHANNEL_ID: &str = "987654321098765432";
/// The server (guild) of that channel.
const GUILD_ID: &str = "876543210987654321";
/// The name the webhook has "in Discord".
pub const WEBHOOK_NAME: &str = "PostFlow (fake)";
/// The rate-limit bucket's id, as `X-RateLimit-Bucket` shows it.
const BUCKET_ID: &str = "5f1e6a3c0d2b4e7f9a8b1c2d3e4f5a6b";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/{*rest}", post(execute).get(describe))
        // Not Discord's: what the fake accepted, for tests in another
        // process (the browser tests of `postflow demo`).
        .route("/_fake/messages", axum::routing::get(accepted))
        .with_state(shared)
}

async fn accepted(State(shared): State<Arc<Shared>>) -> Response {
    let state = shared.lock();
    let bodies: Vec<Value> = state.accepted.iter().map(|a| a.body.clone()).collect();
    Json(bodies).into_response()
}

/// `webhooks/{id}/{token}` or `v{n}/webhooks/{id}/{token}` (after `/api/`).
fn webhook_path(rest: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = rest.split('/').collect();
    let parts = match parts.as_slice() {
        [version, rest @ ..] if is_version(version) => rest,
        all => all,
    };
    match parts {
        ["webhooks", id, token] if !id.is_empty() && !token.is_empty() => Some((id, token)),
        _ => None,
    }
}

fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn not_found() -> Response {
    let body = json!({"message": "404: Not Found", "code": 0});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

async fn execute(
    State(shared): State<Arc<Shared>>,
    Path(rest): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((id, token)) = webhook_path(&rest) else {
        return not_found();
    };
    let request = Request {
        id,
        token,
        wait: wants_wait(&query),
        json: is_json(&headers),
        body: &body,
    };
    handle(&mut shared.lock(), request).into_response()
}

/// `GET`: the webhook object (Discord's "get webhook with token"), or 404
/// Unknown Webhook. Neither rate limited nor subject to injected faults.
async fn describe(State(shared): State<Arc<Shared>>, Path(rest): Path<String>) -> Response {
    let Some((id, token)) = webhook_path(&rest) else {
        return not_found();
    };
    let mut state = shared.lock();
    let now = Instant::now();
    state.arrivals.push(now);
    let view = state.bucket.view(now);
    if !state.knows(id, token) {
        return Reply::json(StatusCode::NOT_FOUND, unknown_webhook(), view).into_response();
    }
    let body = json!({
        "type": 1, "id": id, "name": WEBHOOK_NAME, "avatar": null,
        "channel_id": CHANNEL_ID, "guild_id": GUILD_ID, "token": token,
    });
    Reply::json(StatusCode::OK, body, view).into_response()
}

/// `?wait=true`: answer with the created message instead of a 204.
fn wants_wait(query: &HashMap<String, String>) -> bool {
    query
        .get("wait")
        .is_some_and(|w| w.eq_ignore_ascii_case("true") || w == "1")
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"))
}

struct Request<'a> {
    id: &'a str,
    token: &'a str,
    wait: bool,
    json: bool,
    body: &'a [u8],
}

/// One request against the fake's state; everything is decided here, under
/// one lock, so concurrent requests see a consistent fake.
fn handle(state: &mut FakeState, request: Request<'_>) -> Reply {
    let now = Instant::now();
    state.arrivals.push(now);
    if !state.knows(request.id, request.token) {
        let view = state.bucket.view(now);
        return Reply::json(StatusCode::NOT_FOUND, unknown_webhook(), view);
    }
    if state.rate_limit_next > 0 {
        state.rate_limit_next -= 1;
        let wait = state.injected_retry_after;
        return rate_limited(state, state.bucket.limit, wait);
    }
    let view = match state.bucket.take(now) {
        Ok(view) => view,
        Err(wait) => return rate_limited(state, state.bucket.limit, wait.as_secs_f64()),
    };
    if state.fail_next > 0 {
        state.fail_next -= 1;
        let status =
            StatusCode::from_u16(state.fail_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body =
            json!({"message": status.canonical_reason().unwrap_or("Server Error"), "code": 0});
        return Reply::json(status, body, view);
    }
    let body = match validate(request.json, request.body) {
        Ok(body) => body,
        Err(problem) => {
            state.rejected += 1;
            tracing::debug!(%problem, "fake Discord rejected a message");
            return Reply::json(StatusCode::BAD_REQUEST, problem, view);
        }
    };
    let id = state.next_id();
    let created = created_message(&id, &state.webhook_id, &body);
    state.accepted.push(crate::state::Accepted { id, body });
    if request.wait {
        Reply::json(StatusCode::OK, created, view)
    } else {
        Reply::empty(StatusCode::NO_CONTENT, view)
    }
}

fn unknown_webhook() -> Value {
    json!({"message": "Unknown Webhook", "code": 10015})
}

/// A 429 announcing `retry_after` seconds, with an empty bucket.
fn rate_limited(state: &mut FakeState, limit: u32, retry_after: f64) -> Reply {
    state.rate_limited += 1;
    let view = BucketView {
        limit,
        remaining: 0,
        reset_after: Duration::try_from_secs_f64(retry_after).unwrap_or_default(),
    };
    let body = json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": false});
    Reply {
        retry_after: Some(retry_after),
        ..Reply::json(StatusCode::TOO_MANY_REQUESTS, body, view)
    }
}

/// The body as Discord would check it: JSON, the shape of a message, and
/// within [`limits`]. The error is Discord's 400 body.
fn validate(json: bool, body: &[u8]) -> Result<Value, Value> {
    if !json {
        return Err(form_error(
            "",
            "CONTENT_TYPE_INVALID",
            "Expected Content-Type application/json",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        form_error(
            "",
            "MODEL_TYPE_CONVERT",
            "The request body contains invalid JSON.",
        )
    })?;
    let message: Message = serde_json::from_value(value.clone())
        .map_err(|e| form_error("", "BASE_TYPE_BAD_TYPE", &e.to_string()))?;
    limits::check_limits(&message).map_err(|v| violation_error(&v))?;
    Ok(value)
}

/// Discord's wording for a limit violation.
fn violation_error(violation: &LimitViolation) -> Value {
    let (code, message) = match violation.problem {
        Problem::NothingToSend => (
            "BASE_TYPE_REQUIRED",
            "Cannot send an empty message".to_string(),
        ),
        Problem::Required => ("BASE_TYPE_REQUIRED", "This field is required".to_string()),
        Problem::TooLong { max, .. } if violation.path == "embeds" => (
            "MAX_EMBED_SIZE_EXCEEDED",
            format!("Embed size exceeds maximum size of {max}"),
        ),
        Problem::TooLong { max, .. } | Problem::TooMany { max, .. } => (
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {max} or fewer in length."),
        ),
    };
    form_error(&violation.path, code, &message)
}

/// `{"code": 50035, "message": "Invalid Form Body", "errors": {...}}`, the
/// error nested under its path (`embeds.0.title`) as Discord does.
fn form_error(path: &str, code: &str, message: &str) -> Value {
    let mut errors = json!({"_errors": [{"code": code, "message": message}]});
    for key in path.split('.').filter(|k| !k.is_empty()).rev() {
        errors = json!({ key: errors });
    }
    json!({"code": 50035, "message": "Invalid Form Body", "errors": errors})
}

/// The message object Discord returns with `?wait=true`.
fn created_message(id: &str, webhook_id: &str, body: &Value) -> Value {
    json!({
        "id": id,
        "type": 0,
        "channel_id": CHANNEL_ID,
        "webhook_id": webhook_id,
        "author": {"id": webhook_id, "username": "PostFlow (fake)", "bot": true},
        "content": body.get("content").cloned().unwrap_or_else(|| json!("")),
        "embeds": body.get("embeds").cloned().unwrap_or_else(|| json!([])),
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "tts": false,
        "pinned": false,
    })
}

/// An answer, with the rate-limit headers every Discord answer carries.
struct Reply {
    status: StatusCode,
    body: Option<Value>,
    bucket: BucketView,
    /// Set on 429s: adds `Retry-After` and `X-RateLimit-Scope`.
    retry_after: Option<f64>,
}

impl Reply {
    fn json(status: StatusCode, body: Value, bucket: BucketView) -> Reply {
        Reply {
            status,
            body: Some(body),
            bucket,
            retry_after: None,
        }
    }

    fn empty(status: StatusCode, bucket: BucketView) -> Reply {
        Reply {
            status,
            body: None,
            bucket,
            retry_after: None,
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            Some(body) => (self.status, Json(body)).into_response(),
            None => self.status.into_response(),
        };
        let headers = response.headers_mut();
        let reset_after = self.bucket.reset_after.as_secs_f64();
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64()
            + reset_after;
        let mut set = |name: &'static str, value: String| {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        };
        set("x-ratelimit-limit", self.bucket.limit.to_string());
        set("x-ratelimit-remaining", self.bucket.remaining.to_string());
        set("x-ratelimit-reset", format!("{reset:.3}"));
        set("x-ratelimit-reset-after", format!("{reset_after:.3}"));
        set("x-ratelimit-bucket", BUCKET_ID.to_string());
        if let Some(retry_after) = self.retry_after {
            set(
                RETRY_AFTER.as_str(),
                format!("{}", retry_after.ceil() as u64),
            );
            set("x-ratelimit-scope", "user".to_string());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_paths_with_and_without_a_version() {
        assert_eq!(webhook_path("webhooks/1/t"), Some(("1", "t")));
        assert_eq!(webhook_path("v10/webhooks/1/t"), Some(("1", "t")));
        assert_eq!(webhook_path("vX/webhooks/1/t"), None);
        assert_eq!(webhook_path("webhooks/1"), None);
        assert_eq!(webhook_path("webhooks/1/t/slack"), None);
        assert_eq!(webhook_path("channels/1/messages"), None);
    }

    #[test]
    fn form_errors_nest_under_their_path() {
        assert_eq!(
            form_error(
                "embeds.0.title",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 256 or fewer in length."
            ),
            json!({"code": 50035, "message": "Invalid Form Body", "errors": {"embeds": {"0": {"title":
                {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}]}}}}})
        );
    }

    #[test]
    fn only_json_messages_within_limits_are_valid() {
        assert!(validate(true, br#"{"content":"hi"}"#).is_ok());
        assert!(validate(false, br#"{"content":"hi"}"#).is_err());
        assert!(validate(true, b"content=hi").is_err());
        assert!(validate(true, br#"{"content":"  "}"#).is_err());
        assert!(validate(true, br#"{"embeds":"nope"}"#).is_err());
        let long = json!({"content": "x".repeat(limits::CONTENT + 1)}).to_string();
        let err = validate(true, long.as_bytes()).unwrap_err();
        assert_eq!(
            err["errors"]["content"]["_errors"][0]["message"],
            "Must be 2000 or fewer in length."
        );
    }
}
