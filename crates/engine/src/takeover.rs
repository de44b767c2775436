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

/// After the workstation's name in a *bid* (a survivor's offer to finish a
/// silent uploader's complete file): a bid is not the file's note until
/// its maker has won and left its takeover mark.
const BID_TAG: &str = " (offering to finish it)";

fn bid_text(workstation: &str, instance: &str) -> String {
    claim_text(&format!("{workstation}{BID_TAG}"), instance, 1)
}

/// Whether a claim note is a bid.
fn is_bid(comment: &Comment) -> bool {
    raw_holder(comment).is_some_and(|h| h.ends_with(BID_TAG))
}

fn claim_text(workstation: &str, instance: &str, beat: u64) -> String {
    format!("{CLAIM_PREFIX}{workstation}{CLAIM_BEAT}{beat}{CLAIM_INSTANCE}{instance}")
}

fn raw_holder(comment: &Comment) -> Option<&str> {
    let rest = comment.text.as_deref()?.strip_prefix(CLAIM_PREFIX)?;
    Some(rest.rsplit_once(CLAIM_BEAT).map_or(rest, |(name, _)| name))
}

/// The workstation a claim note (or bid) names, if the comment is one.
fn claim_holder(comment: &Comment) -> Option<String> {
    let name = raw_holder(comment)?;
    Some(name.strip_suffix(BID_TAG).unwrap_or(name).to_string())
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
    // withdrawal failed); not a won bid, the note of the workstation that
    // finished the file (ours, when we did, went when we told).
    let won = file_notes(&comments);
    for c in comments
        .iter()
        .filter(|c| claim_holder(c).is_some() && !(is_bid(c) && won.contains(c)))
    {
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
        // The file's notes (its uploader's, or a finisher's won bid), and
        // the bids still open, each oldest first.
        let claims = file_notes(&comments);
        let open_bids = open_bids(&comments);
        let finish_it = || Status::Stacking {
            folder_id: folder_id.to_string(),
            file_id: twin_id.to_string(),
            view_url: file.view_url.clone(),
        };
        if complete {
            match claims.first() {
                // Complete and told (or uploaded by other means), or its
                // uploader deleted its note to tell the team now (see
                // `Engine::may_tell`): any bid of ours is withdrawn.
                None => {
                    for bid in open_bids.iter().filter(|c| self.is_ours(c)) {
                        self.withdraw(bid).await;
                    }
                    return Ok(Status::AlreadyInFrameio {
                        file_id: twin_id.to_string(),
                    });
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
            let bids = open_bids;
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
                        &bid_text(&self.config.workstation, self.instance()),
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
            // (made a file's note by the mark) is its note until the team
            // is told. Deleting the note is the commit: it succeeds once.
            // Gone already, the uploader took it to tell the team itself
            // (`Engine::may_tell`, an uploader back from a crash): our mark
            // and bid are withdrawn and nothing is finished here.
            let mark = self
                .client
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
                    Ok(()) => {}
                    Err(FrameioError::NotFound(_)) => {
                        tracing::info!(
                            file = %item.file_name,
                            "the uploader came back and is telling the team itself; not finishing it"
                        );
                        self.withdraw(&mark).await;
                        for bid in my_bids {
                            self.withdraw(bid).await;
                        }
                        return Ok(Status::AlreadyInFrameio {
                            file_id: twin_id.to_string(),
                        });
                    }
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

    /// Whether this PostFlow may tell the team of its upload `file_id`
    /// now; the notifier asks right before sending, so a workstation back
    /// from a crash does not tell the team a second time.
    ///
    /// **Deleting our note is the commit**, and a deletion succeeds once:
    /// a survivor finishing the file for us posts its mark, then deletes
    /// the same note. Whichever deletion succeeds tells the team; the other
    /// side finds the note gone (a survivor withdraws its mark, we find
    /// the mark). Before, this beat the note and told if the beat landed,
    /// which let a survivor that had just looked at the silent note finish
    /// the file too: the short chaos soak in CI told two files twice.
    ///
    /// Assumed of Frame.io: a comment deleted twice answers 404 the
    /// second time, and a comment's creation is seen by every later list.
    /// A 404 after our own delete was retried (a cut connection) is
    /// ambiguous; with no mark of another on the file it is read as ours:
    /// a rare double telling rather than a lost one.
    pub async fn may_tell(&self, file_id: &str) -> Telling {
        let comments = match self.client.comments(file_id).await {
            Ok(c) => c,
            // The file is gone: nothing anyone could take over.
            Err(FrameioError::NotFound(_)) => return Telling::Ours,
            Err(e) => return Telling::Unknown(e.to_string()),
        };
        if let Some(by) = self.finished_by_another(&comments) {
            return Telling::TakenBy(by);
        }
        let ours: Vec<&Comment> = comments
            .iter()
            .filter(|c| claim_holder(c).is_some() && self.is_ours(c))
            .collect();
        if ours.is_empty() {
            // Deleted at an earlier commit (a crash before the message
            // went), or never written (an upload faster than its first
            // beat): nobody else finished it, so it is ours to tell.
            return Telling::Ours;
        }
        let mut committed = false;
        for note in ours {
            match self.client.delete_comment(&note.id).await {
                Ok(()) => committed = true,
                Err(FrameioError::NotFound(_)) => {}
                Err(e) => return Telling::Unknown(e.to_string()),
            }
        }
        if committed {
            return Telling::Ours;
        }
        // Every note of ours was gone: a survivor's deletion won, and its
        // mark (posted before it deleted) is there now.
        match self.client.comments(file_id).await {
            Ok(comments) => match self.finished_by_another(&comments) {
                Some(by) => Telling::TakenBy(by),
                None => Telling::Ours,
            },
            Err(FrameioError::NotFound(_)) => Telling::Ours,
            Err(e) => Telling::Unknown(e.to_string()),
        }
    }

    /// A new claim note of ours on `file_id`, after [`Engine::may_tell`]
    /// deleted ours and the message could not go (Discord down): the note
    /// beats again while the notice waits, so a survivor does not take the
    /// file for told while this PostFlow still has to tell it.
    pub async fn reclaim(&self, file_id: &str) {
        if let Err(e) = self
            .client
            .create_comment(
                file_id,
                &claim_text(&self.config.workstation, self.instance(), 1),
            )
            .await
        {
            tracing::debug!(file_id, "cannot write the claim note again: {e}");
        }
    }

    /// The finisher named by the newest takeover mark on a file, when that
    /// mark is another PostFlow's.
    fn finished_by_another(&self, comments: &[Comment]) -> Option<String> {
        let marks = oldest_first(
            comments
                .iter()
                .filter(|c| taken_over_by(c).is_some())
                .collect(),
        );
        let (finisher, instance) = taken_over_by(marks.last()?)?;
        (instance != self.instance()).then_some(finisher)
    }
}

/// What [`Engine::may_tell`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Telling {
    /// This PostFlow tells the team (its note is deleted: nobody else will).
    Ours,
    /// Another workstation finished the upload and tells the team.
    TakenBy(String),
    /// Frame.io could not be asked: the notice waits for the next round.
    Unknown(String),
}

/// The instances that left a takeover mark on a file.
fn marked(comments: &[Comment]) -> Vec<String> {
    comments
        .iter()
        .filter_map(taken_over_by)
        .map(|(_, i)| i)
        .collect()
}

/// A file's notes, oldest first: its uploader's claim notes and the bids
/// that won (their maker left its mark).
fn file_notes(comments: &[Comment]) -> Vec<&Comment> {
    let marks = marked(comments);
    claims_oldest_first(comments)
        .into_iter()
        .filter(|c| !is_bid(c) || claim_instance(c).is_some_and(|i| marks.contains(&i)))
        .collect()
}

/// The bids on a file not (yet) won, oldest first.
fn open_bids(comments: &[Comment]) -> Vec<&Comment> {
    let marks = marked(comments);
    claims_oldest_first(comments)
        .into_iter()
        .filter(|c| is_bid(c) && !claim_instance(c).is_some_and(|i| marks.contains(&i)))
        .collect()
}

/// The claim notes on a file, oldest first (creation time, then id).
fn claims_oldest_first(comments: &[Comment]) -> Vec<&Comment> {
    oldest_first(
        comments
            .iter()
            .filter(|c| claim_holder(c).is_some())
            .collect(),
    )
}

/// Comments oldest first (creation time, then id: the same order on every
/// workstation).
fn oldest_first(mut comments: Vec<&Comment>) -> Vec<&Comment> {
    comments.sort_by(|a, b| {
        (a.created_at.as_deref(), a.id.as_str()).cmp(&(b.created_at.as_deref(), b.id.as_str()))
    });
    comments
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
