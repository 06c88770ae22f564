//! Sends each request to the handler for its path. One port serves everything, as on AWS.
//!
//! | path | handler |
//! |---|---|
//! | `/_emulator/faults`, `/_emulator/stats` | [`crate::control`] |
//! | `/{stage}` | [`crate::handshake`] (WebSocket clients) |
//! | `/{stage}/@connections/{id}` | [`crate::management`] (`@` may arrive as `%40`) |
//! | anything else | 403 `ForbiddenException`, as API Gateway answers for unknown resources |

use std::net::SocketAddr;
use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Incoming;

use crate::app::App;
use crate::control::{self, ControlPath};
use crate::error::ApiError;
use crate::handshake;
use crate::management::{self, PathId};
use crate::response::Body;

const CONTROL_PREFIX: &str = "/_emulator/";

/// What a request path names.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    Control(ControlPath),
    UnknownControl,
    Stage,
    Connection(&'a str),
    Unknown,
}

pub async fn route(app: Arc<App>, peer: SocketAddr, request: Request<Incoming>) -> Response<Body> {
    match classify(request.uri().path(), &app.stage) {
        Target::Connection(segment) => {
            // Decoded into a stack buffer, which ends the borrow of the request's URI.
            let id = PathId::decode(segment);
            management::handle(&app, id, request).await
        }
        Target::Stage => handshake::handle(&app, peer, request).await,
        Target::Control(path) => control::handle(&app, path, request).await,
        Target::UnknownControl => control::not_found(),
        Target::Unknown => ApiError::Forbidden.into_response(),
    }
}

fn classify<'a>(path: &'a str, stage: &str) -> Target<'a> {
    if let Some(control) = path.strip_prefix(CONTROL_PREFIX) {
        return ControlPath::parse(control).map_or(Target::UnknownControl, Target::Control);
    }
    let Some(rest) = path.strip_prefix('/').and_then(|p| p.strip_prefix(stage)) else {
        return Target::Unknown;
    };
    match rest {
        "" | "/" => Target::Stage,
        _ => {
            let id = rest
                .strip_prefix("/@connections/")
                .or_else(|| rest.strip_prefix("/%40connections/"));
            match id {
                Some(id) if !id.is_empty() && !id.contains('/') => Target::Connection(id),
                _ => Target::Unknown,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_handlers() {
        assert_eq!(classify("/local", "local"), Target::Stage);
        assert_eq!(classify("/local/", "local"), Target::Stage);
        assert_eq!(
            classify("/local/@connections/abc%3D", "local"),
            Target::Connection("abc%3D")
        );
        assert_eq!(
            classify("/local/%40connections/abc", "local"),
            Target::Connection("abc")
        );
        assert_eq!(classify("/local/@connections/", "local"), Target::Unknown);
        assert_eq!(
            classify("/local/@connections/a/b", "local"),
            Target::Unknown
        );
        assert_eq!(classify("/localx", "local"), Target::Unknown);
        assert_eq!(classify("/prod/@connections/abc", "local"), Target::Unknown);
        assert_eq!(classify("/", "local"), Target::Unknown);
        assert_eq!(
            classify("/_emulator/stats", "local"),
            Target::Control(ControlPath::Stats)
        );
        assert_eq!(classify("/_emulator/nope", "local"), Target::UnknownControl);
    }
}
