//! Statistics as pure functions over slices.
//!
//! - Standard error of a mean: sample standard deviation / √n, as lm-evaluation-harness reports.
//! - 95% interval of a proportion: Wilson score interval (Wilson 1927, "Probable inference, the
//!   law of succession, and statistical inference"), which stays inside [0, 1] and behaves at
//!   p = 0 or 1 and small n, unlike the normal approximation.
//! - Percentiles: linear interpolation between closest ranks (numpy's default).

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
    fn percentiles_interpolate() {
        let values = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(percentile(&values, 50.0), Some(2.5));
        assert_eq!(percentile(&values, 100.0), Some(4.0));
        assert!(close(percentile(&values, 90.0).unwrap(), 3.7));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
