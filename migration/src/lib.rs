//! Schema of the product, as sea-orm-migration migrations.
//!
//! # Layout
//! - `m20261125_000001_create_users`: public user identities.
//! - `m20261125_000002_create_ws_tokens`: tokens and the connection each is bound to.
//! - `m20261125_000003_create_messages`: stored chat messages.
//! - `m20261126_000004_create_pending_broadcasts`: the outbox of broadcasts not yet finished.
//! - `m20261126_000005_add_request_id_to_ws_tokens`: binding tokens to Action Cable connections.
//!
//! Applied migrations are never edited; change the schema with a new file.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_users;
mod m20261125_000002_create_ws_tokens;
mod m20261125_000003_create_messages;
mod m20261126_000004_create_pending_broadcasts;
mod m20261126_000005_add_request_id_to_ws_tokens;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users::Migration),
            Box::new(m20261125_000002_create_ws_tokens::Migration),
            Box::new(m20261125_000003_create_messages::Migration),
            Box::new(m20261126_000004_create_pending_broadcasts::Migration),
            Box::new(m20261126_000005_add_request_id_to_ws_tokens::Migration),
        ]
    }
}
