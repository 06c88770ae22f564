//! Headless Chromium, driven by `playwright-core` in Node (`tests/node/browser.js`) over JSON
//! lines: pages are opened, filled in and clicked as a person would, by label and role.
//!
//! Chromium is Debian's `chromium` (`CHROMIUM` overrides the path). A missing browser fails
//! the test with what to install; it is never skipped silently.
//!
//! Host names map to local ports inside Chromium (`--host-resolver-rules`), so a page can
//! live at an origin a test's `web` allows (`http://allowed.example`) whatever port web got.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::node_cable::ensure_installed;

/// A command's longest wait: page loads and text that waits for a broadcast.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The browser executable: `CHROMIUM`, else `chromium` on `PATH`.
pub fn chromium_path() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("chromium"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromium is not installed: the browser tests need Debian's chromium \
                 (apt-get install -y --no-install-recommends chromium), or CHROMIUM=<path>"
            )
        })
}

/// Where screenshots go: `<target dir>/screenshots/`, created on first use.
pub fn screenshot_path(name: &str) -> PathBuf {
    let dir = crate::binaries::target_dir().join("screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshots directory");
    dir.join(name)
}

pub struct Browser {
    child: Child,
    stdin: ChildStdin,
    replies: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

impl Browser {
    /// Launches Chromium with `host_map` (host → `127.0.0.1:port`) applied to every request.
    pub async fn launch(host_map: &HashMap<String, String>) -> Self {
        let chromium = chromium_path();
        let dir = ensure_installed();
        let mut child = Command::new("node")
            .arg(dir.join("browser.js"))
            .arg(&chromium)
            .arg(serde_json::to_string(host_map).expect("a host map encodes"))
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut replies = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = tokio::time::timeout(COMMAND_TIMEOUT, replies.next_line())
            .await
            .expect("chromium starts in time")
            .expect("the driver's output is readable")
            .expect("the driver printed its readiness");
        let ready: Value = serde_json::from_str(&first).expect("the readiness line is JSON");
        assert_eq!(
            ready["ready"],
            true,
            "chromium ({}) did not start: {}",
            chromium.display(),
            ready["error"]
        );
        Self {
            child,
            stdin,
            replies,
            next_id: 0,
        }
    }

    /// Runs one command (see `browser.js`) and returns its result; panics with the
    /// driver's error when it failed.
    pub async fn run(&mut self, mut command: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        command["id"] = json!(id);
        let line = format!("{command}\n");
        self.stdin
            .write_all(line.as_bytes())
            .await
            .expect("the driver reads its commands");
        let reply = tokio::time::timeout(COMMAND_TIMEOUT, self.replies.next_line())
            .await
            .unwrap_or_else(|_| panic!("no answer to {command} within {COMMAND_TIMEOUT:?}"))
            .expect("the driver's output is readable")
            .unwrap_or_else(|| panic!("the driver exited during {command}"));
        let reply: Value = serde_json::from_str(&reply).expect("replies are JSON");
        assert_eq!(reply["id"], id, "{reply}");
        assert_eq!(reply["ok"], true, "{command} failed: {}", reply["error"]);
        reply["result"].clone()
    }

    /// Opens `url` in a new page of its own context (`credentials`: HTTP basic auth).
    /// Returns the HTTP status.
    pub async fn open(&mut self, page: &str, url: &str, credentials: Option<(&str, &str)>) -> u16 {
        let credentials = credentials
            .map(|(username, password)| json!({"username": username, "password": password}));
        let status = self
            .run(json!({"cmd": "open", "page": page, "url": url, "credentials": credentials}))
            .await;
        status.as_u64().expect("a status") as u16
    }

    pub async fn goto(&mut self, page: &str, url: &str) -> u16 {
        let status = self
            .run(json!({"cmd": "goto", "page": page, "url": url}))
            .await;
        status.as_u64().expect("a status") as u16
    }

    pub async fn fill(&mut self, page: &str, label: &str, value: &str) {
        self.run(json!({"cmd": "fill", "page": page, "label": label, "value": value}))
            .await;
    }

    pub async fn select(&mut self, page: &str, label: &str, option: &str) {
        self.run(json!({"cmd": "select", "page": page, "label": label, "option": option}))
            .await;
    }

    /// Clicks the element of `role` named `name` (e.g. the button "Join"), inside the
    /// element `within` matches when given.
    pub async fn click(&mut self, page: &str, role: &str, name: &str, within: Option<&str>) {
        self.run(
            json!({"cmd": "click", "page": page, "role": role, "name": name, "within": within}),
        )
        .await;
    }

    /// Waits until an element matching `selector` contains `text`.
    pub async fn wait_text(&mut self, page: &str, selector: &str, text: &str) {
        self.run(json!({"cmd": "wait_text", "page": page, "selector": selector, "text": text, "timeout_ms": 45_000}))
            .await;
    }

    /// Loads `url` again and again until the first element matching `selector` shows
    /// exactly `text` (a page rendered on the server shows news only when reloaded).
    pub async fn reload_until(&mut self, page: &str, url: &str, selector: &str, text: &str) {
        self.run(json!({"cmd": "reload_until", "page": page, "url": url, "selector": selector, "text": text, "timeout_ms": 45_000}))
            .await;
    }

    /// The visible text of the first element matching `selector`, if any.
    pub async fn text(&mut self, page: &str, selector: &str) -> Option<String> {
        self.run(json!({"cmd": "text", "page": page, "selector": selector}))
            .await
            .as_str()
            .map(str::to_owned)
    }

    pub async fn count(&mut self, page: &str, selector: &str) -> u64 {
        self.run(json!({"cmd": "count", "page": page, "selector": selector}))
            .await
            .as_u64()
            .expect("a count")
    }

    /// Writes a full-page PNG to `path` and prints where it is.
    pub async fn screenshot(&mut self, page: &str, path: &Path) {
        self.run(json!({"cmd": "screenshot", "page": page, "path": path}))
            .await;
        println!("screenshot of {page}: {}", path.display());
    }

    /// What the page logged to its console, and its uncaught errors.
    pub async fn console(&mut self, page: &str) -> Vec<String> {
        serde_json::from_value(self.run(json!({"cmd": "console", "page": page})).await)
            .expect("console lines")
    }

    pub async fn close(mut self) {
        drop(self.stdin);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}
