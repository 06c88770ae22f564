//! ws_tokens: issuing, authenticating, binding to connections and retiring them.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, SelectTwo, Set,
};

use crate::domain::{Peer, TokenStatus, new_token_code};
use crate::entities::{messages, users, ws_tokens};

pub async fn issue(
    db: &impl ConnectionTrait,
    user_id: Option<i64>,
) -> Result<ws_tokens::Model, DbErr> {
    let now = Utc::now();
    ws_tokens::ActiveModel {
        code: Set(new_token_code()),
        user_id: Set(user_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The column that binds a token to a connection of this kind, and the connection's id.
fn binding(peer: &Peer) -> (ws_tokens::Column, &str) {
    match peer {
        Peer::Gateway(id) => (ws_tokens::Column::ConnectionId, id.as_str()),
        Peer::Cable(id) => (ws_tokens::Column::RequestId, id.as_str()),
    }
}

fn is_bound_to(token: &ws_tokens::Model, peer: &Peer) -> bool {
    match peer {
        Peer::Gateway(id) => token.connection_id.as_deref() == Some(id.as_str()),
        Peer::Cable(id) => token.request_id.as_deref() == Some(id.as_str()),
    }
}

/// The token bound to `peer` and the token with `code` (with its user), in one round trip:
/// every frame needs both.
pub async fn find_bound_and_by_code(
    db: &impl ConnectionTrait,
    peer: &Peer,
    code: &str,
) -> Result<(Option<ws_tokens::Model>, Option<TokenWithUser>), DbErr> {
    let rows = bound_or_by_code(peer, code).all(db).await?;
    let bound = rows
        .iter()
        .find(|(token, _)| is_bound_to(token, peer))
        .map(|(token, _)| token.clone());
    let by_code = rows.into_iter().find(|(token, _)| token.code == code);
    Ok((bound, by_code))
}

/// The statement behind [`find_bound_and_by_code`]: public so that the benchmarks can drive
/// PostgreSQL with exactly what a frame's authentication sends.
pub fn bound_or_by_code(peer: &Peer, code: &str) -> SelectTwo<ws_tokens::Entity, users::Entity> {
    let (column, id) = binding(peer);
    ws_tokens::Entity::find()
        .filter(
            Condition::any()
                .add(column.eq(id))
                .add(ws_tokens::Column::Code.eq(code)),
        )
        .find_also_related(users::Entity)
}

pub type TokenWithUser = (ws_tokens::Model, Option<users::Model>);

/// Records a successful authentication; `bind_to` moves the token to that connection, off
/// whichever connection of either kind it was bound to before (a token has one at a time).
pub async fn record_auth_success(
    db: &impl ConnectionTrait,
    token: ws_tokens::Model,
    now: DateTime<Utc>,
    bind_to: Option<&Peer>,
) -> Result<ws_tokens::Model, DbErr> {
    let first_success = token.auth_successed_at.is_none();
    let mut active: ws_tokens::ActiveModel = token.into();
    active.last_auth_successed_at = Set(Some(now));
    if first_success {
        active.auth_successed_at = Set(Some(now));
    }
    active.last_status = Set(Some(TokenStatus::Success.as_str().to_owned()));
    match bind_to {
        Some(Peer::Gateway(id)) => {
            active.connection_id = Set(Some(id.as_str().to_owned()));
            active.request_id = Set(None);
            active.started_at = Set(Some(now));
        }
        Some(Peer::Cable(id)) => {
            active.request_id = Set(Some(id.as_str().to_owned()));
            active.connection_id = Set(None);
            active.started_at = Set(Some(now));
        }
        None => {}
    }
    active.updated_at = Set(now);
    active.update(db).await
}

/// Writes each token's latest successful authentication time, many tokens in one
/// statement: the `last_auth_successed_at` of frames answered since the last write.
pub async fn record_auth_times(
    db: &impl ConnectionTrait,
    times: &[(i64, DateTime<Utc>)],
) -> Result<(), DbErr> {
    let Some(((first_id, first_at), rest)) = times.split_first() else {
        return Ok(());
    };
    let at_of_each = rest.iter().fold(
        Expr::case(ws_tokens::Column::Id.eq(*first_id), Expr::value(*first_at)),
        |case, (id, at)| case.case(ws_tokens::Column::Id.eq(*id), Expr::value(*at)),
    );
    let at_of_each: Expr = at_of_each
        .finally(Expr::col(ws_tokens::Column::LastAuthSuccessedAt))
        .into();
    ws_tokens::Entity::update_many()
        .col_expr(ws_tokens::Column::LastAuthSuccessedAt, at_of_each.clone())
        .col_expr(ws_tokens::Column::UpdatedAt, at_of_each)
        .filter(ws_tokens::Column::Id.is_in(times.iter().map(|(id, _)| *id)))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn record_status(
    db: &impl ConnectionTrait,
    token_id: i64,
    status: TokenStatus,
) -> Result<(), DbErr> {
    ws_tokens::Entity::update_many()
        .col_expr(ws_tokens::Column::LastStatus, Expr::value(status.as_str()))
        .col_expr(ws_tokens::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(ws_tokens::Column::Id.eq(token_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// The connection closed: marks the token bound to it. False when none is bound.
pub async fn mark_unsubscribed(db: &impl ConnectionTrait, peer: &Peer) -> Result<bool, DbErr> {
    let (column, id) = binding(peer);
    let result = ws_tokens::Entity::update_many()
        .col_expr(
            ws_tokens::Column::LastStatus,
            Expr::value(TokenStatus::Unsubscribed.as_str()),
        )
        .col_expr(ws_tokens::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(column.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// 410 from the Management API: never target this token on this connection again. A token
/// that has since moved to a new connection is left alone.
pub async fn retire_connection(
    db: &impl ConnectionTrait,
    token_id: i64,
    connection_id: &str,
) -> Result<(), DbErr> {
    ws_tokens::Entity::update_many()
        .col_expr(
            ws_tokens::Column::LastStatus,
            Expr::value(TokenStatus::Gone.as_str()),
        )
        .col_expr(ws_tokens::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(ws_tokens::Column::Id.eq(token_id))
        .filter(ws_tokens::Column::ConnectionId.eq(connection_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Who a broadcast goes to: every connected, authenticated token, or one user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    User(i64),
}

/// A connection a broadcast is delivered to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub token_id: i64,
    pub connection_id: String,
}

/// Who a broadcast reaches: connected, authenticated tokens (of one user, for a user's
/// channel) whose id lies in `first..=last` when a range is given. Columns are qualified,
/// so the same rule serves a query of `ws_tokens` and a join onto it.
fn audience_condition(audience: Audience, range: Option<(i64, i64)>) -> Condition {
    let token = |column: ws_tokens::Column| Expr::col((ws_tokens::Entity, column));
    let mut condition = Condition::all()
        .add(token(ws_tokens::Column::ConnectionId).is_not_null())
        .add(token(ws_tokens::Column::LastStatus).eq(TokenStatus::Success.as_str()));
    if let Audience::User(user_id) = audience {
        condition = condition.add(token(ws_tokens::Column::UserId).eq(user_id));
    }
    if let Some((first, last)) = range {
        condition = condition
            .add(token(ws_tokens::Column::Id).gte(first))
            .add(token(ws_tokens::Column::Id).lte(last));
    }
    condition
}

/// The audience's targets whose token id lies in `first..=last` (all when `None`).
pub async fn audience_targets(
    db: &impl ConnectionTrait,
    audience: Audience,
    range: Option<(i64, i64)>,
) -> Result<Vec<Target>, DbErr> {
    let rows: Vec<(i64, Option<String>)> = ws_tokens::Entity::find()
        .filter(audience_condition(audience, range))
        .select_only()
        .column(ws_tokens::Column::Id)
        .column(ws_tokens::Column::ConnectionId)
        .order_by_asc(ws_tokens::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(token_id, connection_id)| {
            connection_id.map(|connection_id| Target {
                token_id,
                connection_id,
            })
        })
        .collect())
}

/// The audience's targets of a broadcast, in one statement that also says whether the
/// message may still be delivered: `None` when it was soft-deleted (or never existed).
/// `range` keeps the token ids in `first..=last`.
pub async fn live_message_targets(
    db: &impl ConnectionTrait,
    message_id: i64,
    audience: Audience,
    range: Option<(i64, i64)>,
) -> Result<Option<Vec<Target>>, DbErr> {
    // The message left-joined to its audience: no row when it is gone, one row of NULLs
    // when nobody is connected.
    let query = Query::select()
        .column((ws_tokens::Entity, ws_tokens::Column::Id))
        .column((ws_tokens::Entity, ws_tokens::Column::ConnectionId))
        .from(messages::Entity)
        .join(
            JoinType::LeftJoin,
            ws_tokens::Entity,
            audience_condition(audience, range),
        )
        .and_where(Expr::col((messages::Entity, messages::Column::Id)).eq(message_id))
        .and_where(Expr::col((messages::Entity, messages::Column::DeletedAt)).is_null())
        .order_by((ws_tokens::Entity, ws_tokens::Column::Id), Order::Asc)
        .to_owned();
    let rows = db.query_all(&query).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut targets = Vec::with_capacity(rows.len());
    for row in rows {
        let token_id: Option<i64> = row.try_get_by_index(0)?;
        let connection_id: Option<String> = row.try_get_by_index(1)?;
        if let (Some(token_id), Some(connection_id)) = (token_id, connection_id) {
            targets.push(Target {
                token_id,
                connection_id,
            });
        }
    }
    Ok(Some(targets))
}

/// A user's tokens bound to a live connection of either kind (authenticated, not yet
/// unsubscribed or gone): what closing every connection of the user must reach.
pub async fn live_connections_of_user(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<ws_tokens::Model>, DbErr> {
    ws_tokens::Entity::find()
        .filter(ws_tokens::Column::UserId.eq(user_id))
        .filter(ws_tokens::Column::LastStatus.eq(TokenStatus::Success.as_str()))
        .filter(
            Condition::any()
                .add(ws_tokens::Column::ConnectionId.is_not_null())
                .add(ws_tokens::Column::RequestId.is_not_null()),
        )
        .order_by_asc(ws_tokens::Column::Id)
        .all(db)
        .await
}
