use sea_orm_migration::{prelude::*, schema::*};

/// The outbox: a broadcast owed for each stored message until a worker finished it.
/// `send_message` writes it in the message's own transaction, so a message is never stored
/// without the promise to deliver it, whatever happens to Redis or the web process after
/// the commit.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PendingBroadcasts::Table)
                    .if_not_exists()
                    .col(big_integer(PendingBroadcasts::MessageId).primary_key())
                    .col(timestamp_with_time_zone(PendingBroadcasts::CreatedAt))
                    .col(integer(PendingBroadcasts::Requeues).default(0))
                    .col(timestamp_with_time_zone_null(
                        PendingBroadcasts::LastRequeuedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PendingBroadcasts::Table, PendingBroadcasts::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The sweeper reads the oldest pending broadcasts first.
        manager
            .create_index(
                Index::create()
                    .name("index_pending_broadcasts_on_created_at")
                    .table(PendingBroadcasts::Table)
                    .col(PendingBroadcasts::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PendingBroadcasts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PendingBroadcasts {
    Table,
    MessageId,
    CreatedAt,
    Requeues,
    LastRequeuedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
}
