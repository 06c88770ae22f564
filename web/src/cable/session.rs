//! One Action Cable socket, from the welcome to the close.
//!
//! The session reads the client's commands one at a time and answers through the socket's
//! [`Outbox`]; a writer task empties it. It ends when the client closes, when its token was
//! refused `DISCONNECT_DELAY_SECS` earlier (`disconnect`, `reconnect: false`), on SIGTERM
//! (`disconnect`, `reconnect: true`), on a remote disconnect, on a frame over 32 KB (1009),
//! or when the client reads too slowly (the socket is dropped: nothing more can reach it).
//! Then its streams are forgotten and its token is marked unsubscribed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::SplitStream;
use poem::web::websocket::{CloseCode, Message, WebSocketStream};
use shared::domain::{CableId, Peer};
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::Instrument;

use super::channel::{self, Performed};
use super::frames::{ClientFrame, DisconnectReason, ServerFrame};
use super::handshake::MAX_FRAME_BYTES;
use super::outbox::{Outbox, Overflow, write_frames};
use super::registry::{Admission, Kick, SocketHandle};
use crate::chat;
use crate::state::AppState;

/// Rails pings every 3 s; its client calls a connection stale after 6 s of silence.
const PING_EVERY: Duration = Duration::from_secs(3);
/// How long the last frames and the close may take to be written when the server ends.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the session ended.
#[derive(Debug)]
enum End {
    /// The client closed, or the connection broke.
    Gone,
    /// `disconnect` with this reason, then a normal close.
    Disconnect(DisconnectReason, bool),
    /// A frame over [`MAX_FRAME_BYTES`]: close 1009.
    TooBig,
    /// The outbox overflowed: drop the socket at once.
    SlowReader,
}

impl From<Overflow> for End {
    fn from(Overflow: Overflow) -> Self {
        End::SlowReader
    }
}

struct Session {
    state: AppState,
    id: CableId,
    peer: Peer,
    outbox: Outbox,
    /// identifier (exactly as the client sent it) → the streams it follows (none until the
    /// token is accepted).
    subscriptions: HashMap<Arc<str>, Vec<String>>,
    /// Set when a token was refused: the moment the connection closes.
    closing_at: Option<Instant>,
}

/// Serves one upgraded socket until it ends.
pub async fn run(state: AppState, socket: WebSocketStream, admission: Admission) {
    let id = CableId::generate();
    let span = tracing::info_span!("cable", cable_id = %id);
    async move {
        let (sink, incoming) = socket.split();
        let (outbox, queue) = Outbox::new(state.web.cable.send_queue);
        let writer = tokio::spawn(write_frames(queue, sink));
        let (handle, kicked) = SocketHandle::new(outbox.clone());
        state.cable.registry.register(id.clone(), handle);
        tracing::info!("Action Cable: connected");
        let mut session = Session {
            peer: Peer::Cable(id.clone()),
            state,
            id,
            outbox,
            subscriptions: HashMap::new(),
            closing_at: None,
        };
        let end = session.serve(incoming, kicked).await;
        session.finish(end, writer).await;
        drop(admission);
    }
    .instrument(span)
    .await;
}

impl Session {
    async fn serve(
        &mut self,
        mut incoming: SplitStream<WebSocketStream>,
        mut kicked: watch::Receiver<Option<Kick>>,
    ) -> End {
        if let Err(overflow) = self.outbox.push(ServerFrame::Welcome.to_text()) {
            return overflow.into();
        }
        let draining = self.state.draining.token();
        let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        loop {
            let closing_at = self.closing_at;
            let result = tokio::select! {
                frame = incoming.next() => match frame {
                    Some(Ok(Message::Text(text))) => self.frame(&text).await,
                    Some(Ok(Message::Binary(bytes))) => match String::from_utf8(bytes) {
                        Ok(text) => self.frame(&text).await,
                        Err(_) => {
                            tracing::warn!("Action Cable: ignored a binary frame that is not UTF-8");
                            Ok(())
                        }
                    },
                    Some(Ok(Message::Close(_))) | None => Err(End::Gone),
                    Some(Ok(_)) => Ok(()),
                    Some(Err(error)) => {
                        tracing::info!(%error, "Action Cable: the connection broke");
                        Err(End::Gone)
                    }
                },
                _ = ping.tick() => {
                    let now = chrono::Utc::now().timestamp();
                    self.outbox.push(ServerFrame::Ping { message: now }.to_text()).map_err(End::from)
                }
                Ok(()) = kicked.changed() => match *kicked.borrow() {
                    Some(Kick::SlowReader) => Err(End::SlowReader),
                    Some(Kick::Remote { reconnect }) => {
                        Err(End::Disconnect(DisconnectReason::Remote, reconnect))
                    }
                    None => Ok(()),
                },
                () = draining.cancelled() => {
                    Err(End::Disconnect(DisconnectReason::ServerRestart, true))
                }
                () = sleep_until(closing_at), if closing_at.is_some() => {
                    Err(End::Disconnect(DisconnectReason::Unauthorized, false))
                }
            };
            if let Err(end) = result {
                return end;
            }
        }
    }

    /// One client frame. Nothing a client sends closes the connection but a frame too big.
    async fn frame(&mut self, text: &str) -> Result<(), End> {
        if text.len() > MAX_FRAME_BYTES {
            tracing::warn!(
                bytes = text.len(),
                "Action Cable: refused a frame over 32 KB"
            );
            return Err(End::TooBig);
        }
        // The frame itself is never logged: it carries the token.
        let Ok(frame) = serde_json::from_str::<ClientFrame>(text) else {
            tracing::warn!("Action Cable: ignored a frame that is not a command");
            return Ok(());
        };
        match frame.command.as_str() {
            "subscribe" => self.subscribe(frame.identifier.into())?,
            "unsubscribe" => self.unsubscribe(&frame.identifier),
            "message" => {
                self.message(&frame.identifier, frame.data.as_deref())
                    .await?
            }
            _ => {
                tracing::warn!(command = %frame.command, "Action Cable: ignored an unknown command")
            }
        }
        Ok(())
    }

    /// Confirms `MessageChannel` (again, for a repeated subscribe), rejects anything else.
    fn subscribe(&mut self, identifier: Arc<str>) -> Result<(), Overflow> {
        if !channel::is_message_channel(&identifier) {
            tracing::info!(%identifier, "Action Cable: rejected a subscription");
            return self.outbox.push(
                ServerFrame::RejectSubscription {
                    identifier: &identifier,
                }
                .to_text(),
            );
        }
        let frame = ServerFrame::ConfirmSubscription {
            identifier: &identifier,
        }
        .to_text();
        self.subscriptions.entry(identifier).or_default();
        self.outbox.push(frame)
    }

    fn unsubscribe(&mut self, identifier: &str) {
        match self.subscriptions.remove_entry(identifier) {
            Some((identifier, streams)) => {
                self.state
                    .cable
                    .registry
                    .stop_streaming(&self.id, &identifier, &streams);
            }
            None => {
                tracing::warn!(%identifier, "Action Cable: ignored unsubscribe, not subscribed")
            }
        }
    }

    async fn message(&mut self, identifier: &str, data: Option<&str>) -> Result<(), Overflow> {
        let Some((identifier, _)) = self.subscriptions.get_key_value(identifier) else {
            tracing::warn!(%identifier, "Action Cable: ignored a message for a subscription that does not exist");
            return Ok(());
        };
        let identifier = identifier.clone();
        let Some(data) = data else {
            tracing::warn!("Action Cable: ignored a message without data");
            return Ok(());
        };
        match channel::perform(&self.state, &self.peer, &identifier, data).await {
            Performed::Ignored(why) => {
                tracing::warn!(why, "Action Cable: ignored a message");
                Ok(())
            }
            Performed::Replied {
                frame,
                refused,
                streams,
            } => {
                if let Some(streams) = streams {
                    self.follow(identifier, streams);
                }
                if refused && self.closing_at.is_none() {
                    let delay = Duration::from_secs(self.state.web.disconnect_delay_secs);
                    self.closing_at = Some(Instant::now() + delay);
                }
                self.outbox.push(frame)
            }
        }
    }

    fn follow(&mut self, identifier: Arc<str>, streams: Vec<String>) {
        let registry = &self.state.cable.registry;
        if let Some(followed) = self.subscriptions.get_mut(&identifier) {
            registry.stop_streaming(&self.id, &identifier, followed);
            registry.stream(&self.id, &identifier, &streams);
            *followed = streams;
        }
    }

    /// Says goodbye as `end` requires, forgets the socket and unbinds its token.
    async fn finish(self, end: End, mut writer: tokio::task::JoinHandle<()>) {
        let followed: Vec<_> = self.subscriptions.into_iter().collect();
        self.state.cable.registry.unregister(&self.id, &followed);
        let goodbye = match &end {
            End::Gone | End::SlowReader => Ok(()),
            End::TooBig => self.outbox.close(CloseCode::Size),
            End::Disconnect(reason, reconnect) => {
                let frame = ServerFrame::Disconnect {
                    reason: *reason,
                    reconnect: *reconnect,
                };
                self.outbox
                    .push(frame.to_text())
                    .and_then(|()| self.outbox.close(CloseCode::Normal))
            }
        };
        drop(self.outbox);
        // A slow reader cannot take its goodbye: its socket is dropped, not flushed.
        let flushed = !matches!(end, End::SlowReader)
            && goodbye.is_ok()
            && tokio::time::timeout(CLOSE_TIMEOUT, &mut writer)
                .await
                .is_ok();
        if !flushed {
            writer.abort();
        }
        tracing::info!(?end, "Action Cable: disconnected");
        if let Err(error) = chat::disconnect(&self.state, &self.peer).await {
            // Broadcasts to it fail as the socket is gone; nothing else depends on it.
            tracing::warn!(%error, "Action Cable: could not mark the token unsubscribed");
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
