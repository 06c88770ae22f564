//! The task that owns a connection's write half.
//!
//! Everything bound for a client (Management API POSTs, `$default` replies) goes through one
//! bounded queue into this task, so a POST never waits on a slow socket: when the queue is
//! full the client is not reading, and the POST gets 429 as on AWS. The close frame travels on a
//! separate one-shot channel so it overtakes a full queue.

use bytes::Bytes;
use futures::{Sink, SinkExt};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::{MAX_FRAME_BYTES, MAX_MESSAGE_BYTES};

/// Frames queued per connection before POSTs to it are answered 429. Enough to absorb a burst
/// of fan-out traffic; small enough that a stalled client pins little memory.
pub const OUTBOUND_QUEUE: usize = 128;

/// Socket settings sized for tens of thousands of mostly idle connections: tungstenite's
/// 128 KiB default read buffer would cost more than a gigabyte at 10,000 connections.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(8 * 1024)
        .max_frame_size(Some(MAX_FRAME_BYTES))
        .max_message_size(Some(MAX_MESSAGE_BYTES))
}

/// A data frame for the client: text when the bytes are UTF-8 (the usual case, and what AWS
/// sends), binary otherwise, since a text frame must hold valid UTF-8.
pub fn data_frame(data: Bytes) -> Message {
    // Cloning `Bytes` only bumps a reference count; it keeps the data for the binary case.
    match Utf8Bytes::try_from(data.clone()) {
        Ok(text) => Message::Text(text),
        Err(_) => Message::Binary(data),
    }
}

/// Writes queued frames until the session asks for a close (or drops its end of `close`),
/// then sends the close frame, if one was given, and returns.
pub async fn run<S>(
    mut sink: S,
    mut outbound: mpsc::Receiver<Message>,
    mut close: oneshot::Receiver<CloseFrame>,
) where
    S: Sink<Message> + Unpin,
{
    loop {
        tokio::select! {
            biased;
            frame = &mut close => {
                if let Ok(frame) = frame {
                    // The client may already be gone; there is nobody left to tell.
                    let _ = sink.send(Message::Close(Some(frame))).await;
                }
                return;
            }
            message = outbound.recv() => {
                let Some(message) = message else { return };
                if write_batch(&mut sink, &mut outbound, message).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Feeds `first` and whatever else is already queued, then flushes once: under fan-out load
/// this turns many small writes into one syscall.
async fn write_batch<S>(
    sink: &mut S,
    outbound: &mut mpsc::Receiver<Message>,
    first: Message,
) -> Result<(), S::Error>
where
    S: Sink<Message> + Unpin,
{
    sink.feed(first).await?;
    while let Ok(message) = outbound.try_recv() {
        sink.feed(message).await?;
    }
    sink.flush().await
}
