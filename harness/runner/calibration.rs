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
}

impl Calibration {
    /// The measured setup (of those `allowed`) with the least expected time per item of
    /// `workload`.
    pub fn best_for(&self, workload: Workload, allowed: &[Setup]) -> Option<Setup> {
        self.measured
            .iter()
            .filter(|(setup, _)| allowed.contains(setup))
            .min_by(|a, b| a.1.seconds(workload).total_cmp(&b.1.seconds(workload)))
            .map(|(setup, _)| *setup)
    }
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
    let backend = loader.load(model, setup)?;
    let (cost, chars_per_token) = measure(backend.as_ref())
        .with_context(|| format!("calibrating {} ({})", model.id, setup.describe()))?;
    eprintln!(
        "  {}: prefill {:.0} tok/s at {:.0} tokens, {:.0} at {:.0}; decode {:.1} tok/s",
        setup.describe(),
        cost.short.prompt_tokens / cost.short.prefill_seconds,
        cost.short.prompt_tokens,
        cost.long.prompt_tokens / cost.long.prefill_seconds,
        cost.long.prompt_tokens,
        1.0 / cost.decode_seconds_per_token(cost.short.prompt_tokens)
    );
    calibration.measured.push((setup, cost));
    calibration.chars_per_token = chars_per_token;
    Ok(true)
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha256_reader(bytes, None).expect("hashing bytes in memory cannot fail")
}

/// The short and the long request on a loaded backend, and characters per prompt token.
fn measure(backend: &dyn Backend) -> Result<(Cost, f64)> {
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
}

/// A model to choose setups for: its candidates and the key and value elements it caches per
/// token (from the GGUF; how fast its prefix cache fills).
pub type ModelChoice<'m> = (&'m ModelEntry, Candidates, Option<u64>);

/// Model → task → setup: for each model, each task's fastest setup by `calibration_of` (called
/// only for models with more than one candidate). With the prefix cache, an item prefills only
/// what it does not share, plus its share of the full prefill after each reload (the cache
/// holds [`PREFIX_CACHE_ALLOWANCE`] of F32 keys and values before the model is reloaded).
pub fn choose(
    models: &[ModelChoice],
    tasks: &[TaskShape],
    calibration_of: &mut dyn FnMut(&ModelEntry, &Candidates) -> Result<Calibration>,
) -> Result<BTreeMap<String, BTreeMap<String, Setup>>> {
    let mut setups = BTreeMap::new();
    for (model, candidates, kv_values_per_token) in models {
        let all = candidates.setups();
        let calibration = match all.len() {
            1 => None,
            _ => Some(calibration_of(model, candidates)?),
        };
        let per_task: BTreeMap<String, Setup> = tasks
            .iter()
            .map(|shape| {
                let chosen = calibration.as_ref().map_or(all[0], |calibration| {
                    let tokens = |chars: f64| chars / calibration.chars_per_token.max(0.5);
                    let prompt = tokens(shape.prompt_chars);
                    let prefilled = if shape.prefix_cache {
                        let unshared = tokens(shape.prompt_chars - shape.shared_prefix_chars);
                        let per_item = kv_values_per_token.unwrap_or(0) as f64
                            * 4.0
                            * (prompt + shape.output_tokens);
                        let items_per_load =
                            (PREFIX_CACHE_ALLOWANCE as f64 / per_item.max(1.0)).max(1.0);
                        unshared + (prompt - unshared) / items_per_load
                    } else {
                        prompt
                    };
                    let workload = Workload {
                        prompt_tokens: prefilled,
                        output_tokens: shape.output_tokens,
                    };
                    calibration.best_for(workload, &all).unwrap_or(all[0])
                });
                let setup = Setup {
                    prefix_cache: shape.prefix_cache,
                    ..chosen
                };
                (shape.task.clone(), setup)
            })
            .collect();
        setups.insert(model.id.clone(), per_task);
    }
    Ok(setups)
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
        };
        (quantized, dequantized, calibration)
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

    #[test]
    fn with_the_prefix_cache_only_the_unshared_prompt_counts() {
        let (_, _, calibration) = smollm2_shaped();
        let model = ModelEntry {
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
        };
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
        };
        let pick = |prefix_cache, kv_values| {
            let models = [(&model, candidates.clone(), kv_values)];
            choose(&models, &[shape(prefix_cache)], &mut |_, _| {
                Ok(calibration.clone())
            })
            .unwrap()["m"]["few-shot"]
        };
        // Without the cache the long prompt dominates: dequantized.
        assert_eq!(pick(false, Some(11_520)).weights, Weights::Dequantized);
        // With it, and a small model's keys and values (many items per load): quantized, for
        // its faster decode; the setup records the cache.
        let cached = pick(true, Some(1_000));
        assert_eq!(cached.weights, Weights::Quantized);
        assert!(cached.prefix_cache);
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
