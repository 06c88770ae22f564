//! The stock `@rails/actioncable` consumer, run by Node (`tests/node/cable_client.js`, with
//! the `ws` package as its WebSocket) and driven over JSON lines.
//!
//! The npm packages are installed into `tests/node` on first use (`npm ci`, from the
//! committed lock file) when `node_modules` lacks them; `node` and `npm` must be on `PATH`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use crate::ws_client::RECEIVE_TIMEOUT;

/// The script's directory, with its `package.json`.
fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// Installs the npm packages once per test process, unless they are there.
pub(crate) fn ensure_installed() -> PathBuf {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let dir = node_dir();
    let mut installed = INSTALLED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let present = ["@rails/actioncable", "ws", "playwright-core"]
        .iter()
        .all(|package| {
            dir.join("node_modules")
                .join(package)
                .join("package.json")
                .exists()
        });
    if !*installed && !present {
        let output = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .expect("npm runs (Node 20 and npm must be installed)");
        assert!(
            output.status.success(),
            "npm ci in {} failed:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    *installed = true;
    dir
}

/// One Node process holding one Action Cable consumer.
pub struct NodeCable {
    child: Child,
    stdin: ChildStdin,
    events: mpsc::UnboundedReceiver<Value>,
    /// `received` data that [`Self::received`] passed over, for later reads.
    skipped: VecDeque<Value>,
}

impl NodeCable {
    /// Starts a consumer of `url` (`ws://…/cable`) whose WebSocket sends `origin`.
    pub fn spawn(url: &str, origin: &str) -> Self {
        let dir = ensure_installed();
        let mut child = Command::new("node")
            .arg(dir.join("cable_client.js"))
            .args([url, origin])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let event = serde_json::from_str(&line)
                    .unwrap_or_else(|_| json!({"event": "stdout", "line": line}));
                if sender.send(event).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            events,
            skipped: VecDeque::new(),
        }
    }

    pub async fn send(&mut self, command: Value) {
        let line = format!("{command}\n");
        self.stdin
            .write_all(line.as_bytes())
            .await
            .expect("the script reads its commands");
    }

    /// `consumer.subscriptions.create({channel: "MessageChannel"}, …)`.
    pub async fn subscribe(&mut self) {
        self.send(json!({"cmd": "subscribe", "identifier": {"channel": "MessageChannel"}}))
            .await;
    }

    /// `subscription.perform(action, fields)`.
    pub async fn perform(&mut self, action: &str, fields: Value) {
        self.send(json!({"cmd": "perform", "action": action, "data": fields}))
            .await;
    }

    /// The next event, whatever it is.
    pub async fn next_event(&mut self, within: Duration) -> Option<Value> {
        tokio::time::timeout(within, self.events.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next event named `name`, skipping others; panics after the receive timeout.
    pub async fn event(&mut self, name: &str) -> Value {
        self.event_within(name, RECEIVE_TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("no {name} event within {RECEIVE_TIMEOUT:?}"))
    }

    pub async fn event_within(&mut self, name: &str, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .ok()??;
            if let Some(error) = event.get("event").filter(|kind| *kind == "error") {
                panic!("the script failed a command: {error} {event}");
            }
            if event["event"] == name {
                return Some(event);
            }
        }
    }

    /// The next `received` data whose `action` is `action`.
    pub async fn received(&mut self, action: &str) -> Value {
        if let Some(index) = self
            .skipped
            .iter()
            .position(|data| data["action"] == action)
        {
            return self
                .skipped
                .remove(index)
                .expect("the position is in the queue");
        }
        loop {
            let event = self.event("received").await;
            if event["data"]["action"] == action {
                return event["data"].clone();
            }
            // A broadcast can overtake the reply to the frame that caused it.
            self.skipped.push_back(event["data"].clone());
        }
    }

    /// Performs `action` and returns its reply (the `received` data of `reply_action`).
    pub async fn request(&mut self, action: &str, fields: Value, reply_action: &str) -> Value {
        self.perform(action, fields).await;
        self.received(reply_action).await
    }

    /// Subscribes, waits for the confirmation and authenticates with `token`.
    pub async fn join(&mut self, token: &str) {
        self.subscribe().await;
        self.event("connected").await;
        let reply = self
            .request("auth_request", json!({"token": token}), "auth_result")
            .await;
        assert_eq!(reply["success"], true, "{reply}");
    }

    /// Stops the script.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
