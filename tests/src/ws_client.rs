//! A real WebSocket client of the emulator, as a browser or app would hold one.

use std::collections::VecDeque;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Generous: a deadline, not a delay. A loaded 2-core machine running the whole suite has
/// been seen to take more than 15 s to deliver a chat message.
pub const RECEIVE_TIMEOUT: Duration = Duration::from_secs(45);

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Frames [`Self::recv_action`] passed over, kept for later reads: a broadcast can
    /// overtake the reply to the frame that caused it.
    skipped: VecDeque<Value>,
}

/// How a connection attempt or a connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The handshake was refused with this HTTP status.
    Refused(u16),
    /// The server closed with this close code.
    Closed(u16),
}

impl WsClient {
    /// Connects with an `Origin` header; `Err(Refused(status))` when `$connect` said no.
    pub async fn connect(url: &str, origin: Option<&str>) -> Result<Self, Ended> {
        let mut request = url.into_client_request().expect("a WebSocket URL");
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(origin).expect("an origin"));
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(Self {
                stream,
                skipped: VecDeque::new(),
            }),
            Err(WsError::Http(response)) => Err(Ended::Refused(response.status().as_u16())),
            Err(error) => panic!("cannot connect to {url}: {error}"),
        }
    }

    pub async fn send(&mut self, frame: &Value) {
        self.stream
            .send(Message::text(frame.to_string()))
            .await
            .expect("the frame is sent");
    }

    /// The next text frame as JSON; panics on close or after `RECEIVE_TIMEOUT`.
    pub async fn recv(&mut self) -> Value {
        if let Some(frame) = self.skipped.pop_front() {
            return frame;
        }
        match self.next_event(RECEIVE_TIMEOUT).await {
            Ok(frame) => frame,
            Err(ended) => panic!("expected a frame, the connection ended: {ended:?}"),
        }
    }

    /// The next frame whose `action` is `action`, skipping others (replies and broadcasts
    /// race each other).
    pub async fn recv_action(&mut self, action: &str) -> Value {
        if let Some(index) = self
            .skipped
            .iter()
            .position(|frame| frame["action"] == action)
        {
            return self
                .skipped
                .remove(index)
                .expect("the position is in the queue");
        }
        loop {
            let frame = match self.next_event(RECEIVE_TIMEOUT).await {
                Ok(frame) => frame,
                Err(ended) => panic!("expected a frame, the connection ended: {ended:?}"),
            };
            if frame["action"] == action {
                return frame;
            }
            self.skipped.push_back(frame);
        }
    }

    /// Sends `frame` and returns the reply of the two-way route.
    pub async fn request(&mut self, frame: &Value, reply_action: &str) -> Value {
        self.send(frame).await;
        self.recv_action(reply_action).await
    }

    /// Waits for the server to close the connection; its close code.
    pub async fn closed(&mut self, within: Duration) -> u16 {
        loop {
            match self.next_event(within).await {
                Ok(_) => continue,
                Err(Ended::Closed(code)) => return code,
                Err(other) => panic!("unexpected end {other:?}"),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
        // Drain until the server's close reply, so `$disconnect` has been triggered.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(RECEIVE_TIMEOUT, self.stream.next()).await
        {
        }
    }

    async fn next_event(&mut self, within: Duration) -> Result<Value, Ended> {
        tokio::time::timeout(within, self.next_frame())
            .await
            .unwrap_or_else(|_| panic!("nothing arrived within {within:?}"))
    }

    /// The next text frame as JSON, or how the connection ended; waits as long as it takes.
    pub async fn next_frame(&mut self) -> Result<Value, Ended> {
        let text = self.next_text().await?;
        Ok(serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")))
    }

    /// The next text frame exactly as it arrived, or how the connection ended.
    pub async fn next_text(&mut self) -> Result<String, Ended> {
        loop {
            let next = self.stream.next().await;
            match next {
                Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_owned()),
                Some(Ok(Message::Close(frame))) => {
                    return Err(Ended::Closed(
                        frame.map_or(1005, |frame| u16::from(frame.code)),
                    ));
                }
                Some(Ok(_)) => continue,
                Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) | None => {
                    return Err(Ended::Closed(1006));
                }
                Some(Err(error)) => panic!("WebSocket error: {error}"),
            }
        }
    }
}
