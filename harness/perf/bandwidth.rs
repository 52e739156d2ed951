//! Memory read bandwidth: how fast this machine streams a buffer far larger than its caches,
//! the physical limit on decode speed (every weight is read once per generated token).
//!
//! Measured the way STREAM-like tools do: one thread per core, each pinned to its core, reading
//! its own 64-byte-aligned slice that it wrote first (so its pages are mapped and local), with
//! two independent vector accumulators; the threads start each pass together and the pass ends
//! when the last finishes; the best of several passes counts. On a 2-core AMD EPYC this reads
//! 28–34 GB/s, as a hand-written AVX2 C loop does there (25–36 GB/s, measured side by side).

use std::sync::Barrier;
use std::time::Instant;

/// Bytes read per measurement: far beyond any CPU cache.
pub const DEFAULT_BUFFER_BYTES: usize = 1 << 30;

/// One cache line of data.
#[repr(C, align(64))]
#[derive(Debug, Clone, Copy)]
struct Line([u64; 8]);

/// Best read bandwidth over `rounds` passes of `threads` pinned threads over a `buffer_bytes`
/// buffer, in bytes per second.
pub fn read_bandwidth(buffer_bytes: usize, threads: usize, rounds: usize) -> f64 {
    let threads = threads.max(1);
    let rounds = rounds.max(1);
    let per_thread = (buffer_bytes / 64 / threads).max(2);
    let mut buffer = vec![Line([0; 8]); per_thread * threads];
    let start = Barrier::new(threads);
    // Each thread times its own passes: the clock of a coordinating thread would wait for a
    // free core while the readers hold them all, and miss the pass.
    let spans: Vec<Vec<(Instant, Instant)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = buffer
            .chunks_mut(per_thread)
            .enumerate()
            .map(|(core, slice)| {
                let start = &start;
                scope.spawn(move || {
                    pin_to_core(core);
                    // Written by the thread that reads it: mapped, warm and local before timing.
                    for (i, line) in slice.iter_mut().enumerate() {
                        *line = Line([i as u64; 8]);
                    }
                    (0..rounds)
                        .map(|_| {
                            start.wait();
                            let began = Instant::now();
                            std::hint::black_box(sum_lines(slice));
                            (began, Instant::now())
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bandwidth thread panicked"))
            .collect()
    });
    // A pass lasts from its first thread's start to its last thread's end.
    let best = (0..rounds)
        .map(|round| {
            let began = spans.iter().map(|s| s[round].0).min().expect("threads");
            let ended = spans.iter().map(|s| s[round].1).max().expect("threads");
            ended.duration_since(began).as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    (per_thread * threads * 64) as f64 / best.max(f64::MIN_POSITIVE)
}

/// Pins the calling thread to `core` (modulo the cores it may use); best effort.
fn pin_to_core(core: usize) {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET and sched_setaffinity act on our own thread.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
            return;
        }
        let cores: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            .filter(|c| libc::CPU_ISSET(*c, &allowed))
            .collect();
        if cores.is_empty() {
            return;
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cores[core % cores.len()], &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Sums with two lines of independent accumulators so the compiler vectorizes the loop and the
/// loads, not the additions, set the pace.
fn sum_lines(lines: &[Line]) -> u64 {
    let (mut even, mut odd) = ([0u64; 8], [0u64; 8]);
    let mut pairs = lines.chunks_exact(2);
    for pair in &mut pairs {
        for (lane, value) in even.iter_mut().zip(pair[0].0) {
            *lane = lane.wrapping_add(value);
        }
        for (lane, value) in odd.iter_mut().zip(pair[1].0) {
            *lane = lane.wrapping_add(value);
        }
    }
    for line in pairs.remainder() {
        for (lane, value) in even.iter_mut().zip(line.0) {
            *lane = lane.wrapping_add(value);
        }
    }
    even.iter().chain(&odd).fold(0, |a, b| a.wrapping_add(*b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_word() {
        let lines: Vec<Line> = (1..=3).map(|i| Line([i; 8])).collect();
        assert_eq!(sum_lines(&lines), 8 * (1 + 2 + 3));
    }

    #[test]
    fn measures_a_plausible_bandwidth() {
        // 64 MiB: fast enough for a unit test; any real machine reads it at 0.1–10,000 GB/s.
        let bytes_per_second = read_bandwidth(64 << 20, 2, 2);
        assert!(
            (1e8..1e13).contains(&bytes_per_second),
            "{bytes_per_second}"
        );
    }
}
