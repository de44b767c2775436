//! PostFlow's durable queue, in SQLite (bundled, WAL).
//!
//! Every candidate file is recorded **before** anything else happens, keyed
//! by its path relative to the watch root plus its size and mtime (mount
//! points differ between workstations). Every status change is written
//! (and checked against the allowed transitions) **before** the engine acts
//! on it, and logged in `transitions`, which is the history the UI and
//! `postflow status` read.
//!
//! One process (the service) writes; others (`postflow status`, the UI)
//! may read the same file concurrently: WAL lets readers run beside the
//! writer.

mod outbox;
mod status;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};
use rusqlite_migration::{Migrations, M};
use serde::Serialize;

pub use outbox::{OutboxEntry, OutboxSummary};
pub use status::{Status, StatusKind};

/// Schema migrations, embedded; the database's `user_version` says which
/// ran. Append, never edit, once released.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            r#"
CREATE TABLE items (
    id          INTEGER PRIMARY KEY,
    rel_path    TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    file_name   TEXT    NOT NULL,
    scene       TEXT,
    shot        TEXT,
    version     TEXT,
    kind        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    UNIQUE (rel_path, size, mtime_ns)
);
CREATE INDEX items_kind ON items (kind);
CREATE INDEX items_shot ON items (scene, shot);
CREATE INDEX items_path ON items (rel_path);

CREATE TABLE transitions (
    id      INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items (id),
    at      INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    status  TEXT    NOT NULL
);
CREATE INDEX transitions_item ON transitions (item_id);
CREATE INDEX transitions_at ON transitions (at);

CREATE TABLE folder_cache (
    key        TEXT PRIMARY KEY,
    folder_id  TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE service_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
        ),
        // The notification outbox (see `outbox.rs`).
        M::up(
            r#"
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    channel    TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at    INTEGER,
    -- Set aside: Discord refused the message carrying it, or it cannot be read.
    given_up_at INTEGER,
    UNIQUE (channel, key)
);
CREATE INDEX outbox_pending ON outbox (channel, sent_at, id);
"#,
        ),
        // The board catches up with what changed since its last read.
        M::up("CREATE INDEX items_updated ON items (updated_at);"),
        // The watched folder an item was found in (NULL: found before this
        // was kept; read from the current folder).
        M::up("ALTER TABLE items ADD COLUMN root TEXT;"),
        // Errors of the last hour (health), without scanning the hour.
        M::up("CREATE INDEX transitions_kind_at ON transitions (kind, at);"),
    ])
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the queue database {path} cannot be opened: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the queue database cannot be upgraded: {0}")]
    Migrate(#[from] rusqlite_migration::Error),
    #[error("queue database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("item {0} is not in the queue")]
    NoSuchItem(i64),
    #[error("item {id} cannot go from {from} to {to}")]
    Transition {
        id: i64,
        from: StatusKind,
        to: StatusKind,
    },
    #[error("item {id} is {actual}, not {expected}: someone else changed it")]
    Conflict {
        id: i64,
        expected: StatusKind,
        actual: StatusKind,
    },
    #[error("the queue database holds a status it cannot read: {0}")]
    Corrupt(String),
}

impl Error {
    /// What opening a new database beside another process may meet: a
    /// lock, or a migration the other process ran first.
    fn raced_another_opener(&self) -> bool {
        let busy = |e: &rusqlite::Error| {
            matches!(e, rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
        };
        match self {
            Error::Open { source, .. } | Error::Sql(source) => busy(source),
            Error::Migrate(rusqlite_migration::Error::MigrationDefinition(_)) => false,
            Error::Migrate(_) => true,
            _ => false,
        }
    }

    /// What to do about it: busy or locked is worth retrying; a full disk or
    /// a database this build cannot read needs a person; a refused
    /// transition or an unknown item will not succeed as asked.
    pub fn disposition(&self) -> postflow_core::Disposition {
        use postflow_core::Disposition::*;
        match self {
            _ if self.is_transient() => Transient,
            Error::Sql(rusqlite::Error::SqliteFailure(f, _))
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DiskFull
                        | rusqlite::ErrorCode::ReadOnly
                        | rusqlite::ErrorCode::CannotOpen
                ) =>
            {
                NeedsUser
            }
            Error::Open { .. } | Error::Migrate(_) | Error::Corrupt(_) => NeedsUser,
            Error::Sql(_) => Transient,
            Error::NoSuchItem(_) | Error::Transition { .. } | Error::Conflict { .. } => Permanent,
        }
    }

    /// A busy or locked database is worth retrying; the rest is not.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Sql(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for postflow_core::ApiError {
    fn from(e: Error) -> Self {
        let fix = match &e {
            Error::Sql(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DiskFull =>
            {
                Some("free some space on the disk that holds PostFlow's data folder; nothing recorded is lost")
            }
            Error::Open { .. } => Some("check that PostFlow's data folder exists and is writable"),
            Error::Migrate(_) | Error::Corrupt(_) => {
                Some("this queue was written by a newer PostFlow, or is damaged: update PostFlow, or move the data folder aside")
            }
            Error::NoSuchItem(_) => Some("refresh the list: the item is gone"),
            Error::Transition { .. } | Error::Conflict { .. } => {
                Some("refresh: the item changed meanwhile")
            }
            _ if e.is_transient() => Some("try again in a moment"),
            Error::Sql(_) => None,
        };
        let mut api = postflow_core::ApiError::new(e.disposition(), e.to_string());
        api.fix = fix.map(str::to_string);
        api
    }
}

/// What the watcher saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Relative to the watch root, `/`-separated.
    pub rel_path: String,
    /// The watched folder it was found in. The item is read from there
    /// even after another folder is chosen (an upload under way when the
    /// settings change finishes), while that folder still has it.
    pub root: Option<String>,
    pub size: u64,
    pub mtime_ns: i64,
    /// What the nomenclature made of the name, if it parsed.
    pub shot: Option<ShotRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShotRef {
    pub scene: String,
    pub shot: String,
    pub version: String,
}

/// One file in the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub id: i64,
    pub rel_path: String,
    /// The watched folder it was found in (see [`Candidate::root`]).
    pub root: Option<String>,
    pub file_name: String,
    pub size: u64,
    pub mtime_ns: i64,
    pub shot: Option<ShotRef>,
    pub status: Status,
    pub attempts: u32,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl Item {
    /// The watched folder this item is read from, `current` being the one
    /// watched now: the folder it was found in while that still has it
    /// (another folder was chosen since; what was found before, an upload
    /// under way included, finishes from there), else `current` (the same
    /// filespace mounted elsewhere, or found before roots were kept).
    pub fn source_root(&self, current: &Path) -> PathBuf {
        match self.root.as_deref().map(Path::new) {
            Some(found_in)
                if found_in != current && join_rel(found_in, &self.rel_path).exists() =>
            {
                found_in.to_path_buf()
            }
            _ => current.to_path_buf(),
        }
    }

    /// The file on disk (see [`Item::source_root`]).
    pub fn local_path(&self, current: &Path) -> PathBuf {
        join_rel(&self.source_root(current), &self.rel_path)
    }

    /// Bytes per second over the upload, once finished.
    pub fn throughput(&self) -> Option<f64> {
        let (start, end) = (self.started_at?, self.finished_at?);
        let secs = (end - start) as f64 / 1000.0;
        (secs > 0.0).then(|| self.size as f64 / secs)
    }
}

/// What `record_candidate` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new item.
    New(i64),
    /// This exact file (path, size, mtime) was already known.
    Known(i64),
}

impl Recorded {
    pub fn id(self) -> i64 {
        match self {
            Recorded::New(id) | Recorded::Known(id) => id,
        }
    }
}

/// The last hour, or any period, in numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Items that reached done, already-in-Frame.io, held or failed.
    pub processed: u64,
    pub uploads_done: u64,
    pub errors: u64,
    pub last_upload_at: Option<i64>,
    /// Distinct scenes and shots among the uploads done.
    pub scenes: u64,
    pub shots: u64,
}

/// The durable queue. Cheap to share behind an `Arc`.
pub struct Queue {
    conn: Mutex<Connection>,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Queue {
    /// Opens (creating, upgrading) the queue at `path`.
    ///
    /// Several processes may open a new database at the same moment (the
    /// service starting while `postflow status` looks): switching it to WAL
    /// can then meet a lock the busy handler does not wait for, and two
    /// migrations can both start from version 0, the second failing on the
    /// tables the first just made. Both are retried for a while; the
    /// migration is one transaction, so a retry reads the committed version
    /// and has nothing left to do.
    pub fn open(path: &Path) -> Result<Queue> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut tries = 0u64;
        loop {
            match Self::open_once(path) {
                Ok(conn) => {
                    return Ok(Queue {
                        conn: Mutex::new(conn),
                    })
                }
                Err(e) if tries < 20 && e.raced_another_opener() => {
                    tries += 1;
                    tracing::debug!("opening the queue raced another process ({e}); retrying");
                    std::thread::sleep(Duration::from_millis(10 * tries));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn open_once(path: &Path) -> Result<Connection> {
        let open_error = |source| Error::Open {
            path: path.display().to_string(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(open_error)?;
        // WAL: readers beside the writer. NORMAL: durable across process
        // crashes (what PostFlow must survive); an OS crash may lose the
        // last transaction, which the engine re-derives from Frame.io.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_error)?;
        migrations().to_latest(&mut conn)?;
        Ok(conn)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a file the watcher saw, before anything else happens to it.
    /// While a render is still being written (its item waits for
    /// stability), a new size or mtime updates that item in place: a file
    /// written for ten minutes is one row, not thousands. Once an item is
    /// queued or further, another version of the path is a new item, and a
    /// queued one is cancelled as superseded.
    pub fn record_candidate(&self, candidate: &Candidate) -> Result<Recorded> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM items WHERE rel_path = ?1 AND size = ?2 AND mtime_ns = ?3",
                params![
                    candidate.rel_path,
                    candidate.size as i64,
                    candidate.mtime_ns
                ],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            return Ok(Recorded::Known(id));
        }
        let now = now_ms();
        let waiting: Option<i64> = tx
            .query_row(
                "SELECT id FROM items WHERE rel_path = ?1 AND kind = 'waiting_for_stability' ORDER BY id DESC LIMIT 1",
                [&candidate.rel_path],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = waiting {
            tx.execute(
                "UPDATE items SET size = ?2, mtime_ns = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, candidate.size as i64, candidate.mtime_ns, now],
            )?;
            tx.commit()?;
            return Ok(Recorded::Known(id));
        }
        let superseded: Vec<i64> = {
            let mut stmt =
                tx.prepare("SELECT id FROM items WHERE rel_path = ?1 AND kind = 'queued'")?;
            let ids = stmt
                .query_map([&candidate.rel_path], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            ids
        };
        for id in superseded {
            let status = Status::Cancelled {
                reason: "superseded: the file changed before it was uploaded".into(),
            };
            write_status(&tx, id, &status, now)?;
        }
        let file_name = candidate
            .rel_path
            .rsplit('/')
            .next()
            .unwrap_or(&candidate.rel_path)
            .to_string();
        let status = Status::WaitingForStability;
        tx.execute(
            "INSERT INTO items (rel_path, size, mtime_ns, file_name, scene, shot, version, kind, status, created_at, updated_at, root)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)",
            params![
                candidate.rel_path,
                candidate.size as i64,
                candidate.mtime_ns,
                file_name,
                candidate.shot.as_ref().map(|s| &s.scene),
                candidate.shot.as_ref().map(|s| &s.shot),
                candidate.shot.as_ref().map(|s| &s.version),
                status.kind().as_str(),
                encode(&status),
                now,
                candidate.root,
            ],
        )?;
        let id = tx.last_insert_rowid();
        log_transition(&tx, id, &status, now)?;
        tx.commit()?;
        Ok(Recorded::New(id))
    }

    /// Moves an item to `to`, if it is still in `expected` and the move is
    /// allowed. Written (committed) before the caller acts on it.
    pub fn transition(&self, id: i64, expected: StatusKind, to: Status) -> Result<Item> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let current = load(&tx, id)?.ok_or(Error::NoSuchItem(id))?;
        let from = current.status.kind();
        if from != expected {
            return Err(Error::Conflict {
                id,
                expected,
                actual: from,
            });
        }
        if !from.can_become(to.kind()) {
            return Err(Error::Transition {
                id,
                from,
                to: to.kind(),
            });
        }
        let now = now_ms();
        write_status(&tx, id, &to, now)?;
        match to.kind() {
            StatusKind::PreparingFolders if current.started_at.is_none() => {
                tx.execute(
                    "UPDATE items SET started_at = ?2 WHERE id = ?1",
                    params![id, now],
                )?;
            }
            StatusKind::Failed => {
                tx.execute(
                    "UPDATE items SET attempts = attempts + 1 WHERE id = ?1",
                    [id],
                )?;
            }
            k if k.is_final() => {
                tx.execute(
                    "UPDATE items SET finished_at = ?2 WHERE id = ?1",
                    params![id, now],
                )?;
            }
            _ => {}
        }
        let item = load(&tx, id)?.ok_or(Error::NoSuchItem(id))?;
        tx.commit()?;
        Ok(item)
    }

    /// The database file, when it is one (not in memory).
    pub fn path(&self) -> Option<PathBuf> {
        self.conn()
            .path()
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    }

    pub fn get(&self, id: i64) -> Result<Option<Item>> {
        load(&self.conn(), id)
    }

    /// Items in any of `kinds`, oldest first.
    pub fn with_status(&self, kinds: &[StatusKind], limit: usize) -> Result<Vec<Item>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM items WHERE kind IN ({}) ORDER BY id LIMIT ?1",
            kind_list(kinds)
        ))?;
        let items = stmt
            .query_map([limit as i64], row_to_item)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(items)
    }

    /// Just (path, size, mtime) of the items in any of `kinds`: what the
    /// watcher needs to know is settled, without loading whole items.
    pub fn versions(&self, kinds: &[StatusKind]) -> Result<Vec<(String, u64, i64)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT rel_path, size, mtime_ns FROM items WHERE kind IN ({})",
            kind_list(kinds)
        ))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The Frame.io files that other items of this path ended as (done, or
    /// found already in Frame.io): earlier renders of the same path. Such a
    /// file is never proof that *this* render (another size or mtime) is in
    /// Frame.io, however alike their names and sizes.
    pub fn earlier_renders(&self, rel_path: &str, except: i64) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM items WHERE rel_path = ?1 AND id != ?2 AND kind IN ({})",
            kind_list(&[StatusKind::Done, StatusKind::AlreadyInFrameio])
        ))?;
        let items = stmt
            .query_map(params![rel_path, except], row_to_item)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(items
            .into_iter()
            .filter_map(|i| match i.status {
                Status::Done { file_id, .. } | Status::AlreadyInFrameio { file_id } => {
                    Some(file_id)
                }
                _ => None,
            })
            .collect())
    }

    /// Items ready to start now: queued, or failed with a retry due and no
    /// action needed. Oldest first.
    pub fn due(&self, now: i64, limit: usize) -> Result<Vec<Item>> {
        let mut due = self.with_status(&[StatusKind::Queued], limit)?;
        // Deferring to another workstation: a look at its upload is due.
        if due.len() < limit {
            due.extend(
                self.with_status(&[StatusKind::Deferring], usize::MAX >> 1)?
                    .into_iter()
                    .filter(|i| matches!(i.status, Status::Deferring { next_check_at, .. } if next_check_at <= now))
                    .take(limit - due.len()),
            );
        }
        if due.len() < limit {
            due.extend(
                self.with_status(&[StatusKind::Failed], usize::MAX >> 1)?
                    .into_iter()
                    .filter(|i| {
                        matches!(i.status, Status::Failed { needs_action: false, next_retry_at: Some(at), .. } if at <= now)
                    })
                    .take(limit - due.len()),
            );
        }
        Ok(due)
    }

    /// Items per status.
    pub fn counts(&self) -> Result<BTreeMap<StatusKind, u64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT kind, COUNT(*) FROM items GROUP BY kind")?;
        let mut counts = BTreeMap::new();
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (kind, n) = row?;
            let kind = StatusKind::parse(&kind).ok_or_else(|| Error::Corrupt(kind.clone()))?;
            counts.insert(kind, n as u64);
        }
        Ok(counts)
    }

    /// Every item of one shot (all versions), oldest first: the UI's history.
    pub fn shot_history(&self, scene: &str, shot: &str) -> Result<Vec<Item>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM items WHERE scene = ?1 AND shot = ?2 ORDER BY id"
        ))?;
        let items = stmt
            .query_map([scene, shot], row_to_item)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(items)
    }

    /// The status changes of one item, oldest first: `(unix ms, status)`.
    pub fn transitions(&self, id: i64) -> Result<Vec<(i64, Status)>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT at, status FROM transitions WHERE item_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|r| {
            let (at, json) = r?;
            Ok((at, decode(&json)?))
        })
        .collect()
    }

    /// What happened since `since` (unix ms).
    pub fn summary_since(&self, since: i64) -> Result<Summary> {
        let conn = self.conn();
        let count = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [since], |r| r.get(0))?) };
        Ok(Summary {
            processed: count(
                "SELECT COUNT(DISTINCT item_id) FROM transitions WHERE at >= ?1
                 AND kind IN ('done', 'already_in_frameio', 'held', 'failed')",
            )? as u64,
            uploads_done: count("SELECT COUNT(*) FROM items WHERE kind = 'done' AND finished_at >= ?1")? as u64,
            errors: count("SELECT COUNT(*) FROM transitions WHERE kind = 'failed' AND at >= ?1")? as u64,
            last_upload_at: conn.query_row("SELECT MAX(finished_at) FROM items WHERE kind = 'done'", [], |r| r.get(0))?,
            scenes: count("SELECT COUNT(DISTINCT scene) FROM items WHERE kind = 'done' AND finished_at >= ?1")? as u64,
            shots: count(
                "SELECT COUNT(*) FROM (SELECT DISTINCT scene, shot FROM items WHERE kind = 'done' AND finished_at >= ?1)",
            )? as u64,
        })
    }

    /// Failures recorded since `since` (unix ms): [`Summary::errors`] alone,
    /// through the `(kind, at)` index.
    pub fn errors_since(&self, since: i64) -> Result<u64> {
        let conn = self.conn();
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM transitions WHERE kind = 'failed' AND at >= ?1",
            [since],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// A failed, held or cancelled item goes back to the queue now.
    pub fn retry(&self, id: i64) -> Result<Item> {
        let item = self.get(id)?.ok_or(Error::NoSuchItem(id))?;
        self.transition(id, item.status.kind(), Status::Queued)
    }

    /// A page of the items in any of `kinds` whose path contains `search`
    /// (case-insensitively; `%` and `_` are plain characters), in board
    /// order: scene, shot, version, then path; items without a scene
    /// (held names) first. Also the number of matching items in all.
    ///
    /// With `updated_since` (unix ms), only items changed since then: how a
    /// board catches up with events without reading every item again.
    pub fn page(
        &self,
        kinds: &[StatusKind],
        search: Option<&str>,
        updated_since: Option<i64>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Item>, u64)> {
        let conn = self.conn();
        let pattern = search.filter(|s| !s.is_empty()).map(|s| {
            let escaped = s
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        });
        let filter = format!(
            "kind IN ({}) AND (?1 IS NULL OR lower(rel_path) LIKE ?1 ESCAPE '\\') AND (?2 IS NULL OR updated_at >= ?2)",
            kind_list(kinds)
        );
        let total: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM items WHERE {filter}"),
            params![pattern, updated_since],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM items WHERE {filter}
             ORDER BY scene IS NOT NULL, scene, shot, version, rel_path, id
             LIMIT ?3 OFFSET ?4"
        ))?;
        let items = stmt
            .query_map(
                params![
                    pattern,
                    updated_since,
                    limit.min(i64::MAX as usize) as i64,
                    offset as i64
                ],
                row_to_item,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((items, total as u64))
    }

    /// The latest items this workstation uploaded, newest first.
    pub fn recent_done(&self, limit: usize) -> Result<Vec<Item>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM items WHERE kind = 'done' ORDER BY finished_at DESC, id DESC LIMIT ?1"
        ))?;
        let items = stmt
            .query_map([limit as i64], row_to_item)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(items)
    }

    /// Records what the nomenclature now makes of an item's name (a held
    /// name that a new pattern recognises).
    pub fn set_shot(&self, id: i64, shot: Option<&ShotRef>) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE items SET scene = ?2, shot = ?3, version = ?4, updated_at = ?5 WHERE id = ?1",
            params![
                id,
                shot.map(|s| &s.scene),
                shot.map(|s| &s.shot),
                shot.map(|s| &s.version),
                now_ms()
            ],
        )?;
        if n == 0 {
            return Err(Error::NoSuchItem(id));
        }
        Ok(())
    }

    /// Every failed item of one shot goes back to the queue; returns how
    /// many.
    pub fn retry_shot(&self, scene: &str, shot: &str) -> Result<usize> {
        let failed: Vec<Item> = self
            .shot_history(scene, shot)?
            .into_iter()
            .filter(|i| i.status.kind() == StatusKind::Failed)
            .collect();
        for item in &failed {
            self.transition(item.id, StatusKind::Failed, Status::Queued)?;
        }
        Ok(failed.len())
    }

    /// Every failed item goes back to the queue; returns how many.
    pub fn retry_all_failed(&self) -> Result<usize> {
        let failed = self.with_status(&[StatusKind::Failed], usize::MAX >> 1)?;
        for item in &failed {
            self.transition(item.id, StatusKind::Failed, Status::Queued)?;
        }
        Ok(failed.len())
    }

    /// The user ignores an item.
    pub fn cancel(&self, id: i64, reason: &str) -> Result<Item> {
        let item = self.get(id)?.ok_or(Error::NoSuchItem(id))?;
        self.transition(
            id,
            item.status.kind(),
            Status::Cancelled {
                reason: reason.to_string(),
            },
        )
    }

    /// A small persisted value of the service (for example whether it is
    /// paused), so state survives a restart.
    pub fn set_state(&self, key: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO service_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    /// The value under `key`, storing `value` first if there is none.
    pub fn state_or_insert(&self, key: &str, value: &str) -> Result<String> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO service_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            [key, value],
        )?;
        Ok(conn.query_row(
            "SELECT value FROM service_state WHERE key = ?1",
            [key],
            |r| r.get(0),
        )?)
    }

    pub fn clear_state(&self, key: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM service_state WHERE key = ?1", [key])?;
        Ok(())
    }

    pub fn state(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT value FROM service_state WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?)
    }
}

/// Folder ids survive restarts in the queue database (the engine adapts
/// these to the Frame.io client's folder cache). Keys are case-folded paths
/// under a root folder id.
impl Queue {
    pub fn folder_get(&self, key: &str) -> Option<String> {
        self.conn()
            .query_row(
                "SELECT folder_id FROM folder_cache WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()
            .unwrap_or_else(|e| {
                tracing::warn!("folder cache read failed: {e}");
                None
            })
    }

    pub fn folder_put(&self, key: &str, folder_id: &str) {
        if let Err(e) = self.conn().execute(
            "INSERT INTO folder_cache (key, folder_id, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET folder_id = excluded.folder_id, updated_at = excluded.updated_at",
            params![key, folder_id, now_ms()],
        ) {
            tracing::warn!("folder cache write failed: {e}");
        }
    }

    /// Forgets `key` and every key below it (`key/...`).
    pub fn folder_forget(&self, key: &str) {
        // `substr`, not LIKE: shot names are full of `_`, a LIKE wildcard.
        if let Err(e) = self.conn().execute(
            "DELETE FROM folder_cache WHERE key = ?1 OR substr(key, 1, length(?1) + 1) = ?1 || '/'",
            [key],
        ) {
            tracing::warn!("folder cache delete failed: {e}");
        }
    }
}

/// `'queued','failed'`: status kinds as an SQL list. The kinds are our own
/// fixed names, never user input.
fn kind_list(kinds: &[StatusKind]) -> String {
    kinds
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

const COLUMNS: &str = "id, rel_path, file_name, size, mtime_ns, scene, shot, version, status, attempts, created_at, updated_at, started_at, finished_at, root";

fn row_to_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    let scene: Option<String> = r.get(5)?;
    let shot: Option<String> = r.get(6)?;
    let version: Option<String> = r.get(7)?;
    let status_json: String = r.get(8)?;
    let status = serde_json::from_str(&status_json).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            8,
            rusqlite::types::Type::Text,
            Box::new(BadStatus(format!("{e}: {status_json}"))),
        )
    })?;
    Ok(Item {
        id: r.get(0)?,
        rel_path: r.get(1)?,
        file_name: r.get(2)?,
        size: r.get::<_, i64>(3)? as u64,
        mtime_ns: r.get(4)?,
        shot: match (scene, shot, version) {
            (Some(scene), Some(shot), Some(version)) => Some(ShotRef {
                scene,
                shot,
                version,
            }),
            _ => None,
        },
        status,
        attempts: r.get::<_, i64>(9)? as u32,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        started_at: r.get(12)?,
        finished_at: r.get(13)?,
        root: r.get(14)?,
    })
}

fn load(conn: &Connection, id: i64) -> Result<Option<Item>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM items WHERE id = ?1"),
            [id],
            row_to_item,
        )
        .optional()?)
}

fn write_status(conn: &Connection, id: i64, status: &Status, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE items SET kind = ?2, status = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, status.kind().as_str(), encode(status), now],
    )?;
    // Progress updates (Uploading -> Uploading) are not history.
    let previous: Option<String> = conn
        .query_row(
            "SELECT kind FROM transitions WHERE item_id = ?1 ORDER BY id DESC LIMIT 1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    if previous.as_deref() != Some(status.kind().as_str()) || status.kind() != StatusKind::Uploading
    {
        log_transition(conn, id, status, now)?;
    }
    Ok(())
}

fn log_transition(conn: &Connection, id: i64, status: &Status, now: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO transitions (item_id, at, kind, status) VALUES (?1, ?2, ?3, ?4)",
        params![id, now, status.kind().as_str(), encode(status)],
    )?;
    Ok(())
}

fn encode(status: &Status) -> String {
    serde_json::to_string(status).expect("statuses serialize")
}

#[derive(Debug, thiserror::Error)]
#[error("unreadable status {0}")]
struct BadStatus(String);

fn decode(json: &str) -> Result<Status> {
    serde_json::from_str(json).map_err(|e| Error::Corrupt(format!("{e}: {json}")))
}

#[cfg(test)]
mod tests;

/// `root` joined with a `/`-separated path relative to it.
fn join_rel(root: &Path, rel_path: &str) -> PathBuf {
    rel_path
        .split('/')
        .fold(root.to_path_buf(), |p, part| p.join(part))
}
