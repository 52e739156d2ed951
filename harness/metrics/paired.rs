//! Paired comparisons of two sets of scores on the same items (two runs of one model, or two
//! models on one benchmark), as pure functions.
//!
//! - The test is the paired sign-flip (randomization) test of the mean item difference (Fisher
//!   1935; Good, "Permutation, Parametric and Bootstrap Tests of Hypotheses"): under "no change",
//!   each item's two scores are exchangeable, so each item's difference is as likely to have
//!   either sign. It keeps its level exactly for any number of items and samples per item. With
//!   one 0/1 outcome per item it *is* the exact McNemar test (McNemar 1947): every non-zero
//!   difference has the same size, so the statistic is binomial. Up to [`EXACT_UP_TO`] non-zero
//!   differences every sign pattern is enumerated; above, [`FLIPS`] random patterns give a
//!   Monte Carlo p-value (1 + hits)/(1 + flips), which keeps its level too.
//! - The interval of the difference of means is Newcombe's paired hybrid score interval
//!   (Newcombe 1998, "Improved confidence intervals for the difference between binomial
//!   proportions based on paired data", method 10) built on each side's Clopper–Pearson interval
//!   (at the effective sample size when items have several samples), so it never collapses to a
//!   point.
//! - The minimum detectable difference is the larger of the smallest difference the exact test
//!   can call significant at all (six discordant items, all one way, when every item weighs the
//!   same) and the difference detected with 80% power given the observed spread of the item
//!   differences (normal approximation).

use super::stats::{mean, Estimate, SplitMix64, Z_95};

/// Significance level of every test.
pub const ALPHA: f64 = 0.05;
/// Non-zero differences up to which every sign pattern is enumerated.
pub const EXACT_UP_TO: usize = 20;
/// Random sign patterns drawn above [`EXACT_UP_TO`].
pub const FLIPS: usize = 20_000;
/// z for 80% power.
const Z_80: f64 = 0.841_621_233_572_914_3;

/// Two-sided p-value of the sign-flip test on the per-item contributions to a difference of
/// (weighted) means: contribution i is weight_i × (candidate_i − baseline_i), and the statistic
/// is their sum.
pub fn sign_flip_p_value(contributions: &[f64]) -> f64 {
    let nonzero: Vec<f64> = contributions
        .iter()
        .copied()
        .filter(|c| *c != 0.0)
        .collect();
    if nonzero.is_empty() {
        return 1.0;
    }
    let size = nonzero[0].abs();
    if nonzero
        .iter()
        .all(|c| (c.abs() - size).abs() <= 1e-12 * size)
    {
        let up = nonzero.iter().filter(|c| **c > 0.0).count();
        return mcnemar_exact(up, nonzero.len() - up);
    }
    let observed: f64 = nonzero.iter().sum::<f64>().abs();
    // Sums within rounding of the observed one count as at least as extreme.
    let tolerance = 1e-9 * nonzero.iter().map(|c| c.abs()).sum::<f64>();
    let magnitudes: Vec<f64> = nonzero.iter().map(|c| c.abs()).collect();
    let extreme = |signs: &mut dyn FnMut(usize) -> bool| -> bool {
        let sum: f64 = magnitudes
            .iter()
            .enumerate()
            .map(|(i, m)| if signs(i) { *m } else { -*m })
            .sum();
        sum.abs() >= observed - tolerance
    };
    if magnitudes.len() <= EXACT_UP_TO {
        let patterns = 1u64 << magnitudes.len();
        let hits = (0..patterns)
            .filter(|pattern| extreme(&mut |i| pattern >> i & 1 == 1))
            .count();
        hits as f64 / patterns as f64
    } else {
        let mut rng = SplitMix64(0x5161_F11B);
        let hits = (0..FLIPS)
            .filter(|_| extreme(&mut |_| rng.next_u64() >> 63 == 1))
            .count();
        (1 + hits) as f64 / (1 + FLIPS) as f64
    }
}

/// Exact two-sided McNemar test on the discordant pairs `b` (one way) and `c` (the other way):
/// twice the binomial(b + c, ½) tail at min(b, c), capped at 1 (McNemar 1947; the exact form
/// recommended for small counts, Fagerland et al. 2013).
pub fn mcnemar_exact(b: usize, c: usize) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    let ln_choose = |n: usize, i: usize| -> f64 {
        (1..=i)
            .map(|j| ((n - i + j) as f64).ln() - (j as f64).ln())
            .sum()
    };
    let tail: f64 = (0..=k)
        .map(|i| (ln_choose(n, i) - n as f64 * std::f64::consts::LN_2).exp())
        .sum();
    (2.0 * tail).min(1.0)
}

/// 95% interval of mean(candidate) − mean(baseline) for per-item values in [0, 1] paired by
/// position: Newcombe's method 10 on each side's interval ([`Estimate::mean_of_items`], exact
/// Clopper–Pearson for 0/1 values).
pub fn difference_interval(baseline: &[f64], candidate: &[f64]) -> (f64, f64) {
    let (base, cand) = (
        Estimate::mean_of_items(baseline),
        Estimate::mean_of_items(candidate),
    );
    let phi = correlation(baseline, candidate);
    let delta = cand.value - base.value;
    let (cand_down, cand_up) = (cand.value - cand.ci_low, cand.ci_high - cand.value);
    let (base_down, base_up) = (base.value - base.ci_low, base.ci_high - base.value);
    let low = delta
        - (cand_down.powi(2) - 2.0 * phi * cand_down * base_up + base_up.powi(2))
            .max(0.0)
            .sqrt();
    let high = delta
        + (cand_up.powi(2) - 2.0 * phi * cand_up * base_down + base_down.powi(2))
            .max(0.0)
            .sqrt();
    (low.max(-1.0), high.min(1.0))
}

/// Pearson correlation; 0 when either side is constant.
fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (mean(a), mean(b));
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    if va <= 0.0 || vb <= 0.0 {
        0.0
    } else {
        (cov / (va * vb).sqrt()).clamp(-1.0, 1.0)
    }
}

/// The smallest |difference of means| the test would detect (see the module header), for
/// per-item contributions weight_i × difference_i where every weight is 1/n for one task.
pub fn minimum_detectable_difference(contributions: &[f64], weights: &[f64]) -> f64 {
    // Six discordant items all one way: 2 · 0.5⁶ = 0.031 < α; five give 0.0625.
    let mut largest: Vec<f64> = weights.to_vec();
    largest.sort_by(|a, b| b.total_cmp(a));
    let floor: f64 = largest.iter().take(6).sum();
    let n = contributions.len();
    if n < 2 {
        return 1.0;
    }
    // The statistic's standard deviation under the observed spread: √Σ c².
    let spread = contributions.iter().map(|c| c * c).sum::<f64>().sqrt();
    floor.max((Z_95 + Z_80) * spread).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcnemar_exact_values() {
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        // b = 0, c = 12: 2 · 0.5^12
        assert!((mcnemar_exact(0, 12) - 2.0 * 0.5f64.powi(12)).abs() < 1e-12);
        // b = 2, c = 8: 2 · P(X ≤ 2), X ~ Bin(10, ½) = 2 · 56/1024
        assert!((mcnemar_exact(2, 8) - 2.0 * 56.0 / 1024.0).abs() < 1e-12);
        assert_eq!(mcnemar_exact(5, 5), 1.0);
    }

    #[test]
    fn sign_flip_is_the_sign_test_for_equal_differences() {
        // The example: three items lost half their samples, two unchanged.
        let p = sign_flip_p_value(&[-0.5, -0.5, -0.5, 0.0, 0.0]);
        assert!((p - 0.25).abs() < 1e-12, "{p}");
        // Five pass→fail items: McNemar's 2 · 0.5⁵, whatever the samples per item.
        let expected = mcnemar_exact(0, 5);
        assert!((sign_flip_p_value(&[-1.0; 5]) - expected).abs() < 1e-12);
        assert!((sign_flip_p_value(&[-0.5; 5]) - expected).abs() < 1e-12);
    }

    #[test]
    fn sign_flip_enumerates_unequal_differences() {
        // |sum| = 1.5 of magnitudes {1, 0.5}: patterns (+,+) and (-,-) reach it: 2 of 4.
        assert!((sign_flip_p_value(&[1.0, 0.5]) - 0.5).abs() < 1e-12);
        // {1, 0.5, 0.5} all negative: only the all-same patterns reach 2: 2 of 8.
        assert!((sign_flip_p_value(&[-1.0, -0.5, -0.5]) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn monte_carlo_p_value_is_close_to_the_exact_one() {
        // 30 items with unequal differences: compare against a normal approximation, which is
        // close at this size.
        let d: Vec<f64> = (0..30)
            .map(|i| {
                if i % 3 == 0 {
                    -0.5
                } else {
                    -0.25 + 0.02 * (i % 5) as f64
                }
            })
            .collect();
        let p = sign_flip_p_value(&d);
        let sum: f64 = d.iter().sum();
        let sd = d.iter().map(|x| x * x).sum::<f64>().sqrt();
        let z = sum.abs() / sd;
        let normal = 2.0 * (1.0 - standard_normal_cdf(z));
        assert!(p < 1e-3 && normal < 1e-3, "{p} {normal}");
        let mixed: Vec<f64> = d
            .iter()
            .enumerate()
            .map(|(i, x)| if i % 2 == 0 { *x } else { -*x })
            .collect();
        let p = sign_flip_p_value(&mixed);
        let sum: f64 = mixed.iter().sum();
        let normal = 2.0 * (1.0 - standard_normal_cdf(sum.abs() / sd));
        assert!((p - normal).abs() < 0.03, "{p} vs {normal}");
    }

    fn standard_normal_cdf(z: f64) -> f64 {
        // Abramowitz & Stegun 7.1.26 through erf.
        let t = 1.0 / (1.0 + 0.327_591_1 * z.abs() / std::f64::consts::SQRT_2);
        let poly = t
            * (0.254_829_592
                + t * (-0.284_496_736
                    + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
        let erf = 1.0 - poly * (-(z * z) / 2.0).exp();
        0.5 * (1.0 + erf.copysign(z))
    }

    #[test]
    fn difference_interval_of_identical_runs_is_not_a_point() {
        let same = [1.0, 1.0, 1.0, 1.0, 1.0];
        let (low, high) = difference_interval(&same, &same);
        assert!(low < -0.3 && high > 0.3, "[{low}, {high}]");
        let base = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0];
        let (low, high) = difference_interval(&base, &base);
        assert!(low < 0.0 && high > 0.0);
    }

    #[test]
    fn minimum_detectable_difference_has_a_floor_of_six_items() {
        let weights = vec![1.0 / 10.0; 10];
        let mdd = minimum_detectable_difference(&[0.0; 10], &weights);
        assert!((mdd - 0.6).abs() < 1e-12, "{mdd}");
        let weights = vec![1.0 / 200.0; 200];
        let noisy: Vec<f64> = (0..200)
            .map(|i| if i % 4 == 0 { 1.0 / 200.0 } else { 0.0 })
            .collect();
        let mdd = minimum_detectable_difference(&noisy, &weights);
        assert!(mdd > 0.03 && mdd < 0.2, "{mdd}");
    }
}
