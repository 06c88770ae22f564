//! What a reader needs to trust the figures: the machine, the build, the date, the commit.

use std::collections::HashMap;

use crate::options::Settings;

pub fn describe(settings: &Settings) -> Vec<String> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = read("/proc/meminfo")
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or("?".to_owned(), |kib| {
            format!("{:.0}", kib / 1024.0 / 1024.0)
        });
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    vec![
        format!(
            "machine: {cores} cores ({cpu}), {memory_gib} GiB; load average before: {}",
            load_average()
        ),
        format!(
            "date: {}",
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S %:z")
        ),
        format!("commit: {commit}; binaries: {profile} build"),
        format!(
            "sizes: {} fan-out clients, {} baseline clients, {} runs, callbacks {} s at concurrency {}, latency {} s at {} msg/s to {} clients{}",
            settings.connections,
            settings.baseline_connections,
            settings.runs,
            settings.callbacks_duration.as_secs(),
            settings.concurrency,
            settings.latency_duration.as_secs(),
            settings.rate,
            settings.latency_clients,
            if settings.tiny {
                " (--tiny: targets not judged)"
            } else {
                ""
            }
        ),
        format!(
            "logging of web and worker: RUST_LOG={}",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "unset (their default, info)".to_owned())
        ),
        match settings
            .builds
            .first()
            .and_then(|build| build.bin_dir.as_ref())
        {
            Some(dir) => format!(
                "builds: fan-out, callbacks and latency compare web and worker from {} \
                 (before) with these binaries (after)",
                dir.display()
            ),
            None => "builds: these binaries only (no --baseline-bin-dir)".to_owned(),
        },
    ]
}

/// The 1, 5 and 15 minute load averages: above 2 on this machine, something else competed.
pub fn load_average() -> String {
    let load = read("/proc/loadavg");
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// CPU time of the whole machine while a benchmark measures, split into this tool and the
/// processes it started, the shared servers (PostgreSQL, Redis), and everything else: a
/// build or a test run of someone else competing for the two cores makes figures low.
pub struct CpuWindow {
    start: Snapshot,
}

/// The CPU time of the machine and of every process at one instant.
pub(crate) struct Snapshot {
    pub(crate) machine_busy: u64,
    pub(crate) machine_total: u64,
    pub(crate) processes: HashMap<u32, ProcessCpu>,
}

impl CpuWindow {
    pub fn start() -> Self {
        Self {
            start: Snapshot::take(),
        }
    }

    /// `CPU while measuring: 95% busy — this tool and the processes it started 61%, …`.
    pub fn finish(&self) -> String {
        let end = Snapshot::take();
        let total = end
            .machine_total
            .saturating_sub(self.start.machine_total)
            .max(1) as f64;
        let busy = end.machine_busy.saturating_sub(self.start.machine_busy) as f64;
        let me = std::process::id();
        let (mut ours, mut servers) = (0u64, 0u64);
        for (pid, process) in &end.processes {
            let used = self.start.ticks_until(*pid, process);
            if descends_from(*pid, me, &end.processes) {
                ours += used;
            } else if process.name == "postgres" || process.name == "redis-server" {
                servers += used;
            }
        }
        let others = (busy - ours as f64 - servers as f64).max(0.0);
        let share = |part: f64| 100.0 * part / total;
        format!(
            "CPU while measuring: {:.0}% of the machine busy — this tool and the processes it \
             started {:.0}%, PostgreSQL and Redis {:.0}%, anything else {:.0}%",
            share(busy),
            share(ours as f64),
            share(servers as f64),
            share(others)
        )
    }
}

/// Whether `pid` is `ancestor` or one of its descendants (nginx's workers are children of
/// its master, which this tool started).
fn descends_from(pid: u32, ancestor: u32, processes: &HashMap<u32, ProcessCpu>) -> bool {
    let mut current = pid;
    // A few generations suffice; the bound also ends a cycle read across a pid reuse.
    for _ in 0..8 {
        if current == ancestor {
            return true;
        }
        match processes.get(&current) {
            Some(process) if process.parent != current => current = process.parent,
            _ => return false,
        }
    }
    false
}

impl Snapshot {
    /// The CPU ticks `process` (`pid` in a later snapshot) used since this one; all of its
    /// ticks when it started since, or when the pid now names another program.
    pub(crate) fn ticks_until(&self, pid: u32, process: &ProcessCpu) -> u64 {
        let before = self
            .processes
            .get(&pid)
            .filter(|earlier| earlier.name == process.name)
            .map_or(0, |earlier| earlier.ticks);
        process.ticks.saturating_sub(before)
    }

    pub(crate) fn take() -> Self {
        let stat = read("/proc/stat");
        let fields: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|n| n.parse().ok())
            .collect();
        let at = |index: usize| fields.get(index).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal
        let machine_busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
        let machine_total = machine_busy + at(3) + at(4);
        let processes = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(|pid| Some((pid, ProcessCpu::read(pid)?)))
            .collect();
        Self {
            machine_busy,
            machine_total,
            processes,
        }
    }
}

pub(crate) struct ProcessCpu {
    pub(crate) name: String,
    pub(crate) parent: u32,
    /// User and system time, in clock ticks (the unit of /proc/stat too).
    pub(crate) ticks: u64,
}

impl ProcessCpu {
    fn read(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let name = stat.get(open + 1..close)?.to_owned();
        // After the name: state, ppid, … with utime and stime the 12th and 13th.
        let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
        Some(Self {
            name,
            parent: rest.get(1)?.parse().ok()?,
            ticks: rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?,
        })
    }
}
