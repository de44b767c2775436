//! The pieces of the upload cost benchmark (`scripts/bench-upload-cost.sh`),
//! shared by its example binary and by `crates/frameio/tests/upload_cost.rs`
//! (which includes this file with `#[path]`):
//!
//! - [`Sink`]: an HTTP/1.1 server on 127.0.0.1 that answers `PUT` on any
//!   path by reading the body into one reused buffer per connection and
//!   counting it, then `200` with an empty body and an `ETag` (like S3).
//!   `GET /stats` answers the counts as JSON. Nothing is stored, and by
//!   default nothing is checked but the length; [`Sink::start`] with
//!   `digests` also keeps a SHA-256 per path (the CI check, not the
//!   benchmark).
//! - [`postflow_upload`]: PostFlow's real part-upload path
//!   (`Client::upload_parts`: parts streamed from disk, `parallel_parts` PUTs
//!   at once through the client's own `reqwest::Client`), with part URLs
//!   pointing at the sink instead of the emulator's storage.
//! - [`sendfile_upload`]: the physical limit: `parallel` TCP connections,
//!   each sending a minimal PUT header and then the part's byte range with
//!   `sendfile(2)` (the kernel copies from the page cache to the socket).
//! - [`parts`]: how a file is cut (every part `part_size`, the last shorter),
//!   as Frame.io's `local_upload` cuts it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// Read buffer per sink connection. 1 MiB: the same as PostFlow's default
/// `read_buffer`, and large enough that a read is rarely short of data.
const SINK_BUFFER: usize = 1 << 20;

/// What the sink received on one path (the last PUT to it wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub bytes: u64,
    /// Hex SHA-256 of the body, when the sink was started with `digests`.
    pub sha256: Option<String>,
}

#[derive(Default)]
struct Counts {
    /// Body bytes of complete PUTs.
    bytes: AtomicU64,
    puts: AtomicU64,
    /// PUTs whose body came `Transfer-Encoding: chunked` (none expected).
    chunked: AtomicU64,
    /// PUTs whose connection ended before the body did (not counted above).
    broken: AtomicU64,
    paths: Mutex<BTreeMap<String, Received>>,
}

/// The counting sink. Runs until the process ends (its threads are
/// detached; the benchmark and the test both end with their process).
pub struct Sink {
    pub addr: SocketAddr,
    counts: Arc<Counts>,
}

impl Sink {
    /// Listens on 127.0.0.1:`port` (0: any free port), one thread per
    /// connection.
    pub fn start(port: u16, digests: bool) -> io::Result<Sink> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Counts::default());
        let shared = counts.clone();
        std::thread::Builder::new()
            .name("sink-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let counts = shared.clone();
                    let _ = std::thread::Builder::new()
                        .name("sink-conn".into())
                        .spawn(move || {
                            // A connection's errors end that connection only.
                            let _ = serve(stream, &counts, digests);
                        });
                }
            })?;
        Ok(Sink { addr, counts })
    }

    pub fn bytes(&self) -> u64 {
        self.counts.bytes.load(Ordering::Relaxed)
    }

    pub fn puts(&self) -> u64 {
        self.counts.puts.load(Ordering::Relaxed)
    }

    pub fn chunked(&self) -> u64 {
        self.counts.chunked.load(Ordering::Relaxed)
    }

    pub fn broken(&self) -> u64 {
        self.counts.broken.load(Ordering::Relaxed)
    }

    /// What arrived on `path`, if anything.
    pub fn received(&self, path: &str) -> Option<Received> {
        self.counts.paths.lock().unwrap().get(path).cloned()
    }

    /// The `GET /stats` answer.
    pub fn stats_json(&self) -> String {
        stats_json(&self.counts)
    }
}

fn stats_json(counts: &Counts) -> String {
    let paths = counts.paths.lock().unwrap();
    let mut out = format!(
        "{{\"bytes\":{},\"puts\":{},\"chunked\":{},\"broken\":{},\"paths\":{{",
        counts.bytes.load(Ordering::Relaxed),
        counts.puts.load(Ordering::Relaxed),
        counts.chunked.load(Ordering::Relaxed),
        counts.broken.load(Ordering::Relaxed),
    );
    for (i, (path, got)) in paths.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Paths are the benchmark's own (`/upload/<who>/<n>/<part>`): no
        // quotes or backslashes to escape.
        out.push_str(&format!("\"{path}\":{}", got.bytes));
    }
    out.push_str("}}");
    out
}

/// One connection: requests one after another (keep-alive), until EOF.
fn serve(stream: TcpStream, counts: &Counts, digests: bool) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut conn = Conn {
        stream,
        buf: vec![0; SINK_BUFFER],
        start: 0,
        end: 0,
    };
    loop {
        let Some(head) = conn.read_head()? else {
            return Ok(());
        };
        let head = String::from_utf8_lossy(&head).into_owned();
        let mut lines = head.split("\r\n");
        let mut request = lines.next().unwrap_or("").split(' ');
        let (method, path) = (request.next().unwrap_or(""), request.next().unwrap_or(""));
        let (mut length, mut chunked, mut expect, mut close) = (None, false, false, false);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse::<u64>().ok(),
                "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
                "expect" => expect = value.eq_ignore_ascii_case("100-continue"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        match method {
            "PUT" => {
                if expect {
                    conn.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
                }
                let mut hasher = digests.then(Sha256::new);
                let got = if chunked {
                    conn.chunked_body(&mut hasher)
                } else {
                    conn.body(length.unwrap_or(0), &mut hasher)
                };
                let bytes = match got {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        counts.broken.fetch_add(1, Ordering::Relaxed);
                        return Err(e);
                    }
                };
                let sha256 = hasher.map(|h| hex(&h.finalize()));
                let seq = counts.puts.fetch_add(1, Ordering::Relaxed);
                counts.bytes.fetch_add(bytes, Ordering::Relaxed);
                if chunked {
                    counts.chunked.fetch_add(1, Ordering::Relaxed);
                }
                // S3 answers a part with its MD5 as the ETag. Nothing here
                // reads it back (PostFlow sends no CompleteMultipartUpload;
                // Frame.io does that), so the sink's is the SHA-256 prefix in
                // digest mode, else the length and sequence number.
                let etag = match &sha256 {
                    Some(s) => s[..32].to_string(),
                    None => format!("{bytes:016x}{seq:016x}"),
                };
                counts
                    .paths
                    .lock()
                    .unwrap()
                    .insert(path.to_string(), Received { bytes, sha256 });
                conn.stream.write_all(
                    format!("HTTP/1.1 200 OK\r\nETag: \"{etag}\"\r\nContent-Length: 0\r\n\r\n")
                        .as_bytes(),
                )?;
            }
            "GET" if path == "/stats" => {
                let body = stats_json(counts);
                conn.stream.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                )?;
            }
            _ => {
                // Any body of another method is drained, unread.
                conn.body(length.unwrap_or(0), &mut None)?;
                conn.stream.write_all(
                    b"HTTP/1.1 405 Method Not Allowed\r\nAllow: PUT\r\nContent-Length: 0\r\n\r\n",
                )?;
            }
        }
        if close {
            return Ok(());
        }
    }
}

/// A connection with one reused buffer; `buf[start..end]` is read but not
/// yet consumed.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Conn {
    /// Reads more after the unconsumed bytes (moved to the front first).
    /// `Ok(0)` at EOF.
    fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        let n = self.stream.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }

    /// The request head up to the blank line (excluded); `None` at a clean
    /// EOF between requests.
    fn read_head(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(at) = find(&self.buf[self.start..self.end], b"\r\n\r\n") {
                let head = self.buf[self.start..self.start + at].to_vec();
                self.start += at + 4;
                return Ok(Some(head));
            }
            if self.fill()? == 0 {
                return if self.start == self.end {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    fn read_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(at) = find(&self.buf[self.start..self.end], b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[self.start..self.start + at]);
                let line = line.into_owned();
                self.start += at + 2;
                return Ok(line);
            }
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Consumes exactly `length` body bytes: what is buffered first, then
    /// reads straight into the buffer, never past the body (a pipelined next
    /// request stays in the socket).
    fn body(&mut self, length: u64, hasher: &mut Option<Sha256>) -> io::Result<u64> {
        let mut left = length;
        let buffered = (self.end - self.start).min(left as usize);
        if let Some(h) = hasher {
            h.update(&self.buf[self.start..self.start + buffered]);
        }
        self.start += buffered;
        left -= buffered as u64;
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        while left > 0 {
            // Only when nothing is buffered (see above), so the whole
            // buffer is free.
            let want = self.buf.len().min(left as usize);
            let n = self.stream.read(&mut self.buf[..want])?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if let Some(h) = hasher {
                h.update(&self.buf[..n]);
            }
            left -= n as u64;
        }
        Ok(length)
    }

    fn chunked_body(&mut self, hasher: &mut Option<Sha256>) -> io::Result<u64> {
        let mut total = 0;
        loop {
            let line = self.read_line()?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the blank line.
                while !self.read_line()?.is_empty() {}
                return Ok(total);
            }
            total += self.body(size, hasher)?;
            if !self.read_line()?.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "chunk not followed by CRLF",
                ));
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `(offset, size)` of every part of a `file_size`-byte file.
pub fn parts(file_size: u64, part_size: u64) -> Vec<(u64, u64)> {
    assert!(part_size > 0);
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < file_size {
        let size = part_size.min(file_size - offset);
        out.push((offset, size));
        offset += size;
    }
    out
}

/// The curl contestant's command for one part, a `bash -c` script run by
/// `xargs -P <parallel> -n 5 bash -c CURL_PART _` over lines of
/// `FILE OFFSET SIZE URL TIMES_FILE`: `dd` reads the part's range into a
/// pipe and `curl -T -` PUTs it with its `Content-Length` (without it curl
/// would send a chunked body; `Expect:` is dropped, as PostFlow sends none).
/// The subshell's `times` writes curl's own CPU time to `TIMES_FILE`
/// (second line: the subshell's children, i.e. curl); the whole pipeline's
/// is what `wait4` on xargs reports. The benchmark script prints it with
/// `bench_upload_cost curl-part-script`, the CI check runs it too.
pub const CURL_PART: &str = r#"dd if="$1" bs=1M iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none |
( curl -sS -f -o /dev/null -T - -H "Content-Length: $3" -H "Transfer-Encoding:" -H "Expect:" "$4"; rc=$?; times > "$5"; exit $rc )"#;

/// The sink path of part `index` for contestant `who`, run `run`.
pub fn part_path(who: &str, run: &str, index: usize) -> String {
    format!("/upload/{who}/{run}/{index}")
}

/// PostFlow's uploader: `Client::upload_parts` over a session whose part
/// URLs are the sink's, with `UploadOptions::default()` but for
/// `parallel_parts`. Nothing else of Frame.io is involved (`local_upload`
/// is one small request and is not what this benchmark weighs).
pub async fn postflow_upload(
    sink: SocketAddr,
    run: &str,
    path: &Path,
    part_size: u64,
    parallel: usize,
) -> Result<u64, postflow_frameio::Error> {
    use postflow_frameio::model::UploadUrl;
    use postflow_frameio::{
        Client, ClientConfig, Credentials, NoObserver, RetryPolicy, UploadOptions, UploadSession,
    };

    let size = std::fs::metadata(path)
        .map_err(|source| postflow_frameio::Error::LocalFile {
            path: path.display().to_string(),
            source,
        })?
        .len();
    // The API base is never called: `upload_parts` talks to the part URLs
    // only.
    let client = Client::new(ClientConfig {
        api_base_url: format!("http://{sink}"),
        ims_base_url: format!("http://{sink}"),
        account_id: "bench".into(),
        credentials: Credentials::Static {
            token: "bench".to_string().into(),
            legacy: false,
        },
        token_sink: None,
        retry: RetryPolicy::default(),
    })?;
    let session = UploadSession {
        file_id: format!("bench-{run}"),
        folder_id: "bench".into(),
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        file_size: size,
        media_type: "application/octet-stream".into(),
        parts: parts(size, part_size)
            .into_iter()
            .enumerate()
            .map(|(i, (_, size))| UploadUrl {
                size,
                url: format!("http://{sink}{}", part_path("postflow", run, i)),
            })
            .collect(),
        view_url: None,
    };
    let options = UploadOptions {
        parallel_parts: parallel,
        ..UploadOptions::default()
    };
    let done = vec![false; session.parts.len()];
    client
        .upload_parts(&session, &done, path, &options, &NoObserver)
        .await?;
    Ok(size)
}

/// The physical limit: `parallel` threads, each with its own connection and
/// file handle, take the next part in turn, write a minimal PUT header and
/// `sendfile(2)` the part's range, then read the sink's answer.
pub fn sendfile_upload(
    sink: SocketAddr,
    run: &str,
    path: &Path,
    part_size: u64,
    parallel: usize,
) -> io::Result<u64> {
    let size = std::fs::metadata(path)?.len();
    let parts = Arc::new(parts(size, part_size));
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..parallel.max(1))
        .map(|_| {
            let (parts, next, path, run) = (
                parts.clone(),
                next.clone(),
                path.to_owned(),
                run.to_string(),
            );
            std::thread::spawn(move || -> io::Result<u64> {
                let file = File::open(&path)?;
                let mut stream: Option<TcpStream> = None;
                let mut sent = 0;
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(offset, len)) = parts.get(index) else {
                        return Ok(sent);
                    };
                    let conn = match &mut stream {
                        Some(s) => s,
                        None => {
                            let s = TcpStream::connect(sink)?;
                            s.set_nodelay(true)?;
                            s.set_read_timeout(Some(Duration::from_secs(60)))?;
                            stream.insert(s)
                        }
                    };
                    let head = format!(
                        "PUT {} HTTP/1.1\r\nHost: {sink}\r\nContent-Length: {len}\r\n\r\n",
                        part_path("sendfile", &run, index)
                    );
                    conn.write_all(head.as_bytes())?;
                    send_range(conn, &file, offset, len)?;
                    read_response(conn)?;
                    sent += len;
                }
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.join().expect("sendfile worker panicked")?;
    }
    Ok(total)
}

/// `sendfile(2)` of `len` bytes of `file` from `offset` into `stream`.
///
/// Called through glibc directly: std's `io::copy` from a `File` to a
/// `TcpStream` does 8 KiB `read`s and `sendto`s here (checked with `strace`
/// on Rust 1.95), and the crate has no `libc` dependency to add for a
/// benchmark.
fn send_range(stream: &TcpStream, file: &File, offset: u64, len: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    unsafe extern "C" {
        // glibc: ssize_t sendfile64(int out_fd, int in_fd, off64_t *offset, size_t count)
        fn sendfile64(out_fd: i32, in_fd: i32, offset: *mut i64, count: usize) -> isize;
    }
    let mut at = i64::try_from(offset).map_err(io::Error::other)?;
    let end = at + i64::try_from(len).map_err(io::Error::other)?;
    while at < end {
        // At most 1 GiB per call (Linux sends at most 0x7ffff000 anyway).
        let count = ((end - at) as usize).min(1 << 30);
        // SAFETY: both descriptors are open for the call (borrowed above),
        // `at` is a valid i64 the kernel updates, and no Rust memory is
        // handed over.
        let n = unsafe { sendfile64(stream.as_raw_fd(), file.as_raw_fd(), &mut at, count) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            // The file ended before the range did.
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(())
}

/// Reads one answer with an empty body; fails unless it is a 2xx.
fn read_response(stream: &mut TcpStream) -> io::Result<()> {
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    // Byte by byte: the answer is ~80 bytes once per 32 MiB part.
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    if head.starts_with(b"HTTP/1.1 2") {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "sink answered {}",
            String::from_utf8_lossy(&head).lines().next().unwrap_or("")
        )))
    }
}
