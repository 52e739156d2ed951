//! Comparing two runs: per model × task run under the same configuration
//! ([`TaskConfig`]), the change of the headline metric with a 95% interval and a paired test on
//! the items both runs scored — the sign-flip test of `metrics::paired`, which is the exact
//! McNemar test for one pass/fail outcome per item and keeps its level with several samples per
//! item — with its minimum detectable difference, the items that flipped, and the change in
//! output speed when both runs measured it under the same conditions ([`SpeedConditions`]).
//! Reads only what the store wrote.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::metrics::paired::{
    difference_interval, minimum_detectable_difference, sign_flip_p_value,
};
pub use crate::metrics::paired::{mcnemar_exact, ALPHA};
use crate::metrics::stats::{mean, percentile};
use crate::natural::sort_naturally;
use crate::store::{read_finished_run, SampleRecord, SpeedConditions, TaskConfig};
/// A significant drop in median output speed counts as a regression from this size on.
pub const SPEED_REGRESSION: f64 = 0.10;

/// The comparison of two runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// Baseline run id.
    pub baseline: String,
    /// Candidate run id.
    pub candidate: String,
    /// One entry per model × task present in both runs under the same configuration.
    pub entries: Vec<TaskComparison>,
    /// Model × task pairs present in both runs but not compared, with the reason.
    pub not_comparable: Vec<(String, String, String)>,
    /// Why output speed was not compared, when the runs measured it under different conditions.
    pub speed_not_comparable: Option<String>,
    /// Whether anything regressed significantly.
    pub regressed: bool,
}

/// What a paired test says of a change in quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Significantly worse.
    Regressed,
    /// Significantly better.
    Improved,
    /// No significant difference.
    Unchanged,
}

impl Change {
    /// Lower-case name, as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Regressed => "regressed",
            Self::Improved => "improved",
            Self::Unchanged => "unchanged",
        }
    }
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
    /// 95% interval of the delta (Newcombe's paired interval).
    pub delta_ci: (f64, f64),
    /// `mcnemar-exact` (one pass/fail outcome per item) or `sign-flip` (item means).
    pub test: String,
    /// Two-sided p-value.
    pub p_value: f64,
    /// The smallest |delta| this comparison could detect (see `metrics::paired`).
    pub minimum_detectable_delta: f64,
    /// Regressed, improved or unchanged (not significant).
    pub verdict: Change,
    /// Items that passed in the baseline and fail in the candidate.
    pub flipped_to_fail: Vec<String>,
    /// Items that failed in the baseline and pass in the candidate.
    pub flipped_to_pass: Vec<String>,
    /// Median output tokens/s, baseline and candidate, when both measured speed.
    pub output_tokens_per_second: Option<(f64, f64)>,
    /// Sign-flip p-value of the speed change.
    pub speed_p_value: Option<f64>,
    /// Whether speed regressed (significant and at least [`SPEED_REGRESSION`]).
    pub speed_regressed: bool,
}

/// Compares the runs in folders `baseline` and `candidate`.
pub fn compare(baseline: &Path, candidate: &Path) -> Result<Comparison> {
    let base = read_finished_run(baseline)?;
    let cand = read_finished_run(candidate)?;
    let speed_not_comparable = SpeedConditions::of(&base.manifest)
        .difference(&SpeedConditions::of(&cand.manifest))
        .map(|why| {
            format!("output speed not compared: measured under different conditions ({why})")
        });
    let mut entries = Vec::new();
    let mut not_comparable = Vec::new();
    for result in &cand.summary.results {
        let Some(base_result) = base
            .summary
            .results
            .iter()
            .find(|r| r.model == result.model && r.task == result.task)
        else {
            continue;
        };
        let configs = (
            TaskConfig::of(&base.manifest, &result.model, &result.task),
            TaskConfig::of(&cand.manifest, &result.model, &result.task),
        );
        let difference = match &configs {
            (Some(b), Some(c)) => b.difference(c),
            _ => Some("the task is missing from a manifest".into()),
        };
        let difference = difference.or_else(|| {
            (base_result.primary_metric != result.primary_metric).then(|| {
                format!(
                    "headline metric {} vs {}",
                    base_result.primary_metric, result.primary_metric
                )
            })
        });
        if let Some(why) = difference {
            not_comparable.push((result.model.clone(), result.task.clone(), why));
            continue;
        }
        let pick = |samples: &[SampleRecord]| -> BTreeMap<(String, usize), SampleRecord> {
            samples
                .iter()
                .filter(|s| s.model == result.model && s.task == result.task)
                .map(|s| ((s.item_id.clone(), s.sample_index), s.clone()))
                .collect()
        };
        let (base_samples, cand_samples) = (pick(&base.samples), pick(&cand.samples));
        let pairs: Vec<(&SampleRecord, &SampleRecord)> = base_samples
            .iter()
            .filter_map(|(key, b)| cand_samples.get(key).map(|c| (b, c)))
            .collect();
        if pairs.is_empty() {
            not_comparable.push((
                result.model.clone(),
                result.task.clone(),
                "no item scored in both runs".into(),
            ));
            continue;
        }
        let mut entry = compare_task(&result.model, &result.task, &result.primary_metric, &pairs);
        if speed_not_comparable.is_some() {
            entry.output_tokens_per_second = None;
            entry.speed_p_value = None;
            entry.speed_regressed = false;
        }
        entries.push(entry);
    }
    if entries.is_empty() {
        let reasons: Vec<String> = not_comparable
            .iter()
            .map(|(model, task, why)| format!("{model} · {task}: {why}"))
            .collect();
        bail!(
            "the runs share no model × task that can be compared{}",
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join("; "))
            }
        );
    }
    let regressed = entries
        .iter()
        .any(|e| e.verdict == Change::Regressed || e.speed_regressed);
    Ok(Comparison {
        baseline: base.summary.run_id,
        candidate: cand.summary.run_id,
        entries,
        not_comparable,
        speed_not_comparable,
        regressed,
    })
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
        let mut ids: Vec<String> = items
            .iter()
            .filter(|(_, b, c)| *b == from && *c == 1.0 - from)
            .map(|(id, _, _)| id.to_string())
            .collect();
        sort_naturally(&mut ids);
        ids
    };
    let (flipped_to_fail, flipped_to_pass) = if binary {
        (flipped(1.0), flipped(0.0))
    } else {
        (Vec::new(), Vec::new())
    };
    let n = differences.len() as f64;
    let contributions: Vec<f64> = differences.iter().map(|d| d / n).collect();
    let delta = mean(&differences);
    let p_value = sign_flip_p_value(&contributions);
    let test = if binary { "mcnemar-exact" } else { "sign-flip" };
    let baseline_values: Vec<f64> = items.iter().map(|(_, b, _)| *b).collect();
    let candidate_values: Vec<f64> = items.iter().map(|(_, _, c)| *c).collect();
    let verdict = match (p_value < ALPHA, delta) {
        (true, d) if d < 0.0 => Change::Regressed,
        (true, d) if d > 0.0 => Change::Improved,
        _ => Change::Unchanged,
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
        let speed_differences: Vec<f64> = speeds.iter().map(|(b, c)| c - b).collect();
        let p = sign_flip_p_value(&speed_differences);
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
        baseline: mean(&baseline_values),
        candidate: mean(&candidate_values),
        delta,
        delta_ci: difference_interval(&baseline_values, &candidate_values),
        test: test.to_string(),
        p_value,
        minimum_detectable_delta: minimum_detectable_difference(
            &contributions,
            &vec![1.0 / n; differences.len()],
        ),
        verdict,
        flipped_to_fail,
        flipped_to_pass,
        output_tokens_per_second,
        speed_p_value,
        speed_regressed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sample `index` of item `item` of model m on task t, passed or not.
    fn sample(item: usize, index: usize, passed: bool) -> SampleRecord {
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
    }

    #[test]
    fn several_samples_per_item_are_averaged_per_item() {
        // Each of 20 items: baseline 2 of 2 samples pass, candidate 1 of 2.
        let base: Vec<SampleRecord> = (0..20)
            .flat_map(|i| [sample(i, 0, true), sample(i, 1, true)])
            .collect();
        let cand: Vec<SampleRecord> = (0..20)
            .flat_map(|i| [sample(i, 0, true), sample(i, 1, false)])
            .collect();
        let pairs: Vec<(&SampleRecord, &SampleRecord)> = base.iter().zip(&cand).collect();
        let entry = compare_task("m", "t", "pass@1,raw", &pairs);
        assert_eq!(entry.test, "sign-flip");
        assert_eq!(
            (entry.baseline, entry.candidate, entry.delta),
            (1.0, 0.5, -0.5)
        );
        assert!(
            entry.flipped_to_fail.is_empty(),
            "no flips when items have several samples"
        );
        assert_eq!(entry.verdict, Change::Regressed);
        assert!(entry.p_value < 1e-5, "{}", entry.p_value);
    }

    #[test]
    fn the_issue_examples_keep_the_level() {
        // Item differences [-0.5, -0.5, -0.5, 0, 0] with two samples per item: sign test 0.25.
        let base: Vec<SampleRecord> = (0..5)
            .flat_map(|i| [sample(i, 0, true), sample(i, 1, true)])
            .collect();
        let cand: Vec<SampleRecord> = (0..5)
            .flat_map(|i| [sample(i, 0, true), sample(i, 1, i >= 3)])
            .collect();
        let pairs: Vec<(&SampleRecord, &SampleRecord)> = base.iter().zip(&cand).collect();
        let entry = compare_task("m", "t", "pass@1,raw", &pairs);
        assert!((entry.p_value - 0.25).abs() < 1e-12, "{}", entry.p_value);
        assert_eq!(entry.verdict, Change::Unchanged);
        // Five pass→fail items: the same verdict and p-value with one and with two samples.
        let one: Vec<SampleRecord> = (0..5).map(|i| sample(i, 0, true)).collect();
        let one_failed: Vec<SampleRecord> = (0..5).map(|i| sample(i, 0, false)).collect();
        let pairs: Vec<(&SampleRecord, &SampleRecord)> = one.iter().zip(&one_failed).collect();
        let single = compare_task("m", "t", "pass@1,raw", &pairs);
        let two: Vec<SampleRecord> = (0..5)
            .flat_map(|i| [sample(i, 0, true), sample(i, 1, true)])
            .collect();
        let two_failed: Vec<SampleRecord> = (0..5)
            .flat_map(|i| [sample(i, 0, false), sample(i, 1, false)])
            .collect();
        let pairs: Vec<(&SampleRecord, &SampleRecord)> = two.iter().zip(&two_failed).collect();
        let double = compare_task("m", "t", "pass@1,raw", &pairs);
        assert_eq!(single.test, "mcnemar-exact");
        assert!((single.p_value - mcnemar_exact(0, 5)).abs() < 1e-12);
        assert!((double.p_value - single.p_value).abs() < 1e-12);
        assert_eq!(
            (single.verdict, double.verdict),
            (Change::Unchanged, Change::Unchanged)
        );
        // Five items cannot show any change: at least six discordant items are needed.
        assert!(single.minimum_detectable_delta >= 1.0 - 1e-12);
        assert!(single.delta_ci.0 <= single.delta && single.delta_ci.1 > single.delta + 0.3);
    }
}
