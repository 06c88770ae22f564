//! `ws_tokens.last_status`: the one vocabulary of a token's state.

/// Why a token was refused, in the order the checks run (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Blank,
    Different,
    NotFound,
    ExpiredStart,
    ExpiredCreated,
}

/// What `last_status` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    /// Authenticated: its connection receives broadcasts.
    Success,
    /// Its connection closed (`$disconnect`, or an Action Cable socket closed).
    Unsubscribed,
    /// The Management API answered 410 for its connection.
    Gone,
    Refused(TokenRefusal),
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Unsubscribed => "unsubscribed",
            Self::Gone => "gone",
            Self::Refused(TokenRefusal::Blank) => "blank",
            Self::Refused(TokenRefusal::Different) => "different",
            Self::Refused(TokenRefusal::NotFound) => "notfound",
            Self::Refused(TokenRefusal::ExpiredStart) => "expired_start",
            Self::Refused(TokenRefusal::ExpiredCreated) => "expired_created",
        }
    }
}

impl TokenRefusal {
    pub fn status(self) -> TokenStatus {
        TokenStatus::Refused(self)
    }
}
