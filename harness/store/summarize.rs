//! Aggregation of sample records into per model × task results.

use std::collections::BTreeMap;

use super::records::{SampleRecord, SpeedSummary, TaskResult};
use crate::metrics::{Distribution, Estimate};

/// Groups `samples` by (model, task) in first-seen order and aggregates each group.
/// `suite_of` and `primary_metric_of` give each task's suite and headline metric key.
pub fn summarize(
    samples: &[SampleRecord],
    suite_of: impl Fn(&str) -> String,
    primary_metric_of: impl Fn(&str) -> String,
) -> Vec<TaskResult> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&SampleRecord>> = BTreeMap::new();
    for sample in samples {
        let key = (sample.model.clone(), sample.task.clone());
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(sample);
    }
    order
        .into_iter()
        .map(|key| {
            let group = &groups[&key];
            let (model, task) = key;
            TaskResult {
                suite: suite_of(&task),
                primary_metric: primary_metric_of(&task),
                task_version: group[0].task_version,
                n: group.len(),
                metrics: metric_estimates(group),
                speed: speed_summary(group),
                model,
                task,
            }
        })
        .collect()
}

fn metric_estimates(group: &[&SampleRecord]) -> BTreeMap<String, Estimate> {
    let mut values: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for sample in group {
        for (key, value) in &sample.scores {
            values.entry(key).or_default().push(*value);
        }
    }
    values
        .into_iter()
        .map(|(key, values)| (key.to_string(), Estimate::proportion(&values)))
        .collect()
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
    }
}
