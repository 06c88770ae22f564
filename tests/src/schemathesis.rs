//! [schemathesis](https://pypi.org/project/schemathesis/), which fuzzes an API from its
//! OpenAPI document, run from a Python venv.
//!
//! The venv is `<target dir>/python/schemathesis-<version>`, created on first use with
//! `python3 -m venv` and `pip install schemathesis==<version>` (CI's `.ci/run` does the same
//! up front, so a registry problem fails early); it is kept between runs like the build.
//! `python3` with the `venv` module must be installed.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// The version the tests were written against; a new one may add checks or change flags.
pub const VERSION: &str = "4.32.5";

/// The venv's directory.
pub fn venv_dir() -> PathBuf {
    crate::binaries::target_dir()
        .join("python")
        .join(format!("schemathesis-{VERSION}"))
}

/// The `schemathesis` executable, installed once per test process unless it is there.
pub fn executable() -> PathBuf {
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _guard = INSTALLING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let venv = venv_dir();
    let executable = venv.join("bin").join("schemathesis");
    if executable.exists() {
        return executable;
    }
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
    run(Command::new(venv.join("bin").join("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("schemathesis=={VERSION}"),
    ]));
    assert!(
        executable.exists(),
        "{} after pip install",
        executable.display()
    );
    executable
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?} (python3 installed?): {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
