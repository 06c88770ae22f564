//! JSON replies: every response of web is `application/json`.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use serde_json::{Map, Value, json};

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

    /// The same reply with one more field in its JSON object body.
    pub fn with_field(mut self, name: &str, value: Value) -> Self {
        if let Value::Object(body) = &mut self.body {
            body.insert(name.to_owned(), value);
        }
        self
    }

    /// `{"action": .., "success": false, "alert": .., "data": <frame>}`.
    pub fn action_failure(
        status: StatusCode,
        action: &str,
        alert: &str,
        data: &Map<String, Value>,
    ) -> Self {
        Self::with_status(
            status,
            json!({"action": action, "success": false, "alert": alert, "data": data}),
        )
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
