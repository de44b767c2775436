//! Adobe IMS sign-in, on the emulator's own listener:
//! `GET /ims/authorize/v2`, `POST /ims/token/v3`, `POST /ims/revoke`.
//!
//! - Authorize approves at once (no UI) and redirects to
//!   `redirect_uri?code=..&state=..`. The client must be registered
//!   (`Emulator::register_client`); any redirect URI is accepted (loopback
//!   or custom scheme) and must be repeated in the code exchange. Public
//!   clients (no secret) must send a PKCE challenge, and only `S256` is
//!   accepted. Codes last 10 minutes and work once.
//! - Token: `authorization_code` (PKCE verified), `refresh_token`
//!   (rotation: the old refresh token stops working) and
//!   `client_credentials` (confidential clients only, no refresh token).
//!   Confidential clients must send their `client_secret` for every grant.
//!   Parameters are read from the form body and the query string.
//!   `expires_in` is the access-token TTL in whole seconds, rounded down.
//!   User grants carry a refresh token unless turned off with
//!   `Emulator::set_refresh_tokens(false)`.
//! - Errors are 400 `{"error": ..., "error_description": ...}` with
//!   `invalid_request`, `invalid_client`, `invalid_grant` or
//!   `unsupported_grant_type`.
//! - Revoke takes `token` (access or refresh) and answers 200 whether it
//!   knew the token or not (RFC 7009).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::RouteClass;
use crate::state::Shared;

/// An IMS error answer: `{"error": ..., "error_description": ...}`.
#[derive(Debug)]
pub(crate) struct ImsError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl IntoResponse for ImsError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response()
    }
}

/// A 400 IMS error.
fn bad(error: &'static str, description: impl Into<String>) -> ImsError {
    ImsError {
        status: StatusCode::BAD_REQUEST,
        error,
        description: description.into(),
    }
}

/// Counts the request and answers an injected failure, if one is pending.
fn enter(shared: &Shared, class: RouteClass) -> Result<(), ImsError> {
    shared.lock().stats.count_request(class);
    match shared.faults.take_api_failure(class) {
        None => Ok(()),
        Some(status) => {
            shared.lock().stats.injected_failures += 1;
            Err(ImsError {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                error: "server_error",
                description: "Injected failure".to_owned(),
            })
        }
    }
}

fn parse_pairs(raw: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw).into_owned().collect()
}

/// `GET /ims/authorize/v2`.
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ImsError> {
    enter(&shared, RouteClass::Authorize)?;
    let q = parse_pairs(raw.unwrap_or_default().as_bytes());
    let client_id = q
        .get("client_id")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("invalid_request", "client_id is required"))?;
    let redirect_uri = q
        .get("redirect_uri")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("invalid_request", "redirect_uri is required"))?;
    let mut location = url::Url::parse(redirect_uri)
        .map_err(|_| bad("invalid_request", "redirect_uri is not an absolute URI"))?;
    if q.get("response_type").map(String::as_str) != Some("code") {
        return Err(bad(
            "unsupported_response_type",
            "response_type must be code",
        ));
    }
    let challenge = q.get("code_challenge").filter(|s| !s.is_empty()).cloned();
    let mut state = shared.lock();
    let secret = state
        .auth
        .clients
        .get(client_id)
        .ok_or_else(|| bad("invalid_client", "unknown client_id"))?;
    if challenge.is_none() && secret.is_none() {
        return Err(bad(
            "invalid_request",
            "code_challenge is required for public clients (PKCE)",
        ));
    }
    if challenge.is_some() && q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return Err(bad("invalid_request", "code_challenge_method must be S256"));
    }
    let scope = q.get("scope").cloned().unwrap_or_default();
    let code = state
        .auth
        .issue_code(client_id, redirect_uri, challenge, &scope);
    drop(state);
    {
        let mut pairs = location.query_pairs_mut();
        pairs.append_pair("code", &code);
        if let Some(st) = q.get("state") {
            pairs.append_pair("state", st);
        }
    }
    Ok((
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response())
}

/// The parameters of a token or revoke request: the query string, then the
/// form body (which wins).
fn form_params(
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<HashMap<String, String>, ImsError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !body.is_empty() && !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(bad(
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let mut params = parse_pairs(raw_query.unwrap_or_default().as_bytes());
    params.extend(parse_pairs(body));
    Ok(params)
}

/// Checks the client (and its secret, for confidential clients).
fn authenticate_client(
    shared: &Shared,
    params: &HashMap<String, String>,
) -> Result<String, ImsError> {
    let client_id = params
        .get("client_id")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("invalid_request", "client_id is required"))?;
    let state = shared.lock();
    match state.auth.clients.get(client_id) {
        None => Err(bad("invalid_client", "unknown client_id")),
        Some(Some(secret)) if params.get("client_secret") != Some(secret) => {
            Err(bad("invalid_client", "invalid client_secret"))
        }
        Some(_) => Ok(client_id.clone()),
    }
}

/// BASE64URL(SHA256(verifier)), no padding (RFC 7636 S256).
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `POST /ims/token/v3`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ImsError> {
    enter(&shared, RouteClass::Token)?;
    let granted = grant(&shared, raw.as_deref(), &headers, &body);
    if granted.is_err() {
        shared.lock().stats.token_errors += 1;
    }
    granted
}

fn grant(
    shared: &Shared,
    raw: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ImsError> {
    let params = form_params(raw, headers, body)?;
    let grant_type = params
        .get("grant_type")
        .map(String::as_str)
        .unwrap_or_default();
    if !matches!(
        grant_type,
        "authorization_code" | "refresh_token" | "client_credentials"
    ) {
        return Err(bad(
            "unsupported_grant_type",
            "grant_type must be authorization_code, refresh_token or client_credentials",
        ));
    }
    let client_id = authenticate_client(shared, &params)?;
    let mut state = shared.lock();
    // The scope a refresh token would carry; `None` for client credentials.
    let refresh_scope = match grant_type {
        "authorization_code" => {
            let code = params
                .get("code")
                .ok_or_else(|| bad("invalid_request", "code is required"))?;
            let entry = state
                .auth
                .codes
                .get_mut(code)
                .ok_or_else(|| bad("invalid_grant", "unknown authorization code"))?;
            if entry.used {
                return Err(bad("invalid_grant", "authorization code already used"));
            }
            if std::time::Instant::now() >= entry.expires_at {
                return Err(bad("invalid_grant", "authorization code expired"));
            }
            if entry.client_id != client_id {
                return Err(bad(
                    "invalid_grant",
                    "authorization code was issued to another client",
                ));
            }
            if params.get("redirect_uri") != Some(&entry.redirect_uri) {
                return Err(bad(
                    "invalid_grant",
                    "redirect_uri does not match the authorization request",
                ));
            }
            if let Some(challenge) = &entry.code_challenge {
                let verifier = params
                    .get("code_verifier")
                    .ok_or_else(|| bad("invalid_grant", "code_verifier is required"))?;
                if s256(verifier) != *challenge {
                    return Err(bad(
                        "invalid_grant",
                        "code_verifier does not match the code_challenge",
                    ));
                }
            }
            entry.used = true;
            Some(entry.scope.clone())
        }
        "refresh_token" => {
            let token = params
                .get("refresh_token")
                .ok_or_else(|| bad("invalid_request", "refresh_token is required"))?;
            let entry = state
                .auth
                .redeem_refresh(token)
                .ok_or_else(|| bad("invalid_grant", "invalid, used or revoked refresh token"))?;
            if entry.client_id != client_id {
                return Err(bad(
                    "invalid_grant",
                    "refresh token was issued to another client",
                ));
            }
            Some(entry.scope)
        }
        _ => {
            // client_credentials: confidential clients only.
            if matches!(state.auth.clients.get(&client_id), Some(None)) {
                return Err(bad(
                    "invalid_client",
                    "client_credentials requires a confidential client (with a secret)",
                ));
            }
            None
        }
    };
    let ttl = state.cfg.token_ttl;
    let access = state.auth.issue_access(ttl);
    let mut body = json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": ttl.as_secs(),
    });
    if let Some(scope) = refresh_scope {
        if state.auth.issue_refresh_tokens {
            body["refresh_token"] = json!(state.auth.issue_refresh(&client_id, &scope));
        }
    }
    state.stats.count_grant(grant_type);
    drop(state);
    Ok(axum::Json(body).into_response())
}

/// `POST /ims/revoke`.
pub(crate) async fn revoke(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ImsError> {
    enter(&shared, RouteClass::Revoke)?;
    let params = form_params(raw.as_deref(), &headers, &body)?;
    let token = params
        .get("token")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("invalid_request", "token is required"))?;
    shared.lock().auth.revoke(token);
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
