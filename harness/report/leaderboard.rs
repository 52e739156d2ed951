//! The leaderboard: one row per model from the latest finished run that includes it, with
//! quality, speed, self-hosted cost and provider prices, plus every run's aggregates as history.
//! Built only from what the store wrote (and the vendored price list), so it can be rebuilt
//! without running a model.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::hardware::HardwareProfile;
use crate::machine::MachineInfo;
use crate::metrics::cost::{self_hosted, usd_for_seconds};
use crate::metrics::{percentile, Estimate, TokenPrices};
use crate::prices::{ProviderPriceSummary, ProviderPrices};
use crate::store::{FinishedRun, ModelRecord, SampleRecord, TaskResult};

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
    /// The run the row comes from.
    pub run_id: String,
    /// When that run started (RFC 3339).
    pub run_started_at: String,
    /// Quality index in [0, 100] with its interval.
    pub quality: Option<Estimate>,
    /// Suite scores in [0, 1] with intervals.
    pub suites: BTreeMap<String, Estimate>,
    /// Per-task results.
    pub tasks: Vec<TaskResult>,
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
    /// The run's samples of this model (sample browser).
    #[serde(skip)]
    pub samples: Vec<SampleRecord>,
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
    /// Suites appearing in any row, sorted.
    pub suites: Vec<String>,
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
        let mut latest: BTreeMap<String, (&FinishedRun, &ModelRecord)> = BTreeMap::new();
        let mut history = Vec::new();
        for run in complete_runs(runs) {
            for model in &run.manifest.models {
                if !run.summary.results.iter().any(|r| r.model == model.id) {
                    continue;
                }
                latest.insert(model.id.clone(), (run, model));
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
        let mut rows: Vec<ModelRow> = latest
            .into_values()
            .map(|(run, model)| row(run, model, prices, &provider_ids(&model.id)))
            .collect();
        rows.sort_by(|a, b| {
            let q = |r: &ModelRow| r.quality.as_ref().map_or(f64::NEG_INFINITY, |q| q.value);
            q(b).total_cmp(&q(a)).then_with(|| a.id.cmp(&b.id))
        });
        let mut suites: Vec<String> = rows.iter().flat_map(|r| r.suites.keys().cloned()).collect();
        suites.sort();
        suites.dedup();
        Self {
            rows,
            suites,
            history,
        }
    }
}

/// Runs that stand on their own: not one shard of a split run, and not merged into another run
/// (the merged run carries their samples).
pub fn complete_runs(runs: &[FinishedRun]) -> impl Iterator<Item = &FinishedRun> {
    let merged: std::collections::HashSet<&str> = runs
        .iter()
        .flat_map(|r| r.manifest.merged_from.iter().map(String::as_str))
        .collect();
    runs.iter()
        .filter(move |r| r.manifest.shard.is_none() && !merged.contains(r.manifest.run_id.as_str()))
}

/// Samples of `model` that were generated (not supplied completions, which have no timings).
fn timed_samples_of<'a>(
    run: &'a FinishedRun,
    model: &'a str,
) -> impl Iterator<Item = &'a SampleRecord> {
    samples_of(run, model).filter(|s| s.finish_reason != "supplied" && s.total_latency_s > 0.0)
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
        .or_else(|| manifest.dtype.clone())
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
        quality: quality_of(run, id),
        suites: run
            .summary
            .suites
            .iter()
            .filter(|s| s.model == id)
            .map(|s| (s.suite.clone(), s.score.clone()))
            .collect(),
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
    }
}
