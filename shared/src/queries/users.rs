//! Users: created or updated by the admin API and the operator CLI.

use chrono::{SubsecRound, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set, TryInsertResult,
};

use crate::domain::{NewUser, UserCode};
use crate::entities::users;

pub async fn find_by_code(
    db: &impl ConnectionTrait,
    code: &UserCode,
) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Code.eq(code.as_str()))
        .one(db)
        .await
}

/// Creates the user `code`, or updates its name and image. Returns the user and whether this
/// call created it.
///
/// "Created" comes from the database itself: `INSERT … ON CONFLICT DO NOTHING` affects one
/// row for exactly one of any set of concurrent calls, on PostgreSQL and SQLite alike. The
/// others update the row the winner inserted. (Comparing timestamps cannot decide it: two
/// calls in the same clock tick both see "their" `created_at`.)
pub async fn upsert(
    db: &impl ConnectionTrait,
    input: &NewUser,
) -> Result<(users::Model, bool), DbErr> {
    let (code, name) = (input.code.as_str(), input.name.as_str());
    let image_path = input.image.as_ref().map(|image| image.as_str().to_owned());
    let now = Utc::now().trunc_subsecs(6);
    let user = users::ActiveModel {
        code: Set(code.to_owned()),
        name: Set(name.to_owned()),
        image_path: Set(image_path.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let inserted = users::Entity::insert(user)
        .on_conflict_do_nothing_on([users::Column::Code])
        .exec_without_returning(db)
        .await?;
    let created = matches!(inserted, TryInsertResult::Inserted(rows) if rows == 1);
    if !created {
        users::Entity::update_many()
            .col_expr(users::Column::Name, Expr::value(name))
            .col_expr(users::Column::ImagePath, Expr::value(image_path))
            .col_expr(users::Column::UpdatedAt, Expr::value(now))
            .filter(users::Column::Code.eq(code))
            .exec(db)
            .await?;
    }
    let user = find_by_code(db, &input.code)
        .await?
        .ok_or(DbErr::RecordNotFound(format!(
            "user {code} after its upsert"
        )))?;
    Ok((user, created))
}
