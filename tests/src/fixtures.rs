//! Rows written or read behind the application's back: what a test sets up that the API
//! cannot (an old token, a soft-deleted message), and what it checks afterwards.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use shared::domain::Channel;
use shared::entities::{messages, users, ws_tokens};

use crate::TestEnv;
use crate::redis::{DEFAULT_QUEUE, LOW_PRIORITY_QUEUE};

pub async fn token(db: &DatabaseConnection, code: &str) -> ws_tokens::Model {
    ws_tokens::Entity::find()
        .filter(ws_tokens::Column::Code.eq(code))
        .one(db)
        .await
        .expect("query ws_tokens")
        .unwrap_or_else(|| panic!("no ws_token {code}"))
}

/// The token bound to `connection_id`, if any.
pub async fn token_on(db: &DatabaseConnection, connection_id: &str) -> Option<ws_tokens::Model> {
    ws_tokens::Entity::find()
        .filter(ws_tokens::Column::ConnectionId.eq(connection_id))
        .one(db)
        .await
        .expect("query ws_tokens")
}

pub async fn user(db: &DatabaseConnection, code: &str) -> users::Model {
    users::Entity::find()
        .filter(users::Column::Code.eq(code))
        .one(db)
        .await
        .expect("query users")
        .unwrap_or_else(|| panic!("no user {code}"))
}

/// Pretends the token was issued at `at`.
pub async fn set_token_created_at(db: &DatabaseConnection, code: &str, at: DateTime<Utc>) {
    let result = ws_tokens::Entity::update_many()
        .col_expr(ws_tokens::Column::CreatedAt, Expr::value(at))
        .filter(ws_tokens::Column::Code.eq(code))
        .exec(db)
        .await
        .expect("update ws_tokens.created_at");
    assert_eq!(result.rows_affected, 1, "no ws_token {code}");
}

/// Stores a message as `send_message` would, without a broadcast. Any channel name goes,
/// so that tests can also store what the product never would.
pub async fn insert_message(
    db: &DatabaseConnection,
    real_channel: &str,
    body: &str,
    user_id: i64,
) -> messages::Model {
    let mut message = shared::queries::messages::create(db, &Channel::All, body, user_id)
        .await
        .expect("insert a message");
    if message.channel != real_channel {
        messages::Entity::update_many()
            .col_expr(messages::Column::Channel, Expr::value(real_channel))
            .filter(messages::Column::Id.eq(message.id))
            .exec(db)
            .await
            .expect("move the message to its channel");
        message.channel = real_channel.to_owned();
    }
    message
}

/// `count` messages `"<prefix> 0"`, `"<prefix> 1"`, …; returns their ids in order.
pub async fn insert_messages(
    db: &DatabaseConnection,
    real_channel: &str,
    user_id: i64,
    prefix: &str,
    count: usize,
) -> Vec<i64> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let body = format!("{prefix} {n}");
        ids.push(insert_message(db, real_channel, &body, user_id).await.id);
    }
    ids
}

/// Sets `deleted_at`, as the original's soft delete does.
pub async fn soft_delete_message(db: &DatabaseConnection, id: i64) {
    let result = messages::Entity::update_many()
        .col_expr(messages::Column::DeletedAt, Expr::value(Utc::now()))
        .filter(messages::Column::Id.eq(id))
        .exec(db)
        .await
        .expect("soft-delete a message");
    assert_eq!(result.rows_affected, 1, "no message {id}");
}

/// Every stored message, by id.
pub async fn all_messages(db: &DatabaseConnection) -> Vec<messages::Model> {
    messages::Entity::find()
        .order_by_asc(messages::Column::Id)
        .all(db)
        .await
        .expect("query messages")
}

/// The ids of a `get_messages` reply, in the order given.
pub fn reply_ids(reply: &serde_json::Value) -> Vec<i64> {
    reply["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no messages in {reply}"))
        .iter()
        .map(|message| message["id"].as_i64().expect("a message id"))
        .collect()
}

/// Everything a request could write: rows of every table and the jobs of both queues.
/// Two equal snapshots around a request prove it wrote nothing.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub users: Vec<users::Model>,
    pub tokens: Vec<ws_tokens::Model>,
    pub messages: Vec<messages::Model>,
    pub default_jobs: usize,
    pub low_priority_jobs: usize,
}

impl Snapshot {
    pub async fn take(env: &TestEnv, db: &DatabaseConnection) -> Self {
        Self {
            users: users::Entity::find()
                .order_by_asc(users::Column::Id)
                .all(db)
                .await
                .expect("query users"),
            tokens: ws_tokens::Entity::find()
                .order_by_asc(ws_tokens::Column::Id)
                .all(db)
                .await
                .expect("query ws_tokens"),
            messages: all_messages(db).await,
            default_jobs: env.redis.stored_jobs(DEFAULT_QUEUE).await,
            low_priority_jobs: env.redis.stored_jobs(LOW_PRIORITY_QUEUE).await,
        }
    }
}
