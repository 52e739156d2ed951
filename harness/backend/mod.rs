//! The inference backend seam: what the runner asks for ([`GenerationRequest`]) and gets back
//! ([`Generation`]). The mistral.rs implementation is the only code that touches `mistralrs`;
//! [`scripted::ScriptedBackend`] answers from a script for fast pipeline tests.

pub mod device;
mod loader;
pub mod loglikelihood;
pub mod mistralrs;
pub mod scripted;

pub use device::{ComputeDevice, DeviceDescription};
pub use loader::MistralRsLoader;
pub use loglikelihood::ContinuationScore;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::models::ModelEntry;
use crate::tasks::Prompt;
use crate::units::{Seconds, TokensPerSecond};

/// Loads a backend for a model (pulling it first if needed).
pub trait BackendLoader {
    /// The backend for `model`, running with `setup`.
    fn load(&self, model: &ModelEntry, setup: Setup) -> Result<Box<dyn Backend>>;
    /// Backend name and version for the manifest.
    fn backend_name(&self) -> (String, String);
}

/// How tokens are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// 0 means greedy (deterministic) decoding.
    pub temperature: f64,
}

impl Sampling {
    /// Deterministic greedy decoding, the default for benchmark runs.
    pub fn greedy() -> Self {
        Self { temperature: 0.0 }
    }

    /// Whether decoding is greedy.
    pub fn is_greedy(&self) -> bool {
        self.temperature <= 0.0
    }
}

/// Activation dtype the model computes in (weights stay quantized).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivationDtype {
    /// The fastest measured: mistral.rs's automatic choice (BF16) on CPUs that compute BF16
    /// natively (AVX512-BF16), where it ran as fast as F32 and gives the same outputs as
    /// `GgufModelBuilder`; F32 elsewhere, where BF16/F16 are emulated and F32 is faster.
    Best,
    /// mistral.rs's automatic choice (BF16 or F16 on CPU, whichever runs).
    Auto,
    /// 32-bit floats: faster than F16 on CPUs without native F16 arithmetic.
    F32,
    /// 16-bit floats.
    F16,
    /// bfloat16.
    Bf16,
}

impl ActivationDtype {
    /// `Best` resolved for this CPU; other choices unchanged.
    pub fn resolve(self) -> Self {
        match self {
            ActivationDtype::Best if native_bf16() => ActivationDtype::Auto,
            ActivationDtype::Best => ActivationDtype::F32,
            other => other,
        }
    }

    /// Lower-case name, as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivationDtype::Best => "best",
            ActivationDtype::Auto => "auto",
            ActivationDtype::F32 => "f32",
            ActivationDtype::F16 => "f16",
            ActivationDtype::Bf16 => "bf16",
        }
    }
}

/// How a model's weights are held while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weights {
    /// As stored in the GGUF: quantized matrix products, which read the fewest bytes per token
    /// (fastest decode) but redo the dequantization for every prompt row (slow prefill).
    Quantized,
    /// Expanded to F32 when loaded (candle's `CANDLE_DEQUANTIZE_ALL`): real matrix products,
    /// several times faster prefill, slower decode, about 4 bytes per parameter of memory.
    Dequantized,
}

impl Weights {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Quantized => "quantized",
            Self::Dequantized => "dequantized",
        }
    }
}

/// How a model runs a task: its activation dtype, weights, and whether prompts reuse the
/// cached computation of a shared prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Setup {
    /// Activation dtype (never `best`: resolved).
    pub dtype: ActivationDtype,
    /// Weights.
    pub weights: Weights,
    /// mistral.rs's prefix cache: a prompt starting like an earlier sequence reuses its keys
    /// and values (few-shot exemplars are computed once, not once per item).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prefix_cache: bool,
}

impl Setup {
    /// `dtype f32, quantized weights[, prefix cache]`, for people.
    pub fn describe(&self) -> String {
        format!(
            "dtype {}, {} weights{}",
            self.dtype.as_str(),
            self.weights.as_str(),
            if self.prefix_cache {
                ", prefix cache"
            } else {
                ""
            }
        )
    }
}

/// What a run asked for: a dtype (`best`: measured), weights (`None`: measured per task) and
/// the prefix cache (`None`: on for tasks whose prompts share most of their text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupRequest {
    /// Activation dtype.
    pub dtype: ActivationDtype,
    /// Weights, when forced.
    pub weights: Option<Weights>,
    /// Prefix cache, when forced.
    #[serde(default)]
    pub prefix_cache: Option<bool>,
    /// Whether the run chooses between one process and worker processes by calibration
    /// (`--workers best`); otherwise the manifest's `workers` (none: one process) is fixed.
    /// Manifests written before this choice existed read as fixed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub measure_workers: bool,
}

/// Whether the CPU has BF16 arithmetic (AVX512-BF16).
fn native_bf16() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One generation to run.
#[derive(Debug, Clone)]
pub struct GenerationRequest {
    /// What the model sees.
    pub prompt: Prompt,
    /// Hard limit on generated tokens (mistral.rs has no default limit).
    pub max_new_tokens: usize,
    /// Generation stops at the first of these; the text is cut before it.
    pub stop: Vec<String>,
    /// Token choice.
    pub sampling: Sampling,
}

/// What one generation produced and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    /// Generated text, cut at the first stop sequence.
    pub text: String,
    /// Tokens in the prompt as the model saw it (chat template applied).
    pub prompt_tokens: usize,
    /// Tokens generated.
    pub completion_tokens: usize,
    /// From sending the request to receiving the first streamed token.
    pub time_to_first_token: Seconds,
    /// From sending the request to receiving the last token.
    pub total_latency: Seconds,
    /// Why generation ended: `stop`, `length`, …
    pub finish_reason: String,
}

impl Generation {
    /// Output speed after the first token (Artificial Analysis's definition): tokens after the
    /// first, divided by the time after the first. `None` for fewer than two tokens.
    pub fn output_tokens_per_second(&self) -> Option<TokensPerSecond> {
        let decode_time = self.total_latency - self.time_to_first_token;
        (self.completion_tokens > 1 && decode_time > 0.0)
            .then(|| (self.completion_tokens - 1) as f64 / decode_time)
    }

    /// Prompt processing speed: prompt tokens divided by time to first token.
    pub fn prefill_tokens_per_second(&self) -> Option<TokensPerSecond> {
        (self.prompt_tokens > 0 && self.time_to_first_token > 0.0)
            .then(|| self.prompt_tokens as f64 / self.time_to_first_token)
    }
}

/// What a backend is, for manifests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// Backend name, e.g. `mistral.rs`.
    pub name: String,
    /// Backend version.
    pub version: String,
    /// Device, e.g. `cpu`.
    pub device: String,
    /// Activation dtype the model runs in.
    pub dtype: String,
    /// Whether the prefix cache is on.
    pub prefix_cache: bool,
    /// How the weights were held (absent in runs before it was recorded: quantized).
    #[serde(default = "quantized")]
    pub weights: Weights,
    /// Seconds spent loading the model (never counted in speed).
    pub load_seconds: Seconds,
}

fn quantized() -> Weights {
    Weights::Quantized
}

/// An inference backend. Implementations are thread-safe so a runner may issue requests from
/// several threads.
pub trait Backend: Send + Sync {
    /// Describes the backend for the manifest.
    fn info(&self) -> BackendInfo;
    /// Runs one generation to completion.
    fn generate(&self, request: &GenerationRequest) -> Result<Generation>;
    /// Tokens in `prompt` as the model would see it (the scripted backend counts words).
    fn count_tokens(&self, prompt: &Prompt) -> Result<usize> {
        Ok(prompt.display_text().split_whitespace().count())
    }
    /// The prompt exactly as the model sees it (chat template and special tokens applied).
    fn rendered_prompt(&self, prompt: &Prompt) -> Result<String> {
        Ok(prompt.display_text())
    }
    /// The log-likelihood of each continuation given `context`, as lm-evaluation-harness
    /// computes it (see [`loglikelihood`]).
    fn loglikelihood(
        &self,
        context: &str,
        continuations: &[String],
    ) -> Result<Vec<ContinuationScore>> {
        let _ = (context, continuations);
        anyhow::bail!(
            "the {} backend cannot score log-likelihoods",
            self.info().name
        )
    }
}

/// Cuts `text` before the earliest occurrence of any stop sequence.
pub fn cut_at_stop(text: &str, stop: &[String]) -> String {
    let cut = stop
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min()
        .unwrap_or(text.len());
    text[..cut].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_follow_the_definitions() {
        let generation = Generation {
            text: String::new(),
            prompt_tokens: 100,
            completion_tokens: 11,
            time_to_first_token: 0.5,
            total_latency: 1.5,
            finish_reason: "stop".into(),
        };
        assert_eq!(generation.output_tokens_per_second(), Some(10.0));
        assert_eq!(generation.prefill_tokens_per_second(), Some(200.0));
        let single = Generation {
            completion_tokens: 1,
            ..generation
        };
        assert_eq!(single.output_tokens_per_second(), None);
    }

    #[test]
    fn cuts_at_earliest_stop() {
        let stop = vec!["Question:".to_string(), "\n\n\n".to_string()];
        assert_eq!(cut_at_stop("x = 4\n\n\nQuestion: y", &stop), "x = 4");
        assert_eq!(cut_at_stop("no stop here", &stop), "no stop here");
    }
}
