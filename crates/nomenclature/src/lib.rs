//! Shot nomenclature: how a rendered file's **name** becomes a scene, a shot,
//! a version and a place in Frame.io.
//!
//! This crate is the executable form of `shared/spec/nomenclature.md`; the
//! section numbers in comments refer to it. It never touches the disk: the
//! watcher decides what is a regular file, this crate decides what the name
//! means.
//!
//! ```
//! use postflow_nomenclature::{Classification, Nomenclature};
//!
//! let n = Nomenclature::default();
//! let Classification::Parsed(shot) = n.classify("SC01_UNDLM_00412_V002.mov") else { panic!() };
//! assert_eq!((shot.scene.as_str(), shot.shot.as_str(), shot.version.as_str()), ("SC01", "UNDLM_00412", "V002"));
//! assert_eq!(n.frameio_path(&shot), "SCENES/SC01/UNDLM_00412/SC01_UNDLM_00412_V002.mov");
//! ```

mod patterns;

use std::collections::BTreeSet;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

pub use patterns::{Pattern, PatternError, PatternSpec, BUILTIN_PATTERN_NAMES};

/// Extensions supported out of the box (§1), lower case, without the dot.
pub const DEFAULT_EXTENSIONS: &[&str] = &[
    "mov", "mp4", "avi", "mkv", "mxf", "prores", "dnxhd", "r3d", "braw",
];

/// The default structure root under the project's root folder (§0).
pub const DEFAULT_STRUCTURE_ROOT: &str = "SCENES";

/// Frame.io's limit on a file name, in characters (§1).
pub const MAX_NAME_CHARS: usize = 255;

/// Suffixes of renders or copies still in progress (§1), lower case.
const IN_PROGRESS_SUFFIXES: &[&str] = &[
    ".part",
    ".partial",
    ".tmp",
    ".temp",
    ".crdownload",
    ".download",
    ".!sync",
];

/// What a file name is, for PostFlow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    /// A pattern matched: this file belongs to a shot.
    Parsed(ParsedName),
    /// Hidden, system, temporary or still being written: never queued.
    Ignored { reason: String },
    /// An extension PostFlow does not upload: never queued.
    Unsupported { reason: String },
    /// A supported file whose name says nothing PostFlow understands: held and
    /// shown to the user, never uploaded (unless a fallback folder is set).
    Unrecognized { reason: String },
}

/// The four statuses of §5, as they appear in `parse --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Parsed,
    Ignored,
    Unsupported,
    Unrecognized,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Parsed => "parsed",
            Status::Ignored => "ignored",
            Status::Unsupported => "unsupported",
            Status::Unrecognized => "unrecognized",
        }
    }
}

impl Classification {
    pub fn status(&self) -> Status {
        match self {
            Classification::Parsed(_) => Status::Parsed,
            Classification::Ignored { .. } => Status::Ignored,
            Classification::Unsupported { .. } => Status::Unsupported,
            Classification::Unrecognized { .. } => Status::Unrecognized,
        }
    }

    /// The human reason for every status but `parsed`.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Classification::Parsed(_) => None,
            Classification::Ignored { reason }
            | Classification::Unsupported { reason }
            | Classification::Unrecognized { reason } => Some(reason),
        }
    }

    /// Whether a file with this name enters the durable queue (§1: `ignored`
    /// and `unsupported` never do; `unrecognized` is held there for the user).
    pub fn is_queued(&self) -> bool {
        matches!(
            self,
            Classification::Parsed(_) | Classification::Unrecognized { .. }
        )
    }
}

/// A file name that matched a pattern, normalised (§3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedName {
    /// The last path component exactly as given: the uploaded name, byte for byte.
    pub file_name: String,
    /// Upper-cased, NFC: `SC01`, `13H49_-_RECUPERATION_DES_2_SURVIVANTS`.
    pub scene: String,
    /// Upper-cased, NFC: `UNDLM_00412`, `S01`.
    pub shot: String,
    /// `V` + at least three digits: `V002`.
    pub version: String,
    /// The name of the pattern that matched: `sc_shot`, `titled` or a custom one.
    pub pattern: String,
}

impl ParsedName {
    /// The version as a number, for ordering versions of one shot. `None` only
    /// for absurdly long digit strings (more than `u64` holds).
    pub fn version_number(&self) -> Option<u64> {
        self.version[1..].parse().ok()
    }
}

/// A configured nomenclature: the supported extensions, the patterns in the
/// order they are tried, and the structure root.
#[derive(Debug, Clone)]
pub struct Nomenclature {
    extensions: BTreeSet<String>,
    patterns: Vec<Pattern>,
    structure_root: String,
}

impl Default for Nomenclature {
    fn default() -> Self {
        Self {
            extensions: DEFAULT_EXTENSIONS.iter().map(|e| e.to_string()).collect(),
            patterns: Pattern::builtins(),
            structure_root: DEFAULT_STRUCTURE_ROOT.to_string(),
        }
    }
}

/// Everything that configures a [`Nomenclature`], as the settings carry it.
#[derive(Debug, Clone)]
pub struct NomenclatureConfig<'a> {
    /// Supported extensions, with or without a leading dot, any case.
    pub extensions: &'a [String],
    /// User patterns, tried first, in order.
    pub custom_patterns: &'a [PatternSpec],
    /// Whether the built-in patterns are tried after the custom ones.
    pub use_builtin_patterns: bool,
    pub structure_root: &'a str,
}

impl Nomenclature {
    /// Builds a nomenclature, reporting **every** invalid custom pattern.
    pub fn new(config: &NomenclatureConfig<'_>) -> Result<Self, Vec<PatternError>> {
        match Self::new_lenient(config) {
            (nomenclature, errors) if errors.is_empty() => Ok(nomenclature),
            (_, errors) => Err(errors),
        }
    }

    /// Builds a nomenclature from the valid custom patterns, leaving out (and
    /// returning) the invalid ones: a typo in one pattern does not stop the
    /// others from working while the user fixes it.
    pub fn new_lenient(config: &NomenclatureConfig<'_>) -> (Self, Vec<PatternError>) {
        let mut errors = Vec::new();
        let mut patterns = Vec::new();
        for (index, spec) in config.custom_patterns.iter().enumerate() {
            match Pattern::custom(index, spec) {
                Ok(p) => patterns.push(p),
                Err(e) => errors.push(e),
            }
        }
        if config.use_builtin_patterns {
            patterns.extend(Pattern::builtins());
        }
        let nomenclature = Self {
            extensions: config
                .extensions
                .iter()
                .map(|e| normalize_extension(e))
                .collect(),
            patterns,
            structure_root: config.structure_root.to_string(),
        };
        (nomenclature, errors)
    }

    pub fn structure_root(&self) -> &str {
        &self.structure_root
    }

    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    pub fn extensions(&self) -> impl Iterator<Item = &str> {
        self.extensions.iter().map(String::as_str)
    }

    /// Classifies a bare file name or a path; only the last component is read
    /// (`/` and `\` both separate components, so Windows paths work too).
    pub fn classify(&self, name_or_path: &str) -> Classification {
        let name = last_component(name_or_path);
        let lower = name.to_lowercase();

        // §1, in order; the first rule that applies wins.
        if name.starts_with("._") {
            return ignored("macOS metadata file (AppleDouble '._' prefix)");
        }
        if name.starts_with('.') {
            return ignored("hidden file (name starts with '.')");
        }
        if name.starts_with('~') {
            return ignored("temporary or lock file (name starts with '~')");
        }
        if lower == "thumbs.db" || lower == "desktop.ini" {
            return ignored("Windows system file");
        }
        if let Some(suffix) = IN_PROGRESS_SUFFIXES.iter().find(|s| lower.ends_with(*s)) {
            return ignored(&format!(
                "render or copy still in progress ('{suffix}' suffix)"
            ));
        }
        let Some((stem, extension)) = name.rsplit_once('.') else {
            return Classification::Unsupported {
                reason: format!("no file extension; supported: {}", self.extension_list()),
            };
        };
        if !self.extensions.contains(&extension.to_lowercase()) {
            return Classification::Unsupported {
                reason: format!(
                    "extension '.{extension}' is not supported; supported: {}",
                    self.extension_list()
                ),
            };
        }
        let chars = name.chars().count();
        if chars > MAX_NAME_CHARS {
            return Classification::Unrecognized {
                reason: format!(
                    "name is {chars} characters long; Frame.io accepts at most {MAX_NAME_CHARS}"
                ),
            };
        }

        // §3: NFC first, so a decomposed macOS name parses like a composed one.
        let stem: String = stem.nfc().collect();
        for pattern in &self.patterns {
            if let Some(parts) = pattern.apply(&stem) {
                return Classification::Parsed(ParsedName {
                    file_name: name.to_string(),
                    scene: parts.scene,
                    shot: parts.shot,
                    version: parts.version,
                    pattern: pattern.name().to_string(),
                });
            }
        }
        Classification::Unrecognized {
            reason: format!(
                "name matches no pattern (tried {}); expected e.g. SC01_UNDLM_00412_V002 or TITLE_S01_V001",
                self.patterns
                    .iter()
                    .map(Pattern::name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// `SCENES/<scene>/<shot>/<original file name>` (§0).
    pub fn frameio_path(&self, parsed: &ParsedName) -> String {
        self.folder_path(parsed)
            .into_iter()
            .chain(std::iter::once(parsed.file_name.as_str()))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The folders to ensure, from the project root down: `[SCENES, scene, shot]`.
    /// An empty structure root puts scenes directly under the project root.
    pub fn folder_path<'a>(&'a self, parsed: &'a ParsedName) -> Vec<&'a str> {
        let mut path = Vec::with_capacity(3);
        if !self.structure_root.is_empty() {
            path.push(self.structure_root.as_str());
        }
        path.push(parsed.scene.as_str());
        path.push(parsed.shot.as_str());
        path
    }

    fn extension_list(&self) -> String {
        self.extensions
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `.MOV` and `mov` both mean `mov`.
pub fn normalize_extension(extension: &str) -> String {
    extension.trim().trim_start_matches('.').to_lowercase()
}

fn last_component(name_or_path: &str) -> &str {
    name_or_path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(name_or_path)
}

fn ignored(reason: &str) -> Classification {
    Classification::Ignored {
        reason: reason.to_string(),
    }
}

/// One line of `postflow parse --json` (§5): exactly these keys, in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct ParseReport {
    pub name: String,
    pub status: Status,
    pub scene: Option<String>,
    pub shot: Option<String>,
    pub version: Option<String>,
    pub pattern: Option<String>,
    pub frameio_path: Option<String>,
    pub reason: Option<String>,
}

impl Nomenclature {
    /// Classifies a name and shapes the answer as `parse --json` prints it.
    pub fn report(&self, name_or_path: &str) -> ParseReport {
        let classification = self.classify(name_or_path);
        let name = last_component(name_or_path).to_string();
        match classification {
            Classification::Parsed(p) => ParseReport {
                frameio_path: Some(self.frameio_path(&p)),
                name,
                status: Status::Parsed,
                scene: Some(p.scene),
                shot: Some(p.shot),
                version: Some(p.version),
                pattern: Some(p.pattern),
                reason: None,
            },
            other => ParseReport {
                name,
                status: other.status(),
                scene: None,
                shot: None,
                version: None,
                pattern: None,
                frameio_path: None,
                reason: other.reason().map(str::to_string),
            },
        }
    }
}

#[cfg(test)]
mod tests;
