//! A FUSE mount of a folder through `postflow-faultfs` (crates/faultfs):
//! what a LucidLink filespace is to PostFlow. Reads can be made to fail
//! with EIO; the mount can die (its daemon killed) and come back.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

pub struct FaultFs {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    mountpoint: PathBuf,
}

/// The faultfs binary, built beside `postflow` (`cargo build --workspace`).
fn binary() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_postflow")).with_file_name("postflow-faultfs");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p postflow-faultfs` (scripts/test.sh does)",
        bin.display()
    );
    bin
}

fn mounted(mountpoint: &Path) -> bool {
    let target = mountpoint.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(target.as_str()))
}

impl FaultFs {
    /// `source` at `mountpoint` (created if missing), once the kernel has it.
    pub fn mount(source: &Path, mountpoint: &Path) -> FaultFs {
        std::fs::create_dir_all(mountpoint).unwrap();
        let mut child = Command::new(binary())
            .arg(source)
            .arg(mountpoint)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("postflow-faultfs starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !mounted(mountpoint) {
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "postflow-faultfs exited ({status}): is fuse3 installed and /dev/fuse there?"
                );
            }
            assert!(Instant::now() < deadline, "the FUSE mount did not appear");
            std::thread::sleep(Duration::from_millis(20));
        }
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        FaultFs {
            child,
            stdin,
            stdout,
            mountpoint: mountpoint.to_owned(),
        }
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        let mut answer = String::new();
        self.stdout.read_line(&mut answer).unwrap();
        answer.trim().to_string()
    }

    /// The next `count` reads of files named `name` at or beyond byte
    /// `after` fail with EIO.
    pub fn eio(&mut self, name: &str, count: u32, after: u64) {
        assert_eq!(self.ask(&format!("eio {name} {count} {after}")), "ok");
    }

    /// Faults injected so far.
    pub fn injected(&mut self) -> u64 {
        self.ask("injected").parse().unwrap()
    }

    /// The filespace dies under its users (the daemon killed: every access
    /// fails with ENOTCONN), then the mount point is cleared, as a crashed
    /// LucidLink leaves it.
    pub fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if mounted(&self.mountpoint) {
            let _ = Command::new("fusermount3")
                .args(["-u", "-z"])
                .arg(&self.mountpoint)
                .status();
        }
    }
}

impl Drop for FaultFs {
    fn drop(&mut self) {
        self.stop();
    }
}
