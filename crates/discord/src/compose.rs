//! A batch of notices → the fewest messages that carry all of them, each
//! within Discord's limits.
//!
//! - Uploads: up to [`limits::EMBEDS`] get one card each; more become a
//!   digest, one short line per file, over as many cards and messages as
//!   needed.
//! - Action notices: one card each, in messages of their own; the first such
//!   message pings the configured mention, and only it.
//! - Test notices: one card each.
//!
//! Cards are packed greedily into messages, respecting both the embed count
//! and the 6000-character total. Nothing is dropped: overlong values are
//! shortened (ending with "…"), never left out.

use postflow_settings::Language;

use crate::limits::{self, chars, embed_chars};
use crate::message::{AllowedMentions, Embed, Mention, Message};
use crate::notice::{Notice, Upload};
use crate::render;
use crate::text::Texts;

/// A message and the notices it carries, as indexes into the batch given to
/// [`compose_tracked`]: once Discord accepted the message, these notices are
/// sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    pub message: Message,
    pub notices: Vec<usize>,
}

/// The messages announcing `notices`, in `lang`. `mention` (`<@id>` or
/// `<@&id>`, from the settings) is pinged on action notices only; anything
/// else is ignored with a warning.
pub fn compose(notices: &[Notice], lang: Language, mention: Option<&str>) -> Vec<Message> {
    compose_tracked(notices, lang, mention)
        .into_iter()
        .map(|composed| composed.message)
        .collect()
}

/// [`compose`], also telling which notices each message carries.
pub fn compose_tracked(notices: &[Notice], lang: Language, mention: Option<&str>) -> Vec<Composed> {
    let t = Texts::of(lang);
    let mut uploads = Vec::new();
    let mut actions = Vec::new();
    let mut tests = Vec::new();
    for (index, notice) in notices.iter().enumerate() {
        match notice {
            Notice::Uploaded(upload) => uploads.push((index, upload)),
            Notice::NeedsAction(action) => {
                actions.push(Card::one(index, render::action_embed(action, t)))
            }
            Notice::Test { workstation, at } => {
                tests.push(Card::one(index, render::test_embed(workstation, *at, t)))
            }
        }
    }
    let mut messages = pack(upload_cards(&uploads, t), None);
    let ping = mention.and_then(parse_mention).map(|m| Ping {
        content: format!("{m} {}", t.needs_attention),
        allowed: AllowedMentions::only(m),
    });
    messages.extend(pack(actions, ping));
    messages.extend(pack(tests, None));
    messages
}

/// An embed and the notices it shows.
struct Card {
    embed: Embed,
    notices: Vec<usize>,
}

impl Card {
    fn one(index: usize, embed: Embed) -> Card {
        Card {
            embed,
            notices: vec![index],
        }
    }
}

/// The mention a message pings, with the permission to ping exactly it.
struct Ping {
    content: String,
    allowed: AllowedMentions,
}

fn parse_mention(text: &str) -> Option<Mention> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mention = Mention::parse(text);
    if mention.is_none() {
        tracing::warn!(
            mention = text,
            "discord.mention is not a <@user> or <@&role> mention; sending without it"
        );
    }
    mention
}

fn upload_cards(uploads: &[(usize, &Upload)], t: &Texts) -> Vec<Card> {
    if uploads.len() <= limits::EMBEDS {
        return uploads
            .iter()
            .map(|(index, upload)| Card::one(*index, render::upload_embed(upload, t)))
            .collect();
    }
    digest_cards(uploads, t)
}

/// The lines of a digest, cut into cards whose descriptions fit; titled
/// "30 new files on Frame.io (1/2)" when there is more than one card.
fn digest_cards(uploads: &[(usize, &Upload)], t: &Texts) -> Vec<Card> {
    let mut chunks: Vec<Chunk> = Vec::new();
    for (index, upload) in uploads {
        let line = render::digest_line(upload, t);
        match chunks.last_mut() {
            Some(chunk) if chunk.chars + 1 + chars(&line) <= limits::DESCRIPTION => {
                chunk.add(*index, upload, &line)
            }
            _ => chunks.push(Chunk::start(*index, upload, line)),
        }
    }
    let parts = chunks.len();
    let title = t.digest_title(uploads.len());
    chunks
        .into_iter()
        .enumerate()
        .map(|(k, chunk)| {
            let title = if parts > 1 {
                format!("{title} ({}/{parts})", k + 1)
            } else {
                title.clone()
            };
            Card {
                embed: render::digest_embed(title, chunk.text, chunk.latest_at),
                notices: chunk.notices,
            }
        })
        .collect()
}

/// Digest lines going into one card.
struct Chunk {
    text: String,
    chars: usize,
    notices: Vec<usize>,
    latest_at: i64,
}

impl Chunk {
    fn start(index: usize, upload: &Upload, line: String) -> Chunk {
        Chunk {
            chars: chars(&line),
            text: line,
            notices: vec![index],
            latest_at: upload.uploaded_at,
        }
    }

    fn add(&mut self, index: usize, upload: &Upload, line: &str) {
        self.text.push('\n');
        self.text.push_str(line);
        self.chars += 1 + chars(line);
        self.notices.push(index);
        self.latest_at = self.latest_at.max(upload.uploaded_at);
    }
}

/// Cards into messages, in order: a new message when the current one has
/// [`limits::EMBEDS`] cards or the next card would take it past
/// [`limits::EMBEDS_TOTAL`]. Only the first message carries the ping.
fn pack(cards: Vec<Card>, mut ping: Option<Ping>) -> Vec<Composed> {
    let mut messages: Vec<Composed> = Vec::new();
    let mut total = 0;
    for card in cards {
        let len = embed_chars(&card.embed);
        let fits = messages.last().is_some_and(|last| {
            last.message.embeds.len() < limits::EMBEDS && total + len <= limits::EMBEDS_TOTAL
        });
        if !fits {
            messages.push(new_message(ping.take()));
            total = 0;
        }
        let last = messages.last_mut().expect("a message was just started");
        total += len;
        last.message.embeds.push(card.embed);
        last.notices.extend(card.notices);
    }
    messages
}

fn new_message(ping: Option<Ping>) -> Composed {
    let (content, allowed_mentions) = match ping {
        Some(ping) => (Some(ping.content), ping.allowed),
        None => (None, AllowedMentions::none()),
    };
    Composed {
        message: Message {
            content,
            username: None,
            embeds: Vec::new(),
            allowed_mentions,
        },
        notices: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{check_limits, truncate};
    use crate::notice::{Action, Cause};
    use crate::text::inline;
    use proptest::prelude::*;

    fn upload(n: usize) -> Upload {
        let base = crate::notice::sample_upload();
        Upload {
            file_name: format!("SC01_UNDLM_{n:05}_V002.mov"),
            shot: format!("{n:05}"),
            frameio_path: format!("SCENES/SC01/{n:05}"),
            view_url: Some(format!("https://next.frame.io/project/p/view/{n}")),
            uploaded_at: base.uploaded_at + n as i64,
            ..base
        }
    }

    fn uploads(count: usize) -> Vec<Notice> {
        (0..count).map(|n| Notice::Uploaded(upload(n))).collect()
    }

    fn action(cause: Cause) -> Notice {
        Notice::NeedsAction(Action {
            cause,
            file_name: Some("bad name.mov".into()),
            detail: "no pattern matches".into(),
            workstation: "edit-3".into(),
            at: 1_700_000_000,
        })
    }

    /// Every string a reader sees in the message.
    fn visible_text(message: &Message) -> String {
        let mut text = message.content.clone().unwrap_or_default();
        for embed in &message.embeds {
            for part in [&embed.title, &embed.description].into_iter().flatten() {
                text.push_str(part);
                text.push('\n');
            }
            for field in &embed.fields {
                text.push_str(&field.value);
                text.push('\n');
            }
        }
        text
    }

    #[test]
    fn nothing_to_say_makes_no_message() {
        assert!(compose(&[], Language::En, Some("<@1>")).is_empty());
    }

    #[test]
    fn ten_uploads_get_a_card_each_eleven_a_digest() {
        let ten = compose(&uploads(10), Language::En, None);
        assert_eq!(ten.len(), 1);
        assert_eq!(ten[0].embeds.len(), 10);

        let eleven = compose(&uploads(11), Language::En, None);
        assert_eq!(eleven.len(), 1);
        assert_eq!(eleven[0].embeds.len(), 1);
        let digest = &eleven[0].embeds[0];
        assert_eq!(digest.title.as_deref(), Some("11 new files on Frame.io"));
        assert_eq!(digest.description.as_deref().unwrap().lines().count(), 11);
    }

    #[test]
    fn a_long_digest_is_split_and_numbered() {
        let composed = compose_tracked(&uploads(200), Language::Fr, None);
        assert!(composed.len() > 1);
        let titles: Vec<_> = composed
            .iter()
            .flat_map(|c| &c.message.embeds)
            .map(|e| e.title.clone().unwrap())
            .collect();
        let parts = titles.len();
        assert!(parts > 1);
        assert_eq!(
            titles[0],
            format!("200 nouveaux fichiers sur Frame.io (1/{parts})")
        );
        let carried: Vec<usize> = composed.iter().flat_map(|c| c.notices.clone()).collect();
        assert_eq!(carried, (0..200).collect::<Vec<_>>());
        for c in &composed {
            check_limits(&c.message).unwrap();
        }
    }

    #[test]
    fn uploads_never_ping_and_actions_ping_only_the_mention_once() {
        let mut notices = uploads(3);
        notices.extend((0..12).map(|_| action(Cause::NameHeld)));
        let messages = compose(&notices, Language::En, Some("<@&456>"));
        assert_eq!(messages.len(), 3, "uploads, then actions over two messages");
        assert_eq!(messages[0].content, None);
        assert_eq!(messages[0].allowed_mentions, AllowedMentions::none());
        assert_eq!(
            messages[1].content.as_deref(),
            Some("<@&456> PostFlow needs attention")
        );
        assert_eq!(messages[1].allowed_mentions.roles, ["456"]);
        assert!(messages[1].allowed_mentions.parse.is_empty());
        assert!(messages[1].allowed_mentions.users.is_empty());
        assert_eq!(messages[2].content, None);
        assert_eq!(messages[2].allowed_mentions, AllowedMentions::none());
    }

    #[test]
    fn an_invalid_mention_is_never_sent() {
        let messages = compose(
            &[action(Cause::SignInExpired)],
            Language::En,
            Some("@everyone"),
        );
        assert_eq!(messages[0].content, None);
        assert_eq!(messages[0].allowed_mentions, AllowedMentions::none());
    }

    fn long_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,12}",
            "[a-zA-Z0-9_*~`|\\[\\]<>#()\\\\ \n]{0,80}",
            "\\PC{200,3000}",
        ]
    }

    fn any_upload() -> impl Strategy<Value = Upload> {
        (
            (long_text(), long_text(), long_text(), long_text()),
            (any::<u64>(), long_text(), proptest::option::of(long_text())),
            (
                long_text(),
                any::<i64>(),
                proptest::option::of(long_text()),
                any::<bool>(),
            ),
        )
            .prop_map(
                |(
                    (file_name, scene, shot, version),
                    (size_bytes, frameio_path, view_url),
                    (workstation, uploaded_at, previous_version, rerender),
                )| Upload {
                    file_name,
                    scene,
                    shot,
                    version,
                    size_bytes,
                    frameio_path,
                    view_url: view_url.map(|path| format!("https://f.io/{path}")),
                    workstation,
                    uploaded_at,
                    previous_version,
                    rerender,
                },
            )
    }

    fn any_notice() -> impl Strategy<Value = Notice> {
        let cause = prop_oneof![
            any::<u32>().prop_map(|attempts| Cause::KeepsFailing { attempts }),
            Just(Cause::SignInExpired),
            Just(Cause::NameHeld),
            Just(Cause::FrameioAccess),
        ];
        let action = (
            cause,
            proptest::option::of(long_text()),
            long_text(),
            long_text(),
            any::<i64>(),
        )
            .prop_map(|(cause, file_name, detail, workstation, at)| {
                Notice::NeedsAction(Action {
                    cause,
                    file_name,
                    detail,
                    workstation,
                    at,
                })
            });
        let test = (long_text(), any::<i64>())
            .prop_map(|(workstation, at)| Notice::Test { workstation, at });
        prop_oneof![6 => any_upload().prop_map(Notice::Uploaded), 3 => action, 1 => test]
    }

    /// How a file name shows, at least: its first characters as rendered
    /// (a digest line keeps 160, a card title 256).
    fn shown_prefix(name: &str) -> String {
        let shown = inline(name);
        truncate(&shown, 100).trim_end_matches('…').to_string()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the batch, every message passes Discord's limits, every
        /// notice is carried exactly once, and every file name is visible in
        /// the message carrying it.
        #[test]
        fn any_batch_fits_discord_and_loses_nothing(
            notices in proptest::collection::vec(any_notice(), 0..60),
            french in any::<bool>(),
            mention in proptest::option::of(prop_oneof![
                Just("<@123>".to_string()), Just("<@&456>".to_string()), "\\PC{0,30}"
            ]),
        ) {
            let lang = if french { Language::Fr } else { Language::En };
            let composed = compose_tracked(&notices, lang, mention.as_deref());
            let mut carried: Vec<usize> = Vec::new();
            for c in &composed {
                prop_assert_eq!(check_limits(&c.message), Ok(()));
                prop_assert!(c.message.allowed_mentions.parse.is_empty());
                let text = visible_text(&c.message);
                for &index in &c.notices {
                    let name = match &notices[index] {
                        Notice::Uploaded(u) => Some(&u.file_name),
                        Notice::NeedsAction(a) => a.file_name.as_ref(),
                        Notice::Test { .. } => None,
                    };
                    if let Some(name) = name {
                        let prefix = shown_prefix(name);
                        prop_assert!(text.contains(&prefix), "{:?} not in message", prefix);
                    }
                }
                carried.extend(&c.notices);
            }
            carried.sort_unstable();
            prop_assert_eq!(carried, (0..notices.len()).collect::<Vec<_>>());
        }
    }
}
