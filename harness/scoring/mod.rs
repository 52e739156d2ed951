//! Scoring: a model output becomes extracted answers and per-sample metric values.

use std::collections::BTreeMap;

use crate::tasks::{MetricKind, Task};

/// The scoring of one output.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Each filter's extracted answer.
    pub extracted: BTreeMap<String, Option<String>>,
    /// Metric values keyed `metric,filter`.
    pub scores: BTreeMap<String, f64>,
    /// Whether the primary metric counts the sample as correct.
    pub correct: bool,
}

/// The key of a metric computed on a filter, as lm-evaluation-harness writes it.
pub fn metric_key(metric: MetricKind, filter: &str) -> String {
    format!("{},{filter}", metric.as_str())
}

/// The task's headline metric key: its first metric on its first filter.
pub fn primary_metric(task: &Task) -> String {
    let metric = &task.spec.metrics[0];
    metric_key(metric.name, &metric.filters[0])
}

/// Scores `output` against `reference` with the task's filters and metrics.
pub fn score(task: &Task, output: &str, reference: &str) -> Scored {
    let extracted: BTreeMap<String, Option<String>> = task.extract(output).into_iter().collect();
    let mut scores = BTreeMap::new();
    for metric in &task.spec.metrics {
        for filter in &metric.filters {
            let answer = extracted.get(filter).and_then(|a| a.as_deref());
            let value = match metric.name {
                MetricKind::ExactMatch => f64::from(u8::from(answer == Some(reference))),
            };
            scores.insert(metric_key(metric.name, filter), value);
        }
    }
    let correct = scores.get(&primary_metric(task)).is_some_and(|v| *v >= 1.0);
    Scored {
        extracted,
        scores,
        correct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::TaskSet;
    use std::path::Path;

    #[test]
    fn gsm8k_scores_strict_and_flexible_separately() {
        let set = TaskSet::discover(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks")).unwrap();
        let task = set.get("gsm8k").unwrap();
        let scored = score(task, "She has 5 + 13 = 18 eggs. The answer is 18.", "18");
        assert_eq!(scored.scores["exact_match,strict-match"], 0.0);
        assert_eq!(scored.scores["exact_match,flexible-extract"], 1.0);
        assert!(!scored.correct);
        let scored = score(task, "5 + 13 = 18\n#### 18", "18");
        assert!(scored.correct);
        assert_eq!(primary_metric(task), "exact_match,strict-match");
    }
}
