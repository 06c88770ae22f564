//! A spawned binary of the workspace: clean environment, readiness line, drained output.
//!
//! The environment is cleared, then only `PATH` and the debugging variables below pass
//! through, so a variable set in the developer's shell never changes what a test sees.
//! The output is read all the time (a full pipe would block the child) and its last lines
//! are kept: they are printed when the test fails, and by [`Service::logs`] on demand. Every
//! line also goes to a transcript file in the process's working directory (the test's
//! scratch directory), for tests that look at all of it ([`Logs::transcript`]).

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// How long a binary gets to print its readiness line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long dropping a service waits for the killed process to be gone.
const KILL_TIMEOUT: Duration = Duration::from_secs(5);
/// How many output lines are kept for failure reports.
const KEPT_LINES: usize = 200;
/// Variables of the developer's shell that still reach spawned binaries.
const PASSED_THROUGH: [&str; 3] = ["PATH", "RUST_LOG", "RUST_BACKTRACE"];

/// A command for a workspace binary with a clean environment, run in `cwd`.
pub fn clean_command(binary: &Path, cwd: &Path) -> Command {
    let mut command = Command::new(binary);
    command.env_clear().current_dir(cwd);
    for name in PASSED_THROUGH {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command
}

/// The last lines a process wrote, stdout and stderr interleaved as they arrived, and the
/// file that holds all of them.
#[derive(Clone, Default)]
pub struct Logs {
    last: Arc<Mutex<VecDeque<String>>>,
    transcript: Option<Arc<Mutex<(PathBuf, File)>>>,
}

impl Logs {
    /// Keeps every line in a new file in `dir` too.
    fn with_transcript_in(dir: &Path, name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{name}-{n}.log"));
        let file = File::create(&path)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", path.display()));
        Self {
            last: Arc::default(),
            transcript: Some(Arc::new(Mutex::new((path, file)))),
        }
    }

    fn push(&self, line: String) {
        if let Some(transcript) = &self.transcript {
            let mut transcript = transcript
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let _ = writeln!(transcript.1, "{line}");
        }
        let mut lines = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if lines.len() == KEPT_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    pub fn text(&self) -> String {
        let lines = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Every line so far (the transcript), or the last lines when there is no transcript.
    pub fn transcript(&self) -> String {
        let Some(transcript) = &self.transcript else {
            return self.text();
        };
        let transcript = transcript
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::fs::read_to_string(&transcript.0).expect("the transcript is readable")
    }
}

/// A running binary; killed when dropped.
pub struct Service {
    name: String,
    child: Child,
    logs: Logs,
}

impl Service {
    /// Spawns `command` and waits until a stdout line makes `ready` return `Some`, which is
    /// returned with the service (for example the address it listens on). Panics with the
    /// output when the process exits first or `READY_TIMEOUT` passes.
    pub async fn start<T>(
        name: &str,
        command: Command,
        ready: impl Fn(&str) -> Option<T>,
    ) -> (Self, T) {
        let (service, mut stdout_rx) = Self::spawn_with_stdout(name, command);
        let found = tokio::time::timeout(READY_TIMEOUT, async {
            while let Some(line) = stdout_rx.recv().await {
                if let Some(found) = ready(&line) {
                    return Some(found);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(found)) => (service, found),
            Ok(None) => service.fail("exited before it was ready"),
            Err(_) => service.fail(&format!("was not ready within {READY_TIMEOUT:?}")),
        }
    }

    /// Spawns `command` without waiting for anything: for a binary that is expected to
    /// wait (say, for a database that is down). Watch it through [`Service::logs`].
    pub fn spawn(name: &str, command: Command) -> Self {
        Self::spawn_with_stdout(name, command).0
    }

    fn spawn_with_stdout(
        name: &str,
        mut command: Command,
    ) -> (Self, mpsc::UnboundedReceiver<String>) {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot spawn {name}: {error}"));
        let logs = match command.as_std().get_current_dir() {
            Some(dir) => Logs::with_transcript_in(dir, name),
            None => Logs::default(),
        };
        let (stdout_tx, stdout_rx) = mpsc::unbounded_channel();
        drain(child.stdout.take(), "out", logs.clone(), Some(stdout_tx));
        drain(child.stderr.take(), "err", logs.clone(), None);
        let service = Self {
            name: name.to_owned(),
            child,
            logs,
        };
        (service, stdout_rx)
    }

    fn fail(mut self, why: &str) -> ! {
        let status = self.child.try_wait().ok().flatten();
        // Dropping `self` while unwinding prints the output.
        panic!("{} {why} (exit status {status:?})", self.name);
    }

    pub fn logs(&self) -> &Logs {
        &self.logs
    }

    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Sends `signal` (`TERM`, `INT`, `KILL`, …) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self
            .id()
            .unwrap_or_else(|| panic!("{} is not running", self.name));
        let status = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// The process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the process to exit on its own.
    pub async fn wait(&mut self) -> std::process::ExitStatus {
        self.child
            .wait()
            .await
            .expect("the child can be waited for")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- last output of {} ----\n{}\n----",
                self.name,
                self.logs.text()
            );
        }
        let _ = self.child.start_kill();
        // Reap it before the test's database and Redis namespace are cleaned up, so a
        // dying process cannot write behind the cleanup. Drop cannot await: poll briefly.
        let deadline = std::time::Instant::now() + KILL_TIMEOUT;
        while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn drain(
    stream: Option<impl AsyncRead + Unpin + Send + 'static>,
    tag: &'static str,
    logs: Logs,
    lines_tx: Option<mpsc::UnboundedSender<String>>,
) {
    let Some(stream) = stream else { return };
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            logs.push(format!("[{tag}] {line}"));
            if let Some(tx) = &lines_tx {
                let _ = tx.send(line);
            }
        }
    });
}

/// What a binary printed before it exited on its own.
#[derive(Debug)]
pub struct Finished {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` with `args` to completion, within `timeout`.
pub async fn run_to_exit(
    mut command: Command,
    args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    timeout: Duration,
) -> Finished {
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    let output = tokio::time::timeout(timeout, command.output())
        .await
        .unwrap_or_else(|_| panic!("{command:?} did not exit within {timeout:?}"))
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    Finished {
        success: output.status.success(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
