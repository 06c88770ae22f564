//! Messages: stored by `send_message`, read back as history and by broadcasts.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::domain::Channel;
use crate::entities::{messages, users};

pub type MessageWithUser = (messages::Model, users::Model);

pub async fn create(
    db: &impl ConnectionTrait,
    channel: &Channel,
    body: &str,
    user_id: i64,
) -> Result<messages::Model, DbErr> {
    let now = Utc::now();
    messages::ActiveModel {
        channel: Set(channel.real_name()),
        body: Set(body.to_owned()),
        user_id: Set(user_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The message and its author, unless it was deleted.
pub async fn find_live_with_user(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<MessageWithUser>, DbErr> {
    let found = messages::Entity::find_by_id(id)
        .filter(messages::Column::DeletedAt.is_null())
        .find_also_related(users::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(message, user)| user.map(|user| (message, user))))
}

fn visible(channels: &[Channel]) -> sea_orm::Select<messages::Entity> {
    messages::Entity::find()
        .filter(messages::Column::Channel.is_in(channels.iter().map(Channel::real_name)))
        .filter(messages::Column::DeletedAt.is_null())
}

/// Messages after `last_id`: the newest `max` of them, oldest first, and how many older
/// ones were left out.
pub async fn since(
    db: &impl ConnectionTrait,
    channels: &[Channel],
    last_id: i64,
    max: u64,
) -> Result<(Vec<MessageWithUser>, u64), DbErr> {
    let newer = visible(channels).filter(messages::Column::Id.gt(last_id));
    let total = newer.clone().count(db).await?;
    let page = newest(newer, max, db).await?;
    Ok((page, total.saturating_sub(max)))
}

/// The newest `limit` messages, oldest first.
pub async fn latest(
    db: &impl ConnectionTrait,
    channels: &[Channel],
    limit: u64,
) -> Result<Vec<MessageWithUser>, DbErr> {
    newest(visible(channels), limit, db).await
}

async fn newest(
    query: sea_orm::Select<messages::Entity>,
    limit: u64,
    db: &impl ConnectionTrait,
) -> Result<Vec<MessageWithUser>, DbErr> {
    let mut rows: Vec<MessageWithUser> = query
        .order_by_desc(messages::Column::Id)
        .limit(limit)
        .find_also_related(users::Entity)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(message, user)| user.map(|user| (message, user)))
        .collect();
    rows.reverse();
    Ok(rows)
}
