//! The runner: executes a plan (models × tasks × items) through a backend, scoring and appending
//! each sample as it finishes, then writes the summary.

mod plan;

use std::collections::HashSet;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

pub use plan::{PreparedTask, RunPlan, Shard};

use crate::backend::{Backend, GenerationRequest, Sampling};
use crate::machine::{peak_rss_bytes, MachineInfo};
use crate::models::ModelEntry;
use crate::scoring::{executes_code, sandbox, score};
use crate::store::{
    summarize, DatasetRecord, Manifest, ModelRecord, ModelRunRecord, RunDir, SampleRecord, Summary,
    TaskRecord, SCHEMA_VERSION,
};
use crate::tasks::{Item, Prompt, Task};

/// Loads a backend for a model (pulling it first if needed).
pub trait BackendLoader {
    /// The backend for `model`.
    fn load(&self, model: &ModelEntry) -> Result<Box<dyn Backend>>;
    /// Backend name and version for the manifest.
    fn backend_name(&self) -> (String, String);
}

/// What a finished run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The run folder.
    pub run_dir: std::path::PathBuf,
    /// The summary written to `summary.json`.
    pub summary: Summary,
}

/// The manifest of a new run of `plan`.
pub fn new_manifest(plan: &RunPlan, loader: &dyn BackendLoader, command: Vec<String>) -> Manifest {
    let (backend_name, backend_version) = loader.backend_name();
    Manifest {
        schema: SCHEMA_VERSION,
        run_id: plan.run_id.clone(),
        command,
        harness_version: crate::HARNESS_VERSION.into(),
        git_commit: crate::GIT_COMMIT.into(),
        backend: backend_name,
        backend_version,
        dtype: None,
        models: plan.models.iter().map(model_record).collect(),
        tasks: plan.tasks.iter().map(|t| task_record(t, plan)).collect(),
        limit: plan.limit,
        sampling: plan.sampling,
        samples_per_item: plan.samples_per_item,
        shard: plan.shard,
        merged_from: Vec::new(),
        sandbox: plan
            .tasks
            .iter()
            .any(|t| executes_code(t.task))
            .then(|| sandbox::isolation().to_string()),
        machine: MachineInfo::current(),
        started_at: chrono::Utc::now().to_rfc3339(),
        finished_at: None,
        rescored_from: None,
    }
}

/// Identifies a sample within a run: model, task, item index, sample index.
type SampleKey = (String, String, usize, usize);

fn key_of(sample: &SampleRecord) -> SampleKey {
    (
        sample.model.clone(),
        sample.task.clone(),
        sample.item_index,
        sample.sample_index,
    )
}

/// Executes `plan` into `run_dir` (from [`RunDir::create`] or [`RunDir::resume`]), skipping the
/// samples in `done` (those a resumed run already has): the result is the same as one
/// uninterrupted run.
pub fn execute(
    plan: &RunPlan,
    mut run_dir: RunDir,
    loader: &dyn BackendLoader,
    manifest: Manifest,
    done: Vec<SampleRecord>,
) -> Result<RunOutcome> {
    let started = Instant::now();
    run_dir.write_manifest(&manifest)?;
    let finished: HashSet<SampleKey> = done.iter().map(key_of).collect();
    let mut samples = done;
    let mut model_runs = Vec::new();
    for (model_number, model) in plan.models.iter().enumerate() {
        let remaining = plan.tasks.iter().enumerate().any(|(task_number, task)| {
            planned_samples(plan, model_number, task_number).any(|(item, s)| {
                !finished.contains(&(
                    model.id.clone(),
                    task.task.name().to_string(),
                    item.index,
                    s,
                ))
            })
        });
        if !remaining {
            continue;
        }
        let backend = loader
            .load(model)
            .with_context(|| format!("cannot load model {}", model.id))?;
        let warmup_seconds = warm_up(backend.as_ref())?;
        model_runs.push(ModelRunRecord {
            model: model.id.clone(),
            backend: backend.info(),
            warmup_seconds,
        });
        for task_number in 0..plan.tasks.len() {
            let new = run_task(
                plan,
                (model_number, model),
                task_number,
                backend.as_ref(),
                &mut run_dir,
                &finished,
            )?;
            samples.extend(new);
        }
    }

    sandbox::release_workers();
    finish_run(
        run_dir,
        manifest,
        &samples,
        &|name| plan.task(name).map(|t| t.task),
        model_runs,
        started,
    )
}

/// Aggregates `samples`, writes `summary.json`, stamps the manifest finished: the last step of
/// every run (also of re-scoring).
pub fn finish_run<'a>(
    run_dir: RunDir,
    mut manifest: Manifest,
    samples: &[SampleRecord],
    task_of: &dyn Fn(&str) -> Option<&'a Task>,
    models: Vec<ModelRunRecord>,
    started: Instant,
) -> Result<RunOutcome> {
    let aggregates = summarize(samples, task_of);
    let summary = Summary {
        schema: SCHEMA_VERSION,
        run_id: manifest.run_id.clone(),
        results: aggregates.results,
        suites: aggregates.suites,
        quality: aggregates.quality,
        models,
        wall_seconds: started.elapsed().as_secs_f64(),
        peak_rss_bytes: peak_rss_bytes(),
    };
    run_dir.write_summary(&summary)?;
    manifest.finished_at = Some(chrono::Utc::now().to_rfc3339());
    run_dir.write_manifest(&manifest)?;
    Ok(RunOutcome {
        run_dir: run_dir.path().to_path_buf(),
        summary,
    })
}

/// The (item, sample index) pairs of a task in run order: all samples of an item, then the next.
/// Only the items of this process's shard are listed.
fn planned_samples<'p>(
    plan: &'p RunPlan,
    model_number: usize,
    task_number: usize,
) -> impl Iterator<Item = (&'p Item, usize)> {
    let per_item = plan.samples_per_item;
    plan.tasks[task_number]
        .items
        .iter()
        .enumerate()
        .filter(move |(position, _)| plan.in_shard(model_number, task_number, *position))
        .flat_map(move |(_, item)| (0..per_item).map(move |s| (item, s)))
}

/// One tiny generation so one-off costs (allocations, kernel setup) stay out of the timings.
fn warm_up(backend: &dyn Backend) -> Result<f64> {
    let started = Instant::now();
    backend
        .generate(&GenerationRequest {
            prompt: Prompt::Completion {
                text: "Hello".into(),
            },
            max_new_tokens: 2,
            stop: Vec::new(),
            sampling: Sampling::greedy(),
        })
        .context("the warm-up generation failed")?;
    Ok(started.elapsed().as_secs_f64())
}

fn run_task(
    plan: &RunPlan,
    (model_number, model): (usize, &ModelEntry),
    task_number: usize,
    backend: &dyn Backend,
    run_dir: &mut RunDir,
    finished: &HashSet<SampleKey>,
) -> Result<Vec<SampleRecord>> {
    let prepared = &plan.tasks[task_number];
    let task = prepared.task;
    let planned: Vec<_> = planned_samples(plan, model_number, task_number).collect();
    let bar = ProgressBar::new(planned.len() as u64).with_style(
        ProgressStyle::with_template(
            "{prefix:.bold} {bar:30} {pos}/{len} samples  {msg}  [{elapsed}]",
        )
        .expect("static template"),
    );
    bar.set_prefix(format!("{} · {}", model.id, task.name()));
    let max_new_tokens = plan
        .max_new_tokens
        .unwrap_or(task.spec.generation.max_new_tokens);
    let mut records = Vec::with_capacity(prepared.items.len() * plan.samples_per_item);
    let (mut tokens, mut decode_seconds) = (0usize, 0f64);
    let order: Vec<_> = planned
        .iter()
        .copied()
        .filter(|(item, s)| {
            !finished.contains(&(model.id.clone(), task.name().to_string(), item.index, *s))
        })
        .collect();
    bar.inc((planned.len() - order.len()) as u64);
    for (item, sample_index) in order {
        let prompt = task.render(item, &prepared.fewshot)?;
        let reference = task.reference(item)?;
        let generation = backend
            .generate(&GenerationRequest {
                prompt: prompt.clone(),
                max_new_tokens,
                stop: task.spec.generation.stop.clone(),
                sampling: plan.sampling,
            })
            .with_context(|| {
                format!("model {}, task {}, item {}", model.id, task.name(), item.id)
            })?;
        let scored = score(task, item, &generation.text, &reference)?;
        tokens += generation.completion_tokens.saturating_sub(1);
        decode_seconds += generation.total_latency - generation.time_to_first_token;
        let record = SampleRecord {
            schema: SCHEMA_VERSION,
            model: model.id.clone(),
            task: task.name().to_string(),
            task_version: task.spec.version,
            item_index: item.index,
            item_id: item.id.clone(),
            sample_index,
            prompt,
            output: generation.text.clone(),
            extracted: scored.extracted,
            reference,
            scores: scored.scores,
            verdict: if scored.correct {
                "correct"
            } else {
                "incorrect"
            }
            .into(),
            prompt_tokens: generation.prompt_tokens,
            completion_tokens: generation.completion_tokens,
            time_to_first_token_s: generation.time_to_first_token,
            output_tokens_per_second: generation.output_tokens_per_second(),
            prefill_tokens_per_second: generation.prefill_tokens_per_second(),
            total_latency_s: generation.total_latency,
            finish_reason: generation.finish_reason,
            execution: scored.execution,
        };
        run_dir.append_sample(&record)?;
        records.push(record);
        if decode_seconds > 0.0 {
            bar.set_message(format!(
                "{:.1} output tok/s",
                tokens as f64 / decode_seconds
            ));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(records)
}

fn model_record(model: &ModelEntry) -> ModelRecord {
    ModelRecord {
        id: model.id.clone(),
        display_name: model.display_name.clone(),
        quantization: model.quantization.clone(),
        parameters: model.parameters.clone(),
        sha256: model.sha256.clone(),
    }
}

fn task_record(prepared: &PreparedTask, plan: &RunPlan) -> TaskRecord {
    let spec = &prepared.task.spec;
    TaskRecord {
        name: spec.name.clone(),
        suite: spec.suite.clone(),
        version: spec.version,
        items: prepared.items.len(),
        max_new_tokens: plan
            .max_new_tokens
            .unwrap_or(spec.generation.max_new_tokens),
        datasets: prepared
            .task
            .datasets()
            .into_iter()
            .map(|d| DatasetRecord {
                file: d.file.clone(),
                sha256: d.sha256.clone(),
                license: d.license.clone(),
            })
            .collect(),
    }
}
