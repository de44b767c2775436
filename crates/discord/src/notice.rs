//! What PostFlow tells the team channel, independent of how Discord shows it.
//!
//! Notices are stored as JSON in the durable outbox before they are sent, so
//! their serialized shape is a stored format: field and tag names must stay
//! as they are (a test pins them). Add fields only as `Option`s.

use serde::{Deserialize, Serialize};

/// One thing worth telling the team.
///
/// Stored as `{"kind": "uploaded" | "needs_action" | "test", ...}` with the
/// variant's fields alongside the tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A file is in Frame.io.
    Uploaded(Upload),
    /// Something needs a person: a file keeps failing, the sign-in expired...
    NeedsAction(Action),
    /// The `postflow notify-test` message.
    Test {
        workstation: String,
        /// Unix seconds.
        at: i64,
    },
}

/// A file that reached Frame.io.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    /// The original file name, e.g. `SC01_UNDLM_00412_V002.mov`.
    pub file_name: String,
    pub scene: String,
    pub shot: String,
    pub version: String,
    pub size_bytes: u64,
    /// Where it went in Frame.io, e.g. `SCENES/SC01/00412`.
    pub frameio_path: String,
    /// The Frame.io page of the file, when known.
    pub view_url: Option<String>,
    /// The machine that uploaded it.
    pub workstation: String,
    /// Unix seconds.
    pub uploaded_at: i64,
    /// The version this one was stacked onto (e.g. `V001`): this upload is a
    /// new version of the shot.
    pub previous_version: Option<String>,
    /// A new render of a version already in Frame.io under the same name
    /// (a fix re-rendered in place), stacked on top of the earlier copy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rerender: bool,
}

/// Something a person has to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub cause: Cause,
    /// The file concerned, if it is about one file.
    pub file_name: Option<String>,
    /// What happened, in PostFlow's words (the last error, the reason a name
    /// was held...). Never a secret: callers pass scrubbed messages.
    pub detail: String,
    pub workstation: String,
    /// Unix seconds.
    pub at: i64,
}

/// Why a person is needed. Stored as `{"type": "keeps_failing", "attempts": 5}`,
/// `{"type": "sign_in_expired"}`...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Cause {
    /// A file failed this many times in a row and PostFlow is still trying.
    KeepsFailing { attempts: u32 },
    /// The Frame.io sign-in can no longer be renewed; uploads are paused.
    SignInExpired,
    /// A file name the nomenclature does not recognize: the file is held.
    NameHeld,
    /// The signed-in account has no access to the Frame.io project.
    FrameioAccess,
}

/// `SC01_UNDLM_00412_V002.mov`, 1.2 GB, a first version: the upload the
/// crate's unit tests start from.
#[cfg(test)]
pub(crate) fn sample_upload() -> Upload {
    Upload {
        file_name: "SC01_UNDLM_00412_V002.mov".into(),
        scene: "SC01".into(),
        shot: "00412".into(),
        version: "V002".into(),
        size_bytes: 1_200_000_000,
        frameio_path: "SCENES/SC01/00412".into(),
        view_url: Some("https://next.frame.io/project/p/view/f".into()),
        workstation: "edit-3".into(),
        uploaded_at: 1_700_000_000,
        previous_version: None,
        rerender: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The outbox keeps notices across versions: this is the stored format.
    #[test]
    fn stored_json_shape_is_stable() {
        let upload = Notice::Uploaded(Upload {
            view_url: None,
            previous_version: Some("V001".into()),
            rerender: false,
            ..sample_upload()
        });
        assert_eq!(
            serde_json::to_value(&upload).unwrap(),
            json!({
                "kind": "uploaded", "file_name": "SC01_UNDLM_00412_V002.mov",
                "scene": "SC01", "shot": "00412", "version": "V002",
                "size_bytes": 1_200_000_000u64, "frameio_path": "SCENES/SC01/00412",
                "view_url": null, "workstation": "edit-3", "uploaded_at": 1_700_000_000,
                "previous_version": "V001"
            })
        );
        let action = Notice::NeedsAction(Action {
            cause: Cause::KeepsFailing { attempts: 5 },
            file_name: None,
            detail: "timed out".into(),
            workstation: "edit-3".into(),
            at: 1,
        });
        assert_eq!(
            serde_json::to_value(&action).unwrap(),
            json!({
                "kind": "needs_action", "cause": {"type": "keeps_failing", "attempts": 5},
                "file_name": null, "detail": "timed out", "workstation": "edit-3", "at": 1
            })
        );
        assert_eq!(
            serde_json::to_value(Cause::SignInExpired).unwrap(),
            json!({"type": "sign_in_expired"})
        );
        let test = Notice::Test {
            workstation: "edit-3".into(),
            at: 2,
        };
        assert_eq!(
            serde_json::to_value(&test).unwrap(),
            json!({"kind": "test", "workstation": "edit-3", "at": 2})
        );
        for notice in [upload, action, test] {
            let back: Notice =
                serde_json::from_str(&serde_json::to_string(&notice).unwrap()).unwrap();
            assert_eq!(back, notice);
        }
    }

    /// A notice written before an optional field existed still loads.
    #[test]
    fn missing_optional_fields_load_as_none() {
        let stored = r#"{"kind":"uploaded","file_name":"a.mov","scene":"SC01","shot":"001",
            "version":"V001","size_bytes":1,"frameio_path":"SCENES/SC01/001",
            "workstation":"w","uploaded_at":0}"#;
        let Notice::Uploaded(upload) = serde_json::from_str(stored).unwrap() else {
            panic!("not an upload");
        };
        assert_eq!(upload.view_url, None);
        assert_eq!(upload.previous_version, None);
    }
}
