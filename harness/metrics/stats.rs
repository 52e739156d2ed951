//! Statistics as pure functions over slices.
//!
//! - Standard error of a mean: sample standard deviation / √n, as lm-evaluation-harness reports.
//! - 95% interval of a proportion: Wilson score interval (Wilson 1927, "Probable inference, the
//!   law of succession, and statistical inference"), which stays inside [0, 1] and behaves at
//!   p = 0 or 1 and small n, unlike the normal approximation.
//! - Percentiles: linear interpolation between closest ranks (numpy's default).
//! - Other aggregates (pass@k over items, macro-F1, suite means): percentile bootstrap
//!   (Efron & Tibshirani 1993), 1,000 resamples with a fixed seed so reruns agree.
//! - pass@k: the unbiased estimator 1 − C(n−c, k)/C(n, k) of Chen et al. 2021 ("Evaluating
//!   Large Language Models Trained on Code"), computed as a stable product.

use serde::{Deserialize, Serialize};

/// z for a two-sided 95% interval.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// An aggregate with its uncertainty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Number of samples.
    pub n: usize,
    /// The mean (for 0/1 values, the proportion).
    pub value: f64,
    /// Standard error of the mean.
    pub stderr: f64,
    /// Lower end of the 95% interval.
    pub ci_low: f64,
    /// Upper end of the 95% interval.
    pub ci_high: f64,
    /// How the interval was computed, e.g. `wilson`.
    pub ci_method: String,
}

impl Estimate {
    /// The mean of 0/1 outcomes with a Wilson 95% interval.
    pub fn proportion(outcomes: &[f64]) -> Self {
        let n = outcomes.len();
        let successes = outcomes.iter().filter(|&&x| x >= 0.5).count();
        let (ci_low, ci_high) = wilson_interval(successes, n, Z_95);
        Self {
            n,
            value: mean(outcomes),
            stderr: stderr_of_mean(outcomes),
            ci_low,
            ci_high,
            ci_method: "wilson".into(),
        }
    }
}

impl Estimate {
    /// A statistic with a percentile-bootstrap 95% interval: `statistic` is evaluated on
    /// `units` resampled with replacement [`BOOTSTRAP_RESAMPLES`] times.
    pub fn bootstrap<T>(units: &[T], statistic: impl Fn(&[&T]) -> f64) -> Self {
        let all: Vec<&T> = units.iter().collect();
        let value = statistic(&all);
        let replicates = bootstrap_replicates(units.len(), |indices| {
            let sample: Vec<&T> = indices.iter().map(|&i| &units[i]).collect();
            statistic(&sample)
        });
        Self::from_replicates(units.len(), value, &replicates)
    }

    /// An estimate from a point value and bootstrap replicates of it.
    pub fn from_replicates(n: usize, value: f64, replicates: &[f64]) -> Self {
        if replicates.is_empty() {
            return Self {
                n,
                value,
                stderr: 0.0,
                ci_low: value,
                ci_high: value,
                ci_method: "none".into(),
            };
        }
        let m = mean(replicates);
        let variance = replicates.iter().map(|r| (r - m).powi(2)).sum::<f64>()
            / (replicates.len().max(2) - 1) as f64;
        Self {
            n,
            value,
            stderr: variance.sqrt(),
            ci_low: percentile(replicates, 2.5).unwrap_or(value),
            ci_high: percentile(replicates, 97.5).unwrap_or(value),
            ci_method: "bootstrap".into(),
        }
    }
}

/// Resamples drawn by [`Estimate::bootstrap`].
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// `statistic` of [`BOOTSTRAP_RESAMPLES`] resamples (index vectors) of `n` units; empty when
/// `n < 2`. Deterministic: the same inputs give the same replicates.
pub fn bootstrap_replicates(n: usize, statistic: impl Fn(&[usize]) -> f64) -> Vec<f64> {
    if n < 2 {
        return Vec::new();
    }
    let mut rng = SplitMix64(0x5EED_0F7A_5D00);
    let mut indices = vec![0usize; n];
    (0..BOOTSTRAP_RESAMPLES)
        .map(|_| {
            for slot in indices.iter_mut() {
                *slot = rng.below(n);
            }
            statistic(&indices)
        })
        .collect()
}

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, well-mixed generator for resampling.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer below `bound` (> 0).
    pub fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next_u64()) * bound as u128) >> 64) as usize
    }
}

/// Unbiased pass@k for one problem with `n` samples of which `c` passed (Chen et al. 2021).
pub fn pass_at_k(n: usize, c: usize, k: usize) -> f64 {
    if n < k || k == 0 {
        return f64::NAN;
    }
    if n - c < k {
        return 1.0;
    }
    // 1 - prod_{i = n-c+1}^{n} (1 - k / i)
    1.0 - ((n - c + 1)..=n)
        .map(|i| 1.0 - k as f64 / i as f64)
        .product::<f64>()
}

/// Macro-averaged F1 over `labels` of (predicted, reference) pairs; a missing prediction counts
/// as wrong. A label with no support and no predictions scores F1 = 0, as scikit-learn does.
pub fn macro_f1(pairs: &[(Option<&str>, &str)], labels: &[String]) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    let total: f64 = labels
        .iter()
        .map(|label| {
            let label = label.as_str();
            let tp = pairs
                .iter()
                .filter(|(p, r)| *p == Some(label) && *r == label)
                .count() as f64;
            let predicted = pairs.iter().filter(|(p, _)| *p == Some(label)).count() as f64;
            let actual = pairs.iter().filter(|(_, r)| *r == label).count() as f64;
            if predicted + actual == 0.0 {
                0.0
            } else {
                2.0 * tp / (predicted + actual)
            }
        })
        .sum();
    total / labels.len() as f64
}

/// Arithmetic mean; 0 for an empty slice.
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// Sample standard deviation / √n; 0 below two samples.
pub fn stderr_of_mean(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return 0.0;
    }
    let m = mean(values);
    let variance = values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    (variance / n as f64).sqrt()
}

/// Wilson score interval for `successes` out of `n` at normal quantile `z`; (0, 1) when n = 0.
pub fn wilson_interval(successes: usize, n: usize, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half_width = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    (
        (centre - half_width).max(0.0),
        (centre + half_width).min(1.0),
    )
}

/// The `q`-th percentile (0–100) of `values` by linear interpolation; `None` when empty.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = (q / 100.0).clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let below = rank.floor() as usize;
    let above = rank.ceil() as usize;
    let weight = rank - below as f64;
    Some(sorted[below] * (1.0 - weight) + sorted[above] * weight)
}

/// Median, p90, p99 and mean of a latency or speed distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Number of values.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// 50th percentile.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Distribution {
    /// Summarizes `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Self> {
        Some(Self {
            n: values.len(),
            mean: mean(values),
            median: percentile(values, 50.0)?,
            p90: percentile(values, 90.0)?,
            p99: percentile(values, 99.0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn wilson_matches_published_values() {
        // 8 of 10: Wilson 95% interval (0.4902, 0.9433), e.g. Newcombe 1998, Table I method 3.
        let (low, high) = wilson_interval(8, 10, Z_95);
        assert!(close(low, 0.4902) && close(high, 0.9433), "{low} {high}");
        let (low, high) = wilson_interval(0, 10, Z_95);
        assert!(close(low, 0.0) && close(high, 0.2775), "{low} {high}");
    }

    #[test]
    fn proportion_estimate() {
        let estimate = Estimate::proportion(&[1.0, 0.0, 1.0, 1.0]);
        assert_eq!(estimate.n, 4);
        assert!(close(estimate.value, 0.75));
        assert!(close(estimate.stderr, 0.25));
        assert!(estimate.ci_low < 0.75 && estimate.ci_high > 0.75);
    }

    #[test]
    fn pass_at_k_matches_the_estimator() {
        assert!(close(pass_at_k(1, 1, 1), 1.0));
        assert!(close(pass_at_k(10, 3, 1), 0.3));
        // 1 - C(7,5)/C(10,5) = 1 - 21/252
        assert!(close(pass_at_k(10, 3, 5), 1.0 - 21.0 / 252.0));
        assert!(close(pass_at_k(10, 6, 5), 1.0));
        assert!(pass_at_k(3, 1, 5).is_nan());
    }

    #[test]
    fn macro_f1_from_a_confusion_matrix() {
        // yes: tp 2, fp 1, fn 0 -> F1 0.8; no: tp 1, fp 0, fn 1 -> 0.6667; maybe: tp 0, fp 0, fn 1 -> 0.
        let pairs = [
            (Some("yes"), "yes"),
            (Some("yes"), "yes"),
            (Some("yes"), "no"),
            (Some("no"), "no"),
            (None, "maybe"),
        ];
        let labels = ["yes".to_string(), "no".to_string(), "maybe".to_string()];
        assert!(close(macro_f1(&pairs, &labels), (0.8 + 2.0 / 3.0) / 3.0));
    }

    #[test]
    fn bootstrap_is_deterministic_and_brackets_the_mean() {
        let values: Vec<f64> = (0..50).map(|i| (i % 5) as f64).collect();
        let a = Estimate::bootstrap(&values, |s| {
            s.iter().map(|v| **v).sum::<f64>() / s.len() as f64
        });
        let b = Estimate::bootstrap(&values, |s| {
            s.iter().map(|v| **v).sum::<f64>() / s.len() as f64
        });
        assert_eq!(a, b);
        assert!(close(a.value, 2.0));
        assert!(a.ci_low < 2.0 && a.ci_high > 2.0 && a.ci_high - a.ci_low < 1.5);
        assert_eq!(a.ci_method, "bootstrap");
    }

    #[test]
    fn percentiles_interpolate() {
        let values = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(percentile(&values, 50.0), Some(2.5));
        assert_eq!(percentile(&values, 100.0), Some(4.0));
        assert!(close(percentile(&values, 90.0).unwrap(), 3.7));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
