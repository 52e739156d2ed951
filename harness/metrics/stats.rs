//! Statistics as pure functions over slices.
//!
//! - Standard error of a mean: sample standard deviation / √n, as lm-evaluation-harness reports.
//! - 95% interval of a proportion (one 0/1 outcome per item): the exact Clopper–Pearson interval
//!   (Clopper & Pearson 1934), whose coverage is at least 95% for every n and p; it never
//!   collapses to a point, also when every item was right or every item wrong.
//! - 95% interval of a mean of per-item values in [0, 1] (several samples per item, pass@k) and
//!   of weighted means of several tasks' means (suite scores, the quality index): Clopper–Pearson
//!   at an effective sample size (Korn & Graubard 1998, "Confidence intervals for proportions
//!   with small expected number of positive counts estimated from survey data"):
//!   n_eff = θ(1 − θ) / V̂, never above the Kish effective size 1 / Σ(w²/n) of the weighting,
//!   where V̂ = Σ w² v / n over the parts and each part's item variance v is at least that of a
//!   proportion shrunk towards ½ ((x + 1)/(n + 2)), so an all-right or all-wrong part still
//!   counts as uncertain. The simulation test in this file checks coverage ≥ 93% over the grid
//!   n ∈ {5, 10, 20, 50, 200} × p ∈ {0.05, 0.2, 0.5, 0.8, 0.95}.
//! - Results on fewer than [`PRELIMINARY_BELOW`] items are flagged `preliminary`.
//! - Percentiles: linear interpolation between closest ranks (numpy's default).
//! - Corpus-level metrics that are not means (macro-F1): percentile bootstrap (Efron & Tibshirani
//!   1993), 1,000 resamples with a fixed seed so reruns agree; below [`PRELIMINARY_BELOW`] items
//!   the bootstrap's coverage is not to be trusted, so the interval is the whole range [0, 1].
//! - pass@k: the unbiased estimator 1 − C(n−c, k)/C(n, k) of Chen et al. 2021 ("Evaluating
//!   Large Language Models Trained on Code"), computed as a stable product.

use serde::{Deserialize, Serialize};

/// z for a two-sided 95% interval.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// Results on fewer items than this are preliminary (flagged wherever they are shown).
pub const PRELIMINARY_BELOW: usize = 30;

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
    /// How the interval was computed, e.g. `clopper-pearson`.
    pub ci_method: String,
    /// Computed on fewer than [`PRELIMINARY_BELOW`] items (for a suite or the index: some task
    /// had fewer): shown as preliminary.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub preliminary: bool,
}

impl Estimate {
    /// The mean of 0/1 outcomes (one per item) with the exact Clopper–Pearson 95% interval.
    pub fn proportion(outcomes: &[f64]) -> Self {
        let n = outcomes.len();
        let successes = outcomes.iter().filter(|&&x| x >= 0.5).count();
        let (ci_low, ci_high) = clopper_pearson(successes as f64, n as f64);
        Self {
            n,
            value: mean(outcomes),
            stderr: stderr_of_mean(outcomes),
            ci_low,
            ci_high,
            ci_method: "clopper-pearson".into(),
            preliminary: n < PRELIMINARY_BELOW,
        }
    }

    /// The weighted mean Σ w·mean(values) of independent parts, each a list of per-item values
    /// in [0, 1] with its weight, with a Clopper–Pearson interval at the Korn–Graubard effective
    /// sample size (see the module header). `n` is the number of items over all parts.
    pub fn weighted_mean(parts: &[(f64, &[f64])]) -> Self {
        let parts: Vec<(f64, &[f64])> = parts
            .iter()
            .copied()
            .filter(|(_, values)| !values.is_empty())
            .collect();
        // One part of 0/1 values is a plain proportion: its exact interval, the same the task shows.
        if let [(weight, values)] = parts.as_slice() {
            if (*weight - 1.0).abs() < 1e-12 && values.iter().all(|v| *v == 0.0 || *v == 1.0) {
                return Self::proportion(values);
            }
        }
        let moments: Vec<PartMoments> = parts
            .iter()
            .map(|(weight, values)| PartMoments {
                weight: *weight,
                n: values.len(),
                mean: mean(values),
                item_variance: item_variance(values),
            })
            .collect();
        Self::weighted_mean_of_moments(&moments)
    }

    /// [`Estimate::weighted_mean`] of independent parts known only by their estimates (each a
    /// mean of per-item values in [0, 1] with its `n` and standard error, as a run's summary
    /// holds them): e.g. a published "average of ARC-Easy and ARC-Challenge" beside the two
    /// tasks' results. Each part's item variance is rebuilt from `stderr² · n` and its mean, with
    /// the same floor as from the values themselves.
    pub fn weighted_mean_of_estimates(parts: &[(f64, &Estimate)]) -> Self {
        let moments: Vec<PartMoments> = parts
            .iter()
            .filter(|(_, estimate)| estimate.n > 0)
            .map(|(weight, estimate)| {
                let n = estimate.n as f64;
                let shrunk = (estimate.value * n + 1.0) / (n + 2.0);
                PartMoments {
                    weight: *weight,
                    n: estimate.n,
                    mean: estimate.value,
                    item_variance: (estimate.stderr.powi(2) * n).max(shrunk * (1.0 - shrunk)),
                }
            })
            .collect();
        Self::weighted_mean_of_moments(&moments)
    }

    /// The Korn–Graubard interval of Σ w·mean over parts given by their moments (module header).
    fn weighted_mean_of_moments(parts: &[PartMoments]) -> Self {
        let n: usize = parts.iter().map(|p| p.n).sum();
        let preliminary = parts.iter().any(|p| p.n < PRELIMINARY_BELOW);
        if parts.is_empty() {
            return Self {
                n: 0,
                value: 0.0,
                stderr: 0.0,
                ci_low: 0.0,
                ci_high: 1.0,
                ci_method: "none".into(),
                preliminary: true,
            };
        }
        let value: f64 = parts
            .iter()
            .map(|p| p.weight * p.mean)
            .sum::<f64>()
            .clamp(0.0, 1.0);
        let variance: f64 = parts
            .iter()
            .map(|p| p.weight * p.weight * p.item_variance / p.n as f64)
            .sum();
        let kish = 1.0
            / parts
                .iter()
                .map(|p| p.weight * p.weight / p.n as f64)
                .sum::<f64>();
        let effective_n = if variance > 0.0 && value > 0.0 && value < 1.0 {
            (value * (1.0 - value) / variance).min(kish)
        } else {
            kish
        };
        let (ci_low, ci_high) = clopper_pearson(value * effective_n, effective_n);
        Self {
            n,
            value,
            stderr: variance.sqrt(),
            ci_low,
            ci_high,
            ci_method: "clopper-pearson (effective n)".into(),
            preliminary,
        }
    }

    /// The mean of per-item values in [0, 1]: the exact proportion when every value is 0 or 1,
    /// else (several samples per item, pass@k) [`Estimate::weighted_mean`] of one part.
    pub fn mean_of_items(values: &[f64]) -> Self {
        Self::weighted_mean(&[(1.0, values)])
    }

    /// This estimate scaled by `factor` (e.g. 100 for points).
    pub fn scaled(&self, factor: f64) -> Self {
        Self {
            value: factor * self.value,
            stderr: factor * self.stderr,
            ci_low: factor * self.ci_low,
            ci_high: factor * self.ci_high,
            ..self.clone()
        }
    }
}

/// What [`Estimate::weighted_mean`] needs of one part: its weight, item count, mean and item
/// variance.
struct PartMoments {
    weight: f64,
    n: usize,
    mean: f64,
    item_variance: f64,
}

/// The variance of one part's item values used by [`Estimate::weighted_mean`]: the sample
/// variance, but never below that of a proportion shrunk towards ½, (x + 1)/(n + 2) with
/// x = Σ values, so a part whose items were all right (or all wrong) still counts as uncertain.
/// For values in [0, 1] the floor nearly always binds: averaging several samples per item does
/// not narrow the interval (conservative: the simulation shows ≥ 99.5% coverage there).
fn item_variance(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let shrunk = (values.iter().sum::<f64>() + 1.0) / (n + 2.0);
    let sample = if values.len() > 1 {
        let m = mean(values);
        values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    sample.max(shrunk * (1.0 - shrunk))
}

/// The exact (Clopper–Pearson) two-sided 95% interval for `successes` of `n` trials; both may be
/// fractional (an effective sample size), via the beta quantiles
/// Beta(α/2; x, n − x + 1) and Beta(1 − α/2; x + 1, n − x). (0, 1) when n = 0.
pub fn clopper_pearson(successes: f64, n: f64) -> (f64, f64) {
    if !(n > 0.0 && n.is_finite() && successes.is_finite()) {
        return (0.0, 1.0);
    }
    let x = successes.clamp(0.0, n);
    let alpha = 0.05;
    let low = if x <= 0.0 {
        0.0
    } else {
        beta_quantile(alpha / 2.0, x, n - x + 1.0)
    };
    let high = if x >= n {
        1.0
    } else {
        beta_quantile(1.0 - alpha / 2.0, x + 1.0, n - x)
    };
    (low, high)
}

/// The `q` quantile of the Beta(a, b) distribution, by bisection on its distribution function.
pub fn beta_quantile(q: f64, a: f64, b: f64) -> f64 {
    let (mut low, mut high) = (0.0f64, 1.0f64);
    for _ in 0..100 {
        let middle = 0.5 * (low + high);
        if regularized_incomplete_beta(a, b, middle) < q {
            low = middle;
        } else {
            high = middle;
        }
    }
    0.5 * (low + high)
}

/// The regularized incomplete beta function I_x(a, b): the Beta(a, b) distribution function at
/// `x`, by its continued fraction (Press et al., Numerical Recipes, 3rd ed., §6.4).
pub fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    // The continued fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry
    // I_x(a, b) = 1 − I_{1−x}(b, a) otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let away_from_zero = |v: f64| if v.abs() < TINY { TINY } else { v };
    // Modified Lentz: each term `aa` updates d and c; their product multiplies the fraction.
    let (mut c, mut d) = (1.0, 1.0 / away_from_zero(1.0 - qab * x / qap));
    let mut h = d;
    let mut term = |aa: f64| -> f64 {
        d = 1.0 / away_from_zero(1.0 + aa * d);
        c = away_from_zero(1.0 + aa / c);
        d * c
    };
    for m in 1..=10_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        h *= term(m * (b - m) * x / ((qam + m2) * (a + m2)));
        let step = term(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)));
        h *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0: the Lanczos approximation (g = 7, 9 coefficients), accurate to about
/// 1e-15 relative, with the reflection formula below ½.
pub fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

impl Estimate {
    /// A statistic with a percentile-bootstrap 95% interval: `statistic` is evaluated on
    /// `units` resampled with replacement [`BOOTSTRAP_RESAMPLES`] times. Below
    /// [`PRELIMINARY_BELOW`] units the bootstrap's coverage cannot be trusted (it collapses when
    /// every resample agrees), so the interval is then the whole range [0, 1].
    pub fn bootstrap<T>(units: &[T], statistic: impl Fn(&[&T]) -> f64) -> Self {
        let all: Vec<&T> = units.iter().collect();
        let value = statistic(&all);
        let replicates = bootstrap_replicates(units.len(), |indices| {
            let sample: Vec<&T> = indices.iter().map(|&i| &units[i]).collect();
            statistic(&sample)
        });
        let estimate = Self::from_replicates(units.len(), value, &replicates);
        if units.len() < PRELIMINARY_BELOW {
            return Self {
                ci_low: 0.0,
                ci_high: 1.0,
                ci_method: format!("none: fewer than {PRELIMINARY_BELOW} items"),
                ..estimate
            };
        }
        estimate
    }

    /// An estimate from a point value and bootstrap replicates of it.
    fn from_replicates(n: usize, value: f64, replicates: &[f64]) -> Self {
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
            preliminary: n < PRELIMINARY_BELOW,
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
    fn clopper_pearson_matches_published_values() {
        // 8 of 10: (0.4439, 0.9748); 0 of 10: (0, 0.3085) — e.g. Newcombe 1998, Table I, method 5.
        let (low, high) = clopper_pearson(8.0, 10.0);
        assert!(close(low, 0.4439) && close(high, 0.9748), "{low} {high}");
        let (low, high) = clopper_pearson(0.0, 10.0);
        assert!(low == 0.0 && close(high, 0.3085), "{low} {high}");
        let (low, high) = clopper_pearson(10.0, 10.0);
        assert!(close(low, 0.6915) && high == 1.0, "{low} {high}");
    }

    #[test]
    fn a_weighted_mean_of_estimates_equals_the_one_of_their_items() {
        // Two tasks of different sizes and accuracies, averaged with equal weights; one part all
        // wrong (its variance comes from the floor), as from the items themselves.
        let outcomes = |n: usize, right: usize| -> Vec<f64> {
            (0..n).map(|i| if i < right { 1.0 } else { 0.0 }).collect()
        };
        for (a, b) in [
            (outcomes(2376, 1013), outcomes(1172, 315)),
            (outcomes(40, 0), outcomes(164, 89)),
        ] {
            let from_items = Estimate::weighted_mean(&[(0.5, &a), (0.5, &b)]);
            let (ea, eb) = (Estimate::proportion(&a), Estimate::proportion(&b));
            let from_estimates = Estimate::weighted_mean_of_estimates(&[(0.5, &ea), (0.5, &eb)]);
            assert_eq!(from_estimates.n, from_items.n);
            for (x, y) in [
                (from_estimates.value, from_items.value),
                (from_estimates.stderr, from_items.stderr),
                (from_estimates.ci_low, from_items.ci_low),
                (from_estimates.ci_high, from_items.ci_high),
            ] {
                assert!(
                    (x - y).abs() < 1e-9,
                    "{from_estimates:?} against {from_items:?}"
                );
            }
            assert!(from_estimates.ci_low < from_estimates.value);
            assert!(from_estimates.value < from_estimates.ci_high);
        }
    }

    #[test]
    fn incomplete_beta_matches_closed_forms() {
        // I_x(1, b) = 1 − (1 − x)^b and I_x(a, 1) = x^a.
        for &(a, b, x) in &[
            (1.0, 3.0, 0.2),
            (1.0, 7.5, 0.6),
            (2.5, 1.0, 0.3),
            (4.0, 1.0, 0.9),
        ] {
            let expected = if a == 1.0 {
                1.0 - (1.0f64 - x).powf(b)
            } else {
                x.powf(a)
            };
            let got = regularized_incomplete_beta(a, b, x);
            assert!(
                (got - expected).abs() < 1e-12,
                "I_{x}({a}, {b}) = {got}, not {expected}"
            );
        }
        // Symmetric beta: I_½(a, a) = ½.
        assert!((regularized_incomplete_beta(13.0, 13.0, 0.5) - 0.5).abs() < 1e-12);
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn proportion_estimate() {
        let estimate = Estimate::proportion(&[1.0, 0.0, 1.0, 1.0]);
        assert_eq!(estimate.n, 4);
        assert!(close(estimate.value, 0.75));
        assert!(close(estimate.stderr, 0.25));
        assert!(estimate.ci_low < 0.75 && estimate.ci_high > 0.75);
        assert!(estimate.preliminary);
        // All right is not certainty: the interval stays open below.
        let all_right = Estimate::proportion(&[1.0; 5]);
        assert!(
            all_right.ci_low < 0.5 && all_right.ci_high == 1.0,
            "{all_right:?}"
        );
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
        let few = Estimate::bootstrap(&values[..10], |s| s.len() as f64);
        assert_eq!((few.ci_low, few.ci_high, few.preliminary), (0.0, 1.0, true));
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
