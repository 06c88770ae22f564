//! Values parsed at the edge, so the inner layers only see valid ones.

mod connection_id;
mod origin;
mod token_code;
mod user;

pub use connection_id::{ConnectionId, ConnectionIdError};
pub use origin::{AllowedOrigins, Origin};
pub use token_code::new_token_code;
pub use user::{ImagePath, UserCode, UserInputError, UserName};
