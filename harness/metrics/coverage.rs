//! Simulation tests of the statistics: the intervals keep at least 93% coverage and the paired
//! test keeps its 5% level over n ∈ {5, 10, 20, 50, 200} items and true proportions
//! p ∈ {0.05, 0.2, 0.5, 0.8, 0.95}, for one and several samples per item, for single tasks,
//! suites and the quality index. Each test prints its table (`cargo test -- --nocapture`).

use super::paired::{sign_flip_p_value, ALPHA};
use super::stats::{clopper_pearson, Estimate, SplitMix64};

const ITEMS: [usize; 5] = [5, 10, 20, 50, 200];
const PROPORTIONS: [f64; 5] = [0.05, 0.2, 0.5, 0.8, 0.95];
const REQUIRED_COVERAGE: f64 = 0.93;
const REPETITIONS: usize = 2000;

fn uniform(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn bernoulli(rng: &mut SplitMix64, p: f64) -> f64 {
    f64::from(u8::from(uniform(rng) < p))
}

/// Item success rates with mean `p`: all equal, or spread (half the items easier, half harder).
fn item_rates(n: usize, p: f64, spread: bool) -> Vec<f64> {
    let half_gap = if spread { 0.8 * p.min(1.0 - p) } else { 0.0 };
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                p + half_gap
            } else {
                p - half_gap
            }
        })
        .collect()
}

/// Each item's mean over `samples` draws.
fn draw_items(rng: &mut SplitMix64, rates: &[f64], samples: usize) -> Vec<f64> {
    rates
        .iter()
        .map(|&r| (0..samples).map(|_| bernoulli(rng, r)).sum::<f64>() / samples as f64)
        .collect()
}

fn covers(estimate: &Estimate, truth: f64) -> bool {
    estimate.ci_low <= truth + 1e-12 && truth <= estimate.ci_high + 1e-12
}

#[test]
fn proportion_interval_coverage_is_exact_and_at_least_95_percent() {
    // One 0/1 outcome per item: coverage summed exactly over the binomial distribution.
    let mut worst: f64 = 1.0;
    let mut table = String::from("n \\ p      0.05    0.2     0.5     0.8     0.95\n");
    for n in ITEMS {
        table.push_str(&format!("{n:<8}"));
        for p in PROPORTIONS {
            let coverage: f64 = (0..=n)
                .map(|x| {
                    let (low, high) = clopper_pearson(x as f64, n as f64);
                    let ln_pmf =
                        ln_choose(n, x) + x as f64 * p.ln() + (n - x) as f64 * (1.0 - p).ln();
                    if low <= p && p <= high {
                        ln_pmf.exp()
                    } else {
                        0.0
                    }
                })
                .sum();
            worst = worst.min(coverage);
            table.push_str(&format!("  {coverage:.4}"));
        }
        table.push('\n');
    }
    eprintln!("task interval, one sample per item (exact coverage):\n{table}");
    assert!(worst >= 0.95 - 1e-9, "worst coverage {worst}\n{table}");
}

fn ln_choose(n: usize, k: usize) -> f64 {
    (1..=k)
        .map(|j| ((n - k + j) as f64).ln() - (j as f64).ln())
        .sum()
}

#[test]
fn mean_of_items_interval_keeps_coverage_with_several_samples_per_item() {
    let mut rng = SplitMix64(11);
    let mut worst: (f64, String) = (1.0, String::new());
    let mut table = String::new();
    for (samples, spread) in [(2, false), (3, true), (10, true)] {
        table.push_str(&format!(
            "{samples} samples per item, items {}:\n",
            if spread {
                "of unequal difficulty"
            } else {
                "alike"
            }
        ));
        for n in ITEMS {
            table.push_str(&format!("  n = {n:<4}"));
            for p in PROPORTIONS {
                let rates = item_rates(n, p, spread);
                let hits = (0..REPETITIONS)
                    .filter(|_| {
                        covers(
                            &Estimate::mean_of_items(&draw_items(&mut rng, &rates, samples)),
                            p,
                        )
                    })
                    .count();
                let coverage = hits as f64 / REPETITIONS as f64;
                if coverage < worst.0 {
                    worst = (coverage, format!("{samples} samples, n {n}, p {p}"));
                }
                table.push_str(&format!("  {coverage:.3}"));
            }
            table.push('\n');
        }
    }
    eprintln!(
        "task interval, several samples per item ({REPETITIONS} simulated runs each):\n{table}"
    );
    assert!(
        worst.0 >= REQUIRED_COVERAGE,
        "worst coverage {worst:?}\n{table}"
    );
}

#[test]
fn pass_at_k_interval_keeps_coverage() {
    // pass@5 from 10 samples per item: per item 1 − C(n−c, 5)/C(10, 5); the truth is
    // 1 − (1 − p)⁵.
    let mut rng = SplitMix64(13);
    let mut worst: f64 = 1.0;
    for n in ITEMS {
        for p in PROPORTIONS {
            let truth = 1.0 - (1.0 - p).powi(5);
            let hits = (0..REPETITIONS / 2)
                .filter(|_| {
                    let values: Vec<f64> = (0..n)
                        .map(|_| {
                            let c = (0..10).filter(|_| bernoulli(&mut rng, p) == 1.0).count();
                            super::stats::pass_at_k(10, c, 5)
                        })
                        .collect();
                    covers(&Estimate::mean_of_items(&values), truth)
                })
                .count();
            worst = worst.min(hits as f64 / (REPETITIONS / 2) as f64);
        }
    }
    eprintln!("pass@5 interval: worst coverage {worst:.3}");
    assert!(worst >= REQUIRED_COVERAGE, "worst coverage {worst}");
}

/// Coverage of the weighted mean over `tasks` = (suite, items, p), weighted as a suite score
/// (one suite) or the quality index (several): every suite weighs the same, and within a suite
/// every task.
fn suite_coverage(rng: &mut SplitMix64, tasks: &[(&str, usize, f64)]) -> f64 {
    let mut suites: Vec<&str> = tasks.iter().map(|t| t.0).collect();
    suites.sort_unstable();
    suites.dedup();
    let weights: Vec<f64> = tasks
        .iter()
        .map(|(suite, _, _)| {
            let in_suite = tasks.iter().filter(|t| t.0 == *suite).count();
            1.0 / (suites.len() * in_suite) as f64
        })
        .collect();
    let truth: f64 = tasks.iter().zip(&weights).map(|(t, w)| w * t.2).sum();
    let hits = (0..REPETITIONS)
        .filter(|_| {
            let values: Vec<Vec<f64>> = tasks
                .iter()
                .map(|(_, n, p)| (0..*n).map(|_| bernoulli(rng, *p)).collect())
                .collect();
            let parts: Vec<(f64, &[f64])> = weights
                .iter()
                .copied()
                .zip(values.iter().map(Vec::as_slice))
                .collect();
            covers(&Estimate::weighted_mean(&parts), truth)
        })
        .count();
    hits as f64 / REPETITIONS as f64
}

#[test]
fn suite_and_index_intervals_keep_coverage() {
    let mut rng = SplitMix64(17);
    let mut worst: (f64, String) = (1.0, String::new());
    let mut table = String::new();
    // Tasks alike: two tasks in one suite; three suites of one task; an index of three suites
    // with one, two and two tasks.
    let shapes: [&[&str]; 3] = [&["a", "a"], &["a", "b", "c"], &["a", "b", "b", "c", "c"]];
    for shape in shapes {
        table.push_str(&format!(
            "tasks in suites {shape:?}, all with n items and proportion p:\n"
        ));
        for n in ITEMS {
            table.push_str(&format!("  n = {n:<4}"));
            for p in PROPORTIONS {
                let tasks: Vec<(&str, usize, f64)> = shape.iter().map(|s| (*s, n, p)).collect();
                let coverage = suite_coverage(&mut rng, &tasks);
                if coverage < worst.0 {
                    worst = (coverage, format!("{tasks:?}"));
                }
                table.push_str(&format!("  {coverage:.3}"));
            }
            table.push('\n');
        }
    }
    // Tasks unlike: sizes and proportions drawn from the grid.
    let mut mixed_worst: f64 = 1.0;
    for _ in 0..60 {
        let count = 2 + rng.below(4);
        let tasks: Vec<(&str, usize, f64)> = (0..count)
            .map(|_| {
                (
                    ["a", "b", "c"][rng.below(3)],
                    ITEMS[rng.below(ITEMS.len())],
                    PROPORTIONS[rng.below(PROPORTIONS.len())],
                )
            })
            .collect();
        let coverage = suite_coverage(&mut rng, &tasks);
        mixed_worst = mixed_worst.min(coverage);
        if coverage < worst.0 {
            worst = (coverage, format!("{tasks:?}"));
        }
    }
    table.push_str(&format!(
        "60 random mixes of task sizes and proportions: worst {mixed_worst:.3}\n"
    ));
    eprintln!(
        "suite score and quality index intervals ({REPETITIONS} simulated runs each):\n{table}"
    );
    assert!(
        worst.0 >= REQUIRED_COVERAGE,
        "worst coverage {worst:?}\n{table}"
    );
}

#[test]
fn paired_test_keeps_its_level_when_nothing_changed() {
    // Two runs drawn from the same per-item success rates: the share of "significant" results
    // must stay at α (5%), with one and with several samples per item.
    let mut rng = SplitMix64(19);
    let mut worst: (f64, String) = (0.0, String::new());
    let mut table = String::new();
    for (samples, spread) in [(1, false), (1, true), (2, true), (5, true)] {
        table.push_str(&format!(
            "  {samples} sample(s) per item{}:",
            if spread { ", unequal items" } else { "" }
        ));
        for n in ITEMS {
            let mut rejections = 0usize;
            let mut runs = 0usize;
            for p in PROPORTIONS {
                let rates = item_rates(n, p, spread);
                for _ in 0..REPETITIONS / 5 {
                    let base = draw_items(&mut rng, &rates, samples);
                    let cand = draw_items(&mut rng, &rates, samples);
                    let contributions: Vec<f64> = base
                        .iter()
                        .zip(&cand)
                        .map(|(b, c)| (c - b) / n as f64)
                        .collect();
                    runs += 1;
                    if sign_flip_p_value(&contributions) < ALPHA {
                        rejections += 1;
                    }
                }
            }
            let rate = rejections as f64 / runs as f64;
            if rate > worst.0 {
                worst = (rate, format!("{samples} samples, n {n}"));
            }
            table.push_str(&format!("  n {n}: {:.1}%", 100.0 * rate));
        }
        table.push('\n');
    }
    eprintln!(
        "compare: false-positive rate at α = 5% ({} simulated pairs per cell, all p):\n{table}",
        REPETITIONS
    );
    // Monte Carlo error at 2,000 pairs is ±1 point (2 sd).
    assert!(
        worst.0 <= ALPHA + 0.01,
        "false-positive rate {worst:?}\n{table}"
    );
}
