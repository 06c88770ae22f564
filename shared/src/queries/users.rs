//! Users: created or updated by the admin API and the operator CLI.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::entities::users;

pub async fn find_by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Code.eq(code))
        .one(db)
        .await
}

pub async fn find_by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find_by_id(id).one(db).await
}

/// Creates the user `code`, or updates its name and image. Returns the user and whether it was new.
pub async fn upsert(
    db: &impl ConnectionTrait,
    code: &str,
    name: &str,
    image_path: Option<String>,
) -> Result<(users::Model, bool), DbErr> {
    let now = Utc::now();
    if let Some(existing) = find_by_code(db, code).await? {
        let mut user: users::ActiveModel = existing.into();
        user.name = Set(name.to_owned());
        user.image_path = Set(image_path);
        user.updated_at = Set(now);
        return Ok((user.update(db).await?, false));
    }
    let user = users::ActiveModel {
        code: Set(code.to_owned()),
        name: Set(name.to_owned()),
        image_path: Set(image_path),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok((user.insert(db).await?, true))
}
