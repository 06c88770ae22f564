//! Web as an Action Cable server (SPEC section 6): stock `@rails/actioncable` clients connect
//! to `ACTION_CABLE_PATH` and chat through the same core as API Gateway's `$default`.
//!
//! # Layout
//! - `handshake`: `GET /cable`, the origin check and the limits before the upgrade.
//! - `frames`: the protocol's JSON (`actioncable-v1-json`).
//! - `session`: one socket's loop: welcome, pings, commands, and every way it ends.
//! - `channel`: `MessageChannel`, whose actions run [`crate::chat::apply`].
//! - `outbox`: each socket's bounded queue and its writer; a full queue is a slow reader.
//! - `registry`: this replica's sockets and the streams each subscription follows.
//! - `fanin`: the replica's Redis pub/sub connection, forwarding streams to the registry.

mod channel;
mod fanin;
mod frames;
mod handshake;
mod outbox;
mod registry;
mod session;

use std::sync::Arc;

use poem::{Route, get};
use shared::config::{CommonSettings, WebSettings};
use shared::queue::PubsubNodes;
use tokio_util::sync::CancellationToken;

use self::fanin::ChannelNames;
use self::registry::Registry;

/// This replica's Action Cable sockets. Cheap to clone.
#[derive(Clone)]
pub struct Cable {
    registry: Arc<Registry>,
}

impl Cable {
    /// The registry, and its fan-in listening on Redis pub/sub until `stop`.
    pub fn start(
        common: &CommonSettings,
        web: &WebSettings,
        stop: CancellationToken,
    ) -> redis::RedisResult<Self> {
        let registry = Arc::new(Registry::new(web.cable.max_connections));
        // In a cluster a plain connection to any node hears every PUBLISH.
        let settings = web.cable.pubsub.as_ref().unwrap_or(&common.redis);
        let nodes = PubsubNodes::new(settings)?;
        let names = ChannelNames::new(&web.cable.channel_prefix);
        tokio::spawn(fanin::run(nodes, names, registry.clone(), stop));
        Ok(Self { registry })
    }

    /// Whether this replica listens to the streams on Redis: without it, its sockets would
    /// miss broadcasts.
    pub fn streams_up(&self) -> bool {
        self.registry.streams_up()
    }

    /// Sockets open on this replica right now.
    pub fn open_sockets(&self) -> usize {
        self.registry.socket_count()
    }
}

/// `GET <ACTION_CABLE_PATH>`, to be mounted at the root.
pub fn route(route: Route, web: &WebSettings) -> Route {
    route.at(&web.cable.path, get(handshake::upgrade))
}
