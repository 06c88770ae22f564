//! JSON replies: every response of web is `application/json`.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use serde_json::Value;

/// A status and a JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self::with_status(StatusCode::OK, body)
    }

    pub fn with_status(status: StatusCode, body: Value) -> Self {
        Self { status, body }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        Response::builder()
            .status(self.status)
            .content_type("application/json")
            .body(self.body.to_string())
    }
}

/// The `action` a reply names, so a client can route it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Connect,
    Disconnect,
    AuthResult,
    GetMessages,
    SendResult,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Connect => "connect",
            Action::Disconnect => "disconnect",
            Action::AuthResult => "auth_result",
            Action::GetMessages => "get_messages",
            Action::SendResult => "send_result",
        }
    }
}
