//! Last line of defence: scrubs secrets out of text bound for a log.
//!
//! Two nets: every secret value the store has seen (registered here), and
//! patterns for secret-shaped text that may reach a log through another path
//! (a Discord webhook URL in an HTTP error, an `Authorization: Bearer`
//! header, an OAuth token in a form or JSON body).

use std::borrow::Cow;
use std::sync::{LazyLock, RwLock};

use regex::Regex;

/// What replaces a secret.
pub const MASK: &str = "••••";

/// Values shorter than this are not registered: scrubbing a short common
/// string would mangle logs and protects nothing.
const MIN_SECRET_LEN: usize = 8;

static KNOWN: LazyLock<RwLock<Vec<String>>> = LazyLock::new(|| RwLock::new(Vec::new()));

static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    vec![
        (
            Regex::new(r"(https?://[A-Za-z0-9.-]*discord(?:app)?\.com/api(?:/v[0-9]+)?/webhooks/[0-9]{1,4})[0-9]*/[A-Za-z0-9_-]+").unwrap(),
            "${1}…/••••",
        ),
        (Regex::new(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+").unwrap(), "${1}••••"),
        (
            Regex::new(r#"(?i)((?:access|refresh|id)_token["']?\s*[:=]\s*["']?)[^"'&\s,}]+"#).unwrap(),
            "${1}••••",
        ),
        (
            Regex::new(r#"(?i)((?:client_secret|code_verifier|password)["']?\s*[:=]\s*["']?)[^"'&\s,}]+"#).unwrap(),
            "${1}••••",
        ),
    ]
});

/// Remembers a secret value so [`scrub`] removes it wherever it appears.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(|p| p.into_inner());
    if !known.iter().any(|k| k == secret) {
        known.push(secret.to_string());
        // Longest first, so a secret containing another is replaced whole.
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// `text` with every registered secret and secret-shaped substring masked.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    {
        let known = KNOWN.read().unwrap_or_else(|p| p.into_inner());
        for secret in known.iter() {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), MASK));
            }
        }
    }
    for (pattern, replacement) in PATTERNS.iter() {
        if let Cow::Owned(replaced) = pattern.replace_all(&out, *replacement) {
            out = Cow::Owned(replaced);
        }
    }
    out
}
