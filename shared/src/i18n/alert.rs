//! Every alert a client or operator can be shown, named by its locale-file key.

macro_rules! alerts {
    ($($variant:ident => $key:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Alert { $($variant,)* }

        impl Alert {
            pub const ALL: &'static [Alert] = &[$(Alert::$variant,)*];

            pub fn key(self) -> &'static str {
                match self { $(Alert::$variant => $key,)* }
            }
        }
    };
}

alerts! {
    ConnectionIdBlank => "connection_id_blank",
    ConnectionIdInvalid => "connection_id_invalid",
    ConnectionIdNotFound => "connection_id_notfound",
    OriginBlank => "origin_blank",
    OriginInvalid => "origin_invalid",
    GatewaySecretInvalid => "gateway_secret_invalid",
    TokenBlank => "token_blank",
    TokenDifferent => "token_different",
    TokenNotFound => "token_notfound",
    TokenExpiredStart => "token_expired_start",
    TokenExpiredCreated => "token_expired_created",
    LastIdInvalid => "last_id_invalid",
    LimitInvalid => "limit_invalid",
    ChannelNotSubscribed => "channel_not_subscribed",
    BodyBlank => "body_blank",
    BodyTooLong => "body_too_long",
    RequestInvalidJson => "request_invalid_json",
    RequestInvalidField => "request_invalid_field",
    RequestNulCharacter => "request_nul_character",
    RequestTooLarge => "request_too_large",
    RequestUnknownMethod => "request_unknown_method",
    RequestNotFound => "request_not_found",
    RequestMethodNotAllowed => "request_method_not_allowed",
    RequestMalformed => "request_malformed",
    RequestUriTooLong => "request_uri_too_long",
    RequestHeadersTooLarge => "request_headers_too_large",
    RequestTimeout => "request_timeout",
    AdminUnauthorized => "admin_unauthorized",
    AdminDisabled => "admin_disabled",
    UserNotFound => "user_not_found",
    UserNameBlank => "user_name_blank",
    ServiceUnavailable => "service_unavailable",
    UserNameInvalid => "user_name_invalid",
    UserImageInvalid => "user_image_invalid",
    InternalError => "internal_error",
    JobNotFound => "job_not_found",
}

impl From<crate::domain::TokenRefusal> for Alert {
    fn from(refusal: crate::domain::TokenRefusal) -> Self {
        use crate::domain::TokenRefusal::*;
        match refusal {
            Blank => Alert::TokenBlank,
            Different => Alert::TokenDifferent,
            NotFound => Alert::TokenNotFound,
            ExpiredStart => Alert::TokenExpiredStart,
            ExpiredCreated => Alert::TokenExpiredCreated,
        }
    }
}

impl From<crate::domain::MessageBodyError> for Alert {
    fn from(error: crate::domain::MessageBodyError) -> Self {
        match error {
            crate::domain::MessageBodyError::Blank => Alert::BodyBlank,
            crate::domain::MessageBodyError::TooLong => Alert::BodyTooLong,
        }
    }
}

impl From<crate::domain::UserInputError> for Alert {
    fn from(error: crate::domain::UserInputError) -> Self {
        use crate::domain::UserInputError::*;
        match error {
            Code => Alert::RequestInvalidField,
            NameBlank => Alert::UserNameBlank,
            Name => Alert::UserNameInvalid,
            Image => Alert::UserImageInvalid,
        }
    }
}
