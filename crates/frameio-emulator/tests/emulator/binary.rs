//! The `postflow-frameio-emulator` binary: one JSON line, a working token,
//! a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn the_binary_prints_its_coordinates_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_postflow-frameio-emulator"))
        .args([
            "--part-size",
            "64KiB",
            "--token-ttl-secs",
            "60",
            "--no-rate-limits",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("reader")
    .expect("one line");
    let info: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    for key in [
        "base_url",
        "account_id",
        "workspace_id",
        "project_id",
        "root_folder_id",
        "token",
    ] {
        assert!(info[key].is_string(), "{key} missing from {line}");
    }
    let base = info["base_url"].as_str().expect("base_url");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let http = client();
    let me = http
        .get(format!("{base}/v4/me"))
        .bearer_auth(info["token"].as_str().expect("token"))
        .send()
        .await
        .expect("answered");
    assert_eq!(me.status(), StatusCode::OK);
    let root = info["root_folder_id"].as_str().expect("root");
    let account = info["account_id"].as_str().expect("account");
    let file = http
        .post(format!(
            "{base}/v4/accounts/{account}/folders/{root}/files/local_upload"
        ))
        .bearer_auth(info["token"].as_str().expect("token"))
        .json(&serde_json::json!({"data": {"name": "x.mov", "file_size": 100_000}}))
        .send()
        .await
        .expect("answered");
    let file = expect_json(file, StatusCode::CREATED).await;
    assert_eq!(upload_urls(&file["data"]).len(), 2, "--part-size 64KiB");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the binary did not stop on SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
