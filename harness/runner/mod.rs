//! The runner: executes a plan (models × tasks × items) through a backend, scoring and appending
//! each sample as it finishes, then writes the summary.

pub mod calibration;
pub mod concurrent;
mod consent;
mod cpu_share;
pub mod job;
mod loaded;
mod plan;
pub mod workers;

use std::collections::HashSet;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

pub use consent::confirm_code_execution;
pub use plan::{Catalog, Items, PreparedTask, RunPlan, RunRequest, DEFAULT_LIMIT, DEFAULT_SUITES};

use crate::backend::{
    ActivationDtype, Backend, BackendLoader, Generation, GenerationRequest, Setup, Weights,
};
use crate::models::ModelEntry;
use crate::scoring::{executes_code, sandbox, score, score_choices, ChoiceScores, ScoredChoice};
use crate::store::{
    finish_run, DatasetRecord, Manifest, ModelRecord, RunDir, RunOutcome, RunTiming, SampleRecord,
    TaskRecord,
};
use crate::tasks::{Item, MultipleChoice, Prompt, Task};
use loaded::Loaded;

/// The manifest of a new run of `plan` through `loader`'s backend.
pub fn new_manifest(plan: &RunPlan, loader: &dyn BackendLoader, command: Vec<String>) -> Manifest {
    Manifest {
        models: plan.models.iter().map(model_record).collect(),
        tasks: plan.tasks.iter().map(|t| task_record(t, plan)).collect(),
        limit: plan.limit,
        sampling: plan.sampling,
        samples_per_item: plan.samples_per_item,
        shard: plan.shard,
        sandbox: plan
            .tasks
            .iter()
            .any(|t| executes_code(t.task) && !plan.predict_only)
            .then(|| sandbox::isolation().to_string()),
        predict_only: plan.predict_only,
        ..Manifest::new(&plan.run_id, command, loader.backend_name())
    }
}

/// The setup of runs that record none and name no dtype: F32 with quantized weights.
const DEFAULT_SETUP: Setup = Setup {
    dtype: ActivationDtype::F32,
    weights: Weights::Quantized,
    prefix_cache: false,
};

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
    let mut busy_seconds = 0.0;
    let mut setup_seconds = 0.0;
    for (model_number, model) in plan.models.iter().enumerate() {
        // One backend per setup in turn: a task whose setup differs from the loaded one
        // reloads the model.
        let mut loaded: Option<Loaded> = None;
        for (task_number, task) in plan.tasks.iter().enumerate() {
            let remaining = planned_samples(plan, model_number, task_number).any(|(item, s)| {
                !finished.contains(&(
                    model.id.clone(),
                    task.task.name().to_string(),
                    item.index,
                    s,
                ))
            });
            if !remaining {
                continue;
            }
            stop_if_interrupted(plan, samples.len())?;
            let setup = manifest
                .setup(&model.id, task.task.name())
                .unwrap_or(DEFAULT_SETUP);
            if loaded.as_ref().map(|l| l.setup) != Some(setup) {
                if let Some(previous) = loaded.take() {
                    setup_seconds += previous.setup_seconds;
                    model_runs.extend(previous.records);
                }
                loaded = Some(Loaded::load(loader, model, setup)?);
            }
            let new = run_task(
                plan,
                (model_number, model),
                task_number,
                loaded.as_mut().expect("loaded above"),
                &mut run_dir,
                &finished,
                &mut busy_seconds,
            )?;
            samples.extend(new);
            stop_if_interrupted(plan, samples.len())?;
        }
        if let Some(last) = loaded.take() {
            setup_seconds += last.setup_seconds;
            model_runs.extend(last.records);
        }
    }

    sandbox::release_workers();
    finish_run(
        run_dir,
        manifest,
        &samples,
        &|name| plan.task(name).map(|t| t.task),
        model_runs,
        RunTiming {
            started,
            busy_seconds,
            setup_seconds,
            parts_peak_rss: None,
        },
    )
}

/// After SIGINT or SIGTERM: stops with [`crate::interrupt::Interrupted`] when samples of the
/// plan remain (`done` are written); a run whose last sample is written finishes normally.
fn stop_if_interrupted(plan: &RunPlan, done: usize) -> Result<()> {
    let Some(signal) = crate::interrupt::requested() else {
        return Ok(());
    };
    let planned: usize = (0..plan.models.len())
        .flat_map(|m| (0..plan.tasks.len()).map(move |t| (m, t)))
        .map(|(m, t)| planned_samples(plan, m, t).count())
        .sum();
    if done >= planned {
        return Ok(());
    }
    sandbox::release_workers();
    Err(crate::interrupt::Interrupted {
        signal,
        done,
        planned,
        run_id: plan.run_id.clone(),
    }
    .into())
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

fn run_task(
    plan: &RunPlan,
    (model_number, model): (usize, &ModelEntry),
    task_number: usize,
    loaded: &mut Loaded,
    run_dir: &mut RunDir,
    finished: &HashSet<SampleKey>,
    busy_seconds: &mut f64,
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
    let (mut tokens, mut decode_seconds) = (0usize, 0f64);
    let order: Vec<_> = planned
        .iter()
        .copied()
        .filter(|(item, s)| {
            !finished.contains(&(model.id.clone(), task.name().to_string(), item.index, *s))
        })
        .collect();
    bar.inc((planned.len() - order.len()) as u64);
    // Scoring happens on a second thread while the backend generates the next sample, except
    // where it executes generated code: a program must not take a core from a timed
    // generation, so code is executed between generations, on this thread. Samples are
    // appended in plan order either way.
    let score_here = executes_code(task) && !plan.predict_only;
    let (to_scorer, scorer_inbox) = std::sync::mpsc::sync_channel::<Generated>(16);
    let records = std::thread::scope(|scope| -> Result<Vec<SampleRecord>> {
        let scorer_bar = bar.clone();
        let run_dir = &mut *run_dir;
        let scorer = scope.spawn(move || -> Result<Vec<SampleRecord>> {
            let mut records = Vec::new();
            for generated in scorer_inbox {
                let record = record_of(model, task, generated, plan.predict_only)?;
                run_dir.append_sample(&record)?;
                records.push(record);
                scorer_bar.inc(1);
            }
            Ok(records)
        });
        for (item, sample_index) in order {
            if crate::interrupt::requested().is_some() {
                break; // stopped by a signal: what is written stays, `execute` reports it
            }
            loaded.bound_memory()?;
            let prompt = task.render(item, &prepared.fewshot)?;
            let reference = task.reference(item)?;
            let requested = Instant::now();
            let (generation, choices) = match task.multiple_choice() {
                None => {
                    let request = GenerationRequest {
                        prompt: prompt.clone(),
                        max_new_tokens,
                        stop: task.spec.generation.stop.clone(),
                        sampling: plan.sampling,
                    };
                    (loaded.backend().generate(&request), None)
                }
                Some(mc) => match score_item_choices(loaded.backend(), mc, item, &prompt) {
                    Ok((generation, choices)) => (Ok(generation), Some(choices)),
                    Err(err) => (Err(err), None),
                },
            };
            let generation = generation.with_context(|| {
                format!("model {}, task {}, item {}", model.id, task.name(), item.id)
            })?;
            *busy_seconds += requested.elapsed().as_secs_f64();
            tokens += generation.completion_tokens.saturating_sub(1);
            decode_seconds += generation.total_latency - generation.time_to_first_token;
            if decode_seconds > 0.0 {
                bar.set_message(format!(
                    "{:.1} output tok/s",
                    tokens as f64 / decode_seconds
                ));
            }
            let mut generated = Generated {
                item,
                sample_index,
                prompt,
                reference,
                generation,
                scored: None,
            };
            if let Some(choices) = choices {
                generated.scored = Some(score_choices(task, choices)?);
            } else if score_here {
                // Executed now, before the next generation starts its clock.
                let scored = score(task, item, &generated.generation.text, &generated.reference)?;
                generated.scored = Some(scored);
            }
            if to_scorer.send(generated).is_err() {
                break; // the scorer stopped with an error, returned below
            }
        }
        drop(to_scorer);
        scorer.join().expect("the scoring thread panicked")
    })?;
    bar.finish_and_clear();
    Ok(records)
}

/// Scores each choice of a multiple-choice `item` after its context `prompt`; the "generation"
/// is the most likely choice, its prompt tokens the context's and continuations' tokens, its
/// time to first token the whole scoring time.
fn score_item_choices(
    backend: &dyn Backend,
    mc: &MultipleChoice,
    item: &Item,
    prompt: &Prompt,
) -> Result<(Generation, ChoiceScores)> {
    let Prompt::Completion { text: context } = prompt else {
        anyhow::bail!("a multiple-choice prompt is a completion prompt (validated)");
    };
    let choices = mc.choices(&item.doc)?;
    let gold = mc.gold(&item.doc, &choices)?;
    let started = Instant::now();
    let scores = backend.loglikelihood(context, &mc.continuations(&choices))?;
    let elapsed = started.elapsed().as_secs_f64();
    if scores.len() != choices.len() {
        anyhow::bail!(
            "the backend scored {} continuations for {} choices",
            scores.len(),
            choices.len()
        );
    }
    let context_tokens = scores.first().map_or(0, |s| s.context_tokens.len());
    let scored = ChoiceScores {
        gold,
        choices: choices
            .into_iter()
            .zip(&scores)
            .map(|(text, score)| ScoredChoice {
                text,
                logprob: score.logprob,
                is_greedy: score.is_greedy,
                tokens: score.continuation_tokens.len(),
            })
            .collect(),
    };
    let pick = scored.predictions().0;
    let generation = Generation {
        text: scored.choices[pick].text.clone(),
        prompt_tokens: context_tokens + scored.choices.iter().map(|c| c.tokens).sum::<usize>(),
        completion_tokens: 0,
        time_to_first_token: elapsed,
        total_latency: elapsed,
        finish_reason: "loglikelihood".into(),
    };
    Ok((generation, scored))
}

/// A generation waiting to be scored (or already scored, where scoring executed code).
struct Generated<'p> {
    item: &'p Item,
    sample_index: usize,
    prompt: Prompt,
    reference: String,
    generation: Generation,
    scored: Option<crate::scoring::Scored>,
}

/// The record of a generation, scored unless the run only predicts.
fn record_of(
    model: &ModelEntry,
    task: &Task,
    generated: Generated,
    predict_only: bool,
) -> Result<SampleRecord> {
    let Generated {
        item,
        sample_index,
        prompt,
        reference,
        generation,
        scored,
    } = generated;
    let output = generation.text.clone();
    let mut record = SampleRecord::supplied(
        &model.id,
        task.name(),
        task.spec.version,
        (item.index, &item.id),
        sample_index,
        String::new(),
    )
    .with_generation(prompt, generation);
    record.group = task.group(item);
    if predict_only {
        record.reference = reference;
        // Multiple choice: the log-likelihoods are the prediction; kept for `rescore`.
        record.multiple_choice = scored.and_then(|s| s.multiple_choice);
    } else {
        let scored = match scored {
            Some(scored) => scored,
            None => score(task, item, &output, &reference)?,
        };
        record.record_score(reference, scored);
    }
    Ok(record)
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
        scored_with_version: None,
    }
}
