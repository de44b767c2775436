//! Shared helpers: an emulator with a reqwest client on loopback.

use std::time::Duration;

use postflow_frameio_emulator::{Emulator, EmulatorConfig, RateLimits};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

/// The part size most tests use: small, so files stay small.
pub const PART: u64 = 64 * 1024;

/// Small parts, no rate limits: the tests' default.
pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        part_size: PART,
        rate_limits: RateLimits::unlimited(),
        ..EmulatorConfig::default()
    }
}

/// A running emulator, an HTTP client and a valid token.
pub struct Harness {
    pub emu: Emulator,
    pub http: Client,
    pub token: String,
}

/// A client that never uses a proxy and never follows redirects.
pub fn client() -> Client {
    Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::with(config()).await
    }

    pub async fn with(config: EmulatorConfig) -> Harness {
        let emu = Emulator::start(config).await.expect("emulator starts");
        let token = emu.issue_token();
        Harness {
            emu,
            http: client(),
            token,
        }
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.base_url())
    }

    /// The URL of `/v4/accounts/{account}` + `rest`.
    pub fn acct(&self, rest: &str) -> String {
        self.url(&format!("/v4/accounts/{}{rest}", self.emu.account_id()))
    }

    pub async fn get(&self, url: &str) -> Response {
        self.get_as(url, &self.token).await
    }

    pub async fn get_as(&self, url: &str, token: &str) -> Response {
        self.http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("GET answered")
    }

    pub async fn send_json(&self, method: reqwest::Method, url: &str, body: &Value) -> Response {
        self.http
            .request(method, url)
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("request answered")
    }

    pub async fn post(&self, url: &str, body: &Value) -> Response {
        self.send_json(reqwest::Method::POST, url, body).await
    }

    /// Creates a folder through the API; returns its JSON.
    pub async fn api_create_folder(&self, parent: &str, name: &str) -> Value {
        let url = self.acct(&format!("/folders/{parent}/folders"));
        let response = self
            .post(&url, &serde_json::json!({"data": {"name": name}}))
            .await;
        expect_json(response, StatusCode::CREATED).await["data"].clone()
    }

    /// Creates a file for local upload; returns its JSON (with `upload_urls`).
    pub async fn create_upload(&self, folder: &str, name: &str, size: u64) -> Value {
        let url = self.acct(&format!("/folders/{folder}/files/local_upload"));
        let response = self
            .post(
                &url,
                &serde_json::json!({"data": {"name": name, "file_size": size}}),
            )
            .await;
        expect_json(response, StatusCode::CREATED).await["data"].clone()
    }

    /// PUTs one part the way S3 wants it.
    pub async fn put_part(
        &self,
        url: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Result<Response> {
        put_part(&self.http, url, media_type, bytes).await
    }

    /// Uploads `content` to a file created by [`Harness::create_upload`],
    /// one part after the other.
    pub async fn upload_all(&self, file: &Value, content: &[u8]) {
        let media_type = file["media_type"].as_str().expect("media_type");
        let mut offset = 0usize;
        for part in upload_urls(file) {
            let (size, url) = part;
            let chunk = content[offset..offset + size as usize].to_vec();
            offset += size as usize;
            let response = self
                .put_part(&url, media_type, chunk)
                .await
                .expect("PUT answered");
            assert_eq!(response.status(), StatusCode::OK, "part PUT");
        }
    }
}

/// PUTs one part the way S3 wants it.
pub async fn put_part(
    http: &Client,
    url: &str,
    media_type: &str,
    bytes: Vec<u8>,
) -> reqwest::Result<Response> {
    http.put(url)
        .header("x-amz-acl", "private")
        .header(CONTENT_TYPE, media_type)
        .body(bytes)
        .send()
        .await
}

/// The `(size, url)` pairs of a `local_upload` answer.
pub fn upload_urls(file: &Value) -> Vec<(u64, String)> {
    file["upload_urls"]
        .as_array()
        .expect("upload_urls")
        .iter()
        .map(|u| {
            (
                u["size"].as_u64().expect("size"),
                u["url"].as_str().expect("url").to_owned(),
            )
        })
        .collect()
}

/// Asserts the status and returns the JSON body.
pub async fn expect_json(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let url = response.url().clone();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "{url}: unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text}"))
}

/// Asserts a V4 error answer: status, `errors[0].detail`, rate-limit headers.
pub async fn expect_error(response: Response, status: StatusCode) -> Value {
    assert_rate_headers(&response);
    let body = expect_json(response, status).await;
    assert!(
        body["errors"][0]["detail"].is_string(),
        "error body without errors[0].detail: {body}"
    );
    body
}

/// Asserts the three `x-ratelimit-*` headers are there and numeric.
pub fn assert_rate_headers(response: &Response) {
    for name in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-window",
    ] {
        let value = response
            .headers()
            .get(name)
            .unwrap_or_else(|| panic!("{}: no {name} header", response.url()));
        value
            .to_str()
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} is not a number: {value:?}"));
    }
}

/// A numeric header.
pub fn header_u64(response: &Response, name: &str) -> u64 {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {name} header"))
}

/// Deterministic pseudo-random bytes (xorshift), different per `seed`.
pub fn test_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The S3 `<Code>` of an XML error body.
pub async fn s3_code(response: Response, status: StatusCode) -> String {
    let actual = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    assert_eq!(content_type, "application/xml", "S3 errors are XML");
    let start = text.find("<Code>").expect("<Code>") + "<Code>".len();
    let end = text.find("</Code>").expect("</Code>");
    assert!(text.contains("<Message>"), "no <Message>: {text}");
    text[start..end].to_owned()
}

/// The S3 `<Message>` of an XML error body.
pub fn s3_message(text: &str) -> &str {
    let start = text.find("<Message>").map_or(0, |i| i + "<Message>".len());
    let end = text.find("</Message>").unwrap_or(text.len());
    &text[start..end]
}
