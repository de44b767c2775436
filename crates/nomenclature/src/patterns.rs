//! Built-in and user patterns (§2) and the normalisation of what they capture (§3).

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

/// The built-in patterns, in the order they are tried.
pub const BUILTIN_PATTERN_NAMES: &[&str] = &["sc_shot", "titled"];

// `[0-9]`, not `\d`: `\d` is Unicode-aware in `regex` and would accept
// Arabic-Indic or full-width digits that no editor means as a version.
const SC_SHOT: &str = r"^(?P<scene>SC[0-9]+)_(?P<shot>.+)_V(?P<version>[0-9]+)$";
const TITLED: &str = r"^(?P<scene>.+)_S(?P<shot>[0-9]+)_V(?P<version>[0-9]+)$";

/// A user pattern as written in the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PatternSpec {
    /// Shown in `parse` output and the UI; must not be a built-in name.
    pub name: String,
    /// A regular expression (Rust `regex` syntax) with the named groups
    /// `scene`, `shot` and `version`. It must match the whole stem and is
    /// applied case-insensitively, like the built-ins.
    pub regex: String,
}

/// Why a user pattern was refused. Names the pattern, so the settings check
/// can say which one to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("pattern #{index} has an empty name; give it a short name such as \"studio_a\"")]
    EmptyName { index: usize },
    #[error("pattern \"{name}\" reuses a built-in name; choose another name")]
    BuiltinName { index: usize, name: String },
    #[error("pattern \"{name}\" is not a valid regular expression: {message}")]
    InvalidRegex {
        index: usize,
        name: String,
        message: String,
    },
    #[error("pattern \"{name}\" lacks the named group(s) {missing}; write them as (?P<scene>...), (?P<shot>...), (?P<version>...)")]
    MissingGroups {
        index: usize,
        name: String,
        missing: String,
    },
}

impl PatternError {
    /// The position of the offending pattern in `nomenclature.patterns`.
    pub fn index(&self) -> usize {
        match self {
            PatternError::EmptyName { index }
            | PatternError::BuiltinName { index, .. }
            | PatternError::InvalidRegex { index, .. }
            | PatternError::MissingGroups { index, .. } => *index,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ScShot,
    Titled,
    Custom,
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    name: String,
    regex: Regex,
    kind: Kind,
}

/// What a pattern captured, normalised.
pub(crate) struct Parts {
    pub scene: String,
    pub shot: String,
    pub version: String,
}

impl Pattern {
    pub(crate) fn builtins() -> Vec<Pattern> {
        vec![
            Pattern::compile("sc_shot", SC_SHOT, Kind::ScShot).expect("built-in pattern compiles"),
            Pattern::compile("titled", TITLED, Kind::Titled).expect("built-in pattern compiles"),
        ]
    }

    pub(crate) fn custom(index: usize, spec: &PatternSpec) -> Result<Pattern, PatternError> {
        let name = spec.name.trim();
        if name.is_empty() {
            return Err(PatternError::EmptyName { index });
        }
        if BUILTIN_PATTERN_NAMES.contains(&name) {
            return Err(PatternError::BuiltinName {
                index,
                name: name.to_string(),
            });
        }
        // Anchor the user's expression so it must match the whole stem, as
        // the built-ins do; a bare `SC(?P<scene>..)` would otherwise match
        // inside any name.
        let anchored = format!("^(?:{})$", spec.regex);
        let pattern = Pattern::compile(name, &anchored, Kind::Custom).map_err(|e| {
            PatternError::InvalidRegex {
                index,
                name: name.to_string(),
                // regex's message spans several lines with a caret diagram;
                // the last line is the sentence that says what is wrong.
                message: e
                    .to_string()
                    .lines()
                    .rfind(|l| !l.trim().is_empty())
                    .unwrap_or("invalid syntax")
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string(),
            }
        })?;
        let missing: Vec<&str> = ["scene", "shot", "version"]
            .into_iter()
            .filter(|g| !pattern.regex.capture_names().flatten().any(|n| n == *g))
            .collect();
        if !missing.is_empty() {
            return Err(PatternError::MissingGroups {
                index,
                name: name.to_string(),
                missing: missing.join(", "),
            });
        }
        Ok(pattern)
    }

    fn compile(name: &str, regex: &str, kind: Kind) -> Result<Pattern, regex::Error> {
        let regex = RegexBuilder::new(regex)
            .case_insensitive(true)
            // A user pattern is configuration, not an attack surface, but a
            // typo should not build a huge automaton.
            .size_limit(1 << 20)
            .build()?;
        Ok(Pattern {
            name: name.to_string(),
            regex,
            kind,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn regex(&self) -> &str {
        self.regex.as_str()
    }

    /// Matches an NFC stem and normalises what it captured (§3), or `None`.
    pub(crate) fn apply(&self, stem: &str) -> Option<Parts> {
        let caps = self.regex.captures(stem)?;
        let scene = caps.name("scene")?.as_str().trim();
        let shot = caps.name("shot")?.as_str().trim();
        if scene.is_empty() || shot.is_empty() {
            return None;
        }
        let version = version_digits(caps.name("version")?.as_str())?;
        let shot = match self.kind {
            // `s1` -> `S01`, `S003` -> `S03`.
            Kind::Titled => format!("S{}", pad(shot, 2)),
            Kind::ScShot | Kind::Custom => shot.to_uppercase(),
        };
        Some(Parts {
            scene: scene.to_uppercase(),
            shot,
            version: format!("V{}", pad(version, 3)),
        })
    }
}

/// The digits of a version capture. Custom patterns may capture `v12` or `12`;
/// anything else is not a version, so the pattern does not match.
fn version_digits(captured: &str) -> Option<&str> {
    let digits = captured.trim().trim_start_matches(['v', 'V']);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Drops leading zeros, then pads with zeros to at least `width` digits:
/// `pad("0012", 3) == "012"`, `pad("1234", 3) == "1234"`, `pad("0", 3) == "000"`.
fn pad(digits: &str, width: usize) -> String {
    let significant = digits.trim_start_matches('0');
    format!("{significant:0>width$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_follows_the_spec_examples() {
        assert_eq!(pad("2", 3), "002");
        assert_eq!(pad("0012", 3), "012");
        assert_eq!(pad("1234", 3), "1234");
        assert_eq!(pad("000", 3), "000");
        assert_eq!(pad("1", 2), "01");
        assert_eq!(pad("003", 2), "03");
    }

    #[test]
    fn version_capture_accepts_an_optional_v_and_digits_only() {
        assert_eq!(version_digits("v12"), Some("12"));
        assert_eq!(version_digits("12"), Some("12"));
        assert_eq!(version_digits("vA"), None);
        assert_eq!(version_digits(""), None);
    }
}
