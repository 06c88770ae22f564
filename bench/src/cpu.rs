//! CPU per unit of work: the user and system time each process spent over a measured window
//! (`utime + stime` of `/proc/<pid>/stat`), by role, divided by the posts or requests made in
//! it, so a table says what one post cost the worker and what it cost everything around it.

use std::sync::OnceLock;

use crate::machine::{ProcessCpu, Snapshot};
use crate::report::Row;

/// Where CPU time went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Worker,
    Web,
    Emulator,
    /// This process: the clients, the load generator, the hello-world server.
    Tool,
    Postgres,
    Redis,
    /// The machine's busy time that none of the above accounts for: another build, the
    /// kernel's own threads, an idle stack of another build.
    Else,
}

const PARTS: [Part; 7] = [
    Part::Worker,
    Part::Web,
    Part::Emulator,
    Part::Tool,
    Part::Postgres,
    Part::Redis,
    Part::Else,
];

/// The process ids of one stack's `web` and `worker` processes.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    pub web: Vec<u32>,
    pub workers: Vec<u32>,
}

impl Roles {
    fn part_of(&self, pid: u32, process: &ProcessCpu) -> Option<Part> {
        let me = std::process::id();
        if pid == me {
            Some(Part::Tool)
        } else if self.workers.contains(&pid) {
            Some(Part::Worker)
        } else if self.web.contains(&pid) {
            Some(Part::Web)
        } else if process.parent == me && process.name.starts_with("gateway-emul") {
            // The kernel cuts a process's name to 15 characters: `gateway-emulato`.
            Some(Part::Emulator)
        } else if process.name == "postgres" {
            // The postmaster's backends carry its name.
            Some(Part::Postgres)
        } else if process.name == "redis-server" {
            Some(Part::Redis)
        } else {
            None
        }
    }
}

/// Started before the work, finished after it.
pub struct Meter {
    roles: Roles,
    start: Snapshot,
}

impl Meter {
    pub fn start(roles: Roles) -> Self {
        Self {
            roles,
            start: Snapshot::take(),
        }
    }

    pub fn finish(&self) -> CpuUse {
        let end = Snapshot::take();
        let mut ticks = [0u64; PARTS.len()];
        for (pid, process) in &end.processes {
            let Some(part) = self.roles.part_of(*pid, process) else {
                continue;
            };
            ticks[index(part)] += self.start.ticks_until(*pid, process);
        }
        let busy = end.machine_busy.saturating_sub(self.start.machine_busy);
        let total = end.machine_total.saturating_sub(self.start.machine_total);
        let known: u64 = ticks.iter().sum();
        ticks[index(Part::Else)] = busy.saturating_sub(known);
        CpuUse {
            ticks,
            busy_share: busy as f64 / total.max(1) as f64,
        }
    }
}

fn index(part: Part) -> usize {
    PARTS
        .iter()
        .position(|known| *known == part)
        .expect("every part is listed")
}

/// CPU time by part over one window.
#[derive(Debug, Clone, Default)]
pub struct CpuUse {
    ticks: [u64; PARTS.len()],
    /// Busy time of all cores ÷ their time (0..1).
    busy_share: f64,
}

impl CpuUse {
    pub fn seconds(&self, part: Part) -> f64 {
        self.ticks[index(part)] as f64 / ticks_per_second()
    }

    /// Microseconds of `part` per unit of work; NaN without work.
    pub fn micros_per(&self, part: Part, units: u64) -> f64 {
        if units == 0 {
            return f64::NAN;
        }
        self.seconds(part) * 1e6 / units as f64
    }

    pub fn busy_percent(&self) -> f64 {
        100.0 * self.busy_share
    }
}

/// `/proc`'s clock tick (`getconf CLK_TCK`, USER_HZ), read once.
fn ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse::<f64>().ok())
            .filter(|ticks| *ticks > 0.0)
            // USER_HZ is 100 on every architecture Linux ships /proc for today.
            .unwrap_or(100.0)
    })
}

/// What each run did and cost: its CPU use and the units of work done in it.
pub type Runs<'a> = Vec<(&'a CpuUse, u64)>;

/// `CPU per <unit> (µs): <who>` for each run.
pub fn per_unit_row(setting: &str, who: &str, unit: &str, part: Part, runs: &Runs) -> Row {
    Row::new(
        setting,
        format!("CPU per {unit} (µs): {who}"),
        runs.iter()
            .map(|(cpu, units)| cpu.micros_per(part, *units))
            .collect(),
    )
}

/// The per-unit rows of `parts` (each with the name a reader knows it by), then how busy
/// the machine was.
pub fn rows(setting: &str, unit: &str, parts: &[(Part, &str)], runs: &Runs) -> Vec<Row> {
    let mut rows: Vec<Row> = parts
        .iter()
        .map(|(part, who)| per_unit_row(setting, who, unit, *part, runs))
        .collect();
    rows.push(busy_row(setting, runs));
    rows
}

/// How busy the whole machine was in each run.
pub fn busy_row(setting: &str, runs: &Runs) -> Row {
    Row::new(
        setting,
        "machine busy while measuring (% of all cores)",
        runs.iter().map(|(cpu, _)| cpu.busy_percent()).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_unit() {
        let mut cpu = CpuUse::default();
        cpu.ticks[index(Part::Worker)] = ticks_per_second() as u64;
        assert!((cpu.micros_per(Part::Worker, 10_000) - 100.0).abs() < 1e-9);
        assert!(cpu.micros_per(Part::Worker, 0).is_nan());
        assert_eq!(cpu.micros_per(Part::Web, 10), 0.0);
    }

    #[test]
    fn this_process_is_the_tool() {
        let roles = Roles::default();
        let process = ProcessCpu {
            name: "bench".to_owned(),
            parent: 1,
            ticks: 0,
        };
        assert_eq!(
            roles.part_of(std::process::id(), &process),
            Some(Part::Tool)
        );
        let redis = ProcessCpu {
            name: "redis-server".to_owned(),
            parent: 1,
            ticks: 0,
        };
        assert_eq!(roles.part_of(u32::MAX, &redis), Some(Part::Redis));
    }
}
