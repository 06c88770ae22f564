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
                    .table(Messages::Table)
                    .if_not_exists()
                    .col(pk_auto(Messages::Id).big_integer())
                    .col(string_len(Messages::Channel, 300))
                    .col(text(Messages::Body))
                    .col(big_integer(Messages::UserId))
                    .col(timestamp_with_time_zone_null(Messages::DeletedAt))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .col(timestamp_with_time_zone(Messages::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("index_messages_on_created_at_id")
                    .table(Messages::Table)
                    .col(Messages::CreatedAt)
                    .col(Messages::Id)
                    .to_owned(),
            )
            .await?;
        // History reads filter by channel and page by id.
        manager
            .create_index(
                Index::create()
                    .name("index_messages_on_channel_id")
                    .table(Messages::Table)
                    .col(Messages::Channel)
                    .col(Messages::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Messages::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    Channel,
    Body,
    UserId,
    DeletedAt,
    CreatedAt,
    UpdatedAt,
}
