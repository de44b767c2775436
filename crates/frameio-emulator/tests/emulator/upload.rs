//! Local upload: part URLs, the S3 checks, completion and checksums.

use std::io::Write;
use std::time::{Duration, SystemTime};

use postflow_frameio_emulator::{checksum_of_bytes, checksum_of_file, part_sizes, MAX_PARTS};
use reqwest::header::{CONTENT_TYPE, ETAG};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

/// Parts PUT in parallel with the right headers complete the file, and the
/// stored checksum equals the source file's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_part_upload_completes_with_the_source_checksum() {
    let h = Harness::start().await;
    let content = test_bytes(5 * PART as usize + 12_345, 1);
    let mut source = tempfile::NamedTempFile::new().expect("temp file");
    source.write_all(&content).expect("write");

    let root = h.emu.root_folder_id();
    let file = h
        .create_upload(&root, "A010_C001_v001.mov", content.len() as u64)
        .await;
    let id = file["id"].as_str().expect("id").to_owned();
    assert_eq!(file["media_type"], "video/quicktime");
    assert_eq!(file["status"], "created");
    assert_eq!(file["type"], "file");
    let urls = upload_urls(&file);
    let sizes: Vec<u64> = urls.iter().map(|(s, _)| *s).collect();
    assert_eq!(sizes, part_sizes(content.len() as u64, PART));
    assert_eq!(sizes.len(), 6, "ceil(N / part_size) parts");
    assert_eq!(*sizes.last().expect("last"), 12_345);

    let status = h.acct(&format!("/files/{id}/status"));
    let before = expect_json(h.get(&status).await, StatusCode::OK).await;
    assert_eq!(before["data"]["upload_complete"], false);
    assert!(before["data"]["upload_completed_at"].is_null());

    let mut tasks = Vec::new();
    let mut offset = 0usize;
    for (size, url) in urls {
        let chunk = content[offset..offset + size as usize].to_vec();
        offset += size as usize;
        let http = h.http.clone();
        tasks.push(tokio::spawn(async move {
            put_part(&http, &url, "video/quicktime", chunk).await
        }));
    }
    for task in tasks {
        let response = task.await.expect("task").expect("PUT answered");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().contains_key(ETAG), "2xx carries an ETag");
    }

    let after = expect_json(h.get(&status).await, StatusCode::OK).await;
    assert_eq!(after["data"]["upload_complete"], true);
    assert_eq!(after["data"]["upload_failed"], false);
    assert!(after["data"]["upload_completed_at"].is_string());

    let info = h.emu.file(&id).expect("file");
    assert!(info.complete);
    assert_eq!(info.part_sizes, sizes);
    assert_eq!(info.put_counts, vec![1; sizes.len()]);
    assert_eq!(
        info.checksum.as_deref(),
        Some(
            checksum_of_file(source.path(), &sizes)
                .expect("checksum")
                .as_str()
        )
    );
    assert_eq!(info.bytes.as_deref(), Some(content.as_slice()));

    let got = expect_json(
        h.get(&h.acct(&format!("/files/{id}"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["data"]["status"], "uploaded");
    let view_url = got["data"]["view_url"].as_str().expect("view_url");
    assert_eq!(view_url, format!("{}/view/{id}", h.emu.base_url()));
    let page = h.http.get(view_url).send().await.expect("view page");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page
        .text()
        .await
        .expect("html")
        .contains("A010_C001_v001.mov"));

    let stats = h.emu.stats();
    assert_eq!(stats.part_puts, 6);
    assert_eq!(stats.part_put_failures, 0);
    assert_eq!(stats.local_uploads_created, 1);
    assert_eq!(stats.status_polls, 2);
}

/// Every malformed PUT is refused with an S3 XML error and stores nothing;
/// a later correct PUT still works, and a re-PUT replaces the part.
#[tokio::test]
async fn malformed_part_puts_are_refused_and_leave_the_file_incomplete() {
    let h = Harness::start().await;
    let content = test_bytes(PART as usize + 100, 2);
    let root = h.emu.root_folder_id();
    let file = h
        .create_upload(&root, "B020.mp4", content.len() as u64)
        .await;
    let id = file["id"].as_str().expect("id").to_owned();
    let urls = upload_urls(&file);
    let (url0, part0) = (urls[0].1.clone(), content[..PART as usize].to_vec());
    let status_url = h.acct(&format!("/files/{id}/status"));
    let put = || h.http.put(&url0);

    let mut failures = 0;
    let mut refused = |code: String, expected: &str| {
        assert_eq!(code, expected);
        failures += 1;
    };

    // Wrong Content-Type.
    let r = put()
        .header("x-amz-acl", "private")
        .header(CONTENT_TYPE, "application/octet-stream")
        .body(part0.clone())
        .send()
        .await
        .expect("answered");
    refused(s3_code(r, StatusCode::BAD_REQUEST).await, "InvalidArgument");
    // No x-amz-acl.
    let r = put()
        .header(CONTENT_TYPE, "video/mp4")
        .body(part0.clone())
        .send()
        .await
        .expect("answered");
    refused(s3_code(r, StatusCode::BAD_REQUEST).await, "InvalidArgument");
    // Another ACL.
    let r = put()
        .header("x-amz-acl", "public-read")
        .header(CONTENT_TYPE, "video/mp4")
        .body(part0.clone())
        .send()
        .await
        .expect("answered");
    refused(s3_code(r, StatusCode::BAD_REQUEST).await, "InvalidArgument");
    // Wrong length (one byte short).
    let r = h
        .put_part(&url0, "video/mp4", part0[1..].to_vec())
        .await
        .expect("answered");
    refused(s3_code(r, StatusCode::BAD_REQUEST).await, "InvalidArgument");
    // No Content-Length (chunked).
    let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(part0.clone())]);
    let r = put()
        .header("x-amz-acl", "private")
        .header(CONTENT_TYPE, "video/mp4")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("answered");
    refused(
        s3_code(r, StatusCode::BAD_REQUEST).await,
        "MissingContentLength",
    );
    // A second auth mechanism.
    let r = put()
        .bearer_auth(&h.token)
        .header("x-amz-acl", "private")
        .header(CONTENT_TYPE, "video/mp4")
        .body(part0.clone())
        .send()
        .await
        .expect("answered");
    refused(s3_code(r, StatusCode::BAD_REQUEST).await, "InvalidArgument");
    // A tampered signature, and a URL pointed at another part.
    let tampered = format!("{}0", &url0[..url0.len() - 1]);
    let tampered = if tampered == url0 {
        format!("{}1", &url0[..url0.len() - 1])
    } else {
        tampered
    };
    let r = h
        .put_part(&tampered, "video/mp4", part0.clone())
        .await
        .expect("answered");
    refused(
        s3_code(r, StatusCode::FORBIDDEN).await,
        "SignatureDoesNotMatch",
    );
    let moved = url0.replace(&format!("/upload/{id}/0?"), &format!("/upload/{id}/1?"));
    let r = h
        .put_part(&moved, "video/mp4", part0.clone())
        .await
        .expect("answered");
    refused(
        s3_code(r, StatusCode::FORBIDDEN).await,
        "SignatureDoesNotMatch",
    );
    // No signature at all.
    let unsigned = url0.split('?').next().expect("path").to_owned();
    let r = h
        .put_part(&unsigned, "video/mp4", part0.clone())
        .await
        .expect("answered");
    refused(s3_code(r, StatusCode::FORBIDDEN).await, "AccessDenied");

    let info = h.emu.file(&id).expect("file");
    assert_eq!(info.parts_received, vec![false, false]);
    assert!(!info.complete && info.checksum.is_none());
    let status = expect_json(h.get(&status_url).await, StatusCode::OK).await;
    assert_eq!(status["data"]["upload_complete"], false);
    assert_eq!(h.emu.stats().part_put_failures, failures);

    // Part 0 with the wrong bytes, then the right ones: the second replaces
    // the first. One part stored is not a complete file.
    let wrong = test_bytes(PART as usize, 99);
    let r = h
        .put_part(&url0, "video/mp4", wrong)
        .await
        .expect("answered");
    assert_eq!(r.status(), StatusCode::OK);
    let r = h
        .put_part(&url0, "video/mp4", part0)
        .await
        .expect("answered");
    assert_eq!(r.status(), StatusCode::OK);
    let status = expect_json(h.get(&status_url).await, StatusCode::OK).await;
    assert_eq!(status["data"]["upload_complete"], false, "one of two parts");
    let r = h
        .put_part(&urls[1].1, "video/mp4", content[PART as usize..].to_vec())
        .await
        .expect("answered");
    assert_eq!(r.status(), StatusCode::OK);

    let info = h.emu.file(&id).expect("file");
    assert!(info.complete);
    assert_eq!(info.put_counts, vec![2, 1]);
    assert_eq!(
        info.checksum,
        Some(checksum_of_bytes(&content, &info.part_sizes))
    );
    let status = expect_json(h.get(&status_url).await, StatusCode::OK).await;
    assert_eq!(status["data"]["upload_complete"], true);
}

/// A part URL stops working once its `X-Amz-Date` + `X-Amz-Expires` passed.
#[tokio::test]
async fn part_urls_expire_after_their_ttl() {
    let h = Harness::start().await;
    h.emu.set_upload_url_ttl(Duration::from_secs(1));
    let root = h.emu.root_folder_id();
    let file = h.create_upload(&root, "C030.mxf", 10).await;
    assert_eq!(file["media_type"], "application/mxf");
    let url = upload_urls(&file)[0].1.clone();
    let parsed = url::Url::parse(&url).expect("url");
    let query: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
    assert_eq!(query["X-Amz-Expires"], "1");
    let signed = time::PrimitiveDateTime::parse(
        &query["X-Amz-Date"],
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .expect("X-Amz-Date")
    .assume_utc();
    let deadline = SystemTime::from(signed) + Duration::from_secs(1);
    if let Ok(wait) = deadline.duration_since(SystemTime::now()) {
        tokio::time::sleep(wait + Duration::from_millis(100)).await;
    }
    let r = h
        .put_part(&url, "application/mxf", vec![7; 10])
        .await
        .expect("answered");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let text = r.text().await.expect("body");
    assert!(text.contains("<Code>AccessDenied</Code>"), "{text}");
    assert_eq!(s3_message(&text), "Request has expired");
    assert!(
        !h.emu
            .file(file["id"].as_str().expect("id"))
            .expect("file")
            .complete
    );
}

/// `local_upload` validates its body and derives the media type.
#[tokio::test]
async fn local_upload_validates_and_derives_media_types() {
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    for (name, media_type) in [
        ("a.mov", "video/quicktime"),
        ("b.MP4", "video/mp4"),
        ("c.mxf", "application/mxf"),
        ("d.wav", "application/octet-stream"),
        ("noext", "application/octet-stream"),
    ] {
        let file = h.create_upload(&root, name, 1).await;
        assert_eq!(file["media_type"], media_type, "{name}");
        assert_eq!(file["file_size"], 1);
        assert_eq!(upload_urls(&file).len(), 1);
    }
    let file = h.create_upload(&root, "three.mov", 3 * PART + 1).await;
    assert_eq!(upload_urls(&file).len(), 4);

    // The largest file the spec allows gets at most MAX_PARTS parts.
    let huge = h.create_upload(&root, "huge.mov", 5_000_000_000_000).await;
    let urls = upload_urls(&huge);
    assert_eq!(urls.len() as u64, MAX_PARTS);
    assert_eq!(urls.iter().map(|(s, _)| s).sum::<u64>(), 5_000_000_000_000);

    let url = h.acct(&format!("/folders/{root}/files/local_upload"));
    let long_name = "x".repeat(256);
    for (body, pointer) in [
        (json!({"data": {"name": "", "file_size": 1}}), "/data/name"),
        (
            json!({"data": {"name": long_name, "file_size": 1}}),
            "/data/name",
        ),
        (json!({"data": {"name": 7, "file_size": 1}}), "/data/name"),
        (json!({"data": {"file_size": 1}}), "/data/name"),
        (
            json!({"data": {"name": "a.mov", "file_size": 0}}),
            "/data/file_size",
        ),
        (
            json!({"data": {"name": "a.mov", "file_size": 5_000_000_000_001u64}}),
            "/data/file_size",
        ),
        (
            json!({"data": {"name": "a.mov", "file_size": -1}}),
            "/data/file_size",
        ),
        (
            json!({"data": {"name": "a.mov", "file_size": 1.5}}),
            "/data/file_size",
        ),
        (
            json!({"data": {"name": "a.mov", "file_size": "12"}}),
            "/data/file_size",
        ),
        (json!({"data": {"name": "a.mov"}}), "/data/file_size"),
        (
            json!({"data": {"name": "a.mov", "file_size": 1, "extra": true}}),
            "/data/extra",
        ),
        (json!({"data": "a.mov"}), "/data"),
        (json!({"name": "a.mov"}), "/name"),
    ] {
        let response = h.post(&url, &body).await;
        let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error["errors"][0]["source"]["pointer"], pointer, "{body}");
    }
    // 255 characters (not bytes) is fine.
    let name = format!("{}.mov", "é".repeat(251));
    let file = h.create_upload(&root, &name, 1).await;
    assert_eq!(file["name"], name.as_str());

    let malformed = h
        .http
        .post(&url)
        .bearer_auth(&h.token)
        .header(CONTENT_TYPE, "application/json")
        .body("{\"data\":")
        .send()
        .await
        .expect("answered");
    expect_error(malformed, StatusCode::BAD_REQUEST).await;
    let not_json = h
        .http
        .post(&url)
        .bearer_auth(&h.token)
        .header(CONTENT_TYPE, "text/plain")
        .body("{}")
        .send()
        .await
        .expect("answered");
    expect_error(not_json, StatusCode::BAD_REQUEST).await;
    let missing = h
        .post(
            &h.acct("/folders/00000000-0000-4000-8000-000000000000/files/local_upload"),
            &json!({"data": {"name": "a.mov", "file_size": 1}}),
        )
        .await;
    expect_error(missing, StatusCode::NOT_FOUND).await;
}

/// A deleted placeholder's part URLs answer 404 NoSuchUpload.
#[tokio::test]
async fn parts_of_a_deleted_file_are_refused() {
    let h = Harness::start().await;
    let root = h.emu.root_folder_id();
    let file = h.create_upload(&root, "gone.mov", 5).await;
    let id = file["id"].as_str().expect("id");
    let response = h
        .http
        .delete(h.acct(&format!("/files/{id}")))
        .bearer_auth(&h.token)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let url = &upload_urls(&file)[0].1;
    let r = h
        .put_part(url, "video/quicktime", vec![1; 5])
        .await
        .expect("answered");
    assert_eq!(s3_code(r, StatusCode::NOT_FOUND).await, "NoSuchUpload");
    assert!(h.emu.file(id).is_none() && h.emu.was_deleted(id));
}
