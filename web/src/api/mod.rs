//! The admin API at `/api`, generated from code with poem-openapi: described by OpenAPI 3 at
//! `GET /api/openapi.json`, with Swagger UI at `/api/docs`. Bearer `ADMIN_API_KEY`; without
//! a key the whole of `/api` is off (404).
//!
//! # Layout
//! - `auth`: the [`AdminKey`](auth::AdminKey) security scheme.
//! - `problem`: the one error shape of every operation, `{"success": false, "alert": ..}`.
//! - `json_body`: request bodies: JSON whatever the `Content-Type` says, as before OpenAPI.
//! - `users`, `tokens`, `messages`, `connections`, `queues`: one file per resource.

mod auth;
mod connections;
mod json_body;
mod messages;
mod problem;
mod queues;
mod tokens;
mod users;

pub use tokens::issue as tokens_issue;

use poem::{Endpoint, EndpointExt, Route};
use poem_openapi::{OpenApiService, Tags};
use shared::config::WebSettings;

/// Admin request bodies are a few small fields (a message body at most 20,000 characters).
const MAX_ADMIN_BODY_BYTES: usize = 128 * 1024;

#[derive(Tags)]
enum ApiTags {
    /// Users, as the login application creates them.
    Users,
    /// Tokens a client authenticates its frames with.
    Tokens,
    /// Chat messages posted on behalf of a user.
    Messages,
    /// Live connections, on both transports.
    Connections,
    /// The job queues (`default`, `low_priority`) and their dead jobs.
    Queues,
}

fn service() -> OpenApiService<
    (
        users::UsersApi,
        tokens::TokensApi,
        messages::MessagesApi,
        connections::ConnectionsApi,
        queues::QueuesApi,
    ),
    (),
> {
    OpenApiService::new(
        (
            users::UsersApi,
            tokens::TokensApi,
            messages::MessagesApi,
            connections::ConnectionsApi,
            queues::QueuesApi,
        ),
        "wsgw admin API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Operators' and integrators' API of wsgw. Every operation needs \
         `Authorization: Bearer <ADMIN_API_KEY>`. Every error, including a malformed request \
         and a missing key, is JSON `{\"success\": false, \"alert\": \"<localized message>\"}`.",
    )
    .server("/api")
}

/// `/api/*` (nest it at `/api`), or `None` when no `ADMIN_API_KEY` is set.
pub fn routes(web: &WebSettings) -> Option<impl Endpoint + 'static> {
    web.admin_api_key.as_ref()?;
    let service = service();
    let spec = service.spec_endpoint();
    let docs = service.swagger_ui();
    Some(
        Route::new()
            .at("/openapi.json", spec)
            .nest("/docs", docs)
            .nest("/", service)
            .boxed(),
    )
}
