//! `DELETE /api/users/{code}/connections`: closes every live connection of a user, on both
//! transports, through the worker's DeleteConnectionJob (the Management API for API
//! Gateway, Rails' remote disconnect through Redis for Action Cable).

use std::time::Duration;

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use shared::domain::UserCode;
use shared::i18n::Alert;
use shared::jobs::DeleteConnectionJob;
use shared::queries::{tokens, users};

use super::ApiTags;
use super::auth::AdminKey;
use super::problem::{Problem, problem};
use crate::error::ApiError;
use crate::state::AppState;

/// How many connections are being closed, per transport.
#[derive(Debug, Object)]
pub struct ConnectionsClosing {
    /// API Gateway connections: one DeleteConnectionJob each.
    api_gateway: u32,
    /// Action Cable connections: one DeleteConnectionJob each, closed by the web replica
    /// that holds the socket.
    action_cable: u32,
}

#[derive(Debug, ApiResponse)]
pub enum DeleteConnectionsResponse {
    /// The disconnections are enqueued; the worker closes the connections shortly.
    #[oai(status = 202)]
    Accepted(Json<ConnectionsClosing>),
}

pub struct ConnectionsApi;

#[OpenApi(tag = "ApiTags::Connections")]
impl ConnectionsApi {
    /// Close every connection of a user
    #[oai(
        path = "/users/:code/connections",
        method = "delete",
        operation_id = "delete_user_connections"
    )]
    async fn delete_connections(
        &self,
        _key: AdminKey,
        Data(state): Data<&AppState>,
        /// The user's public id.
        #[oai(validator(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
        code: Path<String>,
    ) -> Result<DeleteConnectionsResponse, Problem> {
        let fail = problem::<ApiError>(state.common.locale);
        let code = UserCode::parse(&code).map_err(|_| fail(Alert::RequestInvalidField.into()))?;
        let user = users::find_by_code(&state.db, &code)
            .await
            .map_err(|error| fail(error.into()))?
            .ok_or_else(|| fail(Alert::UserNotFound.into()))?;
        let live = tokens::live_connections_of_user(&state.db, user.id)
            .await
            .map_err(|error| fail(error.into()))?;
        let mut closing = ConnectionsClosing {
            api_gateway: 0,
            action_cable: 0,
        };
        for token in live {
            let (job, count) = match (token.connection_id, token.request_id) {
                (Some(connection_id), _) => (
                    DeleteConnectionJob {
                        connection_id,
                        action_cable: false,
                    },
                    &mut closing.api_gateway,
                ),
                (None, Some(cable_id)) => (
                    DeleteConnectionJob {
                        connection_id: cable_id,
                        action_cable: true,
                    },
                    &mut closing.action_cable,
                ),
                (None, None) => continue,
            };
            state
                .queues
                .enqueue(&job, Duration::ZERO)
                .await
                .map_err(|error| fail(error.into()))?;
            *count += 1;
        }
        tracing::info!(
            user = code.as_str(),
            api_gateway = closing.api_gateway,
            action_cable = closing.action_cable,
            "closing every connection of a user"
        );
        Ok(DeleteConnectionsResponse::Accepted(Json(closing)))
    }
}
