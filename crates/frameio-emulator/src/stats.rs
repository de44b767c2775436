//! Counters of what the emulator has seen, for tests and benchmarks.

use std::collections::BTreeMap;

use crate::config::RouteClass;

/// A snapshot of the emulator's counters (see [`crate::Emulator::stats`]).
///
/// Only HTTP traffic is counted: seeding through the Rust API
/// ([`crate::Emulator::create_folder`], ...) leaves the counters alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests received per route class name (see [`RouteClass::name`]),
    /// whatever their answer, including 401/429/injected failures.
    pub requests: BTreeMap<String, u64>,
    /// Folders created through `POST .../folders`.
    pub folders_created: u64,
    /// Files created through `POST .../files/local_upload`.
    pub local_uploads_created: u64,
    /// Version stacks created through `POST .../version_stacks`.
    pub version_stacks_created: u64,
    /// Files moved through `PATCH .../files/{id}/move`.
    pub files_moved: u64,
    /// Files deleted through `DELETE .../files/{id}`.
    pub files_deleted: u64,
    /// Folders deleted through `DELETE .../folders/{id}`.
    pub folders_deleted: u64,
    /// Folders moved through `PATCH .../folders/{id}/move`.
    pub folders_moved: u64,
    /// Version stacks moved through `PATCH .../version_stacks/{id}/move`.
    pub version_stacks_moved: u64,
    /// Part PUTs that stored their part (answered 200).
    pub part_puts: u64,
    /// Part PUTs that did not store their part: rejected, failed by a fault,
    /// or cut.
    pub part_put_failures: u64,
    /// Part PUTs whose connection was cut by [`crate::Faults::cut_part`]
    /// (also counted in `part_put_failures`).
    pub parts_cut: u64,
    /// Upload status polls answered 200.
    pub status_polls: u64,
    /// Tokens granted by the IMS token endpoint, per `grant_type`.
    pub token_grants: BTreeMap<String, u64>,
    /// IMS token requests refused (`invalid_grant`, `invalid_client`, ...).
    pub token_errors: u64,
    /// `/v4` requests answered 401.
    pub unauthorized: u64,
    /// `/v4` requests answered 429.
    pub rate_limited: u64,
    /// Answers produced by a fault (`burst_5xx`, `fail_api`, `fail_part`).
    pub injected_failures: u64,
}

impl Stats {
    /// Requests received for one route class name (0 when none).
    pub fn requests_for(&self, class: &str) -> u64 {
        self.requests.get(class).copied().unwrap_or(0)
    }

    /// Tokens granted for one `grant_type` (0 when none).
    pub fn grants_for(&self, grant_type: &str) -> u64 {
        self.token_grants.get(grant_type).copied().unwrap_or(0)
    }

    pub(crate) fn count_request(&mut self, class: RouteClass) {
        *self.requests.entry(class.name().to_owned()).or_default() += 1;
    }

    pub(crate) fn count_grant(&mut self, grant_type: &str) {
        *self.token_grants.entry(grant_type.to_owned()).or_default() += 1;
    }
}
