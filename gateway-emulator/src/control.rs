//! The emulator's own control API, for tests and benchmarks (no AWS counterpart):
//!
//! - `GET /_emulator/faults` → the current [`FaultSettings`];
//! - `PUT /_emulator/faults` with a (partial) [`FaultUpdate`] → the settings after the change;
//! - `GET /_emulator/stats` → a [`StatsSnapshot`](crate::stats::StatsSnapshot).
//!
//! It needs no `Authorization`: it is not part of the emulated API, and is meant for localhost.

use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use crate::app::App;
use crate::faults::FaultUpdate;
use crate::response::{self, Body};

/// Far more than a fault update needs; bounds what a confused client can make us buffer.
const MAX_CONTROL_BODY_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlPath {
    Faults,
    Stats,
}

impl ControlPath {
    /// Parses the part of the path after `/_emulator/`.
    pub fn parse(rest: &str) -> Option<Self> {
        match rest {
            "faults" => Some(Self::Faults),
            "stats" => Some(Self::Stats),
            _ => None,
        }
    }
}

pub async fn handle(app: &App, path: ControlPath, request: Request<Incoming>) -> Response<Body> {
    match (path, request.method()) {
        (ControlPath::Faults, &Method::GET) => {
            response::json_value(StatusCode::OK, &app.faults.settings())
        }
        (ControlPath::Faults, &Method::PUT) => update_faults(app, request).await,
        (ControlPath::Stats, &Method::GET) => {
            response::json_value(StatusCode::OK, &app.stats.snapshot())
        }
        _ => response::message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
    }
}

pub fn not_found() -> Response<Body> {
    response::message(StatusCode::NOT_FOUND, "Not Found")
}

async fn update_faults(app: &App, request: Request<Incoming>) -> Response<Body> {
    let body = match Limited::new(request.into_body(), MAX_CONTROL_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return response::message(StatusCode::BAD_REQUEST, &error.to_string()),
    };
    match serde_json::from_slice::<FaultUpdate>(&body) {
        Ok(update) => {
            let settings = app.faults.update(update);
            tracing::info!(?settings, "fault settings changed");
            response::json_value(StatusCode::OK, &settings)
        }
        Err(error) => response::message(StatusCode::BAD_REQUEST, &error.to_string()),
    }
}
