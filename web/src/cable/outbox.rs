//! Each socket's bounded queue of frames to write, and the task that writes them.
//!
//! Everything a socket is sent goes through its queue (replies, pings, stream messages), so
//! frames keep their order and nobody waits on a slow client: the fan-in only tries to push,
//! and a full queue means the client reads too slowly. It is then disconnected rather than
//! buffered without bound (see [`Overflow`]).

use std::sync::Arc;

use futures::{Sink, SinkExt};
use poem::web::websocket::{CloseCode, Message};
use tokio::sync::mpsc;

/// One thing for the writer to do.
#[derive(Debug)]
pub enum Outgoing {
    /// A text frame; shared, because a stream message goes to many sockets.
    Text(Arc<str>),
    /// Send a close frame, then stop.
    Close(CloseCode),
}

/// The queue was full: the socket's client reads too slowly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

/// The sending side of one socket's queue. Cheap to clone.
#[derive(Clone)]
pub struct Outbox(mpsc::Sender<Outgoing>);

impl Outbox {
    /// A queue of `capacity` frames and its receiving end, for [`write_frames`].
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<Outgoing>) {
        let (sender, receiver) = mpsc::channel(capacity);
        (Self(sender), receiver)
    }

    /// Queues `frame` without waiting.
    pub fn push(&self, frame: impl Into<Arc<str>>) -> Result<(), Overflow> {
        self.push_outgoing(Outgoing::Text(frame.into()))
    }

    /// Queues a close frame after what is already queued.
    pub fn close(&self, code: CloseCode) -> Result<(), Overflow> {
        self.push_outgoing(Outgoing::Close(code))
    }

    fn push_outgoing(&self, outgoing: Outgoing) -> Result<(), Overflow> {
        match self.0.try_send(outgoing) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => Err(Overflow),
            // The writer is gone: the socket is closing anyway.
            Err(mpsc::error::TrySendError::Closed(_)) => Ok(()),
        }
    }
}

/// Writes queued frames until a close frame, a write error, or every sender is dropped.
/// Frames that are queued together are written together, with one flush.
pub async fn write_frames(
    mut receiver: mpsc::Receiver<Outgoing>,
    mut sink: impl Sink<Message> + Unpin,
) {
    while let Some(outgoing) = receiver.recv().await {
        let mut next = Some(outgoing);
        while let Some(outgoing) = next.take() {
            let fed = match outgoing {
                Outgoing::Text(text) => sink.feed(Message::Text(text.to_string())).await,
                Outgoing::Close(code) => {
                    let _ = sink.send(Message::close_with(code, "")).await;
                    return;
                }
            };
            if fed.is_err() {
                return;
            }
            next = receiver.try_recv().ok();
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
    let _ = sink.close().await;
}
