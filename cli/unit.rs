//! `postflow service install | uninstall`: PostFlow as a systemd service.
//!
//! [`unit_text`] is the one place the unit is written, a pure function: the
//! CLI installs its text, `--print` shows it, and the `.deb` ships what
//! `postflow service install --system --print --exec-path /usr/bin/postflow`
//! prints (scripts/deb.sh).
//!
//! A system service runs as the dedicated user `postflow`, sandboxed (every
//! directive below was checked against `systemd.exec(5)` of systemd 252,
//! Debian 12's; the oldest systemd it is meant for is 247, the first with
//! `LoadCredential=`). Secrets never sit in the unit or the environment:
//! PID 1 reads `/etc/postflow/credentials/<name>` (root only) and hands the
//! service a private copy in `$CREDENTIALS_DIRECTORY`, which
//! `postflow_secrets` reads (see `crates/secrets/src/credentials.rs`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode};

use anyhow::Context;
use postflow_secrets::SecretKind;

/// The unit's file name.
pub const UNIT_NAME: &str = "postflow.service";
/// The dedicated user (and group) of the system service.
pub const SERVICE_USER: &str = "postflow";
/// The system service's places (`StateDirectory=`, `LogsDirectory=`,
/// `ConfigurationDirectory=` create the first three).
pub const SYSTEM_DATA_DIR: &str = "/var/lib/postflow";
pub const SYSTEM_LOG_DIR: &str = "/var/log/postflow";
pub const SYSTEM_CONFIG: &str = "/etc/postflow/settings.toml";
pub const SYSTEM_CREDENTIALS_DIR: &str = "/etc/postflow/credentials";
const SYSTEM_UNIT_DIR: &str = "/etc/systemd/system";
/// What every unit written here starts with: uninstall removes only these.
const MARKER: &str = "# PostFlow systemd unit";

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write the systemd unit postflow.service that runs `postflow run`
    /// (--system: as the user postflow, sandboxed, secrets as systemd
    /// credentials; --user: in your own service manager).
    Install(InstallArgs),
    /// Remove the unit `install` wrote; data, settings, credentials and the
    /// user postflow are kept.
    Uninstall(ScopeArgs),
}

#[derive(clap::Args)]
pub struct ScopeArgs {
    /// Your own service manager: ~/.config/systemd/user/postflow.service
    /// (the default when not root).
    #[arg(long, conflicts_with = "system")]
    user: bool,
    /// The system's: /etc/systemd/system/postflow.service, run as the user
    /// postflow (the default as root).
    #[arg(long)]
    system: bool,
    /// For tests and packaging: read and write everything under DIR instead
    /// of / (the user postflow is still created on this machine).
    #[arg(long, hide = true, value_name = "DIR", env = "POSTFLOW_SERVICE_ROOT")]
    root: Option<PathBuf>,
    /// Replace a unit that differs (install), or remove one PostFlow did
    /// not write (uninstall).
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
pub struct InstallArgs {
    #[command(flatten)]
    scope: ScopeArgs,
    /// The BY_SHOT folder the service reads (read-only in the sandbox);
    /// default: `watch.root` of the settings file.
    #[arg(long, value_name = "PATH")]
    watch_root: Option<PathBuf>,
    /// Print the unit on standard output and write nothing.
    #[arg(long)]
    print: bool,
    /// The postflow binary the unit starts; default: this one.
    #[arg(long, value_name = "PATH")]
    exec_path: Option<PathBuf>,
    /// For scripts/deb.sh: the unit the package ships (reads no settings).
    #[arg(long, hide = true)]
    packaged: bool,
}

/// Which service manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    System,
    User,
}

/// What the unit is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSpec {
    pub scope: Scope,
    /// The absolute path of the postflow binary.
    pub exec: PathBuf,
    /// The settings file (`--config`); a system unit always has one.
    pub config: Option<PathBuf>,
    /// The BY_SHOT folder, if known.
    pub watch_root: Option<PathBuf>,
    /// Written by the package rather than `service install` (the header
    /// says how to turn it on).
    pub packaged: bool,
}

/// A path or word as one systemd unit-file token: `%` doubled (specifiers),
/// `$` doubled where the line expands variables, and quoted when it holds
/// spaces or quotes (systemd unquotes C-style). Control characters cannot
/// be written into a unit and are refused.
fn token(text: &str, expands_vars: bool) -> anyhow::Result<String> {
    anyhow::ensure!(
        !text.chars().any(char::is_control),
        "{text:?} holds a control character, which a systemd unit cannot carry"
    );
    let mut out = text.replace('%', "%%");
    if expands_vars {
        out = out.replace('$', "$$");
    }
    if out.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '\\') {
        out = format!("\"{}\"", out.replace('\\', "\\\\").replace('"', "\\\""));
    }
    Ok(out)
}

fn path_token(path: &Path, expands_vars: bool) -> anyhow::Result<String> {
    let text = path
        .to_str()
        .with_context(|| format!("{} is not valid UTF-8", path.display()))?;
    anyhow::ensure!(
        path.is_absolute(),
        "{text} is not an absolute path; systemd needs one"
    );
    token(text, expands_vars)
}

/// Under one of the trees `ProtectHome=` hides.
fn under_home(path: &Path) -> bool {
    ["/home", "/root", "/run/user"]
        .iter()
        .any(|h| path.starts_with(h))
}

/// Under one of the trees `PrivateTmp=` replaces.
fn under_tmp(path: &Path) -> bool {
    ["/tmp", "/var/tmp"].iter().any(|t| path.starts_with(t))
}

/// The unit text. Pure: the same spec always gives the same bytes.
pub fn unit_text(spec: &UnitSpec) -> anyhow::Result<String> {
    let mut u = String::new();
    let system = spec.scope == Scope::System;
    let version = env!("CARGO_PKG_VERSION");
    // Writing to a String cannot fail.
    let mut line = |text: &str| {
        u.push_str(text);
        u.push('\n');
    };
    line(&format!(
        "{MARKER} ({}), PostFlow {version}.",
        if system { "system" } else { "user" }
    ));
    if spec.packaged {
        line("# Shipped by the postflow package, disabled: `systemctl enable --now postflow`");
        line("# once /etc/postflow/settings.toml and the Frame.io credential are in place;");
        line("# `postflow service install --system --watch-root PATH` writes a tailored");
        line("# copy in /etc/systemd/system (which takes precedence over this one).");
    } else {
        line(&format!(
            "# Written by `postflow service install --{}`; run it again rather than",
            if system { "system" } else { "user" }
        ));
        line("# editing this file. Local changes go in a drop-in: `systemctl edit postflow`.");
    }
    line("#");
    line("# Secrets are systemd credentials, never this file nor the environment: the");
    line("# service manager reads each file below and hands the service a private copy");
    line("# in $CREDENTIALS_DIRECTORY, which PostFlow reads (LoadCredential=, systemd 247).");
    line("# SetCredential=<name>:\\n is the fallback when a file is missing: a lone newline,");
    line("# which PostFlow reads as \"not set\" (without it the start fails, 243/CREDENTIALS).");
    line("# Encrypted instead (systemd 250): `systemd-creds encrypt");
    line("# --name=frameio-token - <file>.cred`, and in the drop-in, after `LoadCredential=`");
    line("# (which empties the list), `LoadCredentialEncrypted=frameio-token:<file>.cred`.");
    line("");
    line("[Unit]");
    line("Description=PostFlow: uploads finished renders from BY_SHOT to Frame.io");
    line("Wants=network-online.target");
    line("After=network-online.target remote-fs.target");
    line("");
    line("[Service]");
    line("Type=simple");

    let mut exec = path_token(&spec.exec, true)?;
    let config = match (&spec.config, system) {
        (Some(c), _) => Some(c.clone()),
        (None, true) => Some(PathBuf::from(SYSTEM_CONFIG)),
        (None, false) => None,
    };
    if let Some(config) = &config {
        write!(exec, " --config {}", path_token(config, true)?).unwrap();
    }
    exec.push_str(" run");
    if system {
        line(&format!("User={SERVICE_USER}"));
        line(&format!("Group={SERVICE_USER}"));
    }
    line(&format!("ExecStart={exec}"));
    line("Restart=on-failure");
    line("RestartSec=5");
    if system {
        line("# The queue and, with POSTFLOW_LOG_FILES=1, daily log files (the journal keeps");
        line("# the log otherwise: `journalctl -u postflow`).");
        line(&format!("Environment=POSTFLOW_DATA_DIR={SYSTEM_DATA_DIR}"));
        line(&format!("Environment=POSTFLOW_LOG_DIR={SYSTEM_LOG_DIR}"));
        line("StateDirectory=postflow");
        line("LogsDirectory=postflow");
        line("ConfigurationDirectory=postflow");
        line(&format!(
            "ReadWritePaths={SYSTEM_DATA_DIR} {SYSTEM_LOG_DIR}"
        ));
    }

    let creds = if system {
        SYSTEM_CREDENTIALS_DIR.to_string()
    } else {
        // %E: $XDG_CONFIG_HOME in a user manager.
        "%E/postflow/credentials".to_string()
    };
    for kind in SecretKind::ALL {
        let name = kind.credential();
        line(&format!("LoadCredential={name}:{creds}/{name}"));
        // systemd refuses an empty SetCredential= value ("Invalid syntax",
        // checked with systemd-analyze 252); "\n" unescapes to a newline.
        line(&format!("SetCredential={name}:\\n"));
    }

    line("");
    line("# Sandbox (`systemd-analyze security postflow` scores it).");
    if system {
        match &spec.watch_root {
            Some(root) => {
                // PostFlow only reads BY_SHOT. "-": a filespace not mounted yet
                // does not stop the start (PostFlow waits for it).
                line(&format!("ReadOnlyPaths=-{}", path_token(root, false)?));
            }
            None => line(
                "# No BY_SHOT given (--watch-root): everything outside /home is read-only anyway.",
            ),
        }
        let home = spec.watch_root.as_deref().is_some_and(under_home);
        line(&format!(
            "ProtectHome={}",
            if home { "read-only" } else { "yes" }
        ));
        line("ProtectSystem=strict");
        let tmp = spec.watch_root.as_deref().is_some_and(under_tmp);
        if tmp {
            line("# BY_SHOT is under a temporary directory, which PrivateTmp= would hide.");
        }
        line(&format!("PrivateTmp={}", if tmp { "no" } else { "yes" }));
        line("PrivateDevices=yes");
        line("ProtectKernelTunables=yes");
        line("ProtectKernelModules=yes");
        line("ProtectKernelLogs=yes");
        line("ProtectControlGroups=yes");
        line("ProtectClock=yes");
        line("ProtectHostname=yes");
        // Not ProcSubset=pid: it hides /proc/mounts, where the watch root's
        // free space is looked up (sysinfo's disk list).
        line("ProtectProc=invisible");
        line("CapabilityBoundingSet=");
        line("RemoveIPC=yes");
    } else {
        line("# File-system sandboxing (ProtectSystem=, PrivateTmp=...) needs PrivateUsers= in a");
        line("# user manager, which would also hide who owns the filespace's files: left out.");
    }
    line("NoNewPrivileges=yes");
    line("RestrictNamespaces=yes");
    line("RestrictRealtime=yes");
    line("RestrictSUIDSGID=yes");
    line("LockPersonality=yes");
    line("MemoryDenyWriteExecute=yes");
    line("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6");
    line("SystemCallArchitectures=native");
    line("SystemCallFilter=@system-service");
    line("SystemCallFilter=~@privileged @resources");
    line("SystemCallErrorNumber=EPERM");
    line("UMask=0077");
    line("");
    line("[Install]");
    line(&format!(
        "WantedBy={}",
        if system {
            "multi-user.target"
        } else {
            "default.target"
        }
    ));
    Ok(u)
}

/// `postflow service ...`. `config` is the global `--config` (or
/// `POSTFLOW_CONFIG`).
pub fn run(command: Command, config: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    match command {
        Command::Install(args) => install(args, config),
        Command::Uninstall(args) => uninstall(args),
    }
}

fn is_root() -> bool {
    // The effective uid: the second field of /proc/self/status's Uid line.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

fn scope_of(args: &ScopeArgs) -> Scope {
    if args.user {
        Scope::User
    } else if args.system || is_root() {
        Scope::System
    } else {
        Scope::User
    }
}

/// `path` (absolute) under the test or packaging root, if any.
fn rooted(root: Option<&Path>, path: &Path) -> PathBuf {
    match root {
        Some(r) => r.join(path.strip_prefix("/").unwrap_or(path)),
        None => path.to_path_buf(),
    }
}

fn home() -> anyhow::Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .context("HOME is not set, so the user unit's place is unknown; use --system")
}

/// Where the unit goes (not yet under `--root`).
fn unit_path(scope: Scope) -> anyhow::Result<PathBuf> {
    Ok(match scope {
        Scope::System => Path::new(SYSTEM_UNIT_DIR).join(UNIT_NAME),
        Scope::User => {
            let config = std::env::var_os("XDG_CONFIG_HOME")
                .filter(|c| !c.is_empty())
                .map(PathBuf::from)
                .map_or_else(|| home().map(|h| h.join(".config")), Ok)?;
            config.join("systemd/user").join(UNIT_NAME)
        }
    })
}

/// The user unit's credentials folder (what `%E/postflow/credentials` is).
fn user_credentials_dir() -> anyhow::Result<PathBuf> {
    Ok(unit_path(Scope::User)?
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .context("the user unit's folder has no parent")?
        .join("postflow/credentials"))
}

/// Whether systemd is the running init (sd_booted(3)'s test).
fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

fn install(args: InstallArgs, config: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let scope = scope_of(&args.scope);
    let root = args.scope.root.as_deref();
    let exec = match args.exec_path {
        Some(p) => p,
        None => std::env::current_exe()
            .context("cannot tell where this postflow binary is; give --exec-path")?,
    };
    anyhow::ensure!(
        exec.is_absolute(),
        "--exec-path {} is not absolute; systemd needs the full path",
        exec.display()
    );
    let config = match (config, scope) {
        (Some(c), _) => Some(std::path::absolute(&c).unwrap_or(c)),
        (None, Scope::System) => Some(PathBuf::from(SYSTEM_CONFIG)),
        (None, Scope::User) => None,
    };
    let settings_file = match &config {
        Some(c) => rooted(root, c),
        None => postflow_settings::Paths::resolve(None)?.config_file,
    };
    let configured_root = if args.packaged {
        None
    } else {
        configured_watch_root(&settings_file)
    };
    let watch_root = match args.watch_root {
        Some(w) => {
            let w = std::path::absolute(&w).unwrap_or(w);
            if let Some(c) = configured_root.as_ref().filter(|c| **c != w) {
                eprintln!(
                    "warning: {} sets watch.root = {}, not {}: the service watches the settings' folder; change one of them",
                    settings_file.display(),
                    c.display(),
                    w.display()
                );
            }
            Some(w)
        }
        None => configured_root,
    };
    let spec = UnitSpec {
        scope,
        exec,
        config: config.clone(),
        watch_root,
        packaged: args.packaged,
    };
    let text = unit_text(&spec)?;
    if scope == Scope::System && (under_home(&spec.exec) || under_tmp(&spec.exec)) {
        eprintln!(
            "warning: the unit starts {}, which its sandbox hides (ProtectHome=, PrivateTmp=): \
             copy postflow to /usr/local/bin and give --exec-path /usr/local/bin/postflow",
            spec.exec.display()
        );
    }
    if args.print {
        if spec.watch_root.is_none() && scope == Scope::System && !args.packaged {
            eprintln!("note: no BY_SHOT folder known (--watch-root, or watch.root in {}): the unit names none", settings_file.display());
        }
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    if scope == Scope::System && !is_root() {
        eprintln!(
            "A system service needs root to install (it writes {SYSTEM_UNIT_DIR}/{UNIT_NAME} and creates the user {SERVICE_USER}).\n\
             Run: sudo {} service install --system{}\n\
             Or run PostFlow under your own service manager instead: postflow service install --user\n\
             (--print shows the unit without writing anything.)",
            spec.exec.display(),
            spec.watch_root
                .as_ref()
                .map(|w| format!(" --watch-root {}", shell_word(&w.to_string_lossy())))
                .unwrap_or_default()
        );
        return Ok(ExitCode::from(2));
    }

    let dest = rooted(root, &unit_path(scope)?);
    let existing = std::fs::read_to_string(&dest).ok();
    if existing.as_ref().is_some_and(|e| *e != text) && !args.scope.force {
        // The same command with --print shows what would be written.
        let again: Vec<String> = std::env::args()
            .map(|a| shell_word(&a))
            .chain(["--print".to_string()])
            .collect();
        eprintln!(
            "{} exists and differs from the unit PostFlow would write; nothing changed.\n\
             Compare: {} | diff {} -\n\
             Replace it: add --force.",
            dest.display(),
            again.join(" "),
            shell_word(&dest.to_string_lossy())
        );
        return Ok(ExitCode::FAILURE);
    }
    if scope == Scope::System {
        ensure_service_user()?;
    }
    if existing.as_ref() == Some(&text) {
        println!("{} is already this unit; left as it is.", dest.display());
    } else {
        write_file(&dest, &text, 0o644)?;
        println!("Wrote {}.", dest.display());
    }
    let creds = match scope {
        Scope::System => PathBuf::from(SYSTEM_CREDENTIALS_DIR),
        Scope::User => user_credentials_dir()?,
    };
    create_private_dir(&rooted(root, &creds))?;

    let verified = verify(&dest, scope);
    print_next_steps(&spec, &creds, config.as_deref());
    Ok(if verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `watch.root` of the settings file, if it sets one.
fn configured_watch_root(settings_file: &Path) -> Option<PathBuf> {
    if !settings_file.is_file() {
        return None;
    }
    let root = postflow_settings::load(settings_file).settings.watch.root;
    (!root.as_os_str().is_empty()).then_some(root)
}

/// Creates the user and group `postflow` unless they exist. The home is
/// the state directory (systemd creates it at start; not made here).
fn ensure_service_user() -> anyhow::Result<()> {
    let exists = Process::new("getent")
        .args(["passwd", SERVICE_USER])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if exists {
        return Ok(());
    }
    let status = Process::new("useradd")
        .args([
            "--system",
            "--user-group",
            "--home-dir",
            SYSTEM_DATA_DIR,
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "--comment",
            "PostFlow service",
            SERVICE_USER,
        ])
        .status()
        .context(
            "cannot run useradd to create the user postflow (is the passwd package installed?)",
        )?;
    anyhow::ensure!(
        status.success(),
        "useradd could not create the user {SERVICE_USER} ({status})"
    );
    println!("Created the system user {SERVICE_USER} (home {SYSTEM_DATA_DIR}, no login shell).");
    Ok(())
}

/// Writes `text` atomically (a temporary file in the same folder, then a
/// rename), with `mode`.
fn write_file(dest: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = dest.parent().context("the unit path has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        dest.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        set_mode(&tmp, mode)?;
        std::fs::rename(&tmp, dest)?;
        anyhow::Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.with_context(|| format!("cannot write {}", dest.display()))
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))
}

/// The credentials folder: only its owner may enter it.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    set_mode(dir, 0o700)
}

/// `systemd-analyze verify` on the unit, when systemd-analyze is there.
/// Returns false when it reports a problem.
fn verify(unit: &Path, scope: Scope) -> bool {
    let mut cmd = Process::new("systemd-analyze");
    // A user manager needs a runtime directory; a root shell or a server
    // session may have none: a scratch one does (verify writes nothing
    // lasting in it).
    let mut scratch = None;
    if scope == Scope::User {
        cmd.arg("--user");
        if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
            let dir = std::env::temp_dir().join(format!("postflow-verify-{}", std::process::id()));
            if std::fs::create_dir_all(&dir).is_ok() && set_mode(&dir, 0o700).is_ok() {
                cmd.env("XDG_RUNTIME_DIR", &dir);
                scratch = Some(dir);
            }
        }
    }
    cmd.arg("verify").arg(unit);
    let output = cmd.output();
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    match output {
        Err(_) => {
            println!("(systemd-analyze is not installed: the unit was not verified)");
            true
        }
        Ok(out) => {
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let said = said.trim();
            // It exits 0 on warnings such as an unknown key: anything it
            // says is a problem worth a look.
            if out.status.success() && said.is_empty() {
                println!("systemd-analyze verify: no problem found.");
                true
            } else {
                eprintln!(
                    "systemd-analyze verify found problems in {}:\n{said}",
                    unit.display()
                );
                false
            }
        }
    }
}

/// `text` as one word for a POSIX shell.
fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

fn print_next_steps(spec: &UnitSpec, creds: &Path, config: Option<&Path>) {
    let bin = shell_word(&spec.exec.to_string_lossy());
    let system = spec.scope == Scope::System;
    let config_arg = config
        .map(|c| format!(" --config {}", shell_word(&c.to_string_lossy())))
        .unwrap_or_default();
    let creds = shell_word(&creds.to_string_lossy());
    let systemctl = if system {
        "systemctl"
    } else {
        "systemctl --user"
    };
    println!();
    println!("Next:");
    println!(
        "  1. The settings{}: `{bin}{config_arg} config init` writes a commented file if there is none;",
        config.map(|c| format!(" ({})", c.display())).unwrap_or_default()
    );
    println!(
        "     set watch.root{} and frameio.account_id / project_id, then `{bin}{config_arg} config check`.",
        spec.watch_root
            .as_ref()
            .map(|w| format!(" (the unit reads {})", w.display()))
            .unwrap_or_default()
    );
    println!(
        "  2. The Frame.io token as a credential{} (typed without echo, never in the shell history):",
        if system {
            ", readable by root only: systemd hands the service its own copy"
        } else {
            ""
        }
    );
    println!("       systemd-ask-password -n 'Frame.io token:' | install -m 0400 /dev/stdin {creds}/frameio-token");
    if system {
        println!("     or encrypted with this machine's key (systemd 250 and later):");
        println!("       systemd-ask-password -n 'Frame.io token:' | systemd-creds encrypt --name=frameio-token - {creds}/frameio-token.cred");
        println!("       systemctl edit postflow   # then: [Service] LoadCredential=  and  LoadCredentialEncrypted=frameio-token:{creds}/frameio-token.cred");
    }
    println!("     The Discord webhook likewise in {creds}/discord-webhook, the web UI key in {creds}/gui-key (both optional).");
    println!("  3. {systemctl} daemon-reload && {systemctl} enable --now postflow");
    if !system {
        println!("     To run it while you are logged out: loginctl enable-linger \"$USER\"");
    }
    println!(
        "  4. The log: journalctl {}-u postflow -f",
        if system { "" } else { "--user " }
    );
    if system {
        println!(
            "     Its state: runuser -u {SERVICE_USER} -- env POSTFLOW_DATA_DIR={SYSTEM_DATA_DIR} {bin}{config_arg} status"
        );
    } else {
        println!("     Its state: {bin}{config_arg} status");
    }
    if !systemd_running() {
        println!("(systemd is not running on this machine (not PID 1): steps 3 and 4 need a machine booted with systemd)");
    }
}

fn uninstall(args: ScopeArgs) -> anyhow::Result<ExitCode> {
    let scope = scope_of(&args);
    let root = args.root.as_deref();
    if scope == Scope::System && !is_root() && root.is_none() {
        eprintln!(
            "Removing the system service needs root: sudo postflow service uninstall --system"
        );
        return Ok(ExitCode::from(2));
    }
    let dest = rooted(root, &unit_path(scope)?);
    let existing = match std::fs::read_to_string(&dest) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("No unit at {}: nothing to remove.", dest.display());
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dest.display())),
    };
    if !existing.starts_with(MARKER) && !args.force {
        eprintln!(
            "{} was not written by `postflow service install`; left as it is (--force removes it).",
            dest.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    let systemctl: &[&str] = if scope == Scope::System {
        &["systemctl"]
    } else {
        &["systemctl", "--user"]
    };
    let live = systemd_running() && root.is_none();
    if live {
        let status = Process::new(systemctl[0])
            .args(&systemctl[1..])
            .args(["disable", "--now", UNIT_NAME])
            .status();
        match status {
            Ok(s) if s.success() => println!("Stopped and disabled {UNIT_NAME}."),
            _ => eprintln!(
                "warning: `{} disable --now {UNIT_NAME}` failed; the unit is removed anyway",
                systemctl.join(" ")
            ),
        }
    }
    std::fs::remove_file(&dest).with_context(|| format!("cannot remove {}", dest.display()))?;
    println!("Removed {}.", dest.display());
    if live {
        let _ = Process::new(systemctl[0])
            .args(&systemctl[1..])
            .arg("daemon-reload")
            .status();
    } else {
        println!(
            "Nothing was stopped: {}. Where the service runs: `{} disable --now {UNIT_NAME} && {} daemon-reload`.",
            if root.is_some() {
                "--root names a tree, not this machine's systemd"
            } else {
                "systemd is not PID 1 here"
            },
            systemctl.join(" "),
            systemctl.join(" ")
        );
    }
    match scope {
        Scope::System => println!(
            "Kept: the queue in {SYSTEM_DATA_DIR}, the settings and credentials in /etc/postflow, the logs in {SYSTEM_LOG_DIR}, and the user {SERVICE_USER} (`userdel {SERVICE_USER}` removes it)."
        ),
        Scope::User => println!("Kept: PostFlow's settings, queue, logs and credentials."),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(scope: Scope, watch_root: Option<&str>) -> UnitSpec {
        UnitSpec {
            scope,
            exec: PathBuf::from("/usr/bin/postflow"),
            config: None,
            watch_root: watch_root.map(PathBuf::from),
            packaged: false,
        }
    }

    fn lines(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with('#')).collect()
    }

    #[test]
    fn the_system_unit_runs_sandboxed_as_the_dedicated_user() {
        let text = unit_text(&spec(Scope::System, Some("/mnt/lucid/BY_SHOT"))).unwrap();
        let l = lines(&text);
        for want in [
            "User=postflow",
            "Group=postflow",
            "Type=simple",
            "ExecStart=/usr/bin/postflow --config /etc/postflow/settings.toml run",
            "Restart=on-failure",
            "RestartSec=5",
            "Environment=POSTFLOW_DATA_DIR=/var/lib/postflow",
            "Environment=POSTFLOW_LOG_DIR=/var/log/postflow",
            "StateDirectory=postflow",
            "LogsDirectory=postflow",
            "ConfigurationDirectory=postflow",
            "ReadWritePaths=/var/lib/postflow /var/log/postflow",
            "ReadOnlyPaths=-/mnt/lucid/BY_SHOT",
            "ProtectHome=yes",
            "ProtectSystem=strict",
            "PrivateTmp=yes",
            "PrivateDevices=yes",
            "NoNewPrivileges=yes",
            "ProtectKernelTunables=yes",
            "ProtectKernelModules=yes",
            "ProtectKernelLogs=yes",
            "ProtectControlGroups=yes",
            "ProtectClock=yes",
            "ProtectHostname=yes",
            "RestrictNamespaces=yes",
            "RestrictRealtime=yes",
            "RestrictSUIDSGID=yes",
            "LockPersonality=yes",
            "MemoryDenyWriteExecute=yes",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
            "SystemCallArchitectures=native",
            "SystemCallFilter=@system-service",
            "CapabilityBoundingSet=",
            "UMask=0077",
            "LoadCredential=frameio-token:/etc/postflow/credentials/frameio-token",
            "SetCredential=frameio-token:\\n",
            "LoadCredential=discord-webhook:/etc/postflow/credentials/discord-webhook",
            "LoadCredential=gui-key:/etc/postflow/credentials/gui-key",
            "WantedBy=multi-user.target",
        ] {
            assert!(l.contains(&want), "missing {want:?} in:\n{text}");
        }
        assert!(text.starts_with(MARKER), "{text}");
        // Deterministic: the package and `install` agree byte for byte.
        assert_eq!(
            text,
            unit_text(&spec(Scope::System, Some("/mnt/lucid/BY_SHOT"))).unwrap()
        );
    }

    #[test]
    fn the_user_unit_has_no_user_and_only_what_works_in_a_user_manager() {
        let mut s = spec(Scope::User, Some("/home/ed/Lucid/BY_SHOT"));
        s.config = Some(PathBuf::from("/home/ed/pf.toml"));
        let text = unit_text(&s).unwrap();
        let l = lines(&text);
        assert!(l.contains(&"ExecStart=/usr/bin/postflow --config /home/ed/pf.toml run"));
        assert!(l.contains(&"WantedBy=default.target"), "{text}");
        assert!(l.contains(&"NoNewPrivileges=yes"), "{text}");
        assert!(l.contains(&"UMask=0077"), "{text}");
        assert!(l.contains(&"LoadCredential=frameio-token:%E/postflow/credentials/frameio-token"));
        for absent in [
            "User=",
            "Group=",
            "ProtectSystem=",
            "ProtectHome=",
            "PrivateTmp=",
            "StateDirectory=",
            "Environment=POSTFLOW_DATA_DIR",
            "CapabilityBoundingSet=",
            "ReadOnlyPaths=",
            "multi-user.target",
        ] {
            assert!(
                !l.iter().any(|x| x.starts_with(absent)),
                "{absent} in a user unit:\n{text}"
            );
        }
        // Without --config a user unit uses the user's own settings.
        let text = unit_text(&spec(Scope::User, None)).unwrap();
        assert!(lines(&text).contains(&"ExecStart=/usr/bin/postflow run"));
    }

    #[test]
    fn a_watch_root_under_home_is_read_only_not_hidden() {
        let text = unit_text(&spec(Scope::System, Some("/home/lucid/Film/BY_SHOT"))).unwrap();
        let l = lines(&text);
        assert!(l.contains(&"ProtectHome=read-only"), "{text}");
        assert!(
            l.contains(&"ReadOnlyPaths=-/home/lucid/Film/BY_SHOT"),
            "{text}"
        );
        assert!(!l.contains(&"ProtectHome=yes"));
        // Under /tmp, PrivateTmp= would hide it.
        let text = unit_text(&spec(Scope::System, Some("/tmp/BY_SHOT"))).unwrap();
        assert!(lines(&text).contains(&"PrivateTmp=no"), "{text}");
        // No root known: no ReadOnlyPaths line, home hidden.
        let text = unit_text(&spec(Scope::System, None)).unwrap();
        assert!(!lines(&text).iter().any(|l| l.starts_with("ReadOnlyPaths=")));
        assert!(lines(&text).contains(&"ProtectHome=yes"));
    }

    #[test]
    fn paths_are_quoted_and_escaped_for_systemd() {
        let mut s = spec(Scope::System, Some("/mnt/My Filespace/100%/BY_SHOT"));
        s.exec = PathBuf::from("/opt/Post Flow/postflow");
        s.config = Some(PathBuf::from("/etc/postflow/$weird.toml"));
        let text = unit_text(&s).unwrap();
        let l = lines(&text);
        assert!(
            l.contains(
                &r#"ExecStart="/opt/Post Flow/postflow" --config /etc/postflow/$$weird.toml run"#
            ),
            "{text}"
        );
        assert!(
            l.contains(&r#"ReadOnlyPaths=-"/mnt/My Filespace/100%%/BY_SHOT""#),
            "{text}"
        );
        assert!(unit_text(&spec(Scope::System, Some("/mnt/a\nb"))).is_err());
        assert!(unit_text(&spec(Scope::System, Some("relative/BY_SHOT"))).is_err());
    }

    #[test]
    fn no_secret_is_in_the_unit() {
        let text = unit_text(&spec(Scope::System, Some("/mnt/BY_SHOT"))).unwrap();
        for var in [
            "POSTFLOW_FRAMEIO_TOKEN",
            "POSTFLOW_DISCORD_WEBHOOK_URL",
            "POSTFLOW_GUI_KEY",
        ] {
            assert!(!text.contains(var), "{var} in the unit:\n{text}");
        }
        // Credentials are named by file only; SetCredential= fallbacks are empty.
        for l in lines(&text) {
            if let Some(rest) = l.strip_prefix("SetCredential=") {
                assert!(rest.ends_with(r":\n"), "a SetCredential= with a value: {l}");
            }
            if let Some(rest) = l.strip_prefix("Environment=") {
                assert!(
                    rest.starts_with("POSTFLOW_DATA_DIR=") || rest.starts_with("POSTFLOW_LOG_DIR="),
                    "{l}"
                );
            }
        }
        assert!(!text.contains("discord.com/api/webhooks"));
    }

    #[test]
    fn the_packaged_unit_says_how_to_turn_it_on() {
        let mut s = spec(Scope::System, None);
        s.packaged = true;
        let text = unit_text(&s).unwrap();
        assert!(
            text.contains("disabled: `systemctl enable --now postflow`"),
            "{text}"
        );
        assert!(lines(&text)
            .contains(&"ExecStart=/usr/bin/postflow --config /etc/postflow/settings.toml run"));
    }

    #[test]
    fn shell_words_are_quoted() {
        assert_eq!(shell_word("/usr/bin/postflow"), "/usr/bin/postflow");
        assert_eq!(shell_word("/a b/it's"), r"'/a b/it'\''s'");
    }
}
