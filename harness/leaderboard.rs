//! The leaderboard: one row per model, comparing models only like with like.
//!
//! - A cell is one model's result on one task: of all finished runs, the most complete result
//!   (most items; the latest of equals) — never simply the latest, so a smoke run does not
//!   replace a full one. Supplied completions (`rescore --completions`) never rank.
//! - Per task, one reference configuration ([`TaskConfig`]: version, generation limit,
//!   decoding, samples per item — the one most models ran) and one reference item set (the set
//!   that covers the most model × item results). A cell under another configuration, or on
//!   fewer items, is not comparable and says why; a cell on more items is scored on the
//!   reference items.
//! - The quality index and the suite scores are computed over one task set for every model: of
//!   the index definition's tasks (`tasks/index.toml`), the set of comparable tasks that covers
//!   the most model × task results. A model without a comparable result on each of them has no
//!   index, and the row says which are missing.
//! - Speed and cost come from the run that gave the model most of its cells, with the
//!   conditions they were measured under ([`SpeedConditions`]).
//!
//! Built only from what the store wrote (and the vendored price list), so it can be rebuilt
//! without running a model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::hardware::HardwareProfile;
use crate::machine::MachineInfo;
use crate::metrics::cost::{self_hosted, usd_for_seconds};
use crate::metrics::paired::sign_flip_p_value;
use crate::metrics::{percentile, Estimate, TokenPrices};
use crate::models::{PublishedScore, Registry};
use crate::prices::{ProviderPriceSummary, ProviderPrices};
use crate::store::{
    complete_runs, finished_runs, quality_index, FinishedRun, ModelRecord, SampleRecord,
    SpeedConditions, TaskConfig, TaskResult,
};
use crate::tasks::IndexDefinition;

/// One model's row.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    /// Model id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Quantization.
    pub quantization: String,
    /// Parameters as written.
    pub parameters: String,
    /// The run speed and cost come from (the one that gave the model most of its cells).
    pub run_id: String,
    /// When that run started (RFC 3339).
    pub run_started_at: String,
    /// Quality index in [0, 100] with its interval, over the board's index tasks; absent when
    /// the model lacks a comparable result on one of them.
    pub quality: Option<Estimate>,
    /// Suite scores in [0, 1] with intervals, over the board's index tasks of each suite.
    pub suites: BTreeMap<String, Estimate>,
    /// The model's cell on each task it ran.
    pub cells: Vec<TaskCell>,
    /// Per-task results, as their runs summarized them (one per cell).
    pub tasks: Vec<TaskResult>,
    /// Why some of the model's results are not compared (e.g. a smoke run on 5 of 164 items).
    pub notes: Vec<String>,
    /// Where and how speed and cost were measured.
    pub speed_conditions: SpeedConditions,
    /// Median output tokens/s over every sample.
    pub output_tokens_per_second: Option<f64>,
    /// Median time to first token, seconds.
    pub time_to_first_token_s: Option<f64>,
    /// Median prefill tokens/s.
    pub prefill_tokens_per_second: Option<f64>,
    /// End-to-end latency of every sample, seconds (latency chart).
    pub latencies_s: Vec<f64>,
    /// Self-hosted USD per 1M tokens on the run's hardware profile.
    pub self_hosted: Option<TokenPrices>,
    /// USD the model's part of the run cost (backend busy time × hourly price).
    pub run_cost_usd: Option<f64>,
    /// The hardware price profile.
    pub hardware: Option<HardwareProfile>,
    /// What providers charge for this model.
    pub provider: Option<ProviderPriceSummary>,
    /// The machine of the run.
    pub machine: MachineInfo,
    /// Versions: harness, git commit, backend, backend version, dtype.
    pub versions: BTreeMap<String, String>,
    /// Figures published for the model (models.toml), each beside this board's result on the
    /// matching task.
    pub published: Vec<Reproduction>,
    /// The run's samples of this model (sample browser).
    #[serde(skip)]
    pub samples: Vec<SampleRecord>,
}

/// One model's result on one task, from one run.
#[derive(Debug, Clone, Serialize)]
pub struct TaskCell {
    /// Task name.
    pub task: String,
    /// Suite.
    pub suite: String,
    /// The configuration it ran under.
    pub config: TaskConfig,
    /// The run it comes from.
    pub run_id: String,
    /// Headline metric key.
    pub metric: String,
    /// The headline score on the compared items (the reference items when comparable).
    pub score: Estimate,
    /// Whether it is compared with the other models (same configuration, the reference items).
    pub comparable: bool,
    /// Why it is not compared, or on which items it is.
    pub note: Option<String>,
    /// Each compared item's headline value (the mean of its samples), by item id.
    #[serde(skip)]
    pub items: BTreeMap<String, f64>,
}

/// One run's aggregates for one model (history charts, `history.parquet`).
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPoint {
    /// Run id.
    pub run_id: String,
    /// Run start (RFC 3339).
    pub started_at: String,
    /// Model id.
    pub model: String,
    /// Quality index.
    pub quality: Option<Estimate>,
    /// Median output tokens/s.
    pub output_tokens_per_second: Option<f64>,
}

/// Everything the site and exports show.
#[derive(Debug, Clone, Serialize)]
pub struct Leaderboard {
    /// Rows, best quality first.
    pub rows: Vec<ModelRow>,
    /// Suites of the index tasks, sorted.
    pub suites: Vec<String>,
    /// The tasks every indexed model is compared on, with their suite.
    pub index_tasks: Vec<(String, String)>,
    /// Every (run, model), oldest first.
    pub history: Vec<HistoryPoint>,
}

impl Leaderboard {
    /// Builds the leaderboard from finished runs (oldest first). `provider_ids` gives each
    /// model id's provider model ids (from models.toml).
    pub fn build(
        runs: &[FinishedRun],
        prices: &ProviderPrices,
        provider_ids: &dyn Fn(&str) -> Vec<String>,
    ) -> Self {
        let complete: Vec<&FinishedRun> = complete_runs(runs).collect();
        let mut history = Vec::new();
        for run in &complete {
            for model in &run.manifest.models {
                // Supplied completions (`rescore --completions`) are not a model's generations.
                if !samples_of(run, &model.id).any(|s| s.finish_reason != "supplied") {
                    continue;
                }
                history.push(HistoryPoint {
                    run_id: run.manifest.run_id.clone(),
                    started_at: run.manifest.started_at.clone(),
                    model: model.id.clone(),
                    quality: quality_of(run, &model.id),
                    output_tokens_per_second: median(timed_samples_of(run, &model.id), |s| {
                        s.output_tokens_per_second
                    }),
                });
            }
        }
        let (mut cells, mut left_out) = model_cells(&complete);
        reference_cells(&mut cells);
        let index_tasks = index_task_set(&cells);
        let mut rows: Vec<ModelRow> = cells
            .into_iter()
            .filter_map(|(model, model_cells)| {
                let mut row = row(
                    &complete,
                    &model,
                    model_cells,
                    &index_tasks,
                    prices,
                    &provider_ids(&model),
                )?;
                row.notes
                    .extend(left_out.remove(&model).unwrap_or_default());
                Some(row)
            })
            .collect();
        rows.sort_by(|a, b| {
            let q = |r: &ModelRow| r.quality.as_ref().map_or(f64::NEG_INFINITY, |q| q.value);
            q(b).total_cmp(&q(a)).then_with(|| a.id.cmp(&b.id))
        });
        let mut suites: Vec<String> = index_tasks.iter().map(|(_, suite)| suite.clone()).collect();
        suites.sort();
        suites.dedup();
        Self {
            rows,
            suites,
            index_tasks,
            history,
        }
    }

    /// Two-sided p-value of the paired sign-flip test that models `a` and `b` score the same on
    /// the index tasks (of `suite` only, when given), on the items both were compared on;
    /// `None` when they share no compared item.
    pub fn paired_p_value(&self, a: &ModelRow, b: &ModelRow, suite: Option<&str>) -> Option<f64> {
        let tasks: Vec<&(String, String)> = self
            .index_tasks
            .iter()
            .filter(|(_, s)| suite.is_none_or(|wanted| wanted == s))
            .collect();
        let suites: std::collections::BTreeSet<&str> =
            tasks.iter().map(|(_, s)| s.as_str()).collect();
        let mut contributions = Vec::new();
        for (task, task_suite) in &tasks {
            let in_suite = tasks.iter().filter(|(_, s)| s == task_suite).count();
            let weight = 1.0 / (suites.len() * in_suite) as f64;
            let cell = |row: &'_ ModelRow| {
                row.cells
                    .iter()
                    .find(|c| &c.task == task && c.comparable)
                    .map(|c| c.items.clone())
            };
            let (Some(left), Some(right)) = (cell(a), cell(b)) else {
                continue;
            };
            let shared: Vec<(f64, f64)> = left
                .iter()
                .filter_map(|(id, x)| right.get(id).map(|y| (*x, *y)))
                .collect();
            let n = shared.len() as f64;
            contributions.extend(shared.iter().map(|(x, y)| weight * (y - x) / n));
        }
        (!contributions.is_empty()).then(|| sign_flip_p_value(&contributions))
    }
}

/// model → task → its cell (not yet checked for comparability).
type Cells = BTreeMap<String, BTreeMap<String, TaskCell>>;

/// model → task → the most complete result under each configuration.
type Candidates = BTreeMap<String, BTreeMap<String, Vec<TaskCell>>>;

/// Which weights and activation dtype a run used for `model`: results of other variants of a
/// model id (the registry pinned other weights, or another dtype was forced) are not its row's.
fn variant(run: &FinishedRun, model: &str) -> (String, Option<String>) {
    let sha256 = run
        .manifest
        .models
        .iter()
        .find(|m| m.id == model)
        .map_or_else(String::new, |m| m.sha256.clone());
    (sha256, run.manifest.dtype.map(|d| d.as_str().to_string()))
}

/// Every model's cells: of all runs of the model's current variant (that of its latest run),
/// the most complete result per task and configuration (most items, then the latest); then per
/// task the reference configuration, and each model's cell under it (else its most complete
/// cell, which is then not compared). Supplied completions are left out: they are not a
/// model's generations. Notes say what was left out.
fn model_cells(runs: &[&FinishedRun]) -> (Cells, BTreeMap<String, Vec<String>>) {
    let mut current: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    for run in runs {
        for model in &run.manifest.models {
            current.insert(model.id.clone(), variant(run, &model.id));
        }
    }
    let mut notes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut candidates = Candidates::new();
    for run in runs {
        for result in &run.summary.results {
            let samples: Vec<&SampleRecord> = run
                .samples
                .iter()
                .filter(|s| s.model == result.model && s.task == result.task)
                .filter(|s| s.finish_reason != "supplied")
                .collect();
            let Some(config) = TaskConfig::of(&run.manifest, &result.model, &result.task) else {
                continue;
            };
            let items = item_values(&samples, &result.primary_metric);
            if items.is_empty() {
                continue;
            }
            if current.get(&result.model) != Some(&variant(run, &result.model)) {
                notes.entry(result.model.clone()).or_default().push(format!(
                    "{}: run {} used other weights or another activation dtype than the latest run; not shown",
                    result.task, run.manifest.run_id
                ));
                continue;
            }
            let cell = TaskCell {
                task: result.task.clone(),
                suite: result.suite.clone(),
                config,
                run_id: run.manifest.run_id.clone(),
                metric: result.primary_metric.clone(),
                score: estimate_of(&items),
                comparable: false,
                note: None,
                items,
            };
            let list = candidates
                .entry(result.model.clone())
                .or_default()
                .entry(result.task.clone())
                .or_default();
            // Runs come oldest first: an equally complete later run takes the place.
            match list.iter_mut().find(|c| c.config == cell.config) {
                Some(old) if old.items.len() > cell.items.len() => {}
                Some(old) => *old = cell,
                None => list.push(cell),
            }
        }
    }
    // Per task, the configuration most models ran (then the one with more items).
    let mut configs: BTreeMap<&str, BTreeMap<&TaskConfig, (usize, usize)>> = BTreeMap::new();
    for by_task in candidates.values() {
        for (task, list) in by_task {
            for cell in list {
                let slot = configs
                    .entry(task)
                    .or_default()
                    .entry(&cell.config)
                    .or_default();
                slot.0 += 1;
                slot.1 = slot.1.max(cell.items.len());
            }
        }
    }
    let reference: BTreeMap<String, TaskConfig> = configs
        .into_iter()
        .filter_map(|(task, counts)| {
            let best = counts.into_iter().max_by_key(|(_, rank)| *rank)?.0.clone();
            Some((task.to_string(), best))
        })
        .collect();
    let cells = candidates
        .into_iter()
        .map(|(model, by_task)| {
            let chosen = by_task
                .into_iter()
                .filter_map(|(task, list)| {
                    let under_reference = list
                        .iter()
                        .position(|c| Some(&c.config) == reference.get(&task));
                    let pick = under_reference
                        .or_else(|| (0..list.len()).max_by_key(|&i| list[i].items.len()))?;
                    Some((task, list.into_iter().nth(pick)?))
                })
                .collect();
            (model, chosen)
        })
        .collect();
    (cells, notes)
}

/// Each item's mean headline value, by item id.
fn item_values(samples: &[&SampleRecord], metric: &str) -> BTreeMap<String, f64> {
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for sample in samples {
        if let Some(value) = sample.scores.get(metric) {
            let entry = sums.entry(sample.item_id.clone()).or_default();
            entry.0 += value;
            entry.1 += 1;
        }
    }
    sums.into_iter()
        .map(|(id, (sum, count))| (id, sum / count as f64))
        .collect()
}

fn estimate_of(items: &BTreeMap<String, f64>) -> Estimate {
    Estimate::mean_of_items(&items.values().copied().collect::<Vec<f64>>())
}

/// A task's reference configuration and item set.
type References = BTreeMap<String, (TaskConfig, std::collections::BTreeSet<String>)>;

/// Picks each task's reference configuration (the one most models ran; then the one with more
/// items) and reference item set (the set that covers the most model × item results), marks
/// every cell comparable or not, and scores comparable cells on the reference items.
fn reference_cells(cells: &mut Cells) {
    use std::collections::BTreeSet;
    let mut tasks: BTreeMap<String, Vec<(TaskConfig, BTreeSet<String>)>> = BTreeMap::new();
    for model_cells in cells.values() {
        for cell in model_cells.values() {
            tasks
                .entry(cell.task.clone())
                .or_default()
                .push((cell.config.clone(), cell.items.keys().cloned().collect()));
        }
    }
    let mut references = References::new();
    for (task, entries) in tasks {
        let mut configs: BTreeMap<&TaskConfig, (usize, usize)> = BTreeMap::new();
        for (config, items) in &entries {
            let slot = configs.entry(config).or_default();
            slot.0 += 1;
            slot.1 = slot.1.max(items.len());
        }
        let Some((config, _)) = configs.into_iter().max_by_key(|(_, rank)| *rank) else {
            continue;
        };
        let config = config.clone();
        let sets: Vec<&BTreeSet<String>> = entries
            .iter()
            .filter(|(c, _)| *c == config)
            .map(|(_, items)| items)
            .collect();
        let Some(reference) = sets
            .iter()
            .map(|candidate| {
                let covering = sets.iter().filter(|s| s.is_superset(candidate)).count();
                ((covering * candidate.len(), covering), *candidate)
            })
            .max_by_key(|(rank, _)| *rank)
            .map(|(_, set)| set.clone())
        else {
            continue;
        };
        references.insert(task, (config, reference));
    }
    for model_cells in cells.values_mut() {
        for cell in model_cells.values_mut() {
            let Some((config, reference)) = references.get(&cell.task) else {
                continue;
            };
            if let Some(difference) = cell.config.difference(config) {
                cell.note = Some(format!(
                    "not compared: run under another configuration than the other models ({difference})"
                ));
                continue;
            }
            let covered = reference
                .iter()
                .filter(|id| cell.items.contains_key(*id))
                .count();
            if covered < reference.len() {
                cell.note = Some(format!(
                    "not compared: scored on {covered} of the {} items the comparison uses{}",
                    reference.len(),
                    if cell.score.preliminary {
                        " (preliminary)"
                    } else {
                        ""
                    }
                ));
                continue;
            }
            if cell.items.len() > reference.len() {
                cell.note = Some(format!(
                    "compared on the {} items the other models share (of {} scored)",
                    reference.len(),
                    cell.items.len()
                ));
                cell.items.retain(|id, _| reference.contains(id));
                cell.score = estimate_of(&cell.items);
            }
            cell.comparable = true;
        }
    }
}

/// The task set of the quality index: of the models' sets of comparable tasks of the index
/// definition, the one that covers the most model × task results (then the larger set);
/// (task, suite) pairs.
fn index_task_set(cells: &Cells) -> Vec<(String, String)> {
    let definition = IndexDefinition::shipped();
    let comparable: Vec<Vec<(String, String)>> = cells
        .values()
        .map(|model_cells| {
            model_cells
                .values()
                .filter(|c| c.comparable && definition.suite_of(&c.task) == Some(c.suite.as_str()))
                .map(|c| (c.task.clone(), c.suite.clone()))
                .collect()
        })
        .collect();
    // Candidates: each model's set, and the tasks any two models share.
    let mut candidates: Vec<Vec<(String, String)>> = comparable.clone();
    for (i, a) in comparable.iter().enumerate() {
        for b in &comparable[i + 1..] {
            candidates.push(a.iter().filter(|t| b.contains(t)).cloned().collect());
        }
    }
    candidates
        .iter()
        .filter(|set| !set.is_empty())
        .map(|candidate| {
            let covering = comparable
                .iter()
                .filter(|set| candidate.iter().all(|task| set.contains(task)))
                .count();
            (
                (covering * candidate.len(), candidate.len()),
                candidate.clone(),
            )
        })
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
        .map(|(_, set)| set)
        .unwrap_or_default()
}

/// Samples of `model` that were generated (not supplied completions, which have no timings, nor
/// multiple-choice items, which are scored, not generated).
fn timed_samples_of<'a>(
    run: &'a FinishedRun,
    model: &'a str,
) -> impl Iterator<Item = &'a SampleRecord> {
    // Multiple-choice samples generate nothing: their time is scoring, not serving.
    samples_of(run, model).filter(|s| {
        s.finish_reason != "supplied" && s.multiple_choice.is_none() && s.total_latency_s > 0.0
    })
}

fn samples_of<'a>(run: &'a FinishedRun, model: &'a str) -> impl Iterator<Item = &'a SampleRecord> {
    run.samples.iter().filter(move |s| s.model == model)
}

fn median<'a>(
    samples: impl Iterator<Item = &'a SampleRecord>,
    value: impl Fn(&SampleRecord) -> Option<f64>,
) -> Option<f64> {
    let values: Vec<f64> = samples.filter_map(value).collect();
    percentile(&values, 50.0)
}

fn quality_of(run: &FinishedRun, model: &str) -> Option<Estimate> {
    run.summary
        .quality
        .iter()
        .find(|q| q.model == model)
        .map(|q| q.index.clone())
}

fn row(
    runs: &[&FinishedRun],
    model: &str,
    cells: BTreeMap<String, TaskCell>,
    index_tasks: &[(String, String)],
    prices: &ProviderPrices,
    provider_ids: &[String],
) -> Option<ModelRow> {
    // Speed and cost: the run that gave the most cells (the latest of equals).
    let mut from_run: BTreeMap<&str, usize> = BTreeMap::new();
    for cell in cells.values() {
        *from_run.entry(cell.run_id.as_str()).or_default() += 1;
    }
    let (run, record) = runs
        .iter()
        .enumerate()
        .filter_map(|(order, run)| {
            let count = from_run.get(run.manifest.run_id.as_str())?;
            let record = run.manifest.models.iter().find(|m| m.id == model)?;
            Some(((*count, order), (*run, record)))
        })
        .max_by_key(|(rank, _)| *rank)
        .map(|(_, found)| found)?;
    let mut notes: Vec<String> = cells
        .values()
        .filter_map(|c| c.note.as_ref().map(|note| format!("{}: {note}", c.task)))
        .collect();
    let compared = |task: &str| cells.get(task).filter(|c| c.comparable);
    let missing: Vec<&str> = index_tasks
        .iter()
        .filter(|(task, _)| compared(task).is_none())
        .map(|(task, _)| task.as_str())
        .collect();
    let mut by_suite: BTreeMap<&str, Vec<Vec<f64>>> = BTreeMap::new();
    for (task, suite) in index_tasks {
        let values = compared(task).map(|c| c.items.values().copied().collect::<Vec<f64>>());
        by_suite.entry(suite.as_str()).or_default().extend(values);
    }
    let suite_tasks = |suite: &str| index_tasks.iter().filter(|(_, s)| s == suite).count();
    let suites: BTreeMap<String, Estimate> = by_suite
        .iter()
        .filter(|(suite, tasks)| tasks.len() == suite_tasks(suite))
        .map(|(suite, tasks)| {
            let weight = 1.0 / tasks.len() as f64;
            let parts: Vec<(f64, &[f64])> = tasks.iter().map(|v| (weight, v.as_slice())).collect();
            (suite.to_string(), Estimate::weighted_mean(&parts))
        })
        .collect();
    let quality = if missing.is_empty() && !index_tasks.is_empty() {
        Some(quality_index(
            by_suite
                .values()
                .map(|tasks| tasks.iter().map(Vec::as_slice).collect()),
        ))
    } else {
        if !index_tasks.is_empty() {
            notes.push(format!(
                "no quality index: no comparable result on {} (the index covers {})",
                missing.join(", "),
                index_tasks
                    .iter()
                    .map(|(task, _)| task.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        None
    };
    let tasks: Vec<TaskResult> = cells
        .values()
        .filter_map(|cell| {
            let run = runs.iter().find(|r| r.manifest.run_id == cell.run_id)?;
            run.summary
                .results
                .iter()
                .find(|r| r.model == model && r.task == cell.task)
                .cloned()
        })
        .collect();
    let samples: Vec<SampleRecord> = cells
        .values()
        .filter_map(|cell| {
            runs.iter()
                .find(|r| r.manifest.run_id == cell.run_id)
                .map(|r| (r, cell))
        })
        .flat_map(|(run, cell)| {
            samples_of(run, model)
                .filter(|s| s.task == cell.task)
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect();
    let mut row = speed_and_cost(run, record, prices, provider_ids);
    row.samples = samples;
    row.quality = quality;
    row.suites = suites;
    row.cells = cells.into_values().collect();
    row.tasks = tasks;
    row.notes = notes;
    Some(row)
}

/// The row's speed, cost and provenance from one run (quality is filled in by the caller).
fn speed_and_cost(
    run: &FinishedRun,
    model: &ModelRecord,
    prices: &ProviderPrices,
    provider_ids: &[String],
) -> ModelRow {
    let id = model.id.as_str();
    let tasks: Vec<TaskResult> = run
        .summary
        .results
        .iter()
        .filter(|r| r.model == id)
        .cloned()
        .collect();
    let sum = |f: &dyn Fn(&TaskResult) -> f64| tasks.iter().map(f).sum::<f64>();
    let prompt_tokens = sum(&|t| t.speed.prompt_tokens as f64);
    let prefill_seconds = sum(&|t| t.speed.prefill_seconds);
    let decoded = sum(&|t| {
        let firsts = t.speed.output_tokens_per_second.as_ref().map_or(0, |d| d.n);
        t.speed.completion_tokens.saturating_sub(firsts) as f64
    });
    let decode_seconds = sum(&|t| t.speed.decode_seconds);
    let busy_seconds = sum(&|t| t.speed.busy_seconds);
    let hardware = run.manifest.hardware.clone();
    // Instances that ran at once on the priced machine: it delivered their combined throughput.
    let instances = run.manifest.workers.unwrap_or(1).max(1) as f64;
    let self_hosted = hardware.as_ref().and_then(|h| {
        (prefill_seconds > 0.0 && decode_seconds > 0.0)
            .then(|| {
                self_hosted(
                    h.usd_per_hour,
                    instances * prompt_tokens / prefill_seconds,
                    instances * decoded / decode_seconds,
                )
            })
            .flatten()
    });
    let manifest = &run.manifest;
    let dtype = run
        .summary
        .models
        .iter()
        .find(|m| m.model == id)
        .map(|m| m.backend.dtype.clone())
        .or_else(|| manifest.dtype.map(|d| d.as_str().to_string()))
        .unwrap_or_default();
    let versions = BTreeMap::from([
        ("yardstick".to_string(), manifest.harness_version.clone()),
        ("git commit".to_string(), manifest.git_commit.clone()),
        (
            "backend".to_string(),
            format!("{} {}", manifest.backend, manifest.backend_version),
        ),
        ("activation dtype".to_string(), dtype),
    ]);
    ModelRow {
        id: id.to_string(),
        display_name: model.display_name.clone(),
        quantization: model.quantization.clone(),
        parameters: model.parameters.clone(),
        run_id: manifest.run_id.clone(),
        run_started_at: manifest.started_at.clone(),
        quality: None,
        suites: BTreeMap::new(),
        cells: Vec::new(),
        notes: Vec::new(),
        speed_conditions: SpeedConditions::of(manifest),
        output_tokens_per_second: median(timed_samples_of(run, id), |s| s.output_tokens_per_second),
        time_to_first_token_s: median(timed_samples_of(run, id), |s| Some(s.time_to_first_token_s)),
        prefill_tokens_per_second: median(timed_samples_of(run, id), |s| {
            s.prefill_tokens_per_second
        }),
        latencies_s: timed_samples_of(run, id)
            .map(|s| s.total_latency_s)
            .collect(),
        self_hosted,
        run_cost_usd: hardware
            .as_ref()
            .filter(|_| busy_seconds > 0.0)
            .map(|h| usd_for_seconds(h.usd_per_hour, busy_seconds / instances)),
        hardware,
        provider: prices.summary_for(provider_ids),
        machine: manifest.machine.clone(),
        versions,
        samples: samples_of(run, id).cloned().collect(),
        tasks,
        published: Vec::new(),
    }
}

/// A published figure beside this board's result on the task whose setting matches it (or,
/// for a published average of several benchmarks, the same average of the matching tasks).
#[derive(Debug, Clone, Serialize)]
pub struct Reproduction {
    /// The figure, its setting and source.
    pub published: PublishedScore,
    /// The tasks compared, with the metric key of each (`task: metric`), when the board has a
    /// result for every one.
    pub metric: Option<String>,
    /// The board's result (a proportion, with its 95% interval): the task's, or the unweighted
    /// mean of the tasks' with the interval of a weighted mean ([`Estimate::weighted_mean`]).
    pub here: Option<Estimate>,
    /// Whether the published figure lies inside that interval.
    pub within_interval: Option<bool>,
}

impl Reproduction {
    /// `published` beside the row's result for its task or tasks (none when it names no task or
    /// the row lacks a result for one of them, or the metric it names).
    pub fn of(published: &PublishedScore, row: &ModelRow) -> Self {
        let tasks = published.tasks();
        let found: Option<Vec<(&str, &Estimate)>> = if tasks.is_empty() {
            None
        } else {
            tasks
                .iter()
                .map(|task| {
                    let result = row.tasks.iter().find(|t| t.task == *task)?;
                    metric_of(result, published.metric.as_deref())
                })
                .collect()
        };
        let here = found.as_ref().map(|estimates| match estimates.as_slice() {
            [(_, one)] => (*one).clone(),
            several => {
                let weight = 1.0 / several.len() as f64;
                let parts: Vec<(f64, &Estimate)> =
                    several.iter().map(|(_, e)| (weight, *e)).collect();
                Estimate::weighted_mean_of_estimates(&parts)
            }
        });
        let fraction = published.value / 100.0;
        Self {
            published: published.clone(),
            metric: found.map(|estimates| {
                tasks
                    .iter()
                    .zip(&estimates)
                    .map(|(task, (key, _))| format!("{task}: {key}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
            within_interval: here
                .as_ref()
                .map(|e| (e.ci_low..=e.ci_high).contains(&fraction)),
            here,
        }
    }
}

/// `result`'s estimate of `metric` (a name such as `acc_norm`, or a whole key such as
/// `acc_norm,none`; the first filter's when several), or of its headline metric; with its key.
fn metric_of<'a>(result: &'a TaskResult, metric: Option<&str>) -> Option<(&'a str, &'a Estimate)> {
    let key = match metric {
        None => result.primary_metric.as_str(),
        Some(wanted) => result
            .metrics
            .keys()
            .find(|key| key.as_str() == wanted || key.split(',').next() == Some(wanted))?
            .as_str(),
    };
    result.metrics.get(key).map(|estimate| (key, estimate))
}

/// The leaderboard of a results folder.
#[derive(Debug)]
pub struct LoadedLeaderboard {
    /// Rows, suites, history.
    pub board: Leaderboard,
    /// Finished runs read.
    pub runs: usize,
    /// Run folders left out, with why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Reads every finished run under `results_dir` into a leaderboard. `registry` supplies
/// provider model ids for price lookups.
pub fn load_leaderboard(
    results_dir: &Path,
    registry: Option<&Registry>,
    prices: &ProviderPrices,
) -> Result<LoadedLeaderboard> {
    let (runs, skipped) = finished_runs(results_dir)?;
    let provider_ids = |id: &str| {
        registry
            .and_then(|r| r.get(id).ok())
            .map(|m| m.provider_ids.clone())
            .unwrap_or_default()
    };
    let mut board = Leaderboard::build(&runs, prices, &provider_ids);
    if let Some(registry) = registry {
        for row in &mut board.rows {
            if let Ok(model) = registry.get(&row.id) {
                row.published = model
                    .published
                    .iter()
                    .map(|p| Reproduction::of(p, row))
                    .collect();
            }
        }
    }
    Ok(LoadedLeaderboard {
        board,
        runs: runs.len(),
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{summarize, Manifest, Summary, SCHEMA_VERSION};

    /// What one model ran in a synthetic run: task, task version, items, and which are correct.
    struct Ran<'a> {
        model: &'a str,
        task: &'a str,
        version: u32,
        items: usize,
        correct: fn(usize) -> bool,
        supplied: bool,
    }

    const METRIC: &str = "exact_match,answer";

    /// The index's suite of an index task, else one suite per task.
    fn suite_of(task: &str) -> String {
        IndexDefinition::shipped()
            .suite_of(task)
            .map_or_else(|| format!("suite-{task}"), str::to_string)
    }

    fn ran<'a>(model: &'a str, task: &'a str, items: usize, correct: fn(usize) -> bool) -> Ran<'a> {
        Ran {
            model,
            task,
            version: 1,
            items,
            correct,
            supplied: false,
        }
    }

    /// A finished run of `parts`, started at minute `minute`.
    fn run(id: &str, minute: u32, parts: &[Ran]) -> FinishedRun {
        let mut samples = Vec::new();
        for part in parts {
            for i in 0..part.items {
                let mut sample = SampleRecord::supplied(
                    part.model,
                    part.task,
                    part.version,
                    (i, &format!("{}/{i}", part.task)),
                    0,
                    String::new(),
                );
                if !part.supplied {
                    sample.finish_reason = "stop".into();
                    sample.total_latency_s = 1.0;
                    sample.time_to_first_token_s = 0.5;
                    sample.output_tokens_per_second = Some(10.0);
                }
                sample
                    .scores
                    .insert(METRIC.into(), f64::from(u8::from((part.correct)(i))));
                samples.push(sample);
            }
        }
        let mut aggregates = summarize(&samples, &|_| None);
        for result in &mut aggregates.results {
            result.primary_metric = METRIC.into();
            result.suite = suite_of(&result.task);
        }
        let mut models: Vec<&str> = parts.iter().map(|p| p.model).collect();
        models.dedup();
        let mut tasks: Vec<(&str, u32, usize)> =
            parts.iter().map(|p| (p.task, p.version, p.items)).collect();
        tasks.dedup_by_key(|t| t.0);
        let manifest: Manifest = serde_json::from_value(serde_json::json!({
            "schema": SCHEMA_VERSION, "run_id": id, "command": [], "harness_version": "t",
            "git_commit": "t", "backend": "scripted", "backend_version": "1",
            "models": models.iter().map(|m| serde_json::json!({"id": m, "display_name": m,
                "quantization": "", "parameters": "", "sha256": "00"})).collect::<Vec<_>>(),
            "tasks": tasks.iter().map(|(name, version, items)| serde_json::json!({"name": name,
                "suite": suite_of(name), "version": version, "items": items,
                "max_new_tokens": 8, "datasets": []})).collect::<Vec<_>>(),
            "limit": null, "sampling": {"temperature": 0.0, "seed": null},
            "machine": crate::machine::MachineInfo::current(),
            "started_at": format!("2026-01-01T00:{minute:02}:00Z"),
            "finished_at": format!("2026-01-01T00:{minute:02}:30Z"),
        }))
        .unwrap();
        FinishedRun {
            dir: std::path::PathBuf::from(id),
            summary: Summary {
                schema: SCHEMA_VERSION,
                run_id: id.into(),
                results: aggregates.results,
                suites: Vec::new(),
                quality: Vec::new(),
                models: Vec::new(),
                wall_seconds: 1.0,
                overhead: None,
                peak_rss_bytes: None,
            },
            samples,
            manifest,
        }
    }

    fn board(runs: &[FinishedRun]) -> Leaderboard {
        Leaderboard::build(runs, &ProviderPrices::default(), &|_| Vec::new())
    }

    fn half(i: usize) -> bool {
        i.is_multiple_of(2)
    }
    fn most(i: usize) -> bool {
        !i.is_multiple_of(4)
    }
    fn all(_: usize) -> bool {
        true
    }

    #[test]
    fn smoke_runs_and_supplied_completions_neither_displace_nor_outrank_full_results() {
        let full = run(
            "full",
            1,
            &[
                ran("a", "humaneval", 40, half),
                ran("a", "gsm8k", 40, most),
                ran("b", "humaneval", 40, most),
                ran("b", "gsm8k", 40, half),
            ],
        );
        let before = board(std::slice::from_ref(&full));
        assert_eq!(before.rows.len(), 2);
        assert_eq!(before.index_tasks.len(), 2);
        let index_a = before
            .rows
            .iter()
            .find(|r| r.id == "a")
            .unwrap()
            .quality
            .clone()
            .unwrap();
        assert!(!index_a.preliminary);

        // Later: a 2-item smoke run of `a` on one task (all right), supplied completions scoring
        // 100%, and a model that only ever ran 5 items.
        let smoke = run("smoke", 2, &[ran("a", "humaneval", 2, all)]);
        let supplied = run(
            "supplied",
            3,
            &[Ran {
                supplied: true,
                ..ran("completions", "humaneval", 40, all)
            }],
        );
        let small = run(
            "small",
            4,
            &[ran("c", "humaneval", 5, all), ran("c", "gsm8k", 5, all)],
        );
        let after = board(&[full, smoke, supplied, small]);
        let row = |id: &str| after.rows.iter().find(|r| r.id == id);
        assert!(
            row("completions").is_none(),
            "supplied completions never rank"
        );
        assert_eq!(
            row("a").unwrap().quality.as_ref(),
            Some(&index_a),
            "the smoke run changed a's index"
        );
        let cell = row("a")
            .unwrap()
            .cells
            .iter()
            .find(|c| c.task == "humaneval")
            .unwrap();
        assert_eq!((cell.run_id.as_str(), cell.score.n), ("full", 40));
        let c = row("c").unwrap();
        assert!(c.quality.is_none(), "5 of 40 items is not comparable");
        assert!(
            c.notes
                .iter()
                .any(|n| n.contains("scored on 5 of the 40 items")),
            "{:?}",
            c.notes
        );
        // Ranked models first, best index first; c (no index) last.
        let order: Vec<&str> = after.rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(order.last(), Some(&"c"), "{order:?}");
    }

    #[test]
    fn a_published_figure_sits_beside_the_matching_tasks_result_and_its_interval() {
        let board = board(&[run("full", 1, &[ran("a", "humaneval", 40, half)])]);
        let row = &board.rows[0];
        let figure = |value: f64, task: Option<&str>| PublishedScore {
            benchmark: "Code".into(),
            value,
            setting: "greedy".into(),
            source: "a report".into(),
            task: task.map(str::to_string),
            average_of: Vec::new(),
            metric: None,
        };
        let inside = Reproduction::of(&figure(50.0, Some("humaneval")), row);
        let here = inside.here.clone().unwrap();
        assert_eq!((here.n, here.value), (40, 0.5));
        assert_eq!(
            inside.metric.as_deref(),
            Some(format!("humaneval: {METRIC}").as_str())
        );
        assert_eq!(inside.within_interval, Some(true));
        let outside = Reproduction::of(&figure(95.0, Some("humaneval")), row);
        assert_eq!(outside.within_interval, Some(false), "{:?}", outside.here);
        let no_such_metric = PublishedScore {
            metric: Some("acc_norm".into()),
            ..figure(50.0, Some("humaneval"))
        };
        for unmatched in [
            figure(50.0, None),
            figure(50.0, Some("gsm8k")),
            no_such_metric,
        ] {
            let reproduction = Reproduction::of(&unmatched, row);
            assert!(reproduction.here.is_none() && reproduction.within_interval.is_none());
        }
    }

    #[test]
    fn a_published_average_sits_beside_the_same_average_of_the_matching_tasks() {
        let board = board(&[run(
            "full",
            1,
            &[ran("a", "humaneval", 40, half), ran("a", "gsm8k", 60, all)],
        )]);
        let row = &board.rows[0];
        let average = |value: f64, tasks: &[&str]| PublishedScore {
            benchmark: "Code and math (average)".into(),
            value,
            setting: "greedy".into(),
            source: "a report".into(),
            task: None,
            average_of: tasks.iter().map(|t| t.to_string()).collect(),
            metric: Some("exact_match".into()),
        };
        let both = Reproduction::of(&average(75.0, &["humaneval", "gsm8k"]), row);
        let here = both.here.clone().unwrap();
        // The unweighted mean of 20/40 and 60/60, with the interval of that mean of the items.
        let items = |n: usize, right: usize| -> Vec<f64> {
            (0..n).map(|i| f64::from(u8::from(i < right))).collect()
        };
        let expected = Estimate::weighted_mean(&[(0.5, &items(40, 20)), (0.5, &items(60, 60))]);
        assert_eq!((here.n, here.value), (100, 0.75));
        assert!((here.ci_low - expected.ci_low).abs() < 1e-9, "{here:?}");
        assert!((here.ci_high - expected.ci_high).abs() < 1e-9, "{here:?}");
        assert_eq!(both.within_interval, Some(true));
        assert_eq!(
            both.metric.as_deref(),
            Some(format!("humaneval: {METRIC}, gsm8k: {METRIC}").as_str())
        );
        // A task without a result leaves the average out.
        let missing = Reproduction::of(&average(75.0, &["humaneval", "mbpp"]), row);
        assert!(missing.here.is_none() && missing.within_interval.is_none());
    }

    #[test]
    fn a_later_run_under_another_configuration_does_not_displace_the_compared_one() {
        let greedy = run(
            "greedy",
            1,
            &[
                ran("a", "humaneval", 40, half),
                ran("b", "humaneval", 40, most),
            ],
        );
        let mut sampled = run("sampled", 2, &[ran("a", "humaneval", 40, all)]);
        sampled.manifest.samples_per_item = 5;
        sampled.manifest.sampling.temperature = 0.8;
        let board = board(&[greedy, sampled]);
        let a = board.rows.iter().find(|r| r.id == "a").unwrap();
        let cell = a.cells.iter().find(|c| c.task == "humaneval").unwrap();
        assert_eq!(cell.run_id, "greedy");
        assert!(cell.comparable && a.quality.is_some());
    }

    #[test]
    fn the_index_covers_the_tasks_every_model_shares() {
        // a, b and c share code and math; each ran a third task of its own.
        let runs = [
            run(
                "r1",
                1,
                &[
                    ran("a", "humaneval", 30, half),
                    ran("a", "gsm8k", 30, most),
                    ran("a", "mmlu", 30, all),
                ],
            ),
            run(
                "r2",
                2,
                &[
                    ran("b", "humaneval", 30, most),
                    ran("b", "gsm8k", 30, half),
                    ran("b", "medqa", 30, all),
                ],
            ),
            run(
                "r3",
                3,
                &[
                    ran("c", "humaneval", 30, all),
                    ran("c", "gsm8k", 30, half),
                    ran("c", "arc_challenge", 30, all),
                ],
            ),
        ];
        let board = board(&runs);
        let tasks: Vec<&str> = board.index_tasks.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(tasks, ["gsm8k", "humaneval"]);
        assert!(board.rows.iter().all(|r| r.quality.is_some()));
    }

    #[test]
    fn another_configuration_is_not_compared_and_the_index_covers_shared_tasks() {
        let runs = [
            run(
                "r1",
                1,
                &[ran("a", "humaneval", 30, half), ran("a", "gsm8k", 30, most)],
            ),
            run(
                "r2",
                2,
                &[ran("b", "humaneval", 30, most), ran("b", "gsm8k", 30, half)],
            ),
            run(
                "r3",
                3,
                &[
                    Ran {
                        version: 2,
                        ..ran("c", "humaneval", 30, all)
                    },
                    ran("c", "gsm8k", 30, all),
                ],
            ),
        ];
        let board = board(&runs);
        let c = board.rows.iter().find(|r| r.id == "c").unwrap();
        let code = c
            .cells
            .iter()
            .find(|cell| cell.task == "humaneval")
            .unwrap();
        assert!(!code.comparable);
        assert!(
            code.note.as_ref().unwrap().contains("task version 2 vs 1"),
            "{:?}",
            code.note
        );
        assert!(c.quality.is_none());
        // The index covers code and math for a and b, on identical item sets.
        assert_eq!(board.index_tasks.len(), 2);
        let (a, b) = (&board.rows[0], &board.rows[1]);
        assert!(a.quality.is_some() && b.quality.is_some());
        // Same 30 items each: the paired test sees a's and b's differences item by item.
        let p = board.paired_p_value(a, b, None).unwrap();
        assert!(p > 0.0 && p <= 1.0);
    }
}
