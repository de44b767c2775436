//! The real desktop app end to end, driven through WebDriver
//! (`tauri-driver` + Debian's WebKitWebDriver) under Xvfb, against the
//! Frame.io emulator (its IMS signs in) and the fake Discord, with a real
//! keychain (gnome-keyring in the suite's D-Bus session):
//!
//! first run → the BY_SHOT folder chosen in the native GTK picker (driven
//! through the accessibility bus) → "Sign in to Frame.io" (the
//! "browser" is a script on PATH as `xdg-open`, following the authorize
//! URL to PostFlow's loopback redirect) → a project picked → the Discord
//! webhook tested → the summary → a render dropped into BY_SHOT → the shot
//! board shows it done with its Frame.io link → the fake Discord got it.
//!
//! Also: the window can call PostFlow's commands and nothing else (no
//! plugin permission: opener, notification, dialog and shell are refused).
//!
//! The native folder picker (`#first-run-folder-choose`) is a GTK dialog
//! outside the webview, which WebDriver cannot reach: the test drives it
//! through AT-SPI (`support/gtk-pick-folder.py`), as a screen reader would.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use postflow_discord_fake::{DiscordFake, WEBHOOK_ID, WEBHOOK_TOKEN};
use postflow_frameio_emulator::{Emulator, EmulatorConfig, RateLimits};

mod support;
use support::desktop::{app_env, built, can_run};
use support::webdriver::Session;

const CLIENT_ID: &str = "postflow-e2e";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The "system browser": whatever PostFlow opens is recorded, and a
/// sign-in page is followed to its redirect, as a person clicking
/// "Allow" would.
fn fake_browser(bin: &Path, log: &Path) {
    std::fs::create_dir_all(bin).unwrap();
    let script = bin.join("xdg-open");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{log}'\ncase \"$1\" in\n  */ims/authorize*) curl -fsSL -o /dev/null --max-time 30 \"$1\" ;;\nesac\n",
            log = log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Saves a screenshot of the window where the suite keeps them.
async fn shot(session: &Session, name: &str) {
    if let Some(dir) = std::env::var_os("POSTFLOW_SCREENSHOTS") {
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), session.screenshot().await).unwrap();
    }
}

/// One app under WebDriver at a time (two cores).
static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// tauri-driver and the WebKitWebDriver it starts, in a process group of
/// their own: ended together, with the app, when the test ends.
struct Driver {
    child: std::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// tauri-driver on a free port, its WebKitWebDriver on another (each test
/// its own: a WebKitWebDriver left on the default port would launch the
/// app with an earlier test's environment), the app's environment `env`.
fn driver(env: &[(&str, std::ffi::OsString)], remove: &[&str]) -> Driver {
    use std::os::unix::process::CommandExt;
    let port = free_port();
    let mut cmd = Command::new("tauri-driver");
    cmd.args([
        "--port",
        &port.to_string(),
        "--native-port",
        &free_port().to_string(),
    ])
    .process_group(0)
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    for k in remove {
        cmd.env_remove(k);
    }
    Driver {
        child: cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start tauri-driver: {e}")),
        url: format!("http://127.0.0.1:{port}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_sign_in_project_and_a_render_uploaded_through_the_real_app() {
    let _one = ONE_APP.lock().await;
    if !can_run(&["tauri-driver", "WebKitWebDriver", "curl"]) {
        return;
    }
    let emu = Emulator::start(EmulatorConfig {
        rate_limits: RateLimits::unlimited(),
        part_size: 256 * 1024,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    emu.register_client(CLIENT_ID, None);
    let chosen = emu.add_project("Trailer Cut");
    let discord = DiscordFake::start().await;

    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let root = home.join("LucidLink/BY_SHOT");
    std::fs::create_dir_all(&root).unwrap();
    // What an organisation ships: where Frame.io is and its client id.
    // No folder, no project, no sign-in: a first run.
    let config = home.join("settings.toml");
    std::fs::write(
        &config,
        format!(
            "[watch]\nreadiness_window_secs = 1\nrescan_interval_secs = 1\n\
             [frameio]\napi_base_url = \"{base}\"\nims_base_url = \"{base}\"\n\
             client_id = \"{CLIENT_ID}\"\nredirect_uri = \"http://127.0.0.1:{port}/callback\"\n\
             [ui]\nstart_minimized = false\nstart_at_login = false\n",
            base = emu.base_url(),
            port = free_port(),
        ),
    )
    .unwrap();
    let bin = home.join("bin");
    let opened = home.join("opened.txt");
    fake_browser(&bin, &opened);

    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut env = app_env(home, &config);
    env.push(("PATH", path.into()));
    env.push(("POSTFLOW_DISCORD_API_BASE", discord.base_url().into()));
    let driver = driver(&env, &["POSTFLOW_FRAMEIO_TOKEN"]);
    let session = Session::start(&driver.url, &built("postflow-app")).await;

    // 1. The folder.
    session.wait("#first-run", 60).await;
    session.wait("[data-step=folder]", 10).await;
    shot(&session, "app-first-run-folder").await;
    session
        .click(&session.wait("#first-run-folder-choose", 10).await)
        .await;
    pick_in_native_dialog(&root).await;
    let mut picked = String::new();
    for _ in 0..100 {
        picked = session
            .execute(
                "return document.querySelector('#first-run-folder').value",
                vec![],
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if picked == root.display().to_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        picked,
        root.display().to_string(),
        "the folder chosen in the native picker fills the field"
    );
    session
        .click(&session.wait("#first-run-folder-save", 10).await)
        .await;

    // 2. Sign in: the browser follows the authorize URL to the redirect.
    session
        .click(&session.wait("#first-run-signin", 20).await)
        .await;
    // 3. The project, once signed in.
    let project = session.wait("#first-run-project", 60).await;
    let opened_urls = std::fs::read_to_string(&opened).unwrap_or_default();
    assert!(
        opened_urls.contains("/ims/authorize"),
        "the sign-in opened in the system browser: {opened_urls:?}"
    );
    session
        .choose(&session.wait("#first-run-account", 10).await, "PostFlow")
        .await;
    session
        .choose(&session.wait("#first-run-workspace", 10).await, "Emulated")
        .await;
    session.choose(&project, "Trailer Cut").await;
    shot(&session, "app-first-run-project").await;
    session
        .click(&session.wait("#first-run-project-use", 10).await)
        .await;

    // 4. Discord: the webhook tested, then on.
    let webhook = session.wait("#first-run-webhook", 20).await;
    session
        .type_into(
            &webhook,
            &format!("https://discord.com/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"),
        )
        .await;
    session
        .click(&session.wait("#first-run-webhook-test", 10).await)
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while discord.messages().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the test message reached Discord"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    session
        .click(&session.wait("#first-run-discord-next", 20).await)
        .await;

    // 5. The summary says what happens from now on.
    let summary = session.wait("#first-run-summary", 20).await;
    let said = session.text(&summary).await;
    assert!(said.contains("BY_SHOT"), "{said}");
    assert!(said.contains("Trailer Cut"), "{said}");
    shot(&session, "app-first-run-summary").await;
    let saved = std::fs::read_to_string(&config).unwrap();
    assert!(saved.contains(&chosen.project_id), "{saved}");
    assert!(saved.contains(&root.display().to_string()), "{saved}");
    assert!(!saved.contains("access_token"), "no secret in the file");
    session
        .click(&session.wait("#first-run-open-board", 10).await)
        .await;

    // A render arrives: done on the board, with its link, told in Discord.
    let name = "SC01_UNDLM_00412_V002.mov";
    let content: Vec<u8> = (0..600_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(root.join(name), &content).unwrap();
    let done = format!("[data-testid=item-row][data-file=\"{name}\"][data-status=done]");
    session.wait(&done, 90).await;
    let link = session.wait(&format!("{done} a.frameio-link"), 10).await;
    let href = session
        .execute("return arguments[0].href", vec![link.arg()])
        .await;
    assert!(
        href.as_str()
            .unwrap_or_default()
            .starts_with(&emu.base_url()),
        "the link goes to Frame.io: {href}"
    );
    shot(&session, "app-board-done").await;
    // The link opens in the system browser (from Rust), not in the window.
    session.click(&link).await;
    let view_url = href.as_str().unwrap().to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&opened)
        .unwrap_or_default()
        .contains(&view_url)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{view_url} opened in the browser"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let files = emu.files_named_in(
        &chosen.root_folder_id,
        &["SCENES", "SC01", "UNDLM_00412"],
        name,
    );
    assert_eq!(files.len(), 1, "in the chosen project once");
    assert_eq!(
        emu.file(&files[0]).and_then(|f| f.bytes).as_deref(),
        Some(&content[..])
    );
    emu.assert_one_folder_per_name();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !discord
        .messages()
        .iter()
        .any(|m| m.to_string().contains("UNDLM_00412"))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Discord was told about the upload: {:?}",
            discord.messages()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // "Start at login", saved in Settings, sets the login item at once.
    let autostart = home.join(".config/autostart");
    let login_items = || {
        std::fs::read_dir(&autostart)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert!(
        login_items().is_empty(),
        "off in the settings: no login item"
    );
    session
        .execute("window.location.hash = '#/settings'", vec![])
        .await;
    let check = session.wait("#set-ui-start-at-login", 20).await;
    session.click(&check).await;
    session
        .click(&session.wait("[data-testid=settings-save]", 10).await)
        .await;
    session.wait("[data-testid=settings-saved]", 20).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let entry = loop {
        if let Some(entry) = login_items().into_iter().next() {
            break std::fs::read_to_string(entry).unwrap();
        }
        if tokio::time::Instant::now() > deadline {
            let logs: String = std::fs::read_dir(home.join("logs"))
                .map(|d| {
                    d.filter_map(Result::ok)
                        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default();
            let said: Vec<&str> = logs
                .lines()
                .filter(|l| l.contains("login") || l.contains("settings"))
                .collect();
            panic!(
                "no login item once start at login is saved; settings:\n{}\nlog:\n{}",
                std::fs::read_to_string(&config).unwrap(),
                said.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        entry.contains("--background"),
        "starts in the tray: {entry}"
    );
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("start_at_login = true"),
        "written to the settings first"
    );

    // The window may call PostFlow's commands, and no plugin.
    let answers = session
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             const call = (cmd, args) => window.__TAURI_INTERNALS__.invoke(cmd, args)\
               .then(() => 'allowed', (e) => 'refused: ' + String(e));\
             Promise.all([\
               call('api', {command: 'snapshot', args: null}),\
               call('plugin:opener|open_url', {url: 'https://example.invalid/'}),\
               call('plugin:notification|notify', {options: {title: 'x'}}),\
               call('plugin:dialog|open', {options: {}}),\
               call('plugin:shell|execute', {program: 'sh', args: []}),\
             ]).then(done);",
            vec![],
        )
        .await;
    let answers: Vec<String> = serde_json::from_value(answers).unwrap();
    // The CSP holds: no code from strings, no script from elsewhere.
    let evaled = session
        .execute(
            "try { return String(eval('40 + 2')); } catch (e) { return 'blocked: ' + e.name; }",
            vec![],
        )
        .await;
    assert_eq!(evaled, "blocked: EvalError", "eval is refused by the CSP");
    assert_eq!(answers[0], "allowed", "{answers:?}");
    for refused in &answers[1..] {
        assert!(refused.starts_with("refused"), "{answers:?}");
    }
    let opened_urls = std::fs::read_to_string(&opened).unwrap_or_default();
    assert!(!opened_urls.contains("example.invalid"), "{opened_urls}");
    session.end().await;
}

/// "Try the demo" starts the app with `--demo`: the built-in emulator and
/// sample renders, said to be a demo, the user's settings untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_the_app_on_the_emulator_and_says_so() {
    let _one = ONE_APP.lock().await;
    if !can_run(&["tauri-driver", "WebKitWebDriver"]) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let config = home.join("settings.toml");
    std::fs::write(
        &config,
        "[ui]\nstart_minimized = true\nstart_at_login = false\n",
    )
    .unwrap();
    let before = std::fs::read_to_string(&config).unwrap();
    let driver = driver(&app_env(home, &config), &["POSTFLOW_FRAMEIO_TOKEN"]);
    let session = Session::start_with(&driver.url, &built("postflow-app"), &["--demo"]).await;
    // The window opens (a demo is there to be seen), labelled as a demo.
    session.wait("[data-testid=demo-banner]", 60).await;
    // The first sample render reaches the emulator.
    let first = "[data-testid=item-row][data-file=\"SC01_UNDLM_00412_V002.mov\"][data-status=done]";
    session.wait(first, 120).await;
    shot(&session, "app-demo-board").await;
    session.end().await;
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        before,
        "the user's settings are untouched"
    );
    let queue = home.join("data").join(postflow_service::QUEUE_FILE);
    assert!(
        !queue.exists() || {
            let q = postflow_queue::Queue::open(&queue).unwrap();
            q.with_status(&[postflow_queue::StatusKind::Done], 10)
                .unwrap()
                .is_empty()
        },
        "the user's queue has none of the demo's items"
    );
}

/// Chooses `folder` in the app's open GTK folder picker through AT-SPI
/// (`support/gtk-pick-folder.py`): WebDriver reaches the webview only.
async fn pick_in_native_dialog(folder: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/gtk-pick-folder.py");
    let folder = folder.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        // Debian's python3, where python3-gi is (not a pyenv one).
        Command::new("/usr/bin/python3")
            .arg(&script)
            .arg("postflow")
            .arg(&folder)
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs the AT-SPI picker driver");
    assert!(
        out.status.success(),
        "the native folder picker was driven: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
