//! sea-orm entities: the tables of the `migration` crate, nothing more.

pub mod messages;
pub mod users;
pub mod ws_tokens;
