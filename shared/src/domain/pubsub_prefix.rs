//! Action Cable's pub/sub channel names under `ACTION_CABLE_CHANNEL_PREFIX`: the Redis
//! adapter publishes `ActionCable.server.broadcast(stream, ..)` on `<prefix>:<stream>`, or on
//! `<stream>` when the prefix is empty. Web, the worker and the relay all name channels here.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubsubPrefix {
    /// `<prefix>:`, or nothing.
    head: String,
}

impl PubsubPrefix {
    pub fn new(prefix: &str) -> Self {
        let head = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}:")
        };
        Self { head }
    }

    /// The channel `stream` is published on.
    pub fn channel(&self, stream: &str) -> String {
        format!("{}{stream}", self.head)
    }

    /// A `PSUBSCRIBE` pattern for `stream_pattern` (`user_channel_*`); the prefix is escaped,
    /// so it only matches itself.
    pub fn pattern(&self, stream_pattern: &str) -> String {
        let mut pattern = String::with_capacity(self.head.len() + stream_pattern.len());
        for c in self.head.chars() {
            // Redis glob patterns treat `*?[]\` specially.
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push_str(stream_pattern);
        pattern
    }

    /// The stream a channel carries; `None` for a channel under another prefix.
    pub fn stream<'a>(&self, channel: &'a str) -> Option<&'a str> {
        channel.strip_prefix(self.head.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_prefix_unless_it_is_empty() {
        let rails = PubsubPrefix::new("app");
        assert_eq!(rails.channel("all_channel"), "app:all_channel");
        assert_eq!(rails.stream("app:all_channel"), Some("all_channel"));
        assert_eq!(rails.stream("other:all_channel"), None);
        let bare = PubsubPrefix::new("");
        assert_eq!(bare.channel("all_channel"), "all_channel");
        assert_eq!(bare.pattern("user_channel_*"), "user_channel_*");
    }

    #[test]
    fn pattern_characters_in_the_prefix_are_literal() {
        assert_eq!(
            PubsubPrefix::new("a*[b]?\\").pattern("x_*"),
            "a\\*\\[b\\]\\?\\\\:x_*"
        );
    }
}
