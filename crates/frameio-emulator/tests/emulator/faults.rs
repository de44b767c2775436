//! Every fault does what it says, observably from a client.

use std::time::{Duration, Instant};

use postflow_frameio_emulator::RateLimits;
use reqwest::header::RETRY_AFTER;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

/// `fail_part`: the next N PUTs of that part index answer the status; the
/// one after stores the part.
#[tokio::test]
async fn fail_part_answers_the_status_then_recovers() {
    let h = Harness::start().await;
    let content = test_bytes(PART as usize + 10, 3);
    let file = h
        .create_upload(&h.emu.root_folder_id(), "f.mov", content.len() as u64)
        .await;
    let id = file["id"].as_str().expect("id");
    let urls = upload_urls(&file);
    h.emu.faults().fail_part(1, 2, 500);

    let tail = content[PART as usize..].to_vec();
    for _ in 0..2 {
        let r = h
            .put_part(&urls[1].1, "video/quicktime", tail.clone())
            .await
            .expect("answered");
        assert_eq!(
            s3_code(r, StatusCode::INTERNAL_SERVER_ERROR).await,
            "InternalError"
        );
    }
    // Other part indexes are not affected.
    let r = h
        .put_part(
            &urls[0].1,
            "video/quicktime",
            content[..PART as usize].to_vec(),
        )
        .await
        .expect("answered");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        h.emu.file(id).expect("file").parts_received,
        vec![true, false]
    );
    let r = h
        .put_part(&urls[1].1, "video/quicktime", tail)
        .await
        .expect("answered");
    assert_eq!(r.status(), StatusCode::OK);
    let info = h.emu.file(id).expect("file");
    assert!(info.complete);
    assert_eq!(info.put_counts, vec![1, 1]);
    let stats = h.emu.stats();
    assert_eq!(stats.part_put_failures, 2);
    assert_eq!(stats.injected_failures, 2);
}

/// `cut_part`: the connection drops mid-body; the client sees a transport
/// error, not an HTTP status, and nothing is stored. A retry works.
#[tokio::test]
async fn cut_part_drops_the_connection_without_an_answer() {
    let h = Harness::start().await;
    let size = 4 * PART as usize;
    let content = test_bytes(size, 4);
    h.emu.set_part_size(size as u64);
    let file = h
        .create_upload(&h.emu.root_folder_id(), "cut.mov", size as u64)
        .await;
    let id = file["id"].as_str().expect("id");
    let url = upload_urls(&file)[0].1.clone();
    h.emu.faults().cut_part(0, 1);

    let error = h
        .put_part(&url, "video/quicktime", content.clone())
        .await
        .expect_err("the connection is cut");
    assert!(error.status().is_none(), "no HTTP status: {error:?}");
    assert!(
        error.is_request() || error.is_body() || error.is_connect(),
        "{error:?}"
    );
    let info = h.emu.file(id).expect("file");
    assert_eq!(info.parts_received, vec![false]);
    assert_eq!(info.put_counts, vec![0]);

    let r = h
        .put_part(&url, "video/quicktime", content)
        .await
        .expect("answered");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(h.emu.file(id).expect("file").complete);
    let stats = h.emu.stats();
    assert_eq!(stats.parts_cut, 1);
    assert_eq!(stats.part_puts, 1);
}

/// `slow`: every answer waits; `Duration::ZERO` stops it.
#[tokio::test]
async fn slow_delays_every_answer() {
    let h = Harness::start().await;
    let me = h.url("/v4/me");
    h.emu.faults().slow(Duration::from_millis(400));
    let started = Instant::now();
    expect_json(h.get(&me).await, StatusCode::OK).await;
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    h.emu.faults().slow(Duration::ZERO);
    let started = Instant::now();
    expect_json(h.get(&me).await, StatusCode::OK).await;
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

/// `burst_5xx`: the next N API requests answer 503 with the error body and
/// headers, before authentication.
#[tokio::test]
async fn burst_5xx_answers_503_then_recovers() {
    let h = Harness::start().await;
    let me = h.url("/v4/me");
    h.emu.faults().burst_5xx(2);
    let no_token = h.http.get(&me).send().await.expect("answered");
    expect_error(no_token, StatusCode::SERVICE_UNAVAILABLE).await;
    expect_error(h.get(&me).await, StatusCode::SERVICE_UNAVAILABLE).await;
    expect_json(h.get(&me).await, StatusCode::OK).await;
    assert_eq!(h.emu.stats().injected_failures, 2);
}

/// `expire_upload_urls`: URLs issued before answer 403 "Request has
/// expired"; URLs issued after work.
#[tokio::test]
async fn expire_upload_urls_expires_issued_urls_only() {
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    let old = h.create_upload(&root, "old.mov", 8).await;
    h.emu.faults().expire_upload_urls();
    let r = h
        .put_part(&upload_urls(&old)[0].1, "video/quicktime", vec![1; 8])
        .await
        .expect("answered");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let text = r.text().await.expect("body");
    assert!(text.contains("<Code>AccessDenied</Code>"), "{text}");
    assert_eq!(s3_message(&text), "Request has expired");

    let new = h.create_upload(&root, "new.mov", 8).await;
    let r = h
        .put_part(&upload_urls(&new)[0].1, "video/quicktime", vec![1; 8])
        .await
        .expect("answered");
    assert_eq!(r.status(), StatusCode::OK);
}

/// `fail_api`: the next N requests of one class fail with the status (API
/// error body or IMS error body); other classes are untouched.
#[tokio::test]
async fn fail_api_fails_one_route_class() {
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    let faults = h.emu.faults();
    faults.fail_api("create_folder", 1, 500);
    faults.fail_api("token", 1, 503);
    let url = h.acct(&format!("/folders/{root}/folders"));
    let body = json!({"data": {"name": "Shots"}});
    expect_error(h.post(&url, &body).await, StatusCode::INTERNAL_SERVER_ERROR).await;
    expect_json(h.get(&h.url("/v4/me")).await, StatusCode::OK).await;
    expect_json(h.post(&url, &body).await, StatusCode::CREATED).await;
    assert_eq!(
        h.emu.folder_children(&root).len(),
        1,
        "the failed call created nothing"
    );

    // An injected 429 looks like a real one.
    faults.fail_api("status", 1, 429);
    let file = h.create_upload(&root, "a.mov", 1).await;
    let status_url = h.acct(&format!(
        "/files/{}/status",
        file["id"].as_str().expect("id")
    ));
    let limited = h.get(&status_url).await;
    assert_eq!(header_u64(&limited, "x-ratelimit-remaining"), 0);
    let error = expect_error(limited, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(error, json!({"errors": [{"detail": "Too many requests"}]}));
    expect_json(h.get(&status_url).await, StatusCode::OK).await;

    let token = h
        .http
        .post(h.url("/ims/token/v3"))
        .form(&[("grant_type", "client_credentials"), ("client_id", "x")])
        .send()
        .await
        .expect("answered");
    let body = expect_json(token, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["error"], "server_error");
}

/// `fail_upload`: the status reports `upload_failed`.
#[tokio::test]
async fn fail_upload_is_reported_by_the_status() {
    let h = Harness::start().await;
    let file = h.create_upload(&h.emu.root_folder_id(), "bad.mov", 3).await;
    let id = file["id"].as_str().expect("id");
    assert!(h.emu.faults().fail_upload(id));
    let status = expect_json(
        h.get(&h.acct(&format!("/files/{id}/status"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(status["data"]["upload_failed"], true);
    assert!(!h.emu.faults().fail_upload("nope"));
}

/// `clear`: pending faults are gone.
#[tokio::test]
async fn clear_removes_pending_faults() {
    let h = Harness::start().await;
    let faults = h.emu.faults();
    faults.burst_5xx(5);
    faults.fail_api("me", 5, 500);
    faults.fail_part(0, 5, 503);
    faults.cut_part(0, 5);
    faults.slow(Duration::from_secs(5));
    faults.clear();
    let started = Instant::now();
    expect_json(h.get(&h.url("/v4/me")).await, StatusCode::OK).await;
    let file = h.create_upload(&h.emu.root_folder_id(), "ok.mov", 4).await;
    let r = h
        .put_part(&upload_urls(&file)[0].1, "video/quicktime", vec![0; 4])
        .await
        .expect("answered");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Over the limit: 429 with the error body, `x-ratelimit-remaining: 0` and
/// (when configured) `Retry-After`; per token and per class; the window
/// resets.
#[tokio::test]
async fn rate_limits_answer_429_per_token_and_class() {
    let h = Harness::start().await;
    let window = Duration::from_millis(700);
    h.emu
        .set_rate_limits(RateLimits::unlimited().with("create_folder", 3, window));
    h.emu.set_retry_after(Some(Duration::from_millis(1500)));
    let root = h.emu.root_folder_id();
    let url = h.acct(&format!("/folders/{root}/folders"));
    let body = json!({"data": {"name": "Shots"}});

    let started = Instant::now();
    for remaining in [2, 1, 0] {
        let r = h.post(&url, &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(header_u64(&r, "x-ratelimit-limit"), 3);
        assert_eq!(header_u64(&r, "x-ratelimit-remaining"), remaining);
        assert_eq!(header_u64(&r, "x-ratelimit-window"), 700);
        assert!(r.headers().get(RETRY_AFTER).is_none(), "only on 429");
    }
    let r = h.post(&url, &body).await;
    assert!(
        started.elapsed() < window,
        "test too slow to hit the window"
    );
    assert_eq!(header_u64(&r, "x-ratelimit-remaining"), 0);
    assert_eq!(header_u64(&r, "Retry-After"), 2);
    let error = expect_error(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(error, json!({"errors": [{"detail": "Too many requests"}]}));

    // Another class, and another token, are not limited.
    expect_json(h.get(&h.url("/v4/me")).await, StatusCode::OK).await;
    let other = h.emu.issue_token();
    let r = h
        .http
        .post(&url)
        .bearer_auth(&other)
        .json(&body)
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), StatusCode::CREATED);

    // Without Retry-After configured, none is sent.
    h.emu.set_retry_after(None);
    let r = h.post(&url, &body).await;
    if r.status() == StatusCode::TOO_MANY_REQUESTS {
        assert!(r.headers().get(RETRY_AFTER).is_none());
    }

    tokio::time::sleep(window).await;
    let r = h.post(&url, &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "a new window");
    assert!(h.emu.stats().rate_limited >= 1);
}

/// Access tokens expire after the TTL: 401 with the error body and headers.
#[tokio::test]
async fn tokens_expire_after_the_ttl() {
    let h = Harness::start().await;
    h.emu.set_token_ttl(Duration::from_secs(1));
    let token = h.emu.issue_token();
    let me = h.url("/v4/me");
    expect_json(h.get_as(&me, &token).await, StatusCode::OK).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let error = expect_error(h.get_as(&me, &token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(error["errors"][0]["detail"], "Access token expired");
    // Tokens issued before the change keep their own lifetime.
    expect_json(h.get(&me).await, StatusCode::OK).await;
}

/// Revoked, unknown and missing tokens are 401.
#[tokio::test]
async fn revoked_unknown_and_missing_tokens_are_401() {
    let h = Harness::start().await;
    let me = h.url("/v4/me");
    let first = h.emu.issue_token();
    let second = h.emu.issue_token();
    h.emu.revoke_token(&first);
    let error = expect_error(h.get_as(&me, &first).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(error["errors"][0]["detail"], "Access token revoked");
    expect_json(h.get_as(&me, &second).await, StatusCode::OK).await;
    h.emu.revoke_all_tokens();
    expect_error(h.get_as(&me, &second).await, StatusCode::UNAUTHORIZED).await;
    expect_error(h.get_as(&me, "made-up").await, StatusCode::UNAUTHORIZED).await;
    let none = h.http.get(&me).send().await.expect("answered");
    expect_error(none, StatusCode::UNAUTHORIZED).await;
    let basic = h
        .http
        .get(&me)
        .basic_auth("user", Some("pass"))
        .send()
        .await
        .expect("answered");
    expect_error(basic, StatusCode::UNAUTHORIZED).await;
    assert_eq!(h.emu.stats().unauthorized, 5);
}
