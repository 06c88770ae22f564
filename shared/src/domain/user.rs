//! What a user is made of, as the admin API and the operator CLI accept it.

/// A user code becomes part of a channel name (`user_channel_<code>`): plain ASCII only.
pub const MAX_USER_CODE_CHARS: usize = 64;
/// `users.name` is a 255-character column.
pub const MAX_USER_NAME_CHARS: usize = 255;
/// `users.image_path` is a 1024-character column.
pub const MAX_IMAGE_PATH_CHARS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UserInputError {
    #[error("a user code is 1 to {MAX_USER_CODE_CHARS} of A-Z, a-z, 0-9, '-' and '_'")]
    Code,
    #[error("the name is blank")]
    NameBlank,
    #[error("the name is longer than {MAX_USER_NAME_CHARS} characters or has control characters")]
    Name,
    #[error(
        "the image path is longer than {MAX_IMAGE_PATH_CHARS} characters or has control characters"
    )]
    Image,
}

/// The public id of a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserCode(String);

impl UserCode {
    pub fn parse(raw: &str) -> Result<Self, UserInputError> {
        let plain = raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if plain && (1..=MAX_USER_CODE_CHARS).contains(&raw.len()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(UserInputError::Code)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: trimmed, not blank, no control characters (NUL cannot be stored, and
/// line breaks or escapes have no place in a name that clients render).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, UserInputError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(UserInputError::NameBlank);
        }
        if name.chars().count() > MAX_USER_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(UserInputError::Name);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's image path (or absolute URL), joined into image URLs: no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePath(String);

impl ImagePath {
    pub fn parse(raw: &str) -> Result<Self, UserInputError> {
        if raw.chars().count() > MAX_IMAGE_PATH_CHARS || raw.chars().any(char::is_control) {
            return Err(UserInputError::Image);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user as the admin API and the operator CLI accept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub code: UserCode,
    pub name: UserName,
    pub image: Option<ImagePath>,
}

impl NewUser {
    /// Checks the code, then the name, then the image path.
    pub fn parse(code: &str, name: &str, image: Option<&str>) -> Result<Self, UserInputError> {
        Ok(Self {
            code: UserCode::parse(code)?,
            name: UserName::parse(name)?,
            image: image.map(ImagePath::parse).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_plain_ascii() {
        for code in ["u1", "u-1_A", &"x".repeat(64)] {
            assert_eq!(UserCode::parse(code).unwrap().as_str(), code);
        }
        for code in ["", "bad.code", "a b", "a\0b", "あ", &"x".repeat(65)] {
            assert_eq!(UserCode::parse(code), Err(UserInputError::Code), "{code:?}");
        }
    }

    #[test]
    fn names_are_trimmed_and_free_of_control_characters() {
        assert_eq!(UserName::parse("  Alice B. ").unwrap().as_str(), "Alice B.");
        assert_eq!(
            UserName::parse("あ".repeat(255).as_str())
                .unwrap()
                .as_str()
                .chars()
                .count(),
            255
        );
        for name in ["", "  ", "\u{3000}"] {
            assert_eq!(
                UserName::parse(name),
                Err(UserInputError::NameBlank),
                "{name:?}"
            );
        }
        for name in [
            "Al\0ice",
            "Al\tice",
            "Al\nice",
            "Al\u{7f}ice",
            "Al\u{85}ice",
            &"a".repeat(256),
        ] {
            assert_eq!(UserName::parse(name), Err(UserInputError::Name), "{name:?}");
        }
    }

    #[test]
    fn image_paths_are_free_of_control_characters() {
        let path = "/uploads/user/image/1/my face.png";
        assert_eq!(ImagePath::parse(path).unwrap().into_string(), path);
        for path in ["/a\0.png", "/a\n.png", &"a".repeat(1025)] {
            assert_eq!(
                ImagePath::parse(path),
                Err(UserInputError::Image),
                "{path:?}"
            );
        }
    }
}
