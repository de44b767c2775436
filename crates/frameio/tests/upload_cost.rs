//! The CI check of the upload cost benchmark (`scripts/bench-upload-cost.sh`,
//! which is not a CI gate): each contestant delivers exactly the file's
//! bytes, part by part, to the counting sink. 64 MiB in 8 MiB parts, 5 at
//! once, so keep-alive connections carry several parts each.

mod support;

// The benchmark's own sink and clients, not a copy.
#[allow(dead_code)]
#[path = "../examples/bench_upload_cost/cost.rs"]
mod cost;

use std::path::Path;
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};
use support::{random_file, MIB};

const SIZE: u64 = 64 * MIB;
const PART: u64 = 8 * MIB;
const PARALLEL: usize = 5;

/// The SHA-256 of every part of `path`.
fn part_digests(path: &Path) -> Vec<String> {
    let data = std::fs::read(path).unwrap();
    cost::parts(SIZE, PART)
        .into_iter()
        .map(|(o, n)| cost::hex(&Sha256::digest(&data[o as usize..(o + n) as usize])))
        .collect()
}

fn assert_delivered(sink: &cost::Sink, who: &str, run: &str, expected: &[String]) {
    for (i, (_, size)) in cost::parts(SIZE, PART).into_iter().enumerate() {
        let path = cost::part_path(who, run, i);
        let got = sink
            .received(&path)
            .unwrap_or_else(|| panic!("{who}: nothing arrived on {path}"));
        assert_eq!(got.bytes, size, "{who}: {path} length");
        assert_eq!(
            got.sha256.as_deref(),
            Some(expected[i].as_str()),
            "{who}: {path} content"
        );
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_contestant_delivers_exactly_the_files_bytes_to_the_sink() {
    let dir = tempfile::tempdir().unwrap();
    let path = random_file(dir.path(), "SC01_COST_0010_V001.mov", SIZE, 7);
    let expected = part_digests(&path);
    let parts = cost::parts(SIZE, PART).len() as u64;
    let sink = cost::Sink::start(0, true).unwrap();

    // PostFlow's `Client::upload_parts`.
    let sent = cost::postflow_upload(sink.addr, "ci", &path, PART, PARALLEL)
        .await
        .unwrap();
    assert_eq!(sent, SIZE);
    assert_delivered(&sink, "postflow", "ci", &expected);
    assert_eq!((sink.bytes(), sink.puts()), (SIZE, parts));

    // Raw sendfile.
    let (addr, file) = (sink.addr, path.clone());
    let sent = tokio::task::spawn_blocking(move || {
        cost::sendfile_upload(addr, "ci", &file, PART, PARALLEL)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(sent, SIZE);
    assert_delivered(&sink, "sendfile", "ci", &expected);
    assert_eq!((sink.bytes(), sink.puts()), (2 * SIZE, 2 * parts));

    // curl through xargs, with the benchmark's own per-part script.
    let tools = ["curl", "dd", "xargs", "bash"];
    if let Some(missing) = tools.iter().find(|t| !have(t)) {
        eprintln!("skipping the curl contestant: {missing} is not installed");
    } else {
        let times = dir.path().join("times");
        std::fs::create_dir(&times).unwrap();
        let listing: String = cost::parts(SIZE, PART)
            .into_iter()
            .enumerate()
            .map(|(i, (o, n))| {
                format!(
                    "{} {o} {n} http://{}{} {}\n",
                    path.display(),
                    sink.addr,
                    cost::part_path("curl", "ci", i),
                    times.join(i.to_string()).display()
                )
            })
            .collect();
        let list = dir.path().join("parts.txt");
        std::fs::write(&list, listing).unwrap();
        let status = tokio::task::spawn_blocking(move || {
            Command::new("xargs")
                .args(["-P", &PARALLEL.to_string(), "-n", "5", "bash", "-c"])
                .arg(cost::CURL_PART)
                .arg("_")
                .stdin(std::fs::File::open(list).unwrap())
                .status()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(status.success(), "curl contestant: {status}");
        assert_delivered(&sink, "curl", "ci", &expected);
        assert_eq!((sink.bytes(), sink.puts()), (3 * SIZE, 3 * parts));
        // Every curl reported its CPU time (`times`: two lines).
        for i in 0..parts {
            let text = std::fs::read_to_string(times.join(i.to_string())).unwrap();
            assert_eq!(text.lines().count(), 2, "times of part {i}: {text:?}");
        }
    }

    // Content-Length bodies throughout: the sink saw no chunked body and no
    // connection cut mid-body.
    assert_eq!((sink.chunked(), sink.broken()), (0, 0));
}

#[test]
fn the_sink_reads_chunked_bodies_and_answers_100_continue() {
    if !have("curl") {
        eprintln!("skipping: curl is not installed");
        return;
    }
    let sink = cost::Sink::start(0, true).unwrap();
    let body = vec![42u8; 3 * MIB as usize + 17];
    // `-T -` without a length: chunked, with `Expect: 100-continue`.
    let mut curl = Command::new("curl")
        .args(["-sS", "-f", "-o", "/dev/null", "-T", "-"])
        .arg(format!("http://{}/upload/chunked/ci/0", sink.addr))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut curl.stdin.take().unwrap(), &body).unwrap();
    assert!(curl.wait().unwrap().success());
    let got = sink.received("/upload/chunked/ci/0").unwrap();
    assert_eq!(got.bytes, body.len() as u64);
    assert_eq!(got.sha256.unwrap(), cost::hex(&Sha256::digest(&body)));
    assert_eq!(sink.chunked(), 1);
    assert!(sink
        .stats_json()
        .contains("\"/upload/chunked/ci/0\":3145745"));
}
