//! Comparing two runs: per model × task, the change of the headline metric with a 95% interval
//! and a paired test on the items both runs scored — exact McNemar for pass/fail outcomes, a
//! paired bootstrap otherwise — the items that flipped, and the change in output speed.
//! Reads only what the store wrote.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::metrics::stats::{bootstrap_replicates, mean, percentile};
use crate::store::{read_samples, SampleRecord, Summary};

/// Significance level of every test.
pub const ALPHA: f64 = 0.05;
/// A significant drop in median output speed counts as a regression from this size on.
pub const SPEED_REGRESSION: f64 = 0.10;

/// The comparison of two runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// Baseline run id.
    pub baseline: String,
    /// Candidate run id.
    pub candidate: String,
    /// One entry per model × task present in both runs.
    pub entries: Vec<TaskComparison>,
    /// Whether anything regressed significantly.
    pub regressed: bool,
}

/// One model × task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskComparison {
    /// Model id.
    pub model: String,
    /// Task name.
    pub task: String,
    /// Headline metric key.
    pub metric: String,
    /// Samples both runs scored (same item and sample index).
    pub shared: usize,
    /// Baseline mean on the shared samples.
    pub baseline: f64,
    /// Candidate mean on the shared samples.
    pub candidate: f64,
    /// candidate − baseline.
    pub delta: f64,
    /// 95% paired-bootstrap interval of the delta.
    pub delta_ci: (f64, f64),
    /// `mcnemar` (pass/fail, one sample per item) or `paired-bootstrap` (over items).
    pub test: String,
    /// Two-sided p-value.
    pub p_value: f64,
    /// `regressed`, `improved` or `unchanged` (not significant).
    pub verdict: String,
    /// Items that passed in the baseline and fail in the candidate.
    pub flipped_to_fail: Vec<String>,
    /// Items that failed in the baseline and pass in the candidate.
    pub flipped_to_pass: Vec<String>,
    /// Median output tokens/s, baseline and candidate, when both measured speed.
    pub output_tokens_per_second: Option<(f64, f64)>,
    /// Paired-bootstrap p-value of the speed change.
    pub speed_p_value: Option<f64>,
    /// Whether speed regressed (significant and at least [`SPEED_REGRESSION`]).
    pub speed_regressed: bool,
}

/// Compares the runs in folders `baseline` and `candidate`.
pub fn compare(baseline: &Path, candidate: &Path) -> Result<Comparison> {
    let (base_summary, base_samples) = read_run(baseline)?;
    let (cand_summary, cand_samples) = read_run(candidate)?;
    let mut entries = Vec::new();
    for result in &cand_summary.results {
        let Some(base_result) = base_summary
            .results
            .iter()
            .find(|r| r.model == result.model && r.task == result.task)
        else {
            continue;
        };
        if base_result.primary_metric != result.primary_metric {
            bail!(
                "{} on {}: the runs use different headline metrics ({} vs {}); compare runs of the same task version",
                result.model, result.task, base_result.primary_metric, result.primary_metric
            );
        }
        let pick = |samples: &[SampleRecord]| -> BTreeMap<(String, usize), SampleRecord> {
            samples
                .iter()
                .filter(|s| s.model == result.model && s.task == result.task)
                .map(|s| ((s.item_id.clone(), s.sample_index), s.clone()))
                .collect()
        };
        let (base, cand) = (pick(&base_samples), pick(&cand_samples));
        let pairs: Vec<(&SampleRecord, &SampleRecord)> = base
            .iter()
            .filter_map(|(key, b)| cand.get(key).map(|c| (b, c)))
            .collect();
        if pairs.is_empty() {
            continue;
        }
        entries.push(compare_task(
            &result.model,
            &result.task,
            &result.primary_metric,
            &pairs,
        ));
    }
    if entries.is_empty() {
        bail!("the runs share no model × task with scored items in common");
    }
    let regressed = entries
        .iter()
        .any(|e| e.verdict == "regressed" || e.speed_regressed);
    Ok(Comparison {
        baseline: base_summary.run_id,
        candidate: cand_summary.run_id,
        entries,
        regressed,
    })
}

fn read_run(dir: &Path) -> Result<(Summary, Vec<SampleRecord>)> {
    let summary: Summary =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).with_context(|| {
            format!(
                "cannot read {}/summary.json (is the run finished?)",
                dir.display()
            )
        })?)
        .with_context(|| format!("{}/summary.json is not a yardstick summary", dir.display()))?;
    Ok((summary, read_samples(dir)?))
}

fn compare_task(
    model: &str,
    task: &str,
    metric: &str,
    pairs: &[(&SampleRecord, &SampleRecord)],
) -> TaskComparison {
    let value = |s: &SampleRecord| s.scores.get(metric).copied().unwrap_or(0.0);
    // Items are the unit of every test: with several samples per item, each item's samples are
    // averaged first (they are not independent).
    let mut by_item: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for (b, c) in pairs {
        by_item
            .entry(b.item_id.as_str())
            .or_default()
            .push((value(b), value(c)));
    }
    let items: Vec<(&str, f64, f64)> = by_item
        .iter()
        .map(|(id, values)| {
            let n = values.len() as f64;
            (
                *id,
                values.iter().map(|v| v.0).sum::<f64>() / n,
                values.iter().map(|v| v.1).sum::<f64>() / n,
            )
        })
        .collect();
    let differences: Vec<f64> = items.iter().map(|(_, b, c)| c - b).collect();
    let one_sample_each = by_item.values().all(|v| v.len() == 1);
    let binary = one_sample_each
        && items
            .iter()
            .all(|(_, b, c)| [b, c].iter().all(|v| **v == 0.0 || **v == 1.0));
    let flipped = |from: f64| -> Vec<String> {
        items
            .iter()
            .filter(|(_, b, c)| *b == from && *c == 1.0 - from)
            .map(|(id, _, _)| id.to_string())
            .collect()
    };
    let (flipped_to_fail, flipped_to_pass) = if binary {
        (flipped(1.0), flipped(0.0))
    } else {
        (Vec::new(), Vec::new())
    };
    let replicates = bootstrap_replicates(differences.len(), |idx| {
        idx.iter().map(|&i| differences[i]).sum::<f64>() / idx.len() as f64
    });
    let delta = mean(&differences);
    let (test, p_value) = if binary {
        (
            "mcnemar",
            mcnemar_exact(flipped_to_pass.len(), flipped_to_fail.len()),
        )
    } else {
        ("paired-bootstrap", bootstrap_p_value(&replicates))
    };
    let verdict = match (p_value < ALPHA, delta) {
        (true, d) if d < 0.0 => "regressed",
        (true, d) if d > 0.0 => "improved",
        _ => "unchanged",
    };
    let speeds: Vec<(f64, f64)> = pairs
        .iter()
        .filter_map(|(b, c)| Some((b.output_tokens_per_second?, c.output_tokens_per_second?)))
        .collect();
    let (output_tokens_per_second, speed_p_value, speed_regressed) = if speeds.len() >= 2 {
        let base: Vec<f64> = speeds.iter().map(|s| s.0).collect();
        let cand: Vec<f64> = speeds.iter().map(|s| s.1).collect();
        let medians = (
            percentile(&base, 50.0).unwrap_or(0.0),
            percentile(&cand, 50.0).unwrap_or(0.0),
        );
        let speed_replicates = bootstrap_replicates(speeds.len(), |idx| {
            idx.iter().map(|&i| speeds[i].1 - speeds[i].0).sum::<f64>() / idx.len() as f64
        });
        let p = bootstrap_p_value(&speed_replicates);
        let drop = if medians.0 > 0.0 {
            (medians.0 - medians.1) / medians.0
        } else {
            0.0
        };
        (
            Some(medians),
            Some(p),
            p < ALPHA && drop >= SPEED_REGRESSION,
        )
    } else {
        (None, None, false)
    };
    TaskComparison {
        model: model.to_string(),
        task: task.to_string(),
        metric: metric.to_string(),
        shared: pairs.len(),
        baseline: mean(&items.iter().map(|(_, b, _)| *b).collect::<Vec<_>>()),
        candidate: mean(&items.iter().map(|(_, _, c)| *c).collect::<Vec<_>>()),
        delta,
        delta_ci: (
            percentile(&replicates, 2.5).unwrap_or(delta),
            percentile(&replicates, 97.5).unwrap_or(delta),
        ),
        test: test.to_string(),
        p_value,
        verdict: verdict.to_string(),
        flipped_to_fail,
        flipped_to_pass,
        output_tokens_per_second,
        speed_p_value,
        speed_regressed,
    }
}

/// Exact two-sided McNemar test on the discordant pairs `b` (fail→pass) and `c` (pass→fail):
/// twice the binomial(b + c, ½) tail at min(b, c), capped at 1 (McNemar 1947; the exact form
/// recommended for small counts, Fagerland et al. 2013).
pub fn mcnemar_exact(b: usize, c: usize) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    // P(X <= k) for X ~ Binomial(n, 1/2), summed in log space.
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

/// Two-sided p-value of "no change" from bootstrap replicates of a difference.
fn bootstrap_p_value(replicates: &[f64]) -> f64 {
    if replicates.is_empty() {
        return 1.0;
    }
    let n = replicates.len() as f64;
    let below = replicates.iter().filter(|r| **r <= 0.0).count() as f64 / n;
    let above = replicates.iter().filter(|r| **r >= 0.0).count() as f64 / n;
    (2.0 * below.min(above)).min(1.0)
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
    fn several_samples_per_item_are_averaged_per_item() {
        let sample = |item: usize, index: usize, passed: bool| {
            let mut s = SampleRecord::supplied(
                "m",
                "t",
                1,
                (item, &format!("t/{item}")),
                index,
                String::new(),
            );
            s.scores
                .insert("pass@1,raw".into(), f64::from(u8::from(passed)));
            s
        };
        // Each of 20 items: baseline 2 of 2 samples pass, candidate 1 of 2.
        let base: Vec<SampleRecord> = (0..20)
            .flat_map(|i| [sample(i, 0, true), sample(i, 1, true)])
            .collect();
        let cand: Vec<SampleRecord> = (0..20)
            .flat_map(|i| [sample(i, 0, true), sample(i, 1, false)])
            .collect();
        let pairs: Vec<(&SampleRecord, &SampleRecord)> = base.iter().zip(&cand).collect();
        let entry = compare_task("m", "t", "pass@1,raw", &pairs);
        assert_eq!(entry.test, "paired-bootstrap");
        assert_eq!(
            (entry.baseline, entry.candidate, entry.delta),
            (1.0, 0.5, -0.5)
        );
        assert!(
            entry.flipped_to_fail.is_empty(),
            "no flips when items have several samples"
        );
        assert_eq!(entry.verdict, "regressed");
    }

    #[test]
    fn bootstrap_p_value_is_two_sided() {
        assert_eq!(bootstrap_p_value(&[1.0, 2.0, 3.0]), 0.0);
        assert_eq!(bootstrap_p_value(&[-1.0, 1.0]), 1.0);
    }
}
