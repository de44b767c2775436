//! Shared setup: an emulator on loopback and a client pointed at it.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use postflow_frameio::{
    Client, ClientConfig, Credentials, Progress, RetryPolicy, UploadObserver, UploadOptions,
    UploadSession,
};
use postflow_frameio_emulator::{Emulator, EmulatorConfig, RateLimits};

pub const MIB: u64 = 1024 * 1024;

pub async fn emulator(part_size: u64) -> Emulator {
    Emulator::start(EmulatorConfig {
        part_size,
        rate_limits: RateLimits::unlimited(),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

/// Retries fast, so fault tests take milliseconds, not minutes.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 12,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(200),
    }
}

pub fn client_with(emu: &Emulator, credentials: Credentials) -> Client {
    Client::new(ClientConfig {
        api_base_url: emu.base_url(),
        ims_base_url: emu.base_url(),
        account_id: emu.account_id(),
        credentials,
        token_sink: None,
        retry: fast_retry(),
    })
    .unwrap()
}

pub fn client(emu: &Emulator) -> Client {
    client_with(
        emu,
        Credentials::Static {
            token: emu.issue_token().into(),
            legacy: false,
        },
    )
}

pub fn options(parallel_parts: usize) -> UploadOptions {
    UploadOptions {
        parallel_parts,
        part_retry: fast_retry(),
        read_buffer: 64 * 1024,
        progress_every: Duration::from_millis(20),
        confirm_poll: Duration::from_millis(10),
        ..UploadOptions::default()
    }
}

/// A file of `len` pseudo-random bytes (xorshift: fast, incompressible
/// enough, and different for each `seed`).
pub fn random_file(dir: &Path, name: &str, len: u64, seed: u64) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for word in buf.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        let n = left.min(buf.len() as u64) as usize;
        out.write_all(&buf[..n]).unwrap();
        left -= n as u64;
    }
    out.flush().unwrap();
    path
}

/// Records what an upload reports.
#[derive(Default)]
pub struct Recorder {
    pub sessions: Mutex<Vec<UploadSession>>,
    pub parts_done: Mutex<Vec<usize>>,
    pub progress: Mutex<Vec<Progress>>,
    pub parts_before_stop: AtomicUsize,
}

impl UploadObserver for Recorder {
    fn session_created(&self, session: &UploadSession) {
        self.sessions.lock().unwrap().push(session.clone());
    }
    fn part_done(&self, _session: &UploadSession, index: usize) {
        self.parts_done.lock().unwrap().push(index);
        self.parts_before_stop.fetch_add(1, Ordering::SeqCst);
    }
    fn progress(&self, progress: Progress) {
        self.progress.lock().unwrap().push(progress);
    }
}

/// The file `file_id` is in the emulator, byte-identical to `path`; its
/// record, for further checks.
pub fn assert_arrived_whole(
    emu: &Emulator,
    file_id: &str,
    path: &Path,
) -> postflow_frameio_emulator::FileInfo {
    let info = emu.file(file_id).expect("the file exists in Frame.io");
    assert_eq!(
        info.checksum.as_deref(),
        Some(checksum(path, &info.part_sizes).as_str()),
        "{} differs from what arrived",
        path.display()
    );
    info
}

/// The emulator's checksum of a local file, cut at the server's part sizes.
pub fn checksum(path: &Path, part_sizes: &[u64]) -> String {
    postflow_frameio_emulator::checksum_of_file(path, part_sizes).unwrap()
}
