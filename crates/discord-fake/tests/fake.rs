//! The fake answers like Discord: what it accepts, refuses, rate limits and
//! forgets, checked over plain HTTP (no PostFlow client involved).

use std::time::Duration;

use postflow_discord_fake::{DiscordFake, CHANNEL_ID, WEBHOOK_ID, WEBHOOK_NAME, WEBHOOK_TOKEN};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn execute_url(fake: &DiscordFake, path: &str) -> String {
    format!("{}/api/{path}", fake.base_url())
}

fn webhook_path() -> String {
    format!("webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}")
}

async fn post(fake: &DiscordFake, body: &Value) -> Response {
    http()
        .post(execute_url(fake, &format!("{}?wait=true", webhook_path())))
        .json(body)
        .send()
        .await
        .unwrap()
}

fn header<'r>(response: &'r Response, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn an_accepted_message_is_recorded_and_returned_with_wait_true() {
    let fake = DiscordFake::start().await;
    let body = json!({"content": "hello", "embeds": [{"title": "SC01_UNDLM_00412_V002.mov"}]});

    let answer = post(&fake, &body).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let created: Value = answer.json().await.unwrap();
    assert_eq!(created["content"], "hello");
    assert_eq!(created["embeds"][0]["title"], "SC01_UNDLM_00412_V002.mov");
    assert_eq!(created["channel_id"], CHANNEL_ID);
    let id = created["id"].as_str().unwrap();
    assert!(id.parse::<u64>().unwrap() > 1 << 22, "snowflake-like: {id}");

    // Without wait=true: 204 and no body, but recorded all the same.
    let quiet = http()
        .post(execute_url(&fake, &webhook_path()))
        .json(&json!({"content": "second"}))
        .send()
        .await
        .unwrap();
    assert_eq!(quiet.status(), StatusCode::NO_CONTENT);

    assert_eq!(fake.messages(), vec![body, json!({"content": "second"})]);
    assert_eq!(fake.message_ids()[0], id);
    assert_eq!(fake.requests(), 2);
    assert_eq!(fake.rejected(), 0);
}

#[tokio::test]
async fn every_answer_carries_the_rate_limit_headers() {
    let fake = DiscordFake::start().await;
    fake.set_bucket(3, Duration::from_secs(5));
    let ok = post(&fake, &json!({"content": "a"})).await;
    let bad = post(&fake, &json!({})).await;
    fake.delete_webhook();
    let gone = post(&fake, &json!({"content": "a"})).await;
    for response in [&ok, &bad, &gone] {
        assert_eq!(header(response, "x-ratelimit-limit"), "3");
        assert_eq!(header(response, "x-ratelimit-bucket").len(), 32);
        let reset_after: f64 = header(response, "x-ratelimit-reset-after").parse().unwrap();
        assert!((0.0..=5.0).contains(&reset_after));
        let reset: f64 = header(response, "x-ratelimit-reset").parse().unwrap();
        assert!(reset > 1.7e9, "epoch seconds: {reset}");
    }
    assert_eq!(header(&ok, "x-ratelimit-remaining"), "2");
    assert_eq!(header(&bad, "x-ratelimit-remaining"), "1");
}

#[tokio::test]
async fn a_message_over_a_limit_gets_400_and_is_not_recorded() {
    let fake = DiscordFake::start().await;
    let long_title = json!({"embeds": [{"title": "é".repeat(257)}]});
    let answer = post(&fake, &long_title).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let error: Value = answer.json().await.unwrap();
    assert_eq!(error["code"], 50035);
    assert_eq!(error["message"], "Invalid Form Body");
    assert_eq!(
        error["errors"]["embeds"]["0"]["title"]["_errors"][0]["message"],
        "Must be 256 or fewer in length."
    );

    // Together over 6000 characters, each embed within its own limits.
    let big = json!({"description": "d".repeat(4000)});
    let answer = post(&fake, &json!({"embeds": [big.clone(), big]})).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let error: Value = answer.json().await.unwrap();
    assert_eq!(
        error["errors"]["embeds"]["_errors"][0]["code"],
        "MAX_EMBED_SIZE_EXCEEDED"
    );

    assert_eq!(fake.rejected(), 2);
    assert!(fake.messages().is_empty());
}

#[tokio::test]
async fn a_body_that_is_not_a_message_gets_400() {
    let fake = DiscordFake::start().await;
    let url = execute_url(&fake, &webhook_path());
    let not_json = http()
        .post(&url)
        .header("content-type", "application/json")
        .body("{content: hi")
        .send()
        .await
        .unwrap();
    let form = http().post(&url).body("content=hi").send().await.unwrap();
    let empty = post(&fake, &json!({"username": "PostFlow"})).await;
    let blank_field = post(
        &fake,
        &json!({"embeds": [{"fields": [{"name": "Scene", "value": ""}]}]}),
    )
    .await;
    for answer in [not_json, form, empty, blank_field] {
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["code"], 50035);
    }
    assert_eq!(fake.rejected(), 4);
    assert!(fake.messages().is_empty());
}

#[tokio::test]
async fn rate_limit_next_answers_429_with_retry_after_in_header_and_body() {
    let fake = DiscordFake::start().await;
    fake.rate_limit_next(2, 1.5);
    for _ in 0..2 {
        let answer = post(&fake, &json!({"content": "a"})).await;
        assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&answer, "retry-after"), "2");
        assert_eq!(header(&answer, "x-ratelimit-scope"), "user");
        assert_eq!(header(&answer, "x-ratelimit-remaining"), "0");
        assert_eq!(header(&answer, "x-ratelimit-reset-after"), "1.500");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(
            body,
            json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false})
        );
    }
    assert_eq!(
        post(&fake, &json!({"content": "a"})).await.status(),
        StatusCode::OK
    );
    assert_eq!(fake.rate_limited(), 2);
    assert_eq!(fake.messages().len(), 1);
    assert_eq!(fake.requests(), 3);
}

#[tokio::test]
async fn the_bucket_runs_out_and_refills_after_its_window() {
    let fake = DiscordFake::start().await;
    fake.set_bucket(2, Duration::from_millis(600));
    for remaining in ["1", "0"] {
        let answer = post(&fake, &json!({"content": "a"})).await;
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(header(&answer, "x-ratelimit-remaining"), remaining);
    }
    let refused = post(&fake, &json!({"content": "a"})).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = refused.json().await.unwrap();
    let retry_after = body["retry_after"].as_f64().unwrap();
    assert!(retry_after > 0.0 && retry_after <= 0.6, "{retry_after}");

    tokio::time::sleep(Duration::from_secs_f64(retry_after)).await;
    assert_eq!(
        post(&fake, &json!({"content": "a"})).await.status(),
        StatusCode::OK
    );
    assert_eq!(fake.messages().len(), 3);
    assert_eq!(fake.rate_limited(), 1);
}

#[tokio::test]
async fn a_deleted_webhook_is_unknown_until_restored() {
    let fake = DiscordFake::start().await;
    fake.delete_webhook();
    let answer = post(&fake, &json!({"content": "a"})).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body, json!({"message": "Unknown Webhook", "code": 10015}));
    let described = http()
        .get(execute_url(&fake, &webhook_path()))
        .send()
        .await
        .unwrap();
    assert_eq!(described.status(), StatusCode::NOT_FOUND);

    fake.restore_webhook();
    assert_eq!(
        post(&fake, &json!({"content": "a"})).await.status(),
        StatusCode::OK
    );
    assert_eq!(fake.messages().len(), 1);
}

#[tokio::test]
async fn only_the_registered_id_and_token_are_known() {
    let fake = DiscordFake::start().await;
    for path in [
        format!("webhooks/{WEBHOOK_ID}/wrong-token"),
        format!("webhooks/1/{WEBHOOK_TOKEN}"),
    ] {
        let answer = http()
            .post(execute_url(&fake, &path))
            .json(&json!({"content": "a"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["code"], 10015);
    }
    assert!(fake.messages().is_empty());
}

#[tokio::test]
async fn versioned_paths_are_served_too() {
    let fake = DiscordFake::start().await;
    let versioned = http()
        .post(execute_url(&fake, &format!("v10/{}", webhook_path())))
        .json(&json!({"content": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(versioned.status(), StatusCode::NO_CONTENT);
    let not_a_version = http()
        .post(execute_url(&fake, &format!("ten/{}", webhook_path())))
        .json(&json!({"content": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_version.status(), StatusCode::NOT_FOUND);
    assert_eq!(fake.messages().len(), 1);
}

#[tokio::test]
async fn fail_next_answers_the_status_and_records_nothing() {
    let fake = DiscordFake::start().await;
    fake.fail_next(2, 503);
    for _ in 0..2 {
        assert_eq!(
            post(&fake, &json!({"content": "a"})).await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(
        post(&fake, &json!({"content": "a"})).await.status(),
        StatusCode::OK
    );
    assert_eq!(fake.messages().len(), 1);
    assert_eq!(fake.requests(), 3);
}

#[tokio::test]
async fn get_describes_the_webhook() {
    let fake = DiscordFake::start().await;
    let answer = http()
        .get(execute_url(&fake, &webhook_path()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["name"], WEBHOOK_NAME);
    assert_eq!(body["id"], WEBHOOK_ID);
    assert_eq!(body["channel_id"], CHANNEL_ID);
}

#[tokio::test]
async fn hook_is_a_webhook_users_could_paste() {
    let fake = DiscordFake::start().await;
    let hook = fake.hook();
    assert_eq!(
        hook.expose_url(),
        format!("https://discord.com/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}")
    );
    assert!(!hook.masked().contains(WEBHOOK_TOKEN));
}
