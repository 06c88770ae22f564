//! Every database query of the product; handlers and jobs call these, never build queries.

pub mod messages;
pub mod outbox;
pub mod tokens;
pub mod users;

/// The channels a token's holder reads: `all_channel`, plus `user_channel_<code>` for a user.
pub fn subscribed_channels(user_code: Option<&str>) -> Vec<String> {
    let mut channels = vec![crate::ALL_CHANNEL.to_owned()];
    if let Some(code) = user_code {
        channels.push(user_channel(code));
    }
    channels
}

pub fn user_channel(user_code: &str) -> String {
    format!("user_channel_{user_code}")
}
