use super::*;
use std::sync::LazyLock;

use proptest::prelude::*;

/// Compiled once: building a nomenclature compiles its regexes.
static DEFAULT: LazyLock<Nomenclature> = LazyLock::new(Nomenclature::default);

fn parsed(name: &str) -> ParsedName {
    match Nomenclature::default().classify(name) {
        Classification::Parsed(p) => p,
        other => panic!("{name} should parse, got {other:?}"),
    }
}

fn status(name: &str) -> Status {
    Nomenclature::default().classify(name).status()
}

/// Every row of the shared cases file (a floor, read from `shared/`).
#[test]
fn shared_cases_file() {
    let path = std::env::var("POSTFLOW_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
        })
        .join("spec/nomenclature-cases.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let n = Nomenclature::default();
    let mut rows = 0;
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 6, "malformed row: {line:?}");
        let opt = |s: &str| (s != "-").then(|| s.to_string());
        let report = n.report(cols[0]);
        assert_eq!(report.status.as_str(), cols[1], "status of {}", cols[0]);
        assert_eq!(report.scene, opt(cols[2]), "scene of {}", cols[0]);
        assert_eq!(report.shot, opt(cols[3]), "shot of {}", cols[0]);
        assert_eq!(report.version, opt(cols[4]), "version of {}", cols[0]);
        assert_eq!(report.pattern, opt(cols[5]), "pattern of {}", cols[0]);
        assert_eq!(
            report.reason.is_none(),
            cols[1] == "parsed",
            "reason of {}",
            cols[0]
        );
        rows += 1;
    }
    assert!(rows >= 19, "only {rows} rows read from {}", path.display());
}

#[test]
fn product_brief_examples_give_their_frameio_paths() {
    let n = Nomenclature::default();
    for (name, path) in [
        ("SC01_UNDLM_00412_V002.mov", "SCENES/SC01/UNDLM_00412/SC01_UNDLM_00412_V002.mov"),
        (
            "13H49_-_RECUPERATION_DES_2_SURVIVANTS_S01_V001.mov",
            "SCENES/13H49_-_RECUPERATION_DES_2_SURVIVANTS/S01/13H49_-_RECUPERATION_DES_2_SURVIVANTS_S01_V001.mov",
        ),
        (
            "2EME_MAYDAY_EXT_-_NUIT_AMERICAINE_S03_V005.mp4",
            "SCENES/2EME_MAYDAY_EXT_-_NUIT_AMERICAINE/S03/2EME_MAYDAY_EXT_-_NUIT_AMERICAINE_S03_V005.mp4",
        ),
    ] {
        assert_eq!(n.report(name).frameio_path.as_deref(), Some(path));
    }
}

#[test]
fn versions_are_padded_to_three_digits_at_least() {
    assert_eq!(parsed("SC01_A_v2.mov").version, "V002");
    assert_eq!(parsed("SC01_A_V0012.mov").version, "V012");
    assert_eq!(parsed("SC01_A_V1234.mov").version, "V1234");
    assert_eq!(parsed("SC01_A_V0.mov").version, "V000");
    assert_eq!(parsed("SC01_A_V1234.mov").version_number(), Some(1234));
}

#[test]
fn titled_shots_are_padded_to_two_digits() {
    assert_eq!(parsed("TITLE_s1_v1.mov").shot, "S01");
    assert_eq!(parsed("TITLE_S003_V1.mov").shot, "S03");
    assert_eq!(parsed("TITLE_S123_V1.mov").shot, "S123");
}

#[test]
fn scene_and_shot_are_upper_cased_and_accents_kept() {
    let p = parsed("la_fuite_de_l'été_s2_v4.mov");
    assert_eq!(p.scene, "LA_FUITE_DE_L'ÉTÉ");
    assert_eq!(p.shot, "S02");
    let p = parsed("sc3_undlm_00001_V010.mxf");
    assert_eq!((p.scene.as_str(), p.shot.as_str()), ("SC3", "UNDLM_00001"));
}

#[test]
fn decomposed_unicode_parses_like_composed_and_keeps_the_original_name() {
    // macOS writes "É" as "E" + U+0301.
    let decomposed = "E\u{301}TE\u{301}_S01_V001.mov";
    let composed = "\u{c9}T\u{c9}_S01_V001.mov";
    let a = parsed(decomposed);
    let b = parsed(composed);
    assert_eq!(a.scene, b.scene);
    assert_eq!(a.scene, "\u{c9}T\u{c9}");
    assert_eq!(
        a.file_name, decomposed,
        "the uploaded name is kept byte for byte"
    );
}

#[test]
fn the_version_must_end_the_stem_and_parts_must_be_non_empty() {
    assert_eq!(
        status("SC01_UNDLM_00412_V002_GRADED.mov"),
        Status::Unrecognized
    );
    assert_eq!(status("SC01__V001.mov"), Status::Unrecognized);
    assert_eq!(status("_S01_V001.mov"), Status::Unrecognized);
    assert_eq!(status("SC01_A_V.mov"), Status::Unrecognized);
}

#[test]
fn non_ascii_digits_are_not_versions() {
    // U+0663 ARABIC-INDIC DIGIT THREE, U+FF11 FULLWIDTH DIGIT ONE.
    assert_eq!(status("SC01_A_V\u{663}.mov"), Status::Unrecognized);
    assert_eq!(status("SC\u{ff11}_A_V001.mov"), Status::Unrecognized);
}

#[test]
fn ignore_rules_apply_in_order() {
    for name in [
        ".hidden.mov",
        "._SC01_A_V001.mov",
        "~lock.mov",
        "THUMBS.DB",
        "desktop.ini",
        "SC01_A_V001.mov.PARTIAL",
        "SC01_A_V001.mov.tmp",
        "SC01_A_V001.mov.temp",
        "SC01_A_V001.mov.crdownload",
        "SC01_A_V001.mov.download",
        "SC01_A_V001.mov.!sync",
        // Ignored wins over unsupported: the rule order of §1.
        ".DS_Store.wav",
    ] {
        assert_eq!(status(name), Status::Ignored, "{name}");
    }
}

#[test]
fn extensions_are_case_insensitive_and_need_a_dot() {
    assert_eq!(status("SC01_A_V001.MoV"), Status::Parsed);
    assert_eq!(status("SC01_A_V001.braw"), Status::Parsed);
    assert_eq!(status("SC01_A_V001."), Status::Unsupported);
    assert_eq!(status("mov"), Status::Unsupported);
    let reason = Nomenclature::default()
        .classify("SC01_A_V001.wav")
        .reason()
        .unwrap()
        .to_string();
    assert!(
        reason.contains(".wav") && reason.contains("mov"),
        "{reason}"
    );
}

#[test]
fn names_over_255_characters_are_unrecognized() {
    let stem_255 = format!("SC01_{}_V001", "A".repeat(255 - 4 - 5 - 5));
    assert_eq!(format!("{stem_255}.mov").chars().count(), 255);
    assert_eq!(status(&format!("{stem_255}.mov")), Status::Parsed);
    let long = format!("SC01_{}_V001.mov", "A".repeat(300));
    let c = Nomenclature::default().classify(&long);
    assert_eq!(c.status(), Status::Unrecognized);
    assert!(c.reason().unwrap().contains("255"));
}

#[test]
fn paths_use_their_last_component_with_either_separator() {
    let n = Nomenclature::default();
    assert_eq!(
        n.report("/Volumes/fs/BY_SHOT/SC01/SC02_X_V001.braw").name,
        "SC02_X_V001.braw"
    );
    assert_eq!(
        n.report(r"L:\BY_SHOT\SC02_X_V001.braw").scene.as_deref(),
        Some("SC02")
    );
}

fn config<'a>(
    extensions: &'a [String],
    custom: &'a [PatternSpec],
    builtins: bool,
    root: &'a str,
) -> NomenclatureConfig<'a> {
    NomenclatureConfig {
        extensions,
        custom_patterns: custom,
        use_builtin_patterns: builtins,
        structure_root: root,
    }
}

#[test]
fn custom_patterns_come_first_and_are_normalised() {
    let exts = vec![".MOV".to_string()];
    let custom = vec![PatternSpec {
        name: "studio".into(),
        regex: r"(?P<scene>EP[0-9]+)-(?P<shot>[a-z]+)-(?P<version>v[0-9]+)".into(),
    }];
    let n = Nomenclature::new(&config(&exts, &custom, true, "SHOTS")).unwrap();
    let r = n.report("ep2-abc-v7.mov");
    assert_eq!(r.pattern.as_deref(), Some("studio"));
    assert_eq!(r.scene.as_deref(), Some("EP2"));
    assert_eq!(r.shot.as_deref(), Some("ABC"));
    assert_eq!(r.version.as_deref(), Some("V007"));
    assert_eq!(
        r.frameio_path.as_deref(),
        Some("SHOTS/EP2/ABC/ep2-abc-v7.mov")
    );
    // Built-ins still apply after, and mp4 is no longer supported.
    assert_eq!(
        n.report("SC01_A_V001.mov").pattern.as_deref(),
        Some("sc_shot")
    );
    assert_eq!(n.report("SC01_A_V001.mp4").status, Status::Unsupported);
    // Custom patterns must match the whole stem.
    assert_eq!(n.report("xx-ep2-abc-v7.mov").status, Status::Unrecognized);
}

#[test]
fn custom_patterns_can_replace_the_builtins() {
    let exts = vec!["mov".to_string()];
    let custom = vec![PatternSpec {
        name: "only".into(),
        regex: r"(?P<scene>[A-Z]+)_(?P<shot>[0-9]+)_(?P<version>[0-9]+)".into(),
    }];
    let n = Nomenclature::new(&config(&exts, &custom, false, "SCENES")).unwrap();
    assert_eq!(n.report("SC01_A_V001.mov").status, Status::Unrecognized);
    assert_eq!(n.report("ABC_12_3.mov").version.as_deref(), Some("V003"));
}

#[test]
fn every_bad_custom_pattern_is_reported_by_name() {
    let exts = vec!["mov".to_string()];
    let custom = vec![
        PatternSpec {
            name: "ok".into(),
            regex: r"(?P<scene>a)(?P<shot>b)(?P<version>1)".into(),
        },
        PatternSpec {
            name: "broken".into(),
            regex: r"(?P<scene>[a-".into(),
        },
        PatternSpec {
            name: "partial".into(),
            regex: r"(?P<scene>a)_(?P<shot>b)".into(),
        },
        PatternSpec {
            name: "titled".into(),
            regex: r"(?P<scene>a)(?P<shot>b)(?P<version>1)".into(),
        },
        PatternSpec {
            name: " ".into(),
            regex: r"x".into(),
        },
    ];
    let errors = Nomenclature::new(&config(&exts, &custom, true, "SCENES")).unwrap_err();
    assert_eq!(errors.len(), 4, "{errors:?}");
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        text[0].contains("\"broken\"") && text[0].contains("not a valid regular expression"),
        "{}",
        text[0]
    );
    assert!(!text[0].contains('\n'), "one line: {}", text[0]);
    assert!(
        text[1].contains("\"partial\"") && text[1].contains("version"),
        "{}",
        text[1]
    );
    assert!(text[2].contains("built-in"), "{}", text[2]);
    assert_eq!(errors[3].index(), 4);

    // Leniently, the good pattern still works.
    let (n, errors) = Nomenclature::new_lenient(&config(&exts, &custom, true, "SCENES"));
    assert_eq!(errors.len(), 4);
    assert_eq!(n.report("ab1.mov").pattern.as_deref(), Some("ok"));
    assert_eq!(n.patterns().len(), 3);
}

#[test]
fn an_empty_structure_root_puts_scenes_at_the_project_root() {
    let exts = vec!["mov".to_string()];
    let n = Nomenclature::new(&config(&exts, &[], true, "")).unwrap();
    assert_eq!(
        n.report("SC01_A_V001.mov").frameio_path.as_deref(),
        Some("SC01/A/SC01_A_V001.mov")
    );
}

#[test]
fn json_report_has_exactly_the_spec_keys_in_order() {
    let json = serde_json::to_string(&Nomenclature::default().report("x.wav")).unwrap();
    let keys: Vec<String> = serde_json::from_str::<serde_json::Value>(&json)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut expected = vec![
        "name",
        "status",
        "scene",
        "shot",
        "version",
        "pattern",
        "frameio_path",
        "reason",
    ];
    expected.sort();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort();
    assert_eq!(keys_sorted, expected);
    assert!(
        json.starts_with(r#"{"name":"x.wav","status":"unsupported","scene":null"#),
        "{json}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// No input makes classification panic, and its answer is coherent.
    #[test]
    fn never_panics_on_any_name(name in "\\PC{0,300}") {
        let n = &*DEFAULT;
        let r = n.report(&name);
        prop_assert_eq!(r.status == Status::Parsed, r.reason.is_none());
        if let Some(path) = r.frameio_path {
            prop_assert!(path.starts_with("SCENES/"));
            prop_assert!(path.ends_with(&r.name));
        }
    }

    /// Names shaped like renders always parse, and the parse is stable under
    /// a change of case.
    #[test]
    fn render_shaped_names_parse(scene in 0u32..1000, shot in "[A-Z][A-Z0-9_]{0,12}", version in 0u32..100_000, ext in "(mov|MP4|mxf|Braw)") {
        let name = format!("SC{scene}_{shot}_V{version}.{ext}");
        let n = &*DEFAULT;
        let a = n.report(&name);
        let b = n.report(&name.to_lowercase());
        prop_assert_eq!(a.status, Status::Parsed);
        prop_assert_eq!(&a.scene, &b.scene);
        prop_assert_eq!(&a.shot, &b.shot);
        prop_assert_eq!(a.version, Some(format!("V{version:03}")));
    }

    /// Arbitrary bytes around the known shapes never panic either.
    #[test]
    fn mutated_names_never_panic(prefix in "\\PC{0,20}", suffix in "\\PC{0,20}") {
        let n = &*DEFAULT;
        let _ = n.report(&format!("{prefix}SC01_A_V001{suffix}.mov"));
        let _ = n.report(&format!("{prefix}_S01_V{suffix}"));
    }
}
