//! The presigned part URLs, standing in for S3:
//! `PUT /upload/{file_id}/{part}?X-Amz-Date=..&X-Amz-Expires=..&X-Amz-Signature=..`.
//!
//! A PUT stores its part only when, in this order of checks:
//! - it has no `Authorization` header (400 `InvalidArgument`: S3 allows
//!   one auth mechanism);
//! - the signature matches the path, date and expiry (403
//!   `SignatureDoesNotMatch`; missing parameters: 403 `AccessDenied`);
//! - the URL has not expired, by `X-Amz-Date` + `X-Amz-Expires` or through
//!   `Faults::expire_upload_urls` (403 `AccessDenied`, "Request has
//!   expired");
//! - the file exists and has that part (404 `NoSuchUpload`);
//! - no `fail_part` fault is pending for the index;
//! - `x-amz-acl` is `private`, `Content-Type` is the file's `media_type`,
//!   `Content-Length` is the part's size (400 `InvalidArgument` /
//!   `MissingContentLength`);
//! - exactly that many bytes arrive (400 `IncompleteBody`).
//!
//! The body is streamed: each chunk is hashed as it arrives and dropped
//! (small files excepted, whose bytes are kept for inspection). Error
//! answers read (and discard) the body first, up to 256 MiB, so the
//! client always gets to read the answer. A stored part answers 200 with an
//! `ETag` (the quoted hex SHA-256 of the part; real S3 uses MD5).
//!
//! The signature is the hex SHA-256 of a per-emulator secret followed by
//! the method, path, date and expiry: enough to detect a tampered URL; it
//! is not AWS SigV4.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::config::RouteClass;
use crate::state::{Shared, StoreError};
use crate::util::{amz_date, parse_amz_date, random_token, xml_escape};

/// Error answers read at most this much of a rejected body before answering.
const DRAIN_LIMIT: u64 = 256 * 1024 * 1024;

fn signature(shared: &Shared, file_id: &str, part: &str, date: &str, expires: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(shared.url_secret);
    hasher.update(format!("PUT\n/upload/{file_id}/{part}\n{date}\n{expires}"));
    hex::encode(hasher.finalize())
}

/// The presigned URL of one part, valid for `ttl` from `now`.
pub(crate) fn part_url(
    shared: &Shared,
    file_id: &str,
    index: usize,
    now: SystemTime,
    ttl: Duration,
) -> String {
    let date = amz_date(now);
    let expires = ttl.as_secs().to_string();
    let part = index.to_string();
    let sig = signature(shared, file_id, &part, &date, &expires);
    format!(
        "{}/upload/{file_id}/{part}?X-Amz-Date={date}&X-Amz-Expires={expires}&X-Amz-Signature={sig}",
        shared.base_url
    )
}

/// An S3-style error answer.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{}</RequestId></Error>",
        xml_escape(code),
        xml_escape(message),
        random_token("")
    );
    (
        status,
        [(header::CONTENT_TYPE, "application/xml")],
        Body::from(body),
    )
        .into_response()
}

/// The S3 error code and message for an injected status.
fn injected(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (code, message) = match status.as_u16() {
        500 => (
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        503 => ("SlowDown", "Please reduce your request rate."),
        403 => ("AccessDenied", "Access Denied"),
        400 => ("BadRequest", "Bad Request"),
        404 => ("NoSuchUpload", "The specified upload does not exist."),
        _ => ("InjectedFault", "Injected failure"),
    };
    s3_error(status, code, message)
}

/// Reads and drops up to [`DRAIN_LIMIT`] bytes of a rejected body.
async fn drain(body: Body) {
    let mut stream = body.into_data_stream();
    let mut read = 0u64;
    while let Some(Ok(chunk)) = stream.next().await {
        read += chunk.len() as u64;
        if read >= DRAIN_LIMIT {
            break;
        }
    }
}

/// A failed PUT: counted, body drained, S3 error answered.
async fn reject(shared: &Shared, body: Body, response: Response) -> Response {
    shared.lock().stats.part_put_failures += 1;
    drain(body).await;
    response
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// `PUT /upload/{file_id}/{part}`.
pub(crate) async fn put_part(
    State(shared): State<Arc<Shared>>,
    Path((file_id, part)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    shared.lock().stats.count_request(RouteClass::Upload);
    if headers.contains_key(header::AUTHORIZATION) {
        let response = s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        );
        return reject(&shared, body, response).await;
    }

    // Signature and expiry.
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(date), Some(expires), Some(sig)) = (
        get("X-Amz-Date"),
        get("X-Amz-Expires"),
        get("X-Amz-Signature"),
    ) else {
        let response = s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Query-string authentication requires the X-Amz-Date, X-Amz-Expires and X-Amz-Signature parameters",
        );
        return reject(&shared, body, response).await;
    };
    if signature(&shared, &file_id, &part, date, expires) != sig.to_ascii_lowercase() {
        let response = s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        );
        return reject(&shared, body, response).await;
    }
    let expired = match (parse_amz_date(date), expires.parse::<u64>()) {
        (Some(signed_at), Ok(secs)) => SystemTime::now() > signed_at + Duration::from_secs(secs),
        _ => true,
    };
    let expired_response =
        || s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired");
    if expired {
        return reject(&shared, body, expired_response()).await;
    }

    // The file and its part.
    let Ok(index) = part.parse::<usize>() else {
        let response = s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
            "The specified upload does not exist.",
        );
        return reject(&shared, body, response).await;
    };
    let found = {
        let state = shared.lock();
        state.file(&file_id).and_then(|(_, f)| {
            f.parts
                .get(index)
                .map(|p| (p.size, f.media_type.clone(), f.urls_expired, f.keep_bytes))
        })
    };
    let Some((size, media_type, urls_expired, keep_bytes)) = found else {
        let response = s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        );
        return reject(&shared, body, response).await;
    };
    if urls_expired {
        return reject(&shared, body, expired_response()).await;
    }

    if let Some(status) = shared.faults.take_part_failure(index) {
        shared.lock().stats.injected_failures += 1;
        return reject(&shared, body, injected(status)).await;
    }

    // Headers.
    let acl = header_str(&headers, "x-amz-acl");
    if acl != Some("private") {
        let message = match acl {
            None => "The x-amz-acl header is required and must be \"private\"".to_owned(),
            Some(other) => format!("x-amz-acl must be \"private\", not {other:?}"),
        };
        return reject(
            &shared,
            body,
            s3_error(StatusCode::BAD_REQUEST, "InvalidArgument", &message),
        )
        .await;
    }
    let content_type = header_str(&headers, header::CONTENT_TYPE);
    if content_type != Some(media_type.as_str()) {
        let message = format!(
            "Content-Type must be the file's media type {media_type:?}, not {:?}",
            content_type.unwrap_or("(none)")
        );
        return reject(
            &shared,
            body,
            s3_error(StatusCode::BAD_REQUEST, "InvalidArgument", &message),
        )
        .await;
    }
    let Some(length) = header_str(&headers, header::CONTENT_LENGTH) else {
        let response = s3_error(
            StatusCode::BAD_REQUEST,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
        );
        return reject(&shared, body, response).await;
    };
    if length.parse::<u64>().ok() != Some(size) {
        let message = format!("Content-Length must be the part size {size}, not {length}");
        return reject(
            &shared,
            body,
            s3_error(StatusCode::BAD_REQUEST, "InvalidArgument", &message),
        )
        .await;
    }

    // The body, hashed as it streams in.
    let mut hasher = Sha256::new();
    let mut kept = keep_bytes.then(|| Vec::with_capacity(usize::try_from(size).unwrap_or(0)));
    let mut received = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            // The client went away; nobody reads this answer.
            shared.lock().stats.part_put_failures += 1;
            return s3_error(
                StatusCode::BAD_REQUEST,
                "IncompleteBody",
                "The request body terminated unexpectedly",
            );
        };
        received += chunk.len() as u64;
        hasher.update(&chunk);
        if let Some(kept) = &mut kept {
            kept.extend_from_slice(&chunk);
        }
    }
    if received != size {
        shared.lock().stats.part_put_failures += 1;
        let message = format!("You did not provide the number of bytes specified by the Content-Length HTTP header ({received} of {size})");
        return s3_error(StatusCode::BAD_REQUEST, "IncompleteBody", &message);
    }
    let digest: [u8; 32] = hasher.finalize().into();

    let mut state = shared.lock();
    match state.store_part(&file_id, index, digest, kept) {
        Ok(()) => {
            state.stats.part_puts += 1;
            drop(state);
            (
                StatusCode::OK,
                [(header::ETAG, format!("\"{}\"", hex::encode(digest)))],
            )
                .into_response()
        }
        Err(StoreError::NoSuchUpload) => {
            state.stats.part_put_failures += 1;
            drop(state);
            s3_error(
                StatusCode::NOT_FOUND,
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
            )
        }
    }
}

/// Whether a request is a PUT of a part, and of which index (for the
/// connection-cutting fault, which acts below the router).
pub(crate) fn part_index_of(method: &axum::http::Method, path: &str) -> Option<usize> {
    if method != axum::http::Method::PUT {
        return None;
    }
    let rest = path.strip_prefix("/upload/")?;
    let (_, index) = rest.split_once('/')?;
    index.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn part_paths() {
        assert_eq!(part_index_of(&Method::PUT, "/upload/abc/3"), Some(3));
        assert_eq!(part_index_of(&Method::GET, "/upload/abc/3"), None);
        assert_eq!(part_index_of(&Method::PUT, "/upload/abc/x"), None);
        assert_eq!(part_index_of(&Method::PUT, "/v4/me"), None);
    }

    #[test]
    fn urls_carry_date_expiry_and_a_signature_over_the_path() {
        let shared = Shared::new(
            "http://127.0.0.1:9".into(),
            crate::EmulatorConfig::default(),
        );
        let url = part_url(&shared, "f1", 2, SystemTime::now(), Duration::from_secs(60));
        let parsed = url::Url::parse(&url).expect("url");
        assert_eq!(parsed.path(), "/upload/f1/2");
        let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(q["X-Amz-Expires"], "60");
        assert!(parse_amz_date(&q["X-Amz-Date"]).is_some());
        let sig = &q["X-Amz-Signature"];
        assert_eq!(sig, &signature(&shared, "f1", "2", &q["X-Amz-Date"], "60"));
        assert_ne!(sig, &signature(&shared, "f1", "3", &q["X-Amz-Date"], "60"));
    }
}
