//! Live connections as the database knows them, for the `/admin` dashboard.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

use crate::domain::TokenStatus;
use crate::entities::ws_tokens;

/// Authenticated tokens bound to a live connection, per transport.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveConnections {
    /// Bound to an API Gateway `connectionId`: what a broadcast targets.
    pub api_gateway: u64,
    /// Bound to an Action Cable socket of any replica.
    pub action_cable: u64,
}

pub async fn live(db: &impl ConnectionTrait) -> Result<LiveConnections, DbErr> {
    let authenticated = || {
        ws_tokens::Entity::find()
            .filter(ws_tokens::Column::LastStatus.eq(TokenStatus::Success.as_str()))
    };
    Ok(LiveConnections {
        api_gateway: authenticated()
            .filter(ws_tokens::Column::ConnectionId.is_not_null())
            .count(db)
            .await?,
        action_cable: authenticated()
            .filter(ws_tokens::Column::RequestId.is_not_null())
            .count(db)
            .await?,
    })
}
