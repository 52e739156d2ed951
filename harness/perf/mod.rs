//! `yardstick perf`: synthetic workloads repeated for mean ± sd, a concurrency sweep, and the
//! memory-bandwidth roofline: how close decode runs to the machine's physical limit.
//!
//! The sweep gives each request of a level its own prompt (up to [`SWEEP_PROMPTS`], then
//! cycled) and afterwards sends each prompt alone, untimed, to count how many batched greedy
//! outputs equal the lone ones: a backend whose batching changes outputs is measured doing other
//! work. With a prefix cache (`--load-path gguf-model-builder`) the lone runs may reuse the
//! sweep's cached prompts, so the count then also covers the cache.
//!
//! Model load and the warm-up request are timed apart and never counted in speed.

pub mod bandwidth;
pub mod render;
pub mod workload;

use std::sync::Barrier;
use std::time::Instant;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::backend::{Backend, Generation, GenerationRequest, Sampling};
use crate::hardware::HardwareProfile;
use crate::metrics::cost::{self_hosted, usd_per_million};
use crate::metrics::stats::mean;
use crate::metrics::TokenPrices;
use crate::tasks::Prompt;
use crate::units::{Seconds, TokensPerSecond};
pub use workload::{synthetic_prompt, synthetic_prompt_variant, Workload};

/// What to measure.
#[derive(Debug, Clone)]
pub struct PerfOptions {
    /// Workloads run one request at a time.
    pub workloads: Vec<Workload>,
    /// Repetitions of each workload.
    pub repetitions: usize,
    /// Parallel request counts of the sweep (empty: no sweep).
    pub concurrency: Vec<usize>,
    /// Workload of every sweep request.
    pub sweep_workload: Workload,
}

/// Mean and sample standard deviation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanSd {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one value).
    pub sd: f64,
}

impl MeanSd {
    /// Of `values` (`None` when empty).
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let m = mean(values);
        let sd = if values.len() > 1 {
            (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Self { mean: m, sd })
    }
}

/// One workload repeated, one request at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadResult {
    /// The workload, e.g. `pp512-tg128`.
    pub workload: String,
    /// Prompt tokens actually sent.
    pub prompt_tokens: usize,
    /// Mean tokens actually generated (fewer than asked when the model ends early).
    pub generated_tokens: f64,
    /// Repetitions.
    pub repetitions: usize,
    /// Prompt tokens per second (prompt / time to first token).
    pub prefill_tokens_per_second: Option<MeanSd>,
    /// Output tokens per second after the first token.
    pub decode_tokens_per_second: Option<MeanSd>,
    /// Time to first token, seconds.
    pub time_to_first_token_s: Option<MeanSd>,
    /// Request to last token, seconds.
    pub total_latency_s: Option<MeanSd>,
    /// Self-hosted USD per 1M tokens at these speeds (with a hardware profile).
    #[serde(default)]
    pub cost: Option<TokenPrices>,
    /// The first repetition's generated text (greedy: every repetition's), to compare setups.
    #[serde(default)]
    pub first_output: String,
}

/// One level of the concurrency sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Requests in flight together.
    pub concurrency: usize,
    /// Generated tokens of all requests ÷ wall time from the first send to the last token.
    pub system_output_tokens_per_second: TokensPerSecond,
    /// Mean over requests of each one's output speed after its first token.
    pub per_request_output_tokens_per_second: Option<TokensPerSecond>,
    /// Mean time to first token.
    pub mean_time_to_first_token_s: Seconds,
    /// Wall time of the level.
    pub wall_seconds: Seconds,
    /// Self-hosted USD per 1M output tokens at this level's system throughput.
    #[serde(default)]
    pub usd_per_million_output: Option<f64>,
    /// How many of the level's greedy outputs equal the same prompt's output sent alone
    /// (requests cycle through [`SWEEP_PROMPTS`] prompts). Fewer than `concurrency`: batching
    /// changed what the model generates, so the level's speed is of different work (at
    /// concurrency 1: the backend is not deterministic). `None` in older reports.
    #[serde(default)]
    pub outputs_as_sent_alone: Option<usize>,
}

/// Decode speed against the memory-bandwidth limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roofline {
    /// Measured read bandwidth, bytes per second (all cores).
    pub bandwidth_bytes_per_second: f64,
    /// Weight bytes read per generated token.
    pub bytes_per_token: u64,
    /// Bandwidth ÷ bytes per token: the fastest decode the memory allows.
    pub roofline_tokens_per_second: TokensPerSecond,
    /// Measured single-request decode speed (first workload).
    pub decode_tokens_per_second: Option<TokensPerSecond>,
    /// Measured ÷ roofline.
    pub share: Option<f64>,
}

impl Roofline {
    /// The roofline for `bytes_per_token` at `bandwidth`, compared with `decode`.
    pub fn new(bandwidth: f64, bytes_per_token: u64, decode: Option<TokensPerSecond>) -> Self {
        let roofline = bandwidth / bytes_per_token.max(1) as f64;
        Self {
            bandwidth_bytes_per_second: bandwidth,
            bytes_per_token,
            roofline_tokens_per_second: roofline,
            decode_tokens_per_second: decode,
            share: decode.map(|d| d / roofline),
        }
    }

    /// Why this roofline cannot be right, if it cannot: a measured decode faster than the limit
    /// means the bandwidth figure is too low (every share computed from it is too high).
    pub fn implausible(&self) -> Option<String> {
        let decode = self.decode_tokens_per_second?;
        (decode > self.roofline_tokens_per_second).then(|| {
            format!(
                "decode measured at {decode:.1} tok/s exceeds the {:.1} tok/s the measured \
                 bandwidth allows: the bandwidth figure is wrong (too low), ignore the share",
                self.roofline_tokens_per_second
            )
        })
    }
}

/// Everything `perf` measured for one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerfReport {
    /// Model id.
    pub model: String,
    /// Backend, dtype, load time.
    pub backend: crate::backend::BackendInfo,
    /// Seconds of the warm-up request (not counted).
    pub warmup_seconds: Seconds,
    /// Compute threads.
    pub threads: usize,
    /// Single-request workloads.
    pub workloads: Vec<WorkloadResult>,
    /// Concurrency sweep.
    pub sweep: Vec<SweepPoint>,
    /// Roofline, when the model's weight size is known.
    pub roofline: Option<Roofline>,
    /// The price profile costs were computed with.
    #[serde(default)]
    pub hardware: Option<HardwareProfile>,
}

impl PerfReport {
    /// Adds self-hosted cost per 1M tokens at `hardware`'s hourly price to every measurement.
    pub fn price_with(&mut self, hardware: &HardwareProfile) {
        let usd = hardware.usd_per_hour;
        for workload in &mut self.workloads {
            workload.cost = match (
                workload.prefill_tokens_per_second,
                workload.decode_tokens_per_second,
            ) {
                (Some(input), Some(output)) => self_hosted(usd, input.mean, output.mean),
                _ => None,
            };
        }
        for point in &mut self.sweep {
            point.usd_per_million_output =
                usd_per_million(usd, point.system_output_tokens_per_second);
        }
        self.hardware = Some(hardware.clone());
    }
}

/// Distinct prompts of the concurrency sweep: a level with more requests cycles through them.
pub const SWEEP_PROMPTS: usize = 8;

/// Measures `backend`: a warm-up, each workload `repetitions` times, the sweep, then each of
/// the sweep's prompts alone (greedy outputs to compare the sweep's with).
pub fn measure(
    model: &str,
    backend: &dyn Backend,
    options: &PerfOptions,
    progress: &dyn Fn(&str),
) -> Result<PerfReport> {
    let warmup_started = Instant::now();
    backend.generate(&request(synthetic_prompt(backend, 16)?, 8))?;
    let warmup_seconds = warmup_started.elapsed().as_secs_f64();

    let mut workloads = Vec::new();
    for workload in &options.workloads {
        let prompt = synthetic_prompt(backend, workload.prompt_tokens)?;
        let mut runs = Vec::new();
        for repetition in 1..=options.repetitions {
            progress(&format!(
                "{model} {workload} {repetition}/{}",
                options.repetitions
            ));
            runs.push(backend.generate(&request(prompt.clone(), workload.generate_tokens))?);
        }
        workloads.push(summarize_workload(workload, &runs));
    }

    let mut sweep = Vec::new();
    if let Some(&most) = options.concurrency.iter().max() {
        // Distinct prompts (a batch of copies of one prompt would hide a batch that mixes its
        // sequences up), each also generated alone, after the sweep, to compare outputs with.
        let workload = options.sweep_workload;
        let requests = (0..most.min(SWEEP_PROMPTS))
            .map(|variant| {
                let prompt =
                    synthetic_prompt_variant(backend, workload.prompt_tokens, variant as u64)?;
                Ok(request(prompt, workload.generate_tokens))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut outputs = Vec::new();
        for &concurrency in &options.concurrency {
            progress(&format!("{model} {workload} × {concurrency} in parallel"));
            let level: Vec<&GenerationRequest> =
                requests.iter().cycle().take(concurrency).collect();
            let (point, texts) = sweep_point(backend, &level)?;
            sweep.push(point);
            outputs.push(texts);
        }
        let mut alone = Vec::with_capacity(requests.len());
        for (i, request) in requests.iter().enumerate() {
            progress(&format!(
                "{model} {workload} prompt {}/{} alone",
                i + 1,
                requests.len()
            ));
            alone.push(backend.generate(request)?.text);
        }
        for (point, texts) in sweep.iter_mut().zip(&outputs) {
            point.outputs_as_sent_alone = Some(outputs_as_sent_alone(texts, &alone));
        }
    }
    Ok(PerfReport {
        model: model.to_string(),
        backend: backend.info(),
        warmup_seconds,
        threads: rayon::current_num_threads(),
        workloads,
        sweep,
        roofline: None,
        hardware: None,
    })
}

fn request(prompt: Prompt, max_new_tokens: usize) -> GenerationRequest {
    GenerationRequest {
        prompt,
        max_new_tokens,
        stop: Vec::new(),
        sampling: Sampling::greedy(),
    }
}

/// Mean ± sd of each speed over the repetitions of one workload.
pub fn summarize_workload(workload: &Workload, runs: &[Generation]) -> WorkloadResult {
    let of = |f: &dyn Fn(&Generation) -> Option<f64>| {
        MeanSd::of(&runs.iter().filter_map(f).collect::<Vec<_>>())
    };
    WorkloadResult {
        workload: workload.to_string(),
        prompt_tokens: runs.first().map_or(0, |r| r.prompt_tokens),
        generated_tokens: mean(
            &runs
                .iter()
                .map(|r| r.completion_tokens as f64)
                .collect::<Vec<_>>(),
        ),
        repetitions: runs.len(),
        prefill_tokens_per_second: of(&|r| r.prefill_tokens_per_second()),
        decode_tokens_per_second: of(&|r| r.output_tokens_per_second()),
        time_to_first_token_s: of(&|r| Some(r.time_to_first_token)),
        total_latency_s: of(&|r| Some(r.total_latency)),
        cost: None,
        first_output: runs.first().map(|r| r.text.clone()).unwrap_or_default(),
    }
}

/// `requests` sent together (the backend batches them): the level's speeds and outputs.
fn sweep_point(
    backend: &dyn Backend,
    requests: &[&GenerationRequest],
) -> Result<(SweepPoint, Vec<String>)> {
    let concurrency = requests.len();
    let barrier = Barrier::new(concurrency + 1);
    let (runs, wall_seconds) = std::thread::scope(|scope| {
        let handles: Vec<_> = requests
            .iter()
            .map(|&request| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    backend.generate(request)
                })
            })
            .collect();
        barrier.wait();
        let started = Instant::now();
        let runs: Vec<Result<Generation>> = handles
            .into_iter()
            .map(|h| h.join().expect("request thread panicked"))
            .collect();
        (runs, started.elapsed().as_secs_f64())
    });
    let runs = runs.into_iter().collect::<Result<Vec<_>>>()?;
    let point = sweep_summary(concurrency, &runs, wall_seconds);
    Ok((point, runs.into_iter().map(|run| run.text).collect()))
}

/// How many of a level's `outputs` equal the output of the same prompt sent alone (request `i`
/// of a level has prompt `i` modulo the number of prompts, whose lone outputs are `alone`).
pub fn outputs_as_sent_alone(outputs: &[String], alone: &[String]) -> usize {
    outputs
        .iter()
        .zip(alone.iter().cycle())
        .filter(|(output, alone)| output == alone)
        .count()
}

/// System and per-request speed of one sweep level.
pub fn sweep_summary(concurrency: usize, runs: &[Generation], wall_seconds: Seconds) -> SweepPoint {
    let generated: usize = runs.iter().map(|r| r.completion_tokens).sum();
    let speeds: Vec<f64> = runs
        .iter()
        .filter_map(Generation::output_tokens_per_second)
        .collect();
    SweepPoint {
        concurrency,
        system_output_tokens_per_second: generated as f64 / wall_seconds.max(f64::EPSILON),
        per_request_output_tokens_per_second: (!speeds.is_empty()).then(|| mean(&speeds)),
        mean_time_to_first_token_s: mean(
            &runs
                .iter()
                .map(|r| r.time_to_first_token)
                .collect::<Vec<_>>(),
        ),
        wall_seconds,
        usd_per_million_output: None,
        outputs_as_sent_alone: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::scripted::ScriptedBackend;

    fn generation(ttft: f64, total: f64, tokens: usize) -> Generation {
        Generation {
            text: String::new(),
            prompt_tokens: 100,
            completion_tokens: tokens,
            time_to_first_token: ttft,
            total_latency: total,
            finish_reason: "length".into(),
        }
    }

    #[test]
    fn mean_and_sample_sd() {
        let m = MeanSd::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(m.mean, 5.0);
        assert!((m.sd - 2.138).abs() < 1e-3);
        assert_eq!(MeanSd::of(&[3.0]).unwrap().sd, 0.0);
        assert!(MeanSd::of(&[]).is_none());
    }

    #[test]
    fn workload_speeds_follow_the_definitions() {
        let runs = [generation(1.0, 2.0, 11), generation(0.5, 1.5, 21)];
        let result = summarize_workload(&Workload::LLAMA_BENCH, &runs);
        assert_eq!(result.prefill_tokens_per_second.unwrap().mean, 150.0);
        assert_eq!(result.decode_tokens_per_second.unwrap().mean, 15.0);
        assert_eq!(result.generated_tokens, 16.0);
    }

    #[test]
    fn sweep_counts_all_tokens_over_the_wall_time() {
        let runs = [generation(1.0, 3.0, 21), generation(1.0, 5.0, 41)];
        let point = sweep_summary(2, &runs, 5.0);
        assert_eq!(point.system_output_tokens_per_second, 62.0 / 5.0);
        assert_eq!(point.per_request_output_tokens_per_second, Some(10.0));
    }

    #[test]
    fn roofline_share_is_measured_over_limit() {
        let roofline = Roofline::new(10e9, 100_000_000, Some(25.0));
        assert_eq!(roofline.roofline_tokens_per_second, 100.0);
        assert_eq!(roofline.share, Some(0.25));
        assert_eq!(roofline.implausible(), None);
        let faster = Roofline::new(10e9, 100_000_000, Some(120.0));
        assert!(faster
            .implausible()
            .unwrap()
            .contains("bandwidth figure is wrong"));
    }

    #[test]
    fn measures_a_backend_end_to_end() {
        // Each reply starts with its prompt's first word.
        let backend = ScriptedBackend::new(|prompt| {
            let first = prompt.split_whitespace().next().unwrap_or("");
            format!("{first} two three four")
        });
        let options = PerfOptions {
            workloads: vec![Workload::LLAMA_BENCH],
            repetitions: 3,
            concurrency: vec![1, 4],
            sweep_workload: "pp16-tg8".parse().unwrap(),
        };
        let report = measure("m", &backend, &options, &|_| {}).unwrap();
        assert_eq!(report.workloads[0].repetitions, 3);
        assert_eq!(report.workloads[0].prompt_tokens, 512);
        assert_eq!(report.sweep.len(), 2);
        assert_eq!(report.sweep[1].concurrency, 4);
        assert!(report.sweep[1].system_output_tokens_per_second > 0.0);
        assert_eq!(report.sweep[0].outputs_as_sent_alone, Some(1));
        assert_eq!(report.sweep[1].outputs_as_sent_alone, Some(4));
        // Warm-up, 3 repetitions, 4 prompts alone, then 1 + 4 in the sweep.
        assert_eq!(backend.calls(), 1 + 3 + 4 + 5);
    }

    #[test]
    fn a_batch_that_mixes_its_sequences_up_is_counted() {
        let texts = |list: &[&str]| list.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let alone = texts(&["a b", "c d", "e f"]);
        assert_eq!(
            outputs_as_sent_alone(&texts(&["a b", "e f", "e f"]), &alone),
            2
        );
        assert_eq!(
            outputs_as_sent_alone(&texts(&["a b", "c d", "e f"]), &alone),
            3
        );
        // More requests than prompts: request 3 has prompt 0 again.
        let level = texts(&["a b", "c d", "e f", "a b", "e f"]);
        assert_eq!(outputs_as_sent_alone(&level, &alone), 4);
    }
}
