//! `postflow run` end to end, driven through the CLI as a user would: real
//! files in a temp BY_SHOT, the real SQLite queue, the Frame.io emulator.

mod support;

use support::faultfs::FaultFs;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use postflow_discord_fake::DiscordFake;
use postflow_frameio_emulator::{checksum_of_file, Emulator, EmulatorConfig, RateLimits};
use serde_json::Value;

struct Service {
    home: tempfile::TempDir,
    root: PathBuf,
    config: PathBuf,
    token: String,
    /// Extra environment (a fake Discord's webhook and address).
    env: Vec<(&'static str, String)>,
}

impl Service {
    fn new(emu: &Emulator) -> Service {
        Service::on(emu, None)
    }

    /// A workstation; `root` shares another one's BY_SHOT (same filespace).
    fn on(emu: &Emulator, root: Option<PathBuf>) -> Service {
        let home = tempfile::tempdir().unwrap();
        let root = root.unwrap_or_else(|| home.path().join("BY_SHOT"));
        std::fs::create_dir_all(&root).unwrap();
        let config = home.path().join("settings.toml");
        std::fs::write(
            &config,
            format!(
                "[watch]\nroot = {root:?}\nreadiness_window_secs = 1\nrescan_interval_secs = 1\n\
                 [frameio]\napi_base_url = \"{base}\"\nims_base_url = \"{base}\"\naccount_id = \"{a}\"\nproject_id = \"{p}\"\n",
                root = root.display().to_string(),
                base = emu.base_url(),
                a = emu.account_id(),
                p = emu.project_id(),
            ),
        )
        .unwrap();
        Service {
            home,
            root,
            config,
            token: emu.issue_token(),
            env: Vec::new(),
        }
    }

    /// Posting to `fake` (through the test-only API base override), with
    /// uploads batched over `window_secs`.
    fn with_discord(emu: &Emulator, fake: &DiscordFake, window_secs: u64) -> Service {
        let mut svc = Service::new(emu);
        svc.add_discord(fake, window_secs);
        svc
    }

    /// Posts to `fake` from now on, uploads batched over `window_secs`.
    fn add_discord(&mut self, fake: &DiscordFake, window_secs: u64) {
        self.add_settings(&format!(
            "[discord]\nenabled = true\nbatching_window_secs = {window_secs}\n"
        ));
        self.env.extend([
            (
                "POSTFLOW_DISCORD_WEBHOOK_URL",
                fake.hook().expose_url().to_string(),
            ),
            ("POSTFLOW_DISCORD_API_BASE", fake.base_url()),
        ]);
    }

    /// Adds to the settings file (sections not there yet).
    fn add_settings(&self, toml: &str) {
        let mut settings = std::fs::read_to_string(&self.config).unwrap();
        settings.push_str(toml);
        std::fs::write(&self.config, settings).unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_postflow"));
        cmd.arg("--config").arg(&self.config).args(args);
        for var in [
            "POSTFLOW_CONFIG",
            "LUCIDLINK_BY_SHOT_PATH",
            "FRAMEIO_ACCOUNT_ID",
            "FRAMEIO_WORKSPACE_ID",
            "DISCORD_WEBHOOK_URL",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("POSTFLOW_DATA_DIR", self.home.path().join("data"))
            .env("POSTFLOW_LOG_DIR", self.home.path().join("logs"))
            .env("POSTFLOW_FRAMEIO_TOKEN", &self.token)
            .env(
                "POSTFLOW_KEYCHAIN_SERVICE",
                format!("io.postflow.test.svc.{}", std::process::id()),
            )
            .env("NO_COLOR", "1");
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    fn start(&self) -> Child {
        self.command(&["run"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn status(&self) -> Value {
        serde_json::from_str(&self.cli(&["status", "--json"])).unwrap()
    }

    fn count(&self, kind: &str) -> u64 {
        self.status()["counts"][kind].as_u64().unwrap_or(0)
    }

    fn wait_for(&self, what: &str, timeout: Duration, ok: impl Fn(&Value) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.status();
            if ok(&s) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {s:#}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn write(&self, rel: &str, len: usize, seed: u8) -> PathBuf {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes(len, seed)).unwrap();
        path
    }
}

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    let mut x = seed as u32 | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn stop(mut child: Child) -> String {
    // SIGTERM: a graceful stop.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the service did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "unclean exit ({status:?}):\n{err}");
    err
}

/// `local` is in Frame.io exactly once, byte-identical, at `path`; and the
/// project holds no two folders of one name anywhere (the path lookup
/// itself refuses to choose between two).
#[track_caller]
fn assert_once(emu: &Emulator, local: &Path, path: &[&str]) {
    emu.assert_one_folder_per_name();
    let name = local.file_name().unwrap().to_str().unwrap();
    let found = emu.files_named(path, name);
    assert_eq!(found.len(), 1, "{name} must be in Frame.io exactly once");
    let info = emu.file(&found[0]).unwrap();
    assert_eq!(
        info.checksum,
        Some(checksum_of_file(local, &info.part_sizes).unwrap()),
        "{name} differs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_uploads_what_the_spec_says_and_obeys_the_cli() {
    let emu = emulator(256 * 1024).await;
    let svc = Service::new(&emu);
    let child = svc.start();

    // What the spec says should and should not be uploaded.
    let brief = [
        svc.write("SC01_UNDLM_00412_V002.mov", 400_000, 1),
        svc.write(
            "day2/13H49_-_RECUPERATION_DES_2_SURVIVANTS_S01_V001.mov",
            300_000,
            2,
        ),
        svc.write("2EME_MAYDAY_EXT_-_NUIT_AMERICAINE_S03_V005.mp4", 500_000, 3),
    ];
    svc.write("._SC01_UNDLM_00412_V002.mov", 4096, 4);
    svc.write("SC05_PART_V001.mov.part", 4096, 5);
    svc.write("SC05_SOUND_V001.wav", 4096, 6);
    // A placeholder that fills later, a render that keeps growing, a temp
    // name renamed into place.
    let placeholder = svc.root.join("SC06_PH_V001.mov");
    std::fs::File::create(&placeholder).unwrap();
    let growing = svc.root.join("SC07_GROW_V001.mov");
    let mut g = std::fs::File::create(&growing).unwrap();
    let tmp = svc.write("SC08_REN_V001.mov.tmp", 250_000, 8);
    tokio::task::spawn_blocking({
        let placeholder = placeholder.clone();
        move || {
            for i in 0..6u8 {
                g.write_all(&bytes(50_000, i)).unwrap();
                g.flush().unwrap();
                std::thread::sleep(Duration::from_millis(400));
            }
            std::fs::write(&placeholder, bytes(120_000, 9)).unwrap();
        }
    })
    .await
    .unwrap();
    std::fs::rename(&tmp, svc.root.join("SC08_REN_V001.mov")).unwrap();

    svc.wait_for("six uploads", Duration::from_secs(90), |s| {
        s["counts"]["done"].as_u64() == Some(6)
    });
    assert_once(&emu, &brief[0], &["SCENES", "SC01", "UNDLM_00412"]);
    assert_once(
        &emu,
        &brief[1],
        &["SCENES", "13H49_-_RECUPERATION_DES_2_SURVIVANTS", "S01"],
    );
    assert_once(
        &emu,
        &brief[2],
        &["SCENES", "2EME_MAYDAY_EXT_-_NUIT_AMERICAINE", "S03"],
    );
    assert_once(&emu, &placeholder, &["SCENES", "SC06", "PH"]);
    assert_once(&emu, &growing, &["SCENES", "SC07", "GROW"]);
    assert_once(
        &emu,
        &svc.root.join("SC08_REN_V001.mov"),
        &["SCENES", "SC08", "REN"],
    );
    assert_eq!(
        emu.stats().local_uploads_created,
        6,
        "nothing else was uploaded: no ._, .part, .wav, no half file"
    );
    let status = svc.status();
    assert_eq!(status["running"], true);
    assert!(status["health"].as_u64().unwrap() >= 90, "{status:#}");

    // Pause from another process: nothing new starts.
    assert!(svc.cli(&["pause"]).contains("Paused"));
    svc.wait_for(
        "the service to apply the pause",
        Duration::from_secs(10),
        |s| s["service_paused"] == true,
    );
    let paused_file = svc.write("SC09_PAUSE_V001.mov", 100_000, 10);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(svc.count("done"), 6, "nothing uploaded while paused");
    assert!(svc.cli(&["resume"]).contains("Resumed"));
    svc.wait_for("the paused file", Duration::from_secs(30), |s| {
        s["counts"]["done"].as_u64() == Some(7)
    });
    assert_once(&emu, &paused_file, &["SCENES", "SC09", "PAUSE"]);

    // A refusal that needs a person, then a retry from the CLI.
    emu.faults().fail_api("local_upload", 1, 422);
    svc.write("SC10_FAIL_V001.mov", 50_000, 11);
    svc.wait_for("a failure", Duration::from_secs(30), |s| {
        s["failed_needing_action"].as_u64() == Some(1)
    });
    assert!(svc.status()["problems"].to_string().contains("need action"));
    assert!(svc
        .cli(&["retry", "--all-failed"])
        .contains("1 failed item(s) queued again"));
    svc.wait_for("the retried file", Duration::from_secs(30), |s| {
        s["counts"]["done"].as_u64() == Some(8)
    });

    let log = stop(child);
    assert!(log.contains("PostFlow service stopped"), "{log}");
    let after = svc.status();
    assert_eq!(after["running"], false);
    assert!(after["problems"].to_string().contains("not running"));
}

#[test]
fn run_without_a_sign_in_or_settings_says_what_is_missing() {
    let home = tempfile::tempdir().unwrap();
    let out = support::postflow(home.path())
        .arg("--config")
        .arg(home.path().join("none.toml"))
        .arg("run")
        .env_remove("POSTFLOW_FRAMEIO_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("frameio.project_id") && stderr.contains("watch.root"),
        "{stderr}"
    );
}

/// An emulator on loopback without rate limits.
async fn emulator(part_size: u64) -> Emulator {
    Emulator::start(EmulatorConfig {
        part_size,
        rate_limits: RateLimits::unlimited(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

async fn slow_emulator() -> Emulator {
    let emu = emulator(256 * 1024).await;
    emu.faults().slow(Duration::from_millis(10));
    emu
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_twenty_times_every_file_is_uploaded_exactly_once() {
    let emu = slow_emulator().await;
    emu.faults().slow(Duration::from_millis(40));
    let svc = Service::new(&emu);
    // About 15 s of uploading at 24 Mbit/s: most kills land mid-upload,
    // however fast this machine is.
    svc.add_settings("[transfers]\nbandwidth_limit_mbps = 24\n");
    let files: Vec<PathBuf> = (0..12u8)
        .map(|i| {
            svc.write(
                &format!("SC2{}_KILL_{i}_V001.mov", i % 3),
                3_000_000 + i as usize * 150_001,
                i,
            )
        })
        .collect();
    let mut mid_work = 0;
    for round in 0..20u64 {
        let mut child = svc.start();
        std::thread::sleep(Duration::from_millis(900 + round * 7919 % 1800));
        let counts = svc.status()["counts"].clone();
        if ["preparing_folders", "uploading", "verifying", "stacking"]
            .iter()
            .any(|k| counts[*k].as_u64().unwrap_or(0) > 0)
        {
            mid_work += 1;
        }
        child.kill().unwrap(); // SIGKILL: no chance to flush anything
        child.wait().unwrap();
    }
    eprintln!("{mid_work} of 20 kills landed mid-work");
    assert!(
        mid_work >= 3,
        "only {mid_work} of 20 kills landed during uploads; the test proves nothing"
    );
    emu.faults().slow(Duration::ZERO);
    let child = svc.start();
    svc.wait_for("every file", Duration::from_secs(120), |s| {
        s["counts"]["done"].as_u64() == Some(12)
    });
    svc.wait_for("the service", Duration::from_secs(10), |s| {
        s["running"] == true
    });
    stop(child);
    for (i, f) in files.iter().enumerate() {
        let scene = format!("SC2{}", i % 3);
        let shot = format!("KILL_{i}");
        assert_once(&emu, f, &["SCENES", &scene, &shot]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_services_on_one_filespace_make_one_frameio_file_per_render() {
    let emu = slow_emulator().await;
    let a = Service::new(&emu);
    let b = Service::on(&emu, Some(a.root.clone()));
    let files: Vec<PathBuf> = (0..5u8)
        .map(|i| a.write(&format!("SC30_TWO_{i}_V001.mov",), 600_000, i))
        .collect();
    let (ca, cb) = (a.start(), b.start());
    a.wait_for("workstation A up", Duration::from_secs(10), |s| {
        s["running"] == true
    });
    b.wait_for("workstation B up", Duration::from_secs(10), |s| {
        s["running"] == true
    });
    let settled = |s: &Value| {
        s["counts"]["done"].as_u64().unwrap_or(0)
            + s["counts"]["already_in_frameio"].as_u64().unwrap_or(0)
            == 5
    };
    a.wait_for("workstation A", Duration::from_secs(90), settled);
    b.wait_for("workstation B", Duration::from_secs(90), settled);
    stop(ca);
    stop(cb);
    for (i, f) in files.iter().enumerate() {
        assert_once(&emu, f, &["SCENES", "SC30", &format!("TWO_{i}")]);
    }
}

/// Workstations started together on an empty project, then renders in new
/// scenes and shots: every workstation needs the same new folders within
/// the same second. The emulator holds folder creation back so that they
/// all list, see a name missing and create it (the race is hit, and
/// counted); the project must still end with one folder per name and one
/// byte-identical file per render. Twenty rounds, each on a fresh project.
fn workstations_race_on_new_folders(workstations: usize, rounds: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut raced = 0;
    for round in 0..rounds {
        let emu = rt.block_on(emulator(256 * 1024));
        emu.faults()
            .delay_route("create_folder", Duration::from_millis(300));
        let first = Service::new(&emu);
        let mut fleet = vec![];
        for _ in 1..workstations {
            fleet.push(Service::on(&emu, Some(first.root.clone())));
        }
        fleet.insert(0, first);
        let children: Vec<Child> = fleet.iter().map(Service::start).collect();
        for (i, svc) in fleet.iter().enumerate() {
            svc.wait_for(
                &format!("workstation {i} up"),
                Duration::from_secs(20),
                |s| s["running"] == true,
            );
        }
        let renders: Vec<(PathBuf, Vec<String>)> = (0..4u8)
            .map(|i| {
                let (scene, shot) = (format!("SC{round:02}{i}"), format!("RACE_{i}"));
                let local = fleet[0].write(
                    &format!("{scene}_{shot}_V001.mov"),
                    300_000 + i as usize * 7,
                    round as u8 ^ i,
                );
                (local, vec!["SCENES".to_string(), scene, shot])
            })
            .collect();
        let settled = |s: &Value| {
            s["counts"]["done"].as_u64().unwrap_or(0)
                + s["counts"]["already_in_frameio"].as_u64().unwrap_or(0)
                == renders.len() as u64
        };
        for (i, svc) in fleet.iter().enumerate() {
            svc.wait_for(
                &format!("workstation {i}"),
                Duration::from_secs(90),
                settled,
            );
        }
        for child in children {
            stop(child);
        }
        for (local, path) in &renders {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            assert_once(&emu, local, &path);
        }
        // 1 SCENES + 4 scenes + 4 shots are needed; more creations mean
        // workstations created the same folder at once.
        let stats = emu.stats();
        assert_eq!(
            stats.folders_created - stats.folders_deleted,
            9,
            "round {round}: every folder made in a race was withdrawn: {stats:?}"
        );
        if stats.folders_created > 9 {
            raced += 1;
        }
    }
    eprintln!("{workstations} workstations: the folder race was hit in {raced} of {rounds} rounds");
    assert!(
        raced * 2 >= rounds,
        "the race was hit in only {raced} of {rounds} rounds; the test proves too little"
    );
}

#[test]
fn two_services_started_together_make_one_folder_per_name_and_one_file_per_render() {
    workstations_race_on_new_folders(2, 20);
}

#[test]
fn three_services_started_together_make_one_folder_per_name_and_one_file_per_render() {
    workstations_race_on_new_folders(3, 20);
}

/// A project that already holds two `SCENES/SC01` folders (one with a
/// render in its shot folder) is converged when the service starts: one
/// SC01, the render kept, the empty duplicate deleted, and a new render for
/// the same shot lands beside the kept one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_with_two_sc01_folders_is_converged_at_start_and_loses_nothing() {
    let emu = emulator(256 * 1024).await;
    let root = emu.root_folder_id();
    let scenes = emu.create_folder(&root, "SCENES");
    let first = emu.create_folder(&scenes, "SC01");
    std::thread::sleep(Duration::from_millis(5));
    let later = emu.create_folder(&scenes, "SC01");
    let later_shot = emu.create_folder(&later, "UNDLM_00412");
    let old = emu.create_uploaded_file(&later_shot, "SC01_UNDLM_00412_V001.mov", b"first cut");
    assert_eq!(emu.duplicate_folders().len(), 1);

    let svc = Service::new(&emu);
    let child = svc.start();
    let v2 = svc.write("SC01_UNDLM_00412_V002.mov", 200_000, 7);
    svc.wait_for("the new version", Duration::from_secs(60), |s| {
        s["counts"]["done"].as_u64() == Some(1)
    });
    let log = stop(child);
    assert!(
        log.contains("duplicate Frame.io folders converged"),
        "the repair is logged:\n{log}"
    );
    assert_eq!(emu.find_path(&["SCENES", "SC01"]), Some(first.clone()));
    assert!(emu.asset(&later).is_none(), "the emptied duplicate is gone");
    assert_once(&emu, &v2, &["SCENES", "SC01", "UNDLM_00412"]);
    let kept = emu.files_named(
        &["SCENES", "SC01", "UNDLM_00412"],
        "SC01_UNDLM_00412_V001.mov",
    );
    assert_eq!(kept, vec![old.clone()], "the earlier render is kept");
    assert_eq!(
        emu.file(&old).unwrap().bytes.as_deref(),
        Some(&b"first cut"[..])
    );
}

/// The issue as a user met it: `SC01_UNDLM_00412_V002.mov` uploaded, then
/// re-rendered in place at exactly the same size. The fix must reach
/// Frame.io once, on top of the earlier copy, and the team be told it is a
/// re-render; SIGKILLs during the re-render's upload change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_size_rerender_is_uploaded_once_told_as_such_and_survives_sigkills() {
    let emu = emulator(256 * 1024).await;
    let fake = DiscordFake::start().await;
    let svc = Service::with_discord(&emu, &fake, 1);
    let name = "SC01_UNDLM_00412_V002.mov";
    let path = ["SCENES", "SC01", "UNDLM_00412"];
    let local = svc.write(name, 12_000_000, 1);
    let child = svc.start();
    svc.wait_for("the first render", Duration::from_secs(60), |s| {
        s["counts"]["done"].as_u64() == Some(1)
    });
    stop(child);
    let first = emu.files_named(&path, name);
    assert_eq!(first.len(), 1);

    std::thread::sleep(Duration::from_millis(1200));
    let before = std::fs::metadata(&local).unwrap().len();
    svc.write(name, 12_000_000, 2);
    assert_eq!(
        std::fs::metadata(&local).unwrap().len(),
        before,
        "same size"
    );

    // Killed as soon as `status` shows the re-render uploading, four times.
    emu.faults().slow(Duration::from_millis(80));
    let mut mid_upload = 0;
    for _ in 0..4 {
        let mut child = svc.start();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let counts = svc.status()["counts"].clone();
            if counts["uploading"].as_u64().unwrap_or(0) > 0 {
                mid_upload += 1;
                break;
            }
            if counts["done"].as_u64() == Some(2) || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(
        mid_upload >= 2,
        "only {mid_upload} of 4 kills landed during the re-render's upload"
    );
    emu.faults().slow(Duration::ZERO);
    let child = svc.start();
    svc.wait_for("the re-render", Duration::from_secs(60), |s| {
        s["counts"]["done"].as_u64() == Some(2)
    });
    svc.wait_for("Discord", Duration::from_secs(30), |s| {
        s["discord"]["outbox"]["sent"].as_u64() == Some(2)
    });
    stop(child);

    emu.assert_one_folder_per_name();
    let copies = emu.files_named(&path, name);
    assert_eq!(copies.len(), 2, "exactly one new copy: {copies:?}");
    assert_eq!(copies[0], first[0], "the earlier copy is kept, below");
    let fix = emu.file(&copies[1]).unwrap();
    assert_eq!(
        fix.checksum,
        Some(checksum_of_file(&local, &fix.part_sizes).unwrap()),
        "the newest copy is the re-render, byte for byte"
    );
    let folder = emu.find_path(&path).unwrap();
    let stack = emu.folder_children(&folder);
    assert_eq!(stack.len(), 1, "one version stack: {stack:?}");
    assert_eq!(
        emu.version_stack_children(&stack[0].id)
            .last()
            .map(|f| f.id.clone()),
        Some(copies[1].clone()),
        "the fix is on top of the stack"
    );
    let listed: Value =
        serde_json::from_str(&svc.cli(&["list", "--status", "done,already_in_frameio", "--json"]))
            .unwrap();
    let kinds: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["done", "done"], "{listed:#}");
    let told = serde_json::to_string(&fake.messages()).unwrap();
    assert!(told.contains("V002 re-rendered"), "{told}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_frameio_shows_as_offline_and_spends_no_attempt() {
    let emu = emulator(EmulatorConfig::default().part_size).await;
    let svc = Service::new(&emu);
    let child = svc.start();
    svc.write("SC40_ON_V001.mov", 10_000, 1);
    svc.wait_for("a first upload", Duration::from_secs(30), |s| {
        s["counts"]["done"].as_u64() == Some(1)
    });
    emu.shutdown(); // Frame.io goes away
    svc.write("SC40_OFF_V001.mov", 10_000, 2);
    svc.wait_for("the offline state", Duration::from_secs(60), |s| {
        s["frameio_online"] == false
    });
    let s = svc.status();
    assert!(
        s["problems"]
            .to_string()
            .contains("Frame.io is unreachable"),
        "{s:#}"
    );
    assert_eq!(
        s["counts"]["failed"].as_u64().unwrap_or(0),
        0,
        "no attempt spent: {s:#}"
    );
    stop(child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_tests_the_setup_end_to_end_and_says_what_to_fix() {
    let emu = emulator(EmulatorConfig::default().part_size).await;
    let svc = Service::new(&emu);
    let out = svc.command(&["check"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}");
    for line in [
        "ok   watch root",
        "ok   Frame.io sign-in",
        "ok   Frame.io project",
        "ok   structure root",
    ] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
    }

    // The filespace unmounted and the token revoked: both named, with fixes.
    std::fs::rename(&svc.root, svc.home.path().join("away")).unwrap();
    emu.revoke_all_tokens();
    let out = svc.command(&["check"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL watch root") && stdout.contains("mount the LucidLink filespace"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL Frame.io sign-in") && stdout.contains("postflow signin"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_reach_the_team_channel_batched_and_a_dead_webhook_is_shown() {
    let emu = emulator(EmulatorConfig::default().part_size).await;
    let fake = DiscordFake::start().await;
    let svc = Service::with_discord(&emu, &fake, 6);
    let brief = svc.write("SC01_UNDLM_00412_V002.mov", 300_000, 1);
    for n in 1..5 {
        svc.write(&format!("SC02_SHOT_{n:03}_V001.mov"), 100_000, n as u8);
    }
    let child = svc.start();
    svc.wait_for("five uploads", Duration::from_secs(60), |s| {
        s["counts"]["done"].as_u64() == Some(5)
    });
    svc.wait_for(
        "the Discord outbox to empty",
        Duration::from_secs(30),
        |s| s["discord"]["outbox"]["sent"].as_u64() == Some(5),
    );
    // Five uploads within the window: one message, one card each.
    let messages = fake.messages();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let embeds = messages[0]["embeds"].as_array().unwrap();
    assert_eq!(embeds.len(), 5);
    let card = embeds
        .iter()
        .find(|e| {
            e["title"]
                .as_str()
                .unwrap()
                .contains("SC01_UNDLM_00412_V002.mov")
        })
        .expect("a card for the brief's file");
    let text = card.to_string();
    for expected in [
        "SC01",
        "UNDLM_00412",
        "V002",
        "300",
        "SCENES/SC01/UNDLM_00412",
    ] {
        assert!(text.contains(expected), "{expected} missing from {card:#}");
    }
    let file_id = &emu.files_named(
        &["SCENES", "SC01", "UNDLM_00412"],
        "SC01_UNDLM_00412_V002.mov",
    )[0];
    assert!(
        card["url"]
            .as_str()
            .is_some_and(|u| u.contains(file_id.as_str())),
        "the card links to the file: {card:#}"
    );
    assert_once(&emu, &brief, &["SCENES", "SC01", "UNDLM_00412"]);

    // `notify-test` reports Discord's answer, and a deleted webhook clearly.
    let out = svc.command(&["notify-test"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("Discord accepted"),
        "{stdout}"
    );
    fake.delete_webhook();
    let out = svc.command(&["notify-test"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no longer valid"), "{stderr}");
    assert!(
        !stderr.contains(postflow_discord_fake::WEBHOOK_TOKEN),
        "{stderr}"
    );

    // The service stops sending, keeps the message and says why.
    svc.write("SC03_LATE_V001.mov", 50_000, 9);
    svc.wait_for("the dead webhook to show", Duration::from_secs(60), |s| {
        s["discord"]["problem"]["kind"] == "webhook_invalid"
            && s["discord"]["outbox"]["pending"].as_u64() == Some(1)
    });
    let human = svc.cli(&["status"]);
    assert!(
        human.contains("Discord: waiting: Discord webhook no longer valid"),
        "{human}"
    );
    let out = svc.command(&["check"]).output().unwrap();
    let check = String::from_utf8_lossy(&out.stdout);
    assert!(check.contains("FAIL Discord webhook"), "{check}");
    assert!(
        check.contains("postflow secrets set discord-webhook"),
        "{check}"
    );
    stop(child);
}

#[test]
fn a_webhook_url_that_is_not_discords_is_refused() {
    let home = tempfile::tempdir().unwrap();
    for url in [
        "https://example.com/api/webhooks/123/abc",
        "http://discord.com/api/webhooks/123/abc",
        "https://discord.com.evil.example/api/webhooks/123/abc",
        "https://discord.com/api/webhooks/abc/def",
    ] {
        let out = support::postflow(home.path())
            .args(["secrets", "set", "discord-webhook"])
            .env(
                "POSTFLOW_KEYCHAIN_SERVICE",
                format!("io.postflow.test.hook.{}", std::process::id()),
            )
            .write_stdin(format!("{url}\n"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{url} was accepted");
        assert!(
            stderr.contains("not a Discord webhook URL"),
            "{url}: {stderr}"
        );
        assert!(!stderr.contains(url), "the input is not echoed: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shows_the_ids_that_cancel_and_retry_take() {
    let emu = emulator(EmulatorConfig::default().part_size).await;
    let svc = Service::new(&emu);
    svc.write("RANDOM_NAME.mp4", 10_000, 1);
    let child = svc.start();
    svc.wait_for(
        "the unrecognized name to be held",
        Duration::from_secs(30),
        |s| s["counts"]["held"].as_u64() == Some(1),
    );
    let held: Value =
        serde_json::from_str(&svc.cli(&["list", "--status", "held", "--json"])).unwrap();
    let id = held[0]["id"].as_i64().unwrap();
    assert_eq!(held[0]["rel_path"], "RANDOM_NAME.mp4");
    let human = svc.cli(&["list"]);
    assert!(
        human.contains(&format!("{id}")) && human.contains("held"),
        "{human}"
    );

    let out = svc.cli(&["cancel", &id.to_string()]);
    assert!(out.contains("RANDOM_NAME.mp4 cancelled"), "{out}");
    svc.wait_for("the item cancelled", Duration::from_secs(10), |s| {
        s["counts"]["cancelled"].as_u64() == Some(1)
    });
    // An unknown state or item is named, with what to do.
    let bad = svc.command(&["list", "--status", "lost"]).output().unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown state \"lost\""));
    let missing = svc.command(&["cancel", "999999"]).output().unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not in the queue"));

    // `retry` undoes it: the name is held again, nothing uploaded.
    svc.cli(&["retry", &id.to_string()]);
    svc.wait_for("held again", Duration::from_secs(30), |s| {
        s["counts"]["held"].as_u64() == Some(1)
    });
    assert_eq!(emu.stats().local_uploads_created, 0);
    stop(child);
}

/// `postflow run --gui`: the API and the page on loopback, behind the key;
/// `gui-url` prints the keyed link; the service runs all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_gui_serves_the_ui_behind_its_key_and_gui_url_prints_the_link() {
    let emu = emulator(256 * 1024).await;
    let mut svc = Service::new(&emu);
    let key = "feedfacecafebeef0123456789abcdef";
    svc.env.push(("POSTFLOW_GUI_KEY", key.to_string()));
    let mut child = svc
        .command(&["run", "--gui", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line
        .trim()
        .strip_prefix("PostFlow web UI: ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    assert!(url.ends_with(&format!("/?key={key}")), "{url}");
    let origin = url.split("/?").next().unwrap().to_string();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(
        page.status(),
        303,
        "the key is set as a cookie, then dropped from the address"
    );
    let refused = http
        .post(format!("{origin}/api/snapshot"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    // The service runs: a render goes through, seen through the API.
    let render = svc.write("SC01_UNDLM_00412_V002.mov", 100_000, 4);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page: Value = http
            .post(format!("{origin}/api/items"))
            .header("x-postflow-key", key)
            .json(&serde_json::json!({"query": {}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["items"][0]["status"] == "done" {
            break;
        }
        assert!(Instant::now() < deadline, "{page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_once(&emu, &render, &["SCENES", "SC01", "UNDLM_00412"]);
    let link = svc.cli(&["gui-url"]);
    assert_eq!(link.trim(), format!("http://127.0.0.1:8484/?key={key}"));
    stop(child);
}

/// `postflow projects`: the signed-in user's accounts, workspaces and
/// projects; `--use ID` saves the choice (comments kept).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_lists_where_uploads_can_go_and_use_saves_the_choice() {
    let emu = emulator(256 * 1024).await;
    let svc = Service::new(&emu);
    let mut text = std::fs::read_to_string(&svc.config).unwrap();
    text = text.replace(&format!("project_id = \"{}\"\n", emu.project_id()), "");
    text.insert_str(0, "# my workstation\n");
    std::fs::write(&svc.config, &text).unwrap();
    let listed: Value = serde_json::from_str(&svc.cli(&["projects", "--json"])).unwrap();
    let project = &listed[0]["workspaces"][0]["projects"][0];
    assert_eq!(project["id"], emu.project_id());
    assert_eq!(project["name"], "Emulated Project");
    let human = svc.cli(&["projects"]);
    assert!(
        human.contains(&emu.project_id()) && human.contains("--use"),
        "{human}"
    );
    let used = svc.cli(&["projects", "--use", &emu.project_id()]);
    assert!(used.contains("Emulated Project"), "{used}");
    let saved = std::fs::read_to_string(&svc.config).unwrap();
    assert!(saved.starts_with("# my workstation\n"), "{saved}");
    assert!(
        saved.contains(&format!("project_id = \"{}\"", emu.project_id())),
        "{saved}"
    );
    let missing = svc
        .command(&["projects", "--use", "nope"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("postflow projects"));
}

/// `postflow pause --for N`: a timed pause that `status` shows and that a
/// later `resume` (or its end) lifts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_for_minutes_is_shown_and_resume_lifts_it() {
    let emu = emulator(256 * 1024).await;
    let svc = Service::new(&emu);
    let out = svc.cli(&["pause", "--for", "60"]);
    assert!(out.contains("Paused for 60 min"), "{out}");
    let status = svc.status();
    assert_eq!(status["paused"], true);
    let until = status["paused_until"].as_i64().unwrap();
    let in_an_hour = postflow_queue::now_ms() + 3_600_000;
    assert!((in_an_hour - until).abs() < 60_000, "{until}");
    svc.cli(&["resume"]);
    let status = svc.status();
    assert_eq!(status["paused"], false);
    assert!(status["paused_until"].is_null());
    let zero = svc.command(&["pause", "--for", "0"]).output().unwrap();
    assert!(!zero.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_until_a_time_and_the_bandwidth_timetable_are_shown_in_status() {
    let emu = emulator(256 * 1024).await;
    let svc = Service::new(&emu);
    // One entry: that cap all day, every day (rclone's binary units).
    svc.add_settings("[transfers]\nbandwidth_timetable = \"00:00,2M\"\n");
    // Two minutes from now, local time (tomorrow when that is past midnight).
    let then = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_mins(2))
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::system());
    let hhmm = format!("{:02}:{:02}", then.hour(), then.minute());
    let out = svc.cli(&["pause", "--until", &hhmm]);
    assert!(out.contains(&hhmm), "{out}");
    let text = svc.cli(&["status"]);
    assert!(text.contains(&format!("Paused until {hhmm}")), "{text}");
    assert!(text.contains("Bandwidth: capped at 2 MiB/s"), "{text}");
    let status = svc.status();
    let until = status["paused_until"].as_i64().unwrap();
    let expected = then.timestamp().as_millisecond() / 60_000 * 60_000;
    assert!(
        (until - expected).abs() < 60_000,
        "paused until {until}, expected about {expected}"
    );
    assert_eq!(
        status["bandwidth"]["cap_bytes_per_sec"],
        2 * 1024 * 1024,
        "{status:#}"
    );
    // A time that is not one is refused, and says how to write it.
    let bad = svc
        .command(&["pause", "--until", "25:99"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("HH:MM"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// The list as `postflow list --json` gives it.
fn items(svc: &Service) -> Vec<Value> {
    serde_json::from_str(&svc.cli(&["list", "--json"])).unwrap()
}

/// Two workstations on one filespace for the takeover tests: A uploads
/// (capped at `a_mbps`), B (uncapped) comes second and finds A's upload in
/// flight. Both take over after `takeover_secs` without a sign of life.
fn takeover_pair(emu: &Emulator, a_mbps: u32, takeover_secs: u64) -> (Service, Service) {
    let mut a = Service::new(emu);
    let mut b = Service::on(emu, Some(a.root.clone()));
    a.add_settings(&format!(
        "[transfers]\nbandwidth_limit_mbps = {a_mbps}\ntakeover_after_secs = {takeover_secs}\n"
    ));
    b.add_settings(&format!(
        "[transfers]\ntakeover_after_secs = {takeover_secs}\n"
    ));
    a.env.push(("POSTFLOW_WORKSTATION", "WS-EDIT-A".into()));
    b.env.push(("POSTFLOW_WORKSTATION", "WS-EDIT-B".into()));
    (a, b)
}

/// A uploading with bytes out; then B started, until it defers to A (which
/// it must: A's placeholder was created first and is incomplete). Returns
/// B's process and its deferring item.
// B's process goes back to the caller, which stops it (clippy does not see
// a child returned as waited for).
#[allow(clippy::zombie_processes)]
fn b_defers_to_a(a: &Service, b: &Service) -> (Child, Value) {
    a.wait_for("A uploading", Duration::from_secs(30), |s| {
        s["counts"]["uploading"].as_u64() == Some(1)
    });
    let mut cb = b.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let deferring = items(b).into_iter().find(|i| i["status"] == "deferring");
        if let Some(item) = deferring {
            return (cb, item);
        }
        if Instant::now() >= deadline {
            let status = b.status();
            let _ = cb.kill();
            let _ = cb.wait();
            panic!("B never deferred to A: {status:#}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workstation_killed_mid_upload_is_taken_over_and_the_render_uploaded_once() {
    let emu = emulator(256 * 1024).await;
    let takeover = Duration::from_secs(3);
    // A sends 12 MB at 16 Mbit/s: 6 s, killed long before the end.
    let (a, b) = takeover_pair(&emu, 16, takeover.as_secs());
    let render = a.write("SC40_DEAD_0010_V001.mov", 12_000_000, 40);
    let mut ca = a.start();
    let (cb, waiting) = b_defers_to_a(&a, &b);
    // What B's list says while it waits: who, and the last sign of life.
    assert_eq!(
        waiting["waiting_for"]["workstation"], "WS-EDIT-A",
        "{waiting:#}"
    );
    let detail = waiting["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("waiting for WS-EDIT-A's upload, last sign of life"),
        "{detail}"
    );
    let text = b.cli(&["list"]);
    assert!(
        text.contains("deferring") && text.contains("waiting for WS-EDIT-A's upload"),
        "{text}"
    );
    // A dies for good mid-upload: SIGKILL, never restarted.
    assert_eq!(a.count("uploading"), 1, "A is still uploading when killed");
    ca.kill().unwrap();
    ca.wait().unwrap();
    let killed = Instant::now();
    b.wait_for("B to take over and upload", Duration::from_secs(60), |s| {
        s["counts"]["done"].as_u64() == Some(1)
    });
    let took = killed.elapsed();
    assert!(
        took >= takeover,
        "B took over {took:?} after the kill, before the takeover delay ({takeover:?})"
    );
    stop(cb);
    assert_once(&emu, &render, &["SCENES", "SC40", "DEAD_0010"]);
    let stats = emu.stats();
    assert_eq!(
        stats.files_deleted, 1,
        "A's placeholder, and only it, was deleted: {stats:?}"
    );
    let file = &emu.files_named(&["SCENES", "SC40", "DEAD_0010"], "SC40_DEAD_0010_V001.mov")[0];
    assert!(
        emu.comments_on(file).is_empty(),
        "B's claim note is gone once its upload completed: {:?}",
        emu.comments_on(file)
    );
}

/// A's upload is complete but its notice waits: Discord is down for three
/// takeover delays. B meets the complete file with A's claim note and must
/// neither finish it nor tell the team: A is alive and will. One message
/// names the render, A's, once Discord is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_waiting_for_discord_keeps_its_claim_and_the_team_is_told_once() {
    let emu = emulator(256 * 1024).await;
    let fake = DiscordFake::start().await;
    let takeover = Duration::from_secs(2);
    let (mut a, mut b) = takeover_pair(&emu, 0, takeover.as_secs());
    a.add_discord(&fake, 0);
    b.add_discord(&fake, 0);
    fake.fail_next(u32::MAX, 503);
    let name = "SC41_TOLD_0010_V001.mov";
    let render = a.write(name, 600_000, 41);
    let ca = a.start();
    a.wait_for("A done, its notice waiting", Duration::from_secs(60), |s| {
        s["counts"]["done"].as_u64() == Some(1)
            && s["discord"]["outbox"]["pending"].as_u64() == Some(1)
            && s["discord"]["problem"]["kind"] == "unavailable"
    });
    let cb = b.start();
    b.wait_for("B to meet A's file", Duration::from_secs(30), |s| {
        s["counts"]["deferring"].as_u64() == Some(1)
    });
    // Three takeover delays with Discord down: B keeps waiting for A.
    let until = Instant::now() + takeover * 3;
    while Instant::now() < until {
        let s = b.status();
        assert_eq!(
            s["counts"]["deferring"].as_u64(),
            Some(1),
            "B stopped waiting for A, whose notice is only waiting for Discord: {s:#}"
        );
        assert_eq!(
            s["discord"]["outbox"]["pending"].as_u64().unwrap_or(0),
            0,
            "{s:#}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    fake.fail_next(0, 503);
    a.wait_for("A's notice sent", Duration::from_secs(90), |s| {
        s["discord"]["outbox"]["sent"].as_u64() == Some(1)
    });
    b.wait_for("B: already in Frame.io", Duration::from_secs(30), |s| {
        s["counts"]["already_in_frameio"].as_u64() == Some(1)
    });
    // Give B's notifier the time to send what it should not have.
    std::thread::sleep(Duration::from_secs(3));
    stop(ca);
    stop(cb);
    let naming: Vec<_> = fake
        .messages()
        .into_iter()
        .filter(|m| m.to_string().contains(name))
        .collect();
    assert_eq!(naming.len(), 1, "the team told once: {naming:#?}");
    assert_once(&emu, &render, &["SCENES", "SC41", "TOLD_0010"]);
    let file = &emu.files_named(&["SCENES", "SC41", "TOLD_0010"], name)[0];
    assert!(
        emu.comments_on(file).is_empty(),
        "the claim note is gone once told: {:?}",
        emu.comments_on(file)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_but_living_upload_is_never_taken_over() {
    let emu = emulator(256 * 1024).await;
    let takeover = Duration::from_secs(2);
    // A sends 12 MB at 12 Mbit/s: 8 s, four times the takeover delay.
    let (a, b) = takeover_pair(&emu, 12, takeover.as_secs());
    let render = a.write("SC41_SLOW_0010_V001.mov", 12_000_000, 41);
    let ca = a.start();
    let (cb, _) = b_defers_to_a(&a, &b);
    let deferred = Instant::now();
    // A's upload shows its claim note while it goes.
    let placeholder = emu.files_named(&["SCENES", "SC41", "SLOW_0010"], "SC41_SLOW_0010_V001.mov");
    assert_eq!(placeholder.len(), 1);
    let notes = emu.comments_on(&placeholder[0]);
    assert!(
        notes.len() == 1 && notes[0].starts_with("PostFlow is uploading this file from WS-EDIT-A"),
        "{notes:?}"
    );
    a.wait_for("A to finish", Duration::from_secs(60), |s| {
        s["counts"]["done"].as_u64() == Some(1)
    });
    let waited = deferred.elapsed();
    assert!(
        waited >= takeover * 2,
        "B deferred for only {waited:?}: the test proves nothing about a slow upload"
    );
    b.wait_for(
        "B to see A's upload complete",
        Duration::from_secs(30),
        |s| s["counts"]["already_in_frameio"].as_u64() == Some(1),
    );
    stop(ca);
    stop(cb);
    assert_once(&emu, &render, &["SCENES", "SC41", "SLOW_0010"]);
    assert_eq!(emu.stats().files_deleted, 0, "nothing was taken over");
    assert!(
        emu.comments_on(&placeholder[0]).is_empty(),
        "A's claim note is gone"
    );
}

/// A service watching BY_SHOT through a FUSE mount (`FaultFs`) of
/// `filespace/`, as a workstation sees a LucidLink filespace. Renders are
/// written into `filespace/BY_SHOT` beside the mount: no events, as for
/// renders written by other workstations.
struct OnFilespace {
    dir: tempfile::TempDir,
    svc: Service,
}

impl OnFilespace {
    fn new(emu: &Emulator) -> (OnFilespace, FaultFs) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("filespace/BY_SHOT")).unwrap();
        let fs = FaultFs::mount(&dir.path().join("filespace"), &dir.path().join("mnt"));
        let svc = Service::on(emu, Some(dir.path().join("mnt/BY_SHOT")));
        (OnFilespace { dir, svc }, fs)
    }

    fn source(&self) -> PathBuf {
        self.dir.path().join("filespace")
    }

    fn mountpoint(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }

    /// A render written by "another workstation", straight into the
    /// filespace.
    fn render(&self, name: &str, len: usize, seed: u8) -> PathBuf {
        let path = self.source().join("BY_SHOT").join(name);
        std::fs::write(&path, bytes(len, seed)).unwrap();
        path
    }

    /// The one item, whatever its state.
    fn item(&self) -> Value {
        let every = "waiting_for_stability,queued,preparing_folders,uploading,deferring,verifying,\
                     stacking,notifying,done,already_in_frameio,held,failed,cancelled";
        let mut all: Vec<Value> =
            serde_json::from_str(&self.svc.cli(&["list", "--json", "--status", every])).unwrap();
        assert_eq!(all.len(), 1, "{all:#?}");
        all.remove(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_failing_with_eio_mid_part_is_retried_and_the_file_arrives_whole() {
    let emu = emulator(1024 * 1024).await;
    let (fsp, mut fs) = OnFilespace::new(&emu);
    let name = "SC42_EIO_0010_V001.mov";
    // Two reads beyond 2.5 MB fail: in the middle of the third 1 MiB part
    // (and whichever part reads there next).
    fs.eio(name, 2, 2_500_000);
    let render = fsp.render(name, 6_000_000, 42);
    let child = fsp.svc.start();
    fsp.svc
        .wait_for("the upload", Duration::from_secs(60), |s| {
            s["counts"]["done"].as_u64() == Some(1)
        });
    stop(child);
    assert_eq!(fs.injected(), 2, "both faults were hit");
    let item = fsp.item();
    assert_eq!(
        item["attempts"], 0,
        "retried within the part, no attempt spent: {item:#}"
    );
    assert_once(&emu, &render, &["SCENES", "SC42", "EIO_0010"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filespace_lost_mid_upload_is_offline_spends_no_attempt_and_resumes_after_remount() {
    let emu = emulator(256 * 1024).await;
    let (fsp, fs) = OnFilespace::new(&emu);
    // 10 MB at 16 Mbit/s: 5 s of upload, lost in the middle.
    fsp.svc
        .add_settings("[transfers]\nbandwidth_limit_mbps = 16\n");
    let render = fsp.render("SC43_LOST_0010_V001.mov", 10_000_000, 43);
    let child = fsp.svc.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !items(&fsp.svc)
        .iter()
        .any(|i| i["status"] == "uploading" && i["bytes_sent"].as_u64().unwrap_or(0) > 1_000_000)
    {
        assert!(
            Instant::now() < deadline,
            "no upload under way: {:#}",
            fsp.svc.status()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // LucidLink goes away under the upload.
    fs.kill();
    fsp.svc
        .wait_for("filespace offline", Duration::from_secs(20), |s| {
            s["filespace_online"] == false
        });
    // Left offline a while: the upload waits, nothing fails or is cancelled.
    std::thread::sleep(Duration::from_secs(4));
    let status = fsp.svc.status();
    assert!(
        status["problems"].to_string().contains("offline"),
        "the status says the filespace is offline: {status:#}"
    );
    let item = fsp.item();
    assert_eq!(item["status"], "uploading", "{item:#}");
    assert_eq!(
        item["attempts"], 0,
        "no attempt spent while offline: {item:#}"
    );
    let puts_before = emu.stats().part_puts;
    // Back: the upload resumes where it was and completes once.
    let _fs = FaultFs::mount(&fsp.source(), &fsp.mountpoint());
    fsp.svc.wait_for(
        "the upload after the remount",
        Duration::from_secs(60),
        |s| s["counts"]["done"].as_u64() == Some(1),
    );
    stop(child);
    let item = fsp.item();
    assert_eq!(item["attempts"], 0, "{item:#}");
    let parts = 10_000_000u64.div_ceil(256 * 1024);
    let puts_after = emu.stats().part_puts - puts_before;
    assert!(
        puts_after < parts,
        "resumed: {puts_after} part PUTs after the remount, not all {parts} again"
    );
    assert_once(&emu, &render, &["SCENES", "SC43", "LOST_0010"]);
}

/// A small tmpfs, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .unwrap()
            .success();
        assert!(
            ok,
            "mount -t tmpfs needs root (CI and scripts/test.sh run as root)"
        );
        Tmpfs(at.to_owned())
    }

    /// Fills it to the last byte with `filler`.
    fn fill(&self) -> PathBuf {
        let filler = self.0.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if f.write_all(&chunk).is_err() {
                break;
            }
        }
        let mut small = [0u8; 512];
        while f.write_all(&small[..]).is_ok() {
            small[0] ^= 1;
        }
        let _ = f.sync_all();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_for_the_queue_is_told_and_loses_nothing_recorded_or_seen() {
    let emu = emulator(256 * 1024).await;
    let svc = Service::new(&emu);
    // The data directory (the queue database) on a disk of its own.
    let disk = Tmpfs::mount(&svc.home.path().join("data"), "8m");
    let child = svc.start();
    let first = svc.write("SC46_FULL_0010_V001.mov", 300_000, 46);
    svc.wait_for("the first upload", Duration::from_secs(30), |s| {
        s["counts"]["done"].as_u64() == Some(1)
    });
    // The disk fills up; then a render arrives.
    let filler = disk.fill();
    let second = svc.write("SC46_FULL_0020_V001.mov", 300_000, 47);
    svc.wait_for("the disk-full problem", Duration::from_secs(20), |s| {
        s["problems"]
            .to_string()
            .contains("is full: free some space")
    });
    std::thread::sleep(Duration::from_secs(3));
    let s = svc.status();
    assert_eq!(
        s["counts"]["done"].as_u64(),
        Some(1),
        "what was done stays done: {s:#}"
    );
    // Room again: the render seen meanwhile is recorded and uploaded.
    std::fs::remove_file(filler).unwrap();
    svc.wait_for(
        "the render seen while the disk was full",
        Duration::from_secs(60),
        |s| s["counts"]["done"].as_u64() == Some(2),
    );
    assert!(!svc.status()["problems"].to_string().contains("is full"));
    stop(child);
    assert_once(&emu, &first, &["SCENES", "SC46", "FULL_0010"]);
    assert_once(&emu, &second, &["SCENES", "SC46", "FULL_0020"]);
}
