//! This replica's live Action Cable sockets: how many there are (the limit and the gauge),
//! which streams each subscription follows, and how to reach or kick each one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use shared::domain::CableId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::frames;
use super::outbox::Outbox;

/// The gauge of open Action Cable sockets in `/metrics`.
const CONNECTIONS_GAUGE: &str = "web_cable_connections";

/// Why a socket must end, decided outside its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kick {
    /// Its queue overflowed.
    SlowReader,
    /// `PUBLISH <prefix>:action_cable/<id> {"type":"disconnect","reconnect":..}`.
    Remote { reconnect: bool },
}

/// How the rest of the replica reaches one socket. Cheap to clone.
#[derive(Clone)]
pub struct SocketHandle {
    outbox: Outbox,
    kick: Arc<watch::Sender<Option<Kick>>>,
}

impl SocketHandle {
    /// The handle, and the receiver its session watches for a kick.
    pub fn new(outbox: Outbox) -> (Self, watch::Receiver<Option<Kick>>) {
        let (kick, kicked) = watch::channel(None);
        let handle = Self {
            outbox,
            kick: Arc::new(kick),
        };
        (handle, kicked)
    }

    /// The first kick wins; later ones change nothing.
    pub fn kick(&self, why: Kick) {
        self.kick.send_if_modified(|kick| {
            let first = kick.is_none();
            if first {
                *kick = Some(why);
            }
            first
        });
    }
}

/// Held by each open socket; counts it while it lives.
pub struct Admission {
    _permit: OwnedSemaphorePermit,
}

impl Drop for Admission {
    fn drop(&mut self) {
        metrics::gauge!(CONNECTIONS_GAUGE).decrement(1.0);
    }
}

type Subscriber = (CableId, Arc<str>);

pub struct Registry {
    capacity: Arc<Semaphore>,
    sockets: DashMap<CableId, SocketHandle>,
    /// stream → the subscriptions (socket, identifier) following it.
    streams: DashMap<String, HashMap<Subscriber, SocketHandle>>,
    /// Whether the fan-in is subscribed to the streams on Redis right now.
    streams_up: watch::Sender<bool>,
}

impl Registry {
    pub fn new(max_connections: usize) -> Self {
        metrics::gauge!(CONNECTIONS_GAUGE).set(0.0);
        Self {
            capacity: Arc::new(Semaphore::new(max_connections)),
            sockets: DashMap::new(),
            streams: DashMap::new(),
            streams_up: watch::Sender::new(false),
        }
    }

    pub fn set_streams_up(&self, up: bool) {
        self.streams_up.send_replace(up);
    }

    pub fn streams_up(&self) -> bool {
        *self.streams_up.borrow()
    }

    /// Whether the streams are subscribed, waiting up to `within` for it.
    pub async fn wait_for_streams(&self, within: Duration) -> bool {
        let mut up = self.streams_up.subscribe();
        tokio::time::timeout(within, up.wait_for(|up| *up))
            .await
            .is_ok_and(|waited| waited.is_ok())
    }

    /// A place for one more socket, or `None` at `ACTION_CABLE_MAX_CONNECTIONS`.
    pub fn admit(&self) -> Option<Admission> {
        let permit = self.capacity.clone().try_acquire_owned().ok()?;
        metrics::gauge!(CONNECTIONS_GAUGE).increment(1.0);
        Some(Admission { _permit: permit })
    }

    pub fn socket_count(&self) -> usize {
        self.sockets.len()
    }

    pub fn register(&self, id: CableId, handle: SocketHandle) {
        self.sockets.insert(id, handle);
    }

    /// Forgets the socket and every stream its subscriptions followed.
    pub fn unregister(&self, id: &CableId, streams: &[(Arc<str>, Vec<String>)]) {
        for (identifier, names) in streams {
            self.stop_streaming(id, identifier, names);
        }
        self.sockets.remove(id);
    }

    /// The subscription `identifier` of socket `id` follows `names` from now on.
    pub fn stream(&self, id: &CableId, identifier: &Arc<str>, names: &[String]) {
        let Some(handle) = self.sockets.get(id).map(|entry| entry.value().clone()) else {
            return;
        };
        for name in names {
            self.streams
                .entry(name.clone())
                .or_default()
                .insert((id.clone(), identifier.clone()), handle.clone());
        }
    }

    pub fn stop_streaming(&self, id: &CableId, identifier: &Arc<str>, names: &[String]) {
        let key = (id.clone(), identifier.clone());
        for name in names {
            self.streams.remove_if_mut(name, |_, subscribers| {
                subscribers.remove(&key);
                subscribers.is_empty()
            });
        }
    }

    /// Queues `{"identifier":..,"message":<message_json>}` for every subscription following
    /// `stream`; kicks the sockets whose queue is full. How many were queued.
    pub fn deliver(&self, stream: &str, message_json: &str) -> usize {
        let Some(subscribers) = self.streams.get(stream) else {
            return 0;
        };
        // Most subscriptions share an identifier: encode each frame once.
        let mut frames: HashMap<&str, Arc<str>> = HashMap::new();
        let mut queued = 0;
        for ((_, identifier), handle) in subscribers.iter() {
            let frame = frames
                .entry(identifier)
                .or_insert_with(|| frames::message(identifier, message_json).into())
                .clone();
            match handle.outbox.push(frame) {
                Ok(()) => queued += 1,
                Err(_) => handle.kick(Kick::SlowReader),
            }
        }
        queued
    }

    /// Kicks socket `id` if it lives on this replica.
    pub fn kick(&self, id: &CableId, why: Kick) -> bool {
        match self.sockets.get(id) {
            Some(handle) => {
                handle.kick(why);
                true
            }
            None => false,
        }
    }
}
