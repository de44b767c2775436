//! Checks of meaning, after the types are right: every problem, each with its
//! key and a fix.

use std::path::Path;

use postflow_nomenclature::{Nomenclature, NomenclatureConfig, PatternError};

use crate::{Problem, Settings};

impl Settings {
    /// Everything wrong with these settings, in file order. Touches the disk
    /// only to look at `watch.root`.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        self.validate_watch(&mut problems);
        self.validate_nomenclature(&mut problems);
        self.validate_frameio(&mut problems);
        self.validate_discord(&mut problems);
        self.validate_transfers(&mut problems);
        self.validate_ui(&mut problems);
        problems
    }

    /// What keeps these settings from being saved: every problem of
    /// [`Settings::validate`] but those that only say a required value is
    /// not set yet (the watched folder, the Frame.io account and project).
    /// Setting up is done in steps (the client id, then sign-in, then the
    /// project), each saved; nothing *wrong* is ever saved.
    pub fn validate_for_saving(&self) -> Vec<Problem> {
        let unset = |key: &str| match key {
            "watch.root" => self.watch.root.as_os_str().is_empty(),
            "frameio.account_id" => self.frameio.account_id.is_empty(),
            "frameio.project_id" => self.frameio.project_id.is_empty(),
            _ => false,
        };
        self.validate()
            .into_iter()
            .filter(|p| !unset(&p.key))
            .collect()
    }

    fn validate_ui(&self, problems: &mut Vec<Problem>) {
        let listen = self.ui.listen.trim();
        if listen.is_empty() {
            return;
        }
        match listen.parse::<std::net::SocketAddr>() {
            Err(_) => problems.push(Problem::new(
                "ui.listen",
                format!("\"{listen}\" is not an address and port"),
                "write an IP address and a port, e.g. \"127.0.0.1:8484\" (or \"\" for no web UI)",
            )),
            Ok(addr) if !addr.ip().is_loopback() && !self.ui.allow_remote => {
                problems.push(Problem::new(
                    "ui.listen",
                    format!("{addr} can be reached from other machines"),
                    "use 127.0.0.1, or set ui.allow_remote = true if other machines must reach the UI (it then asks for its key)",
                ))
            }
            Ok(_) => {}
        }
    }

    /// The nomenclature these settings describe. Fails with the same
    /// problems [`Settings::validate`] reports for `nomenclature.patterns`.
    pub fn nomenclature(&self) -> Result<Nomenclature, Vec<Problem>> {
        match self.nomenclature_lenient() {
            (nomenclature, problems) if problems.is_empty() => Ok(nomenclature),
            (_, problems) => Err(problems),
        }
    }

    /// The nomenclature with invalid custom patterns left out, and the
    /// problems with them.
    pub fn nomenclature_lenient(&self) -> (Nomenclature, Vec<Problem>) {
        let (nomenclature, errors) = Nomenclature::new_lenient(&NomenclatureConfig {
            extensions: &self.watch.extensions,
            custom_patterns: &self.nomenclature.patterns,
            use_builtin_patterns: self.nomenclature.use_builtin_patterns,
            structure_root: &self.nomenclature.structure_root,
        });
        (nomenclature, errors.iter().map(pattern_problem).collect())
    }

    fn validate_watch(&self, problems: &mut Vec<Problem>) {
        let root = &self.watch.root;
        if root.as_os_str().is_empty() {
            problems.push(Problem::new(
                "watch.root",
                "not set",
                "set it to the BY_SHOT folder of your LucidLink filespace, e.g. /Volumes/filespace/BY_SHOT (or LUCIDLINK_BY_SHOT_PATH)",
            ));
        } else if !root.is_absolute() {
            problems.push(Problem::new(
                "watch.root",
                format!("{} is a relative path", root.display()),
                "write the full path from the root of the disk",
            ));
        } else {
            check_root_dir(root, problems);
        }

        if self.watch.extensions.is_empty() {
            problems.push(Problem::new(
                "watch.extensions",
                "the list is empty, so nothing would ever be uploaded",
                "list the extensions to upload, e.g. [\"mov\", \"mp4\", \"mxf\"]",
            ));
        }
        for ext in &self.watch.extensions {
            let e = ext.trim().trim_start_matches('.');
            if e.is_empty() || e.contains(['.', '/', '\\', ' ', '*']) {
                problems.push(Problem::new(
                    "watch.extensions",
                    format!("\"{ext}\" is not a file extension"),
                    "write plain extensions without wildcards, e.g. \"mov\"",
                ));
            }
        }
        bounded(
            problems,
            "watch.readiness_window_secs",
            self.watch.readiness_window_secs,
            1..=3600,
            "LucidLink shows files before their bytes arrive; 30 s is a safe default",
        );
        bounded(
            problems,
            "watch.rescan_interval_secs",
            self.watch.rescan_interval_secs,
            1..=3600,
            "renders from other workstations are only seen by rescans; 15 s is the default",
        );
    }

    fn validate_nomenclature(&self, problems: &mut Vec<Problem>) {
        if let Err(pattern_problems) = self.nomenclature() {
            problems.extend(pattern_problems);
        }
        if !self.nomenclature.use_builtin_patterns && self.nomenclature.patterns.is_empty() {
            problems.push(Problem::new(
                "nomenclature.use_builtin_patterns",
                "built-in patterns are off and no custom pattern is set, so no name can be recognized",
                "set use_builtin_patterns = true or add a [[nomenclature.patterns]] entry",
            ));
        }
        let root = &self.nomenclature.structure_root;
        if root.contains(['/', '\\']) || root == "." || root == ".." || root.trim() != root {
            problems.push(Problem::new(
                "nomenclature.structure_root",
                format!("\"{root}\" is not a single folder name"),
                "write one folder name such as \"SCENES\" (or \"\" for the project root)",
            ));
        }
    }

    fn validate_frameio(&self, problems: &mut Vec<Problem>) {
        let f = &self.frameio;
        for (key, value) in [
            ("frameio.api_base_url", &f.api_base_url),
            ("frameio.ims_base_url", &f.ims_base_url),
        ] {
            if let Err(message) = check_base_url(value) {
                problems.push(Problem::new(
                    key,
                    message,
                    "write an https:// URL such as the default",
                ));
            }
        }
        if !f.redirect_uri.is_empty() {
            if let Err(e) = url::Url::parse(&f.redirect_uri) {
                problems.push(Problem::new(
                    "frameio.redirect_uri",
                    format!("\"{}\" is not a URL: {e}", f.redirect_uri),
                    "use the redirect URI registered with your Adobe credential, e.g. http://127.0.0.1:8765/callback",
                ));
            }
        }
        for (key, value, required) in [
            ("frameio.account_id", &f.account_id, true),
            ("frameio.workspace_id", &f.workspace_id, false),
            ("frameio.project_id", &f.project_id, true),
        ] {
            if value.is_empty() {
                if required {
                    problems.push(Problem::new(
                        key,
                        "not set",
                        "sign in and pick the project in PostFlow, or copy the id from the Frame.io web app",
                    ));
                }
            } else if uuid::Uuid::try_parse(value).is_err() {
                problems.push(Problem::new(
                    key,
                    format!("\"{value}\" is not a Frame.io id"),
                    "Frame.io V4 ids look like 7f3e1c9a-1b2c-4d5e-8f90-123456789abc; copy it again",
                ));
            }
        }
    }

    fn validate_discord(&self, problems: &mut Vec<Problem>) {
        bounded(
            problems,
            "discord.batching_window_secs",
            self.discord.batching_window_secs,
            0..=600,
            "0 sends each upload at once; 10 s groups a batch of renders into one message",
        );
        let mention = self.discord.mention.trim();
        if !mention.is_empty() && !is_discord_mention(mention) {
            problems.push(Problem::new(
                "discord.mention",
                format!("\"{mention}\" is not a Discord mention"),
                "write <@USER_ID> for a person or <@&ROLE_ID> for a role (Developer Mode > Copy ID), or leave it empty",
            ));
        }
    }

    fn validate_transfers(&self, problems: &mut Vec<Problem>) {
        bounded(
            problems,
            "transfers.parallel_files",
            self.transfers.parallel_files.into(),
            1..=16,
            "2 suits most links",
        );
        bounded(
            problems,
            "transfers.parallel_parts",
            self.transfers.parallel_parts.into(),
            1..=32,
            "4 suits most links; more helps on long fat links",
        );
        bounded(
            problems,
            "transfers.takeover_after_secs",
            self.transfers.takeover_after_secs,
            2..=86_400,
            "300 (5 minutes) suits most facilities: long enough for a restart, short enough not to hold a render up",
        );
        bounded(
            problems,
            "transfers.max_attempts",
            self.transfers.max_attempts.into(),
            1..=100,
            "8 retries a file for about two hours (30 s doubling) before it needs a person",
        );
        bounded(
            problems,
            "transfers.retry_base_secs",
            self.transfers.retry_base_secs,
            1..=3600,
            "30 s suits most failures; each retry waits twice as long, at most an hour",
        );
        let (_, entries) =
            crate::BandwidthTimetable::parse_lenient(&self.transfers.bandwidth_timetable);
        for e in entries {
            problems.push(Problem::new(
                "transfers.bandwidth_timetable",
                format!("entry {} \"{}\": {}", e.index, e.entry, e.message),
                e.fix,
            ));
        }
    }

    /// The bandwidth timetable with its bad entries left out (they are
    /// among [`Settings::validate`]'s problems); empty when not set.
    pub fn bandwidth_timetable(&self) -> crate::BandwidthTimetable {
        crate::BandwidthTimetable::parse_lenient(&self.transfers.bandwidth_timetable).0
    }
}

fn check_root_dir(root: &Path, problems: &mut Vec<Problem>) {
    match std::fs::metadata(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => problems.push(Problem::new(
            "watch.root",
            format!("{} does not exist", root.display()),
            "mount the LucidLink filespace (is LucidLink running and connected?) or correct the path",
        )),
        Err(e) => problems.push(Problem::new(
            "watch.root",
            format!("{} cannot be read: {e}", root.display()),
            "check that this user may read the folder",
        )),
        Ok(m) if !m.is_dir() => problems.push(Problem::new(
            "watch.root",
            format!("{} is a file, not a folder", root.display()),
            "point it at the BY_SHOT folder itself",
        )),
        Ok(_) => {
            if let Err(e) = std::fs::read_dir(root) {
                problems.push(Problem::new(
                    "watch.root",
                    format!("{} cannot be listed: {e}", root.display()),
                    "check that this user may read the folder",
                ));
            }
        }
    }
}

fn bounded(
    problems: &mut Vec<Problem>,
    key: &str,
    value: u64,
    range: std::ops::RangeInclusive<u64>,
    hint: &str,
) {
    if !range.contains(&value) {
        problems.push(Problem::new(
            key,
            format!(
                "{value} is out of range ({} to {})",
                range.start(),
                range.end()
            ),
            format!(
                "choose a value from {} to {}; {hint}",
                range.start(),
                range.end()
            ),
        ));
    }
}

fn check_base_url(value: &str) -> Result<(), String> {
    let url = url::Url::parse(value).map_err(|e| format!("\"{value}\" is not a URL: {e}"))?;
    let loopback = matches!(
        url.host_str(),
        Some("127.0.0.1") | Some("localhost") | Some("[::1]")
    );
    match url.scheme() {
        "https" => Ok(()),
        // Plain http only to this machine: the local Frame.io emulator.
        "http" if loopback => Ok(()),
        "http" => Err(format!(
            "\"{value}\" uses plain http; tokens would cross the network unencrypted"
        )),
        other => Err(format!("\"{value}\" has the scheme {other}:, not https:")),
    }
}

fn is_discord_mention(mention: &str) -> bool {
    let inner = mention
        .strip_prefix("<@&")
        .or_else(|| mention.strip_prefix("<@"))
        .and_then(|m| m.strip_suffix('>'));
    matches!(inner, Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

fn pattern_problem(error: &PatternError) -> Problem {
    let fix = match error {
        PatternError::EmptyName { .. } => "give the pattern a name",
        PatternError::BuiltinName { .. } => "rename the pattern",
        PatternError::InvalidRegex { .. } => {
            "correct the regular expression (Rust regex syntax; test it with `postflow parse`)"
        }
        PatternError::MissingGroups { .. } => {
            "capture the three parts with (?P<scene>...), (?P<shot>...) and (?P<version>...)"
        }
    };
    Problem::new(
        format!("nomenclature.patterns[{}]", error.index()),
        error.to_string(),
        fix,
    )
}
