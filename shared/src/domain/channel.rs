//! The two channels of the chat: everyone's, and one user's own.
//!
//! A client names a channel by its kind (`all_channel`, `user_channel`); messages are stored
//! and published under the *real* channel (`all_channel`, `user_channel_<user code>`).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::UserCode;

const ALL: &str = "all_channel";
const USER: &str = "user_channel";
const USER_PREFIX: &str = "user_channel_";

/// What a client asks to send to, and what a `BroadcastJob` records it asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChannelKind {
    #[serde(rename = "all_channel")]
    All,
    #[serde(rename = "user_channel")]
    User,
}

impl ChannelKind {
    /// A client's `channel` field; anything but the two names is `None`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            ALL => Some(Self::All),
            USER => Some(Self::User),
            _ => None,
        }
    }
}

/// A real channel: where a message is stored, published and read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Channel {
    All,
    User(UserCode),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a channel: {0:?}")]
pub struct UnknownChannel(String);

impl Channel {
    /// Every channel a token's holder reads: everyone's, and its user's own.
    pub fn readable_by(user: Option<&UserCode>) -> Vec<Self> {
        let mut channels = vec![Self::All];
        channels.extend(user.cloned().map(Self::User));
        channels
    }

    /// A stored or published name (`all_channel`, `user_channel_<code>`).
    pub fn parse(real: &str) -> Result<Self, UnknownChannel> {
        if real == ALL {
            return Ok(Self::All);
        }
        real.strip_prefix(USER_PREFIX)
            .and_then(|code| UserCode::parse(code).ok())
            .map(Self::User)
            .ok_or_else(|| UnknownChannel(real.to_owned()))
    }

    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::All => ChannelKind::All,
            Self::User(_) => ChannelKind::User,
        }
    }

    /// The name it is stored and published under.
    pub fn real_name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str(ALL),
            Self::User(code) => write!(f, "{USER_PREFIX}{}", code.as_str()),
        }
    }
}

impl From<Channel> for String {
    fn from(channel: Channel) -> Self {
        channel.real_name()
    }
}

impl TryFrom<String> for Channel {
    type Error = UnknownChannel;

    fn try_from(real: String) -> Result<Self, Self::Error> {
        Self::parse(&real)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(raw: &str) -> UserCode {
        UserCode::parse(raw).unwrap()
    }

    #[test]
    fn real_names_round_trip() {
        for channel in [Channel::All, Channel::User(code("u-1_A"))] {
            assert_eq!(Channel::parse(&channel.real_name()), Ok(channel.clone()));
        }
        assert_eq!(Channel::User(code("u1")).real_name(), "user_channel_u1");
        for bad in [
            "",
            "user_channel",
            "user_channel_",
            "user_channel_a.b",
            "other",
        ] {
            assert!(Channel::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn clients_name_a_channel_by_its_kind() {
        assert_eq!(ChannelKind::parse("all_channel"), Some(ChannelKind::All));
        assert_eq!(ChannelKind::parse("user_channel"), Some(ChannelKind::User));
        assert_eq!(ChannelKind::parse("user_channel_me"), None);
    }

    #[test]
    fn guests_read_everyones_channel_only() {
        assert_eq!(Channel::readable_by(None), vec![Channel::All]);
        assert_eq!(
            Channel::readable_by(Some(&code("u1"))),
            vec![Channel::All, Channel::User(code("u1"))]
        );
    }

    #[test]
    fn jobs_carry_the_real_name_as_a_string() {
        let json = serde_json::to_string(&Channel::User(code("u1"))).unwrap();
        assert_eq!(json, r#""user_channel_u1""#);
        assert_eq!(
            serde_json::to_string(&ChannelKind::User).unwrap(),
            r#""user_channel""#
        );
        assert!(serde_json::from_str::<Channel>(r#""nope""#).is_err());
    }
}
