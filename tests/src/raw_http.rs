//! HTTP/1.1 over a bare TCP stream, for what an HTTP client library will not send: broken
//! heads, stalls halfway, several large bodies on one kept-alive connection.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long any one read may take before a test fails.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// One answer: status, lower-cased head, body.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawAnswer {
    /// The body as JSON; panics unless the answer says `application/json` and is JSON.
    pub fn json(&self) -> Value {
        assert!(
            self.head.contains("\r\ncontent-type: application/json"),
            "not JSON: {}",
            self.head
        );
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&self.body)))
    }
}

pub struct RawConnection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl RawConnection {
    pub async fn open(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connects");
        Self {
            stream,
            buffer: Vec::new(),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("writes");
    }

    /// More bytes from the server; `false` at end of stream.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        let n = tokio::time::timeout(READ_TIMEOUT, self.stream.read(&mut chunk))
            .await
            .expect("the server answers in time")
            .expect("reads without a reset");
        self.buffer.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// The next answer (its body framed by `content-length`); `None` at end of stream.
    pub async fn answer(&mut self) -> Option<RawAnswer> {
        let head_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end;
            }
            if !self.fill().await {
                assert!(self.buffer.is_empty(), "cut off: {:?}", self.buffer);
                return None;
            }
        };
        let head = String::from_utf8_lossy(&self.buffer[..head_end]).to_ascii_lowercase();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {head}"));
        let length: usize = head
            .split("\r\n")
            .find_map(|line| line.strip_prefix("content-length: "))
            .map(|value| value.trim().parse().expect("a content length"))
            .unwrap_or(0);
        while self.buffer.len() < head_end + 4 + length {
            assert!(self.fill().await, "body cut off: {head}");
        }
        let body = self.buffer[head_end + 4..head_end + 4 + length].to_vec();
        self.buffer.drain(..head_end + 4 + length);
        Some(RawAnswer { status, head, body })
    }

    /// Waits for the server to close the connection, failing on any further bytes.
    pub async fn closed(&mut self) {
        assert!(!self.fill().await, "more bytes: {:?}", self.buffer);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
