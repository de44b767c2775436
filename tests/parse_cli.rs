//! `postflow parse --json` follows shared/spec/nomenclature.md §5 to the letter.

mod support;

use serde_json::{json, Value};

fn parse_json(home: &std::path::Path, names: &[&str]) -> Vec<Value> {
    let out = support::postflow(home)
        .arg("parse")
        .arg("--json")
        .args(names)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), names.len(), "one line per name:\n{text}");
    for (line, raw) in lines.iter().zip(text.lines()) {
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "frameio_path",
                "name",
                "pattern",
                "reason",
                "scene",
                "shot",
                "status",
                "version"
            ],
            "exactly the spec's keys: {raw}"
        );
        assert!(
            raw.starts_with("{\"name\":"),
            "keys in the spec's order: {raw}"
        );
    }
    lines
}

#[test]
fn every_row_of_the_shared_cases_file() {
    let path = support::shared_dir().join("spec/nomenclature-cases.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
        .collect();
    assert!(rows.len() >= 19);
    let names: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    let home = tempfile::tempdir().unwrap();
    let lines = parse_json(home.path(), &names);

    for (row, line) in rows.iter().zip(&lines) {
        let opt = |s: &str| if s == "-" { Value::Null } else { json!(s) };
        let last = row[0].rsplit('/').next().unwrap();
        assert_eq!(line["name"], json!(last), "{row:?}");
        assert_eq!(line["status"], json!(row[1]), "{row:?}");
        assert_eq!(line["scene"], opt(row[2]), "{row:?}");
        assert_eq!(line["shot"], opt(row[3]), "{row:?}");
        assert_eq!(line["version"], opt(row[4]), "{row:?}");
        assert_eq!(line["pattern"], opt(row[5]), "{row:?}");
        if row[1] == "parsed" {
            let expected = format!("SCENES/{}/{}/{}", row[2], row[3], last);
            assert_eq!(line["frameio_path"], json!(expected), "{row:?}");
            assert_eq!(line["reason"], Value::Null, "{row:?}");
        } else {
            assert_eq!(line["frameio_path"], Value::Null, "{row:?}");
            let reason = line["reason"]
                .as_str()
                .unwrap_or_else(|| panic!("a reason for {row:?}"));
            assert!(reason.len() > 10, "a human sentence: {reason}");
        }
    }
}

#[test]
fn the_three_names_of_the_product_brief() {
    let home = tempfile::tempdir().unwrap();
    let lines = parse_json(
        home.path(),
        &[
            "SC01_UNDLM_00412_V002.mov",
            "13H49_-_RECUPERATION_DES_2_SURVIVANTS_S01_V001.mov",
            "2EME_MAYDAY_EXT_-_NUIT_AMERICAINE_S03_V005.mp4",
        ],
    );
    assert_eq!(
        lines[0],
        json!({"name": "SC01_UNDLM_00412_V002.mov", "status": "parsed", "scene": "SC01",
               "shot": "UNDLM_00412", "version": "V002", "pattern": "sc_shot",
               "frameio_path": "SCENES/SC01/UNDLM_00412/SC01_UNDLM_00412_V002.mov", "reason": null})
    );
    assert_eq!(
        lines[1],
        json!({"name": "13H49_-_RECUPERATION_DES_2_SURVIVANTS_S01_V001.mov", "status": "parsed",
               "scene": "13H49_-_RECUPERATION_DES_2_SURVIVANTS", "shot": "S01", "version": "V001",
               "pattern": "titled",
               "frameio_path": "SCENES/13H49_-_RECUPERATION_DES_2_SURVIVANTS/S01/13H49_-_RECUPERATION_DES_2_SURVIVANTS_S01_V001.mov",
               "reason": null})
    );
    assert_eq!(
        lines[2],
        json!({"name": "2EME_MAYDAY_EXT_-_NUIT_AMERICAINE_S03_V005.mp4", "status": "parsed",
               "scene": "2EME_MAYDAY_EXT_-_NUIT_AMERICAINE", "shot": "S03", "version": "V005",
               "pattern": "titled",
               "frameio_path": "SCENES/2EME_MAYDAY_EXT_-_NUIT_AMERICAINE/S03/2EME_MAYDAY_EXT_-_NUIT_AMERICAINE_S03_V005.mp4",
               "reason": null})
    );
}

#[test]
fn custom_patterns_from_the_settings_file_apply_and_bad_ones_are_named() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("settings.toml");
    std::fs::write(
        &config,
        r#"
[nomenclature]
structure_root = "PLANS"
[[nomenclature.patterns]]
name = "episode"
regex = '(?P<scene>EP[0-9]+)-(?P<shot>[A-Z]+)-v(?P<version>[0-9]+)'
[[nomenclature.patterns]]
name = "typo"
regex = '(?P<scene>[A-Z+)'
"#,
    )
    .unwrap();
    let out = support::postflow(home.path())
        .args(["--config"])
        .arg(&config)
        .args(["parse", "--json", "ep3-abc-v2.mov", "SC01_A_V001.mov"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["pattern"], "episode");
    assert_eq!(lines[0]["frameio_path"], "PLANS/EP3/ABC/ep3-abc-v2.mov");
    assert_eq!(lines[1]["pattern"], "sc_shot");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("nomenclature.patterns[1]") && stderr.contains("\"typo\""),
        "{stderr}"
    );
}

#[test]
fn human_output_and_paths_work_without_json() {
    let home = tempfile::tempdir().unwrap();
    let out = support::postflow(home.path())
        .args([
            "parse",
            "/Volumes/fs/BY_SHOT/SC01_UNDLM_00412_V002.mov",
            "notes.wav",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("SCENES/SC01/UNDLM_00412/SC01_UNDLM_00412_V002.mov"),
        "{stdout}"
    );
    assert!(stdout.contains("notes.wav\tunsupported\t"), "{stdout}");
}

#[test]
fn parse_without_names_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let out = support::postflow(home.path())
        .arg("parse")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
