//! Results other tools read: a finished run written as lm-evaluation-harness writes its results
//! file (`results_<date>.json`, the `EvalResults` of its `result_schema.py`), so leaderboard
//! tooling built for lm-eval takes yardstick's results as they are.
//!
//! Per task: `results` (`name`, `alias`, `sample_len`, then `<metric>,<filter>` and
//! `<metric>_stderr,<filter>`, the headline first),
//! `versions`, `n-shot`, `configs` (the task's setting in lm-eval's config keys),
//! `higher_is_better` and `n-samples`; per file: `config`, `git_hash`, `date`, `model_name`.
//! One model per file, as lm-eval writes one per model. The standard errors are yardstick's: the
//! sample standard deviation over √n, as lm-eval computes them, for one 0/1 sample per item.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde_json::{json, Map, Value};

use crate::store::FinishedRun;
use crate::tasks::{Task, TaskSet};

/// What the export knows of a task beyond the run: its spec (when it still has the run's
/// version) and how many items its whole evaluation split has (when known).
pub struct TaskFacts<'a> {
    /// The task's current spec, if its version is the one the run used.
    pub spec: Option<&'a Task>,
    /// Items in the task's whole evaluation split.
    pub dataset_items: Option<usize>,
}

/// The run's results for `model` as an lm-evaluation-harness results file.
pub fn lm_eval_results<'t>(
    run: &FinishedRun,
    model: &str,
    facts: &dyn Fn(&str, u32) -> TaskFacts<'t>,
) -> Result<Value> {
    let manifest = &run.manifest;
    if !manifest.models.iter().any(|m| m.id == model) {
        let ran: Vec<&str> = manifest.models.iter().map(|m| m.id.as_str()).collect();
        bail!(
            "run {} has no model {model:?}; it ran: {}",
            manifest.run_id,
            ran.join(", ")
        );
    }
    let mut results = Map::new();
    let mut configs = Map::new();
    let mut versions = Map::new();
    let mut n_shot = Map::new();
    let mut higher_is_better = Map::new();
    let mut n_samples = Map::new();
    let mut subtasks = Map::new();
    for result in run.summary.results.iter().filter(|r| r.model == model) {
        let task = result.task.as_str();
        let facts = facts(task, result.task_version);
        let mut metrics = Map::new();
        metrics.insert("name".into(), json!(task));
        metrics.insert("alias".into(), json!(task));
        metrics.insert("sample_len".into(), json!(result.n));
        let mut better = Map::new();
        // The headline metric first, as lm-eval lists a task's first metric first.
        let mut keys: Vec<&String> = result.metrics.keys().collect();
        keys.sort_by_key(|k| **k != result.primary_metric);
        for key in keys {
            let estimate = &result.metrics[key];
            let (metric, filter) = key.split_once(',').unwrap_or((key.as_str(), "none"));
            metrics.insert(format!("{metric},{filter}"), json!(estimate.value));
            metrics.insert(format!("{metric}_stderr,{filter}"), json!(estimate.stderr));
            better.insert(metric.to_string(), json!(true));
        }
        results.insert(task.into(), Value::Object(metrics));
        higher_is_better.insert(task.into(), Value::Object(better));
        subtasks.insert(task.into(), json!([]));
        versions.insert(task.into(), json!(f64::from(result.task_version)));
        let shots = facts
            .spec
            .and_then(|t| t.spec.fewshot.as_ref())
            .map_or(0, |f| f.count);
        n_shot.insert(task.into(), json!(shots));
        n_samples.insert(
            task.into(),
            json!({
                "original": facts.dataset_items.unwrap_or(result.n),
                "effective": result.n,
            }),
        );
        configs.insert(
            task.into(),
            task_config(run, task, result.task_version, shots, facts.spec),
        );
    }
    if results.is_empty() {
        bail!(
            "run {} has no results for {model} (a run stopped before its first item?)",
            manifest.run_id
        );
    }
    let record = manifest.models.iter().find(|m| m.id == model);
    let date = chrono::DateTime::parse_from_rfc3339(&manifest.started_at)
        .map(|d| d.timestamp() as f64)
        .unwrap_or(0.0);
    let mut exported = json!({
        "results": results,
        "group_subtasks": subtasks,
        "configs": configs,
        "versions": versions,
        "n-shot": n_shot,
        "higher_is_better": higher_is_better,
        "n-samples": n_samples,
        "config": {
            "model": "yardstick",
            "model_args": format!(
                "model={model},gguf_sha256={},backend={} {}",
                record.map_or("", |r| r.sha256.as_str()),
                manifest.backend,
                manifest.backend_version
            ),
            "batch_size": "1",
            "batch_sizes": [],
            "device": "cpu",
            "use_cache": null,
            "limit": manifest.limit,
            "bootstrap_iters": 0,
            "gen_kwargs": null,
            "fewshot_seed": crate::tasks::LM_EVAL_FEWSHOT_SEED,
        },
        "git_hash": manifest.git_commit,
        "date": date,
        "model_source": "yardstick",
        "model_name": model,
        "model_name_sanitized": model.replace('/', "__"),
        "total_evaluation_time_seconds": run.summary.wall_seconds.to_string(),
    });
    if let Some(dtype) = &manifest.dtype {
        exported["config"]["model_dtype"] = json!(dtype);
    }
    Ok(exported)
}

/// One task's setting under lm-eval's config keys.
fn task_config(
    run: &FinishedRun,
    task: &str,
    version: u32,
    shots: usize,
    spec: Option<&Task>,
) -> Value {
    let manifest = &run.manifest;
    let record = manifest.tasks.iter().find(|t| t.name == task);
    let mut config: BTreeMap<&str, Value> = BTreeMap::from([
        ("task", json!(task)),
        ("output_type", json!("generate_until")),
        ("num_fewshot", json!(shots)),
        ("repeats", json!(manifest.samples_per_item)),
        ("metadata", json!({ "version": f64::from(version) })),
    ]);
    if let Some(record) = record {
        config.insert("tag", json!([record.suite]));
        if let Some(dataset) = record.datasets.first() {
            config.insert("dataset_path", json!(dataset.file));
        }
    }
    let max_tokens = record.map(|r| r.max_new_tokens);
    let temperature = manifest.sampling.temperature;
    let mut generation = json!({
        "max_gen_toks": max_tokens,
        "do_sample": temperature > 0.0,
        "temperature": temperature,
    });
    if let Some(task) = spec {
        generation["until"] = json!(task.spec.generation.stop);
        config.insert("description", json!(task.spec.description));
        config.insert("doc_to_text", json!(task.spec.prompt.template));
    }
    config.insert("generation_kwargs", generation);
    json!(config)
}

/// `TaskFacts` for `task` from the current task set: the spec only when `version` is its version.
pub fn facts_from<'a>(
    tasks: &'a TaskSet,
    task: &str,
    version: u32,
    dataset_items: Option<usize>,
) -> TaskFacts<'a> {
    TaskFacts {
        spec: tasks.get(task).ok().filter(|t| t.spec.version == version),
        dataset_items,
    }
}
