//! sea-orm entities: the tables of the `migration` crate, nothing more.

pub mod messages;
pub mod pending_broadcasts;
pub mod users;
pub mod ws_tokens;
