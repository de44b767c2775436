//! One notice → one embed (or one digest line), in the team's language.
//!
//! Every value is capped so that any single embed stays far below Discord's
//! limits whatever the input: [`crate::compose`] then only has to decide how
//! many embeds go in one message.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::limits::{truncate, FIELD_VALUE, TITLE};
use crate::message::{Embed, Field, Footer};
use crate::notice::{Action, Cause, Upload};
use crate::text::{inline, Texts};

/// A first upload of a shot's version: green.
const COLOR_UPLOADED: u32 = 0x2E_CC_71;
/// A new version stacked onto an earlier one: blue.
const COLOR_NEW_VERSION: u32 = 0x34_98_DB;
/// A version re-rendered under the same name, stacked on its earlier copy:
/// purple, so the team does not take it for a new version.
const COLOR_RERENDER: u32 = 0x9B_59_B6;
/// Something is broken until a person acts: red.
const COLOR_FAILING: u32 = 0xE7_4C_3C;
/// Held or paused, nothing lost: orange.
const COLOR_WARNING: u32 = 0xE6_7E_22;
/// The test message: Discord's blurple.
const COLOR_TEST: u32 = 0x58_65_F2;

/// Scene, shot and version in a card (real ones are a few characters).
const SHORT: usize = 64;
/// A workstation name.
const WORKSTATION: usize = 128;
/// An action's detail (an error message).
const DETAIL: usize = 1500;
/// Scene, shot and version in a digest line.
const LINE_PART: usize = 32;
/// A file name in a digest line.
const LINE_NAME: usize = 160;
/// Longer links are left out rather than cut (a cut link leads nowhere).
const LINK: usize = 512;

const FOOTER: &str = "PostFlow";

/// The card of one upload: the file name links to Frame.io; a new version
/// of a shot has its own colour and names the version it replaces; a
/// re-render of a version already there says so, in its own colour.
pub(crate) fn upload_embed(upload: &Upload, t: &Texts) -> Embed {
    let version = short(&upload.version);
    let (color, description) = match &upload.previous_version {
        _ if upload.rerender => (COLOR_RERENDER, t.rerendered(&version)),
        Some(previous) => (COLOR_NEW_VERSION, t.new_version(&version, &short(previous))),
        None => (COLOR_UPLOADED, t.uploaded.to_string()),
    };
    Embed {
        title: Some(truncate(&inline(&upload.file_name), TITLE)),
        url: link(upload.view_url.as_deref()),
        description: Some(description),
        color: Some(color),
        fields: vec![
            field(t.scene, &upload.scene, SHORT, true),
            field(t.shot, &upload.shot, SHORT, true),
            field(t.version, &upload.version, SHORT, true),
            field(t.size, &t.size(upload.size_bytes), SHORT, true),
            field(t.workstation, &upload.workstation, WORKSTATION, true),
            field(t.path, &upload.frameio_path, FIELD_VALUE, false),
        ],
        footer: footer(),
        author: None,
        timestamp: timestamp(upload.uploaded_at),
    }
}

/// One upload as one line of a digest:
/// `SC01 · 00412 · V002 — [SC01_UNDLM_00412_V002.mov](url) · 1.2 GB`,
/// followed by `· replaces V001` for a new version or `· re-rendered` for
/// a re-render. Every part is capped,
/// so a line never runs past a few hundred characters.
pub(crate) fn digest_line(upload: &Upload, t: &Texts) -> String {
    let part = |text: &str| truncate(&inline(text), LINE_PART);
    let name = truncate(&inline(&upload.file_name), LINE_NAME);
    let name = match link(upload.view_url.as_deref()) {
        Some(url) => format!("[{name}]({url})"),
        None => name,
    };
    let mut line = format!(
        "{} · {} · {} — {name} · {}",
        part(&upload.scene),
        part(&upload.shot),
        part(&upload.version),
        t.size(upload.size_bytes),
    );
    if upload.rerender {
        line.push_str(" · ");
        line.push_str(t.rerender_tag());
    } else if let Some(previous) = &upload.previous_version {
        line.push_str(" · ");
        line.push_str(&t.replacing(&part(previous)));
    }
    line
}

/// A digest card: its lines as the description.
pub(crate) fn digest_embed(title: String, lines: String, latest_at: i64) -> Embed {
    Embed {
        title: Some(title),
        description: Some(lines),
        color: Some(COLOR_UPLOADED),
        footer: footer(),
        timestamp: timestamp(latest_at),
        ..Embed::default()
    }
}

/// The card of something a person must do: what happened, on which file
/// and workstation, and what to do about it.
pub(crate) fn action_embed(action: &Action, t: &Texts) -> Embed {
    let mut fields = Vec::new();
    if let Some(name) = &action.file_name {
        fields.push(field(t.file, name, TITLE, false));
    }
    if let Cause::KeepsFailing { attempts } = action.cause {
        fields.push(field(t.attempts, &attempts.to_string(), SHORT, true));
    }
    fields.push(field(t.workstation, &action.workstation, WORKSTATION, true));
    fields.push(field(
        t.what_to_do,
        t.cause_hint(action.cause),
        FIELD_VALUE,
        false,
    ));
    let detail = action.detail.trim();
    Embed {
        title: Some(t.cause_title(action.cause).to_string()),
        description: (!detail.is_empty()).then(|| truncate(&inline(detail), DETAIL)),
        color: Some(cause_color(action.cause)),
        fields,
        footer: footer(),
        timestamp: timestamp(action.at),
        ..Embed::default()
    }
}

/// The card of `postflow notify-test`.
pub(crate) fn test_embed(workstation: &str, at: i64, t: &Texts) -> Embed {
    Embed {
        title: Some(t.test_title.to_string()),
        description: Some(t.test_description.to_string()),
        color: Some(COLOR_TEST),
        fields: vec![field(t.workstation, workstation, WORKSTATION, true)],
        footer: footer(),
        timestamp: timestamp(at),
        ..Embed::default()
    }
}

/// Red when work is stuck, orange when it is held or paused.
fn cause_color(cause: Cause) -> u32 {
    match cause {
        Cause::KeepsFailing { .. } | Cause::FrameioAccess => COLOR_FAILING,
        Cause::SignInExpired | Cause::NameHeld => COLOR_WARNING,
    }
}

/// A field whose value is `value` on one line, escaped and capped at `max`
/// (never blank: Discord refuses blank values).
fn field(name: &str, value: &str, max: usize, inline_field: bool) -> Field {
    Field {
        name: name.to_string(),
        value: truncate(&inline(value), max),
        inline: inline_field,
    }
}

fn short(text: &str) -> String {
    truncate(&inline(text), SHORT)
}

fn footer() -> Option<Footer> {
    Some(Footer {
        text: FOOTER.to_string(),
    })
}

/// `url` if it is a usable web link, with parentheses encoded so that it
/// also works as a Markdown link target.
fn link(url: Option<&str>) -> Option<String> {
    let parsed = url::Url::parse(url?.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.as_str().len() > LINK {
        return None;
    }
    Some(parsed.as_str().replace('(', "%28").replace(')', "%29"))
}

/// ISO 8601 (RFC 3339) in UTC; `None` for instants Discord cannot show.
fn timestamp(unix_seconds: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use postflow_settings::Language;

    use crate::notice::sample_upload as upload;

    #[test]
    fn digest_line_is_short_and_links_the_file() {
        let en = Texts::of(Language::En);
        assert_eq!(
            digest_line(&upload(), en),
            "SC01 · 00412 · V002 — [SC01_UNDLM_00412_V002.mov](https://next.frame.io/project/p/view/f) · 1.2 GB"
        );
        let stacked = Upload {
            previous_version: Some("V001".into()),
            rerender: false,
            view_url: None,
            ..upload()
        };
        assert_eq!(
            digest_line(&stacked, Texts::of(Language::Fr)),
            "SC01 · 00412 · V002 — SC01_UNDLM_00412_V002.mov · 1,2 Go · remplace V001"
        );
    }

    #[test]
    fn only_web_links_are_linked() {
        assert_eq!(link(Some("javascript:alert(1)")), None);
        assert_eq!(link(Some("not a url")), None);
        assert_eq!(
            link(Some(&format!("https://f.io/{}", "a".repeat(LINK)))),
            None
        );
        assert_eq!(
            link(Some("https://f.io/a_(b)")).as_deref(),
            Some("https://f.io/a_%28b%29")
        );
    }

    #[test]
    fn timestamps_are_iso_8601_utc() {
        assert_eq!(
            timestamp(1_700_000_000).as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        assert_eq!(timestamp(i64::MAX), None);
    }

    #[test]
    fn blank_values_never_reach_discord_blank() {
        let blank = Upload {
            scene: String::new(),
            workstation: "  ".into(),
            ..upload()
        };
        let embed = upload_embed(&blank, Texts::of(Language::En));
        assert!(embed.fields.iter().all(|f| !f.value.trim().is_empty()));
    }

    #[test]
    fn each_cause_has_its_own_title_and_a_hint() {
        let en = Texts::of(Language::En);
        let causes = [
            Cause::KeepsFailing { attempts: 5 },
            Cause::SignInExpired,
            Cause::NameHeld,
            Cause::FrameioAccess,
        ];
        let titles: std::collections::HashSet<_> =
            causes.iter().map(|c| en.cause_title(*c)).collect();
        assert_eq!(titles.len(), causes.len());
        let action = Action {
            cause: Cause::KeepsFailing { attempts: 5 },
            file_name: Some("a.mov".into()),
            detail: String::new(),
            workstation: "edit-3".into(),
            at: 0,
        };
        let embed = action_embed(&action, en);
        assert_eq!(embed.description, None);
        let names: Vec<_> = embed.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["File", "Attempts", "Workstation", "What to do"]);
        assert_eq!(embed.fields[1].value, "5");
    }
}
