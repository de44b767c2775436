//! A local upload's session: the placeholder file and its presigned part
//! URLs, as Frame.io answered `local_upload`. Shared by the Frame.io client
//! (which makes and resumes it) and the queue (which persists it before the
//! first byte is sent).

use serde::{Deserialize, Serialize};

/// One part of a local upload: its size and where to PUT it.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct UploadUrl {
    pub size: u64,
    /// Presigned: whoever holds it can write the part. Not in `Debug`.
    pub url: String,
}

impl std::fmt::Debug for UploadUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadUrl")
            .field("size", &self.size)
            .field("url", &"<presigned>")
            .finish()
    }
}

/// Everything needed to resume a local upload after a crash: persist it as
/// soon as the uploader reports the session created (`postflow-frameio`).
/// It carries presigned part URLs: never show it to a person or log it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSession {
    pub file_id: String,
    pub folder_id: String,
    pub name: String,
    pub file_size: u64,
    pub media_type: String,
    pub parts: Vec<UploadUrl>,
    pub view_url: Option<String>,
}

impl UploadSession {
    /// Where part `index` starts in the file.
    pub fn offset(&self, index: usize) -> u64 {
        self.parts[..index].iter().map(|p| p.size).sum()
    }
}
