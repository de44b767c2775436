//! A stateful local emulator of the Frame.io V4 API subset PostFlow uses,
//! of Adobe IMS sign-in, and of the presigned S3 part URLs, on one loopback
//! HTTP/1.1 listener, with fault injection and inspection for tests.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use postflow_frameio_emulator::{Emulator, EmulatorConfig};
//! let emu = Emulator::start(EmulatorConfig::default()).await?;
//! let token = emu.issue_token();
//! // GET {emu.base_url()}/v4/me with "Authorization: Bearer {token}" ...
//! emu.faults().cut_part(0, 1); // the next PUT of any part 0 is cut
//! # Ok(()) }
//! ```
//!
//! # What is emulated
//! Frame.io V4 (`/v4`, JSON `{"data": ...}`, answers shaped by the
//! published OpenAPI description):
//! `GET /v4/me`; `GET /v4/accounts`; `GET .../workspaces`;
//! `GET .../workspaces/{w}/projects`; `GET .../projects/{p}`;
//! `GET .../folders/{f}` and `.../children` (`type`, `page_size`, `after`,
//! `include_total_count`); `POST .../folders/{f}/folders`;
//! `POST .../folders/{f}/files/local_upload`; `GET .../files/{id}`,
//! `.../status`; `DELETE .../files/{id}`; `PATCH .../files/{id}/move`;
//! `DELETE .../folders/{f}` (recursive, as Frame.io's);
//! `PATCH .../folders/{f}/move`; `PATCH .../version_stacks/{id}/move`;
//! `POST .../folders/{f}/version_stacks`; `GET .../version_stacks/{id}` and
//! `.../children`. One user, account, workspace and project (with its root
//! folder) are seeded. Every `/v4` call needs a bearer token; every `/v4`
//! answer, errors included, carries `x-ratelimit-limit`,
//! `x-ratelimit-remaining` and `x-ratelimit-window` (ms). See [`api`] for
//! the assumptions where the spec is silent.
//!
//! Uploads: `local_upload` answers `upload_urls` whose sizes the emulator
//! chooses ([`EmulatorConfig::part_size`]); the URLs are
//! `PUT {base}/upload/{file_id}/{part}?X-Amz-Date&X-Amz-Expires&X-Amz-Signature`
//! and check what S3 would (see [`upload`]). A file is complete when every
//! part is stored; its checksum is defined in [`checksum`].
//!
//! Adobe IMS: `GET /ims/authorize/v2` (auto-approved), `POST /ims/token/v3`
//! (authorization code + PKCE, refresh with rotation, client credentials),
//! `POST /ims/revoke` (see [`ims`]).
//!
//! # Route classes
//! Requests are counted, rate limited and failed by class; the names are
//! those of [`RouteClass::name`]: `me`, `accounts`, `workspaces`,
//! `projects`, `project`, `folder`, `children`, `create_folder`,
//! `local_upload`, `status`, `file`, `delete`, `version_stacks` (create),
//! `version_stack` (get one), `version_stack_children`, `move`,
//! `delete_folder`, `move_folder`, `move_version_stack`, `other`
//! (unknown `/v4` routes), and, outside `/v4`, `authorize`, `token`,
//! `revoke`, `upload` (part PUTs) and `view`.
//!
//! # Rate limits
//! Fixed windows per access token and class ([`RateLimits`]); the defaults
//! are the spec's documented limits. Over the limit: 429
//! `{"errors":[{"detail":"Too many requests"}]}` with
//! `x-ratelimit-remaining: 0`, and `Retry-After` only when configured.
//!
//! # Faults
//! [`Faults`]: failing part PUTs, connections cut mid-body, slow answers,
//! work held back per route class (`delay_route`: the window of a folder
//! race), 5xx bursts, expired upload URLs, failing route classes, failed
//! uploads.
//!
//! # Inspection
//! [`Emulator::find_path`] and [`Emulator::files_named`] look folders up
//! by name and panic when a name is not unique;
//! [`Emulator::duplicate_folders`] and
//! [`Emulator::assert_one_folder_per_name`] check the whole tree.

pub mod api;
pub mod checksum;
mod config;
mod emulator;
mod faults;
pub mod ims;
mod render;
mod server;
mod state;
mod stats;
pub mod upload;
mod util;

pub use checksum::{
    checksum_of_bytes, checksum_of_digests, checksum_of_file, part_sizes, MAX_PARTS,
};
pub use config::{EmulatorConfig, RateLimit, RateLimits, RouteClass};
pub use emulator::{AssetInfo, AssetKind, Emulator, FileInfo, ProjectIds, TokenPair};
pub use faults::Faults;
pub use stats::Stats;
pub use util::parse_byte_size;
