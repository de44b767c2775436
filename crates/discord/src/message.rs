//! The body of a Discord "execute webhook" request, as JSON.
//!
//! Empty optional parts are left out of the JSON, except
//! `allowed_mentions.parse`, which is always sent: an explicit empty list is
//! what stops Discord from pinging `@everyone` or any name in the text.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One webhook message. Build them with [`crate::compose`]; any message
/// passed to [`crate::Webhook::send`] is checked with
/// [`crate::limits::check_limits`] first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Overrides the webhook's name for this message; `None` keeps the name
    /// the team gave the webhook in Discord.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embeds: Vec<Embed>,
    #[serde(default)]
    pub allowed_mentions: AllowedMentions,
}

/// A rich card inside a message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Embed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Makes the title a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `0xRRGGBB`: the stripe on the card's left edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<Footer>,
    /// PostFlow does not set it; modelled so that limit checks count it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
    /// ISO 8601, shown by Discord in the reader's time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// A label and its value inside an embed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    /// Shown side by side with its inline neighbours.
    #[serde(default)]
    pub inline: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Footer {
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Author {
    pub name: String,
}

/// Who a message may ping. The default pings nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedMentions {
    /// Kinds of mentions Discord may pick up from the text (`everyone`,
    /// `users`, `roles`). PostFlow always sends it empty.
    #[serde(default)]
    pub parse: Vec<String>,
    /// User ids that may be pinged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Role ids that may be pinged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

impl AllowedMentions {
    /// Nobody is pinged, whatever the text says.
    pub fn none() -> Self {
        Self::default()
    }

    /// Exactly this user or role may be pinged; never `@everyone`.
    pub fn only(mention: Mention) -> Self {
        match mention {
            Mention::User(id) => Self {
                users: vec![id.to_string()],
                ..Self::default()
            },
            Mention::Role(id) => Self {
                roles: vec![id.to_string()],
                ..Self::default()
            },
        }
    }
}

/// A user or role to ping, from the `discord.mention` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mention {
    User(u64),
    Role(u64),
}

impl Mention {
    /// `<@123>` (also the legacy `<@!123>`) is a user, `<@&456>` a role.
    /// Anything else, `@everyone` included, is `None`.
    pub fn parse(text: &str) -> Option<Mention> {
        let inner = text.trim().strip_prefix("<@")?.strip_suffix('>')?;
        let (role, digits) = match inner.strip_prefix('&') {
            Some(digits) => (true, digits),
            None => (false, inner.strip_prefix('!').unwrap_or(inner)),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let id = digits.parse().ok()?;
        Some(if role {
            Mention::Role(id)
        } else {
            Mention::User(id)
        })
    }
}

impl fmt::Display for Mention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mention::User(id) => write!(f, "<@{id}>"),
            Mention::Role(id) => write!(f, "<@&{id}>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mentions_parse_users_and_roles_only() {
        assert_eq!(Mention::parse("<@123>"), Some(Mention::User(123)));
        assert_eq!(Mention::parse(" <@!123> "), Some(Mention::User(123)));
        assert_eq!(Mention::parse("<@&456>"), Some(Mention::Role(456)));
        for bad in [
            "@everyone",
            "@here",
            "<@>",
            "<@&>",
            "<@12a>",
            "<#123>",
            "123",
            "<@+1>",
            "<@99999999999999999999999>",
        ] {
            assert_eq!(Mention::parse(bad), None, "{bad}");
        }
        assert_eq!(Mention::Role(456).to_string(), "<@&456>");
    }

    #[test]
    fn empty_parts_are_left_out_but_parse_is_always_sent() {
        let message = Message {
            embeds: vec![Embed {
                title: Some("t".into()),
                ..Embed::default()
            }],
            ..Message::default()
        };
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            json!({"embeds": [{"title": "t"}], "allowed_mentions": {"parse": []}})
        );
        assert_eq!(
            serde_json::to_value(AllowedMentions::only(Mention::Role(7))).unwrap(),
            json!({"parse": [], "roles": ["7"]})
        );
    }
}
