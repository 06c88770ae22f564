//! The workspace's binaries (`web`, `migration`, later `worker` and `gateway-emulator`).
//!
//! Cargo sets `CARGO_BIN_EXE_<name>` only for binaries of the test's own package, so the
//! harness builds them itself, once per test process: `cargo build --bins --workspace` into
//! the target directory and profile this test executable was built in, which keeps
//! `cargo test --workspace` working on a clean clone. When the workspace-wide build fails
//! (say, another crate is half-edited), the one binary asked for is built on its own, so
//! tests of `web` do not depend on the worker compiling.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Where this test executable's target directory and profile are.
#[derive(Debug, Clone)]
struct Layout {
    target_dir: PathBuf,
    /// `debug` for the dev profile, else the profile's name (`release`, ...).
    profile_dir: String,
}

static WORKSPACE_BUILD: OnceLock<Result<(), String>> = OnceLock::new();
static SINGLE_BUILDS: OnceLock<Mutex<HashMap<String, Result<(), String>>>> = OnceLock::new();

/// A directory that already holds the binaries (`WSGW_BIN_DIR`, or [`use_bin_dir`], or
/// [`with_bin_dir`] for one scope): they are taken from there and never built. The `bench`
/// tool sets it to its own directory.
static BIN_DIR: OnceLock<PathBuf> = OnceLock::new();

/// Takes every binary from `dir` instead of building it (first call wins).
pub fn use_bin_dir(dir: PathBuf) {
    let _ = BIN_DIR.set(dir);
}

tokio::task_local! {
    /// The directory of [`with_bin_dir`], for the task that runs inside it.
    static SCOPED_BIN_DIR: PathBuf;
}

/// Runs `future` with every binary it spawns taken from `dir`, over [`use_bin_dir`] and
/// `WSGW_BIN_DIR`: the `bench` tool runs an older build's `web` and `worker` beside the
/// current ones in one process. Tasks that `future` spawns do not inherit the directory.
pub async fn with_bin_dir<F: std::future::Future>(dir: PathBuf, future: F) -> F::Output {
    SCOPED_BIN_DIR.scope(dir, future).await
}

/// The target directory the tests were built in: where screenshots are written, and a home
/// for tools the tests install (see [`crate::schemathesis`]), kept between runs like the build.
pub fn target_dir() -> PathBuf {
    layout().target_dir
}

/// The path of the workspace binary `name`, built on first use. Panics with cargo's output
/// when it cannot be built.
pub fn binary(name: &str) -> PathBuf {
    let fixed = SCOPED_BIN_DIR
        .try_with(PathBuf::clone)
        .ok()
        .or_else(|| BIN_DIR.get().cloned())
        .or_else(|| std::env::var_os("WSGW_BIN_DIR").map(PathBuf::from));
    if let Some(dir) = fixed {
        let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        assert!(path.exists(), "{} is missing", path.display());
        return path;
    }
    let layout = layout();
    let path = layout
        .target_dir
        .join(&layout.profile_dir)
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if WORKSPACE_BUILD
        .get_or_init(|| cargo_build(&layout, &["--bins", "--workspace"]))
        .is_ok()
        && path.exists()
    {
        return path;
    }
    let mut single = SINGLE_BUILDS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let built = single
        .entry(name.to_owned())
        .or_insert_with(|| cargo_build(&layout, &["--workspace", "--bin", name]));
    if let Err(error) = built {
        panic!("cannot build the `{name}` binary: {error}");
    }
    assert!(
        path.exists(),
        "cargo built `{name}` but {} is missing",
        path.display()
    );
    path
}

fn layout() -> Layout {
    // …/<target>/<profile>/deps/e2e-<hash>; with `--target <triple>`: …/<target>/<triple>/<profile>/deps/…
    let exe = std::env::current_exe().expect("the test executable has a path");
    let deps = exe.parent().expect("the test executable is in deps/");
    let profile = deps.parent().expect("deps/ is in a profile directory");
    let profile_dir = profile
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("debug")
        .to_owned();
    // Cargo tags the root of every target directory with CACHEDIR.TAG.
    let target_dir = profile
        .ancestors()
        .skip(1)
        .find(|dir| dir.join("CACHEDIR.TAG").exists())
        .or_else(|| profile.parent())
        .expect("the profile directory is in a target directory")
        .to_path_buf();
    Layout {
        target_dir,
        profile_dir,
    }
}

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the workspace")
}

fn set_by_cargo_for_this_package(name: &str) -> bool {
    const EXACT: [&str; 8] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_BIN_NAME",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    EXACT.contains(&name) || name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_BIN_EXE_")
}

fn cargo_build(layout: &Layout, selection: &[&str]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO")
        .or_else(|| option_env!("CARGO").map(Into::into))
        .unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    // Cargo gives this test process the variables of *its* package (CARGO_MANIFEST_DIR,
    // CARGO_PKG_*, …). Passed on, they reach every build script of the nested build, and
    // those that watch them (ring's does) rerun: the next `cargo test` then rebuilds ~26
    // crates. Without them, the nested build sees what a plain `cargo build` sees.
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_for_this_package) {
            command.env_remove(&name);
        }
    }
    command
        .current_dir(workspace_root())
        .arg("build")
        .args(selection)
        .arg("--target-dir")
        .arg(&layout.target_dir);
    match layout.profile_dir.as_str() {
        "debug" => {}
        profile => {
            command.args(["--profile", profile]);
        }
    }
    let output = command
        .output()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(60).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "`cargo build {}` failed ({}):\n{}",
        selection.join(" "),
        output.status,
        tail.join("\n")
    ))
}
