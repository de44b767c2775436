//! Comments on a file: what PostFlow uses them for is a claim note, the
//! sign of life an uploading workstation leaves on its placeholder (the
//! only place every workstation sees; see `postflow-engine`'s takeover).
//!
//! V4: `POST /files/{id}/comments`, `GET /files/{id}/comments`,
//! `PATCH /comments/{id}`, `DELETE /comments/{id}`, each with a
//! `{"data": {"text": ...}}` body where there is one
//! (`CreateCommentParams`, `UpdateCommentParams` in the OpenAPI file).
//! Assumed, not verifiable here: Frame.io accepts comments on a file whose
//! upload is not complete yet (status `created`); the OpenAPI file puts no
//! condition on the file's status.

use serde::Deserialize;
use serde_json::json;

use crate::{Client, Result};

/// A comment, as much of it as PostFlow reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Comment {
    pub id: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl Client {
    /// Every comment on a file, oldest first.
    pub async fn comments(&self, file_id: &str) -> Result<Vec<Comment>> {
        self.paginate(
            "comments",
            &self.account_path(&format!("files/{file_id}/comments")),
            &[
                ("sort", "created_at_asc".to_string()),
                ("page_size", "100".to_string()),
            ],
        )
        .await
    }

    pub async fn create_comment(&self, file_id: &str, text: &str) -> Result<Comment> {
        self.post(
            "comments",
            &self.account_path(&format!("files/{file_id}/comments")),
            json!({ "text": text }),
        )
        .await
    }

    pub async fn update_comment(&self, comment_id: &str, text: &str) -> Result<Comment> {
        self.patch(
            "comments",
            &self.account_path(&format!("comments/{comment_id}")),
            json!({ "text": text }),
        )
        .await
    }

    pub async fn delete_comment(&self, comment_id: &str) -> Result<()> {
        self.delete(
            "comments",
            &self.account_path(&format!("comments/{comment_id}")),
        )
        .await
    }
}
