//! Record types written by a run. Every file carries `schema` so readers can tell versions apart.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::backend::{
    ActivationDtype, BackendInfo, ComputeDevice, DeviceDescription, Generation, Sampling, Setup,
    SetupRequest, Weights,
};
use crate::hardware::HardwareProfile;
use crate::machine::MachineInfo;
use crate::metrics::{Distribution, Estimate};
use crate::scoring::{ChoiceScores, Execution, Scored};
use crate::tasks::Prompt;
use crate::units::{Bytes, Seconds, TokensPerSecond};

use super::shard::Shard;

/// Version of the record layout; bump on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// One scored generation: a line of `samples.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// Record layout version.
    pub schema: u32,
    /// Model id.
    pub model: String,
    /// Task name.
    pub task: String,
    /// Task spec version.
    pub task_version: u32,
    /// Item position in the dataset.
    pub item_index: usize,
    /// Item id.
    pub item_id: String,
    /// The group the item is reported under (`items.group_field`: MMLU's subject…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Sample number for this item (0 for greedy runs).
    pub sample_index: usize,
    /// The prompt exactly as sent.
    pub prompt: Prompt,
    /// The model's output (cut at the first stop sequence).
    pub output: String,
    /// Each filter's extracted answer (`null` when it found none).
    pub extracted: BTreeMap<String, Option<String>>,
    /// The reference answer.
    pub reference: String,
    /// Per-sample metric values keyed `metric,filter`.
    pub scores: BTreeMap<String, f64>,
    /// Correct or incorrect by the task's primary metric (unscored: `run --predict-only`).
    pub verdict: Verdict,
    /// Tokens in the prompt.
    pub prompt_tokens: usize,
    /// Tokens generated.
    pub completion_tokens: usize,
    /// Time to first streamed token.
    pub time_to_first_token_s: Seconds,
    /// Output tokens per second after the first token.
    pub output_tokens_per_second: Option<TokensPerSecond>,
    /// Prompt tokens per second (prompt tokens / time to first token).
    pub prefill_tokens_per_second: Option<TokensPerSecond>,
    /// Request to last token.
    pub total_latency_s: Seconds,
    /// Why generation ended.
    pub finish_reason: String,
    /// For code tasks: how the program built from the completion ran (passed, failed,
    /// timed out, error) and the last line of its error output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<Execution>,
    /// For multiple-choice tasks: each choice's log-likelihood and the gold choice (the
    /// `output` is the most likely choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_choice: Option<ChoiceScores>,
}

/// A sample's verdict by its task's primary metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The primary metric counts the sample as correct.
    Correct,
    /// It does not.
    Incorrect,
    /// Not scored (yet): `run --predict-only`, or an output before scoring.
    Unscored,
}

impl Verdict {
    /// Correct or incorrect.
    pub fn of(correct: bool) -> Self {
        if correct {
            Self::Correct
        } else {
            Self::Incorrect
        }
    }
}

impl SampleRecord {
    /// A not-yet-scored sample of an output (supplied without a model, as in re-scoring and
    /// fixtures): no prompt, no timings. [`Self::with_generation`] adds those of a generated
    /// one; [`Self::record_score`] fills in reference, answers, scores and verdict.
    pub fn supplied(
        model: &str,
        task: &str,
        task_version: u32,
        item: (usize, &str),
        sample_index: usize,
        output: String,
    ) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            model: model.to_string(),
            task: task.to_string(),
            task_version,
            item_index: item.0,
            item_id: item.1.to_string(),
            group: None,
            sample_index,
            prompt: Prompt::Completion {
                text: String::new(),
            },
            output,
            extracted: BTreeMap::new(),
            reference: String::new(),
            scores: BTreeMap::new(),
            verdict: Verdict::Unscored,
            prompt_tokens: 0,
            completion_tokens: 0,
            time_to_first_token_s: 0.0,
            output_tokens_per_second: None,
            prefill_tokens_per_second: None,
            total_latency_s: 0.0,
            finish_reason: "supplied".into(),
            execution: None,
            multiple_choice: None,
        }
    }

    /// The prompt as sent and the model's answer: output, token counts, timings, finish reason.
    pub fn with_generation(self, prompt: Prompt, generation: Generation) -> Self {
        Self {
            prompt,
            prompt_tokens: generation.prompt_tokens,
            completion_tokens: generation.completion_tokens,
            time_to_first_token_s: generation.time_to_first_token,
            output_tokens_per_second: generation.output_tokens_per_second(),
            prefill_tokens_per_second: generation.prefill_tokens_per_second(),
            total_latency_s: generation.total_latency,
            output: generation.text,
            finish_reason: generation.finish_reason,
            ..self
        }
    }

    /// Records how the output scored against `reference`.
    pub fn record_score(&mut self, reference: String, scored: Scored) {
        self.reference = reference;
        self.extracted = scored.extracted;
        self.scores = scored.scores;
        self.verdict = Verdict::of(scored.correct);
        self.execution = scored.execution;
        if let Some(choices) = scored.multiple_choice {
            self.output = choices.choices[choices.predictions().0].text.clone();
            self.multiple_choice = Some(choices);
        }
    }
}

/// A model in the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// Model id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Quantization.
    pub quantization: String,
    /// Parameter count as written.
    pub parameters: String,
    /// sha256 of the GGUF that was loaded.
    pub sha256: String,
}

/// A dataset file a task read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRecord {
    /// Conventional name.
    pub file: String,
    /// sha256 of the bytes read.
    pub sha256: String,
    /// License.
    pub license: String,
}

/// A task in the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// Task name.
    pub name: String,
    /// Suite.
    pub suite: String,
    /// Spec version.
    pub version: u32,
    /// Items evaluated.
    pub items: usize,
    /// Generation limit used.
    pub max_new_tokens: usize,
    /// Dataset files read.
    pub datasets: Vec<DatasetRecord>,
    /// For re-scored runs: the task version whose scoring was applied (`version` stays the
    /// version the outputs were generated under).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scored_with_version: Option<u32>,
}

/// `manifest.json`: everything needed to know what was run, where and with what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Record layout version.
    pub schema: u32,
    /// Run id (folder name).
    pub run_id: String,
    /// The command line.
    pub command: Vec<String>,
    /// yardstick version.
    pub harness_version: String,
    /// git commit yardstick was built from.
    pub git_commit: String,
    /// Backend name, e.g. `mistral.rs`.
    pub backend: String,
    /// Backend version.
    pub backend_version: String,
    /// Activation dtype the backend was asked for (a resumed run uses the same).
    #[serde(default)]
    pub dtype: Option<ActivationDtype>,
    /// Models, in run order.
    pub models: Vec<ModelRecord>,
    /// How each model ran each task (model → task → activation dtype and weights), chosen by
    /// calibration or forced; empty in runs before it was recorded (the run's `dtype`, quantized
    /// weights).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub setups: BTreeMap<String, BTreeMap<String, Setup>>,
    /// The setups the run asked to choose from (a run interrupted before `setups` were chosen
    /// chooses them when resumed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_request: Option<SetupRequest>,
    /// Tasks, in run order.
    pub tasks: Vec<TaskRecord>,
    /// `--limit` (items per task), if any.
    pub limit: Option<usize>,
    /// Decoding.
    pub sampling: Sampling,
    /// Generations per item.
    #[serde(default = "one")]
    pub samples_per_item: usize,
    /// The shard this run is (`{"index": K, "count": N}`), when the work was split.
    #[serde(default)]
    pub shard: Option<Shard>,
    /// For merged runs: the shard runs it was merged from.
    #[serde(default)]
    pub merged_from: Vec<String>,
    /// Model instances that ran at once on this one machine (`--workers N`); cost divides the
    /// hourly price by their combined throughput. Absent: one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    /// Isolation used for generated code, when a task executed any.
    #[serde(default)]
    pub sandbox: Option<String>,
    /// Outputs were stored unscored (`run --predict-only`); `rescore` scores them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub predict_only: bool,
    /// The machine.
    pub machine: MachineInfo,
    /// The hardware price profile cost is computed with (`--hardware`, or matched from the
    /// machine); absent when none applies.
    #[serde(default)]
    pub hardware: Option<HardwareProfile>,
    /// Where the models ran (`cpu`, `cuda:0`, …); runs on different devices are never compared.
    #[serde(default)]
    pub device: ComputeDevice,
    /// The GPU's name and memory, when the run used one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_info: Option<DeviceDescription>,
    /// RFC 3339 start time.
    pub started_at: String,
    /// RFC 3339 end time (absent while running or after a crash).
    pub finished_at: Option<String>,
    /// For re-scored runs: the run id or completions file the samples came from.
    #[serde(default)]
    pub rescored_from: Option<String>,
}

fn one() -> usize {
    1
}

impl Manifest {
    /// How `model` ran (or runs) `task`: as recorded, else the run's dtype with quantized
    /// weights (runs before setups were recorded; `None` when neither is known).
    pub fn setup(&self, model: &str, task: &str) -> Option<Setup> {
        self.setups
            .get(model)
            .and_then(|tasks| tasks.get(task))
            .copied()
            .or_else(|| {
                self.dtype.map(|dtype| Setup {
                    dtype: dtype.resolve(),
                    weights: Weights::Quantized,
                    prefix_cache: false,
                })
            })
    }

    /// The manifest of a new run `run_id` started now, on this machine, by this build, through
    /// `backend` (name, version); its plan is empty (no models or tasks, greedy decoding, one
    /// sample per item) for the caller to fill in.
    pub fn new(run_id: &str, command: Vec<String>, backend: (String, String)) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            run_id: run_id.to_string(),
            command,
            harness_version: crate::HARNESS_VERSION.into(),
            git_commit: crate::GIT_COMMIT.into(),
            backend: backend.0,
            backend_version: backend.1,
            dtype: None,
            models: Vec::new(),
            setups: BTreeMap::new(),
            setup_request: None,
            tasks: Vec::new(),
            limit: None,
            sampling: Sampling::greedy(),
            samples_per_item: 1,
            shard: None,
            merged_from: Vec::new(),
            workers: None,
            sandbox: None,
            predict_only: false,
            machine: MachineInfo::current(),
            hardware: None,
            device: ComputeDevice::Cpu,
            device_info: None,
            started_at: chrono::Utc::now().to_rfc3339(),
            finished_at: None,
            rescored_from: None,
        }
    }
}

/// Speed of one model on one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeedSummary {
    /// Time to first token, seconds.
    pub time_to_first_token_s: Option<Distribution>,
    /// Output tokens per second after the first token.
    pub output_tokens_per_second: Option<Distribution>,
    /// Prompt tokens per second.
    pub prefill_tokens_per_second: Option<Distribution>,
    /// End-to-end latency, seconds.
    pub total_latency_s: Option<Distribution>,
    /// Prompt tokens over all samples.
    pub prompt_tokens: usize,
    /// Generated tokens over all samples.
    pub completion_tokens: usize,
    /// Sum of request latencies (backend busy time).
    pub busy_seconds: Seconds,
    /// Sum of times to first token (prompt processing).
    #[serde(default)]
    pub prefill_seconds: Seconds,
    /// Sum of times after the first token (decoding).
    #[serde(default)]
    pub decode_seconds: Seconds,
}

impl SpeedSummary {
    /// Measured input throughput: prompt tokens per second of prompt processing.
    pub fn input_throughput(&self) -> Option<TokensPerSecond> {
        (self.prefill_seconds > 0.0).then(|| self.prompt_tokens as f64 / self.prefill_seconds)
    }

    /// Measured output throughput: generated tokens per second of decoding (the first token of
    /// each request is counted with its prefill).
    pub fn output_throughput(&self) -> Option<TokensPerSecond> {
        let n = self.output_tokens_per_second.as_ref().map_or(0, |d| d.n);
        let decoded = self.completion_tokens.saturating_sub(n);
        (self.decode_seconds > 0.0 && decoded > 0).then(|| decoded as f64 / self.decode_seconds)
    }
}

/// Aggregates of one model on one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    /// Model id.
    pub model: String,
    /// Task name.
    pub task: String,
    /// Suite.
    pub suite: String,
    /// Task spec version.
    pub task_version: u32,
    /// Samples scored.
    pub n: usize,
    /// Metric key of the task's headline score.
    pub primary_metric: String,
    /// Each metric (`metric,filter`) with its standard error and 95% interval.
    pub metrics: BTreeMap<String, Estimate>,
    /// The headline metric per group of items (`items.group_field`: MMLU per subject…).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Estimate>,
    /// Multiple choice: the accuracy of guessing, the mean over items of 1 / their number of
    /// choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chance: Option<f64>,
    /// Speed.
    pub speed: SpeedSummary,
}

/// A model's score on a suite: the mean of its tasks' headline metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteScore {
    /// Model id.
    pub model: String,
    /// Suite name.
    pub suite: String,
    /// Tasks averaged.
    pub tasks: Vec<String>,
    /// Mean headline metric in [0, 1] with a bootstrap interval.
    pub score: Estimate,
}

/// A model's overall quality index: 100 × the mean of its suite scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityIndex {
    /// Model id.
    pub model: String,
    /// Suites averaged.
    pub suites: Vec<String>,
    /// Version of the index definition (`tasks/index.toml`); 0: written before it had one.
    #[serde(default)]
    pub index_version: u32,
    /// The index tasks averaged (empty when written before the index had a definition).
    #[serde(default)]
    pub tasks: Vec<String>,
    /// Index in [0, 100] with a bootstrap interval.
    pub index: Estimate,
}

/// How one model's backend was set up in the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRunRecord {
    /// Model id.
    pub model: String,
    /// Backend details, including load time.
    pub backend: BackendInfo,
    /// Seconds of the warm-up generation (not counted in speed).
    pub warmup_seconds: Seconds,
}

/// The harness's own cost: wall time not spent generating, loading or warming up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overhead {
    /// Seconds inside backend generation calls.
    pub backend_busy_seconds: Seconds,
    /// Seconds loading models and warming them up.
    pub setup_seconds: Seconds,
    /// Wall − busy − setup: prompt rendering, scoring not hidden behind generation, writing.
    pub harness_seconds: Seconds,
    /// Harness seconds as a share of backend busy time.
    pub share_of_busy: f64,
}

impl Overhead {
    /// From this process's wall time and its backend time.
    pub fn new(wall_seconds: Seconds, busy_seconds: Seconds, setup_seconds: Seconds) -> Self {
        let harness_seconds = (wall_seconds - busy_seconds - setup_seconds).max(0.0);
        Self {
            backend_busy_seconds: busy_seconds,
            setup_seconds,
            harness_seconds,
            share_of_busy: harness_seconds / busy_seconds.max(f64::EPSILON),
        }
    }
}

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Record layout version.
    pub schema: u32,
    /// Run id.
    pub run_id: String,
    /// One entry per model × task.
    pub results: Vec<TaskResult>,
    /// One entry per model × suite.
    #[serde(default)]
    pub suites: Vec<SuiteScore>,
    /// One entry per model.
    #[serde(default)]
    pub quality: Vec<QualityIndex>,
    /// Backend setup per model.
    pub models: Vec<ModelRunRecord>,
    /// Wall time of the whole run.
    pub wall_seconds: Seconds,
    /// Where this process's wall time went (absent for runs without a backend).
    #[serde(default)]
    pub overhead: Option<Overhead>,
    /// Peak resident memory of the process (of a merged run: of its largest part).
    pub peak_rss_bytes: Option<Bytes>,
}
