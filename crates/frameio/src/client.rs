//! The request core: authentication, pacing from `x-ratelimit-*`, retries
//! with exponential backoff and jitter, one token refresh on 401, typed
//! errors, and `links.next` pagination.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use url::Url;

use crate::auth::{Auth, Credentials, TokenSink};
use crate::error::{ApiProblem, Error, Result};
use crate::model::{Account, Envelope, Page, Project, User, Workspace};

/// How to reach Frame.io.
#[derive(Clone)]
pub struct ClientConfig {
    pub api_base_url: String,
    pub ims_base_url: String,
    pub account_id: String,
    pub credentials: Credentials,
    /// Where rotated OAuth tokens are stored (the keychain).
    pub token_sink: Option<Arc<dyn TokenSink>>,
    pub retry: RetryPolicy,
}

/// Exponential backoff with jitter for transient failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // The notes: start near 1 s on 429s.
        Self {
            max_retries: 8,
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    pub(crate) fn delays(&self) -> impl Iterator<Item = Duration> {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_jitter()
            .build()
    }
}

/// Renewals one request may make before its 401s are taken for a refused
/// sign-in whatever answered in between (see `send`).
const MAX_RENEWALS_PER_REQUEST: u32 = 3;

/// A Frame.io V4 client for one account. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub http: reqwest::Client,
    pub api: Url,
    pub account_id: String,
    pub auth: Auth,
    pub pacer: Pacer,
    pub retry: RetryPolicy,
    pub folders: crate::structure::FolderLocks,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .read_timeout(Duration::from_secs(120))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("PostFlow/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Protocol(format!("HTTP client: {e}")))?;
        let api = base_url(&config.api_base_url)?;
        let ims = base_url(&config.ims_base_url)?;
        Ok(Client {
            inner: Arc::new(Inner {
                auth: Auth::new(http.clone(), ims, config.credentials, config.token_sink),
                http,
                api,
                account_id: config.account_id,
                pacer: Pacer::default(),
                retry: config.retry,
                folders: Default::default(),
            }),
        })
    }

    pub fn account_id(&self) -> &str {
        &self.inner.account_id
    }

    /// The HTTP client, for completing a sign-in.
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// `/v4/accounts/{account}/...`
    pub(crate) fn account_path(&self, rest: &str) -> String {
        format!("v4/accounts/{}/{rest}", self.inner.account_id)
    }

    pub async fn me(&self) -> Result<User> {
        self.get("me", "v4/me", &[]).await
    }

    pub async fn accounts(&self) -> Result<Vec<Account>> {
        self.paginate("accounts", "v4/accounts", &[]).await
    }

    pub async fn workspaces(&self) -> Result<Vec<Workspace>> {
        self.paginate("workspaces", &self.account_path("workspaces"), &[])
            .await
    }

    pub async fn projects(&self, workspace_id: &str) -> Result<Vec<Project>> {
        self.paginate(
            "projects",
            &self.account_path(&format!("workspaces/{workspace_id}/projects")),
            &[],
        )
        .await
    }

    /// One project, with its root folder.
    pub async fn project(&self, project_id: &str) -> Result<Project> {
        self.get(
            "project",
            &self.account_path(&format!("projects/{project_id}")),
            &[],
        )
        .await
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        class: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        let body = self.send(class, Method::GET, path, query, None).await?;
        parse::<Envelope<T>>(&body).map(|e| e.data)
    }

    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        class: &'static str,
        path: &str,
        data: serde_json::Value,
    ) -> Result<T> {
        self.send_data(class, Method::POST, path, data).await
    }

    pub(crate) async fn patch<T: DeserializeOwned>(
        &self,
        class: &'static str,
        path: &str,
        data: serde_json::Value,
    ) -> Result<T> {
        self.send_data(class, Method::PATCH, path, data).await
    }

    /// A `{"data": ...}` body in, a `{"data": ...}` answer out.
    async fn send_data<T: DeserializeOwned>(
        &self,
        class: &'static str,
        method: Method,
        path: &str,
        data: serde_json::Value,
    ) -> Result<T> {
        let body = serde_json::json!({ "data": data });
        let answer = self.send(class, method, path, &[], Some(body)).await?;
        parse::<Envelope<T>>(&answer).map(|e| e.data)
    }

    pub(crate) async fn delete(&self, class: &'static str, path: &str) -> Result<()> {
        self.send(class, Method::DELETE, path, &[], None)
            .await
            .map(drop)
    }

    /// Every item of a listing, following `links.next` to the end. The next
    /// link carries only the `after` cursor, so the other parameters are
    /// added again on every page.
    pub(crate) async fn paginate<T: DeserializeOwned>(
        &self,
        class: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0usize;
        loop {
            let mut q = query.to_vec();
            if let Some(cursor) = &after {
                q.push(("after", cursor.clone()));
            }
            let body = self.send(class, Method::GET, path, &q, None).await?;
            let page: Page<T> = parse(&body)?;
            items.extend(page.data);
            pages += 1;
            let next = page.links.and_then(|l| l.next).filter(|n| !n.is_empty());
            let Some(next) = next else { break };
            let cursor = self
                .inner
                .api
                .join(&next)
                .ok()
                .and_then(|u| {
                    u.query_pairs()
                        .find(|(k, _)| k == "after")
                        .map(|(_, v)| v.into_owned())
                })
                .ok_or_else(|| Error::Protocol(format!("links.next without a cursor: {next}")))?;
            if after.as_deref() == Some(cursor.as_str()) || pages > 100_000 {
                return Err(Error::Protocol("pagination does not advance".into()));
            }
            after = Some(cursor);
        }
        Ok(items)
    }

    /// Sends one API request with every safety net; returns the body of a
    /// 2xx answer.
    pub(crate) async fn send(
        &self,
        class: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<bytes::Bytes> {
        let inner = &self.inner;
        let url = inner
            .api
            .join(path)
            .map_err(|e| Error::Protocol(format!("bad path {path}: {e}")))?;
        let mut delays = inner.retry.delays();
        let mut token = inner.auth.token().await?;
        // Whether the last attempt was the first with a token this request
        // renewed. A 401 there means the sign-in itself is refused. A 401
        // after another answer came back in between (a 5xx, a 429: a
        // request that waited out a long backoff, past the renewed token's
        // lifetime) is only another expiry, and renews again. Counted by
        // answers, not by time: the chaos soak's 30 s tokens outlived a
        // time-based grace. At most MAX_RENEWALS_PER_REQUEST renewals.
        let mut just_renewed = false;
        let mut renewals = 0;
        // A refused connection means Frame.io (or the network) is down: say
        // so after two quick retries and let the caller wait it out, rather
        // than spending minutes here.
        let mut refused = 0;
        loop {
            inner.pacer.wait(class).await;
            let mut request = inner
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.value.expose_secret())
                .query(query);
            if inner.auth.legacy_header() {
                request = request.header("x-frameio-legacy-token-auth", "true");
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            let sent_at = Instant::now();
            let outcome = request.send().await;
            let response = match outcome {
                Ok(r) => r,
                Err(e) => {
                    if e.is_connect() {
                        refused += 1;
                        if refused > 2 {
                            return Err(Error::network(e));
                        }
                    }
                    let error = Error::network(e);
                    match delays.next() {
                        Some(delay) => {
                            tracing::debug!(class, ?delay, "{error}; retrying");
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                        None => return Err(error),
                    }
                }
            };
            let status = response.status();
            // Pace from what successful answers say; a 429 is handled by
            // backing off below (the notes: exponential, from about 1 s).
            if status.is_success() {
                inner.pacer.observe(class, sent_at, response.headers());
            }
            let retry_after = retry_after(response.headers());
            let bytes = response.bytes().await.map_err(Error::network);
            if status.is_success() {
                match bytes {
                    Ok(b) => return Ok(b),
                    Err(e) => match delays.next() {
                        Some(delay) => {
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                        None => return Err(e),
                    },
                }
            }
            let problem = ApiProblem {
                status: status.as_u16(),
                detail: bytes
                    .as_deref()
                    .map(error_detail)
                    .unwrap_or_else(|_| status.canonical_reason().unwrap_or("error").to_string()),
            };
            let renewed_token_refused = just_renewed;
            just_renewed = false;
            match status {
                StatusCode::UNAUTHORIZED
                    if !renewed_token_refused && renewals < MAX_RENEWALS_PER_REQUEST =>
                {
                    renewals += 1;
                    just_renewed = true;
                    token = inner.auth.token_rejected(&token).await?;
                }
                StatusCode::UNAUTHORIZED => {
                    return Err(Error::SignedOut(format!(
                        "Frame.io refused the renewed token ({problem})"
                    )))
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let Some(backoff) = delays.next() else {
                        return Err(Error::RateLimited(problem));
                    };
                    let delay = retry_after.unwrap_or(backoff);
                    tracing::debug!(class, ?delay, "rate limited; waiting");
                    inner.pacer.hold(class, delay);
                    tokio::time::sleep(delay).await;
                }
                s if s == StatusCode::REQUEST_TIMEOUT || s.is_server_error() => {
                    let Some(delay) = delays.next() else {
                        return Err(Error::Unavailable(problem));
                    };
                    tracing::debug!(class, ?delay, "{problem}; retrying");
                    tokio::time::sleep(retry_after.unwrap_or(delay)).await;
                }
                StatusCode::FORBIDDEN => return Err(Error::Forbidden(problem)),
                StatusCode::NOT_FOUND => return Err(Error::NotFound(problem)),
                _ => return Err(Error::Rejected(problem)),
            }
        }
    }
}

fn base_url(s: &str) -> Result<Url> {
    let with_slash = if s.ends_with('/') {
        s.to_string()
    } else {
        format!("{s}/")
    };
    Url::parse(&with_slash).map_err(|e| Error::Protocol(format!("bad base URL {s}: {e}")))
}

pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| Error::Protocol(format!("cannot read the answer: {e}")))
}

/// The first `errors[].detail` of a V4 error body.
fn error_detail(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["errors"][0]["detail"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect())
}

/// `Retry-After` in seconds (the HTTP-date form is not used by Frame.io).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Spreads requests from what `x-ratelimit-*` says: when a class's budget
/// for the window is spent, its next request waits for the window to end.
/// The window is taken to start with the request that found the budget full
/// (`remaining == limit - 1`); when that was not seen, a whole window from
/// now is assumed.
#[derive(Default)]
pub(crate) struct Pacer {
    budgets: Mutex<HashMap<&'static str, Budget>>,
}

#[derive(Debug, Clone, Copy)]
struct Budget {
    remaining: u64,
    reset_at: Instant,
}

impl Pacer {
    pub(crate) async fn wait(&self, class: &'static str) {
        loop {
            let until = {
                let mut budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
                let Some(b) = budgets.get_mut(class) else {
                    return;
                };
                if Instant::now() >= b.reset_at {
                    budgets.remove(class);
                    return;
                }
                if b.remaining > 0 {
                    // Count this request against what is left.
                    b.remaining -= 1;
                    return;
                }
                b.reset_at
            };
            tracing::trace!(class, "rate budget spent; pacing");
            tokio::time::sleep_until(until.into()).await;
        }
    }

    pub(crate) fn observe(
        &self,
        class: &'static str,
        sent_at: Instant,
        headers: &reqwest::header::HeaderMap,
    ) {
        let number =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let (Some(limit), Some(remaining), Some(window_ms)) = (
            number("x-ratelimit-limit"),
            number("x-ratelimit-remaining"),
            number("x-ratelimit-window"),
        ) else {
            return;
        };
        let window = Duration::from_millis(window_ms);
        let now = Instant::now();
        let mut budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        let first_of_window = remaining + 1 >= limit;
        let budget = budgets.entry(class).or_insert(Budget {
            remaining,
            reset_at: if first_of_window {
                sent_at + window
            } else {
                now + window
            },
        });
        if first_of_window || budget.reset_at <= now {
            budget.reset_at = if first_of_window {
                sent_at + window
            } else {
                now + window
            };
            budget.remaining = remaining;
        } else {
            budget.remaining = budget.remaining.min(remaining);
        }
    }

    /// After a 429: nothing in this class goes out for `delay`.
    pub(crate) fn hold(&self, class: &'static str, delay: Duration) {
        let mut budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        let reset_at = Instant::now() + delay;
        let b = budgets.entry(class).or_insert(Budget {
            remaining: 0,
            reset_at,
        });
        b.remaining = 0;
        b.reset_at = b.reset_at.max(reset_at);
    }
}
