//! A raw Action Cable client in Rust: every frame visible, for the protocol's edges.
//! (The real `@rails/actioncable` consumer is [`node_cable`](crate::node_cable).)

use std::collections::VecDeque;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::ws_client::{Ended, RECEIVE_TIMEOUT};

pub const PROTOCOL: &str = "actioncable-v1-json";
/// The identifier `@rails/actioncable` sends for `{channel: "MessageChannel"}`.
pub const MESSAGE_CHANNEL: &str = r#"{"channel":"MessageChannel"}"#;

pub struct CableClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The subprotocol the server chose.
    pub protocol: Option<String>,
    /// Messages [`Self::recv_action`] passed over, for later reads of other actions: a
    /// broadcast can overtake the reply to the frame that caused it.
    skipped: VecDeque<Value>,
}

impl CableClient {
    /// Connects as a browser would: `Origin` and the subprotocols of `@rails/actioncable`.
    pub async fn connect(url: &str, origin: &str) -> Result<Self, Ended> {
        Self::connect_with(
            url,
            Some(origin),
            Some("actioncable-v1-json, actioncable-unsupported"),
        )
        .await
    }

    /// `origin` and `protocols` (the `Sec-WebSocket-Protocol` header) are left out when `None`.
    pub async fn connect_with(
        url: &str,
        origin: Option<&str>,
        protocols: Option<&str>,
    ) -> Result<Self, Ended> {
        let mut request = url.into_client_request().expect("a WebSocket URL");
        let headers = request.headers_mut();
        if let Some(origin) = origin {
            headers.insert("origin", HeaderValue::from_str(origin).expect("an origin"));
        }
        if let Some(protocols) = protocols {
            headers.insert(
                "sec-websocket-protocol",
                HeaderValue::from_str(protocols).expect("protocols"),
            );
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, response)) => Ok(Self {
                stream,
                skipped: VecDeque::new(),
                protocol: response
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned),
            }),
            Err(WsError::Http(response)) => Err(Ended::Refused(response.status().as_u16())),
            Err(error) => panic!("cannot connect to {url}: {error}"),
        }
    }

    /// Connects and waits for the welcome.
    pub async fn welcomed(url: &str, origin: &str) -> Self {
        let mut client = Self::connect(url, origin).await.expect("connects");
        assert_eq!(client.recv().await, json!({"type": "welcome"}));
        client
    }

    /// Welcomed, subscribed to `MessageChannel` and authenticated with `token`: streaming.
    pub async fn joined(url: &str, origin: &str, token: &str) -> Self {
        let mut client = Self::welcomed(url, origin).await;
        client.subscribe().await;
        let reply = client
            .request("auth_request", json!({"token": token}), "auth_result")
            .await;
        assert_eq!(reply["success"], true, "auth_request: {reply}");
        client
    }

    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.stream
            .send(Message::text(text.into()))
            .await
            .expect("the frame is sent");
    }

    pub async fn command(&mut self, command: &str, identifier: &str) {
        let frame = json!({"command": command, "identifier": identifier});
        self.send_text(frame.to_string()).await;
    }

    /// `perform(action, fields)` as the JS client sends it: `data` is JSON in a string.
    pub async fn perform(&mut self, identifier: &str, action: &str, fields: Value) {
        let mut data = fields;
        data["action"] = json!(action);
        let frame =
            json!({"command": "message", "identifier": identifier, "data": data.to_string()});
        self.send_text(frame.to_string()).await;
    }

    /// Subscribes to `MessageChannel` and waits for the confirmation.
    pub async fn subscribe(&mut self) {
        self.command("subscribe", MESSAGE_CHANNEL).await;
        let confirm = self.recv_type("confirm_subscription").await;
        assert_eq!(confirm["identifier"], MESSAGE_CHANNEL);
    }

    /// The next frame that is not a ping.
    pub async fn recv(&mut self) -> Value {
        loop {
            let frame = self.recv_any().await;
            if frame["type"] != "ping" {
                return frame;
            }
        }
    }

    /// The next frame that is not a ping, however long it takes; `None` once the connection
    /// ended (for clients that outlive the server they listen to).
    pub async fn next_message(&mut self) -> Option<Value> {
        loop {
            match self.next_frame().await {
                Ok(frame) if frame["type"] == "ping" => continue,
                Ok(frame) => return Some(frame),
                Err(_) => return None,
            }
        }
    }

    /// The next frame, pings included; panics on close or after the timeout.
    pub async fn recv_any(&mut self) -> Value {
        match self.next_event(RECEIVE_TIMEOUT).await {
            Ok(frame) => frame,
            Err(ended) => panic!("expected a frame, the connection ended: {ended:?}"),
        }
    }

    /// The next frame of `type`, skipping others.
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.recv_any().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// The next message (`{"identifier","message"}`) whose `message.action` is `action`.
    pub async fn recv_action(&mut self, action: &str) -> Value {
        let matches = |frame: &Value| frame["message"]["action"] == action;
        if let Some(index) = self.skipped.iter().position(matches) {
            return self
                .skipped
                .remove(index)
                .expect("the position is in the queue");
        }
        loop {
            let frame = self.recv().await;
            if matches(&frame) {
                return frame;
            }
            if frame.get("message").is_some() {
                self.skipped.push_back(frame);
            }
        }
    }

    /// Performs `action` on `MessageChannel` and returns the `message` of its reply.
    pub async fn request(&mut self, action: &str, fields: Value, reply_action: &str) -> Value {
        self.perform(MESSAGE_CHANNEL, action, fields).await;
        let reply = self.recv_action(reply_action).await;
        assert_eq!(reply["identifier"], MESSAGE_CHANNEL);
        reply["message"].clone()
    }

    /// Waits for the server to close; its close code (1006 without a close frame), and the
    /// frames that came before it.
    pub async fn closed(&mut self, within: Duration) -> (u16, Vec<Value>) {
        let mut frames = Vec::new();
        loop {
            match self.next_event(within).await {
                Ok(frame) => frames.push(frame),
                Err(Ended::Closed(code)) => return (code, frames),
                Err(other) => panic!("unexpected end {other:?}"),
            }
        }
    }

    /// What arrives within `within`, until then (the connection must stay open).
    pub async fn frames_within(&mut self, within: Duration) -> Vec<Value> {
        let mut frames = Vec::new();
        let deadline = tokio::time::Instant::now() + within;
        while let Ok(event) = tokio::time::timeout_at(deadline, self.next_frame()).await {
            match event {
                Ok(frame) => frames.push(frame),
                Err(ended) => panic!("the connection ended: {ended:?}"),
            }
        }
        frames
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
        while let Ok(Some(Ok(_))) = tokio::time::timeout(RECEIVE_TIMEOUT, self.stream.next()).await
        {
        }
    }

    async fn next_event(&mut self, within: Duration) -> Result<Value, Ended> {
        tokio::time::timeout(within, self.next_frame())
            .await
            .unwrap_or_else(|_| panic!("nothing arrived within {within:?}"))
    }

    async fn next_frame(&mut self) -> Result<Value, Ended> {
        loop {
            match self.stream.next().await {
                Some(Ok(Message::Text(text))) => {
                    return Ok(
                        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
                    );
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(Ended::Closed(
                        frame.map_or(1005, |frame| u16::from(frame.code)),
                    ));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(Ended::Closed(1006)),
            }
        }
    }
}
