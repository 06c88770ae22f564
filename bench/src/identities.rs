//! Users and tokens for thousands of clients, written in bulk behind the application's
//! back (one user per token, as on a real site), as fast as the database takes them.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use shared::domain::{TokenStatus, new_token_code};
use shared::entities::{users, ws_tokens};

/// Rows per INSERT: well under the bind-parameter limits of PostgreSQL and SQLite.
const CHUNK: usize = 500;

/// Creates users `<prefix>0` … `<prefix>{count-1}` and one fresh token for each; returns the
/// token codes in that order. The tokens must be used within `TOKEN_EXPIRED_START_MINUTES`.
pub async fn create(
    db: &DatabaseConnection,
    prefix: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let now = Utc::now();
    let codes: Vec<String> = (0..count).map(|n| format!("{prefix}{n}")).collect();
    for chunk in codes.chunks(CHUNK) {
        let rows = chunk.iter().map(|code| users::ActiveModel {
            code: Set(code.clone()),
            name: Set(format!("Bench {code}")),
            image_path: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        users::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    let mut ids = vec![0i64; count];
    for user in users::Entity::find()
        .filter(users::Column::Code.starts_with(prefix))
        .all(db)
        .await?
    {
        if let Some(index) = user
            .code
            .strip_prefix(prefix)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|index| *index < count)
        {
            ids[index] = user.id;
        }
    }
    anyhow::ensure!(
        ids.iter().all(|id| *id != 0),
        "not every bench user was stored"
    );
    let tokens: Vec<String> = (0..count).map(|_| new_token_code()).collect();
    for (chunk_index, chunk) in tokens.chunks(CHUNK).enumerate() {
        let rows = chunk.iter().enumerate().map(|(offset, code)| {
            let user_id = ids[chunk_index * CHUNK + offset];
            ws_tokens::ActiveModel {
                code: Set(code.clone()),
                user_id: Set(Some(user_id)),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
        });
        ws_tokens::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(tokens)
}

/// Binds every token not bound yet to a connection id of its own, `<prefix><token id>`, as a
/// successful `auth_request` would, in one statement: an audience for a Management API
/// that needs no WebSocket client behind it. Returns how many tokens it bound.
pub async fn bind_to_fake_connections(
    db: &DatabaseConnection,
    prefix: &str,
) -> anyhow::Result<u64> {
    anyhow::ensure!(
        prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-'),
        "a connection id prefix of letters, digits and dashes"
    );
    let now = Utc::now();
    let bound = ws_tokens::Entity::update_many()
        .col_expr(
            ws_tokens::Column::ConnectionId,
            Expr::cust(format!("'{prefix}' || id")),
        )
        .col_expr(
            ws_tokens::Column::LastStatus,
            Expr::value(TokenStatus::Success.as_str()),
        )
        .col_expr(ws_tokens::Column::AuthSuccessedAt, Expr::value(now))
        .col_expr(ws_tokens::Column::LastAuthSuccessedAt, Expr::value(now))
        .col_expr(ws_tokens::Column::StartedAt, Expr::value(now))
        .col_expr(ws_tokens::Column::UpdatedAt, Expr::value(now))
        .filter(ws_tokens::Column::ConnectionId.is_null())
        .filter(ws_tokens::Column::RequestId.is_null())
        .exec(db)
        .await?;
    Ok(bound.rows_affected)
}
