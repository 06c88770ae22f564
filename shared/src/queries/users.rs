//! Users: created or updated by the admin API and the operator CLI.

use chrono::{SubsecRound, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

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

/// Creates the user `code`, or updates its name and image, in one statement so concurrent
/// calls cannot collide. Returns the user and whether it was new.
pub async fn upsert(
    db: &impl ConnectionTrait,
    code: &str,
    name: &str,
    image_path: Option<String>,
) -> Result<(users::Model, bool), DbErr> {
    // Microseconds: what PostgreSQL keeps, so the comparison below holds after the round trip.
    let now = Utc::now().trunc_subsecs(6);
    let user = users::ActiveModel {
        code: Set(code.to_owned()),
        name: Set(name.to_owned()),
        image_path: Set(image_path),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let saved = users::Entity::insert(user)
        .on_conflict(
            OnConflict::column(users::Column::Code)
                .update_columns([
                    users::Column::Name,
                    users::Column::ImagePath,
                    users::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_with_returning(db)
        .await?;
    // An update keeps the original created_at.
    let created = saved.created_at == now;
    Ok((saved, created))
}
