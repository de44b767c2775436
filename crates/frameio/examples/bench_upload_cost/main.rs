//! The upload cost benchmark's processes, for `scripts/bench-upload-cost.sh`
//! (see docs/benchmarks.md, "Upload cost against the physical limit"). One
//! binary, three roles, each its own process so that its CPU time is its
//! own:
//!
//! - `bench_upload_cost sink [--port P]`: the counting sink (see `cost.rs`);
//!   prints `{"port":P,"pid":PID}` once listening, then serves until killed.
//! - `bench_upload_cost postflow --sink HOST:PORT --run ID [--part-size B]
//!   [--parallel N] FILE`: PostFlow's `Client::upload_parts` to the sink.
//! - `bench_upload_cost sendfile --sink HOST:PORT --run ID [--part-size B]
//!   [--parallel N] FILE`: raw `sendfile(2)` over `N` connections.
//!
//! - `bench_upload_cost curl-part-script`: prints the `bash -c` script the
//!   curl contestant runs per part (see `cost::CURL_PART`).
//!
//! The clients print one JSON line: `{"who":..,"bytes":..,"seconds":..}`,
//! the seconds from before the first connection to the last answer.
//! Part size defaults to 32 MiB, parallelism to 5.

// Shared with the CI check, which uses parts this binary does not.
#[allow(dead_code)]
mod cost;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let role = args.next().unwrap_or_default();
    let (mut port, mut sink, mut run, mut part_size, mut parallel, mut file) =
        (0u16, None, String::from("0"), 32u64 << 20, 5usize, None);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| panic!("{name} needs a value"))
        };
        match arg.as_str() {
            "--port" => port = value("--port").parse().expect("--port N"),
            "--sink" => {
                sink = Some(
                    value("--sink")
                        .parse::<SocketAddr>()
                        .expect("--sink 127.0.0.1:PORT"),
                )
            }
            "--run" => run = value("--run"),
            "--part-size" => part_size = value("--part-size").parse().expect("--part-size BYTES"),
            "--parallel" => parallel = value("--parallel").parse().expect("--parallel N"),
            other => file = Some(PathBuf::from(other)),
        }
    }
    match role.as_str() {
        "sink" => {
            let server = cost::Sink::start(port, false).expect("sink: bind");
            println!(
                "{{\"port\":{},\"pid\":{}}}",
                server.addr.port(),
                std::process::id()
            );
            loop {
                std::thread::park();
            }
        }
        "curl-part-script" => print!("{}", cost::CURL_PART),
        "postflow" | "sendfile" => {
            let sink = sink.expect("--sink HOST:PORT");
            let file = file.expect("FILE");
            let started = Instant::now();
            let bytes = if role == "postflow" {
                tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(cost::postflow_upload(
                        sink, &run, &file, part_size, parallel,
                    ))
                    .expect("postflow upload")
            } else {
                cost::sendfile_upload(sink, &run, &file, part_size, parallel)
                    .expect("sendfile upload")
            };
            let seconds = started.elapsed().as_secs_f64();
            println!("{{\"who\":\"{role}\",\"bytes\":{bytes},\"seconds\":{seconds}}}");
        }
        _ => {
            eprintln!("usage: bench_upload_cost sink [--port P] | curl-part-script | postflow|sendfile --sink HOST:PORT --run ID [--part-size B] [--parallel N] FILE");
            std::process::exit(2);
        }
    }
}
