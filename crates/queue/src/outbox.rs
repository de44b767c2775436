//! The durable outbox: notifications (Discord messages) waiting to be sent.
//!
//! A notice is written here by the engine in the same step that records an
//! upload as announced, keyed so that the same notice (one item, one cause)
//! is stored at most once however often the step is replayed after a crash.
//! A sender takes pending notices oldest first and marks them sent once the
//! channel accepted them; a restart or an outage in between leaves them
//! pending, so each is sent once. The payload is opaque JSON: the queue
//! knows nothing of Discord.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::{now_ms, Queue, Result};

/// One notice in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    /// What makes it unique within its channel, e.g. `uploaded:42`.
    pub key: String,
    /// The notice, as JSON.
    pub payload: String,
    /// When it was written (unix ms).
    pub created_at: i64,
    /// Failed sends so far.
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// The outbox of one channel, in numbers (for `postflow status` and the UI).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxSummary {
    pub pending: u64,
    /// When the oldest pending notice was written (unix ms).
    pub oldest_pending_at: Option<i64>,
    pub sent: u64,
    pub last_sent_at: Option<i64>,
    /// The last send failure of a notice still pending.
    pub last_error: Option<String>,
    /// Notices set aside (Discord refused them, or they cannot be read).
    pub given_up: u64,
}

impl Queue {
    /// Adds a notice unless one with the same `key` is already in the
    /// channel's outbox (pending or sent). Returns whether it was added.
    pub fn enqueue_notice(&self, channel: &str, key: &str, payload: &str) -> Result<bool> {
        let added = self.conn().execute(
            "INSERT INTO outbox (channel, key, payload, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (channel, key) DO NOTHING",
            params![channel, key, payload, now_ms()],
        )?;
        Ok(added == 1)
    }

    /// Notices not sent yet, oldest first.
    pub fn pending_notices(&self, channel: &str, limit: usize) -> Result<Vec<OutboxEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, key, payload, created_at, attempts, last_error FROM outbox
             WHERE channel = ?1 AND sent_at IS NULL AND given_up_at IS NULL ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![channel, limit as i64], |r| {
                Ok(OutboxEntry {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    payload: r.get(2)?,
                    created_at: r.get(3)?,
                    attempts: r.get::<_, i64>(4)? as u32,
                    last_error: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The channel accepted these notices.
    pub fn mark_notices_sent(&self, ids: &[i64]) -> Result<()> {
        self.update_notices(ids, "sent_at = ?2, last_error = ?3", None)
    }

    /// A send of these notices failed; they stay pending.
    pub fn note_notice_failure(&self, ids: &[i64], error: &str) -> Result<()> {
        self.update_notices(ids, "attempts = attempts + 1, last_error = ?3", Some(error))
    }

    /// These notices will never go out (Discord refused the message that
    /// carried them, or they cannot be read): set aside, kept, not retried.
    pub fn give_up_notices(&self, ids: &[i64], error: &str) -> Result<()> {
        self.update_notices(ids, "given_up_at = ?2, last_error = ?3", Some(error))
    }

    /// Applies `set` (an SQL `SET` list of our own, never user input, over
    /// `?2` = now and `?3` = the error) to each notice, in one transaction.
    fn update_notices(&self, ids: &[i64], set: &str, error: Option<&str>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = now_ms();
        {
            let mut update = tx.prepare(&format!("UPDATE outbox SET {set} WHERE id = ?1"))?;
            for id in ids {
                update.execute(params![id, now, error])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn outbox_summary(&self, channel: &str) -> Result<OutboxSummary> {
        let conn = self.conn();
        let (pending, oldest_pending_at): (i64, Option<i64>) = conn.query_row(
            "SELECT COUNT(*), MIN(created_at) FROM outbox
             WHERE channel = ?1 AND sent_at IS NULL AND given_up_at IS NULL",
            [channel],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (sent, last_sent_at): (i64, Option<i64>) = conn.query_row(
            "SELECT COUNT(*), MAX(sent_at) FROM outbox WHERE channel = ?1 AND sent_at IS NOT NULL",
            [channel],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let last_error = conn
            .query_row(
                "SELECT last_error FROM outbox WHERE channel = ?1 AND sent_at IS NULL
                 AND given_up_at IS NULL AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1",
                [channel],
                |r| r.get(0),
            )
            .optional()?;
        let given_up: i64 = conn.query_row(
            "SELECT COUNT(*) FROM outbox WHERE channel = ?1 AND given_up_at IS NOT NULL",
            [channel],
            |r| r.get(0),
        )?;
        Ok(OutboxSummary {
            given_up: given_up as u64,
            pending: pending as u64,
            oldest_pending_at,
            sent: sent as u64,
            last_sent_at,
            last_error,
        })
    }
}
