//! How much of the machine's CPU time other processes took while calibration measured: a
//! setup timed while something else ran (a build, another run, tests in parallel) may look
//! slower than it is, and the choice made from it is cached. Read from Linux's `/proc/stat`
//! (all CPUs) and `/proc/self/stat` (this process, every thread); elsewhere nothing is known.

/// Above this share of the machine's CPU time taken by other processes, a calibration is
/// reported as measured on a busy machine.
pub const BUSY_SHARE: f64 = 0.25;

/// CPU time counters at one moment, in clock ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuTimes {
    /// Ticks all CPUs spent busy.
    machine_busy: u64,
    /// Ticks all CPUs spent in total, idle included.
    machine_total: u64,
    /// Ticks this process spent, user and system.
    own: u64,
}

impl CpuTimes {
    /// The counters now, where the system exposes them.
    pub fn now() -> Option<Self> {
        let (machine_busy, machine_total) =
            machine_ticks(&std::fs::read_to_string("/proc/stat").ok()?)?;
        let own = own_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
        Some(Self {
            machine_busy,
            machine_total,
            own,
        })
    }

    /// The share of the machine's CPU time, from `self` to `later`, that other processes took
    /// (0 to 1); `None` when no time passed.
    pub fn others_share_until(&self, later: &Self) -> Option<f64> {
        let total = later.machine_total.checked_sub(self.machine_total)?;
        let busy = later.machine_busy.saturating_sub(self.machine_busy);
        let own = later.own.saturating_sub(self.own);
        (total > 0).then(|| (busy.saturating_sub(own) as f64 / total as f64).clamp(0.0, 1.0))
    }
}

/// (busy, total) ticks of the `cpu` line of `/proc/stat`: user, nice, system, idle, iowait, irq,
/// softirq, steal (guest time is already counted in user).
fn machine_ticks(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [user, nice, system, idle, iowait, irq, softirq, steal] = fields[..] else {
        return None;
    };
    let busy = user + nice + system + irq + softirq + steal;
    Some((busy, busy + idle + iowait))
}

/// utime + stime of `/proc/self/stat` (fields 14 and 15; read after the command name, which may
/// hold spaces and parentheses).
fn own_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counters_are_read_from_procs_formats() {
        let stat = "cpu  100 5 50 800 20 3 2 10 7 0\ncpu0 50 2 25 400 10 1 1 5 3 0\n";
        assert_eq!(machine_ticks(stat), Some((170, 990)));
        assert_eq!(machine_ticks("cpu  1 2 3\n"), None);
        let own = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 500 0 0 0 120 30 0 0 20 0 3 0";
        assert_eq!(own_ticks(own), Some(150));
        assert_eq!(own_ticks("4242 (x) S 1"), None);
    }

    #[test]
    fn others_share_is_the_machines_busy_time_not_spent_by_this_process() {
        let before = CpuTimes {
            machine_busy: 1_000,
            machine_total: 4_000,
            own: 300,
        };
        // 2 CPUs × 100 ticks: 150 busy, 60 of them ours → others took 90 of 200.
        let after = CpuTimes {
            machine_busy: 1_150,
            machine_total: 4_200,
            own: 360,
        };
        assert_eq!(before.others_share_until(&after), Some(0.45));
        // All the busy time ours: nobody else.
        let alone = CpuTimes { own: 450, ..after };
        assert_eq!(before.others_share_until(&alone), Some(0.0));
        assert_eq!(before.others_share_until(&before), None);
    }

    #[test]
    fn this_machines_counters_are_readable_where_proc_exists() {
        if std::path::Path::new("/proc/stat").is_file() {
            let first = CpuTimes::now().expect("/proc/stat and /proc/self/stat parse");
            // Burn some CPU so that the counters move.
            let mut x = 0u64;
            let start = std::time::Instant::now();
            while start.elapsed() < std::time::Duration::from_millis(300) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            std::hint::black_box(x);
            let second = CpuTimes::now().unwrap();
            assert!(second.own > first.own, "{first:?} → {second:?}");
            let share = first.others_share_until(&second).unwrap();
            assert!((0.0..=1.0).contains(&share));
        }
    }
}
