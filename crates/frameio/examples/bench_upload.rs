//! Uploads one file with PostFlow's client, for `scripts/bench-upload.sh`.
//! Times the same work as the SDK peer: `local_upload` and every part PUT.
//! Prints one JSON line with the time and the peak resident memory.
//!
//! `bench_upload --base-url URL --token T --account A --folder F [--parallel N] FILE`

use std::time::Instant;

use postflow_frameio::{Client, ClientConfig, Credentials, NoObserver, RetryPolicy, UploadOptions};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (mut base, mut token, mut account, mut folder, mut parallel, mut file) =
        (None, None, None, None, 4usize, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--base-url" => base = args.next(),
            "--token" => token = args.next(),
            "--account" => account = args.next(),
            "--folder" => folder = args.next(),
            "--parallel" => {
                parallel = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("--parallel N")
            }
            other => file = Some(other.to_string()),
        }
    }
    let (base, token, account, folder, file) = (
        base.expect("--base-url"),
        token.expect("--token"),
        account.expect("--account"),
        folder.expect("--folder"),
        std::path::PathBuf::from(file.expect("FILE")),
    );
    let client = Client::new(ClientConfig {
        api_base_url: base.clone(),
        ims_base_url: base,
        account_id: account,
        credentials: Credentials::Static {
            token: token.into(),
            legacy: false,
        },
        token_sink: None,
        retry: RetryPolicy::default(),
    })
    .expect("client");
    let size = std::fs::metadata(&file).expect("file").len();
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    let options = UploadOptions {
        parallel_parts: parallel,
        ..UploadOptions::default()
    };

    let started = Instant::now();
    let session = client
        .create_upload(&folder, &name, size)
        .await
        .expect("local_upload");
    let done = vec![false; session.parts.len()];
    client
        .upload_parts(&session, &done, &file, &options, &NoObserver)
        .await
        .expect("upload");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"uploader\":\"postflow\",\"file_id\":\"{}\",\"bytes\":{size},\"seconds\":{seconds},\"max_rss_kib\":{}}}",
        session.file_id,
        peak_rss_kib()
    );
}

/// `VmHWM` from /proc (Linux): the peak resident set size.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
