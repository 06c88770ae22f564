//! A PostgreSQL server of one test, in a temporary directory and on a port of its own, that
//! the test can stop and start while the shared server keeps serving the tests beside it.
//!
//! PostgreSQL refuses to run as root, so when the tests run as root the server runs as the
//! `postgres` user (through `runuser`). The binaries are found in `TEST_POSTGRES_BIN_DIR`,
//! else the newest `/usr/lib/postgresql/<version>/bin` (Debian, Ubuntu), else on `PATH`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

pub struct PostgresServer {
    port: u16,
    bin_dir: Option<PathBuf>,
    /// Holds the cluster (`data/`), its socket and its log; removed on drop.
    dir: tempfile::TempDir,
    running: bool,
}

impl PostgresServer {
    /// A new cluster (trust authentication, superuser `postgres`), started.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::Builder::new()
            .prefix("wsgw-pg-")
            .tempdir()
            .expect("a temporary directory");
        let mut server = Self {
            port,
            bin_dir: bin_dir(),
            dir,
            running: false,
        };
        if running_as_root() {
            let chowned = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(server.dir.path())
                .status()
                .expect("chown runs");
            assert!(chowned.success(), "cannot hand the cluster to postgres");
        }
        let data = server.data_dir();
        server
            .run(
                "initdb",
                &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
            )
            .await;
        server.resume().await;
        server
    }

    /// A URL of the `postgres` database, for creating test databases.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server: `fast` ends every session at once, as an outage does.
    pub async fn stop(&mut self) {
        let data = self.data_dir();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"])
            .await;
        self.running = false;
    }

    /// Starts the stopped server again, on the same port; returns once it accepts connections.
    pub async fn resume(&mut self) {
        let (data, log) = (self.data_dir(), self.path("server.log"));
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &options, "-w", "start"],
        )
        .await;
        self.running = true;
    }

    fn data_dir(&self) -> String {
        self.path("data")
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// `program` of the server's binaries, run as the user the server runs as.
    fn command(&self, program: &str) -> std::process::Command {
        let program = match &self.bin_dir {
            Some(dir) => dir.join(program),
            None => PathBuf::from(program),
        };
        let mut command = if running_as_root() {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            std::process::Command::new(program)
        };
        command.current_dir(self.dir.path()).stdin(Stdio::null());
        command
    }

    async fn run(&self, program: &str, args: &[&str]) {
        let mut command = Command::from(self.command(program));
        let output = command
            .args(args)
            .kill_on_drop(true)
            .output()
            .await
            .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed:\n{}\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.path("server.log")).unwrap_or_default()
        );
    }
}

impl Drop for PostgresServer {
    /// Stops a server still running, at once; the directory goes with `dir`.
    fn drop(&mut self) {
        if !self.running {
            return;
        }
        let mut command = self.command("pg_ctl");
        let _ = command
            .args(["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TEST_POSTGRES_BIN_DIR") {
        return Some(PathBuf::from(dir));
    }
    let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    versions
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            Path::new(&bin)
                .join("initdb")
                .exists()
                .then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
}
