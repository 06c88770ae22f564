use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The Action Cable connection a token is bound to, beside API Gateway's `connection_id`, as
/// in the original schema. A token is bound to one connection at a time, of either kind.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WsTokens::Table)
                    .add_column(string_len_null(WsTokens::RequestId, 64))
                    .to_owned(),
            )
            .await?;
        // Unique when present, as `connection_id` is.
        manager
            .create_index(
                Index::create()
                    .name("index_ws_tokens_on_request_id")
                    .table(WsTokens::Table)
                    .col(WsTokens::RequestId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("index_ws_tokens_on_request_id")
                    .table(WsTokens::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(WsTokens::Table)
                    .drop_column(WsTokens::RequestId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum WsTokens {
    Table,
    RequestId,
}
