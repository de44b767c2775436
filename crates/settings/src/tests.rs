use std::path::{Path, PathBuf};

use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

fn keys_of(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => keys_of(t, &key, out),
            _ => out.push(key),
        }
    }
}

#[test]
fn the_documented_default_file_is_exactly_the_code_defaults() {
    let (settings, problems) = from_toml_str(DEFAULT_TOML);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(settings, Settings::default());

    // Every key the model has is written (and so documented) in the file.
    let documented: toml::Table = DEFAULT_TOML.parse().unwrap();
    let model = match toml::Value::try_from(Settings::default()).unwrap() {
        toml::Value::Table(t) => t,
        _ => unreachable!(),
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    keys_of(&documented, "", &mut a);
    keys_of(&model, "", &mut b);
    a.sort();
    b.sort();
    assert_eq!(
        a, b,
        "config/default.toml and the model disagree on the keys"
    );
    for table in [
        "watch",
        "nomenclature",
        "frameio",
        "discord",
        "transfers",
        "notifications",
        "ui",
    ] {
        assert!(
            DEFAULT_TOML.contains(&format!("\n[{table}]\n")),
            "[{table}] missing"
        );
    }
}

#[test]
fn five_mistakes_give_five_problems_and_the_good_keys_still_apply() {
    let text = r#"
[watch]
root = "/definitely/not/mounted/BY_SHOT"
rescan_interval_secs = "fast"
readiness_window_sec = 10

[nomenclature]
patterns = [{ name = "studio", regex = "(?P<scene>[A-Z+)_(?P<shot>x)_(?P<version>1)" }]

[discord]
language = "de"

[transfers]
parallel_files = 3
"#;
    let (settings, read_problems) = from_toml_str(text);
    let mut problems = read_problems.clone();
    problems.extend(settings.validate());
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    for expected in [
        "watch.rescan_interval_secs",
        "watch.readiness_window_sec",
        "discord.language",
        "watch.root",
        "frameio.account_id",
        "frameio.project_id",
    ] {
        assert!(keys.contains(&expected), "{expected} missing from {keys:?}");
    }
    // The bad regex is a type-correct value, so it is a validation problem
    // naming the pattern.
    let pattern = problems
        .iter()
        .find(|p| p.key == "nomenclature.patterns[0]")
        .expect("bad regex reported");
    assert!(pattern.message.contains("\"studio\""), "{pattern}");

    let typo = problems
        .iter()
        .find(|p| p.key == "watch.readiness_window_sec")
        .unwrap();
    assert!(typo.fix.contains("watch.readiness_window_secs"), "{typo}");
    let wrong_type = problems
        .iter()
        .find(|p| p.key == "watch.rescan_interval_secs")
        .unwrap();
    assert_eq!(
        wrong_type.message,
        "expected a whole number, found string \"fast\""
    );
    assert!(
        wrong_type.fix.contains("rescan_interval_secs = 15"),
        "{wrong_type}"
    );
    let root = problems.iter().find(|p| p.key == "watch.root").unwrap();
    assert_eq!(
        root.message,
        "/definitely/not/mounted/BY_SHOT does not exist"
    );
    let lang = problems
        .iter()
        .find(|p| p.key == "discord.language")
        .unwrap();
    assert!(
        lang.message.contains("de") && lang.message.contains("en"),
        "{lang}"
    );

    // What was right still applies; what was wrong falls back to defaults.
    assert_eq!(settings.transfers.parallel_files, 3);
    assert_eq!(
        settings.watch.root,
        PathBuf::from("/definitely/not/mounted/BY_SHOT")
    );
    assert_eq!(settings.watch.rescan_interval_secs, 15);
    assert_eq!(settings.discord.language, Language::En);
}

#[test]
fn a_syntax_error_runs_on_defaults_and_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.toml");
    let text = "[watch]\nroot = \"/x\n";
    std::fs::write(&path, text).unwrap();
    let loaded = load_with_env(&path, no_env);
    assert_eq!(loaded.source, Source::Broken(path.clone()));
    assert_eq!(loaded.settings, Settings::default());
    assert_eq!(loaded.problems.len(), 1);
    assert_eq!(loaded.problems[0].key, FILE_KEY);
    assert!(
        loaded.problems[0].message.contains("line 2"),
        "{}",
        loaded.problems[0]
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn an_unreadable_file_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be: unreadable even for root.
    let path = dir.path().join("settings.toml");
    std::fs::create_dir(&path).unwrap();
    let loaded = load_with_env(&path, no_env);
    assert!(matches!(loaded.source, Source::Broken(_)));
    assert_eq!(loaded.settings, Settings::default());
    assert!(
        loaded.problems[0].message.starts_with("cannot read"),
        "{}",
        loaded.problems[0]
    );
}

#[test]
fn a_missing_file_is_defaults_without_problems() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = load_with_env(&dir.path().join("nope.toml"), no_env);
    assert!(matches!(loaded.source, Source::Missing(_)));
    assert!(loaded.problems.is_empty());
}

#[test]
fn an_older_minimal_file_loads_and_a_newer_one_is_flagged() {
    // A version-1 file written before most keys existed.
    let (s, problems) = from_toml_str("version = 1\n[watch]\nroot = \"/srv/BY_SHOT\"\n");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(s.watch.root, PathBuf::from("/srv/BY_SHOT"));
    assert_eq!(s.transfers, TransferSettings::default());

    let (s, problems) = from_toml_str("version = 9\n[transfers]\nparallel_parts = 8\n");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].key, "version");
    assert!(problems[0].message.contains("newer PostFlow"));
    assert_eq!(s.transfers.parallel_parts, 8);
    assert_eq!(s.version, CURRENT_VERSION);
}

#[test]
fn unknown_tables_and_keys_are_named() {
    let (_, problems) = from_toml_str("[watcher]\nroot = \"/x\"\n[ui]\ncolour = \"red\"\n");
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["ui.colour", "watcher.root"]);
    assert!(problems[1].fix.contains("watch.root"), "{}", problems[1]);
}

#[test]
fn migration_environment_variables_override_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.toml");
    std::fs::write(
        &path,
        "[watch]\nroot = \"/from/file\"\n[frameio]\naccount_id = \"a\"\n",
    )
    .unwrap();
    let env = |k: &str| match k {
        "LUCIDLINK_BY_SHOT_PATH" => Some("/from/env".to_string()),
        "FRAMEIO_WORKSPACE_ID" => Some("ws".to_string()),
        "FRAMEIO_ACCOUNT_ID" => Some("  ".to_string()),
        _ => None,
    };
    let loaded = load_with_env(&path, env);
    assert_eq!(loaded.settings.watch.root, PathBuf::from("/from/env"));
    assert_eq!(loaded.settings.frameio.workspace_id, "ws");
    assert_eq!(
        loaded.settings.frameio.account_id, "a",
        "blank variables are ignored"
    );
    let vars: Vec<&str> = loaded.env_overrides.iter().map(|o| o.variable).collect();
    assert_eq!(vars, ["LUCIDLINK_BY_SHOT_PATH", "FRAMEIO_WORKSPACE_ID"]);
}

#[test]
fn a_complete_valid_file_has_no_problems() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Settings::default();
    s.watch.root = dir.path().to_path_buf();
    s.frameio.account_id = "7f3e1c9a-1b2c-4d5e-8f90-123456789abc".into();
    s.frameio.project_id = "0b8e2d6c-3f4a-4b5c-9d8e-7f6a5b4c3d2e".into();
    s.frameio.api_base_url = "http://127.0.0.1:9000".into();
    s.discord.mention = "<@&123456789>".into();
    assert_eq!(s.validate(), Vec::<Problem>::new());
}

#[test]
fn validation_catches_meaningless_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let mut s = Settings::default();
    s.watch.root = file.clone();
    s.watch.extensions = vec!["*.mov".into()];
    s.watch.readiness_window_secs = 0;
    s.nomenclature.structure_root = "A/B".into();
    s.frameio.api_base_url = "http://api.example.com".into();
    s.frameio.ims_base_url = "not a url".into();
    s.frameio.account_id = "acct-1".into();
    s.discord.mention = "@everyone".into();
    s.transfers.parallel_parts = 0;
    let problems = s.validate();
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "watch.root",
            "watch.extensions",
            "watch.readiness_window_secs",
            "nomenclature.structure_root",
            "frameio.api_base_url",
            "frameio.ims_base_url",
            "frameio.account_id",
            "frameio.project_id",
            "discord.mention",
            "transfers.parallel_parts",
        ]
    );
    assert!(problems[0].message.contains("is a file"), "{}", problems[0]);
    assert!(
        problems[4].message.contains("plain http"),
        "{}",
        problems[4]
    );
}

#[test]
fn save_round_trips_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/settings.toml");
    let mut s = Settings::default();
    s.watch.root = "/Volumes/fs/BY_SHOT".into();
    s.nomenclature
        .patterns
        .push(postflow_nomenclature::PatternSpec {
            name: "ep".into(),
            regex: "(?P<scene>EP[0-9]+)_(?P<shot>[0-9]+)_(?P<version>[0-9]+)".into(),
        });
    s.discord.language = Language::Fr;
    let outcome = save(&path, &s).unwrap();
    assert_eq!(outcome.backup, None);
    let loaded = load_with_env(&path, no_env);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.settings, s);
    // No temp files left behind.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("settings.toml")]);
}

#[test]
fn saving_over_a_broken_file_keeps_it_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.toml");
    std::fs::write(&path, "this is [not toml").unwrap();
    let outcome = save(&path, &Settings::default()).unwrap();
    let backup = outcome.backup.expect("a backup was made");
    assert_eq!(
        std::fs::read_to_string(&backup).unwrap(),
        "this is [not toml"
    );
    assert_eq!(load_with_env(&path, no_env).settings, Settings::default());
}

#[test]
fn the_default_file_is_written_once_and_never_over_a_user_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cfg/settings.toml");
    assert!(write_default_if_missing(&path).unwrap());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), DEFAULT_TOML);
    std::fs::write(&path, "[ui]\nlanguage = \"fr\"\n").unwrap();
    assert!(!write_default_if_missing(&path).unwrap());
    assert!(std::fs::read_to_string(&path).unwrap().contains("fr"));
}

#[test]
fn paths_follow_flags_then_environment_then_the_os() {
    let env = |k: &str| match k {
        "POSTFLOW_CONFIG" => Some(PathBuf::from("/env/settings.toml")),
        "POSTFLOW_LOG_DIR" => Some(PathBuf::from("/env/logs")),
        _ => None,
    };
    let p = Paths::resolve_with_env(Some(Path::new("/flag.toml")), env).unwrap();
    assert_eq!(p.config_file, PathBuf::from("/flag.toml"));
    assert_eq!(p.log_dir, PathBuf::from("/env/logs"));
    let p = Paths::resolve_with_env(None, env).unwrap();
    assert_eq!(p.config_file, PathBuf::from("/env/settings.toml"));
    if std::env::var_os("HOME").is_some() {
        let p = Paths::resolve_with_env(None, |_| None).unwrap();
        assert!(p.config_file.ends_with(SETTINGS_FILE_NAME));
        assert!(p.data_dir.is_absolute());
    }
}

#[test]
fn saving_changes_keeps_comments_layout_unknown_keys_and_environment_values_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.toml");
    let original = "\
# My notes about this workstation.
[watch]
# where the renders land
root = \"/tmp\"   # keep in sync with the mount
readiness_window_secs = 30

[frameio]
account_id = \"file-account\"
project_id = \"p1\"
custom_note = \"kept\"
";
    std::fs::write(&path, original).unwrap();
    let env = |v: &str| (v == "FRAMEIO_ACCOUNT_ID").then(|| "env-account".to_string());
    let loaded = load_with_env(&path, env);
    assert_eq!(loaded.settings.frameio.account_id, "env-account");

    let mut new = loaded.settings.clone();
    new.watch.readiness_window_secs = 45;
    new.discord.enabled = true;
    new.nomenclature.patterns = vec![postflow_nomenclature::PatternSpec {
        name: "studio".into(),
        regex: "^(?P<scene>[A-Z]+)-(?P<shot>[0-9]+)-(?P<version>[0-9]+)$".into(),
    }];
    save_changes(&path, &loaded.settings, &new).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    for kept in [
        "# My notes about this workstation.",
        "# where the renders land",
        "root = \"/tmp\"   # keep in sync with the mount",
        "custom_note = \"kept\"",
        "account_id = \"file-account\"",
    ] {
        assert!(text.contains(kept), "{kept:?} lost:\n{text}");
    }
    assert!(text.contains("readiness_window_secs = 45"), "{text}");
    assert!(
        !text.contains("env-account"),
        "an environment value leaked into the file:\n{text}"
    );
    let reread = load_with_env(&path, env);
    assert_eq!(reread.settings, new, "the file now says what was saved");
    assert_eq!(
        load_with_env(&path, no_env).settings.frameio.account_id,
        "file-account"
    );
    // Only the changed keys moved: the rest of the file is byte-identical.
    let untouched: Vec<&str> = original
        .lines()
        .filter(|l| !l.starts_with("readiness_window_secs"))
        .collect();
    for line in untouched {
        assert!(text.lines().any(|l| l == line), "{line:?} changed:\n{text}");
    }
}

#[test]
fn saving_changes_over_a_missing_or_broken_file_starts_from_the_commented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.toml");
    let mut new = Settings::default();
    new.transfers.parallel_files = 3;
    save_changes(&path, &Settings::default(), &new).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("parallel_files = 3"));
    assert!(
        text.contains("# Files uploaded at the same time."),
        "documented:\n{text}"
    );
    assert_eq!(load_with_env(&path, no_env).settings, new);

    std::fs::write(&path, "this is [not toml").unwrap();
    let outcome = save_changes(&path, &Settings::default(), &new).unwrap();
    let backup = outcome.backup.expect("the broken file is kept");
    assert_eq!(
        std::fs::read_to_string(backup).unwrap(),
        "this is [not toml"
    );
    assert_eq!(load_with_env(&path, no_env).settings, new);
}

#[test]
fn values_not_set_yet_do_not_stop_a_save_but_wrong_ones_do() {
    let mut settings = Settings::default();
    settings.frameio.client_id = "my-adobe-client".into();
    assert!(!settings.validate().is_empty(), "incomplete");
    assert_eq!(settings.validate_for_saving(), vec![], "but saveable");
    settings.frameio.project_id = "not-an-id".into();
    settings.transfers.parallel_files = 0;
    let keys: Vec<String> = settings
        .validate_for_saving()
        .into_iter()
        .map(|p| p.key)
        .collect();
    assert_eq!(keys, ["frameio.project_id", "transfers.parallel_files"]);
}

#[test]
fn a_bad_bandwidth_timetable_is_one_problem_per_entry_naming_the_key_and_nothing_else_is_lost() {
    let text = r#"
[transfers]
parallel_files = 3
bandwidth_timetable = "25:00,1M 08:00,fast 19:00,off 12:00,2M 19:00,5M"
max_attempts = 0
retry_base_secs = 7200
stack_versions = false
"#;
    let (settings, read_problems) = from_toml_str(text);
    assert!(read_problems.is_empty(), "{read_problems:?}");
    // Everything else still loads.
    assert_eq!(settings.transfers.parallel_files, 3);
    assert!(!settings.transfers.stack_versions);
    let problems: Vec<Problem> = settings
        .validate()
        .into_iter()
        .filter(|p| p.key.starts_with("transfers."))
        .collect();
    let got: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.key.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("transfers.max_attempts", "0 is out of range (1 to 100)"),
            ("transfers.retry_base_secs", "7200 is out of range (1 to 3600)"),
            (
                "transfers.bandwidth_timetable",
                "entry 1 \"25:00,1M\": 25:00 is not a time of day"
            ),
            (
                "transfers.bandwidth_timetable",
                "entry 2 \"08:00,fast\": \"fast\" is not a rate"
            ),
            (
                "transfers.bandwidth_timetable",
                "entry 4 \"12:00,2M\": it comes after entry 3 \"19:00,off\", which is later in the day (or week)"
            ),
            (
                "transfers.bandwidth_timetable",
                "entry 5 \"19:00,5M\": 19:00 is already set by entry 3"
            ),
        ]
    );
    assert!(problems[2].fix.contains("HH:MM"), "{}", problems[2]);
    assert!(
        problems[3].fix.contains("bytes per second"),
        "{}",
        problems[3]
    );
    assert!(
        problems[4].fix.contains("\"12:00,2M 19:00,off 19:00,5M\""),
        "{}",
        problems[4]
    );
    // The running service uses what can be used.
    let table = settings.bandwidth_timetable();
    let noon = jiff::civil::date(2026, 3, 2).at(13, 0, 0, 0);
    assert_eq!(table.cap_at(noon), Some(2 << 20));
    // And nothing wrong is saved.
    assert!(settings
        .validate_for_saving()
        .iter()
        .any(|p| p.key == "transfers.bandwidth_timetable"));
}

#[test]
fn the_retry_and_stacking_settings_default_to_the_engine_defaults() {
    let t = TransferSettings::default();
    assert_eq!(
        (t.max_attempts, t.retry_base_secs, t.stack_versions),
        (8, 30, true)
    );
    assert_eq!(t.bandwidth_timetable, "");
    assert!(Settings::default().bandwidth_timetable().is_empty());
}
