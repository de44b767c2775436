//! Where settings, data and logs live, and writing the settings file safely.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{load::from_toml_str, load::FILE_KEY, Settings};

/// The commented default settings file shipped in `config/default.toml`.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// The file name of the settings file inside the config directory.
pub const SETTINGS_FILE_NAME: &str = "settings.toml";

/// PostFlow's places on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_file: PathBuf,
    /// The queue database and other state.
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    #[error("cannot find this user's home directory, so PostFlow does not know where to keep its settings; set POSTFLOW_CONFIG, POSTFLOW_DATA_DIR and POSTFLOW_LOG_DIR")]
    NoHome,
}

impl Paths {
    /// The OS locations (via `directories`), each overridable:
    /// `explicit_config` (`--config`) > `POSTFLOW_CONFIG` > OS config dir;
    /// `POSTFLOW_DATA_DIR`, `POSTFLOW_LOG_DIR` for the others.
    pub fn resolve(explicit_config: Option<&Path>) -> Result<Paths, PathsError> {
        Self::resolve_with_env(explicit_config, |k| std::env::var_os(k).map(PathBuf::from))
    }

    pub fn resolve_with_env(
        explicit_config: Option<&Path>,
        env: impl Fn(&str) -> Option<PathBuf>,
    ) -> Result<Paths, PathsError> {
        let env = |k: &str| env(k).filter(|p| !p.as_os_str().is_empty());
        let dirs = directories::ProjectDirs::from("io", "PostFlow", "PostFlow");
        let config_file = match explicit_config
            .map(Path::to_path_buf)
            .or_else(|| env("POSTFLOW_CONFIG"))
        {
            Some(p) => p,
            None => dirs
                .as_ref()
                .ok_or(PathsError::NoHome)?
                .config_dir()
                .join(SETTINGS_FILE_NAME),
        };
        let data_dir = match env("POSTFLOW_DATA_DIR") {
            Some(p) => p,
            None => dirs
                .as_ref()
                .ok_or(PathsError::NoHome)?
                .data_local_dir()
                .to_path_buf(),
        };
        let log_dir = match env("POSTFLOW_LOG_DIR") {
            Some(p) => p,
            None => default_log_dir(dirs.as_ref().ok_or(PathsError::NoHome)?),
        };
        Ok(Paths {
            config_file,
            data_dir,
            log_dir,
        })
    }
}

/// Linux: `$XDG_STATE_HOME/postflow/logs`; macOS: `~/Library/Logs/PostFlow`;
/// Windows: `%LOCALAPPDATA%\PostFlow\PostFlow\data\logs`.
fn default_log_dir(dirs: &directories::ProjectDirs) -> PathBuf {
    if cfg!(target_os = "macos") {
        if let Some(base) = directories::BaseDirs::new() {
            return base.home_dir().join("Library/Logs/PostFlow");
        }
    }
    dirs.state_dir()
        .unwrap_or_else(|| dirs.data_local_dir())
        .join("logs")
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("cannot write settings to {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode settings: {0}")]
    Encode(#[from] toml::ser::Error),
}

impl From<SaveError> for postflow_core::ApiError {
    fn from(e: SaveError) -> Self {
        postflow_core::ApiError::new(postflow_core::Disposition::NeedsUser, e.to_string())
            .with_fix("check that the settings folder exists, is writable and has free space")
    }
}

impl SaveError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SaveError + '_ {
        move |source| SaveError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What saving did besides writing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SaveOutcome {
    /// A broken file that was there before, kept under this name.
    pub backup: Option<PathBuf>,
}

/// Writes settings atomically (temp file in the same folder, fsync, rename).
/// A file that is there but broken is never overwritten silently: it is
/// first kept as `settings.toml.broken-<unix time>` and the outcome says so.
///
/// Comments in an existing file are not preserved (the whole file is
/// rewritten from the model).
pub fn save(path: &Path, settings: &Settings) -> Result<SaveOutcome, SaveError> {
    let text = toml::to_string_pretty(settings)?;
    let header = "# PostFlow settings. Every key is documented in config/default.toml\n\
                  # of the PostFlow sources. Secrets are not stored here: they live in\n\
                  # the OS keychain.\n\n";
    let mut outcome = SaveOutcome::default();
    if let Some(backup) = keep_if_broken(path).map_err(SaveError::io(path))? {
        tracing::warn!(
            broken = %path.display(),
            kept_as = %backup.display(),
            "the settings file had errors; it was kept before writing the new one"
        );
        outcome.backup = Some(backup);
    }
    write_atomically(path, format!("{header}{text}").as_bytes(), true)
        .map_err(SaveError::io(path))?;
    Ok(outcome)
}

/// Writes what changed from `current` (the settings in use, as loaded from
/// `path`) to `new`, and nothing else: the user's comments, layout and
/// unknown keys stay as they are, and values that came from the
/// environment (unchanged in `new`) are not written into the file. Keys the
/// file does not have yet are added under their section. A missing file is
/// started from the commented defaults; a broken one is kept as
/// `settings.toml.broken-<time>` first, then started afresh from the
/// defaults with every value of `new` that differs from them.
///
/// The caller validates `new` first; this only writes.
pub fn save_changes(
    path: &Path,
    current: &Settings,
    new: &Settings,
) -> Result<SaveOutcome, SaveError> {
    let mut outcome = SaveOutcome::default();
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(SaveError::io(path)(e)),
    };
    let parsed = existing
        .as_deref()
        .map(|text| text.parse::<toml_edit::DocumentMut>());
    let (mut doc, base) = match parsed {
        Some(Ok(doc)) => (doc, current.clone()),
        other => {
            if matches!(other, Some(Err(_))) {
                if let Some(backup) = keep_if_broken(path).map_err(SaveError::io(path))? {
                    tracing::warn!(
                        broken = %path.display(),
                        kept_as = %backup.display(),
                        "the settings file could not be read; it was kept before writing the new one"
                    );
                    outcome.backup = Some(backup);
                }
            }
            let doc = DEFAULT_TOML
                .parse::<toml_edit::DocumentMut>()
                .expect("the default settings are valid TOML");
            (doc, Settings::default())
        }
    };
    let before = toml::Value::try_from(&base)?;
    let after = toml::Value::try_from(new)?;
    let (Some(before), Some(after)) = (before.as_table(), after.as_table()) else {
        unreachable!("settings serialize to a table");
    };
    for (key, value) in after {
        if before.get(key) == Some(value) {
            continue;
        }
        match value.as_table() {
            Some(section) => {
                let old = before.get(key).and_then(toml::Value::as_table);
                for (name, value) in section {
                    if old.and_then(|o| o.get(name)) != Some(value) {
                        set_key(&mut doc, Some(key), name, value)?;
                    }
                }
            }
            None => set_key(&mut doc, None, key, value)?,
        }
    }
    write_atomically(path, doc.to_string().as_bytes(), true).map_err(SaveError::io(path))?;
    Ok(outcome)
}

/// Sets `[section] name = value` in `doc`, keeping the key's comments and
/// the value's trailing comment.
fn set_key(
    doc: &mut toml_edit::DocumentMut,
    section: Option<&str>,
    name: &str,
    value: &toml::Value,
) -> Result<(), SaveError> {
    // Render the value the way `toml` would, then read it back as an edit
    // item: arrays of tables (the custom patterns) stay arrays of tables.
    let mut wrapper = toml::Table::new();
    wrapper.insert(name.to_string(), value.clone());
    let rendered = toml::to_string(&wrapper)?;
    let mut parsed = rendered
        .parse::<toml_edit::DocumentMut>()
        .expect("toml renders valid TOML");
    let Some(mut item) = parsed.as_table_mut().remove(name) else {
        return Ok(());
    };
    let table = match section {
        None => doc.as_table_mut(),
        Some(section) => {
            if !doc.contains_key(section) {
                doc.insert(section, toml_edit::Item::Table(toml_edit::Table::new()));
            }
            match doc[section].as_table_mut() {
                Some(table) => table,
                // `section = {...}` inline, or not a table at all: replace it.
                None => {
                    doc.insert(section, toml_edit::Item::Table(toml_edit::Table::new()));
                    doc[section].as_table_mut().expect("just inserted a table")
                }
            }
        }
    };
    if let (Some(old), Some(new)) = (
        table.get(name).and_then(toml_edit::Item::as_value),
        item.as_value_mut(),
    ) {
        let suffix = old.decor().suffix().cloned();
        let prefix = old.decor().prefix().cloned();
        if let Some(suffix) = suffix {
            new.decor_mut().set_suffix(suffix);
        }
        if let Some(prefix) = prefix {
            new.decor_mut().set_prefix(prefix);
        }
    }
    match table.get_mut(name) {
        Some(slot) => *slot = item,
        None => {
            table.insert(name, item);
        }
    }
    Ok(())
}

/// Writes the commented default file if there is no settings file yet.
/// Returns whether it wrote one.
pub fn write_default_if_missing(path: &Path) -> Result<bool, SaveError> {
    if path.exists() {
        return Ok(false);
    }
    match write_atomically(path, DEFAULT_TOML.as_bytes(), false) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(SaveError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

fn keep_if_broken(path: &Path) -> std::io::Result<Option<PathBuf>> {
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let broken = match std::str::from_utf8(&text) {
        Err(_) => true,
        Ok(text) => {
            let (_, problems) = from_toml_str(text);
            problems.iter().any(|p| p.key == FILE_KEY)
        }
    };
    if !broken {
        return Ok(None);
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".broken-{stamp}"));
    let backup = path.with_file_name(name);
    std::fs::copy(path, &backup)?;
    Ok(Some(backup))
}

fn write_atomically(path: &Path, bytes: &[u8], overwrite: bool) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".settings-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    if overwrite {
        tmp.persist(path).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    }
    // Make the rename itself durable.
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
