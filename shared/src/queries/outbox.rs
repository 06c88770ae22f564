//! The outbox: a broadcast is owed for every stored message until a worker finished it.
//! The message and its pending broadcast commit in one transaction, so neither a Redis
//! outage nor a process dying after the commit can leave a stored message unbroadcast.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement, TransactionSession, TransactionTrait,
};

use crate::domain::{Channel, MessageBody};
use crate::entities::{messages, pending_broadcasts};

/// Stores a message and the broadcast it is owed, atomically.
pub async fn store_message(
    db: &(impl ConnectionTrait + TransactionTrait),
    channel: &Channel,
    body: &MessageBody,
    user_id: i64,
) -> Result<messages::Model, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        return store_message_in_one_statement(db, channel, body, user_id).await;
    }
    let transaction = db.begin().await?;
    let message = super::messages::create(&transaction, channel, body.as_str(), user_id).await?;
    pending_broadcasts::Entity::insert(pending_broadcasts::ActiveModel {
        message_id: Set(message.id),
        created_at: Set(message.created_at),
        requeues: Set(0),
        last_requeued_at: Set(None),
    })
    .exec_without_returning(&transaction)
    .await?;
    transaction.commit().await?;
    Ok(message)
}

/// PostgreSQL: both rows in one statement, which is its own transaction, so `send_message`
/// costs one round trip and one commit here instead of four round trips (SQLite has no
/// `INSERT` inside `WITH`).
async fn store_message_in_one_statement(
    db: &impl ConnectionTrait,
    channel: &Channel,
    body: &MessageBody,
    user_id: i64,
) -> Result<messages::Model, DbErr> {
    messages::Entity::find()
        .from_raw_sql(store_message_statement(channel, body, user_id))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotInserted)
}

/// The statement behind [`store_message`] on PostgreSQL: public so that the benchmarks can
/// drive PostgreSQL with exactly what `send_message` sends.
pub fn store_message_statement(channel: &Channel, body: &MessageBody, user_id: i64) -> Statement {
    let now = Utc::now();
    const SQL: &str = "WITH stored AS ( \
            INSERT INTO messages (channel, body, user_id, created_at, updated_at) \
            VALUES ($1, $2, $3, $4, $5) \
            RETURNING id, channel, body, user_id, deleted_at, created_at, updated_at \
        ), owed AS ( \
            INSERT INTO pending_broadcasts (message_id, created_at, requeues) \
            SELECT id, created_at, 0 FROM stored \
        ) \
        SELECT id, channel, body, user_id, deleted_at, created_at, updated_at FROM stored";
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        SQL,
        [
            channel.real_name().into(),
            body.as_str().into(),
            user_id.into(),
            now.into(),
            now.into(),
        ],
    )
}

/// The broadcasts of `message_ids` finished, in one statement.
pub async fn finish_many(db: &impl ConnectionTrait, message_ids: &[i64]) -> Result<(), DbErr> {
    if message_ids.is_empty() {
        return Ok(());
    }
    pending_broadcasts::Entity::delete_many()
        .filter(pending_broadcasts::Column::MessageId.is_in(message_ids.iter().copied()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Messages whose broadcast has been pending since before `since`, by id after `after_id`:
/// one page of what the sweeper checks for a live job.
pub async fn pending_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
    after_id: i64,
    limit: u64,
) -> Result<Vec<messages::Model>, DbErr> {
    messages::Entity::find()
        .inner_join(pending_broadcasts::Entity)
        .filter(pending_broadcasts::Column::CreatedAt.lt(since))
        .filter(messages::Column::Id.gt(after_id))
        .order_by_asc(messages::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Counts the sweeper's re-enqueues, for operators.
pub async fn note_requeued(db: &impl ConnectionTrait, message_ids: &[i64]) -> Result<(), DbErr> {
    if message_ids.is_empty() {
        return Ok(());
    }
    pending_broadcasts::Entity::update_many()
        .col_expr(
            pending_broadcasts::Column::Requeues,
            Expr::col(pending_broadcasts::Column::Requeues).add(1),
        )
        .col_expr(
            pending_broadcasts::Column::LastRequeuedAt,
            Expr::value(Utc::now()),
        )
        .filter(pending_broadcasts::Column::MessageId.is_in(message_ids.iter().copied()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Broadcasts owed right now.
pub async fn pending_count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    pending_broadcasts::Entity::find().count(db).await
}
