//! Credentials and tokens: a static bearer token, Adobe server-to-server
//! `client_credentials`, or a user's OAuth sign-in (authorization code with
//! PKCE) refreshed ahead of expiry.
//!
//! Many requests may find the token stale at once; the state lock makes the
//! first one refresh and the others wait for its result, so a refresh
//! happens **once**. A refresh refused with `invalid_grant` signs the client
//! out for good (every later call fails fast with [`Error::SignedOut`]) until
//! the user signs in again.
//!
//! Assumptions (frameio-v4-notes.md): IMS token endpoint `/ims/token/v3`,
//! authorize `/ims/authorize/v2`, form-encoded requests, refresh tokens
//! rotate on every refresh; whether public clients receive a refresh token
//! at all is unconfirmed, so a sign-in without one is supported and expires.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use postflow_secrets::FrameioTokens;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use url::Url;

use crate::error::{Error, Result};

/// User scopes; `offline_access` is what yields a refresh token.
pub const DEFAULT_SCOPES: &str = "openid profile email offline_access additional_info.roles";
/// Server-to-server scopes.
pub const S2S_SCOPES: &str = "openid AdobeID frame.s2s.all";

/// How PostFlow authenticates to Frame.io.
#[derive(Clone)]
pub enum Credentials {
    /// A fixed bearer token: a legacy developer token (sent with
    /// `x-frameio-legacy-token-auth: true` when `legacy` is set) or a token
    /// from the environment on a server.
    Static { token: SecretString, legacy: bool },
    /// Adobe server-to-server, for accounts managed in the Admin Console.
    ClientCredentials {
        client_id: String,
        client_secret: SecretString,
        scopes: String,
    },
    /// A user's sign-in, refreshed automatically.
    OAuth {
        client_id: String,
        client_secret: Option<SecretString>,
        tokens: FrameioTokens,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Static { legacy, .. } => write!(f, "Static {{ legacy: {legacy} }}"),
            Credentials::ClientCredentials { client_id, .. } => {
                write!(f, "ClientCredentials {{ client_id: {client_id} }}")
            }
            Credentials::OAuth { client_id, .. } => write!(f, "OAuth {{ client_id: {client_id} }}"),
        }
    }
}

/// Where rotated tokens are kept (the OS keychain in the app).
pub trait TokenSink: Send + Sync {
    fn store(&self, tokens: &FrameioTokens) -> std::result::Result<(), postflow_core::ApiError>;
}

impl TokenSink for postflow_secrets::SecretStore {
    fn store(&self, tokens: &FrameioTokens) -> std::result::Result<(), postflow_core::ApiError> {
        Ok(self.set_frameio_tokens(tokens)?)
    }
}

struct State {
    access: Option<SecretString>,
    /// When the access token stops working, and how long it lived.
    expires: Option<(Instant, Duration)>,
    refresh: Option<SecretString>,
    signed_out: Option<String>,
    /// When the current token was obtained by a renewal.
    renewed_at: Option<Instant>,
    /// Bumped on every new access token, so a 401 on an old token does not
    /// trigger a second refresh.
    generation: u64,
}

pub(crate) struct Auth {
    http: reqwest::Client,
    ims_base: Url,
    credentials: Credentials,
    sink: Option<Arc<dyn TokenSink>>,
    state: Mutex<State>,
}

/// A token and the generation it belongs to.
pub(crate) struct Token {
    pub value: SecretString,
    pub generation: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct ImsError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl Auth {
    pub(crate) fn new(
        http: reqwest::Client,
        ims_base: Url,
        credentials: Credentials,
        sink: Option<Arc<dyn TokenSink>>,
    ) -> Self {
        let mut state = State {
            access: None,
            expires: None,
            refresh: None,
            signed_out: None,
            renewed_at: None,
            generation: 0,
        };
        match &credentials {
            Credentials::Static { token, .. } => state.access = Some(token.clone()),
            Credentials::OAuth { tokens, .. } => {
                state.access = Some(tokens.access_token.clone());
                state.refresh = tokens.refresh_token.clone();
                // The original lifetime is unknown; what is left stands in
                // for it when sizing the refresh-ahead margin.
                state.expires = tokens.expires_at.map(|at| {
                    let left = Duration::from_secs(at.saturating_sub(unix_now()));
                    (Instant::now() + left, left)
                });
            }
            Credentials::ClientCredentials { .. } => {}
        }
        Self {
            http,
            ims_base,
            credentials,
            sink,
            state: Mutex::new(state),
        }
    }

    pub(crate) fn legacy_header(&self) -> bool {
        matches!(self.credentials, Credentials::Static { legacy: true, .. })
    }

    /// A token good for at least a little while, refreshing first if needed.
    pub(crate) async fn token(&self) -> Result<Token> {
        let mut state = self.state.lock().await;
        if let Some(why) = &state.signed_out {
            return Err(Error::SignedOut(why.clone()));
        }
        // A token renewed a moment ago is used as it is, whatever its stated
        // lifetime (IMS may round a short one down to `expires_in: 0`):
        // callers that queued behind a refresh must not refresh again.
        let just_renewed = state
            .renewed_at
            .is_some_and(|at| at.elapsed() < Duration::from_secs(1));
        let fresh = match (&state.access, state.expires) {
            _ if just_renewed => true,
            (Some(_), None) => true,
            (Some(_), Some((deadline, lifetime))) => {
                // Refresh ahead of expiry: a fifth of the lifetime, at most 5 min.
                let margin = (lifetime / 5).min(Duration::from_secs(300));
                Instant::now() + margin < deadline
            }
            (None, _) => false,
        };
        if !fresh {
            self.renew(&mut state).await?;
        }
        Ok(Token {
            value: state.access.clone().expect("renew sets a token"),
            generation: state.generation,
        })
    }

    /// Frame.io refused `rejected`: refresh once (unless another request
    /// already did) and return the token to retry with.
    pub(crate) async fn token_rejected(&self, rejected: &Token) -> Result<Token> {
        let mut state = self.state.lock().await;
        if let Some(why) = &state.signed_out {
            return Err(Error::SignedOut(why.clone()));
        }
        if state.generation == rejected.generation {
            if let Credentials::Static { .. } = self.credentials {
                let why = "Frame.io refused the token".to_string();
                state.signed_out = Some(why.clone());
                return Err(Error::SignedOut(why));
            }
            self.renew(&mut state).await?;
        }
        Ok(Token {
            value: state.access.clone().expect("renew sets a token"),
            generation: state.generation,
        })
    }

    async fn renew(&self, state: &mut State) -> Result<()> {
        let form: Vec<(&str, String)> = match &self.credentials {
            Credentials::Static { .. } => {
                // A static token does not expire on our clock.
                return Ok(());
            }
            Credentials::ClientCredentials {
                client_id,
                client_secret,
                scopes,
            } => vec![
                ("grant_type", "client_credentials".into()),
                ("client_id", client_id.clone()),
                ("client_secret", client_secret.expose_secret().to_string()),
                ("scope", scopes.clone()),
            ],
            Credentials::OAuth {
                client_id,
                client_secret,
                ..
            } => {
                let Some(refresh) = &state.refresh else {
                    let why = "the sign-in expired and cannot be renewed".to_string();
                    state.signed_out = Some(why.clone());
                    return Err(Error::SignedOut(why));
                };
                let mut form = vec![
                    ("grant_type", "refresh_token".to_string()),
                    ("refresh_token", refresh.expose_secret().to_string()),
                    ("client_id", client_id.clone()),
                ];
                if let Some(secret) = client_secret {
                    form.push(("client_secret", secret.expose_secret().to_string()));
                }
                form
            }
        };
        let grant = form[0].1.clone();
        let response = match token_request(&self.http, &self.ims_base, &form).await {
            Ok(r) => r,
            Err(TokenError::Refused { error, description }) => {
                let why = format!("{error}: {description}");
                if error == "invalid_grant" || error == "invalid_client" {
                    tracing::warn!("Frame.io sign-in can no longer be renewed ({why}): signed out");
                    state.signed_out = Some(why.clone());
                    return Err(Error::SignedOut(why));
                }
                return Err(Error::SignIn(why));
            }
            Err(TokenError::Other(e)) => return Err(e),
        };
        let lifetime = Duration::from_secs(response.expires_in.unwrap_or(86_400));
        postflow_secrets::redact::register(&response.access_token);
        state.access = Some(response.access_token.into());
        state.expires = Some((Instant::now() + lifetime, lifetime));
        if let Some(refresh) = response.refresh_token {
            postflow_secrets::redact::register(&refresh);
            state.refresh = Some(refresh.into());
        }
        state.generation += 1;
        state.renewed_at = Some(Instant::now());
        tracing::info!(grant = %grant, expires_in = lifetime.as_secs(), "Frame.io token renewed");

        if let (Some(sink), Credentials::OAuth { .. }) = (&self.sink, &self.credentials) {
            let tokens = FrameioTokens {
                access_token: state.access.clone().expect("just set"),
                refresh_token: state.refresh.clone(),
                expires_at: Some(unix_now() + lifetime.as_secs()),
            };
            // The rotated refresh token must be kept, or the next start is
            // signed out. Failing to store it is loud but not fatal now.
            // Assumed (GitGuardian's Adobe refresh-token page, citing
            // Adobe's IMS docs): IMS revokes a refresh token once used, so a
            // crash between IMS's answer and this write signs the
            // workstation out (seen once in the full chaos soak, see
            // docs/benchmarks.md); the window is this one keychain write.
            if let Err(e) = sink.store(&tokens) {
                tracing::error!("cannot store the renewed Frame.io sign-in: {e}");
            }
        }
        Ok(())
    }
}

enum TokenError {
    Refused { error: String, description: String },
    Other(Error),
}

async fn token_request(
    http: &reqwest::Client,
    ims_base: &Url,
    form: &[(&str, String)],
) -> std::result::Result<TokenResponse, TokenError> {
    let url = ims_base
        .join("ims/token/v3")
        .map_err(|e| TokenError::Other(Error::SignIn(format!("bad IMS URL: {e}"))))?;
    let response = http
        .post(url)
        .form(form)
        .send()
        .await
        .map_err(|e| TokenError::Other(Error::network(e)))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| TokenError::Other(Error::network(e)))?;
    if status.is_success() {
        return serde_json::from_slice(&body)
            .map_err(|e| TokenError::Other(Error::Protocol(format!("token response: {e}"))));
    }
    match serde_json::from_slice::<ImsError>(&body) {
        Ok(e) if !e.error.is_empty() => Err(TokenError::Refused {
            error: e.error,
            description: e.error_description.unwrap_or_default(),
        }),
        _ if status.is_server_error() => Err(TokenError::Other(Error::Network(format!(
            "Adobe sign-in service answered {status}"
        )))),
        _ => Err(TokenError::Refused {
            error: format!("http_{}", status.as_u16()),
            description: String::from_utf8_lossy(&body).chars().take(200).collect(),
        }),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Where a user's sign-in is sent and how it comes back.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    pub ims_base_url: String,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    /// A loopback URL (`http://127.0.0.1:8765/callback`) or the custom
    /// scheme Adobe assigns to Native App credentials.
    pub redirect_uri: String,
    pub scopes: String,
}

/// One sign-in in progress: open [`SignIn::authorize_url`] in the browser,
/// then give the URL the browser was sent back to to [`SignIn::complete`]
/// (received by [`SignIn::receive_on_loopback`], or from a deep link).
pub struct SignIn {
    config: OAuthConfig,
    pub authorize_url: Url,
    verifier: SecretString,
    state: String,
}

impl SignIn {
    pub fn start(config: OAuthConfig) -> Result<SignIn> {
        let verifier = random_token(64);
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        let state = random_token(24);
        let mut authorize_url = Url::parse(&config.ims_base_url)
            .and_then(|u| u.join("ims/authorize/v2"))
            .map_err(|e| Error::SignIn(format!("bad IMS URL {}: {e}", config.ims_base_url)))?;
        authorize_url
            .query_pairs_mut()
            .append_pair("client_id", &config.client_id)
            .append_pair("redirect_uri", &config.redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &config.scopes)
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(SignIn {
            config,
            authorize_url,
            verifier: verifier.into(),
            state,
        })
    }

    /// Waits for the browser to come back to a loopback `redirect_uri`
    /// (`http://127.0.0.1:PORT/path`) and returns the full callback URL.
    pub async fn receive_on_loopback(&self, timeout: Duration) -> Result<Url> {
        let redirect = Url::parse(&self.config.redirect_uri)
            .map_err(|e| Error::SignIn(format!("bad redirect URI: {e}")))?;
        let host = redirect.host_str().unwrap_or_default().to_string();
        if redirect.scheme() != "http"
            || !(host == "127.0.0.1" || host == "localhost" || host == "[::1]")
        {
            return Err(Error::SignIn(format!(
                "{} is not a loopback redirect URI; complete the sign-in from the deep link instead",
                self.config.redirect_uri
            )));
        }
        let port = redirect.port_or_known_default().unwrap_or(80);
        let listener = tokio::net::TcpListener::bind((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| {
                Error::SignIn(format!(
                    "cannot listen on {host}:{port} for the sign-in: {e}"
                ))
            })?;
        let (tx, rx) = tokio::sync::oneshot::channel::<Url>();
        let tx = Arc::new(std::sync::Mutex::new(Some(tx)));
        let base = redirect.clone();
        let path = redirect.path().to_string();
        let app = axum::Router::new().route(
            &path,
            axum::routing::get(move |uri: axum::http::Uri| {
                let tx = tx.clone();
                let base = base.clone();
                async move {
                    let mut url = base.clone();
                    url.set_query(uri.query());
                    if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                        let _ = tx.send(url);
                    }
                    axum::response::Html(
                        "<!doctype html><title>PostFlow</title><h1>PostFlow is signed in.</h1><p>You can close this tab.</p>",
                    )
                }
            }),
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let result = tokio::time::timeout(timeout, rx).await;
        // Give the browser its page before the listener goes away.
        tokio::time::sleep(Duration::from_millis(50)).await;
        server.abort();
        match result {
            Ok(Ok(url)) => Ok(url),
            _ => Err(Error::SignIn(format!(
                "no answer from the browser within {} s; try signing in again",
                timeout.as_secs()
            ))),
        }
    }

    /// Checks the callback and exchanges its code for tokens.
    pub async fn complete(&self, http: &reqwest::Client, callback: &Url) -> Result<FrameioTokens> {
        let params: std::collections::HashMap<String, String> =
            callback.query_pairs().into_owned().collect();
        if let Some(error) = params.get("error") {
            return Err(Error::SignIn(format!(
                "Adobe refused the sign-in: {error} {}",
                params
                    .get("error_description")
                    .map(String::as_str)
                    .unwrap_or("")
            )));
        }
        if params.get("state") != Some(&self.state) {
            return Err(Error::SignIn(
                "the sign-in answer does not match this sign-in (state mismatch); try again".into(),
            ));
        }
        let code = params
            .get("code")
            .ok_or_else(|| Error::SignIn("the sign-in answer has no code".into()))?;
        let mut form = vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code.clone()),
            ("code_verifier", self.verifier.expose_secret().to_string()),
            ("client_id", self.config.client_id.clone()),
            ("redirect_uri", self.config.redirect_uri.clone()),
        ];
        if let Some(secret) = &self.config.client_secret {
            form.push(("client_secret", secret.expose_secret().to_string()));
        }
        let ims = Url::parse(&self.config.ims_base_url)
            .map_err(|e| Error::SignIn(format!("bad IMS URL: {e}")))?;
        let response = match token_request(http, &ims, &form).await {
            Ok(r) => r,
            Err(TokenError::Refused { error, description }) => {
                return Err(Error::SignIn(format!("{error}: {description}")))
            }
            Err(TokenError::Other(e)) => return Err(e),
        };
        postflow_secrets::redact::register(&response.access_token);
        if response.refresh_token.is_none() {
            tracing::warn!(
                "Adobe gave no refresh token: the sign-in will end when the access token expires"
            );
        }
        Ok(FrameioTokens {
            access_token: response.access_token.into(),
            refresh_token: response.refresh_token.map(Into::into),
            expires_at: Some(unix_now() + response.expires_in.unwrap_or(86_400)),
        })
    }
}

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
