//! The programs of other projects that some benchmarks drive (pgbench, nginx, wrk): where
//! they are, and what to install when they are not.

use std::path::PathBuf;

/// `name` on `PATH`, or in the system directories a non-root `PATH` often lacks (Debian
/// puts nginx in /usr/sbin).
pub fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// [`find`], or an error that names the Debian package to install.
pub fn require(name: &str, package: &str) -> anyhow::Result<PathBuf> {
    find(name).ok_or_else(|| {
        anyhow::anyhow!(
            "{name} is not installed (Debian: apt-get install {package}; scripts/bench and \
             scripts/bench-smoke install it)"
        )
    })
}
