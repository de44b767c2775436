//! `postflow signin` end to end: the "browser" (a script named by $BROWSER)
//! follows the IMS redirect to the CLI's loopback listener; the tokens land
//! in the real OS keychain and work against the Frame.io emulator.

mod support;

use std::os::unix::fs::PermissionsExt;

use postflow_frameio_emulator::{Emulator, EmulatorConfig};
use postflow_secrets::{KeychainStatus, Origin, SecretKind, SecretStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signin_opens_the_browser_and_keeps_the_tokens_in_the_keychain() {
    let service = format!("io.postflow.test.signin.{}", std::process::id());
    let store = SecretStore::open_with(&service, |_| None);
    if let KeychainStatus::Unavailable { reason } = store.keychain_status() {
        assert!(
            std::env::var_os("POSTFLOW_REQUIRE_KEYCHAIN").is_none(),
            "POSTFLOW_REQUIRE_KEYCHAIN is set but there is no keychain: {reason}"
        );
        eprintln!("SKIPPED: no keychain ({reason})");
        return;
    }
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emu.register_client("postflow-cli-test", None);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("settings.toml");
    std::fs::write(
        &config,
        format!(
            "[frameio]\napi_base_url = \"{base}\"\nims_base_url = \"{base}\"\nclient_id = \"postflow-cli-test\"\n\
             redirect_uri = \"http://127.0.0.1:{port}/callback\"\naccount_id = \"{account}\"\n",
            base = emu.base_url(),
            account = emu.account_id()
        ),
    )
    .unwrap();
    let browser = home.path().join("browser.sh");
    std::fs::write(
        &browser,
        "#!/bin/sh\nsleep 0.3\nexec curl -sSL --max-time 20 \"$1\" > /dev/null\n",
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut cmd = support::postflow(home.path());
    cmd.arg("--config")
        .arg(&config)
        .args(["signin", "--timeout", "30"])
        .env("BROWSER", &browser)
        .env("POSTFLOW_KEYCHAIN_SERVICE", &service);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("Signed in to Frame.io as"), "{stdout}");
    assert_eq!(emu.stats().grants_for("authorization_code"), 1);

    let (tokens, origin) = store
        .frameio_tokens()
        .unwrap()
        .expect("tokens in the keychain");
    assert_eq!(origin, Origin::Keychain);
    assert!(tokens.refresh_token.is_some() && tokens.expires_at.is_some());
    // Nothing secret was printed.
    use postflow_secrets::secrecy::ExposeSecret;
    assert!(
        !stdout.contains(tokens.access_token.expose_secret())
            && !stderr.contains(tokens.access_token.expose_secret())
    );
    store.delete(SecretKind::FrameioTokens).unwrap();
}

#[test]
fn signin_without_a_client_id_says_what_to_set() {
    let home = tempfile::tempdir().unwrap();
    let out = support::postflow(home.path())
        .arg("--config")
        .arg(home.path().join("none.toml"))
        .arg("signin")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("frameio.client_id is not set"), "{stderr}");
}
