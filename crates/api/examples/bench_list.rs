//! Benchmark: the board's list endpoint for 10,000 items against a plain
//! `SELECT` of the same rows from the same SQLite file, in one run.
//!
//! Contestants, each timed over `ROUNDS` rounds (alternating who goes
//! first), median reported:
//! - `select`: `SELECT` every column of every item, each read into a Rust
//!   value (what any reader of the queue must at least do);
//! - `dispatch`: `Api::dispatch("items", {limit: 10000})` and the answer
//!   encoded as JSON (the API without a transport);
//! - `http`: `POST /api/items` over loopback to the web UI's server, body
//!   read whole (what the page waits for).
//!
//! Run: `cargo run --release -p postflow-api --example bench_list`
//! (env `ITEMS`, default 10000; `ROUNDS`, default 15).

use std::sync::Arc;
use std::time::{Duration, Instant};

use postflow_api::{Api, ApiOptions};
use postflow_queue::{Candidate, Queue, ShotRef, Status, StatusKind};
use postflow_secrets::SecretStore;
use postflow_settings::Paths;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn seed(queue: &Queue, count: usize) {
    for n in 0..count {
        let scene = format!("SC{:03}", n / 200);
        let shot = format!("SHOT_{:04}", n / 4);
        let version = format!("V{:03}", n % 4 + 1);
        let rel_path = format!("{scene}/{scene}_{shot}_{version}.mov");
        let id = queue
            .record_candidate(&Candidate {
                rel_path,
                root: None,
                size: 1_000_000_000 + n as u64,
                mtime_ns: 1_700_000_000_000_000_000 + n as i64,
                shot: Some(ShotRef {
                    scene,
                    shot,
                    version,
                }),
            })
            .unwrap()
            .id();
        queue
            .transition(id, StatusKind::WaitingForStability, Status::Queued)
            .unwrap();
        queue
            .transition(
                id,
                StatusKind::Queued,
                Status::AlreadyInFrameio {
                    file_id: format!("f-{n}"),
                },
            )
            .unwrap();
    }
}

fn select_all(path: &std::path::Path) -> usize {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT id, rel_path, file_name, size, mtime_ns, scene, shot, version, status, attempts, created_at, updated_at, started_at, finished_at FROM items",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, i64>(9)?,
                r.get::<_, i64>(10)?,
                r.get::<_, i64>(11)?,
                r.get::<_, Option<i64>>(12)?,
                r.get::<_, Option<i64>>(13)?,
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    rows.len()
}

#[tokio::main]
async fn main() {
    let items = env("ITEMS", 10_000);
    let rounds = env("ROUNDS", 15);
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_file: dir.path().join("settings.toml"),
        data_dir: dir.path().join("data"),
        log_dir: dir.path().join("logs"),
    };
    let db = postflow_service::queue_path(&paths);
    seed(&Queue::open(&db).unwrap(), items);
    let api = Api::open(ApiOptions {
        paths,
        secrets: Arc::new(SecretStore::environment_only("bench", |_| None)),
        host: false,
        demo: false,
    })
    .await
    .unwrap();
    let key = "0123456789abcdef0123456789abcdef".to_string();
    let server = postflow_http::serve(
        api.clone(),
        postflow_http::GuiOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            allow_remote: false,
            key: key.clone(),
        },
    )
    .await
    .unwrap();
    let url = format!("http://{}/api/items", server.addr());
    let origin = format!("http://{}", server.addr());
    let http = reqwest::Client::new();
    let args = serde_json::json!({"query": {"limit": items}});

    let (mut select, mut dispatch, mut over_http) = (Vec::new(), Vec::new(), Vec::new());
    let mut bytes = 0;
    for round in 0..rounds + 2 {
        let run = |which: usize| {
            let db = db.clone();
            let api = api.clone();
            let args = args.clone();
            let http = http.clone();
            let (url, origin, key) = (url.clone(), origin.clone(), key.clone());
            async move {
                let start = Instant::now();
                let n = match which {
                    0 => select_all(&db),
                    1 => api.dispatch("items", args).await.unwrap().get().len(),
                    _ => http
                        .post(&url)
                        .header("x-postflow-key", &key)
                        .header("origin", &origin)
                        .json(&args)
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                        .unwrap()
                        .len(),
                };
                (start.elapsed(), n)
            }
        };
        let order = if round % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
        for which in order {
            let (took, n) = run(which).await;
            if round < 2 {
                continue; // warm-up
            }
            match which {
                0 => {
                    assert_eq!(n, items);
                    select.push(took);
                }
                1 => dispatch.push(took),
                _ => {
                    bytes = n;
                    over_http.push(took);
                }
            }
        }
    }
    let (s, d, h) = (median(select), median(dispatch), median(over_http));
    println!(
        "items: {items}, rounds: {rounds}, answer: {:.1} MiB",
        bytes as f64 / 1048576.0
    );
    println!("select    {:>8.1} ms", s.as_secs_f64() * 1000.0);
    println!(
        "dispatch  {:>8.1} ms  ({:.2}x select)",
        d.as_secs_f64() * 1000.0,
        d.as_secs_f64() / s.as_secs_f64()
    );
    println!(
        "http      {:>8.1} ms  ({:.2}x select)",
        h.as_secs_f64() * 1000.0,
        h.as_secs_f64() / s.as_secs_f64()
    );
    server.stop().await;
}
