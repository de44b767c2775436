//! The chaos soak (`scripts/chaos.sh`; a benchmark, not a CI gate, but its
//! short version runs in CI): several `postflow run` services, each with its
//! own HOME, data directory, settings, keychain entry and
//! `POSTFLOW_WORKSTATION`, watch one filespace, each through its own FUSE
//! mount (`bindfs`), while renders arrive over time, services are SIGKILLed
//! and restarted, one is killed for good mid-upload, one mount goes away and
//! comes back, and the Frame.io emulator injects faults. The renders are
//! written *beside* the mounts (into the underlying folder), so, as on
//! LucidLink, the services get no inotify event and find them by rescans.
//!
//! Both tests are `#[ignore]`d: they need root, `/dev/fuse`, `bindfs` and a
//! Secret Service (the services sign in with OAuth token pairs in the
//! keychain, so that short-lived access tokens are really refreshed);
//! `scripts/chaos.sh [--short]` provides the keyring and runs them.
//!
//! # The verdict ("once", precisely)
//! Checked against the emulator and the fake Discord once every live
//! service's queue and outbox are empty:
//! - for every render name, the Frame.io shot folder of its name holds
//!   **exactly one copy whose content is the final one** (byte-identical,
//!   by the emulator's part checksum). None is a *lost render*, two a
//!   *duplicate*.
//! - a render rewritten under the same name (the re-render rule) may also
//!   keep copies of its **earlier** contents, each complete, each a content
//!   the driver really wrote to that name, at most one copy per content, and
//!   all below the final copy in its version stack: Frame.io keeps an
//!   upload that finished before the rewrite, and the fix goes on top. Any
//!   other file (an incomplete placeholder, an unknown content, a second
//!   copy of an earlier content) is a *stray*.
//! - one folder per name in the whole project;
//! - versions stacked in order: a shot with two or more copies has them all
//!   in one version stack, versions ascending, a re-render's final copy
//!   above its earlier ones;
//! - every live file told to the team once: each Frame.io file id appears
//!   in exactly one Discord message (cards and digest lines link it), no id
//!   twice, none that is gone.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use postflow_discord_fake::DiscordFake;
use postflow_frameio_emulator::{
    checksum_of_bytes, part_sizes, AssetKind, Emulator, EmulatorConfig, RateLimit, RateLimits,
    RouteClass,
};
use postflow_secrets::{FrameioTokens, KeychainStatus, SecretKind, SecretStore};
use serde_json::Value;

const PART_SIZE: u64 = 4 * 1024 * 1024;
const CLIENT_ID: &str = "postflow-chaos";
const MB: usize = 1024 * 1024;

/// What one soak does.
#[derive(Debug, Clone)]
struct Plan {
    name: &'static str,
    services: usize,
    renders: usize,
    /// Renders arrive over this long.
    arrival: Duration,
    /// Random SIGKILLs (each service restarted after a moment).
    kills: usize,
    /// Largest render.
    max_size: usize,
    /// Renders rewritten under the same name while uploading.
    rewrites: usize,
    /// Fault events by kind.
    bursts_5xx: usize,
    storms_429: usize,
    cuts: usize,
    expired_urls: usize,
    token_expiries: usize,
    /// Access-token lifetime (the services refresh ahead of it).
    token_ttl: Duration,
    /// How long the unmounted filespace stays away.
    unmounted_for: Duration,
    takeover_after_secs: u64,
    /// Per-service upload cap (Mbit/s): uploads take long enough to be
    /// killed, cut and rewritten mid-way.
    bandwidth_mbps: u32,
    drain_timeout: Duration,
}

impl Plan {
    fn full() -> Plan {
        Plan {
            name: "full",
            services: 3,
            renders: 300,
            arrival: Duration::from_secs(600),
            kills: 30,
            max_size: 40 * MB,
            rewrites: 12,
            bursts_5xx: 8,
            storms_429: 4,
            cuts: 8,
            expired_urls: 4,
            token_expiries: 3,
            token_ttl: Duration::from_secs(30),
            unmounted_for: Duration::from_secs(10),
            takeover_after_secs: 10,
            bandwidth_mbps: 160,
            drain_timeout: Duration::from_secs(900),
        }
    }

    fn short() -> Plan {
        Plan {
            name: "short",
            services: 2,
            renders: 40,
            arrival: Duration::from_secs(50),
            kills: 5,
            max_size: 16 * MB,
            rewrites: 2,
            bursts_5xx: 2,
            storms_429: 1,
            cuts: 2,
            expired_urls: 1,
            token_expiries: 1,
            token_ttl: Duration::from_secs(20),
            unmounted_for: Duration::from_secs(6),
            takeover_after_secs: 10,
            bandwidth_mbps: 160,
            drain_timeout: Duration::from_secs(150),
        }
    }
}

#[test]
#[ignore = "a benchmark (10-30 min): scripts/chaos.sh"]
fn chaos_soak_full() {
    soak(Plan::full());
}

#[test]
#[ignore = "needs root, /dev/fuse, bindfs and a keyring: scripts/chaos.sh --short (CI)"]
fn chaos_soak_short() {
    soak(Plan::short());
}

// ----- randomness (seeded, printed, reproducible in what the driver does) -----

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// `len` pseudo-random bytes from `seed` (fast: whole words).
fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

// ----- the filespace and its FUSE mounts -----

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn is_mounted(mountpoint: &Path) -> bool {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let target = mountpoint.to_string_lossy();
    mounts
        .lines()
        .any(|l| l.split(' ').nth(1) == Some(target.as_ref()))
}

fn mount(filespace: &Path, mountpoint: &Path) {
    run(Command::new("bindfs").arg(filespace).arg(mountpoint))
        .unwrap_or_else(|e| panic!("bindfs mount failed: {e}"));
    assert!(
        is_mounted(mountpoint),
        "{} not mounted",
        mountpoint.display()
    );
}

/// `fusermount3 -u`, lazily when a service still holds a file open there
/// (as a filespace that goes away under a running upload).
fn unmount(mountpoint: &Path) -> &'static str {
    if run(Command::new("fusermount3").arg("-u").arg(mountpoint)).is_ok() {
        return "fusermount3 -u";
    }
    let _ = run(Command::new("fusermount3")
        .arg("-u")
        .arg("-z")
        .arg(mountpoint));
    "fusermount3 -u -z (busy)"
}

fn preflight() {
    let problems: Vec<String> = [
        (
            unsafe_uid() == 0,
            "the chaos soak mounts FUSE filesystems: run it as root".to_string(),
        ),
        (
            Path::new("/dev/fuse").exists(),
            "/dev/fuse is missing (no FUSE on this machine or container)".to_string(),
        ),
        (
            Command::new("bindfs").arg("--version").output().is_ok(),
            "bindfs is not installed: `apt-get install bindfs fuse3` (scripts/setup.sh installs it)"
                .to_string(),
        ),
        (
            Command::new("fusermount3").arg("-V").output().is_ok(),
            "fusermount3 is not installed: `apt-get install fuse3`".to_string(),
        ),
    ]
    .into_iter()
    .filter(|(ok, _)| !ok)
    .map(|(_, why)| why)
    .collect();
    assert!(
        problems.is_empty(),
        "the chaos soak cannot run here:\n  {}",
        problems.join("\n  ")
    );
}

fn unsafe_uid() -> u32 {
    // No libc dependency: the real uid from /proc.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|u| u.parse().ok())
        .unwrap_or(u32::MAX)
}

// ----- a workstation -----

struct Workstation {
    name: String,
    home: PathBuf,
    mountpoint: PathBuf,
    root: PathBuf,
    config: PathBuf,
    keychain: String,
    env: Vec<(&'static str, String)>,
    child: Option<Child>,
    restart_at: Option<Instant>,
    dead_for_good: bool,
    starts: u32,
}

impl Workstation {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_postflow"));
        cmd.arg("--config").arg(&self.config).args(args);
        for var in [
            "POSTFLOW_CONFIG",
            "LUCIDLINK_BY_SHOT_PATH",
            "FRAMEIO_ACCOUNT_ID",
            "FRAMEIO_WORKSPACE_ID",
            "POSTFLOW_FRAMEIO_TOKEN",
            "DISCORD_WEBHOOK_URL",
            "POSTFLOW_LOG",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join("config"))
            .env("POSTFLOW_DATA_DIR", self.home.join("data"))
            .env("POSTFLOW_LOG_DIR", self.home.join("logs"))
            .env("POSTFLOW_KEYCHAIN_SERVICE", &self.keychain)
            .env("POSTFLOW_WORKSTATION", &self.name)
            .env("NO_COLOR", "1");
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.home.join("stderr.log"))
            .unwrap();
        let child = self
            .command(&["run"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.restart_at = None;
        self.starts += 1;
    }

    fn running(&self) -> bool {
        self.child.is_some()
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
    }

    /// SIGTERM, then SIGKILL after 20 s.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn status(&self) -> Option<Value> {
        let out = self.command(&["status", "--json"]).output().ok()?;
        serde_json::from_slice(&out.stdout).ok()
    }
}

fn count(status: &Value, kind: &str) -> u64 {
    status["counts"][kind].as_u64().unwrap_or(0)
}

const TERMINAL: [&str; 5] = ["done", "already_in_frameio", "held", "failed", "cancelled"];
const MID_WORK: [&str; 5] = [
    "preparing_folders",
    "uploading",
    "verifying",
    "stacking",
    "notifying",
];

fn pending(status: &Value) -> u64 {
    status["counts"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !TERMINAL.contains(&k.as_str()))
                .map(|(_, v)| v.as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

// ----- what the driver wrote -----

#[derive(Debug, Clone)]
struct Content {
    len: usize,
    checksum: String,
}

#[derive(Debug)]
struct Render {
    name: String,
    /// Relative to BY_SHOT (a day folder, some of them).
    rel: String,
    shot: usize,
    version: u32,
    contents: Vec<Content>,
}

#[derive(Debug)]
struct Shot {
    /// `SCENES/<scene>/<shot>`.
    path: Vec<String>,
    renders: Vec<usize>,
    /// Builds a name for a version.
    stem: String,
    ext: &'static str,
    dir: &'static str,
}

/// A file as found in the emulator's tree.
#[derive(Debug, Clone)]
struct Remote {
    id: String,
    name: String,
    folder: Vec<String>,
    /// The version stack and the position in it (0: oldest).
    stack: Option<(String, usize)>,
    complete: bool,
    checksum: Option<String>,
}

/// Every file of the project, walked from the root folder (tolerates
/// duplicate folders, which it reports as folder paths seen twice).
fn walk(emu: &Emulator) -> Vec<Remote> {
    fn go(emu: &Emulator, folder: &str, path: &mut Vec<String>, out: &mut Vec<Remote>) {
        for child in emu.folder_children(folder) {
            match child.kind {
                AssetKind::Folder => {
                    path.push(child.name.clone());
                    go(emu, &child.id, path, out);
                    path.pop();
                }
                AssetKind::File => push(emu, &child.id, &child.name, path, None, out),
                AssetKind::VersionStack => {
                    for (i, f) in emu.version_stack_children(&child.id).iter().enumerate() {
                        push(emu, &f.id, &f.name, path, Some((child.id.clone(), i)), out);
                    }
                }
            }
        }
    }
    fn push(
        emu: &Emulator,
        id: &str,
        name: &str,
        path: &[String],
        stack: Option<(String, usize)>,
        out: &mut Vec<Remote>,
    ) {
        if let Some(meta) = emu.file_meta(id) {
            out.push(Remote {
                id: id.to_string(),
                name: name.to_string(),
                folder: path.to_vec(),
                stack,
                complete: meta.complete,
                checksum: meta.checksum,
            });
        }
    }
    let mut out = Vec::new();
    go(emu, &emu.root_folder_id(), &mut Vec::new(), &mut out);
    out
}

/// The folder at `path` (the first of a name, while a duplicate may
/// exist for a moment).
fn find_folder(emu: &Emulator, path: &[String]) -> Option<String> {
    let mut folder = emu.root_folder_id();
    for name in path {
        folder = emu
            .folder_children(&folder)
            .into_iter()
            .find(|a| a.kind == AssetKind::Folder && a.name.eq_ignore_ascii_case(name))?
            .id;
    }
    Some(folder)
}

// ----- the soak -----

#[derive(Default)]
struct Figures {
    new_shots: usize,
    new_versions: usize,
    renamed: usize,
    rewritten_mid_upload: usize,
    rewritten_after_upload: usize,
    bytes_written: u64,
    kills: usize,
    kills_mid_work: usize,
    killed_for_good: Option<(String, bool)>,
    unmount: Option<(String, &'static str, Duration)>,
    faults: BTreeMap<&'static str, usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Burst5xx,
    Storm429,
    Cut,
    ExpireUrls,
    ExpireTokens,
}

struct Soak {
    plan: Plan,
    rng: Rng,
    filespace: PathBuf,
    fleet: Vec<Workstation>,
    renders: Vec<Render>,
    shots: Vec<Shot>,
    by_name: HashMap<String, usize>,
    figures: Figures,
}

impl Drop for Soak {
    fn drop(&mut self) {
        for ws in &mut self.fleet {
            ws.kill();
        }
        for ws in &self.fleet {
            if is_mounted(&ws.mountpoint) {
                unmount(&ws.mountpoint);
            }
        }
    }
}

impl Soak {
    fn by_shot(&self) -> PathBuf {
        self.filespace.join("BY_SHOT")
    }

    /// Writes `content` at `rel` beside the mounts: half, a pause (a render
    /// still being written), the rest.
    fn write_file(&mut self, rel: &str, data: &[u8], via_temp: bool) {
        let path = self.by_shot().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let target = if via_temp {
            path.with_file_name(format!(
                "{}.tmp",
                path.file_name().unwrap().to_string_lossy()
            ))
        } else {
            path.clone()
        };
        let mut f = std::fs::File::create(&target).unwrap();
        let half = data.len() / 2;
        f.write_all(&data[..half]).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
        f.write_all(&data[half..]).unwrap();
        f.sync_all().unwrap();
        drop(f);
        if via_temp {
            std::fs::rename(&target, &path).unwrap();
        }
        self.figures.bytes_written += data.len() as u64;
    }

    fn size(&mut self) -> usize {
        let roll = self.rng.below(100);
        let max = self.plan.max_size as u64;
        let size = if roll < 55 {
            self.rng.range(4 * 1024, MB as u64)
        } else if roll < 88 {
            self.rng.range(MB as u64, (10 * MB as u64).min(max))
        } else {
            self.rng.range((10 * MB as u64).min(max / 2), max)
        };
        size as usize
    }

    fn new_content(&mut self, len: usize) -> (Vec<u8>, Content) {
        let data = content(len, self.rng.next());
        let checksum = checksum_of_bytes(&data, &part_sizes(len as u64, PART_SIZE));
        (data, Content { len, checksum })
    }

    fn new_shot(&mut self) -> usize {
        const TITLES: [&str; 3] = [
            "13H49_-_RECUPERATION_DES_2_SURVIVANTS",
            "2EME_MAYDAY_EXT_-_NUIT_AMERICAINE",
            "CHASSE_A_L_HOMME",
        ];
        const CODES: [&str; 4] = ["UNDLM", "PLAN", "INSERT", "VFX"];
        const EXTS: [&str; 3] = ["mov", "mp4", "mxf"];
        const DIRS: [&str; 3] = ["", "DAY1/", "DAY2/"];
        loop {
            let (scene, shot, stem) = if self.rng.chance(0.2) {
                let title = *self.rng.pick(&TITLES);
                let s = format!("S{:02}", self.rng.range(1, 40));
                (title.to_string(), s.clone(), format!("{title}_{s}"))
            } else {
                let scene = format!("SC{:02}", self.rng.range(1, 12));
                let shot = format!(
                    "{}_{:05}",
                    self.rng.pick(&CODES),
                    self.rng.range(1, 999) * 10
                );
                (scene.clone(), shot.clone(), format!("{scene}_{shot}"))
            };
            let path = vec!["SCENES".to_string(), scene, shot];
            if self.shots.iter().any(|s| s.path == path) {
                continue;
            }
            let ext = *self.rng.pick(&EXTS);
            let dir = *self.rng.pick(&DIRS);
            self.shots.push(Shot {
                path,
                renders: Vec::new(),
                stem,
                ext,
                dir,
            });
            return self.shots.len() - 1;
        }
    }

    /// A shot whose latest version is in Frame.io, final and stacked (as
    /// an editor renders the next version after the last one went out).
    fn shot_ready_for_next_version(
        &mut self,
        remote: &[Remote],
        busy: &HashSet<usize>,
    ) -> Option<usize> {
        let ready: Vec<usize> = (0..self.shots.len())
            .filter(|&s| {
                let shot = &self.shots[s];
                let Some(&last) = shot.renders.last() else {
                    return false;
                };
                let render = &self.renders[last];
                if render.version >= 4 || busy.contains(&last) {
                    return false;
                }
                let copies: Vec<&Remote> =
                    remote.iter().filter(|r| r.folder == shot.path).collect();
                let final_sum = &render.contents.last().unwrap().checksum;
                copies.iter().any(|r| {
                    r.name == render.name
                        && r.checksum.as_ref() == Some(final_sum)
                        && (copies.len() == 1 || r.stack.is_some())
                })
            })
            .collect();
        (!ready.is_empty()).then(|| *self.rng.pick(&ready))
    }

    fn add_render(&mut self, remote: &[Remote], busy: &HashSet<usize>, rewrite: bool) -> usize {
        let next = if self.rng.chance(0.35) {
            self.shot_ready_for_next_version(remote, busy)
        } else {
            None
        };
        let (shot, version) = match next {
            Some(s) => {
                self.figures.new_versions += 1;
                (
                    s,
                    self.renders[*self.shots[s].renders.last().unwrap()].version + 1,
                )
            }
            None => {
                self.figures.new_shots += 1;
                (self.new_shot(), 1)
            }
        };
        let s = &self.shots[shot];
        let name = format!("{}_V{version:03}.{}", s.stem, s.ext);
        let rel = format!("{}{name}", s.dir);
        let len = if rewrite {
            // Large enough to be caught uploading.
            self.rng
                .range((self.plan.max_size / 3) as u64, self.plan.max_size as u64)
                as usize
        } else {
            self.size()
        };
        let (data, c) = self.new_content(len);
        let via_temp = self.rng.chance(0.2);
        if via_temp {
            self.figures.renamed += 1;
        }
        self.write_file(&rel, &data, via_temp);
        let idx = self.renders.len();
        self.renders.push(Render {
            name: name.clone(),
            rel,
            shot,
            version,
            contents: vec![c],
        });
        self.shots[shot].renders.push(idx);
        self.by_name.insert(name, idx);
        idx
    }

    /// Same name, new content (same size half the time).
    fn rewrite(&mut self, idx: usize) {
        let old = self.renders[idx].contents[0].len;
        let len = if self.rng.chance(0.5) {
            old
        } else {
            old + self.rng.range(1, MB as u64) as usize
        };
        let (data, c) = self.new_content(len);
        let rel = self.renders[idx].rel.clone();
        self.write_file(&rel, &data, false);
        self.renders[idx].contents.push(c);
    }

    fn live(&self) -> Vec<usize> {
        (0..self.fleet.len())
            .filter(|&i| self.fleet[i].running() && !self.fleet[i].dead_for_good)
            .collect()
    }

    fn inject(&mut self, emu: &Emulator, fault: Fault) {
        let faults = emu.faults();
        let kind = match fault {
            Fault::Burst5xx => {
                faults.burst_5xx(self.rng.range(10, 30) as u32);
                "5xx burst"
            }
            Fault::Storm429 => {
                let mut limits = RateLimits::unlimited();
                for class in RouteClass::ALL.into_iter().filter(|c| c.is_api()) {
                    limits.set(class, RateLimit::new(1, Duration::from_secs(2)));
                }
                emu.set_rate_limits(limits);
                "429 storm (1 request per 2 s per class and token, 10 s)"
            }
            Fault::Cut => {
                faults.cut_part(self.rng.below(3) as usize, 2);
                "cut connection (part PUT)"
            }
            Fault::ExpireUrls => {
                faults.expire_upload_urls();
                "expired upload URLs"
            }
            Fault::ExpireTokens => {
                emu.expire_access_tokens();
                "access tokens expired"
            }
        };
        *self.figures.faults.entry(kind).or_default() += 1;
    }
}

fn soak(plan: Plan) {
    preflight();
    let seed = std::env::var("POSTFLOW_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!(
        "chaos soak ({}): seed {seed} (POSTFLOW_CHAOS_SEED)",
        plan.name
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let emu = rt
        .block_on(Emulator::start(EmulatorConfig {
            part_size: PART_SIZE,
            rate_limits: RateLimits::unlimited(),
            token_ttl: plan.token_ttl,
            ..EmulatorConfig::default()
        }))
        .unwrap();
    emu.register_client(CLIENT_ID, None);
    let fake = rt.block_on(DiscordFake::start());

    let base = PathBuf::from(format!("/var/tmp/postflow-chaos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let filespace = base.join("filespace");
    std::fs::create_dir_all(filespace.join("BY_SHOT")).unwrap();

    let mut soak = Soak {
        plan: plan.clone(),
        rng: Rng(seed | 1),
        filespace: filespace.clone(),
        fleet: Vec::new(),
        renders: Vec::new(),
        shots: Vec::new(),
        by_name: HashMap::new(),
        figures: Figures::default(),
    };

    for n in 1..=plan.services {
        let name = format!("WS-{n}");
        let home = base.join(format!("home-{name}"));
        let mountpoint = base.join(format!("mnt-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&mountpoint).unwrap();
        mount(&filespace, &mountpoint);
        let root = mountpoint.join("BY_SHOT");
        let config = home.join("settings.toml");
        std::fs::write(
            &config,
            format!(
                "[watch]\nroot = {root:?}\nreadiness_window_secs = 2\nrescan_interval_secs = 1\n\
                 [frameio]\napi_base_url = \"{base}\"\nims_base_url = \"{base}\"\nclient_id = \"{CLIENT_ID}\"\n\
                 account_id = \"{a}\"\nproject_id = \"{p}\"\n\
                 [discord]\nenabled = true\nbatching_window_secs = 2\n\
                 [transfers]\nparallel_files = 2\ntakeover_after_secs = {t}\nbandwidth_limit_mbps = {bw}\n\
                 [notifications]\nenabled = false\n",
                root = root.display().to_string(),
                base = emu.base_url(),
                a = emu.account_id(),
                p = emu.project_id(),
                t = plan.takeover_after_secs,
                bw = plan.bandwidth_mbps,
            ),
        )
        .unwrap();
        // An OAuth sign-in in this workstation's keychain entry: its
        // access token lives `token_ttl` and is refreshed (and rotated).
        let keychain = format!("io.postflow.test.chaos.{}.{n}", std::process::id());
        let store = SecretStore::open_with(&keychain, |_| None);
        if let KeychainStatus::Unavailable { reason } = store.keychain_status() {
            panic!(
                "the chaos soak signs the services in through the keychain (token expiry and \
                 refresh) but there is none ({reason}): run it through scripts/chaos.sh, which \
                 starts a private gnome-keyring"
            );
        }
        let pair = emu.issue_tokens(CLIENT_ID);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        store
            .set_frameio_tokens(&FrameioTokens {
                access_token: pair.access_token.into(),
                refresh_token: Some(pair.refresh_token.into()),
                expires_at: Some(now + plan.token_ttl.as_secs()),
            })
            .unwrap();
        soak.fleet.push(Workstation {
            name,
            home,
            mountpoint,
            root,
            config,
            keychain,
            env: vec![
                (
                    "POSTFLOW_DISCORD_WEBHOOK_URL",
                    fake.hook().expose_url().to_string(),
                ),
                ("POSTFLOW_DISCORD_API_BASE", fake.base_url()),
            ],
            child: None,
            restart_at: None,
            dead_for_good: false,
            starts: 0,
        });
    }
    for ws in &mut soak.fleet {
        ws.start();
    }
    for ws in &soak.fleet {
        let deadline = Instant::now() + Duration::from_secs(30);
        while ws.status().is_none_or(|s| s["running"] != true) {
            assert!(Instant::now() < deadline, "{} did not start", ws.name);
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    assert!(soak.fleet.iter().all(|w| w.root.is_dir()));

    // ----- the schedule -----
    let started = Instant::now();
    let arrival = plan.arrival;
    let mut rng = Rng(seed.rotate_left(17) | 1);
    let at = |rng: &mut Rng, lo: f64, hi: f64| {
        let f = lo + (hi - lo) * (rng.below(10_000) as f64 / 10_000.0);
        arrival.mul_f64(f)
    };
    let mut render_times: Vec<Duration> =
        (0..plan.renders).map(|_| at(&mut rng, 0.0, 1.0)).collect();
    render_times.sort();
    render_times[0] = Duration::ZERO;
    // Which arrivals are rewritten mid-upload: spread over the run.
    let rewrite_at: HashSet<usize> = (0..plan.rewrites)
        .map(|i| (plan.renders * (2 * i + 1)) / (2 * plan.rewrites))
        .collect();
    let mut kill_times: Vec<Duration> = (0..plan.kills).map(|_| at(&mut rng, 0.05, 0.95)).collect();
    kill_times.sort();
    let mut faults: Vec<(Duration, Fault)> = Vec::new();
    for (n, kind) in [
        (plan.bursts_5xx, Fault::Burst5xx),
        (plan.storms_429, Fault::Storm429),
        (plan.cuts, Fault::Cut),
        (plan.expired_urls, Fault::ExpireUrls),
        (plan.token_expiries, Fault::ExpireTokens),
    ] {
        for _ in 0..n {
            faults.push((at(&mut rng, 0.05, 0.95), kind));
        }
    }
    faults.sort_by_key(|f| f.0);
    let unmount_at = arrival.mul_f64(0.4);
    let for_good_at = arrival.mul_f64(0.55);
    let unmounted_ws = 0;
    let doomed_ws = plan.services - 1;

    let mut next_render = 0;
    let mut next_kill = 0;
    let mut next_fault = 0;
    let mut storm_until: Option<Instant> = None;
    let mut remount_at: Option<Instant> = None;
    let mut unmounted_since = Instant::now();
    let mut unmount_done = false;
    let mut for_good_deadline: Option<Instant> = None;
    // Renders to rewrite once caught uploading: index, give-up time.
    let mut rewrites: Vec<(usize, Instant)> = Vec::new();
    let mut remote: Vec<Remote> = Vec::new();
    let mut walked = Instant::now() - Duration::from_secs(10);

    loop {
        let now = Instant::now();
        let t = started.elapsed();
        let arrivals_over = next_render >= plan.renders;
        if now.duration_since(walked) > Duration::from_millis(700) {
            remote = walk(&emu);
            walked = now;
        }

        // Renders.
        if !arrivals_over && t >= render_times[next_render] {
            let busy: HashSet<usize> = rewrites.iter().map(|r| r.0).collect();
            let rewrite = rewrite_at.contains(&next_render);
            let idx = soak.add_render(&remote, &busy, rewrite);
            if rewrite {
                rewrites.push((idx, Instant::now() + Duration::from_secs(45)));
            }
            next_render += 1;
        }
        // Rewrites: as soon as a copy of the render is being uploaded.
        let mut i = 0;
        while i < rewrites.len() {
            let (idx, give_up) = rewrites[i];
            let render = &soak.renders[idx];
            let path = &soak.shots[render.shot].path;
            let uploading = find_folder(&emu, path)
                .map(|f| emu.folder_children(&f))
                .unwrap_or_default()
                .iter()
                .any(|a| {
                    a.kind == AssetKind::File
                        && a.name == render.name
                        && emu
                            .file_meta(&a.id)
                            .is_some_and(|f| !f.complete && f.parts_received.iter().any(|p| *p))
                });
            if uploading || Instant::now() >= give_up {
                soak.rewrite(idx);
                if uploading {
                    soak.figures.rewritten_mid_upload += 1;
                } else {
                    soak.figures.rewritten_after_upload += 1;
                }
                rewrites.swap_remove(i);
            } else {
                i += 1;
            }
        }
        // Random SIGKILLs, restarts after a moment.
        if next_kill < kill_times.len() && t >= kill_times[next_kill] {
            let live: Vec<usize> = soak.live();
            if !live.is_empty() {
                let w = *soak.rng.pick(&live);
                let mid = soak.fleet[w]
                    .status()
                    .is_some_and(|s| MID_WORK.iter().any(|k| count(&s, k) > 0));
                soak.fleet[w].kill();
                let back = Duration::from_millis(soak.rng.range(1000, 4000));
                soak.fleet[w].restart_at = Some(Instant::now() + back);
                soak.figures.kills += 1;
                soak.figures.kills_mid_work += usize::from(mid);
            }
            next_kill += 1;
        }
        for ws in &mut soak.fleet {
            if !ws.dead_for_good && !ws.running() && ws.restart_at.is_some_and(|r| now >= r) {
                ws.start();
            }
        }
        // Faults.
        if next_fault < faults.len() && t >= faults[next_fault].0 {
            let kind = faults[next_fault].1;
            soak.inject(&emu, kind);
            if kind == Fault::Storm429 {
                storm_until = Some(Instant::now() + Duration::from_secs(10));
            }
            next_fault += 1;
        }
        if storm_until.is_some_and(|u| now >= u) {
            emu.set_rate_limits(RateLimits::unlimited());
            storm_until = None;
        }
        // One filespace unmounted under its service, and mounted again.
        if !unmount_done && t >= unmount_at {
            let how = unmount(&soak.fleet[unmounted_ws].mountpoint);
            unmounted_since = Instant::now();
            remount_at = Some(Instant::now() + plan.unmounted_for);
            unmount_done = true;
            soak.figures.unmount =
                Some((soak.fleet[unmounted_ws].name.clone(), how, Duration::ZERO));
        }
        if remount_at.is_some_and(|r| now >= r) {
            let ws = &soak.fleet[unmounted_ws];
            mount(&soak.filespace, &ws.mountpoint);
            remount_at = None;
            if let Some(u) = soak.figures.unmount.as_mut() {
                u.2 = unmounted_since.elapsed();
            }
        }
        // One workstation killed for good, mid-upload if it can be caught.
        if soak.figures.killed_for_good.is_none() && t >= for_good_at {
            let deadline = *for_good_deadline.get_or_insert(now + Duration::from_secs(60));
            let ws = &mut soak.fleet[doomed_ws];
            if ws.running() {
                let uploading = ws.status().is_some_and(|s| count(&s, "uploading") > 0);
                if uploading || now >= deadline {
                    ws.kill();
                    ws.dead_for_good = true;
                    soak.figures.killed_for_good = Some((ws.name.clone(), uploading));
                }
            }
        }
        if arrivals_over
            && rewrites.is_empty()
            && remount_at.is_none()
            && soak.figures.killed_for_good.is_some()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let arrivals_done = Instant::now();
    // The weather clears; everything killed comes back.
    emu.faults().clear();
    emu.set_rate_limits(RateLimits::unlimited());
    for ws in &mut soak.fleet {
        if !ws.dead_for_good && !ws.running() {
            ws.start();
        }
    }
    eprintln!(
        "chaos soak: arrivals over after {:?}; waiting for the queues to drain",
        started.elapsed()
    );

    // ----- drain -----
    let drain_deadline = Instant::now() + plan.drain_timeout;
    let mut quiet_since: Option<Instant> = None;
    let mut why = String::new();
    let drained = loop {
        match not_drained(&soak, &emu) {
            None => {
                let since = *quiet_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= Duration::from_secs(4) {
                    break true;
                }
            }
            Some(reason) => {
                quiet_since = None;
                why = reason;
            }
        }
        if Instant::now() >= drain_deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let drain_time = arrivals_done.elapsed();
    let total_time = started.elapsed();
    let final_status: Vec<(String, Option<Value>)> = soak
        .fleet
        .iter()
        .filter(|w| !w.dead_for_good)
        .map(|w| (w.name.clone(), w.status()))
        .collect();
    for ws in &mut soak.fleet {
        ws.stop();
    }

    // ----- verdict -----
    let mut problems = verdict(&soak, &emu, &fake);
    if !drained {
        problems.insert(
            0,
            format!(
                "the queues did not drain within {:?}: {why}",
                plan.drain_timeout
            ),
        );
    }
    for (name, status) in &final_status {
        if let Some(s) = status {
            if count(s, "failed") > 0 || count(s, "held") > 0 {
                problems.push(format!(
                    "{name}: {} failed, {} held at the end",
                    count(s, "failed"),
                    count(s, "held")
                ));
            }
        }
    }
    let stats = emu.stats();
    let report = table(
        &soak, &stats, &fake, drain_time, total_time, seed, &problems,
    );
    println!("{report}");
    if let Ok(path) = std::env::var("POSTFLOW_CHAOS_REPORT") {
        let _ = std::fs::write(path, &report);
    }
    for ws in &soak.fleet {
        let _ = SecretStore::open_with(&ws.keychain, |_| None).delete(SecretKind::FrameioTokens);
    }
    if problems.is_empty() {
        drop(soak);
        let _ = std::fs::remove_dir_all(&base);
    } else {
        eprintln!("chaos soak: logs and queues kept in {}", base.display());
        panic!("chaos soak verdict: FAIL\n  {}", problems.join("\n  "));
    }
}

/// Why the soak has not drained yet (`None`: it has).
fn not_drained(soak: &Soak, emu: &Emulator) -> Option<String> {
    for ws in soak.fleet.iter().filter(|w| !w.dead_for_good) {
        let Some(s) = ws.status() else {
            return Some(format!("{}: no status", ws.name));
        };
        if s["running"] != true {
            return Some(format!("{}: not running", ws.name));
        }
        let p = pending(&s);
        if p > 0 {
            return Some(format!(
                "{}: {p} item(s) in progress: {}",
                ws.name, s["counts"]
            ));
        }
        let outbox = s["discord"]["outbox"]["pending"].as_u64().unwrap_or(0);
        if outbox > 0 {
            return Some(format!("{}: {outbox} Discord notice(s) pending", ws.name));
        }
    }
    let remote = walk(emu);
    if let Some(r) = remote.iter().find(|r| !r.complete) {
        return Some(format!("{} still incomplete in Frame.io", r.name));
    }
    let present: HashSet<&str> = remote
        .iter()
        .filter_map(|r| r.checksum.as_deref())
        .collect();
    for render in &soak.renders {
        if !present.contains(render.contents.last().unwrap().checksum.as_str()) {
            return Some(format!(
                "{} (final content) not in Frame.io yet",
                render.name
            ));
        }
    }
    None
}

fn version_of(name: &str) -> u32 {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    stem.rsplit_once("_V")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// Everything that breaks the verdict (see the module comment).
fn verdict(soak: &Soak, emu: &Emulator, fake: &DiscordFake) -> Vec<String> {
    let mut problems = Vec::new();
    for dup in emu.duplicate_folders() {
        problems.push(format!("duplicate folder: {dup}"));
    }
    let remote = walk(emu);
    let mut accounted: HashSet<&str> = HashSet::new();
    for render in &soak.renders {
        let path = &soak.shots[render.shot].path;
        let copies: Vec<&Remote> = remote
            .iter()
            .filter(|r| r.name == render.name && &r.folder == path)
            .collect();
        let last = render.contents.len() - 1;
        let of = |k: usize| {
            copies
                .iter()
                .filter(|r| r.checksum.as_deref() == Some(render.contents[k].checksum.as_str()))
                .count()
        };
        match of(last) {
            1 => {}
            0 => problems.push(format!(
                "LOST: {} (final content, {} bytes) is not in Frame.io at {}",
                render.name,
                render.contents[last].len,
                path.join("/")
            )),
            n => problems.push(format!(
                "DUPLICATE: {} is in Frame.io {n} times with its final content",
                render.name
            )),
        }
        for k in 0..last {
            if of(k) > 1 {
                problems.push(format!(
                    "DUPLICATE: {} has {} copies of its earlier content #{k}",
                    render.name,
                    of(k)
                ));
            }
        }
        for c in &copies {
            let k = render
                .contents
                .iter()
                .position(|x| c.checksum.as_deref() == Some(x.checksum.as_str()));
            match k {
                Some(_) => {
                    accounted.insert(c.id.as_str());
                }
                None => problems.push(format!(
                    "STRAY: {} copy {} is {} and matches no content written",
                    render.name,
                    c.id,
                    if c.complete { "complete" } else { "incomplete" }
                )),
            }
        }
    }
    for r in remote.iter().filter(|r| !accounted.contains(r.id.as_str())) {
        if !soak.by_name.contains_key(&r.name) {
            problems.push(format!(
                "STRAY: unknown file {} at {}",
                r.name,
                r.folder.join("/")
            ));
        } else if !soak
            .renders
            .iter()
            .any(|x| x.name == r.name && soak.shots[x.shot].path == r.folder)
        {
            problems.push(format!("MISPLACED: {} at {}", r.name, r.folder.join("/")));
        }
    }
    // Versions stacked in order.
    for shot in &soak.shots {
        let copies: Vec<&Remote> = remote.iter().filter(|r| r.folder == shot.path).collect();
        if copies.len() < 2 {
            continue;
        }
        let stacks: HashSet<Option<&str>> = copies
            .iter()
            .map(|r| r.stack.as_ref().map(|s| s.0.as_str()))
            .collect();
        if stacks.len() != 1 || stacks.contains(&None) {
            problems.push(format!(
                "STACKING: {} holds {} copies in {} stack(s){}",
                shot.path.join("/"),
                copies.len(),
                stacks.iter().filter(|s| s.is_some()).count(),
                if stacks.contains(&None) {
                    " and loose"
                } else {
                    ""
                }
            ));
            continue;
        }
        let mut ordered = copies.clone();
        ordered.sort_by_key(|r| r.stack.as_ref().map(|s| s.1));
        let keys: Vec<(u32, usize)> = ordered
            .iter()
            .map(|r| {
                let render = &soak.renders[soak.by_name[&r.name]];
                let k = render
                    .contents
                    .iter()
                    .position(|x| r.checksum.as_deref() == Some(x.checksum.as_str()))
                    .unwrap_or(usize::MAX);
                (version_of(&r.name), k)
            })
            .collect();
        if keys.windows(2).any(|w| w[0] > w[1]) {
            let names: Vec<String> = ordered
                .iter()
                .zip(&keys)
                .map(|(r, k)| format!("{}#{}", r.name, k.1))
                .collect();
            problems.push(format!(
                "STACKING: {} out of order (oldest first): {}",
                shot.path.join("/"),
                names.join(", ")
            ));
        }
    }
    // Discord: each live file told once.
    let mut told: HashMap<String, usize> = HashMap::new();
    for message in fake.messages() {
        let text = message.to_string();
        let mut rest = text.as_str();
        let mut in_message = HashSet::new();
        while let Some(i) = rest.find("/view/") {
            let id: String = rest[i + 6..]
                .chars()
                .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
                .collect();
            rest = &rest[i + 6..];
            if !id.is_empty() {
                in_message.insert(id);
            }
        }
        for id in in_message {
            *told.entry(id).or_default() += 1;
        }
    }
    let live: HashMap<&str, &Remote> = remote.iter().map(|r| (r.id.as_str(), r)).collect();
    for r in &remote {
        match told.get(&r.id).copied().unwrap_or(0) {
            1 => {}
            0 => problems.push(format!(
                "UNTOLD: {} ({}) has no Discord message",
                r.name, r.id
            )),
            n => problems.push(format!(
                "DISCORD DUPLICATE: {} ({}) told {n} times",
                r.name, r.id
            )),
        }
    }
    for (id, n) in &told {
        if !live.contains_key(id.as_str()) {
            problems.push(format!(
                "TOLD BUT GONE: Discord was told of {id} ({n}x), which is not in Frame.io"
            ));
        }
    }
    problems
}

fn table(
    soak: &Soak,
    stats: &postflow_frameio_emulator::Stats,
    fake: &DiscordFake,
    drain: Duration,
    total: Duration,
    seed: u64,
    problems: &[String],
) -> String {
    let f = &soak.figures;
    let plan = &soak.plan;
    let mut t = String::new();
    let mut row = |k: &str, v: String| {
        let _ = writeln!(t, "| {k} | {v} |");
    };
    row(
        "verdict",
        if problems.is_empty() {
            "**PASS**: every render once, byte-identical; one folder per name; versions stacked in order; each file told once".into()
        } else {
            format!("**FAIL**: {} problem(s)", problems.len())
        },
    );
    row(
        "services",
        format!(
            "{} (`postflow run`, each on its own bindfs mount; restarts: {})",
            plan.services,
            soak.fleet
                .iter()
                .map(|w| format!("{} {}", w.name, w.starts.saturating_sub(1)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let rewrites = f.rewritten_mid_upload + f.rewritten_after_upload;
    row(
        "renders",
        format!(
            "{} names ({} new shots, {} new versions; {} renamed into place), {} rewritten ({} mid-upload), {:.0} MB written, {} shots",
            soak.renders.len(),
            f.new_shots,
            f.new_versions,
            f.renamed,
            rewrites,
            f.rewritten_mid_upload,
            f.bytes_written as f64 / 1e6,
            soak.shots.len()
        ),
    );
    row(
        "SIGKILLs",
        format!(
            "{} ({} mid-work), each restarted after 1-4 s",
            f.kills, f.kills_mid_work
        ),
    );
    row(
        "killed for good",
        match &f.killed_for_good {
            Some((name, mid)) => format!(
                "{name} ({}); takeover after {} s",
                if *mid {
                    "mid-upload"
                } else {
                    "not caught uploading"
                },
                plan.takeover_after_secs
            ),
            None => "none".into(),
        },
    );
    row(
        "unmounted",
        match &f.unmount {
            Some((name, how, away)) => format!(
                "{name}'s mount ({how}), remounted after {:.1} s",
                away.as_secs_f64()
            ),
            None => "none".into(),
        },
    );
    for (kind, n) in &f.faults {
        row(&format!("fault: {kind}"), format!("{n}"));
    }
    row(
        "answers the faults produced",
        format!(
            "{} injected 5xx, {} 429, {} parts cut, {} part PUTs refused, {} 401, {} token refreshes",
            stats.injected_failures,
            stats.rate_limited,
            stats.parts_cut,
            stats.part_put_failures,
            stats.unauthorized,
            stats.grants_for("refresh_token")
        ),
    );
    row(
        "Frame.io",
        format!(
            "{} placeholders created, {} deleted (takeovers, withdrawn half uploads), {} folders, {} version stacks",
            stats.local_uploads_created,
            stats.files_deleted,
            stats.folders_created - stats.folders_deleted,
            stats.version_stacks_created
        ),
    );
    row(
        "Discord",
        format!(
            "{} messages, {} 429s answered",
            fake.messages().len(),
            fake.rate_limited()
        ),
    );
    row(
        "time to drain",
        format!("{:.1} s after the last arrival", drain.as_secs_f64()),
    );
    row(
        "total",
        format!("{:.1} s; seed {seed}", total.as_secs_f64()),
    );
    let mut out = format!(
        "Chaos soak ({}):\n\n| what | figure |\n| --- | --- |\n",
        plan.name
    );
    out.push_str(&t);
    for p in problems {
        let _ = writeln!(out, "\n- {p}");
    }
    out
}

/// Found by the full soak (seed 1796181283140671924): the workstation
/// killed for good was SIGKILLed after the last part of a small render was
/// stored and before it stacked and told it; the survivors found the file
/// complete ("already in Frame.io") and nobody ever told the team. A later
/// full soak (seed 1796192104851977815) told such a render three times:
/// both survivors finished it at once, and its uploader, restarted, told
/// it too. Made deterministic here: the upload status route is held back
/// so A dies with every part stored; B and C start together and race to
/// finish it; A comes back afterwards. The team is told once.
#[test]
fn a_render_completed_by_a_workstation_that_died_before_telling_is_told_once() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let emu = rt
        .block_on(Emulator::start(EmulatorConfig {
            part_size: PART_SIZE,
            rate_limits: RateLimits::unlimited(),
            ..EmulatorConfig::default()
        }))
        .unwrap();
    let fake = rt.block_on(DiscordFake::start());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("BY_SHOT");
    std::fs::create_dir_all(&root).unwrap();
    let fleet: Vec<Workstation> = ["WS-A", "WS-B", "WS-C"]
        .iter()
        .map(|name| {
            let home = dir.path().join(name);
            std::fs::create_dir_all(&home).unwrap();
            let config = home.join("settings.toml");
            std::fs::write(
                &config,
                format!(
                    "[watch]\nroot = {root:?}\nreadiness_window_secs = 1\nrescan_interval_secs = 1\n\
                     [frameio]\napi_base_url = \"{base}\"\nims_base_url = \"{base}\"\n\
                     account_id = \"{a}\"\nproject_id = \"{p}\"\n\
                     [discord]\nenabled = true\nbatching_window_secs = 1\n\
                     [transfers]\ntakeover_after_secs = 3\n",
                    root = root.display().to_string(),
                    base = emu.base_url(),
                    a = emu.account_id(),
                    p = emu.project_id(),
                ),
            )
            .unwrap();
            Workstation {
                name: name.to_string(),
                mountpoint: root.clone(),
                root: root.clone(),
                config,
                keychain: format!("io.postflow.test.chaos-repro.{}", std::process::id()),
                env: vec![
                    ("POSTFLOW_FRAMEIO_TOKEN", emu.issue_token()),
                    (
                        "POSTFLOW_DISCORD_WEBHOOK_URL",
                        fake.hook().expose_url().to_string(),
                    ),
                    ("POSTFLOW_DISCORD_API_BASE", fake.base_url()),
                ],
                home,
                child: None,
                restart_at: None,
                dead_for_good: false,
                starts: 0,
            }
        })
        .collect();
    let mut fleet = fleet;
    let name = "SC01_UNDLM_07210_V001.mp4";
    std::fs::write(root.join(name), content(300_000, 7)).unwrap();
    // A sends every part, then waits on the upload status: killed there.
    emu.faults().delay_route("status", Duration::from_secs(60));
    fleet[0].start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let complete = walk(&emu).iter().any(|r| r.name == name && r.complete);
        if complete {
            break;
        }
        assert!(Instant::now() < deadline, "A never stored the render");
        std::thread::sleep(Duration::from_millis(50));
    }
    fleet[0].kill();
    emu.faults().clear();
    let settle = |ws: &Workstation| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let s = ws.status();
            let settled = s.as_ref().is_some_and(|s| {
                count(s, "done") + count(s, "already_in_frameio") == 1
                    && s["discord"]["outbox"]["pending"].as_u64() == Some(0)
            });
            if settled {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} never settled: {s:?}",
                ws.name
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    // B and C, the survivors, together: both find the file complete with
    // A's note gone silent.
    fleet[1].start();
    fleet[2].start();
    settle(&fleet[1]);
    settle(&fleet[2]);
    // A comes back, its item past the last part: it must not tell again.
    fleet[0].start();
    settle(&fleet[0]);
    std::thread::sleep(Duration::from_secs(3));
    for ws in &mut fleet {
        ws.stop();
    }
    let copies: Vec<Remote> = walk(&emu).into_iter().filter(|r| r.name == name).collect();
    assert_eq!(copies.len(), 1, "in Frame.io once");
    let told = fake
        .messages()
        .iter()
        .filter(|m| m.to_string().contains(&copies[0].id))
        .count();
    assert_eq!(
        told, 1,
        "the render reached Frame.io, so the team is told once"
    );
}
