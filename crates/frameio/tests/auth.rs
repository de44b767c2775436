//! Sign-in: OAuth with PKCE through a loopback listener, refresh once under
//! concurrency, rotation, invalid_grant, server-to-server, legacy tokens.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use postflow_frameio::auth::{OAuthConfig, DEFAULT_SCOPES};
use postflow_frameio::{Client, ClientConfig, Credentials, Disposition, Error, SignIn, TokenSink};
use postflow_secrets::secrecy::ExposeSecret;
use postflow_secrets::FrameioTokens;
use support::*;

#[derive(Default)]
struct Kept(Mutex<Vec<FrameioTokens>>);
impl TokenSink for Kept {
    fn store(&self, tokens: &FrameioTokens) -> Result<(), postflow_core::ApiError> {
        self.0.lock().unwrap().push(tokens.clone());
        Ok(())
    }
}

async fn sign_in(emu: &postflow_frameio_emulator::Emulator) -> FrameioTokens {
    emu.register_client("postflow-desktop", None);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let signin = SignIn::start(OAuthConfig {
        ims_base_url: emu.base_url(),
        client_id: "postflow-desktop".into(),
        client_secret: None,
        redirect_uri: format!("http://127.0.0.1:{port}/callback"),
        scopes: DEFAULT_SCOPES.into(),
    })
    .unwrap();
    // The "browser": follows the IMS redirect to our loopback listener.
    let url = signin.authorize_url.clone();
    let browser = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let page = reqwest::get(url).await.unwrap().text().await.unwrap();
        assert!(page.contains("signed in"), "{page}");
    });
    let callback = signin
        .receive_on_loopback(Duration::from_secs(10))
        .await
        .unwrap();
    browser.await.unwrap();
    signin
        .complete(&reqwest::Client::new(), &callback)
        .await
        .unwrap()
}

fn oauth_client(
    emu: &postflow_frameio_emulator::Emulator,
    tokens: FrameioTokens,
    sink: Arc<Kept>,
) -> Client {
    oauth_client_retrying(emu, tokens, sink, fast_retry())
}

fn oauth_client_retrying(
    emu: &postflow_frameio_emulator::Emulator,
    tokens: FrameioTokens,
    sink: Arc<Kept>,
    retry: postflow_frameio::RetryPolicy,
) -> Client {
    Client::new(ClientConfig {
        api_base_url: emu.base_url(),
        ims_base_url: emu.base_url(),
        account_id: emu.account_id(),
        credentials: Credentials::OAuth {
            client_id: "postflow-desktop".into(),
            client_secret: None,
            tokens,
        },
        token_sink: Some(sink),
        retry,
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_sign_in_with_pkce_through_the_loopback_listener() {
    let emu = emulator(MIB).await;
    let tokens = sign_in(&emu).await;
    assert!(tokens.refresh_token.is_some());
    let client = oauth_client(&emu, tokens, Arc::default());
    let me = client.me().await.unwrap();
    assert!(!me.id.is_empty());
    assert_eq!(
        client
            .project(&emu.project_id())
            .await
            .unwrap()
            .root_folder_id,
        emu.root_folder_id()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_requests_needing_a_refresh_refresh_once_and_the_rotated_token_is_kept() {
    let emu = emulator(MIB).await;
    emu.set_token_ttl(Duration::from_secs(2));
    let tokens = sign_in(&emu).await;
    let first_refresh = tokens
        .refresh_token
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_string();
    let kept = Arc::new(Kept::default());
    let client = oauth_client(&emu, tokens, kept.clone());
    client.me().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await; // expired now
    let before = emu.stats().grants_for("refresh_token");
    let calls = (0..16).map(|_| client.me());
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(
        emu.stats().grants_for("refresh_token") - before,
        1,
        "one refresh for sixteen requests"
    );
    let kept = kept.0.lock().unwrap();
    assert_eq!(kept.len(), 1);
    let rotated = kept[0]
        .refresh_token
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_string();
    assert_ne!(rotated, first_refresh, "the new refresh token was stored");
}

/// A request that waits out a long 5xx backoff can outlive the very token
/// it has just renewed. Its second 401, after other answers came back,
/// renews again; only a 401 at the renewed token's first use is a refused
/// sign-in. (Found by the chaos soak: a service signed itself out and
/// stranded its queue.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_outliving_the_token_it_renewed_renews_again_not_signed_out() {
    let emu = emulator(MIB).await;
    let ttl = Duration::from_secs(2);
    emu.set_token_ttl(ttl);
    let tokens = sign_in(&emu).await;
    // Backoffs of about 1, 2, 4 s: past the renewed token's 2 s.
    let retry = postflow_frameio::RetryPolicy {
        max_retries: 8,
        min_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(4),
    };
    let client = oauth_client_retrying(&emu, tokens, Arc::default(), retry);
    client.me().await.unwrap();
    tokio::time::sleep(ttl + Duration::from_millis(100)).await; // expired now
                                                                // Injected after the token check: the expired token's 401 comes first
                                                                // (renewed), then three 503s outlast the renewed token.
    emu.faults().fail_api("me", 3, 503);
    let unauthorized = emu.stats().unauthorized;
    let started = std::time::Instant::now();
    client
        .me()
        .await
        .expect("a second renewal, not a refused sign-in");
    assert!(
        emu.stats().unauthorized > unauthorized,
        "no 401 after the 503s: the test proves nothing"
    );
    assert!(
        started.elapsed() > ttl,
        "the request did not outlive the renewed token ({:?}): the test proves nothing",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_signs_out_clearly_and_stays_signed_out() {
    let emu = emulator(MIB).await;
    emu.set_token_ttl(Duration::from_millis(300));
    let mut tokens = sign_in(&emu).await;
    tokens.refresh_token = Some("not-a-valid-refresh-token".to_string().into());
    let client = oauth_client(&emu, tokens, Arc::default());
    tokio::time::sleep(Duration::from_millis(400)).await;
    let err = client.me().await.unwrap_err();
    assert!(matches!(err, Error::SignedOut(_)), "{err}");
    assert_eq!(err.disposition(), Disposition::NeedsUser);
    assert!(err.to_string().contains("sign in again"), "{err}");
    let grants = emu.stats().grants_for("refresh_token");
    assert!(client.me().await.is_err());
    assert_eq!(
        emu.stats().grants_for("refresh_token"),
        grants,
        "no retry storm against IMS"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pkce_state_is_refused() {
    let emu = emulator(MIB).await;
    emu.register_client("postflow-desktop", None);
    let signin = SignIn::start(OAuthConfig {
        ims_base_url: emu.base_url(),
        client_id: "postflow-desktop".into(),
        client_secret: None,
        redirect_uri: "adobe+abc123://callback".into(),
        scopes: DEFAULT_SCOPES.into(),
    })
    .unwrap();
    let forged = url::Url::parse("adobe+abc123://callback?code=x&state=forged").unwrap();
    let err = signin
        .complete(&reqwest::Client::new(), &forged)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("state mismatch"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_lists_accounts_workspaces_and_projects() {
    let emu = emulator(MIB).await;
    let client = client(&emu);
    let accounts = client.accounts().await.unwrap();
    assert!(accounts.iter().any(|a| a.id == emu.account_id()));
    let workspaces = client.workspaces().await.unwrap();
    assert!(workspaces.iter().any(|w| w.id == emu.workspace_id()));
    let projects = client.projects(&emu.workspace_id()).await.unwrap();
    let project = projects.iter().find(|p| p.id == emu.project_id()).unwrap();
    assert_eq!(project.root_folder_id, emu.root_folder_id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_paced_by_the_rate_limit_headers() {
    use postflow_frameio_emulator::RateLimits;
    let emu = emulator(MIB).await;
    emu.set_rate_limits(RateLimits::unlimited().with("me", 5, Duration::from_millis(500)));
    let client = client(&emu);
    for _ in 0..15 {
        client.me().await.unwrap();
    }
    // Without pacing every sixth call would hit a 429; with it, at most the
    // first window's guess is off.
    assert!(
        emu.stats().rate_limited <= 1,
        "{} 429s",
        emu.stats().rate_limited
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_developer_token_is_sent_with_its_header() {
    use axum::http::HeaderMap;
    // A stand-in for Frame.io that answers /v4/me only to legacy-token requests.
    let app = axum::Router::new().route(
        "/v4/me",
        axum::routing::get(|headers: HeaderMap| async move {
            let legacy = headers
                .get("x-frameio-legacy-token-auth")
                .and_then(|v| v.to_str().ok())
                == Some("true");
            let bearer = headers.get("authorization").and_then(|v| v.to_str().ok())
                == Some("Bearer legacy-dev-token");
            if legacy && bearer {
                (
                    axum::http::StatusCode::OK,
                    r#"{"data":{"id":"u1","name":"Dev","email":"d@example.com"}}"#,
                )
            } else {
                (
                    axum::http::StatusCode::UNAUTHORIZED,
                    r#"{"errors":[{"detail":"legacy header missing"}]}"#,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = |legacy| {
        Client::new(ClientConfig {
            api_base_url: base.clone(),
            ims_base_url: base.clone(),
            account_id: "a".into(),
            credentials: Credentials::Static {
                token: "legacy-dev-token".to_string().into(),
                legacy,
            },
            token_sink: None,
            retry: fast_retry(),
        })
        .unwrap()
    };
    assert_eq!(client(true).me().await.unwrap().id, "u1");
    let err = client(false).me().await.unwrap_err();
    assert!(matches!(err, Error::SignedOut(_)), "{err}");
}
