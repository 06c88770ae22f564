//! The Action Cable channels the relay listens on, and the stream each one carries. The
//! Redis adapter publishes `ActionCable.server.broadcast(stream, ..)` on
//! `<prefix>:<stream>`, or on `<stream>` when the prefix is empty.

use shared::domain::{Channel, PubsubPrefix, UnknownChannel};

#[derive(Debug, Clone)]
pub struct RelayChannels {
    prefix: PubsubPrefix,
}

impl RelayChannels {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: PubsubPrefix::new(prefix),
        }
    }

    /// `SUBSCRIBE`d: everyone's stream.
    pub fn everyone(&self) -> String {
        self.prefix.channel(&Channel::All.real_name())
    }

    /// `PSUBSCRIBE`d: every user's stream. The prefix is matched literally.
    pub fn users_pattern(&self) -> String {
        self.prefix.pattern("user_channel_*")
    }

    /// The stream a channel carries.
    pub fn stream_of(&self, channel: &str) -> Result<Channel, UnknownChannel> {
        Channel::parse(self.prefix.stream(channel).unwrap_or(channel))
    }
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
