//! Reading a settings file without ever giving up on it.
//!
//! A file is read key by key: each key the user wrote is tried on its own on
//! top of the keys already accepted, so one bad value is reported and skipped
//! while every other key still applies, and **every** problem is reported in
//! one pass (serde alone stops at the first).

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::{Problem, Settings, CURRENT_VERSION};

/// Where the settings in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The file was read (perhaps with problems; see [`Loaded::problems`]).
    File(PathBuf),
    /// No file there yet: defaults.
    Missing(PathBuf),
    /// The file exists but could not be used at all (unreadable, not TOML):
    /// defaults, and the file is left untouched for the user to fix.
    Broken(PathBuf),
}

impl Source {
    pub fn path(&self) -> &Path {
        match self {
            Source::File(p) | Source::Missing(p) | Source::Broken(p) => p,
        }
    }
}

/// A value taken from the environment instead of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvOverride {
    pub variable: &'static str,
    pub key: &'static str,
}

/// The outcome of loading: settings to run on, and what was wrong.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub source: Source,
    /// Problems reading the file (syntax, types, unknown keys, version).
    /// Validation problems come from [`Settings::validate`].
    pub problems: Vec<Problem>,
    pub env_overrides: Vec<EnvOverride>,
}

/// Migrations from older formats: `MIGRATIONS[i]` turns a version `i + 1`
/// table into a version `i + 2` table. Version 1 is the first format, so
/// there are none yet; add one here (and a test with an old file) whenever a
/// key is renamed or its meaning changes.
const MIGRATIONS: &[fn(&mut Table)] = &[];
const _: () = assert!(MIGRATIONS.len() as u32 + 1 == CURRENT_VERSION);

/// Environment variables honoured for migration from the old Python service.
/// They win over the file.
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("LUCIDLINK_BY_SHOT_PATH", "watch.root"),
    ("FRAMEIO_ACCOUNT_ID", "frameio.account_id"),
    ("FRAMEIO_WORKSPACE_ID", "frameio.workspace_id"),
];

/// Loads the file at `path`, then applies the environment overrides.
/// Never fails: a missing, unreadable or broken file yields defaults and
/// problems that say why.
pub fn load(path: &Path) -> Loaded {
    load_with_env(path, |name| std::env::var(name).ok())
}

/// [`load`] with an explicit environment, for tests.
pub fn load_with_env(path: &Path, env: impl Fn(&str) -> Option<String>) -> Loaded {
    let (mut settings, source, problems) = match std::fs::read_to_string(path) {
        Ok(text) => {
            let (settings, problems) = from_toml_str(&text);
            let broken = problems.iter().any(|p| p.key == FILE_KEY);
            let source = if broken {
                Source::Broken(path.to_path_buf())
            } else {
                Source::File(path.to_path_buf())
            };
            (settings, source, problems)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
            Settings::default(),
            Source::Missing(path.to_path_buf()),
            Vec::new(),
        ),
        Err(e) => (
            Settings::default(),
            Source::Broken(path.to_path_buf()),
            vec![Problem::new(
                FILE_KEY,
                format!("cannot read {}: {e}", path.display()),
                "check the file's permissions; PostFlow runs on defaults until it can read it",
            )],
        ),
    };
    let env_overrides = apply_env(&mut settings, env);
    Loaded {
        settings,
        source,
        problems,
        env_overrides,
    }
}

/// The key used for problems with the file as a whole.
pub const FILE_KEY: &str = "(file)";

/// Parses settings text leniently. See the module docs.
pub fn from_toml_str(text: &str) -> (Settings, Vec<Problem>) {
    let mut user: Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            return (
                Settings::default(),
                vec![Problem::new(
                    FILE_KEY,
                    format!("not valid TOML: {}", one_line(&e.to_string())),
                    "correct the syntax at the line shown; PostFlow runs on defaults until then and keeps the file as it is",
                )],
            )
        }
    };
    let mut problems = Vec::new();
    migrate(&mut user, &mut problems);

    let defaults = defaults_table();
    let mut accepted = defaults.clone();
    for (path, value) in leaves(&user) {
        let mut candidate = accepted.clone();
        set_path(&mut candidate, &path, value.clone());
        let mut unknown = false;
        let outcome: Result<Settings, _> =
            serde_ignored::deserialize(Value::Table(candidate.clone()), |_| unknown = true);
        let key = path.join(".");
        match outcome {
            Ok(_) if unknown => problems.push(unknown_key(&key, &defaults)),
            Ok(_) => accepted = candidate,
            Err(e) => problems.push(Problem::new(
                &key,
                describe_type_error(&e.to_string()),
                match lookup(&defaults, &path) {
                    Some(default) => format!("write it like the default: {key} = {default}"),
                    None => "see config/default.toml for the expected shape".to_string(),
                },
            )),
        }
    }
    let settings = Value::Table(accepted)
        .try_into()
        .expect("accepted keys deserialize: each was checked on top of the others");
    (settings, problems)
}

fn migrate(user: &mut Table, problems: &mut Vec<Problem>) {
    let version = match user.remove("version") {
        None => CURRENT_VERSION,
        Some(Value::Integer(v)) if v >= 1 => v as u32,
        Some(other) => {
            problems.push(Problem::new(
                "version",
                format!("must be a positive whole number, found {other}"),
                format!("write version = {CURRENT_VERSION}"),
            ));
            CURRENT_VERSION
        }
    };
    if version > CURRENT_VERSION {
        problems.push(Problem::new(
            "version",
            format!(
                "this file was written by a newer PostFlow (format {version}); this one reads up to format {CURRENT_VERSION}"
            ),
            "update PostFlow; meanwhile the keys this version knows are used",
        ));
    }
    for step in MIGRATIONS.iter().skip(version.saturating_sub(1) as usize) {
        step(user);
    }
}

fn defaults_table() -> Table {
    match Value::try_from(Settings::default()).expect("defaults serialize") {
        Value::Table(mut t) => {
            t.remove("version");
            t
        }
        _ => unreachable!("settings serialize to a table"),
    }
}

/// Every key the user wrote, tables flattened: `[("watch","root"), value]`.
/// Arrays (such as `nomenclature.patterns`) are one leaf.
fn leaves(table: &Table) -> Vec<(Vec<String>, &Value)> {
    fn walk<'a>(
        prefix: &mut Vec<String>,
        table: &'a Table,
        out: &mut Vec<(Vec<String>, &'a Value)>,
    ) {
        for (key, value) in table {
            prefix.push(key.clone());
            match value {
                Value::Table(inner) if !inner.is_empty() => walk(prefix, inner, out),
                _ => out.push((prefix.clone(), value)),
            }
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    walk(&mut Vec::new(), table, &mut out);
    out
}

fn set_path(table: &mut Table, path: &[String], value: Value) {
    let (last, parents) = path.split_last().expect("a leaf has a key");
    let mut current = table;
    for key in parents {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        current = entry.as_table_mut().expect("just made a table");
    }
    current.insert(last.clone(), value);
}

fn lookup<'a>(table: &'a Table, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let value = table.get(first)?;
    if rest.is_empty() {
        return Some(value);
    }
    lookup(value.as_table()?, rest)
}

fn unknown_key(key: &str, defaults: &Table) -> Problem {
    let known: Vec<String> = leaves(defaults)
        .into_iter()
        .map(|(p, _)| p.join("."))
        .collect();
    let closest = known
        .iter()
        .map(|k| (strsim::jaro_winkler(key, k), k))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    Problem::new(
        key,
        "unknown key; PostFlow ignores it",
        match closest {
            Some((_, k)) => format!("did you mean {k}?"),
            None => "remove it, or see config/default.toml for the keys PostFlow reads".to_string(),
        },
    )
}

/// serde's "invalid type: string \"fast\", expected u64 in `watch.x`" in
/// words an editor reads: "expected a whole number, found string \"fast\"".
fn describe_type_error(message: &str) -> String {
    let message = one_line(message);
    // The key is already shown beside the message.
    let message = match message.rfind(" in `") {
        Some(i) if message.ends_with('`') => &message[..i],
        _ => &message,
    };
    let plain = |expected: &str| -> String {
        match expected {
            "u64" | "u32" | "u16" | "u8" => "a whole number".into(),
            "a boolean" => "true or false".into(),
            "a sequence" => "a list like [\"a\", \"b\"]".into(),
            "a string" => "text in quotes".into(),
            other => other.into(),
        }
    };
    match message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.rsplit_once(", expected "))
    {
        Some((found, expected)) => format!("expected {}, found {found}", plain(expected)),
        None => message.to_string(),
    }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn apply_env(settings: &mut Settings, env: impl Fn(&str) -> Option<String>) -> Vec<EnvOverride> {
    let mut applied = Vec::new();
    for (variable, key) in ENV_OVERRIDES {
        let Some(value) = env(variable).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let value = value.trim().to_string();
        match *key {
            "watch.root" => settings.watch.root = PathBuf::from(value),
            "frameio.account_id" => settings.frameio.account_id = value,
            "frameio.workspace_id" => settings.frameio.workspace_id = value,
            _ => unreachable!("every ENV_OVERRIDES key is handled"),
        }
        applied.push(EnvOverride { variable, key });
    }
    applied
}
