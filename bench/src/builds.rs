//! Which build of `web` and `worker` a stack runs: the current one (the binaries beside this
//! executable), or a baseline's (`--baseline-bin-dir`), so that a change is measured before
//! and after in one run, on the same machine in the same minutes.
//!
//! Only `web` and `worker` come from the baseline: the schema is prepared by the current
//! `migration` (schemas are compatible), and `gateway-emulator` is the measuring apparatus,
//! the same for both.

use std::future::Future;
use std::path::{Path, PathBuf};

use crate::report::Report;

/// The binaries a baseline directory must hold.
const BASELINE_BINARIES: [&str; 2] = ["web", "worker"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// `before` or `after` in a comparison, `current` otherwise.
    pub label: &'static str,
    /// Where `web` and `worker` come from; `None`: the current binaries.
    pub bin_dir: Option<PathBuf>,
}

impl Build {
    pub fn current() -> Self {
        Self {
            label: "current",
            bin_dir: None,
        }
    }

    /// The builds one benchmark measures, in the order their runs alternate: the baseline
    /// first, then the current binaries; or only the current ones.
    pub fn all(baseline_bin_dir: Option<&Path>) -> Vec<Self> {
        match baseline_bin_dir {
            None => vec![Self::current()],
            Some(dir) => vec![
                Self {
                    label: "before",
                    bin_dir: Some(dir.to_path_buf()),
                },
                Self {
                    label: "after",
                    bin_dir: None,
                },
            ],
        }
    }

    /// Runs `future` (a spawn of `web` or `worker`) with this build's binaries.
    pub async fn scoped<F: Future>(&self, future: F) -> F::Output {
        match &self.bin_dir {
            Some(dir) => e2e::binaries::with_bin_dir(dir.clone(), future).await,
            None => future.await,
        }
    }
}

/// Fails early, with the path, when the baseline directory lacks a binary.
pub fn check_baseline_dir(dir: &Path) -> anyhow::Result<()> {
    for name in BASELINE_BINARIES {
        let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        anyhow::ensure!(
            path.is_file(),
            "--baseline-bin-dir: {} is missing",
            path.display()
        );
    }
    Ok(())
}

/// One report per build (as [`Build::all`] ordered them) as one table: the baseline's
/// figures beside the current ones, with their ratio.
pub fn merged(mut reports: Vec<Report>, builds: &[Build]) -> Report {
    if reports.len() < 2 {
        return reports.pop().unwrap_or_default();
    }
    let after = reports.pop().expect("two reports");
    let before = reports.pop().expect("two reports");
    let mut merged = Report::compare(&before, after);
    if let Some(dir) = builds.first().and_then(|build| build.bin_dir.as_ref()) {
        merged.setting(format!(
            "before: web and worker from {}; after: the binaries beside this tool; their runs \
             alternate (before, after, before, …); migration and gateway-emulator are the \
             current ones for both",
            dir.display()
        ));
    }
    merged
}
