use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WsTokens::Table)
                    .if_not_exists()
                    .col(pk_auto(WsTokens::Id).big_integer())
                    .col(string_len_uniq(WsTokens::Code, 255))
                    .col(big_integer_null(WsTokens::UserId))
                    .col(timestamp_with_time_zone_null(WsTokens::AuthSuccessedAt))
                    .col(timestamp_with_time_zone_null(WsTokens::LastAuthSuccessedAt))
                    .col(string_len_null(WsTokens::LastStatus, 32))
                    .col(string_len_null(WsTokens::ConnectionId, 255))
                    .col(timestamp_with_time_zone_null(WsTokens::StartedAt))
                    .col(timestamp_with_time_zone(WsTokens::CreatedAt))
                    .col(timestamp_with_time_zone(WsTokens::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WsTokens::Table, WsTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Unique when present: both PostgreSQL and SQLite allow many NULLs in a unique index.
        manager
            .create_index(
                Index::create()
                    .name("index_ws_tokens_on_connection_id")
                    .table(WsTokens::Table)
                    .col(WsTokens::ConnectionId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The broadcast audience query: connected, authenticated, optionally one user.
        manager
            .create_index(
                Index::create()
                    .name("index_ws_tokens_on_connection_id_last_status_user_id")
                    .table(WsTokens::Table)
                    .col(WsTokens::ConnectionId)
                    .col(WsTokens::LastStatus)
                    .col(WsTokens::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WsTokens::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum WsTokens {
    Table,
    Id,
    Code,
    UserId,
    AuthSuccessedAt,
    LastAuthSuccessedAt,
    LastStatus,
    ConnectionId,
    StartedAt,
    CreatedAt,
    UpdatedAt,
}
