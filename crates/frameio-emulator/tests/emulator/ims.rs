//! Adobe IMS: authorization code + PKCE, refresh rotation, client
//! credentials, revocation.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::*;

const REDIRECT: &str = "http://127.0.0.1:53682/callback";
const SCOPE: &str = "openid profile email offline_access additional_info.roles";

fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Runs the authorize step; returns the redirect's query parameters.
async fn authorize(
    h: &Harness,
    client_id: &str,
    redirect: &str,
    challenge: Option<&str>,
) -> reqwest::Response {
    let mut query = vec![
        ("client_id", client_id),
        ("redirect_uri", redirect),
        ("response_type", "code"),
        ("scope", SCOPE),
        ("state", "st4te"),
    ];
    if let Some(challenge) = challenge {
        query.push(("code_challenge", challenge));
        query.push(("code_challenge_method", "S256"));
    }
    h.http
        .get(h.url("/ims/authorize/v2"))
        .query(&query)
        .send()
        .await
        .expect("answered")
}

fn redirect_params(response: &reqwest::Response) -> (String, HashMap<String, String>) {
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("Location")
        .to_owned();
    let parsed = url::Url::parse(&location).expect("absolute Location");
    let params = parsed.query_pairs().into_owned().collect();
    (location, params)
}

async fn token_request(h: &Harness, form: &[(&str, &str)]) -> reqwest::Response {
    h.http
        .post(h.url("/ims/token/v3"))
        .form(form)
        .send()
        .await
        .expect("answered")
}

async fn ims_error(response: reqwest::Response, error: &str) {
    let body = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
}

async fn me_status(h: &Harness, token: &str) -> StatusCode {
    h.get_as(&h.url("/v4/me"), token).await.status()
}

/// The desktop sign-in: authorize (auto-approved), then the code exchange
/// with the PKCE verifier. A wrong verifier and a reused code are
/// `invalid_grant`.
#[tokio::test]
async fn authorization_code_with_pkce() {
    let h = Harness::start().await;
    h.emu.register_client("postflow-desktop", None);
    let verifier = "pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
    let challenge = challenge_of(verifier);

    let response = authorize(&h, "postflow-desktop", REDIRECT, Some(&challenge)).await;
    let (location, params) = redirect_params(&response);
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(params["state"], "st4te");
    let code = params["code"].clone();

    let exchange = |verifier: &'static str, code: String| {
        let h = &h;
        async move {
            token_request(
                h,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", "postflow-desktop"),
                    ("code", &code),
                    ("code_verifier", verifier),
                    ("redirect_uri", REDIRECT),
                ],
            )
            .await
        }
    };
    ims_error(
        exchange(
            "the-wrong-verifier-0123456789-abcdefghijklmnop",
            code.clone(),
        )
        .await,
        "invalid_grant",
    )
    .await;

    let tokens: Value = expect_json(exchange(verifier, code.clone()).await, StatusCode::OK).await;
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let access = tokens["access_token"].as_str().expect("access_token");
    assert!(tokens["refresh_token"].is_string());
    assert_eq!(me_status(&h, access).await, StatusCode::OK);

    ims_error(exchange(verifier, code).await, "invalid_grant").await;
    assert_eq!(h.emu.stats().grants_for("authorization_code"), 1);
    assert_eq!(h.emu.stats().token_errors, 2);
}

/// What authorize refuses, and custom-scheme redirects.
#[tokio::test]
async fn authorize_checks_the_client_and_pkce() {
    let h = Harness::start().await;
    h.emu.register_client("public", None);
    h.emu.register_client("web", Some("s3cret"));
    let challenge = challenge_of("v".repeat(43).as_str());

    let unknown = authorize(&h, "nobody", REDIRECT, Some(&challenge)).await;
    ims_error(unknown, "invalid_client").await;
    let no_pkce = authorize(&h, "public", REDIRECT, None).await;
    ims_error(no_pkce, "invalid_request").await;
    let plain = h
        .http
        .get(h.url("/ims/authorize/v2"))
        .query(&[
            ("client_id", "public"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("code_challenge", "abc"),
            ("code_challenge_method", "plain"),
        ])
        .send()
        .await
        .expect("answered");
    ims_error(plain, "invalid_request").await;

    // Native-app redirect to an Adobe custom scheme.
    let native = authorize(
        &h,
        "public",
        "adobe+1a2b3c://callback/path",
        Some(&challenge),
    )
    .await;
    let (location, params) = redirect_params(&native);
    assert!(
        location.starts_with("adobe+1a2b3c://callback/path?"),
        "{location}"
    );
    assert!(params.contains_key("code"));

    // A confidential client may skip PKCE but must send its secret, and
    // the redirect URI must match.
    let web = authorize(&h, "web", REDIRECT, None).await;
    let (_, params) = redirect_params(&web);
    let code = params["code"].as_str();
    let base = [
        ("grant_type", "authorization_code"),
        ("client_id", "web"),
        ("code", code),
    ];
    let mut no_secret = base.to_vec();
    no_secret.push(("redirect_uri", REDIRECT));
    ims_error(token_request(&h, &no_secret).await, "invalid_client").await;
    let mut wrong_redirect = base.to_vec();
    wrong_redirect.extend([
        ("client_secret", "s3cret"),
        ("redirect_uri", "http://127.0.0.1:1/other"),
    ]);
    ims_error(token_request(&h, &wrong_redirect).await, "invalid_grant").await;
    let mut good = base.to_vec();
    good.extend([("client_secret", "s3cret"), ("redirect_uri", REDIRECT)]);
    expect_json(token_request(&h, &good).await, StatusCode::OK).await;
}

/// Refresh returns a new pair; the old refresh token is then
/// `invalid_grant` (rotation).
#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let h = Harness::start().await;
    h.emu.register_client("postflow-desktop", None);
    let pair = h.emu.issue_tokens("postflow-desktop");

    let refresh = |token: String| {
        let h = &h;
        async move {
            token_request(
                h,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", "postflow-desktop"),
                    ("refresh_token", &token),
                ],
            )
            .await
        }
    };
    let first: Value = expect_json(refresh(pair.refresh_token.clone()).await, StatusCode::OK).await;
    let new_refresh = first["refresh_token"]
        .as_str()
        .expect("new refresh token")
        .to_owned();
    let new_access = first["access_token"]
        .as_str()
        .expect("new access token")
        .to_owned();
    assert_ne!(new_refresh, pair.refresh_token);
    assert_ne!(new_access, pair.access_token);
    ims_error(refresh(pair.refresh_token.clone()).await, "invalid_grant").await;

    // Expired access tokens: 401, and a refresh gets a working one.
    h.emu.expire_access_tokens();
    assert_eq!(me_status(&h, &new_access).await, StatusCode::UNAUTHORIZED);
    let second: Value = expect_json(refresh(new_refresh.clone()).await, StatusCode::OK).await;
    let access = second["access_token"].as_str().expect("access");
    assert_eq!(me_status(&h, access).await, StatusCode::OK);

    // Another client cannot use it; without refresh tokens none is sent.
    h.emu.register_client("other", None);
    let third = second["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let stolen = token_request(
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "other"),
            ("refresh_token", &third),
        ],
    )
    .await;
    ims_error(stolen, "invalid_grant").await;
    h.emu.set_refresh_tokens(false);
    let pair = h.emu.issue_tokens("postflow-desktop");
    let last: Value = expect_json(refresh(pair.refresh_token).await, StatusCode::OK).await;
    assert!(last.get("refresh_token").is_none(), "{last}");
    assert_eq!(h.emu.stats().grants_for("refresh_token"), 3);
}

/// Server-to-server sign-in: a token and no refresh token; secrets are
/// checked.
#[tokio::test]
async fn client_credentials_grant() {
    let h = Harness::start().await;
    h.emu.register_client("s2s", Some("sekrit"));
    h.emu.register_client("public", None);
    let form = |id: &'static str, secret: &'static str| {
        [
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", "openid AdobeID frame.s2s.all"),
        ]
    };
    let tokens: Value = expect_json(
        token_request(&h, &form("s2s", "sekrit")).await,
        StatusCode::OK,
    )
    .await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert_eq!(tokens["token_type"], "bearer");
    let access = tokens["access_token"].as_str().expect("access");
    assert_eq!(me_status(&h, access).await, StatusCode::OK);

    ims_error(
        token_request(&h, &form("s2s", "wrong")).await,
        "invalid_client",
    )
    .await;
    ims_error(
        token_request(&h, &form("public", "")).await,
        "invalid_client",
    )
    .await;
    ims_error(
        token_request(&h, &form("nobody", "x")).await,
        "invalid_client",
    )
    .await;
    let unsupported = token_request(&h, &[("grant_type", "password"), ("client_id", "s2s")]).await;
    ims_error(unsupported, "unsupported_grant_type").await;
    assert_eq!(h.emu.stats().grants_for("client_credentials"), 1);
}

/// `POST /ims/revoke` revokes an access token.
#[tokio::test]
async fn revoke_endpoint_revokes() {
    let h = Harness::start().await;
    let token = h.emu.issue_token();
    assert_eq!(me_status(&h, &token).await, StatusCode::OK);
    let response = h
        .http
        .post(h.url("/ims/revoke"))
        .form(&[("token", token.as_str()), ("client_id", "any")])
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(me_status(&h, &token).await, StatusCode::UNAUTHORIZED);
    // Unknown tokens are fine (RFC 7009).
    let unknown = h
        .http
        .post(h.url("/ims/revoke"))
        .form(&[("token", "nope")])
        .send()
        .await
        .expect("answered");
    assert_eq!(unknown.status(), StatusCode::OK);
}
