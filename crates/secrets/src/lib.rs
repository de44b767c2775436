//! The one owner of PostFlow's secrets: the Frame.io token pair and the
//! Discord webhook URL.
//!
//! Secrets live in the OS keychain (macOS Keychain, Windows Credential
//! Manager, the Secret Service on Linux: gnome-keyring, KWallet). When no
//! keychain is reachable (a headless server), the store says so plainly and
//! accepts secrets from environment variables and from systemd credentials
//! (`$CREDENTIALS_DIRECTORY`, see [`credentials`]) only, never from a file of
//! PostFlow's own. Order: environment, credential, keychain.
//!
//! A secret never reaches a log, an error message or the UI whole: secret
//! types redact themselves in `Debug`, [`DiscordWebhook::masked`] is the only
//! displayable form of the webhook, and every value the store sees is
//! registered with [`redact`] so the log writer scrubs it as a last line of
//! defence.

pub mod credentials;
pub mod redact;
mod webhook;

use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use secrecy;
pub use webhook::{DiscordWebhook, WebhookError};

/// The keychain service name PostFlow's entries are filed under.
pub const SERVICE: &str = "io.postflow.PostFlow";

/// Environment variables read for the static Frame.io token.
pub const FRAMEIO_TOKEN_VARS: &[&str] = &["POSTFLOW_FRAMEIO_TOKEN"];
/// Environment variables read for the Discord webhook URL; the second is the
/// old Python service's name.
pub const DISCORD_WEBHOOK_VARS: &[&str] = &["POSTFLOW_DISCORD_WEBHOOK_URL", "DISCORD_WEBHOOK_URL"];
/// The web UI key on a server without a keychain.
pub const GUI_KEY_VARS: &[&str] = &["POSTFLOW_GUI_KEY"];

/// The secrets PostFlow keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    FrameioTokens,
    DiscordWebhook,
    /// The key of the web UI's API (`postflow run --gui`).
    GuiKey,
}

impl SecretKind {
    /// The keychain entry's account name.
    fn entry(self) -> &'static str {
        match self {
            SecretKind::FrameioTokens => "frameio-tokens",
            SecretKind::DiscordWebhook => "discord-webhook-url",
            SecretKind::GuiKey => "gui-api-key",
        }
    }

    pub fn env_vars(self) -> &'static [&'static str] {
        match self {
            SecretKind::FrameioTokens => FRAMEIO_TOKEN_VARS,
            SecretKind::DiscordWebhook => DISCORD_WEBHOOK_VARS,
            SecretKind::GuiKey => GUI_KEY_VARS,
        }
    }

    /// The systemd credential's name (`LoadCredential=<name>:<file>`), a
    /// file in `$CREDENTIALS_DIRECTORY`. The Frame.io one holds a static
    /// token: a renewable sign-in rotates its refresh token, which a
    /// read-only credential cannot keep.
    pub fn credential(self) -> &'static str {
        match self {
            SecretKind::FrameioTokens => "frameio-token",
            SecretKind::DiscordWebhook => "discord-webhook",
            SecretKind::GuiKey => "gui-key",
        }
    }

    /// Every kind, in the order `postflow service install` lists them.
    pub const ALL: [SecretKind; 3] = [
        SecretKind::FrameioTokens,
        SecretKind::DiscordWebhook,
        SecretKind::GuiKey,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SecretKind::FrameioTokens => "Frame.io sign-in",
            SecretKind::DiscordWebhook => "Discord webhook URL",
            SecretKind::GuiKey => "web UI key",
        }
    }
}

/// Frame.io credentials: an access token and, for OAuth sign-in, the refresh
/// token and the access token's expiry.
#[derive(Clone)]
pub struct FrameioTokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// Unix seconds; `None` for a static token.
    pub expires_at: Option<u64>,
}

impl fmt::Debug for FrameioTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameioTokens")
            .field("access_token", &"••••")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "••••"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl FrameioTokens {
    /// A static bearer token (legacy developer token, or from the environment).
    pub fn static_token(token: impl Into<String>) -> Self {
        Self {
            access_token: SecretString::from(token.into()),
            refresh_token: None,
            expires_at: None,
        }
    }
}

/// The keychain form of [`FrameioTokens`].
#[derive(Serialize, Deserialize)]
struct StoredTokens {
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
}

/// Where a secret came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Keychain,
    Environment(&'static str),
    /// A systemd credential (`$CREDENTIALS_DIRECTORY/<name>`).
    Credential(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Keychain => f.write_str("the OS keychain"),
            Origin::Environment(var) => write!(f, "the environment variable {var}"),
            Origin::Credential(name) => write!(f, "the systemd credential {name}"),
        }
    }
}

/// Whether this machine has a keychain PostFlow can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeychainStatus {
    Available,
    /// No keychain: secrets come from environment variables only. The reason
    /// says what is missing, in words a user can act on.
    Unavailable {
        reason: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no OS keychain is reachable ({reason}); on a headless server, give it to the service as the systemd credential {credential} (LoadCredential=) or set {vars} in its environment instead")]
    NoKeychain {
        reason: String,
        vars: String,
        credential: &'static str,
    },
    #[error("the OS keychain refused the request: {0}")]
    Keychain(String),
    #[error("the stored {0} is damaged; set it again")]
    Corrupt(&'static str),
    #[error("{var} is set but {problem}")]
    BadEnvironment { var: &'static str, problem: String },
    #[error("the systemd credential {name} {problem}")]
    BadCredential { name: &'static str, problem: String },
    #[error(transparent)]
    Webhook(#[from] WebhookError),
}

impl SecretError {
    /// Whether trying again later may succeed without the user doing anything
    /// (a keychain daemon that was busy or still starting).
    pub fn is_transient(&self) -> bool {
        matches!(self, SecretError::Keychain(_))
    }

    /// What to do about it: a busy keychain is worth retrying; no keychain,
    /// a damaged entry or a bad variable needs a person; a webhook URL that
    /// is not Discord's will not be accepted as it is.
    pub fn disposition(&self) -> postflow_core::Disposition {
        use postflow_core::Disposition::*;
        match self {
            SecretError::Keychain(_) => Transient,
            SecretError::NoKeychain { .. }
            | SecretError::Corrupt(_)
            | SecretError::BadEnvironment { .. }
            | SecretError::BadCredential { .. } => NeedsUser,
            SecretError::Webhook(_) => Permanent,
        }
    }
}

impl From<SecretError> for postflow_core::ApiError {
    fn from(e: SecretError) -> Self {
        let fix = match &e {
            SecretError::Keychain(_) => "try again; unlock the keychain if the system asks",
            SecretError::NoKeychain { .. } => "start a keychain (Secret Service) for this session, or set the variables named above",
            SecretError::Corrupt(_) => "store it again",
            SecretError::BadEnvironment { .. } => "correct the variable in the service's environment",
            SecretError::BadCredential { .. } => "write the value alone in the credential's file (`install -m 0400`), then restart the service",
            SecretError::Webhook(_) => "paste the webhook URL from Discord: Server Settings → Integrations → Webhooks → Copy Webhook URL",
        };
        postflow_core::ApiError::new(e.disposition(), e.to_string()).with_fix(fix)
    }
}

/// Where environment variables are read from (the process's, or a test's).
type EnvSource = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Reads and writes PostFlow's secrets.
pub struct SecretStore {
    service: String,
    keychain: KeychainStatus,
    env: EnvSource,
    /// `$CREDENTIALS_DIRECTORY`, read once when the store opens.
    credentials: Option<PathBuf>,
    /// Credentials already warned about (each is read again on every use).
    warned: Mutex<Vec<&'static str>>,
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("service", &self.service)
            .field("keychain", &self.keychain)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl SecretStore {
    /// The store for this user: PostFlow's keychain entries, and the process
    /// environment. Probes the keychain once. `POSTFLOW_KEYCHAIN_SERVICE`
    /// files the entries under another service name (tests use it so they
    /// never touch a user's real sign-in).
    pub fn open() -> Self {
        let service = std::env::var("POSTFLOW_KEYCHAIN_SERVICE")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| SERVICE.to_string());
        Self::open_with(&service, |k| std::env::var(k).ok())
    }

    /// A store under another keychain service name (tests use their own so
    /// they never touch a user's real entries) and another environment.
    pub fn open_with(
        service: &str,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        let keychain = probe(service);
        match &keychain {
            KeychainStatus::Available => tracing::debug!(service, "OS keychain available"),
            // A system service has no keychain by design: its secrets are
            // credentials, nothing to warn about.
            KeychainStatus::Unavailable { reason }
                if env(credentials::DIRECTORY_VAR).is_some_and(|d| !d.trim().is_empty()) =>
            {
                tracing::info!(
                    "no OS keychain ({reason}): secrets are read from systemd credentials and environment variables"
                )
            }
            KeychainStatus::Unavailable { reason } => tracing::warn!(
                "no OS keychain ({reason}): secrets are read from environment variables only"
            ),
        }
        Self::with_parts(service, keychain, env)
    }

    fn with_parts(
        service: &str,
        keychain: KeychainStatus,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        let credentials = env(credentials::DIRECTORY_VAR)
            .filter(|d| !d.trim().is_empty())
            .map(PathBuf::from);
        if let Some(dir) = &credentials {
            tracing::debug!(dir = %dir.display(), "reading systemd credentials");
        }
        Self {
            service: service.to_string(),
            keychain,
            env: Box::new(env),
            credentials,
            warned: Mutex::new(Vec::new()),
        }
    }

    /// A store that never touches a keychain, as on a server without one.
    pub fn environment_only(
        reason: &str,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        Self::with_parts(
            SERVICE,
            KeychainStatus::Unavailable {
                reason: reason.to_string(),
            },
            env,
        )
    }

    pub fn keychain_status(&self) -> &KeychainStatus {
        &self.keychain
    }

    /// The Frame.io credentials: the environment's static token if set,
    /// else the systemd credential's, else the keychain's token pair.
    pub fn frameio_tokens(&self) -> Result<Option<(FrameioTokens, Origin)>, SecretError> {
        if let Some((var, token)) = self.env_value(SecretKind::FrameioTokens) {
            if token.trim().is_empty() || token.contains(char::is_whitespace) {
                return Err(SecretError::BadEnvironment {
                    var,
                    problem: "is not a token (it is empty or contains spaces)".into(),
                });
            }
            return Ok(Some((
                FrameioTokens::static_token(token),
                Origin::Environment(var),
            )));
        }
        if let Some((name, token)) = self.credential_value(SecretKind::FrameioTokens)? {
            if token.contains(char::is_whitespace) {
                return Err(SecretError::BadCredential {
                    name,
                    problem: "is not a token (it contains spaces or several lines)".into(),
                });
            }
            return Ok(Some((
                FrameioTokens::static_token(token),
                Origin::Credential(name),
            )));
        }
        let Some(text) = self.read(SecretKind::FrameioTokens)? else {
            return Ok(None);
        };
        let stored: StoredTokens =
            serde_json::from_str(&text).map_err(|_| SecretError::Corrupt("Frame.io sign-in"))?;
        redact::register(&stored.access_token);
        if let Some(r) = &stored.refresh_token {
            redact::register(r);
        }
        Ok(Some((
            FrameioTokens {
                access_token: stored.access_token.into(),
                refresh_token: stored.refresh_token.map(Into::into),
                expires_at: stored.expires_at,
            },
            Origin::Keychain,
        )))
    }

    /// Stores a token pair (replacing the previous one: refresh tokens rotate).
    pub fn set_frameio_tokens(&self, tokens: &FrameioTokens) -> Result<(), SecretError> {
        let stored = StoredTokens {
            access_token: tokens.access_token.expose_secret().to_string(),
            refresh_token: tokens
                .refresh_token
                .as_ref()
                .map(|r| r.expose_secret().to_string()),
            expires_at: tokens.expires_at,
        };
        redact::register(&stored.access_token);
        if let Some(r) = &stored.refresh_token {
            redact::register(r);
        }
        let json = serde_json::to_string(&stored).expect("tokens serialize");
        self.write(SecretKind::FrameioTokens, &json)?;
        tracing::info!(
            refresh = stored.refresh_token.is_some(),
            "stored Frame.io sign-in in the OS keychain"
        );
        Ok(())
    }

    /// The Discord webhook: the environment's if set, else the systemd
    /// credential's, else the keychain's.
    pub fn discord_webhook(&self) -> Result<Option<(DiscordWebhook, Origin)>, SecretError> {
        if let Some((var, url)) = self.env_value(SecretKind::DiscordWebhook) {
            let webhook = DiscordWebhook::parse(&url).map_err(|e| SecretError::BadEnvironment {
                var,
                problem: e.to_string(),
            })?;
            return Ok(Some((webhook, Origin::Environment(var))));
        }
        if let Some((name, url)) = self.credential_value(SecretKind::DiscordWebhook)? {
            let webhook = DiscordWebhook::parse(&url).map_err(|e| SecretError::BadCredential {
                name,
                problem: format!("is not a webhook URL: {e}"),
            })?;
            return Ok(Some((webhook, Origin::Credential(name))));
        }
        let Some(url) = self.read(SecretKind::DiscordWebhook)? else {
            return Ok(None);
        };
        let webhook =
            DiscordWebhook::parse(&url).map_err(|_| SecretError::Corrupt("Discord webhook URL"))?;
        Ok(Some((webhook, Origin::Keychain)))
    }

    pub fn set_discord_webhook(&self, webhook: &DiscordWebhook) -> Result<(), SecretError> {
        self.write(SecretKind::DiscordWebhook, webhook.expose_url())?;
        tracing::info!(webhook = %webhook.masked(), "stored Discord webhook in the OS keychain");
        Ok(())
    }

    /// The web UI's key: the environment's, else the systemd credential's,
    /// else the keychain's, else a new
    /// random one stored in the keychain (with no keychain, kept for this
    /// process only; `Origin` then says it came from nowhere lasting).
    /// Registered with the log scrubber like every secret.
    pub fn gui_key(&self) -> Result<(String, Option<Origin>), SecretError> {
        if let Some((var, key)) = self.env_value(SecretKind::GuiKey) {
            if key.len() < 16 || key.contains(char::is_whitespace) {
                return Err(SecretError::BadEnvironment {
                    var,
                    problem: "shorter than 16 characters or holds spaces".into(),
                });
            }
            return Ok((key, Some(Origin::Environment(var))));
        }
        if let Some((name, key)) = self.credential_value(SecretKind::GuiKey)? {
            if key.len() < 16 || key.contains(char::is_whitespace) {
                return Err(SecretError::BadCredential {
                    name,
                    problem: "is shorter than 16 characters or holds spaces".into(),
                });
            }
            return Ok((key, Some(Origin::Credential(name))));
        }
        if let Some(key) = self.read(SecretKind::GuiKey)? {
            return Ok((key, Some(Origin::Keychain)));
        }
        let key = random_key();
        redact::register(&key);
        match self.write(SecretKind::GuiKey, &key) {
            Ok(()) => Ok((key, Some(Origin::Keychain))),
            Err(SecretError::NoKeychain { .. }) => Ok((key, None)),
            Err(e) => Err(e),
        }
    }

    /// Removes a secret from the keychain (sign out, forget the webhook).
    /// Removing what is not there is not an error.
    pub fn delete(&self, kind: SecretKind) -> Result<(), SecretError> {
        let entry = self.entry(kind)?;
        match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => {
                tracing::info!(secret = kind.label(), "removed from the OS keychain");
                Ok(())
            }
            Err(e) => Err(keychain_error(e)),
        }
    }

    fn env_value(&self, kind: SecretKind) -> Option<(&'static str, String)> {
        kind.env_vars().iter().find_map(|var| {
            let value = (self.env)(var)?;
            redact::register(&value);
            Some((*var, value))
        })
    }

    /// The systemd credential of `kind`, when systemd passed credentials
    /// (registered with the log scrubber by [`credentials::read`]). A file
    /// readable by every user is used, with a warning (once per store).
    fn credential_value(
        &self,
        kind: SecretKind,
    ) -> Result<Option<(&'static str, String)>, SecretError> {
        let Some(dir) = &self.credentials else {
            return Ok(None);
        };
        let name = kind.credential();
        let Some(credential) = credentials::read(dir, name)? else {
            return Ok(None);
        };
        if let Some(warning) = &credential.warning {
            let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
            if !warned.contains(&name) {
                warned.push(name);
                tracing::warn!("{warning}");
            }
        }
        Ok(Some((name, credential.value)))
    }

    fn entry(&self, kind: SecretKind) -> Result<keyring::Entry, SecretError> {
        if let KeychainStatus::Unavailable { reason } = &self.keychain {
            return Err(SecretError::NoKeychain {
                reason: reason.clone(),
                vars: kind.env_vars().join(" or "),
                credential: kind.credential(),
            });
        }
        keyring::Entry::new(&self.service, kind.entry()).map_err(keychain_error)
    }

    fn read(&self, kind: SecretKind) -> Result<Option<String>, SecretError> {
        if matches!(self.keychain, KeychainStatus::Unavailable { .. }) {
            return Ok(None);
        }
        match self.entry(kind)?.get_password() {
            Ok(value) => {
                redact::register(&value);
                Ok(Some(value))
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(keyring::Error::BadEncoding(_)) => Err(SecretError::Corrupt(kind.label())),
            Err(e) => Err(keychain_error(e)),
        }
    }

    fn write(&self, kind: SecretKind, value: &str) -> Result<(), SecretError> {
        redact::register(value);
        self.entry(kind)?
            .set_password(value)
            .map_err(keychain_error)
    }
}

/// Asks the keychain for an entry that does not exist: "no such entry" means
/// the keychain works.
fn probe(service: &str) -> KeychainStatus {
    let result = keyring::Entry::new(service, "availability-probe").and_then(|e| e.get_password());
    match result {
        Ok(_) | Err(keyring::Error::NoEntry) => KeychainStatus::Available,
        Err(e) => KeychainStatus::Unavailable {
            reason: explain(&e),
        },
    }
}

fn keychain_error(e: keyring::Error) -> SecretError {
    SecretError::Keychain(explain(&e))
}

/// keyring's errors, in words that say what to do. Never includes a secret:
/// `BadEncoding` carries the stored bytes and is not printed.
fn explain(e: &keyring::Error) -> String {
    let raw = match e {
        keyring::Error::BadEncoding(_) => return "a stored value is not valid text".into(),
        keyring::Error::NoStorageAccess(inner) => {
            return format!(
                "the keychain is locked or access was denied ({inner}); unlock it and try again"
            )
        }
        other => other.to_string(),
    };
    // The Secret Service failures seen on Linux (linux-desktop-notes.md).
    if raw.contains("autolaunch") || raw.contains("DBUS_SESSION_BUS_ADDRESS") {
        "no D-Bus session bus; log in to a desktop session or run inside dbus-run-session".into()
    } else if raw.contains("org.freedesktop.secrets") {
        "no Secret Service provider; install and start gnome-keyring or KWallet".into()
    } else if raw.contains("locked collection") {
        "the login keyring is locked; unlock it (log in to the desktop, or gnome-keyring-daemon --unlock)".into()
    } else {
        raw
    }
}

#[cfg(test)]
mod tests;

/// 32 random hex characters from the OS (via v4 UUIDs, which use the OS
/// random source).
fn random_key() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}
