//! Values parsed at the edge, so the inner layers only see valid ones.

mod channel;
mod connection_id;
mod message_body;
mod origin;
mod peer;
mod pubsub_prefix;
mod token_code;
mod token_status;
mod user;

pub use channel::{Channel, ChannelKind, UnknownChannel};
pub use connection_id::{ConnectionId, ConnectionIdError};
pub use message_body::{MessageBody, MessageBodyError};
pub use origin::{AllowedOriginError, AllowedOrigins, Origin};
pub use peer::{CableId, Peer};
pub use pubsub_prefix::PubsubPrefix;
pub use token_code::new_token_code;
pub use token_status::{TokenRefusal, TokenStatus};
pub use user::{ImagePath, NewUser, UserCode, UserInputError, UserName};
