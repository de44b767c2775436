//! Secrets handed over by systemd: `$CREDENTIALS_DIRECTORY/<name>`.
//!
//! A system service gets its secrets without a keychain and without a
//! plaintext environment: the unit says
//! `LoadCredential=frameio-token:/etc/postflow/credentials/frameio-token`
//! (or `LoadCredentialEncrypted=` for a file made by `systemd-creds
//! encrypt`), PID 1 reads the file as root before starting the service and
//! puts a copy, readable by the service's user only, in a private directory
//! whose path it passes as `$CREDENTIALS_DIRECTORY`. The file on disk can
//! stay `root:root 0400`; the service's user never reads it.
//!
//! What came when (systemd's NEWS): `LoadCredential=`, `SetCredential=` and
//! `$CREDENTIALS_DIRECTORY`: 247; `LoadCredentialEncrypted=` and
//! `systemd-creds`: 250; `%d` (the credentials directory in unit lines),
//! `LoadCredential=` of a directory and the `/etc/credstore` search: 251.
//! Debian 12 ships 252, Ubuntu 22.04 249, RHEL 9 252.
//!
//! The order PostFlow reads a secret in: environment variables, then a
//! credential, then the OS keychain.

use std::io::Read;
use std::path::Path;

use crate::SecretError;

/// The environment variable systemd sets to the service's credentials.
pub const DIRECTORY_VAR: &str = "CREDENTIALS_DIRECTORY";

/// Credentials are small; systemd caps them at 1 MB per unit. Anything
/// bigger is not one of ours.
const MAX_LEN: u64 = 64 * 1024;

/// A credential's value and what is worth a warning about its file.
#[derive(Clone)]
pub struct Credential {
    pub value: String,
    /// Set when the file is readable by every user of the machine (a
    /// directory set by hand rather than by systemd, whose copies are
    /// `0400`, owned by the service's user).
    pub warning: Option<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("value", &"••••")
            .field("warning", &self.warning)
            .finish()
    }
}

/// Reads the credential `name` in `dir`. `None`: no such file, or an empty
/// one (the unit's `SetCredential=<name>:` fallback for a credential that
/// is optional, e.g. the Discord webhook). Surrounding whitespace (the
/// newline `echo` leaves) is trimmed. The value is registered with the log
/// scrubber before anything else is done with it.
pub fn read(dir: &Path, name: &'static str) -> Result<Option<Credential>, SecretError> {
    let path = dir.join(name);
    let bad = |problem: String| SecretError::BadCredential { name, problem };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(format!("cannot be read ({e})"))),
    };
    let meta = file
        .metadata()
        .map_err(|e| bad(format!("cannot be read ({e})")))?;
    if !meta.is_file() {
        return Err(bad("is not a file".into()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(format!("cannot be read ({e})")))?;
    if bytes.len() as u64 > MAX_LEN {
        return Err(bad(format!("is larger than {} KiB", MAX_LEN / 1024)));
    }
    let text = String::from_utf8(bytes).map_err(|_| bad("is not text".into()))?;
    let value = text.trim().to_string();
    crate::redact::register(&value);
    if value.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credential {
        value,
        warning: loose_permissions(&meta, &path),
    }))
}

#[cfg(unix)]
fn loose_permissions(meta: &std::fs::Metadata, path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    (mode & 0o004 != 0).then(|| {
        format!(
            "the credential {} is readable by every user of this machine (mode {mode:04o}); \
             systemd's own copies are 0400: `chmod 0400 {}`, or let systemd pass it (LoadCredential=)",
            path.display(),
            path.display()
        )
    })
}

#[cfg(not(unix))]
fn loose_permissions(_: &std::fs::Metadata, _: &Path) -> Option<String> {
    None
}
