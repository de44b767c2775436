//! Configuration: part size, token and URL lifetimes, page sizes and the
//! per-endpoint rate limits, plus the route classes they are keyed by.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// A class of routes: the unit the emulator counts requests, applies rate
/// limits and injects API failures by.
///
/// Each class has a short, stable name (see [`RouteClass::name`]) that the
/// string-keyed parts of the public API accept (`Faults::fail_api`,
/// [`RateLimits::with`], [`crate::Stats::requests`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteClass {
    /// `GET /v4/me`
    Me,
    /// `GET /v4/accounts`
    Accounts,
    /// `GET /v4/accounts/{a}/workspaces`
    Workspaces,
    /// `GET /v4/accounts/{a}/workspaces/{w}/projects`
    Projects,
    /// `GET /v4/accounts/{a}/projects/{p}`
    Project,
    /// `GET /v4/accounts/{a}/folders/{f}`
    Folder,
    /// `GET /v4/accounts/{a}/folders/{f}/children`
    Children,
    /// `POST /v4/accounts/{a}/folders/{f}/folders`
    CreateFolder,
    /// `POST /v4/accounts/{a}/folders/{f}/files/local_upload`
    LocalUpload,
    /// `GET /v4/accounts/{a}/files/{id}/status`
    Status,
    /// `GET /v4/accounts/{a}/files/{id}`
    File,
    /// `DELETE /v4/accounts/{a}/files/{id}`
    Delete,
    /// `POST /v4/accounts/{a}/folders/{f}/version_stacks`
    VersionStacks,
    /// `GET /v4/accounts/{a}/version_stacks/{id}`
    VersionStack,
    /// `GET /v4/accounts/{a}/version_stacks/{id}/children`
    VersionStackChildren,
    /// `PATCH /v4/accounts/{a}/files/{id}/move`
    Move,
    /// `DELETE /v4/accounts/{a}/folders/{f}`
    DeleteFolder,
    /// `PATCH /v4/accounts/{a}/folders/{f}/move`
    MoveFolder,
    /// `PATCH /v4/accounts/{a}/version_stacks/{id}/move`
    MoveVersionStack,
    /// Any other `/v4` path or method (answered 404/405).
    OtherApi,
    /// `GET /ims/authorize/v2`
    Authorize,
    /// `POST /ims/token/v3`
    Token,
    /// `POST /ims/revoke`
    Revoke,
    /// `PUT /upload/{file_id}/{part}` (the presigned part URLs)
    Upload,
    /// `GET /view/{id}` (the `view_url` pages)
    View,
}

impl RouteClass {
    /// Every class, in declaration order.
    pub const ALL: [RouteClass; 25] = [
        RouteClass::Me,
        RouteClass::Accounts,
        RouteClass::Workspaces,
        RouteClass::Projects,
        RouteClass::Project,
        RouteClass::Folder,
        RouteClass::Children,
        RouteClass::CreateFolder,
        RouteClass::LocalUpload,
        RouteClass::Status,
        RouteClass::File,
        RouteClass::Delete,
        RouteClass::VersionStacks,
        RouteClass::VersionStack,
        RouteClass::VersionStackChildren,
        RouteClass::Move,
        RouteClass::DeleteFolder,
        RouteClass::MoveFolder,
        RouteClass::MoveVersionStack,
        RouteClass::OtherApi,
        RouteClass::Authorize,
        RouteClass::Token,
        RouteClass::Revoke,
        RouteClass::Upload,
        RouteClass::View,
    ];

    /// The class's short name, e.g. `"create_folder"`.
    pub const fn name(self) -> &'static str {
        match self {
            RouteClass::Me => "me",
            RouteClass::Accounts => "accounts",
            RouteClass::Workspaces => "workspaces",
            RouteClass::Projects => "projects",
            RouteClass::Project => "project",
            RouteClass::Folder => "folder",
            RouteClass::Children => "children",
            RouteClass::CreateFolder => "create_folder",
            RouteClass::LocalUpload => "local_upload",
            RouteClass::Status => "status",
            RouteClass::File => "file",
            RouteClass::Delete => "delete",
            RouteClass::VersionStacks => "version_stacks",
            RouteClass::VersionStack => "version_stack",
            RouteClass::VersionStackChildren => "version_stack_children",
            RouteClass::Move => "move",
            RouteClass::DeleteFolder => "delete_folder",
            RouteClass::MoveFolder => "move_folder",
            RouteClass::MoveVersionStack => "move_version_stack",
            RouteClass::OtherApi => "other",
            RouteClass::Authorize => "authorize",
            RouteClass::Token => "token",
            RouteClass::Revoke => "revoke",
            RouteClass::Upload => "upload",
            RouteClass::View => "view",
        }
    }

    /// The class named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<RouteClass> {
        RouteClass::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether this is a Frame.io `/v4` class (bearer auth, rate limits,
    /// `x-ratelimit-*` headers).
    pub const fn is_api(self) -> bool {
        !matches!(
            self,
            RouteClass::Authorize
                | RouteClass::Token
                | RouteClass::Revoke
                | RouteClass::Upload
                | RouteClass::View
        )
    }

    /// Looks a class up by name, panicking with the list of valid names when
    /// there is none (the string-keyed test API must not ignore typos).
    pub(crate) fn named(name: &str) -> RouteClass {
        RouteClass::from_name(name).unwrap_or_else(|| {
            let names: Vec<&str> = RouteClass::ALL.iter().map(|c| c.name()).collect();
            panic!("unknown route class {name:?}; known classes: {names:?}")
        })
    }
}

impl fmt::Display for RouteClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One endpoint class's fixed-window limit: at most `limit` requests per
/// `window`, counted per access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: u32,
    /// The window length (sent as `x-ratelimit-window` in milliseconds).
    pub window: Duration,
}

impl RateLimit {
    /// The limit used for "unlimited": the largest value the spec's `int32`
    /// `x-ratelimit-limit` header can carry.
    pub const UNLIMITED: RateLimit = RateLimit {
        limit: i32::MAX as u32,
        window: Duration::from_secs(60),
    };

    /// `limit` requests per `window`.
    pub const fn new(limit: u32, window: Duration) -> RateLimit {
        RateLimit { limit, window }
    }

    /// `limit` requests per second.
    pub const fn per_second(limit: u32) -> RateLimit {
        RateLimit::new(limit, Duration::from_secs(1))
    }

    /// `limit` requests per minute.
    pub const fn per_minute(limit: u32) -> RateLimit {
        RateLimit::new(limit, Duration::from_secs(60))
    }
}

/// Rate limits for every `/v4` route class.
///
/// [`RateLimits::default`] uses the limits the OpenAPI description documents
/// per endpoint ("Rate Limits: N calls per ... per account_user"):
/// create folder 3/s, local upload 5/s, upload status 5/s, file 10/s,
/// create version stack 10/min, move a folder or a version stack 10/min,
/// delete a folder 60/min, everything else 100/min.
/// [`RateLimits::unlimited`] never answers 429 (the headers are still sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    limits: BTreeMap<RouteClass, RateLimit>,
}

impl Default for RateLimits {
    fn default() -> Self {
        let limits = RouteClass::ALL
            .into_iter()
            .filter(|c| c.is_api())
            .map(|c| {
                let limit = match c {
                    RouteClass::CreateFolder => RateLimit::per_second(3),
                    RouteClass::LocalUpload | RouteClass::Status => RateLimit::per_second(5),
                    RouteClass::File => RateLimit::per_second(10),
                    RouteClass::VersionStacks
                    | RouteClass::MoveFolder
                    | RouteClass::MoveVersionStack => RateLimit::per_minute(10),
                    RouteClass::DeleteFolder => RateLimit::per_minute(60),
                    _ => RateLimit::per_minute(100),
                };
                (c, limit)
            })
            .collect();
        RateLimits { limits }
    }
}

impl RateLimits {
    /// Limits that are never reached.
    pub fn unlimited() -> RateLimits {
        let limits = RouteClass::ALL
            .into_iter()
            .filter(|c| c.is_api())
            .map(|c| (c, RateLimit::UNLIMITED))
            .collect();
        RateLimits { limits }
    }

    /// The same limits with `class` (a route class name such as
    /// `"create_folder"`) set to `limit` requests per `window`.
    ///
    /// # Panics
    /// When `class` is not the name of a `/v4` route class.
    #[must_use]
    pub fn with(mut self, class: &str, limit: u32, window: Duration) -> RateLimits {
        self.set(RouteClass::named(class), RateLimit::new(limit, window));
        self
    }

    /// Sets one class's limit.
    ///
    /// # Panics
    /// When `class` is not a `/v4` class (IMS and upload routes are not
    /// rate limited).
    pub fn set(&mut self, class: RouteClass, limit: RateLimit) -> &mut RateLimits {
        assert!(class.is_api(), "route class {class} is not rate limited");
        self.limits.insert(class, limit);
        self
    }

    /// The limit of one class (unlimited for classes without one).
    pub fn get(&self, class: RouteClass) -> RateLimit {
        self.limits
            .get(&class)
            .copied()
            .unwrap_or(RateLimit::UNLIMITED)
    }
}

/// How an [`crate::Emulator`] behaves; every field can also be changed at
/// run time through the emulator's setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// Size of every upload part but the last (default 32 MiB). Files that
    /// would need more than [`crate::MAX_PARTS`] parts get larger parts.
    pub part_size: u64,
    /// Lifetime of access tokens (default 1 hour).
    pub token_ttl: Duration,
    /// Lifetime of presigned part URLs, sent as `X-Amz-Expires` (default 1 hour).
    pub upload_url_ttl: Duration,
    /// Page size of list answers when the request has no `page_size` (default 50).
    pub page_size_default: u32,
    /// Per-class rate limits.
    pub rate_limits: RateLimits,
    /// When set, 429 answers carry `Retry-After` (whole seconds, rounded
    /// up). The real V4 API does not document the header, so it is off by
    /// default.
    pub retry_after: Option<Duration>,
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            part_size: 32 * 1024 * 1024,
            token_ttl: Duration::from_secs(3600),
            upload_url_ttl: Duration::from_secs(3600),
            page_size_default: 50,
            rate_limits: RateLimits::default(),
            retry_after: None,
            port: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for class in RouteClass::ALL {
            assert_eq!(RouteClass::from_name(class.name()), Some(class));
            assert!(seen.insert(class.name()), "duplicate name {class}");
        }
        assert_eq!(RouteClass::from_name("nope"), None);
    }

    #[test]
    fn default_limits_follow_the_spec() {
        let limits = RateLimits::default();
        assert_eq!(
            limits.get(RouteClass::CreateFolder),
            RateLimit::per_second(3)
        );
        assert_eq!(
            limits.get(RouteClass::LocalUpload),
            RateLimit::per_second(5)
        );
        assert_eq!(limits.get(RouteClass::Status), RateLimit::per_second(5));
        assert_eq!(limits.get(RouteClass::File), RateLimit::per_second(10));
        assert_eq!(
            limits.get(RouteClass::VersionStacks),
            RateLimit::per_minute(10)
        );
        assert_eq!(limits.get(RouteClass::Me), RateLimit::per_minute(100));
    }

    #[test]
    fn with_overrides_one_class() {
        let limits = RateLimits::unlimited().with("status", 2, Duration::from_millis(500));
        assert_eq!(
            limits.get(RouteClass::Status),
            RateLimit::new(2, Duration::from_millis(500))
        );
        assert_eq!(limits.get(RouteClass::Me), RateLimit::UNLIMITED);
    }

    #[test]
    #[should_panic(expected = "unknown route class")]
    fn with_rejects_unknown_names() {
        let _ = RateLimits::unlimited().with("create-folder", 1, Duration::from_secs(1));
    }
}
