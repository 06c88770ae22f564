//! One client connection's life after `$connect` accepted it.
//!
//! The session task owns the read half: it feeds each text frame to `$default`, one at a time so
//! the backend sees a connection's frames in order, and sends the reply back as a frame. It
//! closes the connection on DELETE, idle timeout, maximum age, shutdown, a binary frame (1003) or
//! an oversized frame (1009). Whatever ends the connection, the session removes it from the
//! registry and fires `$disconnect` exactly once, on its way out.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use futures::future::{Fuse, FusedFuture, FutureExt};
use futures::{Stream, StreamExt};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tracing::{Instrument, debug, info, info_span, warn};

use crate::app::App;
use crate::callbacks::CallbackError;
use crate::error::error_chain;
use crate::registry::{Connection, random_request_id};
use crate::writer;

/// How long a closing connection gets to finish the close handshake before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How a connection ends.
enum Ending {
    /// The client closed or its TCP connection dropped: nothing left to send.
    ClientGone,
    /// The emulator closes it with this frame.
    Close(CloseFrame),
}

fn close_frame(code: CloseCode, reason: &'static str) -> Ending {
    Ending::Close(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    })
}

/// Runs the session to its end: waits for the HTTP upgrade, serves frames, then cleans up.
pub async fn run(
    app: Arc<App>,
    connection: Arc<Connection>,
    upgrade: OnUpgrade,
    outbound: mpsc::Receiver<Message>,
) {
    let span = info_span!("connection", connection_id = %connection.id);
    async move {
        match upgrade.await {
            Ok(upgraded) => {
                let io = TokioIo::new(upgraded);
                let ws =
                    WebSocketStream::from_raw_socket(io, Role::Server, Some(writer::ws_config()))
                        .await;
                serve(&app, &connection, ws, outbound).await;
            }
            Err(error) => {
                warn!(%error, "upgrade failed after $connect accepted the connection");
                app.registry.remove(connection.id.as_str());
            }
        }
        app.stats.connections_open.fetch_sub(1, Ordering::Relaxed);
        if let Err(error) = app.callbacks.disconnect(connection.id.as_str()).await {
            app.stats.callbacks_failed.fetch_add(1, Ordering::Relaxed);
            warn!(error = %error_chain(&error), "$disconnect callback failed");
        }
        info!("disconnected");
    }
    .instrument(span)
    .await;
}

async fn serve<S>(
    app: &App,
    connection: &Connection,
    ws: WebSocketStream<S>,
    outbound: mpsc::Receiver<Message>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sink, mut stream) = ws.split();
    let (close_tx, close_rx) = oneshot::channel();
    let mut writer = tokio::spawn(writer::run(sink, outbound, close_rx));
    info!("connected");

    let ending = read_frames(app, connection, &mut stream).await;
    // From here on POSTs get 410 instead of queueing into a dying connection.
    app.registry.remove(connection.id.as_str());
    match ending {
        Ending::ClientGone => drop(close_tx),
        Ending::Close(frame) => {
            debug!(code = %frame.code, "closing");
            // Fails only if the writer already stopped, in which case the socket is gone anyway.
            let _ = close_tx.send(frame);
        }
    }
    // Keep reading to the end of the close handshake: when we close, the client's answer is
    // awaited so our close frame is not torn down unread; when the client closed, reading on
    // is what sends tungstenite's queued close reply (else the client sees 1006).
    let _ = timeout(CLOSE_GRACE, drain_until_closed(&mut stream)).await;
    // A client that stopped reading can hold the writer in a write forever.
    if timeout(CLOSE_GRACE, &mut writer).await.is_err() {
        writer.abort();
    }
}

/// Reads frames until something ends the connection, and says how it ended.
async fn read_frames<S>(app: &App, connection: &Connection, stream: &mut S) -> Ending
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    let max_age = sleep(app.max_connection_age);
    let idle = sleep(app.idle_timeout);
    // The `$default` callback in flight, if any. While it runs no further frame is read, which
    // keeps a connection's frames in order.
    let in_flight = Fuse::terminated();
    tokio::pin!(max_age, idle, in_flight);

    loop {
        tokio::select! {
            biased;
            () = connection.close_requested() => return close_frame(CloseCode::Normal, ""),
            () = app.shutdown.cancelled() => return close_frame(CloseCode::Away, "Going away"),
            () = &mut max_age => return close_frame(CloseCode::Away, "Going away"),
            () = &mut idle => match connection.idle_remaining(app.idle_timeout) {
                // Activity since the timer was set (frames or POSTs) pushes the deadline on;
                // checking only when the timer fires keeps the per-frame cost at one store.
                Some(rest) => idle.as_mut().reset(Instant::now() + rest),
                None => return close_frame(CloseCode::Away, "Going away"),
            },
            () = &mut in_flight, if !in_flight.is_terminated() => {}
            frame = stream.next(), if in_flight.is_terminated() => match frame {
                Some(Ok(Message::Text(text))) => {
                    connection.touch();
                    app.stats.frames_received.fetch_add(1, Ordering::Relaxed);
                    in_flight.set(run_default(app, connection, text).fuse());
                }
                Some(Ok(Message::Binary(_))) => {
                    return close_frame(CloseCode::Unsupported, "Binary frames are not supported");
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => connection.touch(),
                Some(Ok(Message::Frame(_))) => {}
                Some(Ok(Message::Close(_))) | None => return Ending::ClientGone,
                Some(Err(WsError::Capacity(CapacityError::MessageTooLong { size, .. }))) => {
                    debug!(size, "frame over the limit");
                    return close_frame(CloseCode::Size, "Message too big");
                }
                Some(Err(error)) => {
                    debug!(%error, "read failed");
                    return Ending::ClientGone;
                }
            },
        }
    }
}

/// Sends one frame to `$default` and the answer back to the client, like a two-way route.
async fn run_default(app: &App, connection: &Connection, frame: Utf8Bytes) {
    let reply = match app
        .callbacks
        .default(connection.id.as_str(), Bytes::from(frame))
        .await
    {
        Ok(response) if response.body.is_empty() => return,
        Ok(response) => writer::data_frame(response.body),
        Err(error) => {
            app.stats.callbacks_failed.fetch_add(1, Ordering::Relaxed);
            warn!(error = %error_chain(&error), "$default callback failed");
            gateway_error_frame(&error, connection)
        }
    };
    // Waits for room rather than dropping a reply; the session's other branches still fire
    // meanwhile, so a stalled client cannot wedge the session.
    connection.send(reply).await;
}

/// The frame API Gateway sends a client when the integration fails.
fn gateway_error_frame(error: &CallbackError, connection: &Connection) -> Message {
    let message = match error {
        CallbackError::Timeout { .. } => "Endpoint request timed out",
        CallbackError::Unreachable { .. } => "Internal server error",
    };
    let body = serde_json::json!({
        "message": message,
        "connectionId": connection.id.as_str(),
        "requestId": random_request_id(),
    });
    Message::Text(body.to_string().into())
}

async fn drain_until_closed<S>(stream: &mut S)
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    while let Some(Ok(message)) = stream.next().await {
        if message.is_close() {
            return;
        }
    }
}
