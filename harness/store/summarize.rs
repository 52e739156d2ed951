//! Aggregation of sample records into per model × task results, suite scores and the quality
//! index.
//!
//! - A per-sample metric with one 0/1 sample per item is a proportion (exact Clopper–Pearson
//!   interval); with several samples per item it is the mean over items of each item's mean, and
//!   pass@k for k > 1 uses the unbiased estimator per item; both get a Clopper–Pearson interval
//!   at the effective sample size (see `metrics::stats`).
//! - macro-F1 is computed over all samples, with a bootstrap interval over samples.
//! - A suite score is the unweighted mean of its tasks' headline metrics (each a proportion in
//!   [0, 1]); the quality index is 100 × the unweighted mean of a model's suite scores over the
//!   tasks of the index definition (`tasks/index.toml`) that the run has. Both are weighted means
//!   of the tasks' item values, with the same effective-size interval.

use std::collections::BTreeMap;

use super::records::{QualityIndex, SampleRecord, SpeedSummary, SuiteScore, TaskResult};
use crate::metrics::stats::mean;
use crate::metrics::{macro_f1, pass_at_k, Distribution, Estimate};
use crate::scoring::primary_metric;
use crate::tasks::{IndexDefinition, MetricKind, Task};

/// Everything aggregated from one run's samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregates {
    /// Per model × task.
    pub results: Vec<TaskResult>,
    /// Per model × suite.
    pub suites: Vec<SuiteScore>,
    /// Per model.
    pub quality: Vec<QualityIndex>,
}

/// Aggregates `samples`; `task_of` finds each task's spec (metrics, suite).
pub fn summarize<'a>(
    samples: &[SampleRecord],
    task_of: &dyn Fn(&str) -> Option<&'a Task>,
) -> Aggregates {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&SampleRecord>> = BTreeMap::new();
    for sample in samples {
        let key = (sample.model.clone(), sample.task.clone());
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(sample);
    }
    let mut results = Vec::new();
    let mut headline = Headlines::new();
    for key in order {
        let group = &groups[&key];
        let (model, task_name) = key;
        let task = task_of(&task_name);
        let suite = task.map_or_else(|| "unknown".to_string(), |t| t.spec.suite.clone());
        let primary = task.map(primary_metric).unwrap_or_default();
        let by_item = by_item(group);
        let mut metrics = per_sample_metrics(&by_item);
        if let Some(task) = task {
            metrics.extend(corpus_metrics(task, group, &by_item));
        }
        if let Some(values) = item_values(&by_item, &primary) {
            headline
                .entry(model.clone())
                .or_default()
                .entry(suite.clone())
                .or_default()
                .push((task_name.clone(), values));
        }
        let groups = group_estimates(group, &primary);
        let chance = chance_level(&by_item);
        results.push(TaskResult {
            task_version: group[0].task_version,
            n: group.len(),
            primary_metric: primary,
            metrics,
            groups,
            chance,
            speed: speed_summary(group),
            suite,
            model,
            task: task_name,
        });
    }
    let (suites, quality) = suite_scores(&headline);
    Aggregates {
        results,
        suites,
        quality,
    }
}

/// The accuracy of guessing among each multiple-choice item's choices, averaged over items.
fn chance_level(by_item: &BTreeMap<usize, Vec<&SampleRecord>>) -> Option<f64> {
    let odds: Option<Vec<f64>> = by_item
        .values()
        .map(|samples| {
            let choices = samples.first()?.multiple_choice.as_ref()?.choices.len();
            Some(1.0 / choices as f64)
        })
        .collect();
    odds.filter(|o| !o.is_empty()).map(|o| mean(&o))
}

/// The headline metric within each group of items (samples without a group: none).
fn group_estimates(group: &[&SampleRecord], primary: &str) -> BTreeMap<String, Estimate> {
    let mut members: BTreeMap<&str, Vec<&SampleRecord>> = BTreeMap::new();
    for sample in group {
        if let Some(name) = &sample.group {
            members.entry(name).or_default().push(sample);
        }
    }
    members
        .into_iter()
        .filter_map(|(name, samples)| {
            let values = item_values(&by_item(&samples), primary)?;
            Some((name.to_string(), Estimate::mean_of_items(&values)))
        })
        .collect()
}

fn by_item<'s>(group: &[&'s SampleRecord]) -> BTreeMap<usize, Vec<&'s SampleRecord>> {
    let mut items: BTreeMap<usize, Vec<&SampleRecord>> = BTreeMap::new();
    for sample in group {
        items.entry(sample.item_index).or_default().push(sample);
    }
    items
}

/// Each item's mean of a per-sample metric, in item order.
fn item_values(by_item: &BTreeMap<usize, Vec<&SampleRecord>>, key: &str) -> Option<Vec<f64>> {
    by_item
        .values()
        .map(|samples| {
            let values: Vec<f64> = samples
                .iter()
                .filter_map(|s| s.scores.get(key).copied())
                .collect();
            (!values.is_empty()).then(|| mean(&values))
        })
        .collect()
}

fn per_sample_metrics(by_item: &BTreeMap<usize, Vec<&SampleRecord>>) -> BTreeMap<String, Estimate> {
    let mut keys: Vec<&String> = by_item
        .values()
        .flatten()
        .flat_map(|s| s.scores.keys())
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let values = item_values(by_item, key)?;
            Some((key.clone(), Estimate::mean_of_items(&values)))
        })
        .collect()
}

fn corpus_metrics(
    task: &Task,
    group: &[&SampleRecord],
    by_item: &BTreeMap<usize, Vec<&SampleRecord>>,
) -> BTreeMap<String, Estimate> {
    let mut out = BTreeMap::new();
    for metric in &task.spec.metrics {
        for filter in &metric.filters {
            match metric.name {
                MetricKind::MacroF1 => {
                    let estimate = Estimate::bootstrap(group, |samples| {
                        let pairs: Vec<(Option<&str>, &str)> = samples
                            .iter()
                            .map(|s| {
                                let predicted = s.extracted.get(filter).and_then(|a| a.as_deref());
                                (predicted, s.reference.as_str())
                            })
                            .collect();
                        macro_f1(&pairs, &metric.labels)
                    });
                    out.insert(format!("macro_f1,{filter}"), estimate);
                }
                MetricKind::PassAtK => {
                    let key = format!("pass@1,{filter}");
                    let counts: Vec<(usize, usize)> = by_item
                        .values()
                        .map(|samples| {
                            let passed = samples
                                .iter()
                                .filter(|s| s.scores.get(&key) == Some(&1.0))
                                .count();
                            (samples.len(), passed)
                        })
                        .collect();
                    let fewest = counts.iter().map(|(n, _)| *n).min().unwrap_or(0);
                    for &k in metric.k.iter().filter(|&&k| k > 1 && k <= fewest) {
                        let per_item: Vec<f64> =
                            counts.iter().map(|&(n, c)| pass_at_k(n, c, k)).collect();
                        let estimate = Estimate::mean_of_items(&per_item);
                        out.insert(format!("pass@{k},{filter}"), estimate);
                    }
                }
                MetricKind::ExactMatch | MetricKind::Acc | MetricKind::AccNorm => {}
            }
        }
    }
    out
}

/// model → suite → (task, each item's headline value).
type Headlines = BTreeMap<String, BTreeMap<String, Vec<(String, Vec<f64>)>>>;

fn suite_scores(headline: &Headlines) -> (Vec<SuiteScore>, Vec<QualityIndex>) {
    let mut suites = Vec::new();
    let mut quality = Vec::new();
    for (model, by_suite) in headline {
        for (suite, tasks) in by_suite {
            let weight = 1.0 / tasks.len() as f64;
            let parts: Vec<(f64, &[f64])> =
                tasks.iter().map(|(_, v)| (weight, v.as_slice())).collect();
            suites.push(SuiteScore {
                model: model.clone(),
                suite: suite.clone(),
                tasks: tasks.iter().map(|(name, _)| name.clone()).collect(),
                score: Estimate::weighted_mean(&parts),
            });
        }
        // The index: only the tasks of the index definition count.
        let definition = IndexDefinition::shipped();
        let indexed: BTreeMap<&String, Vec<&(String, Vec<f64>)>> = by_suite
            .iter()
            .map(|(suite, tasks)| {
                let kept = tasks
                    .iter()
                    .filter(|(t, _)| definition.suite_of(t) == Some(suite.as_str()));
                (suite, kept.collect::<Vec<_>>())
            })
            .filter(|(_, tasks)| !tasks.is_empty())
            .collect();
        if indexed.is_empty() {
            continue;
        }
        quality.push(QualityIndex {
            model: model.clone(),
            suites: indexed.keys().map(|s| s.to_string()).collect(),
            index_version: definition.version,
            tasks: indexed.values().flatten().map(|(t, _)| t.clone()).collect(),
            index: quality_index(indexed.values().map(|tasks| {
                tasks
                    .iter()
                    .map(|(_, values)| values.as_slice())
                    .collect::<Vec<_>>()
            })),
        });
    }
    (suites, quality)
}

/// The quality index of suites given as their tasks' per-item headline values: 100 × the mean
/// of the suite means, each suite the mean of its tasks' means, with its interval.
pub fn quality_index<'v>(suites: impl Iterator<Item = Vec<&'v [f64]>>) -> Estimate {
    let suites: Vec<Vec<&[f64]>> = suites.filter(|tasks| !tasks.is_empty()).collect();
    let mut parts = Vec::new();
    for tasks in &suites {
        for values in tasks {
            parts.push((1.0 / (suites.len() * tasks.len()) as f64, *values));
        }
    }
    Estimate::weighted_mean(&parts).scaled(100.0)
}

fn speed_summary(group: &[&SampleRecord]) -> SpeedSummary {
    let collect = |f: &dyn Fn(&SampleRecord) -> Option<f64>| -> Vec<f64> {
        group.iter().filter_map(|s| f(s)).collect()
    };
    SpeedSummary {
        time_to_first_token_s: Distribution::of(&collect(&|s| Some(s.time_to_first_token_s))),
        output_tokens_per_second: Distribution::of(&collect(&|s| s.output_tokens_per_second)),
        prefill_tokens_per_second: Distribution::of(&collect(&|s| s.prefill_tokens_per_second)),
        total_latency_s: Distribution::of(&collect(&|s| Some(s.total_latency_s))),
        prompt_tokens: group.iter().map(|s| s.prompt_tokens).sum(),
        completion_tokens: group.iter().map(|s| s.completion_tokens).sum(),
        busy_seconds: group.iter().map(|s| s.total_latency_s).sum(),
        prefill_seconds: group.iter().map(|s| s.time_to_first_token_s).sum(),
        decode_seconds: group
            .iter()
            .map(|s| s.total_latency_s - s.time_to_first_token_s)
            .sum(),
    }
}
