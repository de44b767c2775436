//! Discord's limits on a webhook message (discord-webhook-notes.md), the one
//! place they are written down: [`crate::compose`] builds within them, the
//! client checks them before sending, and the fake server rejects what
//! breaks them.
//!
//! Lengths are counted in Unicode characters (`char`s), as Discord does.

use crate::message::{Embed, Message};

/// `content`.
pub const CONTENT: usize = 2000;
/// `username` (when overriding the webhook's name).
pub const USERNAME: usize = 80;
/// Embeds in one message.
pub const EMBEDS: usize = 10;
/// An embed's title.
pub const TITLE: usize = 256;
/// An embed's description.
pub const DESCRIPTION: usize = 4096;
/// Fields in one embed.
pub const FIELDS: usize = 25;
/// A field's name.
pub const FIELD_NAME: usize = 256;
/// A field's value.
pub const FIELD_VALUE: usize = 1024;
/// An embed's footer text.
pub const FOOTER: usize = 2048;
/// An embed's author name.
pub const AUTHOR: usize = 256;
/// All embeds of one message together: titles, descriptions, field names
/// and values, footers and author names.
pub const EMBEDS_TOTAL: usize = 6000;

/// The ellipsis that ends every shortened text.
pub const ELLIPSIS: char = '…';

/// Why Discord would refuse a message: where (`embeds.2.fields.0.value`,
/// Discord's own way of naming a place in the body) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct LimitViolation {
    pub path: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("a message needs content or at least one embed")]
    NothingToSend,
    #[error("{len} characters, at most {max} allowed")]
    TooLong { len: usize, max: usize },
    #[error("{count} entries, at most {max} allowed")]
    TooMany { count: usize, max: usize },
    #[error("required, must not be blank")]
    Required,
}

/// Characters of `text`, as Discord counts them.
pub fn chars(text: &str) -> usize {
    text.chars().count()
}

/// The characters `embed` counts towards [`EMBEDS_TOTAL`].
pub fn embed_chars(embed: &Embed) -> usize {
    let opt = |text: Option<&String>| text.map_or(0, |t| chars(t));
    opt(embed.title.as_ref())
        + opt(embed.description.as_ref())
        + embed
            .fields
            .iter()
            .map(|f| chars(&f.name) + chars(&f.value))
            .sum::<usize>()
        + opt(embed.footer.as_ref().map(|f| &f.text))
        + opt(embed.author.as_ref().map(|a| &a.name))
}

/// `text` if it fits in `max` characters; otherwise its first `max - 1`
/// characters and [`ELLIPSIS`]. Cuts on character boundaries only.
pub fn truncate(text: &str, max: usize) -> String {
    if chars(text) <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    if max > 0 {
        short.push(ELLIPSIS);
    }
    short
}

/// Every limit Discord applies to a webhook message, first violation found.
pub fn check_limits(message: &Message) -> Result<(), LimitViolation> {
    let content = message.content.as_deref().unwrap_or("");
    if content.trim().is_empty() && message.embeds.is_empty() {
        return Err(violation("content", Problem::NothingToSend));
    }
    at_most("content", content, CONTENT)?;
    if let Some(username) = &message.username {
        at_most("username", username, USERNAME)?;
    }
    count("embeds", message.embeds.len(), EMBEDS)?;
    for (i, embed) in message.embeds.iter().enumerate() {
        check_embed(&format!("embeds.{i}"), embed)?;
    }
    let total: usize = message.embeds.iter().map(embed_chars).sum();
    if total > EMBEDS_TOTAL {
        return Err(violation(
            "embeds",
            Problem::TooLong {
                len: total,
                max: EMBEDS_TOTAL,
            },
        ));
    }
    Ok(())
}

fn check_embed(path: &str, embed: &Embed) -> Result<(), LimitViolation> {
    if let Some(title) = &embed.title {
        at_most(&format!("{path}.title"), title, TITLE)?;
    }
    if let Some(description) = &embed.description {
        at_most(&format!("{path}.description"), description, DESCRIPTION)?;
    }
    count(&format!("{path}.fields"), embed.fields.len(), FIELDS)?;
    for (i, field) in embed.fields.iter().enumerate() {
        required(&format!("{path}.fields.{i}.name"), &field.name, FIELD_NAME)?;
        required(
            &format!("{path}.fields.{i}.value"),
            &field.value,
            FIELD_VALUE,
        )?;
    }
    if let Some(footer) = &embed.footer {
        at_most(&format!("{path}.footer.text"), &footer.text, FOOTER)?;
    }
    if let Some(author) = &embed.author {
        at_most(&format!("{path}.author.name"), &author.name, AUTHOR)?;
    }
    Ok(())
}

fn violation(path: &str, problem: Problem) -> LimitViolation {
    LimitViolation {
        path: path.to_string(),
        problem,
    }
}

fn at_most(path: &str, text: &str, max: usize) -> Result<(), LimitViolation> {
    let len = chars(text);
    if len > max {
        return Err(violation(path, Problem::TooLong { len, max }));
    }
    Ok(())
}

fn required(path: &str, text: &str, max: usize) -> Result<(), LimitViolation> {
    if text.trim().is_empty() {
        return Err(violation(path, Problem::Required));
    }
    at_most(path, text, max)
}

fn count(path: &str, count: usize, max: usize) -> Result<(), LimitViolation> {
    if count > max {
        return Err(violation(path, Problem::TooMany { count, max }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Field, Footer};

    fn embed(title: &str) -> Embed {
        Embed {
            title: Some(title.to_string()),
            ..Embed::default()
        }
    }

    fn message(embeds: Vec<Embed>) -> Message {
        Message {
            embeds,
            ..Message::default()
        }
    }

    #[test]
    fn truncation_counts_characters_and_ends_with_an_ellipsis() {
        assert_eq!(truncate("Scène", 5), "Scène");
        assert_eq!(truncate("Scène 12", 5), "Scèn…");
        assert_eq!(truncate("🎬🎬🎬", 2), "🎬…");
        assert_eq!(chars(&truncate(&"é".repeat(300), TITLE)), TITLE);
    }

    #[test]
    fn limits_count_unicode_characters_not_bytes() {
        // 256 two-byte characters: 512 bytes, still a valid title.
        assert_eq!(
            check_limits(&message(vec![embed(&"é".repeat(256))])),
            Ok(())
        );
        let err = check_limits(&message(vec![embed(&"é".repeat(257))])).unwrap_err();
        assert_eq!(err.path, "embeds.0.title");
        assert_eq!(err.problem, Problem::TooLong { len: 257, max: 256 });
    }

    #[test]
    fn each_limit_is_enforced_with_its_place() {
        let cases: Vec<(Message, &str)> = vec![
            (Message::default(), "content"),
            (
                Message {
                    content: Some("x".repeat(CONTENT + 1)),
                    ..Message::default()
                },
                "content",
            ),
            (message(vec![embed("t"); EMBEDS + 1]), "embeds"),
            (
                message(vec![Embed {
                    fields: vec![
                        Field {
                            name: "n".into(),
                            value: "v".into(),
                            inline: false
                        };
                        FIELDS + 1
                    ],
                    ..Embed::default()
                }]),
                "embeds.0.fields",
            ),
            (
                message(vec![
                    embed("ok"),
                    Embed {
                        fields: vec![Field {
                            name: "n".into(),
                            value: "  ".into(),
                            inline: true,
                        }],
                        ..Embed::default()
                    },
                ]),
                "embeds.1.fields.0.value",
            ),
            (
                message(vec![Embed {
                    footer: Some(Footer {
                        text: "f".repeat(FOOTER + 1),
                    }),
                    ..Embed::default()
                }]),
                "embeds.0.footer.text",
            ),
        ];
        for (message, path) in cases {
            assert_eq!(check_limits(&message).unwrap_err().path, path);
        }
    }

    #[test]
    fn all_embeds_together_stay_under_6000_characters() {
        let big = Embed {
            description: Some("d".repeat(DESCRIPTION)),
            ..Embed::default()
        };
        assert_eq!(check_limits(&message(vec![big.clone()])), Ok(()));
        let err = check_limits(&message(vec![big.clone(), big])).unwrap_err();
        assert_eq!(err.path, "embeds");
        assert_eq!(
            err.problem,
            Problem::TooLong {
                len: 2 * DESCRIPTION,
                max: EMBEDS_TOTAL
            }
        );
    }
}
