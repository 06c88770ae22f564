//! The Action Cable channels the relay listens on, and the stream each one carries. The
//! Redis adapter publishes `ActionCable.server.broadcast(stream, ..)` on
//! `<prefix>:<stream>`, or on `<stream>` when the prefix is empty.

use shared::domain::{Channel, UnknownChannel};

#[derive(Debug, Clone)]
pub struct RelayChannels {
    /// `<prefix>:`, or nothing.
    head: String,
}

impl RelayChannels {
    pub fn new(prefix: &str) -> Self {
        let head = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}:")
        };
        Self { head }
    }

    /// `SUBSCRIBE`d: everyone's stream.
    pub fn everyone(&self) -> String {
        format!("{}{}", self.head, Channel::All)
    }

    /// `PSUBSCRIBE`d: every user's stream. The prefix is matched literally.
    pub fn users_pattern(&self) -> String {
        format!("{}user_channel_*", escape_glob(&self.head))
    }

    /// The stream a channel carries.
    pub fn stream_of(&self, channel: &str) -> Result<Channel, UnknownChannel> {
        Channel::parse(channel.strip_prefix(&self.head).unwrap_or(channel))
    }
}

/// Redis glob patterns treat `*?[]\` specially.
fn escape_glob(literal: &str) -> String {
    let mut escaped = String::with_capacity(literal.len());
    for c in literal.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_carry_the_prefix_unless_it_is_empty() {
        let rails = RelayChannels::new("rails_app_production");
        assert_eq!(rails.everyone(), "rails_app_production:all_channel");
        assert_eq!(rails.users_pattern(), "rails_app_production:user_channel_*");
        assert_eq!(
            rails
                .stream_of("rails_app_production:user_channel_alice")
                .unwrap()
                .real_name(),
            "user_channel_alice"
        );
        let bare = RelayChannels::new("");
        assert_eq!(bare.everyone(), "all_channel");
        assert_eq!(bare.users_pattern(), "user_channel_*");
        assert_eq!(bare.stream_of("all_channel").unwrap(), Channel::All);
    }

    #[test]
    fn a_pattern_character_in_the_prefix_is_literal() {
        assert_eq!(
            RelayChannels::new("app*[1]").users_pattern(),
            "app\\*\\[1\\]:user_channel_*"
        );
    }

    #[test]
    fn a_channel_that_is_no_stream_of_ours_is_refused() {
        let rails = RelayChannels::new("p");
        assert!(rails.stream_of("p:user_channel_").is_err());
        assert!(rails.stream_of("p:other").is_err());
    }
}
