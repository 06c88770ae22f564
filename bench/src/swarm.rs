//! WebSocket clients held through the emulator, each authenticated with its own token
//! (`auth_request`, answered by web), each reporting every frame it receives together with
//! the instant it arrived.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Every benchmark message body is this prefix and a number that identifies the message.
const BODY_TAG: &str = "bench-tag ";
/// Handshakes (each a `$connect` callback, then an `auth_request`) in progress at once.
const OPENING_AT_ONCE: usize = 256;
/// How long one client waits for its `auth_result`.
const AUTH_TIMEOUT: Duration = Duration::from_secs(60);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A `send_message` frame to `all_channel` whose body carries `tag`.
pub fn send_message_frame(token: &str, tag: u64) -> String {
    json!({
        "method": "send_message",
        "token": token,
        "channel": "all_channel",
        "body": format!("{BODY_TAG}{tag}"),
    })
    .to_string()
}

/// What a client saw.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// A broadcast (`"action":"send_message"`) of the message tagged `tag`.
    Delivered {
        client: usize,
        tag: u64,
        at: Instant,
    },
    /// The answer to a frame the client sent (`send_result`, …).
    Reply { success: bool },
    /// The connection ended; in a benchmark it never should.
    Closed { client: usize },
}

/// One client's outgoing frames, and its token.
#[derive(Clone)]
pub struct Sender {
    outgoing: mpsc::UnboundedSender<String>,
    pub token: String,
}

impl Sender {
    pub fn send(&self, frame: String) -> anyhow::Result<()> {
        self.outgoing
            .send(frame)
            .map_err(|_| anyhow::anyhow!("the client is gone"))
    }
}

pub struct Swarm {
    senders: Vec<Sender>,
    events: mpsc::UnboundedReceiver<Event>,
    tasks: Vec<JoinHandle<()>>,
}

impl Swarm {
    /// Opens one client per token on `url` with `origin`, each authenticated; fails unless
    /// every one is ready within `timeout`.
    pub async fn open(
        url: &str,
        origin: &str,
        tokens: Vec<String>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let needed = tokens.len() as u64 + 256;
        let limit = rlimit::increase_nofile_limit(needed).context("raising RLIMIT_NOFILE")?;
        if limit < needed {
            bail!(
                "{} clients need about {needed} open files; the hard limit is {limit} (ulimit -Hn)",
                tokens.len()
            );
        }
        let (events_tx, events) = mpsc::unbounded_channel();
        let opening = Arc::new(Semaphore::new(OPENING_AT_ONCE));
        let mut senders = Vec::with_capacity(tokens.len());
        let mut tasks = Vec::with_capacity(tokens.len());
        let mut ready = Vec::with_capacity(tokens.len());
        for (client, token) in tokens.into_iter().enumerate() {
            let (outgoing, outgoing_rx) = mpsc::unbounded_channel();
            let (ready_tx, ready_rx) = oneshot::channel();
            let link = Link {
                client,
                url: url.to_owned(),
                origin: origin.to_owned(),
                token: token.clone(),
                events: events_tx.clone(),
            };
            tasks.push(tokio::spawn(link.run(
                Arc::clone(&opening),
                outgoing_rx,
                ready_tx,
            )));
            senders.push(Sender { outgoing, token });
            ready.push(ready_rx);
        }
        let swarm = Self {
            senders,
            events,
            tasks,
        };
        let results = tokio::time::timeout(timeout, futures::future::join_all(ready))
            .await
            .with_context(|| format!("the clients were not all ready within {timeout:?}"))?;
        let failures: Vec<String> = results
            .into_iter()
            .filter_map(|result| match result {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(format!("{error:#}")),
                Err(_) => Some("client task ended".to_owned()),
            })
            .collect();
        if let Some(first) = failures.first() {
            bail!(
                "{} of {} clients failed to connect and authenticate; first: {first}",
                failures.len(),
                swarm.len()
            );
        }
        Ok(swarm)
    }

    pub fn len(&self) -> usize {
        self.senders.len()
    }

    pub fn sender(&self, client: usize) -> &Sender {
        &self.senders[client]
    }

    /// The next event, or `None` at `deadline`.
    pub async fn next_event(&mut self, deadline: Instant) -> Option<Event> {
        tokio::time::timeout_at(deadline, self.events.recv())
            .await
            .ok()
            .flatten()
    }

    /// Forgets events left over from an earlier measurement.
    pub fn drain(&mut self) -> usize {
        let mut drained = 0;
        while self.events.try_recv().is_ok() {
            drained += 1;
        }
        drained
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// One client's task: connect, authenticate, then relay frames both ways.
struct Link {
    client: usize,
    url: String,
    origin: String,
    token: String,
    events: mpsc::UnboundedSender<Event>,
}

impl Link {
    async fn run(
        self,
        opening: Arc<Semaphore>,
        mut outgoing: mpsc::UnboundedReceiver<String>,
        ready: oneshot::Sender<anyhow::Result<()>>,
    ) {
        let Ok(permit) = opening.acquire_owned().await else {
            return;
        };
        let opened = self.open().await;
        drop(permit);
        let ws = match opened {
            Ok(ws) => {
                let _ = ready.send(Ok(()));
                ws
            }
            Err(error) => {
                let _ = ready.send(Err(error));
                return;
            }
        };
        let (mut sink, mut stream) = ws.split();
        loop {
            tokio::select! {
                frame = outgoing.recv() => match frame {
                    Some(frame) => {
                        if sink.send(Message::text(frame)).await.is_err() {
                            break;
                        }
                    }
                    None => return,
                },
                received = stream.next() => match received {
                    Some(Ok(Message::Text(text))) => self.report(text.as_str(), Instant::now()),
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        let _ = self.events.send(Event::Closed {
            client: self.client,
        });
    }

    async fn open(&self) -> anyhow::Result<Ws> {
        let mut request = self.url.as_str().into_client_request()?;
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(&self.origin)?);
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0);
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
            .await
            .context("WebSocket handshake")?;
        let auth = json!({"method": "auth_request", "token": self.token}).to_string();
        ws.send(Message::text(auth)).await?;
        let deadline = Instant::now() + AUTH_TIMEOUT;
        loop {
            let frame = tokio::time::timeout_at(deadline, ws.next())
                .await
                .context("no auth_result in time")?
                .context("closed before auth_result")??;
            let Message::Text(text) = frame else { continue };
            let incoming: Incoming = serde_json::from_str(text.as_str())
                .with_context(|| format!("not JSON: {}", text.as_str()))?;
            if incoming.action.as_deref() == Some("auth_result") {
                if incoming.success {
                    return Ok(ws);
                }
                bail!("auth_request refused: {}", text.as_str());
            }
        }
    }

    fn report(&self, text: &str, at: Instant) {
        let Ok(incoming) = serde_json::from_str::<Incoming>(text) else {
            return;
        };
        let client = self.client;
        if incoming.action.as_deref() == Some("send_message") {
            for message in incoming.messages {
                if let Some(tag) = message
                    .body
                    .strip_prefix(BODY_TAG)
                    .and_then(|tag| tag.parse().ok())
                {
                    let _ = self.events.send(Event::Delivered { client, tag, at });
                }
            }
        } else {
            let _ = self.events.send(Event::Reply {
                success: incoming.success,
            });
        }
    }
}

/// The fields of a frame the benchmarks look at.
#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(borrow, default)]
    action: Option<Cow<'a, str>>,
    #[serde(default)]
    success: bool,
    #[serde(borrow, default)]
    messages: Vec<Pushed<'a>>,
}

#[derive(Deserialize)]
struct Pushed<'a> {
    #[serde(borrow)]
    body: Cow<'a, str>,
}
