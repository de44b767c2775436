//! Uploads against the emulator: byte-identical, parallel, resumable, and
//! surviving the faults Frame.io and its storage throw.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use postflow_frameio::{Credentials, Disposition, Error, NoObserver};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_gib_file_arrives_byte_identical_through_parallel_parts() {
    let emu = emulator(32 * MIB).await;
    let client = client(&emu);
    let dir = tempfile::tempdir().unwrap();
    let path = random_file(dir.path(), "SC01_UNDLM_00412_V002.mov", 1024 * MIB, 1);
    let recorder = Recorder::default();
    let mut opts = options(6);
    opts.read_buffer = 1 << 20;

    let file = client
        .upload_file(
            &emu.root_folder_id(),
            "SC01_UNDLM_00412_V002.mov",
            &path,
            &opts,
            &recorder,
        )
        .await
        .unwrap();

    let info = assert_arrived_whole(&emu, &file.id, &path);
    assert!(info.complete);
    assert_eq!(info.file_size, 1024 * MIB);
    assert_eq!(info.part_sizes.len(), 32, "the server chose the parts");
    assert!(
        info.put_counts.iter().all(|c| *c == 1),
        "each part sent once: {:?}",
        info.put_counts
    );
    assert_eq!(
        file.view_url.as_deref().map(|u| u.contains(&file.id)),
        Some(true)
    );

    // Progress: bounded in rate, monotonic, ending at the full size.
    let progress = recorder.progress.lock().unwrap();
    assert!(progress
        .windows(2)
        .all(|w| w[0].bytes_sent <= w[1].bytes_sent));
    let last = progress.last().unwrap();
    assert_eq!(
        (last.bytes_sent, last.parts_done, last.parts_total),
        (1024 * MIB, 32, 32)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_upload_resumes_sending_only_the_missing_parts() {
    let emu = emulator(256 * 1024).await;
    let client = client(&emu);
    let dir = tempfile::tempdir().unwrap();
    let path = random_file(dir.path(), "SC02_A_V001.mov", 4 * MIB + 123, 2);
    let opts = options(2);
    let recorder = Recorder::default();

    // Start, and stop (as a crash would) once a few parts are stored.
    let session = client
        .create_upload(&emu.root_folder_id(), "SC02_A_V001.mov", 4 * MIB + 123)
        .await
        .unwrap();
    let parts = session.parts.len();
    assert_eq!(parts, 17);
    let done_before = {
        let nothing_done = vec![false; parts];
        let upload = client.upload_parts(&session, &nothing_done, &path, &opts, &recorder);
        tokio::pin!(upload);
        loop {
            tokio::select! {
                _ = &mut upload => panic!("the upload should have been stopped first"),
                _ = tokio::time::sleep(Duration::from_millis(1)) => {
                    if recorder.parts_before_stop.load(Ordering::SeqCst) >= 5 { break; }
                }
            }
        }
        recorder.parts_done.lock().unwrap().clone()
    };
    assert!(done_before.len() >= 5 && done_before.len() < parts);
    // Let requests cut off by the stop settle on the server side.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let puts_before = emu.stats().part_puts;

    // Resume from what was recorded: only the rest goes out.
    let mut done = vec![false; parts];
    for i in &done_before {
        done[*i] = true;
    }
    let file = client
        .resume_upload(session, done, &path, &opts, &NoObserver)
        .await
        .unwrap();
    let info = assert_arrived_whole(&emu, &file.id, &path);
    for i in &done_before {
        assert_eq!(
            info.put_counts[*i], 1,
            "part {i} was stored before the stop and not sent again"
        );
    }
    let sent_after = emu.stats().part_puts - puts_before;
    assert_eq!(
        sent_after,
        (parts - done_before.len()) as u64,
        "only the missing parts were sent"
    );
    assert_eq!(
        emu.stats().local_uploads_created,
        1,
        "no second placeholder"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_survive_5xx_and_dropped_connections() {
    let emu = emulator(128 * 1024).await;
    let client = client(&emu);
    let dir = tempfile::tempdir().unwrap();
    let path = random_file(dir.path(), "SC03_B_V001.mov", MIB, 3);
    emu.faults().fail_part(1, 3, 503);
    emu.faults().fail_part(4, 2, 500);
    emu.faults().cut_part(2, 2);
    emu.faults().cut_part(6, 1);

    let file = client
        .upload_file(
            &emu.root_folder_id(),
            "SC03_B_V001.mov",
            &path,
            &options(4),
            &NoObserver,
        )
        .await
        .unwrap();
    assert_arrived_whole(&emu, &file.id, &path);
    assert!(emu.stats().part_put_failures >= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_and_5xx_bursts_on_the_api_are_waited_out() {
    let emu = emulator(128 * 1024).await;
    let client = client(&emu);
    let dir = tempfile::tempdir().unwrap();
    emu.faults().fail_api("local_upload", 4, 429);
    emu.faults().fail_api("status", 5, 429);
    emu.faults().burst_5xx(3);
    let path = random_file(dir.path(), "SC04_C_V001.mov", 300 * 1024, 4);
    let file = client
        .upload_file(
            &emu.root_folder_id(),
            "SC04_C_V001.mov",
            &path,
            &options(2),
            &NoObserver,
        )
        .await
        .unwrap();
    assert!(emu.file(&file.id).unwrap().complete);
    assert_eq!(
        emu.stats().local_uploads_created,
        1,
        "retries did not create duplicates"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_upload_urls_restart_the_upload_from_scratch() {
    let emu = emulator(128 * 1024).await;
    let client = client(&emu);
    let dir = tempfile::tempdir().unwrap();
    let path = random_file(dir.path(), "SC05_D_V001.mov", 700 * 1024, 5);
    let opts = options(2);
    let session = client
        .create_upload(&emu.root_folder_id(), "SC05_D_V001.mov", 700 * 1024)
        .await
        .unwrap();
    let mut done = vec![false; session.parts.len()];
    done[0] = true; // pretend part 0 went out before a crash; it did not
    emu.faults().expire_upload_urls();

    let recorder = Recorder::default();
    let file = client
        .resume_upload(session.clone(), done, &path, &opts, &recorder)
        .await
        .unwrap();
    assert_ne!(file.id, session.file_id, "a new placeholder");
    assert!(
        emu.file(&session.file_id).is_none(),
        "the stale placeholder was deleted"
    );
    assert_arrived_whole(&emu, &file.id, &path);
    assert_eq!(
        recorder.sessions.lock().unwrap().len(),
        1,
        "the new session was reported for persistence"
    );
    let names: Vec<String> = emu
        .folder_children(&emu.root_folder_id())
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["SC05_D_V001.mov"], "one file in Frame.io");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_expires_mid_upload_is_refreshed_and_the_upload_finishes() {
    let emu = emulator(64 * 1024).await;
    emu.register_client("postflow-test", Some("s3cret-value"));
    emu.set_token_ttl(Duration::from_millis(1500));
    let client = client_with(
        &emu,
        Credentials::ClientCredentials {
            client_id: "postflow-test".into(),
            client_secret: "s3cret-value".to_string().into(),
            scopes: postflow_frameio::auth::S2S_SCOPES.into(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let path = random_file(dir.path(), "SC06_E_V001.mov", 512 * 1024, 6);
    // Slow answers stretch the upload past the token's life.
    emu.faults().slow(Duration::from_millis(250));
    let file = client
        .upload_file(
            &emu.root_folder_id(),
            "SC06_E_V001.mov",
            &path,
            &options(1),
            &NoObserver,
        )
        .await
        .unwrap();
    emu.faults().slow(Duration::ZERO);
    assert!(emu.file(&file.id).unwrap().complete);
    assert!(
        emu.stats().grants_for("client_credentials") >= 2,
        "the token was renewed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_say_what_to_do() {
    let emu = emulator(64 * 1024).await;
    let client = client(&emu);
    let dir = tempfile::tempdir().unwrap();
    // A file that is not there: permanent for this item.
    let missing = dir.path().join("gone.mov");
    let err = client
        .upload_file(
            &emu.root_folder_id(),
            "gone.mov",
            &missing,
            &options(1),
            &NoObserver,
        )
        .await
        .unwrap_err();
    assert_eq!(err.disposition(), Disposition::Permanent, "{err}");
    // A folder that does not exist: permanent.
    let path = random_file(dir.path(), "x.mov", 1000, 7);
    let err = client
        .upload_file(
            "00000000-0000-4000-8000-000000000000",
            "x.mov",
            &path,
            &options(1),
            &NoObserver,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    // A revoked static token: the user must sign in again.
    emu.revoke_all_tokens();
    let err = client.me().await.unwrap_err();
    assert!(matches!(err, Error::SignedOut(_)), "{err}");
    assert_eq!(err.disposition(), Disposition::NeedsUser);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bandwidth_cap_paces_parallel_parts_and_the_file_still_arrives_whole() {
    let emu = emulator(256 * 1024).await;
    let client = client(&emu);
    let dir = tempfile::tempdir().unwrap();
    let path = random_file(dir.path(), "SC09_CAP_V001.mov", 2 * MIB, 9);
    // 8 Mbit/s is 976 KiB/s with a burst of a quarter second: 2 MiB over
    // four parallel parts cannot take under (2048 - 244) / 976 = 1.85 s.
    let capped = postflow_frameio::UploadOptions {
        bandwidth: postflow_frameio::Bandwidth::mbps(8),
        ..options(4)
    };
    let started = std::time::Instant::now();
    let file = client
        .upload_file(
            &emu.root_folder_id(),
            "SC09_CAP_V001.mov",
            &path,
            &capped,
            &NoObserver,
        )
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1800),
        "2 MiB at 8 Mbit/s took only {took:?}"
    );
    assert_arrived_whole(&emu, &file.id, &path);
    assert!(postflow_frameio::Bandwidth::mbps(0).is_none(), "0: no cap");
}
