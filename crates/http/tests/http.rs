//! The web UI's HTTP server against a real API, a real queue database and
//! (for uploads) the Frame.io emulator, over loopback: the security rules,
//! the command list, the event stream, and no secret in any answer.

use std::sync::Arc;
use std::time::Duration;

use postflow_api::{Api, ApiOptions};
use postflow_http::{GuiOptions, GuiServer, KEY_HEADER};
use postflow_secrets::SecretStore;
use postflow_settings::Paths;
use serde_json::{json, Value};

const KEY: &str = "0123456789abcdef0123456789abcdef";

struct Rig {
    dir: tempfile::TempDir,
    api: Api,
    server: GuiServer,
    http: reqwest::Client,
}

impl Rig {
    async fn start(settings: &str, env: Vec<(&'static str, String)>) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("settings.toml");
        std::fs::write(&config, settings).unwrap();
        let paths = Paths {
            config_file: config,
            data_dir: dir.path().join("data"),
            log_dir: dir.path().join("logs"),
        };
        let secrets = SecretStore::environment_only("tests", move |var| {
            env.iter().find(|(k, _)| *k == var).map(|(_, v)| v.clone())
        });
        let api = Api::open(ApiOptions {
            paths,
            secrets: Arc::new(secrets),
            host: true,
            demo: false,
        })
        .await
        .unwrap();
        let server = postflow_http::serve(
            api.clone(),
            GuiOptions {
                listen: "127.0.0.1:0".parse().unwrap(),
                allow_remote: false,
                key: KEY.into(),
            },
        )
        .await
        .unwrap();
        Rig {
            dir,
            api,
            server,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr())
    }

    fn origin(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// A command as the page sends it: the key, this origin, JSON.
    async fn call(&self, command: &str, args: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(&format!("/api/{command}")))
            .header(KEY_HEADER, KEY)
            .header("origin", self.origin())
            .json(&args)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_needs_its_key_the_right_host_and_this_origin() {
    let rig = Rig::start("", vec![]).await;
    // No key: 401, for reads too.
    let r = rig
        .http
        .post(rig.url("/api/snapshot"))
        .header("origin", rig.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = rig
        .http
        .post(rig.url("/api/snapshot"))
        .header(KEY_HEADER, "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A foreign Host (DNS rebinding): 403, even with the key.
    let r = rig
        .http
        .post(rig.url("/api/snapshot"))
        .header(KEY_HEADER, KEY)
        .header("host", "evil.example:80")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Host check error"));
    let r = rig
        .http
        .get(rig.url("/"))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the page too");
    // Cross-origin POST: refused, even with the key.
    let r = rig
        .http
        .post(rig.url("/api/pause"))
        .header(KEY_HEADER, KEY)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        rig.api.control().state(),
        postflow_core::RunState::Running,
        "nothing happened"
    );
    assert!(
        r.headers().get("access-control-allow-origin").is_none(),
        "no CORS, ever"
    );
    // The page sets the key cookie, same-site only, and safe headers.
    let r = rig.http.get(rig.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with(&format!("postflow_key={KEY}")),
        "{cookie}"
    );
    assert!(cookie.contains("SameSite=Strict"));
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"));
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    // With the key, from this origin: it works.
    let (status, snapshot) = rig.call("snapshot", Value::Null).await;
    assert_eq!(status, 200, "{snapshot}");
    assert_eq!(snapshot["state"]["state"], "not_set_up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_an_error_with_its_fix_and_change_nothing() {
    let rig = Rig::start("", vec![]).await;
    let (status, error) = rig.call("format_disk", Value::Null).await;
    assert_eq!(status, 404);
    assert!(error["fix"].as_str().unwrap().contains("commands.ts"));
    let (status, error) = rig.call("retry", json!({"id": "seven"})).await;
    assert_eq!(status, 422);
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("arguments of retry"));
    let (status, error) = rig.call("retry", json!({"id": 7, "force": true})).await;
    assert_eq!(status, 422, "unknown arguments are refused: {error}");
    let r = rig
        .http
        .post(rig.url("/api/pause"))
        .header(KEY_HEADER, KEY)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // A bad setting: refused whole, with the key, message and fix; the
    // file on disk unchanged.
    let path = rig.dir.path().join("settings.toml");
    std::fs::write(&path, "# mine\n[transfers]\nparallel_files = 2\n").unwrap();
    let before = std::fs::read_to_string(&path).unwrap();
    let (_, view) = rig.call("settings_view", Value::Null).await;
    let mut settings = view["settings"].clone();
    settings["transfers"]["parallel_files"] = json!(0);
    settings["ui"]["listen"] = json!("0.0.0.0:80");
    let (status, error) = rig
        .call("save_settings", json!({"settings": settings}))
        .await;
    assert_eq!(status, 422, "{error}");
    let keys: Vec<&str> = error["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"transfers.parallel_files"), "{keys:?}");
    assert!(keys.contains(&"ui.listen"), "{keys:?}");
    assert!(error["problems"][0]["fix"].is_string());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_through_http_is_written_first_then_streamed() {
    let rig = Rig::start("", vec![]).await;
    let mut events = rig
        .http
        .get(rig.url(&format!("/api/events?key={KEY}")))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let no_key = rig.http.get(rig.url("/api/events")).send().await.unwrap();
    assert_eq!(no_key.status(), 401);

    let (status, snapshot) = rig.call("pause", Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(snapshot["run_state"], "paused");
    // Durable: the queue database says so (what `postflow status` reads).
    let queue = postflow_queue::Queue::open(&rig.dir.path().join("data/queue.sqlite")).unwrap();
    assert_eq!(queue.state("paused").unwrap().as_deref(), Some("true"));
    // And streamed.
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("run_state_changed") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        seen.contains(r#"data: {"type":"run_state_changed","state":"paused"}"#),
        "{seen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_bind_needs_allow_remote_and_then_the_key_for_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_file: dir.path().join("settings.toml"),
        data_dir: dir.path().join("data"),
        log_dir: dir.path().join("logs"),
    };
    let api = Api::open(ApiOptions {
        paths,
        secrets: Arc::new(SecretStore::environment_only("tests", |_| None)),
        host: false,
        demo: false,
    })
    .await
    .unwrap();
    let refused = postflow_http::serve(
        api.clone(),
        GuiOptions {
            listen: "0.0.0.0:0".parse().unwrap(),
            allow_remote: false,
            key: KEY.into(),
        },
    )
    .await;
    assert!(matches!(
        refused,
        Err(postflow_http::ServeError::NotLoopback(_))
    ));
    let server = postflow_http::serve(
        api,
        GuiOptions {
            listen: "0.0.0.0:0".parse().unwrap(),
            allow_remote: true,
            key: KEY.into(),
        },
    )
    .await
    .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let port = server.addr().port();
    let page = http
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        401,
        "the page needs the key on a remote bind"
    );
    let with_key = http
        .get(format!("http://127.0.0.1:{port}/?key={KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        with_key.status(),
        303,
        "then the key leaves the address bar"
    );
    assert_eq!(with_key.headers()["location"], "/");
    assert!(with_key.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains(KEY));
    server.stop().await;
}
