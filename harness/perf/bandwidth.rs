//! Memory read bandwidth: how fast this machine streams a buffer far larger than its caches,
//! the physical limit on decode speed (every weight is read once per generated token).

use std::time::Instant;

/// Bytes read per measurement: far beyond any CPU cache.
pub const DEFAULT_BUFFER_BYTES: usize = 512 << 20;

/// Best read bandwidth over `rounds` passes of `threads` threads summing disjoint slices of a
/// `buffer_bytes` buffer, in bytes per second.
pub fn read_bandwidth(buffer_bytes: usize, threads: usize, rounds: usize) -> f64 {
    let words = (buffer_bytes / 8).max(threads.max(1) * 8);
    // Written once so every page is really mapped before it is timed.
    let buffer: Vec<u64> = (0..words as u64).collect();
    let threads = threads.max(1);
    let mut best = f64::INFINITY;
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        let total = std::thread::scope(|scope| {
            let handles: Vec<_> = buffer
                .chunks(words.div_ceil(threads))
                .map(|slice| scope.spawn(move || sum_words(slice)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("bandwidth thread panicked"))
                .fold(0u64, u64::wrapping_add)
        });
        std::hint::black_box(total);
        best = best.min(started.elapsed().as_secs_f64());
    }
    (words * 8) as f64 / best
}

/// Sums with eight independent accumulators so the compiler vectorizes the loop and the loads,
/// not the additions, set the pace.
fn sum_words(slice: &[u64]) -> u64 {
    let mut lanes = [0u64; 8];
    let mut blocks = slice.chunks_exact(8);
    for block in &mut blocks {
        for (lane, value) in lanes.iter_mut().zip(block) {
            *lane = lane.wrapping_add(*value);
        }
    }
    let tail: u64 = blocks.remainder().iter().fold(0, |a, b| a.wrapping_add(*b));
    lanes.iter().fold(tail, |a, b| a.wrapping_add(*b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_word() {
        let words: Vec<u64> = (1..=21).collect();
        assert_eq!(sum_words(&words), 21 * 22 / 2);
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
