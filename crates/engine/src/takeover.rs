//! No render stranded by a dead workstation.
//!
//! A workstation that finds another's upload of the very render it was
//! about to send (the placeholder created first, still incomplete) defers
//! to it: [`Status::Deferring`]. It must not defer for good: the other
//! workstation may have died mid-upload (unplugged, reinstalled), and then
//! nobody would ever send the file.
//!
//! **The sign of life is in Frame.io**, the one place every workstation
//! sees: while it sends parts, the uploader keeps a *claim note* on its
//! placeholder, a comment whose text names the workstation and changes at
//! every beat ([`EngineConfig::sign_of_life_every`]). The note is deleted
//! once the team has been told of the upload; while the notice waits (the
//! batching window, Discord down), the service keeps it beating
//! ([`Engine::keep_claims_alive`]), so nobody tells the team twice.
//!
//! **Taking over.** A deferring workstation looks at the placeholder every
//! beat. It goes by its own clock only: it remembers when it first saw the
//! note as it is now, and a note unchanged (or absent) for longer than
//! [`EngineConfig::takeover_after`] means nobody is sending the file. It
//! then deletes the placeholder and starts its item over, which creates its
//! own; between several survivors, the created-first rule of the race
//! check decides, as for any two workstations. A slow but living upload
//! keeps beating (the beats do not wait for parts), so it is never taken
//! over. An uploader taken over by mistake (cut off from Frame.io for
//! longer than the delay) finds its placeholder gone, starts over, and
//! defers to the survivor: a wasted upload, never a duplicate.
//!
//! [`EngineConfig::sign_of_life_every`]: crate::EngineConfig::sign_of_life_every
//! [`EngineConfig::takeover_after`]: crate::EngineConfig::takeover_after

use std::sync::{Arc, Mutex};
use std::time::Duration;

use postflow_frameio::{Client, Comment, Error as FrameioError};
use postflow_queue::{now_ms, Item, Status};

use crate::pipeline::StepError;
use crate::Engine;

/// How a claim note begins; the workstation's name follows.
const CLAIM_PREFIX: &str = "PostFlow is uploading this file from ";
/// Between the workstation's name and the beat counter.
const CLAIM_BEAT: &str = " · sign of life ";
/// Before the uploading PostFlow's instance id (its queue's, see
/// [`Engine::instance`]): workstation names may repeat, instance ids don't.
const CLAIM_INSTANCE: &str = " · #";

/// How a takeover mark begins: left for good on a file a survivor finished
/// (stacked, told the team) for an uploader that stopped before, so that
/// uploader, back from a crash, does not tell the team too. The finisher's
/// name follows, then [`TAKEN_OVER_FOR`], the uploader's, then
/// [`CLAIM_INSTANCE`] and the finisher's instance id.
const TAKEN_OVER_PREFIX: &str = "PostFlow on ";
const TAKEN_OVER_FOR: &str = " finished this upload for ";

fn taken_over_text(finisher: &str, uploader: &str, instance: &str) -> String {
    format!(
        "{TAKEN_OVER_PREFIX}{finisher}{TAKEN_OVER_FOR}{uploader}, which stopped before telling the team{CLAIM_INSTANCE}{instance}"
    )
}

/// (finisher, instance) of a takeover mark, if the comment is one.
fn taken_over_by(comment: &Comment) -> Option<(String, String)> {
    let rest = comment.text.as_deref()?.strip_prefix(TAKEN_OVER_PREFIX)?;
    let (finisher, rest) = rest.split_once(TAKEN_OVER_FOR)?;
    let (_, instance) = rest.rsplit_once(CLAIM_INSTANCE)?;
    Some((finisher.to_string(), instance.to_string()))
}

fn claim_text(workstation: &str, instance: &str, beat: u64) -> String {
    format!("{CLAIM_PREFIX}{workstation}{CLAIM_BEAT}{beat}{CLAIM_INSTANCE}{instance}")
}

/// The workstation a claim note names, if the comment is one.
fn claim_holder(comment: &Comment) -> Option<String> {
    let rest = comment.text.as_deref()?.strip_prefix(CLAIM_PREFIX)?;
    let name = rest.rsplit_once(CLAIM_BEAT).map_or(rest, |(name, _)| name);
    Some(name.to_string())
}

/// The instance id a claim note carries, if any.
fn claim_instance(comment: &Comment) -> Option<String> {
    claim_holder(comment)?;
    let (_, id) = comment.text.as_deref()?.rsplit_once(CLAIM_INSTANCE)?;
    Some(id.to_string())
}

/// A claim note's text at its next beat (the counter one up).
fn next_beat(text: &str) -> Option<String> {
    let (head, rest) = text.rsplit_once(CLAIM_BEAT)?;
    let (count, instance) = rest.split_once(CLAIM_INSTANCE)?;
    let count: u64 = count.parse().ok()?;
    Some(format!(
        "{head}{CLAIM_BEAT}{}{CLAIM_INSTANCE}{instance}",
        count + 1
    ))
}

/// The claim note on a placeholder: the first comment that is one.
fn find_claim(comments: &[Comment]) -> Option<&Comment> {
    comments.iter().find(|c| claim_holder(c).is_some())
}

/// The upload's side: keeps the claim note beating while `work` runs, then
/// deletes it if `work` succeeded. The beats run in a task of their own, so that a slow part
/// never delays a beat, and a slow beat never delays a part.
pub(crate) async fn while_claimed<T, E>(
    client: &Client,
    file_id: &str,
    (workstation, instance): (&str, &str),
    every: Duration,
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let note: Arc<Mutex<Option<String>>> = Arc::default();
    let beats = tokio::spawn(beat(
        client.clone(),
        file_id.to_string(),
        (workstation.to_string(), instance.to_string()),
        every,
        note.clone(),
    ));
    let out = work.await;
    beats.abort();
    let _ = beats.await;
    // The note stays, silent from now on, until the team is told
    // ([`release_claim`]): a failed upload's note tells this PostFlow the
    // placeholder is its own when the item is retried, and tells others
    // nobody is sending it; a complete file's note, gone silent, tells them
    // its uploader stopped before stacking it and telling the team.
    out
}

/// Deletes the claim notes on a file, once the upload is
/// complete and told. Not optional: a note left on a complete file makes a
/// workstation that meets it finish the file (stack it, tell the team)
/// after the takeover delay, a second notice. So an error is returned and
/// the step is done again (its notice is written once whatever happens).
pub(crate) async fn release_claim(client: &Client, file_id: &str) -> Result<(), FrameioError> {
    let comments = match client.comments(file_id).await {
        Ok(c) => c,
        // The file is gone: so is its note.
        Err(FrameioError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    // Every claim note: ours, and any left beside it (a lost bid whose
    // withdrawal failed).
    for c in comments.iter().filter(|c| claim_holder(c).is_some()) {
        match client.delete_comment(&c.id).await {
            Ok(()) | Err(FrameioError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn beat(
    client: Client,
    file_id: String,
    (workstation, instance): (String, String),
    every: Duration,
    note: Arc<Mutex<Option<String>>>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut count = 0u64;
    loop {
        tick.tick().await;
        count += 1;
        let text = claim_text(&workstation, &instance, count);
        let current = note.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let written = match current {
            Some(id) => client.update_comment(&id, &text).await,
            None => {
                // A note left by this workstation before a crash is ours:
                // adopted, not doubled.
                let existing = match client.comments(&file_id).await {
                    Ok(comments) => find_claim(&comments)
                        .filter(|c| claim_instance(c).as_deref() == Some(instance.as_str()))
                        .map(|c| c.id.clone()),
                    Err(e) => {
                        tracing::debug!(file_id, "cannot list the placeholder's comments: {e}");
                        None
                    }
                };
                match existing {
                    Some(id) => client.update_comment(&id, &text).await,
                    None => client.create_comment(&file_id, &text).await,
                }
            }
        };
        match written {
            Ok(c) => *note.lock().unwrap_or_else(|e| e.into_inner()) = Some(c.id),
            // The upload itself finds out what is wrong; a missed beat is
            // only a later one. Enough of them missed and another
            // workstation takes over, which is right when nobody can reach
            // Frame.io from here.
            Err(e) => tracing::debug!(file_id, "cannot write the claim note: {e}"),
        }
    }
}

impl Engine {
    /// Deletes the claim notes on a file whose upload the team has been
    /// told of (the service works through its durable list of them); an
    /// error is returned for the caller to retry.
    pub async fn release_claims(&self, file_id: &str) -> Result<(), FrameioError> {
        release_claim(&self.client, file_id).await
    }

    /// Whether `comment` is a claim note (or bid) of this PostFlow.
    fn is_ours(&self, comment: &Comment) -> bool {
        claim_instance(comment).as_deref() == Some(self.instance())
    }

    /// One beat on this PostFlow's claim notes on a complete file whose team
    /// notice is still waiting (the batching window, Discord down): a note
    /// silent for the takeover delay would make another workstation finish
    /// the file and tell the team a second time. (When this PostFlow
    /// finished a dead uploader's file, the dead note was deleted and its
    /// own bid is the file's note.) Errors are logged at debug level: a
    /// missed beat is only a later one.
    pub async fn keep_claims_alive(&self, file_id: &str) {
        let comments = match self.client.comments(file_id).await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(
                    file_id,
                    "cannot list the claim notes to keep them alive: {e}"
                );
                return;
            }
        };
        for c in comments.iter().filter(|c| self.is_ours(c)) {
            let Some(text) = c.text.as_deref().and_then(next_beat) else {
                continue;
            };
            if let Err(e) = self.client.update_comment(&c.id, &text).await {
                tracing::debug!(file_id, "cannot keep the claim note alive: {e}");
            }
        }
    }

    /// Whether a claim note of this PostFlow is on `file_id` (an error
    /// answers no: nothing is deleted on a guess).
    pub(crate) async fn is_claimed_by_us(&self, file_id: &str) -> bool {
        self.client
            .comments(file_id)
            .await
            .is_ok_and(|comments| comments.iter().any(|c| self.is_ours(c)))
    }

    /// Deletes the placeholder `twin_id` (gone already is as good) and
    /// sends the item back to the queue to start over.
    async fn start_over_without(&self, twin_id: &str) -> Result<Status, StepError> {
        match self.client.delete_file(twin_id).await {
            Ok(()) | Err(FrameioError::NotFound(_)) => Ok(Status::Queued),
            Err(e) => Err(e.into()),
        }
    }

    /// The deferring side: one look at the other workstation's upload of
    /// `item`. `last` is what the previous look saw (its sign of life and
    /// when that was first seen). Returns what the item is now: still
    /// deferring, already in Frame.io (that upload completed and was told),
    /// stacking (the file is complete but its uploader stopped before
    /// telling the team: this item finishes it), or queued to start over
    /// (the placeholder is gone, or was taken over here).
    pub(crate) async fn look_at_twin(
        &self,
        item: &Item,
        folder_id: &str,
        twin_id: &str,
        last: Option<(Option<String>, i64)>,
    ) -> Result<Status, StepError> {
        let now = now_ms();
        let file = match self.client.file(twin_id).await {
            Ok(file) => file,
            Err(FrameioError::NotFound(_)) => {
                tracing::info!(file = %item.file_name, "the other workstation's upload is gone; starting over");
                return Ok(Status::Queued);
            }
            Err(e) => return Err(e.into()),
        };
        let complete = file.status != "created";
        let comments = match self.client.comments(twin_id).await {
            Ok(c) => c,
            Err(FrameioError::NotFound(_)) => return Ok(Status::Queued),
            Err(e) => return Err(e.into()),
        };
        let claims = claims_oldest_first(&comments);
        let finish_it = || Status::Stacking {
            folder_id: folder_id.to_string(),
            file_id: twin_id.to_string(),
            view_url: file.view_url.clone(),
        };
        if complete {
            match claims.first() {
                // Complete and told (or uploaded by other means).
                None => {
                    return Ok(Status::AlreadyInFrameio {
                        file_id: twin_id.to_string(),
                    })
                }
                // Ours is the oldest note: this item's own upload got that
                // far before it failed, or this PostFlow won the right to
                // finish a dead uploader's file (below). It goes on from
                // stacking.
                Some(c) if self.is_ours(c) => return Ok(finish_it()),
                // Another's, complete but not yet told: its uploader is
                // stacking and telling, or died before; the silence decides.
                Some(_) => {}
            }
        } else if claims.first().is_some_and(|c| self.is_ours(c)) {
            // Our own placeholder, left by an upload of this item that
            // failed (a failed item keeps no session): nobody is sending
            // it, since this item is not. Started over at once rather than
            // after the takeover delay.
            tracing::info!(file = %item.file_name, "a placeholder of ours left by a failed upload; starting over");
            return self.start_over_without(twin_id).await;
        }
        // The note watched: the oldest, its uploader's.
        let claim = claims.first().copied();
        let holder = claim.and_then(claim_holder);
        let beat = claim.map(|c| {
            format!(
                "{}|{}",
                c.updated_at.as_deref().unwrap_or_default(),
                c.text.as_deref().unwrap_or_default()
            )
        });
        let seen_at = match last {
            Some((previous, seen_at)) if previous == beat => seen_at,
            _ => now,
        };
        let silent_ms = now - seen_at;
        let silent = silent_ms >= millis(self.config.takeover_after);
        let deferring = || Status::Deferring {
            folder_id: folder_id.to_string(),
            file_id: twin_id.to_string(),
            holder: holder.clone(),
            beat: beat.clone(),
            seen_at,
            next_check_at: now + millis(self.config.sign_of_life_every).max(1),
        };
        if complete {
            // Ours among the later notes: a bid to finish it for a silent
            // uploader, made at an earlier look.
            let bids: Vec<&Comment> = claims.iter().skip(1).copied().collect();
            let my_bids: Vec<&Comment> = bids.iter().copied().filter(|c| self.is_ours(c)).collect();
            if !silent {
                // Alive after all (or never silent): any bid is withdrawn.
                for bid in my_bids {
                    self.withdraw(bid).await;
                }
                return Ok(deferring());
            }
            if my_bids.is_empty() {
                // Silent for the delay: bid to finish it. Several survivors
                // may bid at once; the next look, a beat later, decides
                // between the bids then visible, by the same rule for all.
                tracing::info!(
                    file = %item.file_name,
                    holder = holder.as_deref().unwrap_or("an unknown workstation"),
                    "the workstation that uploaded this file went silent before telling the team; bidding to finish it"
                );
                self.client
                    .create_comment(
                        twin_id,
                        &claim_text(&self.config.workstation, self.instance(), 1),
                    )
                    .await?;
                return Ok(deferring());
            }
            // The oldest bid wins (creation time, then id: the same answer
            // on every workstation); a bid made after a winner decided is
            // younger than the winner's, so it loses.
            let winner = bids.first().copied().filter(|c| self.is_ours(c));
            if winner.is_none() {
                for bid in my_bids {
                    self.withdraw(bid).await;
                }
                return Ok(deferring());
            }
            tracing::warn!(
                file = %item.file_name,
                holder = holder.as_deref().unwrap_or("an unknown workstation"),
                silent_s = silent_ms / 1000,
                "the workstation that uploaded this file stopped before stacking it and telling the team; finishing for it"
            );
            // A mark for good, so the uploader, should it come back, does
            // not tell the team too; then the silent note goes, and our bid
            // is the file's note until the team is told.
            self.client
                .create_comment(
                    twin_id,
                    &taken_over_text(
                        &self.config.workstation,
                        holder.as_deref().unwrap_or("another workstation"),
                        self.instance(),
                    ),
                )
                .await?;
            if let Some(old) = claim {
                match self.client.delete_comment(&old.id).await {
                    Ok(()) | Err(FrameioError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            return Ok(finish_it());
        }
        if silent {
            tracing::warn!(
                file = %item.file_name,
                holder = holder.as_deref().unwrap_or("an unknown workstation"),
                silent_s = silent_ms / 1000,
                "taking the upload over: no sign of life for longer than the takeover delay"
            );
            return self.start_over_without(twin_id).await;
        }
        Ok(deferring())
    }

    /// Deletes a bid of ours that lost (logged: a bid left is only older
    /// than later ones, and deleted with every note once the file is told).
    async fn withdraw(&self, bid: &Comment) {
        match self.client.delete_comment(&bid.id).await {
            Ok(()) | Err(FrameioError::NotFound(_)) => {}
            Err(e) => tracing::debug!("cannot withdraw a bid to finish an upload: {e}"),
        }
    }

    /// Who took over the telling of `file_id`, if another workstation did:
    /// a note of another PostFlow on the file and none of ours (the one
    /// that finished it for us deleted ours). The notifier asks before
    /// sending an upload's notice, so a workstation back from a crash does
    /// not tell the team a second time. An error answers `None` (tell).
    ///
    /// Our note, when there, beats first: a survivor deciding to finish
    /// the file after that sees this PostFlow alive and withdraws; one that
    /// decided just before has deleted the note, the beat finds it gone,
    /// and this notice is the one not sent.
    pub async fn told_by_another(&self, file_id: &str) -> Option<String> {
        let comments = self.client.comments(file_id).await.ok()?;
        if let Some((finisher, _)) = comments
            .iter()
            .filter_map(taken_over_by)
            .find(|(_, instance)| instance != self.instance())
        {
            return Some(finisher);
        }
        let claims = claims_oldest_first(&comments);
        let another = || {
            claims
                .iter()
                .find(|c| !self.is_ours(c))
                .and_then(|c| claim_holder(c))
                .or_else(|| Some("another workstation".to_string()))
        };
        let ours = claims.iter().find(|c| self.is_ours(c));
        match ours {
            Some(note) => {
                let text = note.text.as_deref().and_then(next_beat)?;
                match self.client.update_comment(&note.id, &text).await {
                    Err(FrameioError::NotFound(_)) => another(),
                    _ => None,
                }
            }
            None if claims.is_empty() => None,
            None => another(),
        }
    }
}

/// The claim notes on a file, oldest first (creation time, then id).
fn claims_oldest_first(comments: &[Comment]) -> Vec<&Comment> {
    let mut claims: Vec<&Comment> = comments
        .iter()
        .filter(|c| claim_holder(c).is_some())
        .collect();
    claims.sort_by(|a, b| {
        (a.created_at.as_deref(), a.id.as_str()).cmp(&(b.created_at.as_deref(), b.id.as_str()))
    });
    claims
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(text: &str) -> Comment {
        Comment {
            id: "c".into(),
            text: Some(text.into()),
            created_at: None,
            updated_at: None,
        }
    }

    #[test]
    fn a_claim_note_names_its_workstation_and_other_comments_are_not_claims() {
        let note = comment(&claim_text("WS-EDIT-3 · grading", "7f3a", 41));
        assert_eq!(claim_holder(&note).as_deref(), Some("WS-EDIT-3 · grading"));
        assert_eq!(claim_instance(&note).as_deref(), Some("7f3a"));
        assert_eq!(claim_instance(&comment("a note · #1")), None, "not a claim");
        assert_eq!(
            claim_holder(&comment("Looks great, love the red car")),
            None
        );
        assert_eq!(
            claim_holder(&comment("postflow is uploading this file from X")),
            None,
            "a person's comment that looks alike is not a claim"
        );
        let comments = [comment("first!"), note.clone()];
        assert_eq!(find_claim(&comments), Some(&note));
        assert_eq!(
            next_beat(note.text.as_deref().unwrap()).as_deref(),
            Some(claim_text("WS-EDIT-3 · grading", "7f3a", 42).as_str()),
            "the next beat keeps the workstation and the instance"
        );
        assert_eq!(next_beat("Looks great · sign of life"), None);
        let mark = comment(&taken_over_text("WS-2", "WS-3 · grading", "9b1c"));
        assert_eq!(
            taken_over_by(&mark),
            Some(("WS-2".to_string(), "9b1c".to_string()))
        );
        assert_eq!(claim_holder(&mark), None, "a mark is not a claim");
        assert_eq!(taken_over_by(&note), None);
    }
}
