//! Who sent a frame: an API Gateway connection, or an Action Cable socket on some web replica.

use std::fmt;

/// An Action Cable connection's id, unique across replicas; a token bound to it records it in
/// `ws_tokens.request_id`, as the original's Action Cable connections did.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CableId(String);

impl CableId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// An id read back from storage or a job, written by [`CableId::generate`].
    pub fn from_stored(id: String) -> Self {
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The connection a frame came from, which a token binds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    Gateway(super::ConnectionId),
    Cable(CableId),
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gateway(id) => write!(f, "{id}"),
            Self::Cable(id) => write!(f, "cable:{id}"),
        }
    }
}
