//! Every database query of the product; handlers and jobs call these, never build queries.

pub mod connections;
pub mod messages;
pub mod outbox;
pub mod tokens;
pub mod users;
