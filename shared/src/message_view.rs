//! The `<message>` JSON that clients render, shared by history reads and broadcasts.

use chrono::{FixedOffset, SecondsFormat};
use serde::Serialize;

use crate::config::CommonSettings;
use crate::domain::{Channel, ChannelKind};
use crate::entities::{messages, users};
use crate::i18n::Locale;

const IMAGE_SIZES: [&str; 5] = ["mini", "small", "medium", "large", "xlarge"];

#[derive(Debug, Serialize)]
pub struct MessageView {
    pub id: i64,
    pub channel: String,
    pub channel_i18n: &'static str,
    pub body: String,
    pub user: UserView,
    pub created_at: String,
    pub created_at_i18n: String,
}

#[derive(Debug, Serialize)]
pub struct UserView {
    pub code: String,
    pub name: String,
    pub image_url: ImageUrls,
}

#[derive(Debug, Serialize)]
pub struct ImageUrls {
    pub mini: String,
    pub small: String,
    pub medium: String,
    pub large: String,
    pub xlarge: String,
}

/// Renders messages in the configured locale, time zone and image host.
#[derive(Debug, Clone)]
pub struct MessageRenderer {
    locale: Locale,
    zone: FixedOffset,
    base_image_url: String,
}

impl MessageRenderer {
    pub fn new(settings: &CommonSettings) -> Self {
        Self {
            locale: settings.locale,
            zone: settings.time_zone,
            base_image_url: settings.base_image_url.clone(),
        }
    }

    pub fn render(&self, message: &messages::Model, user: &users::Model) -> MessageView {
        // Every stored name parses; a row written by hand with another name reads as
        // everyone's channel, as the original rendered it.
        let kind =
            Channel::parse(&message.channel).map_or(ChannelKind::All, |channel| channel.kind());
        MessageView {
            id: message.id,
            channel: message.channel.clone(),
            channel_i18n: self.locale.channel_name(kind),
            body: message.body.clone(),
            user: UserView {
                code: user.code.clone(),
                name: user.name.clone(),
                image_url: self.image_urls(user.image_path.as_deref()),
            },
            created_at: message
                .created_at
                .with_timezone(&self.zone)
                .to_rfc3339_opts(SecondsFormat::Millis, false),
            created_at_i18n: self.locale.date_time(message.created_at, self.zone),
        }
    }

    /// The frame a broadcast sends each connection: rendered once per message, by whoever
    /// has the message and its user in hand.
    pub fn broadcast_frame(&self, message: &messages::Model, user: &users::Model) -> String {
        serde_json::json!({
            "action": "send_message",
            "success": true,
            "messages": [self.render(message, user)],
        })
        .to_string()
    }

    /// Each size's URL: the image's directory, `<size>_<file name>` (CarrierWave's version
    /// naming), or `/images/user/<size>_noimage.jpg` for a user without an image.
    fn image_urls(&self, image_path: Option<&str>) -> ImageUrls {
        let [mini, small, medium, large, xlarge] = IMAGE_SIZES.map(|size| {
            let path = match image_path {
                Some(path) => match path.rsplit_once('/') {
                    Some((dir, file)) => format!("{dir}/{size}_{file}"),
                    None => format!("{size}_{path}"),
                },
                None => format!("/images/user/{size}_noimage.jpg"),
            };
            self.absolute(&path)
        });
        ImageUrls {
            mini,
            small,
            medium,
            large,
            xlarge,
        }
    }

    fn absolute(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            return path.to_owned();
        }
        format!("{}/{}", self.base_image_url, path.trim_start_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CommonSettings, Env};

    fn renderer() -> MessageRenderer {
        MessageRenderer::new(&CommonSettings::from_env(&Env::from_map(Default::default())).unwrap())
    }

    #[test]
    fn image_urls_are_absolute_per_size() {
        let urls = renderer().image_urls(Some("/uploads/user/image/1/face.png"));
        assert_eq!(
            urls.mini,
            "http://127.0.0.1:3000/uploads/user/image/1/mini_face.png"
        );
        assert_eq!(
            urls.xlarge,
            "http://127.0.0.1:3000/uploads/user/image/1/xlarge_face.png"
        );
        let defaults = renderer().image_urls(None);
        assert_eq!(
            defaults.small,
            "http://127.0.0.1:3000/images/user/small_noimage.jpg"
        );
        let cdn = renderer().image_urls(Some("https://cdn.example/u/face.png"));
        assert_eq!(cdn.large, "https://cdn.example/u/large_face.png");
    }
}
