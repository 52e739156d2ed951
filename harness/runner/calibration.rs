//! Calibration: the fastest setup — activation dtype, quantized or dequantized weights — for
//! each model and task on this machine and build, chosen by measuring rather than by a CPU flag.
//!
//! Each candidate setup is loaded once and timed on two requests: a short prompt (about 128
//! tokens) and a long one (about 1,000), each followed by a few generated tokens. Prefill time
//! grows faster than the prompt (attention is quadratic: on a 2-core EPYC, SmolLM2 with
//! dequantized weights prefills 256 tokens at 224 tok/s but 1,350 at 82), and each generated
//! token costs more the longer the context, so the two points fit
//! `prefill(n) = a·n + b·n²` and `decode per token(c) = d + e·c`. The result is cached per model
//! file × machine × build under `calibration/` in the cache, so a run pays for it once. A task
//! then gets the setup with the least expected time per item, from the lengths of its own
//! prompts and half its generation limit. Dequantized weights are a candidate only where
//! memory holds them (4 bytes per parameter, × 1.2, + 300 MB per model instance).
//!
//! Where a run may use worker processes (`--workers best`, the default, or a forced count), the
//! setups are also timed as one process per core running at once ([`super::concurrent`]), and
//! the run is split over workers when the estimate for its own tasks and items — each task's
//! seconds per item times its items, divided among the workers, plus each worker's model loads
//! — is at least [`WORKERS_MIN_SAVING`] below one process's.
//!
//! A measurement taken while other processes kept the CPUs busy is kept but flagged
//! ([`super::cpu_share`]): the run that measured it and every later run that uses it warn, and
//! name the file to delete to measure again.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::backend::{
    mistralrs::MISTRALRS_VERSION, ActivationDtype, Backend, BackendLoader, GenerationRequest,
    Sampling, Setup, Weights,
};
use crate::files::{sha256_reader, write_atomic};
use crate::machine::MachineInfo;
use crate::models::ModelEntry;
use crate::tasks::Prompt;

use super::concurrent::{measure_concurrent, ConcurrentCost};
use super::cpu_share::{CpuTimes, BUSY_SHARE};
use super::loaded::PREFIX_CACHE_ALLOWANCE;

/// One timed request: prompt tokens, seconds to the first token, generated tokens after the
/// first, and their seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Prompt tokens.
    pub prompt_tokens: f64,
    /// Seconds to the first token (prefill).
    pub prefill_seconds: f64,
    /// Tokens generated after the first.
    pub decoded_tokens: f64,
    /// Seconds they took.
    pub decode_seconds: f64,
}

/// A setup's cost model, fitted to a short and a long request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// The short request.
    pub short: Timing,
    /// The long request.
    pub long: Timing,
}

impl Cost {
    /// Seconds of prefill for `n` prompt tokens: `a·n + b·n²` through both measured points.
    pub fn prefill_seconds(&self, n: f64) -> f64 {
        let (n1, t1) = (self.short.prompt_tokens, self.short.prefill_seconds);
        let (n2, t2) = (self.long.prompt_tokens, self.long.prefill_seconds);
        let b = if n2 > n1 {
            ((t2 / n2 - t1 / n1) / (n2 - n1)).max(0.0)
        } else {
            0.0
        };
        let a = (t1 / n1.max(1.0) - b * n1).max(0.0);
        a * n + b * n * n
    }

    /// Seconds per generated token at context length `context`: linear through both points.
    pub fn decode_seconds_per_token(&self, context: f64) -> f64 {
        let per_token = |t: &Timing| t.decode_seconds / t.decoded_tokens.max(1.0);
        let (c1, d1) = (self.short.prompt_tokens, per_token(&self.short));
        let (c2, d2) = (self.long.prompt_tokens, per_token(&self.long));
        let slope = if c2 > c1 {
            ((d2 - d1) / (c2 - c1)).max(0.0)
        } else {
            0.0
        };
        (d1 + slope * (context - c1)).max(d1.min(d2))
    }

    /// "prefill P tok/s at N tokens, P' at N'; decode D tok/s": the measured speeds, as
    /// calibration prints them.
    pub fn describe_speeds(&self) -> String {
        format!(
            "prefill {:.0} tok/s at {:.0} tokens, {:.0} at {:.0}; decode {:.1} tok/s",
            self.short.prompt_tokens / self.short.prefill_seconds,
            self.short.prompt_tokens,
            self.long.prompt_tokens / self.long.prefill_seconds,
            self.long.prompt_tokens,
            1.0 / self.decode_seconds_per_token(self.short.prompt_tokens)
        )
    }

    /// Expected seconds for one item of `workload`.
    pub fn seconds(&self, workload: Workload) -> f64 {
        let context = workload.prompt_tokens + workload.output_tokens / 2.0;
        self.prefill_seconds(workload.prompt_tokens)
            + workload.output_tokens * self.decode_seconds_per_token(context)
    }
}

/// The average item of a task, in tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Workload {
    /// Prompt tokens.
    pub prompt_tokens: f64,
    /// Generated tokens.
    pub output_tokens: f64,
}

/// The setups a run may choose from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    /// Activation dtypes (resolved: never `best`).
    pub dtypes: Vec<ActivationDtype>,
    /// Weights.
    pub weights: Vec<Weights>,
}

impl Candidates {
    /// Every combination, dtypes first.
    fn setups(&self) -> Vec<Setup> {
        self.dtypes
            .iter()
            .flat_map(|&dtype| {
                self.weights.iter().map(move |&weights| Setup {
                    dtype,
                    weights,
                    prefix_cache: false,
                })
            })
            .collect()
    }
}

/// What calibration measured for one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// sha256 of the model file.
    pub model_sha256: String,
    /// The machine and build it was measured on.
    pub conditions: String,
    /// Each setup measured, with its cost model.
    pub measured: Vec<(Setup, Cost)>,
    /// Characters of prompt text per token (to turn prompt lengths into tokens).
    pub chars_per_token: f64,
    /// Setups measured as several worker processes at once.
    #[serde(default)]
    pub concurrent: Vec<ConcurrentCost>,
    /// Worker measurements that failed here, kept so that later runs do not repeat them (deleting
    /// the calibration file measures again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concurrent_failed: Vec<FailedConcurrent>,
    /// The largest share of the machine's CPU time other processes took while a setup was
    /// measured in one process (where the system tells); above [`BUSY_SHARE`] the choices may
    /// not be the fastest, and every run that uses this calibration says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub others_cpu_share: Option<f64>,
}

/// A setup that could not be measured as worker processes on this machine and build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedConcurrent {
    /// The setup every instance was to run.
    pub setup: Setup,
    /// Instances at once.
    pub instances: usize,
    /// Why it failed.
    pub error: String,
}

impl Calibration {
    /// The measured setup (of those `allowed`) with the least expected time per item of
    /// `workload`.
    pub fn best_for(&self, workload: Workload, allowed: &[Setup]) -> Option<Setup> {
        cheapest(self.measured.iter().copied(), workload, allowed).map(|(setup, _)| setup)
    }

    /// `chars` characters of prompt text in tokens, by the measured characters per token.
    fn tokens(&self, chars: f64) -> f64 {
        chars / self.chars_per_token.max(0.5)
    }

    /// As [`Calibration::best_for`] with `instances` worker processes: the setup and the
    /// expected seconds per item of the whole machine (one instance's time ÷ `instances`).
    pub fn best_for_workers(
        &self,
        workload: Workload,
        allowed: &[Setup],
        instances: usize,
    ) -> Option<(Setup, f64)> {
        let measured = self
            .concurrent
            .iter()
            .filter(|c| c.instances == instances)
            .map(|c| (c.setup, c.cost));
        cheapest(measured, workload, allowed)
            .map(|(setup, seconds)| (setup, seconds / instances as f64))
    }

    /// The longest load of `instances` worker processes measured (0 if none).
    fn workers_load_seconds(&self, instances: usize) -> f64 {
        self.concurrent
            .iter()
            .filter(|c| c.instances == instances)
            .map(|c| c.load_seconds)
            .fold(0.0, f64::max)
    }
}

/// The setup of `measured` (of those `allowed`) with the least expected seconds per item of
/// `workload`, and those seconds.
fn cheapest(
    measured: impl Iterator<Item = (Setup, Cost)>,
    workload: Workload,
    allowed: &[Setup],
) -> Option<(Setup, f64)> {
    measured
        .filter(|(setup, _)| allowed.contains(setup))
        .map(|(setup, cost)| (setup, cost.seconds(workload)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// The machine and build a calibration holds for: the CPU, its cores and the binary's
/// versions (yardstick, mistral.rs) and compiled SIMD features.
pub fn conditions() -> String {
    let machine = MachineInfo::current();
    format!(
        "{}; {} cores; yardstick {}; mistral.rs {}; {}",
        machine.cpu_model,
        machine.logical_cores,
        crate::HARNESS_VERSION,
        MISTRALRS_VERSION,
        machine.simd_compiled.join(",")
    )
}

/// The calibration of `model` for `candidates`: from the cache in `cache_dir` when it holds
/// every candidate for these conditions, else measured (and cached).
pub fn calibrate(
    loader: &dyn BackendLoader,
    model: &ModelEntry,
    candidates: &Candidates,
    workers: Option<WorkersPlan>,
    cache_dir: &Path,
) -> Result<Calibration> {
    let conditions = conditions();
    let file = cache_dir.join(format!(
        "{}-{}.json",
        &model.sha256[..model.sha256.len().min(16)],
        &sha256_hex(conditions.as_bytes())[..16]
    ));
    let mut calibration = std::fs::read(&file)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Calibration>(&bytes).ok())
        .filter(|c| c.model_sha256 == model.sha256 && c.conditions == conditions)
        .unwrap_or(Calibration {
            model_sha256: model.sha256.clone(),
            conditions,
            measured: Vec::new(),
            chars_per_token: 0.0,
            concurrent: Vec::new(),
            concurrent_failed: Vec::new(),
            others_cpu_share: None,
        });
    // The dtype is chosen on the first kind of weights; the others are measured with it only.
    let first_weights = candidates.weights[0];
    let first: Vec<Setup> = candidates
        .dtypes
        .iter()
        .map(|&dtype| Setup {
            dtype,
            weights: first_weights,
            prefix_cache: false,
        })
        .collect();
    let share_in_file = calibration.others_cpu_share;
    let mut changed = false;
    for &setup in &first {
        changed |= measure_once(&mut calibration, loader, model, setup)?;
    }
    let reference = Workload {
        prompt_tokens: 512.0,
        output_tokens: 128.0,
    };
    let dtype = calibration
        .best_for(reference, &first)
        .map_or(candidates.dtypes[0], |s| s.dtype);
    for &weights in &candidates.weights[1..] {
        let setup = Setup {
            dtype,
            weights,
            prefix_cache: false,
        };
        changed |= measure_once(&mut calibration, loader, model, setup)?;
    }
    if let Some(plan) = workers {
        for &weights in &candidates.weights {
            let setup = Setup {
                dtype,
                weights,
                prefix_cache: false,
            };
            if plan.allowed.contains(&setup) {
                changed |= measure_workers_once(&mut calibration, &plan, setup, &file);
            }
        }
    }
    // Only one-process measurements take the share: a run that measured only worker processes
    // (or a quieter setup) warns about the file's share, as a later run would.
    let share_measured_now = calibration.others_cpu_share != share_in_file;
    if let Some(warning) = busy_warning(&calibration, &model.id, &file, share_measured_now) {
        eprintln!("warning: {warning}");
    }
    if !changed {
        return Ok(calibration);
    }
    std::fs::create_dir_all(cache_dir)
        .with_context(|| format!("cannot create {}", cache_dir.display()))?;
    write_atomic(&file, &serde_json::to_vec_pretty(&calibration)?)?;
    Ok(calibration)
}

/// Measures `setup` unless `calibration` already holds it; whether it measured.
fn measure_once(
    calibration: &mut Calibration,
    loader: &dyn BackendLoader,
    model: &ModelEntry,
    setup: Setup,
) -> Result<bool> {
    if calibration.measured.iter().any(|(m, _)| *m == setup) {
        return Ok(false);
    }
    if calibration.measured.is_empty() {
        eprintln!(
            "calibrating {} on this machine (once per model, machine and build)",
            model.id
        );
    }
    let before = CpuTimes::now();
    let backend = loader.load(model, setup)?;
    let (cost, chars_per_token) = measure(backend.as_ref())
        .with_context(|| format!("calibrating {} ({})", model.id, setup.describe()))?;
    let others = before
        .zip(CpuTimes::now())
        .and_then(|(b, a)| b.others_share_until(&a));
    if let Some(share) = others {
        calibration.others_cpu_share = Some(calibration.others_cpu_share.unwrap_or(0.0).max(share));
    }
    eprintln!("  {}: {}", setup.describe(), cost.describe_speeds());
    calibration.measured.push((setup, cost));
    calibration.chars_per_token = chars_per_token;
    Ok(true)
}

/// The warning for a `calibration` measured while other processes took more than
/// [`BUSY_SHARE`] of the CPUs: by this run (`share_measured_now`) or one before it, whose file
/// every run that uses it warns about.
fn busy_warning(
    calibration: &Calibration,
    model_id: &str,
    file: &Path,
    share_measured_now: bool,
) -> Option<String> {
    let share = calibration.others_cpu_share.filter(|s| *s > BUSY_SHARE)?;
    let what = if share_measured_now {
        format!("{model_id} was calibrated")
    } else {
        format!("{model_id}'s cached calibration was measured")
    };
    Some(format!(
        "{what} while other processes took {:.0}% of the CPUs, so the setups chosen from it may \
         not be the fastest on this machine; delete {} to measure again when the machine is idle",
        share * 100.0,
        file.display()
    ))
}

/// Worker processes for calibration to measure too.
#[derive(Debug, Clone, Copy)]
pub struct WorkersPlan<'a> {
    /// The model file.
    pub gguf: &'a Path,
    /// Processes at once.
    pub instances: usize,
    /// Threads each.
    pub threads: usize,
    /// The setups that fit in memory `instances` times.
    pub allowed: &'a [Setup],
}

/// Measures `setup` as `plan.instances` worker processes unless `calibration` already holds
/// the measurement, or a failed one; whether `calibration` changed. A failure is reported,
/// recorded (a later run does not measure it again until `file` is deleted) and leaves the run
/// in one process, unless workers were asked for.
fn measure_workers_once(
    calibration: &mut Calibration,
    plan: &WorkersPlan,
    setup: Setup,
    file: &Path,
) -> bool {
    match workers_measurement_state(calibration, setup, plan.instances) {
        WorkersMeasurement::Known => false,
        WorkersMeasurement::Failed(error) => {
            eprintln!(
                "  {} worker processes ({}) not measured: measuring them failed here before \
                 ({error}); delete {} to measure again",
                plan.instances,
                setup.describe(),
                file.display()
            );
            false
        }
        WorkersMeasurement::Missing => {
            let result = measure_concurrent(plan.gguf, setup, plan.instances, plan.threads);
            match &result {
                Ok(measured) => eprintln!(
                    "  {}, {} worker processes × {} thread(s) at once: {}, each",
                    setup.describe(),
                    plan.instances,
                    plan.threads,
                    measured.cost.describe_speeds()
                ),
                Err(err) => eprintln!(
                    "  could not measure {} worker processes ({}): {err:#}; recorded in {} \
                     (delete it to measure again)",
                    plan.instances,
                    setup.describe(),
                    file.display()
                ),
            }
            record_workers_measurement(calibration, setup, plan.instances, result);
            true
        }
    }
}

/// What `calibration` holds of `setup` as `instances` worker processes.
#[derive(Debug, PartialEq)]
enum WorkersMeasurement {
    Known,
    Failed(String),
    Missing,
}

fn workers_measurement_state(
    calibration: &Calibration,
    setup: Setup,
    instances: usize,
) -> WorkersMeasurement {
    if calibration
        .concurrent
        .iter()
        .any(|c| c.setup == setup && c.instances == instances)
    {
        return WorkersMeasurement::Known;
    }
    calibration
        .concurrent_failed
        .iter()
        .find(|f| f.setup == setup && f.instances == instances)
        .map_or(WorkersMeasurement::Missing, |f| {
            WorkersMeasurement::Failed(f.error.clone())
        })
}

/// Keeps a worker measurement in `calibration`: its cost, or why it failed.
fn record_workers_measurement(
    calibration: &mut Calibration,
    setup: Setup,
    instances: usize,
    result: Result<ConcurrentCost>,
) {
    match result {
        Ok(measured) => calibration.concurrent.push(measured),
        Err(err) => calibration.concurrent_failed.push(FailedConcurrent {
            setup,
            instances,
            error: format!("{err:#}"),
        }),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha256_reader(bytes, None).expect("hashing bytes in memory cannot fail")
}

/// The short and the long request on a loaded backend, and characters per prompt token.
pub(super) fn measure(backend: &dyn Backend) -> Result<(Cost, f64)> {
    let completion = |text: &str, max_new_tokens: usize| GenerationRequest {
        prompt: Prompt::Completion {
            text: text.to_string(),
        },
        max_new_tokens,
        stop: Vec::new(),
        sampling: Sampling::greedy(),
    };
    backend.generate(&completion("Hello", 2))?;
    let sentence =
        "The committee reviewed the quarterly figures, the staffing plan and the budget \
                    for the new laboratory, then asked for a revised timeline. ";
    let timed = |text: &str| -> Result<Timing> {
        let generation = backend.generate(&completion(text, 17))?;
        Ok(Timing {
            prompt_tokens: generation.prompt_tokens as f64,
            prefill_seconds: generation.time_to_first_token,
            decoded_tokens: generation.completion_tokens.saturating_sub(1) as f64,
            decode_seconds: generation.total_latency - generation.time_to_first_token,
        })
    };
    let short_text = sentence.repeat(5);
    let short = timed(&short_text)?;
    let long = timed(&sentence.repeat(40))?;
    let chars_per_token = short_text.len() as f64 / short.prompt_tokens.max(1.0);
    Ok((Cost { short, long }, chars_per_token))
}

/// The setups to choose from for `model`: `dtype` (`best`: F32 and mistral.rs's automatic
/// choice, measured) and `weights` (`None`: both, where memory holds dequantized weights for
/// `instances` model instances at once).
pub fn candidates(
    dtype: ActivationDtype,
    weights: Option<Weights>,
    parameters: u64,
    instances: usize,
    machine: &MachineInfo,
) -> Candidates {
    let dtypes = match dtype {
        ActivationDtype::Best => vec![ActivationDtype::F32, ActivationDtype::Auto],
        fixed => vec![fixed],
    };
    let dequantized_fits = machine.memory_bytes.is_some_and(|memory| {
        let per_instance = parameters * 4 * 6 / 5 + (300 << 20);
        per_instance * instances.max(1) as u64 <= memory * 4 / 5
    });
    let weights = match weights {
        Some(fixed) => vec![fixed],
        None if dequantized_fits => vec![Weights::Quantized, Weights::Dequantized],
        None => vec![Weights::Quantized],
    };
    Candidates { dtypes, weights }
}

/// What a task's prompts and answers look like, for choosing its setup.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskShape {
    /// Task name.
    pub task: String,
    /// Mean prompt length in characters.
    pub prompt_chars: f64,
    /// Characters every prompt shares at its start (few-shot exemplars, instructions).
    pub shared_prefix_chars: f64,
    /// Expected generated tokens per item.
    pub output_tokens: f64,
    /// Whether the task runs with the prefix cache (then only the rest of each prompt is
    /// prefilled).
    pub prefix_cache: bool,
    /// Requests the run will send for it per model (items × samples).
    pub items: f64,
    /// For a multiple-choice task: choices per item and the mean length in characters of one
    /// continuation (delimiter + choice). mistral.rs reads context + continuation once per
    /// choice, unless every continuation is one token after one shared context (then one
    /// request reads the context for all).
    pub choices: Option<(f64, f64)>,
}

/// A model to choose setups for.
#[derive(Debug, Clone)]
pub struct ModelChoice<'m> {
    /// The model.
    pub model: &'m ModelEntry,
    /// Its setups in one process.
    pub candidates: Candidates,
    /// Its setups as several worker processes (memory holds fewer dequantized copies).
    pub workers_candidates: Candidates,
    /// Key and value elements it caches per token (from the GGUF: how fast its prefix cache
    /// fills).
    pub kv_values_per_token: Option<u64>,
}

/// How many processes a run may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instances {
    /// Exactly this many.
    Fixed(usize),
    /// One, or this many worker processes where calibration expects them to finish first.
    Measured(usize),
}

/// What calibration chose for a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Model → task → setup.
    pub setups: BTreeMap<String, BTreeMap<String, Setup>>,
    /// Worker processes (1: the run stays in this process).
    pub workers: usize,
    /// Expected seconds of the whole run in one process and with the workers considered, when
    /// both were measured.
    pub estimate: Option<(f64, f64)>,
}

/// Workers must be expected to save at least this share of the one-process time (their loads
/// are counted too): the margin covers measurement noise and merging the parts.
pub const WORKERS_MIN_SAVING: f64 = 0.10;

/// The calibration of a model for its one-process candidates and, when given, for worker
/// processes: how many at once and the setups memory allows for them.
pub type CalibrationOf<'a> =
    dyn FnMut(&ModelEntry, &Candidates, Option<(usize, &[Setup])>) -> Result<Calibration> + 'a;

/// Each model's fastest setup per task, and the number of processes, by `calibration_of`
/// (called only where there is something to choose). With the prefix cache, an item prefills
/// only what it does not share, plus its share of the full prefill after each reload (the
/// cache holds [`PREFIX_CACHE_ALLOWANCE`] of F32 keys and values before the model is reloaded).
pub fn choose(
    models: &[ModelChoice],
    tasks: &[TaskShape],
    instances: Instances,
    calibration_of: &mut CalibrationOf,
) -> Result<Choice> {
    let (n, measured) = match instances {
        Instances::Fixed(n) => (n.max(1), false),
        Instances::Measured(n) => (n.max(1), n > 1),
    };
    // Per model and task: the one-process choice and the workers' choice.
    let mut picks = Vec::new();
    let (mut one_process, mut with_workers, mut loads) = (0.0, 0.0, 0.0);
    let mut both_measured = measured;
    for choice in models {
        let single = choice.candidates.setups();
        let workers = choice.workers_candidates.setups();
        // Forced workers only need measuring when there is a choice of weights for them (the
        // dtype is chosen in one process).
        let measure_workers = n > 1 && (measured || choice.workers_candidates.weights.len() > 1);
        let calibration = if single.len() > 1 || measure_workers {
            let plan = measure_workers.then_some((n, workers.as_slice()));
            Some(calibration_of(choice.model, &choice.candidates, plan)?)
        } else {
            None
        };
        let mut per_task = Vec::new();
        for shape in tasks {
            let Some(calibration) = &calibration else {
                per_task.push((
                    shape.task.clone(),
                    shape.prefix_cache,
                    single[0],
                    workers[0],
                ));
                continue;
            };
            let workload = shape.workload(calibration, choice.kv_values_per_token);
            let requests = shape.items * shape.requests_per_item(calibration);
            let (alone, alone_seconds) =
                cheapest(calibration.measured.iter().copied(), workload, &single)
                    .unwrap_or((single[0], f64::NAN));
            let shared = calibration.best_for_workers(workload, &workers, n);
            match shared {
                Some((_, seconds)) => with_workers += requests * seconds,
                None => both_measured = false,
            }
            one_process += requests * alone_seconds;
            let fallback = if workers.contains(&alone) {
                alone
            } else {
                workers[0]
            };
            let shared = shared.map_or(fallback, |(setup, _)| setup);
            per_task.push((shape.task.clone(), shape.prefix_cache, alone, shared));
        }
        if let Some(calibration) = &calibration {
            // Every worker loads every model (the parts are shards of all the work).
            loads += calibration.workers_load_seconds(n);
        }
        picks.push((choice.model.id.clone(), per_task));
    }
    let estimate =
        (both_measured && one_process.is_finite()).then_some((one_process, with_workers + loads));
    let workers = match (instances, estimate) {
        (Instances::Fixed(n), _) => n.max(1),
        (Instances::Measured(n), Some((alone, shared)))
            if shared < alone * (1.0 - WORKERS_MIN_SAVING) =>
        {
            n
        }
        (Instances::Measured(_), _) => 1,
    };
    let setups = picks
        .into_iter()
        .map(|(model, per_task)| {
            let per_task = per_task
                .into_iter()
                .map(|(task, prefix_cache, alone, shared)| {
                    let chosen = if workers > 1 { shared } else { alone };
                    let setup = Setup {
                        prefix_cache,
                        ..chosen
                    };
                    (task, setup)
                })
                .collect();
            (model, per_task)
        })
        .collect();
    Ok(Choice {
        setups,
        workers,
        estimate,
    })
}

/// A continuation of at most this many tokens (by characters per token) is taken for one
/// token: the choices are then scored in one request (e.g. MMLU's " A" … " D").
const SINGLE_TOKEN_CONTINUATION: f64 = 1.5;

impl TaskShape {
    /// The choices of a multiple-choice item scored one request each, as `(choices,
    /// continuation characters)`; `None` where an item is one request (no choices, or choices
    /// of about one token, read after one shared context).
    fn per_choice_requests(&self, calibration: &Calibration) -> Option<(f64, f64)> {
        self.choices
            .filter(|&(_, chars)| calibration.tokens(chars) > SINGLE_TOKEN_CONTINUATION)
    }

    /// Requests per item: one, or one per choice where the choices are longer than a token.
    fn requests_per_item(&self, calibration: &Calibration) -> f64 {
        self.per_choice_requests(calibration)
            .map_or(1.0, |(choices, _)| choices.max(1.0))
    }

    /// The average request in tokens, by `calibration`'s characters per token (for a
    /// multiple-choice item scored choice by choice, context + one continuation); with the
    /// prefix cache, the prompt tokens actually prefilled.
    fn workload(&self, calibration: &Calibration, kv_values_per_token: Option<u64>) -> Workload {
        let request_chars = self.prompt_chars
            + self
                .per_choice_requests(calibration)
                .map_or(0.0, |(_, chars)| chars);
        let prompt = calibration.tokens(request_chars);
        let prefilled = if self.prefix_cache {
            let unshared = calibration.tokens(self.prompt_chars - self.shared_prefix_chars);
            let per_item =
                kv_values_per_token.unwrap_or(0) as f64 * 4.0 * (prompt + self.output_tokens);
            let items_per_load = (PREFIX_CACHE_ALLOWANCE as f64 / per_item.max(1.0)).max(1.0);
            unshared + (prompt - unshared) / items_per_load
        } else {
            prompt
        };
        Workload {
            prompt_tokens: prefilled,
            output_tokens: self.output_tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(dtype: ActivationDtype, weights: Weights) -> Setup {
        Setup {
            dtype,
            weights,
            prefix_cache: false,
        }
    }

    /// A cost model from prefill speeds at 128 and 1,024 tokens and a decode speed.
    fn cost(prefill_short: f64, prefill_long: f64, decode: f64) -> Cost {
        let timing = |tokens: f64, prefill: f64| Timing {
            prompt_tokens: tokens,
            prefill_seconds: tokens / prefill,
            decoded_tokens: 16.0,
            decode_seconds: 16.0 / decode,
        };
        Cost {
            short: timing(128.0, prefill_short),
            long: timing(1024.0, prefill_long),
        }
    }

    #[test]
    fn the_cost_model_goes_through_both_measured_points() {
        let c = cost(200.0, 100.0, 20.0);
        assert!((c.prefill_seconds(128.0) - 128.0 / 200.0).abs() < 1e-9);
        assert!((c.prefill_seconds(1024.0) - 1024.0 / 100.0).abs() < 1e-9);
        // Quadratic: twice the long prompt costs more than twice as much.
        assert!(c.prefill_seconds(2048.0) > 2.0 * c.prefill_seconds(1024.0));
        assert!((c.decode_seconds_per_token(500.0) - 1.0 / 20.0).abs() < 1e-9);
    }

    /// Quantized and dequantized F32 setups with SmolLM2's measured shape here (dequantized
    /// prefill about 4× faster, decode 0.7×), and their calibration.
    fn smollm2_shaped() -> (Setup, Setup, Calibration) {
        let quantized = setup(ActivationDtype::F32, Weights::Quantized);
        let dequantized = setup(ActivationDtype::F32, Weights::Dequantized);
        let calibration = Calibration {
            model_sha256: "m".into(),
            conditions: "c".into(),
            measured: vec![
                (quantized, cost(49.0, 38.0, 35.0)),
                (dequantized, cost(220.0, 100.0, 22.0)),
            ],
            chars_per_token: 4.0,
            concurrent: Vec::new(),
            concurrent_failed: Vec::new(),
            others_cpu_share: None,
        };
        (quantized, dequantized, calibration)
    }

    #[test]
    fn a_busy_calibration_warns_and_says_whether_this_run_measured_the_share() {
        let (_, _, mut calibration) = smollm2_shaped();
        let file = Path::new("/cache/calibration/m-c.json");
        assert_eq!(busy_warning(&calibration, "smol", file, false), None);
        calibration.others_cpu_share = Some(BUSY_SHARE);
        assert_eq!(
            busy_warning(&calibration, "smol", file, true),
            None,
            "at the threshold the machine counts as idle"
        );
        calibration.others_cpu_share = Some(0.67);
        let now = busy_warning(&calibration, "smol", file, true).unwrap();
        assert!(
            now.starts_with("smol was calibrated while other processes took 67%"),
            "{now}"
        );
        assert!(now.contains("delete /cache/calibration/m-c.json"), "{now}");
        let cached = busy_warning(&calibration, "smol", file, false).unwrap();
        assert!(
            cached.starts_with("smol's cached calibration was measured while"),
            "{cached}"
        );
    }

    #[test]
    fn long_prompts_pick_fast_prefill_and_long_outputs_fast_decode() {
        let (quantized, dequantized, calibration) = smollm2_shaped();
        let both = [quantized, dequantized];
        let few_shot = Workload {
            prompt_tokens: 900.0,
            output_tokens: 128.0,
        };
        assert_eq!(calibration.best_for(few_shot, &both), Some(dequantized));
        let short_prompt_long_answer = Workload {
            prompt_tokens: 20.0,
            output_tokens: 400.0,
        };
        assert_eq!(
            calibration.best_for(short_prompt_long_answer, &both),
            Some(quantized)
        );
        assert_eq!(
            calibration.best_for(few_shot, &[quantized]),
            Some(quantized)
        );
    }

    fn model() -> ModelEntry {
        ModelEntry {
            id: "m".into(),
            display_name: "m".into(),
            family: "f".into(),
            architecture: "llama".into(),
            parameters: "1".into(),
            quantization: "Q4".into(),
            license: "MIT".into(),
            size_bytes: 1,
            sha256: "0".repeat(64),
            source: crate::models::Source::Path {
                path: "m.gguf".into(),
            },
            provider_ids: Vec::new(),
            published: Vec::new(),
            origin: String::new(),
        }
    }

    #[test]
    fn multiple_choice_items_cost_one_request_per_long_choice_and_one_for_single_tokens() {
        let (_, dequantized, calibration) = smollm2_shaped();
        let shape = |choices| TaskShape {
            task: "mc".into(),
            prompt_chars: 400.0,
            shared_prefix_chars: 0.0,
            output_tokens: 0.0,
            prefix_cache: false,
            items: 1.0,
            choices,
        };
        let seconds = |shape: &TaskShape| {
            let workload = shape.workload(&calibration, None);
            let (_, cost) = calibration
                .measured
                .iter()
                .find(|(setup, _)| *setup == dequantized)
                .unwrap();
            shape.requests_per_item(&calibration) * cost.seconds(workload)
        };
        let context_only = seconds(&shape(None));
        // Four endings of 120 characters (30 tokens at 4 characters a token): four requests,
        // each the context and one ending.
        let endings = shape(Some((4.0, 120.0)));
        assert_eq!(endings.requests_per_item(&calibration), 4.0);
        assert_eq!(endings.workload(&calibration, None).prompt_tokens, 130.0);
        assert!(
            seconds(&endings) > 4.0 * context_only,
            "{}",
            seconds(&endings)
        );
        // " A" … " D": one token each, one request reads the context for all four.
        let letters = shape(Some((4.0, 2.0)));
        assert_eq!(letters.requests_per_item(&calibration), 1.0);
        assert_eq!(seconds(&letters), context_only);
    }

    #[test]
    fn with_the_prefix_cache_only_the_unshared_prompt_counts() {
        let (_, _, calibration) = smollm2_shaped();
        let model = model();
        let candidates = Candidates {
            dtypes: vec![ActivationDtype::F32],
            weights: vec![Weights::Quantized, Weights::Dequantized],
        };
        // 8-shot: 5,400 characters of which 5,000 are the exemplars; 128 tokens out.
        let shape = |prefix_cache| TaskShape {
            task: "few-shot".into(),
            prompt_chars: 5400.0,
            shared_prefix_chars: 5000.0,
            output_tokens: 128.0,
            prefix_cache,
            items: 100.0,
            choices: None,
        };
        let pick = |prefix_cache, kv_values| {
            let models = [ModelChoice {
                model: &model,
                candidates: candidates.clone(),
                workers_candidates: candidates.clone(),
                kv_values_per_token: kv_values,
            }];
            choose(
                &models,
                &[shape(prefix_cache)],
                Instances::Fixed(1),
                &mut |_, _, _| Ok(calibration.clone()),
            )
            .unwrap()
            .setups["m"]["few-shot"]
        };
        // Without the cache the long prompt dominates: dequantized.
        assert_eq!(pick(false, Some(11_520)).weights, Weights::Dequantized);
        // With it, and a small model's keys and values (many items per load): quantized, for
        // its faster decode; the setup records the cache.
        let cached = pick(true, Some(1_000));
        assert_eq!(cached.weights, Weights::Quantized);
        assert!(cached.prefix_cache);
    }

    /// `calibration`'s setups as if measured as two worker processes, each `slower` times one
    /// process's time.
    fn as_two_workers(calibration: &Calibration, slower: f64) -> Vec<ConcurrentCost> {
        let scale = |t: Timing| Timing {
            prefill_seconds: t.prefill_seconds * slower,
            decode_seconds: t.decode_seconds * slower,
            ..t
        };
        calibration
            .measured
            .iter()
            .map(|(setup, cost)| ConcurrentCost {
                setup: *setup,
                instances: 2,
                cost: Cost {
                    short: scale(cost.short),
                    long: scale(cost.long),
                },
                load_seconds: 2.0,
            })
            .collect()
    }

    #[test]
    fn a_failed_worker_measurement_is_kept_and_not_repeated() {
        let (quantized, dequantized, mut calibration) = smollm2_shaped();
        assert_eq!(
            workers_measurement_state(&calibration, quantized, 2),
            WorkersMeasurement::Missing
        );
        record_workers_measurement(
            &mut calibration,
            quantized,
            2,
            Err(anyhow::anyhow!("probe 2 exited before it was ready")),
        );
        let measured = as_two_workers(&calibration, 1.25).remove(1);
        record_workers_measurement(&mut calibration, dequantized, 2, Ok(measured));
        // Kept through the file, and told apart from a measurement and from another count.
        let reread: Calibration =
            serde_json::from_slice(&serde_json::to_vec(&calibration).unwrap()).unwrap();
        assert_eq!(reread, calibration);
        assert_eq!(
            workers_measurement_state(&reread, quantized, 2),
            WorkersMeasurement::Failed("probe 2 exited before it was ready".into())
        );
        assert_eq!(
            workers_measurement_state(&reread, dequantized, 2),
            WorkersMeasurement::Known
        );
        assert_eq!(
            workers_measurement_state(&reread, quantized, 4),
            WorkersMeasurement::Missing
        );
        // A failed setup is never offered to the workers decision.
        let few_shot = Workload {
            prompt_tokens: 900.0,
            output_tokens: 200.0,
        };
        let chosen = reread.best_for_workers(few_shot, &[quantized, dequantized], 2);
        assert_eq!(chosen.map(|(setup, _)| setup), Some(dequantized));
        // A calibration file written before failures were kept still reads.
        let mut old = serde_json::to_value(&smollm2_shaped().2).unwrap();
        old.as_object_mut().unwrap().remove("concurrent_failed");
        let old: Calibration = serde_json::from_value(old).unwrap();
        assert!(old.concurrent_failed.is_empty());
    }

    #[test]
    fn workers_are_chosen_only_where_calibration_expects_them_to_save_time() {
        let (quantized, _, mut calibration) = smollm2_shaped();
        let both = Candidates {
            dtypes: vec![ActivationDtype::F32],
            weights: vec![Weights::Quantized, Weights::Dequantized],
        };
        let model = model();
        let shape = TaskShape {
            task: "t".into(),
            prompt_chars: 2000.0,
            shared_prefix_chars: 0.0,
            output_tokens: 64.0,
            prefix_cache: false,
            items: 50.0,
            choices: None,
        };
        let run = |calibration: &Calibration, instances, workers_weights: Vec<Weights>| {
            let models = [ModelChoice {
                model: &model,
                candidates: both.clone(),
                workers_candidates: Candidates {
                    dtypes: vec![ActivationDtype::F32],
                    weights: workers_weights,
                },
                kv_values_per_token: None,
            }];
            let mut asked = None;
            let choice = choose(
                &models,
                std::slice::from_ref(&shape),
                instances,
                &mut |_, _, plan| {
                    asked = plan.map(|(n, allowed)| (n, allowed.len()));
                    Ok(calibration.clone())
                },
            )
            .unwrap();
            (choice, asked)
        };
        let all = || vec![Weights::Quantized, Weights::Dequantized];
        // Each of two workers takes 1.25× one process's time: the machine does 1.6× the work.
        calibration.concurrent = as_two_workers(&calibration, 1.25);
        let (chosen, asked) = run(&calibration, Instances::Measured(2), all());
        assert_eq!(asked, Some((2, 2)), "two workers measured, both setups");
        assert_eq!(chosen.workers, 2);
        let (alone, shared) = chosen.estimate.unwrap();
        let expected = alone * 1.25 / 2.0 + 2.0;
        assert!((shared - expected).abs() < 1e-6, "{shared} vs {expected}");
        // Twice as slow each: nothing gained, one process.
        calibration.concurrent = as_two_workers(&calibration, 2.0);
        assert_eq!(
            run(&calibration, Instances::Measured(2), all()).0.workers,
            1
        );
        // 5% faster: under the margin, one process.
        calibration.concurrent = as_two_workers(&calibration, 1.9);
        let (chosen, _) = run(&calibration, Instances::Measured(2), all());
        let (alone, shared) = chosen.estimate.unwrap();
        assert!(shared < alone && shared > alone * (1.0 - WORKERS_MIN_SAVING));
        assert_eq!(chosen.workers, 1);
        // Nothing measured for workers (a probe failed): one process, no estimate.
        calibration.concurrent.clear();
        let (chosen, _) = run(&calibration, Instances::Measured(2), all());
        assert_eq!((chosen.workers, chosen.estimate), (1, None));
        // Two workers forced, memory for quantized weights only: the workers' setup is theirs,
        // although one process would prefill this long prompt faster dequantized.
        calibration.concurrent = as_two_workers(&calibration, 1.25);
        let (chosen, asked) = run(&calibration, Instances::Fixed(2), vec![Weights::Quantized]);
        assert_eq!(
            asked, None,
            "one setup allowed: nothing to measure for workers"
        );
        assert_eq!(chosen.workers, 2);
        assert_eq!(chosen.setups["m"]["t"], quantized);
        let (alone_choice, _) = run(&calibration, Instances::Fixed(1), all());
        assert_eq!(alone_choice.setups["m"]["t"].weights, Weights::Dequantized);
    }

    #[test]
    fn dequantized_weights_are_a_candidate_only_where_memory_holds_them() {
        let machine = |gib: u64| MachineInfo {
            memory_bytes: Some(gib << 30),
            ..MachineInfo::current()
        };
        let half_billion = 500_000_000;
        let both = candidates(ActivationDtype::F32, None, half_billion, 2, &machine(24));
        assert_eq!(both.weights, [Weights::Quantized, Weights::Dequantized]);
        let small = candidates(ActivationDtype::F32, None, half_billion, 2, &machine(4));
        assert_eq!(small.weights, [Weights::Quantized]);
        let forced = candidates(
            ActivationDtype::F32,
            Some(Weights::Dequantized),
            1,
            1,
            &machine(1),
        );
        assert_eq!(forced.weights, [Weights::Dequantized]);
        assert_eq!(
            candidates(ActivationDtype::Best, None, 1, 1, &machine(24)).dtypes,
            [ActivationDtype::F32, ActivationDtype::Auto]
        );
    }
}
