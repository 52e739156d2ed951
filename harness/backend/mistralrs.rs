//! The mistral.rs backend: loads a local GGUF in-process (its own tokenizer and chat template,
//! no hub access) and streams generations so time to first token is measured.
//!
//! This is the only module that imports `mistralrs`: its API changes across minor versions.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use either::Either;
use mistralrs::core::{
    AdapterPaths, DetokenizationRequest, GGUFLoaderBuilder, GGUFSpecificConfig, LocalModelPaths,
    MistralRsBuilder, ModelPaths, ResponseLogprob, TokenizationRequest,
};
use mistralrs::{
    AutoDeviceMapParams, Constraint, DefaultSchedulerMethod, Device, DeviceMapSetting, MistralRs,
    ModelDType, NormalRequest, Request, RequestLike, RequestMessage, Response, SamplingParams,
    SchedulerConfig, StopTokens, TextMessageRole, TextMessages,
};
use serde::{Deserialize, Serialize};

use super::{
    cut_at_stop, loglikelihood, ActivationDtype, Backend, BackendInfo, ComputeDevice,
    ContinuationScore, Generation, GenerationRequest, Weights,
};
use crate::tasks::{ChatMessage, Prompt};

/// The mistral.rs version built in, as Cargo.lock resolved it (read by build.rs; pinned in
/// Cargo.toml).
pub const MISTRALRS_VERSION: &str = env!("YARDSTICK_MISTRALRS_VERSION");

/// Sequences the scheduler may batch at once.
const MAX_RUNNING_SEQUENCES: usize = 32;

/// Which mistral.rs entry point loads the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadPath {
    /// The GGUF loader directly, with yardstick's settings (dtype, no prefix cache).
    Loader,
    /// `GgufModelBuilder` with all its defaults (automatic dtype, prefix cache of 16): the
    /// baseline for speed comparisons; `dtype` and `prefix_cache` are ignored.
    GgufModelBuilder,
}

/// Runs `load` on a fresh thread that sees `weights` as `CANDLE_DEQUANTIZE_ALL`. candle 0.10.2
/// reads that variable once per thread, when the thread first builds a quantized matrix
/// product, and mistral.rs builds a GGUF model's layers on the loading thread: a new thread
/// per load makes the choice per model instead of once per process.
fn load_with_weights<T: Send>(weights: Weights, load: impl FnOnce() -> T + Send) -> T {
    let value = match weights {
        Weights::Quantized => "0",
        Weights::Dequantized => "1",
    };
    // Set while no other thread of this process is loading a model (loads are sequential).
    std::env::set_var("CANDLE_DEQUANTIZE_ALL", value);
    std::thread::scope(|scope| {
        scope
            .spawn(load)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// mistral.rs's dtype for `dtype` (resolved for this CPU).
fn model_dtype(dtype: ActivationDtype) -> ModelDType {
    match dtype.resolve() {
        ActivationDtype::Best | ActivationDtype::Auto => ModelDType::Auto,
        ActivationDtype::F32 => ModelDType::F32,
        ActivationDtype::F16 => ModelDType::F16,
        ActivationDtype::Bf16 => ModelDType::BF16,
    }
}

/// How to load a model.
#[derive(Debug, Clone, Copy)]
pub struct MistralRsOptions {
    /// Entry point.
    pub load_path: LoadPath,
    /// Activation dtype.
    pub dtype: ActivationDtype,
    /// Quantized or dequantized weights (the `Loader` path only).
    pub weights: Weights,
    /// Keep mistral.rs's prefix cache on. Off for benchmark runs: on CPU it never evicts, so
    /// memory grows with every finished sequence, and it would make timings depend on order.
    pub prefix_cache: bool,
    /// Where the model runs.
    pub device: ComputeDevice,
}

impl Default for MistralRsOptions {
    fn default() -> Self {
        Self {
            load_path: LoadPath::Loader,
            dtype: ActivationDtype::Best,
            weights: Weights::Quantized,
            prefix_cache: false,
            device: ComputeDevice::Cpu,
        }
    }
}

/// A GGUF model loaded in-process through mistral.rs.
pub struct MistralRsBackend {
    runtime: tokio::runtime::Runtime,
    engine: Engine,
    info: BackendInfo,
    next_request_id: AtomicUsize,
}

impl MistralRsBackend {
    /// Loads the GGUF at `gguf` on the CPU.
    pub fn load(gguf: &Path, options: MistralRsOptions) -> Result<Self> {
        let started = Instant::now();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let gguf = gguf.to_path_buf();
        let engine = match options.load_path {
            LoadPath::Loader => load_with_weights(options.weights, || {
                runtime.block_on(build_runner(gguf.clone(), options))
            })
            .map(Engine::Loader),
            LoadPath::GgufModelBuilder => runtime
                .block_on(build_with_model_builder(&gguf, options.device))
                .map(Engine::ModelBuilder),
        }
        .with_context(|| format!("mistral.rs could not load {}", gguf.display()))?;
        let builder = options.load_path == LoadPath::GgufModelBuilder;
        let info = BackendInfo {
            name: if builder {
                "mistral.rs (GgufModelBuilder defaults)".into()
            } else {
                "mistral.rs".into()
            },
            version: MISTRALRS_VERSION.into(),
            device: options.device.to_string(),
            dtype: if builder {
                "auto"
            } else {
                options.dtype.resolve().as_str()
            }
            .into(),
            prefix_cache: builder || options.prefix_cache,
            weights: if builder {
                Weights::Quantized
            } else {
                options.weights
            },
            load_seconds: started.elapsed().as_secs_f64(),
        };
        Ok(Self {
            runtime,
            engine,
            info,
            next_request_id: AtomicUsize::new(0),
        })
    }

    /// A channel into the engine.
    fn sender(&self) -> Result<tokio::sync::mpsc::Sender<Request>> {
        self.engine
            .runner()
            .get_sender(None)
            .map_err(|e| anyhow!("{e}"))
    }

    async fn stream(&self, request: &GenerationRequest) -> Result<Generation> {
        let sender = self.sender()?;
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let prompt = self.sendable(&request.prompt).await?;
        let (messages, completion_text) = match &prompt {
            Prompt::Completion { text } => (
                RequestMessage::Completion {
                    text: text.clone(),
                    echo_prompt: false,
                    best_of: None,
                },
                Some(text.clone()),
            ),
            Prompt::Chat { messages } => (chat_messages(messages)?, None),
        };
        let is_completion = completion_text.is_some();
        let normal = NormalRequest {
            // Needed for the raw text of the first token (see `first_piece`); with no top
            // log-probabilities requested it costs one log per token.
            return_logprobs: is_completion,
            is_streaming: true,
            ..self.plain_request(messages, sampling_params(request), tx)
        };

        let started = Instant::now();
        sender
            .send(Request::Normal(Box::new(normal)))
            .await
            .map_err(|_| anyhow!("the mistral.rs engine stopped"))?;
        let mut text = String::new();
        let mut first_token_at = None;
        let mut chunks = 0usize;
        let mut usage_tokens = None;
        let mut finish_reason = None;
        while finish_reason.is_none() {
            let Some(response) = rx.recv().await else {
                break;
            };
            first_token_at.get_or_insert_with(|| started.elapsed());
            match response {
                Response::Chunk(chunk) => {
                    chunks += 1;
                    if let Some(choice) = chunk.choices.first() {
                        text.push_str(choice.delta.content.as_deref().unwrap_or(""));
                        finish_reason.clone_from(&choice.finish_reason);
                    }
                    if let Some(usage) = chunk.usage {
                        usage_tokens = Some((usage.prompt_tokens, usage.completion_tokens));
                    }
                }
                Response::CompletionChunk(chunk) => {
                    chunks += 1;
                    if let Some(choice) = chunk.choices.first() {
                        if chunks == 1 {
                            text.push_str(&first_piece(&choice.text, choice.logprobs.as_ref()));
                        } else {
                            text.push_str(&choice.text);
                        }
                        finish_reason.clone_from(&choice.finish_reason);
                    }
                }
                Response::InternalError(e) | Response::ValidationError(e) => {
                    bail!("mistral.rs rejected the request: {e}")
                }
                Response::ModelError(message, _) | Response::CompletionModelError(message, _) => {
                    bail!("mistral.rs failed while generating: {message}")
                }
                _ => bail!("mistral.rs sent an unexpected response to a streaming request"),
            }
        }
        let total_latency = started.elapsed().as_secs_f64();
        let time_to_first_token = first_token_at
            .context("mistral.rs closed the stream without a token")?
            .as_secs_f64();
        let (prompt_tokens, completion_tokens) = match (usage_tokens, completion_text) {
            (Some(counts), _) => counts,
            // Completion streams carry no usage: count the prompt with the model's tokenizer,
            // and generated tokens by streamed chunks (one per decode step).
            (None, Some(prompt)) => (self.count_tokens(prompt).await?, chunks),
            (None, None) => (0, chunks),
        };
        Ok(Generation {
            text: cut_at_stop(&text, &request.stop),
            prompt_tokens,
            completion_tokens,
            time_to_first_token,
            total_latency,
            finish_reason: finish_reason.unwrap_or_else(|| "unknown".into()),
        })
    }

    async fn count_tokens(&self, text: String) -> Result<usize> {
        Ok(self.tokenize(&Prompt::Completion { text }).await?.len())
    }

    /// The prompt as mistral.rs takes it: a chat that ends in an open assistant turn becomes
    /// the completion text the chat template renders for it (mistral.rs 0.8.1 cannot continue
    /// an assistant turn); anything else as it is.
    async fn sendable(&self, prompt: &Prompt) -> Result<Prompt> {
        match prompt {
            Prompt::Chat { messages } if ends_in_assistant_turn(messages) => {
                Ok(Prompt::Completion {
                    text: self.open_assistant_turn(messages).await?,
                })
            }
            other => Ok(other.clone()),
        }
    }

    /// The chat template's text for `messages` up to the end of the last (assistant) turn's
    /// content, without its end-of-turn marker: the template renders the turns with a marker
    /// appended to the last one, and the text is cut at the marker — EvalPlus's
    /// `make_raw_chat_prompt`, and what Hugging Face's `continue_final_message` gives.
    async fn open_assistant_turn(&self, messages: &[ChatMessage]) -> Result<String> {
        /// EvalPlus's `_MAGIC_SPLITTER_`.
        const MARKER: &str = "-[[]]-this-is-really-our-highest-priority-[[]]-";
        let mut marked = messages.to_vec();
        if let Some(last) = marked.last_mut() {
            last.content.push_str(MARKER);
        }
        let tokens = self
            .tokenize_request(Either::Left(text_messages(&marked)?), false, false)
            .await?;
        let rendered = self.detokenize(tokens).await?;
        match rendered.split_once(MARKER) {
            Some((open, _)) => Ok(open.to_string()),
            None => bail!(
                "the model's chat template lost the assistant turn's text (no end marker in \
                 {rendered:?}); this task needs a template that renders assistant turns"
            ),
        }
    }

    /// Token ids of `prompt` as generation would see them: a completion with the tokenizer's
    /// special tokens, a chat through the GGUF's chat template with the generation prompt.
    async fn tokenize(&self, prompt: &Prompt) -> Result<Vec<u32>> {
        match self.sendable(prompt).await? {
            Prompt::Completion { text } => {
                self.tokenize_request(Either::Right(text), false, true)
                    .await
            }
            Prompt::Chat { messages } => {
                self.tokenize_request(Either::Left(text_messages(&messages)?), true, true)
                    .await
            }
        }
    }

    async fn tokenize_request(
        &self,
        text: Either<TextMessages, String>,
        add_generation_prompt: bool,
        add_special_tokens: bool,
    ) -> Result<Vec<u32>> {
        let sender = self.sender()?;
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        sender
            .send(Request::Tokenize(TokenizationRequest {
                text: text.map_left(Into::into),
                tools: None,
                add_generation_prompt,
                add_special_tokens,
                enable_thinking: None,
                reasoning_effort: None,
                response: tx,
            }))
            .await
            .map_err(|_| anyhow!("the mistral.rs engine stopped"))?;
        rx.recv()
            .await
            .context("mistral.rs did not answer a tokenize request")?
    }

    /// A non-streaming request of `messages` with no extras (no logprobs, tools or constraints),
    /// numbered in order.
    fn plain_request(
        &self,
        messages: RequestMessage,
        sampling_params: SamplingParams,
        response: tokio::sync::mpsc::Sender<Response>,
    ) -> NormalRequest {
        NormalRequest {
            messages,
            sampling_params,
            response,
            return_logprobs: false,
            is_streaming: false,
            id: self.next_request_id.fetch_add(1, Ordering::Relaxed),
            constraint: Constraint::None,
            suffix: None,
            tools: None,
            tool_choice: None,
            logits_processors: None,
            return_raw_logits: false,
            web_search_options: None,
            model_id: None,
            truncate_sequence: false,
        }
    }

    /// The logits of every position of `tokens` from position `first` on (row `i` predicts
    /// token `first + i + 1`), through a raw-logits request (batch size 1; the prefix cache
    /// must be off, or cached positions would be missing).
    async fn prompt_logits(&self, tokens: Vec<u32>, first: usize) -> Result<Vec<Vec<f32>>> {
        if self.info.prefix_cache {
            bail!("log-likelihoods need the prefix cache off (--prefix-cache off)");
        }
        let sender = self.sender()?;
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let mut sampling = SamplingParams::deterministic();
        sampling.max_len = Some(1);
        let length = tokens.len();
        let normal = NormalRequest {
            return_raw_logits: true,
            ..self.plain_request(RequestMessage::CompletionTokens(tokens), sampling, tx)
        };
        sender
            .send(Request::Normal(Box::new(normal)))
            .await
            .map_err(|_| anyhow!("the mistral.rs engine stopped"))?;
        let chunks = match rx.recv().await {
            Some(Response::Raw { logits_chunks, .. }) => logits_chunks,
            Some(Response::InternalError(e) | Response::ValidationError(e)) => {
                bail!("mistral.rs rejected the request: {e}")
            }
            Some(Response::ModelError(message, _)) => {
                bail!("mistral.rs failed while scoring: {message}")
            }
            Some(_) => bail!("mistral.rs answered a raw-logits request with something else"),
            None => bail!("mistral.rs closed the request without logits"),
        };
        // Keep listening until the engine lets the sequence go: mistral.rs 0.8.1 can still send
        // to a raw-logits request after answering it, and panics (stopping its engine) when the
        // receiver is gone. The channel closes as soon as the sequence is dropped.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            while rx.recv().await.is_some() {}
        })
        .await;
        let mut rows = Vec::with_capacity(length - first);
        let mut position = 0usize;
        for chunk in chunks {
            let chunk = match chunk.rank() {
                3 => chunk.squeeze(0)?,
                _ => chunk,
            };
            let len = chunk.dim(0)?;
            let start = first.max(position);
            if start < position + len {
                let wanted = chunk
                    .narrow(0, start - position, position + len - start)?
                    .to_dtype(candle_core::DType::F32)?
                    .to_vec2::<f32>()?;
                rows.extend(wanted);
            }
            position += len;
        }
        if position != length {
            bail!("mistral.rs returned logits for {position} positions of {length}");
        }
        Ok(rows)
    }

    /// lm-evaluation-harness's log-likelihoods of `continuations` after `context`: one forward
    /// pass over the context when every continuation is one token after the same context
    /// tokens, else one pass per continuation.
    async fn score_continuations(
        &self,
        context: &str,
        continuations: &[String],
    ) -> Result<Vec<ContinuationScore>> {
        let mut pairs = Vec::with_capacity(continuations.len());
        // Every continuation shares the (trimmed) context: it is encoded once.
        let mut context_tokens: Option<Vec<u32>> = None;
        for continuation in continuations {
            let (context, continuation) = loglikelihood::split_pair(context, continuation)?;
            let whole = self.encode(format!("{context}{continuation}")).await?;
            let context_tokens = match &context_tokens {
                Some(tokens) => tokens.clone(),
                None => context_tokens.insert(self.encode(context).await?).clone(),
            };
            let continuation_tokens = loglikelihood::continuation_tokens(&whole, &context_tokens)?;
            pairs.push((context_tokens, continuation_tokens));
        }
        let shared_single = pairs
            .iter()
            .all(|(ctx, cont)| cont.len() == 1 && *ctx == pairs[0].0);
        if shared_single {
            let context_tokens = pairs[0].0.clone();
            let last = context_tokens.len() - 1;
            let rows = self.prompt_logits(context_tokens, last).await?;
            return pairs
                .into_iter()
                .map(|(context_tokens, continuation_tokens)| {
                    let (logprob, is_greedy) =
                        loglikelihood::score_rows(&rows, &continuation_tokens)?;
                    Ok(ContinuationScore {
                        logprob,
                        is_greedy,
                        context_tokens,
                        continuation_tokens,
                    })
                })
                .collect();
        }
        let mut scores = Vec::with_capacity(pairs.len());
        for (context_tokens, continuation_tokens) in pairs {
            let mut input = context_tokens.clone();
            input.extend_from_slice(&continuation_tokens[..continuation_tokens.len() - 1]);
            let rows = self.prompt_logits(input, context_tokens.len() - 1).await?;
            let (logprob, is_greedy) = loglikelihood::score_rows(&rows, &continuation_tokens)?;
            scores.push(ContinuationScore {
                logprob,
                is_greedy,
                context_tokens,
                continuation_tokens,
            });
        }
        Ok(scores)
    }

    /// `text`'s tokens without special tokens (lm-evaluation-harness's `tok_encode` for causal
    /// models).
    async fn encode(&self, text: String) -> Result<Vec<u32>> {
        self.tokenize_request(Either::Right(text), false, false)
            .await
    }

    async fn detokenize(&self, tokens: Vec<u32>) -> Result<String> {
        let sender = self.sender()?;
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        sender
            .send(Request::Detokenize(DetokenizationRequest {
                tokens,
                skip_special_tokens: false,
                response: tx,
            }))
            .await
            .map_err(|_| anyhow!("the mistral.rs engine stopped"))?;
        rx.recv()
            .await
            .context("mistral.rs did not answer a detokenize request")?
    }
}

impl Backend for MistralRsBackend {
    fn info(&self) -> BackendInfo {
        self.info.clone()
    }

    fn generate(&self, request: &GenerationRequest) -> Result<Generation> {
        self.runtime.block_on(self.stream(request))
    }

    fn count_tokens(&self, prompt: &Prompt) -> Result<usize> {
        self.runtime
            .block_on(async { Ok(self.tokenize(prompt).await?.len()) })
    }

    fn loglikelihood(
        &self,
        context: &str,
        continuations: &[String],
    ) -> Result<Vec<ContinuationScore>> {
        self.runtime
            .block_on(self.score_continuations(context, continuations))
    }

    fn rendered_prompt(&self, prompt: &Prompt) -> Result<String> {
        self.runtime.block_on(async {
            let tokens = self.tokenize(prompt).await?;
            self.detokenize(tokens).await
        })
    }
}

/// The loaded mistral.rs engine, however it was built.
enum Engine {
    /// From the GGUF loader (yardstick's settings).
    Loader(Arc<MistralRs>),
    /// From `GgufModelBuilder` (its defaults).
    ModelBuilder(mistralrs::Model),
}

impl Drop for MistralRsBackend {
    /// Stops the engine and waits until its thread has let go of the model, so a model loaded
    /// next never shares memory with this one (mistral.rs's own drop only asks the engine to
    /// stop).
    fn drop(&mut self) {
        let Ok(sender) = self.sender() else {
            return;
        };
        self.runtime.block_on(async {
            if sender.send(Request::Terminate).await.is_ok() {
                // The engine drops its receiver when its loop ends.
                let _ =
                    tokio::time::timeout(std::time::Duration::from_secs(60), sender.closed()).await;
            }
        });
    }
}

impl Engine {
    fn runner(&self) -> &MistralRs {
        match self {
            Engine::Loader(runner) => runner,
            Engine::ModelBuilder(model) => model.inner(),
        }
    }
}

/// Loads `gguf` the way an application using mistral.rs's high-level API would: the local
/// folder and file through `GgufModelBuilder` with every default.
async fn build_with_model_builder(gguf: &Path, device: ComputeDevice) -> Result<mistralrs::Model> {
    let folder = gguf
        .parent()
        .context("model path has no folder")?
        .to_string_lossy()
        .into_owned();
    let file = gguf
        .file_name()
        .context("model path has no file name")?
        .to_string_lossy()
        .into_owned();
    let builder = mistralrs::GgufModelBuilder::new(folder, vec![file]);
    if device.is_cpu() {
        builder.with_force_cpu().build().await
    } else {
        builder.build().await
    }
}

async fn build_runner(gguf: PathBuf, options: MistralRsOptions) -> Result<Arc<MistralRs>> {
    let folder = gguf
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".".into());
    let file_name = gguf
        .file_name()
        .context("model path has no file name")?
        .to_string_lossy()
        .into_owned();
    let loader = GGUFLoaderBuilder::new(
        None,
        None,
        folder,
        vec![file_name],
        GGUFSpecificConfig { topology: None },
        false,
        None,
    )
    .build();
    // Local paths only: an empty tokenizer path makes mistral.rs use the GGUF's own tokenizer,
    // and no template file makes it use the GGUF's own chat template.
    let paths: Box<dyn ModelPaths> = Box::new(LocalModelPaths {
        tokenizer_filename: PathBuf::new(),
        config_filename: PathBuf::new(),
        template_filename: None,
        filenames: vec![gguf],
        adapter_paths: AdapterPaths::None,
        gen_conf: None,
        preprocessor_config: None,
        processor_config: None,
        chat_template_json_filename: None,
    });
    let pipeline = loader.load_model_from_path(
        &paths,
        &model_dtype(options.dtype),
        &candle_device(options.device)?,
        true,
        DeviceMapSetting::Auto(AutoDeviceMapParams::default_text()),
        None,
        None,
    )?;
    let scheduler = SchedulerConfig::DefaultScheduler {
        method: DefaultSchedulerMethod::Fixed(
            NonZeroUsize::new(MAX_RUNNING_SEQUENCES).expect("non-zero constant"),
        ),
    };
    let runner = MistralRsBuilder::new(pipeline, scheduler, false, None)
        .with_no_prefix_cache(!options.prefix_cache)
        .build()
        .await;
    Ok(runner)
}

/// candle's handle on `device`; a GPU this build or machine lacks is an error saying so.
fn candle_device(device: ComputeDevice) -> Result<Device> {
    device.check_compiled()?;
    match device {
        ComputeDevice::Cpu => Ok(Device::Cpu),
        ComputeDevice::Cuda(index) => Device::new_cuda(index)
            .with_context(|| format!("no usable CUDA GPU {index} (--device cuda:{index})")),
        ComputeDevice::Metal(index) => Device::new_metal(index)
            .with_context(|| format!("no usable Metal GPU {index} (--device metal:{index})")),
    }
}

/// The untrimmed text of a completion's first streamed chunk. mistral.rs strips leading
/// whitespace from the first chunk (right for chat, wrong for completions: a code completion's
/// first line loses its indentation); the token's own decoding, sent with its log-probability,
/// still has it.
fn first_piece(delta: &str, logprob: Option<&ResponseLogprob>) -> String {
    let raw = logprob
        .and_then(|l| l.bytes.as_deref())
        .map(String::from_utf8_lossy);
    match raw {
        Some(raw) if raw.trim_start() == delta && !raw.contains('\u{FFFD}') => raw.into_owned(),
        _ => delta.to_string(),
    }
}

/// Whether the chat's last turn is the assistant's (to be continued, not answered).
fn ends_in_assistant_turn(messages: &[ChatMessage]) -> bool {
    messages.last().is_some_and(|m| m.role == "assistant")
}

fn chat_messages(messages: &[ChatMessage]) -> Result<RequestMessage> {
    Ok(text_messages(messages)?.take_messages())
}

fn text_messages(messages: &[ChatMessage]) -> Result<TextMessages> {
    let mut turns = TextMessages::new();
    for message in messages {
        let role = match message.role.as_str() {
            "system" => TextMessageRole::System,
            "user" => TextMessageRole::User,
            "assistant" => TextMessageRole::Assistant,
            other => bail!("unknown chat role {other:?} (expected system, user or assistant)"),
        };
        turns = turns.add_message(role, &message.content);
    }
    Ok(turns)
}

fn sampling_params(request: &GenerationRequest) -> SamplingParams {
    let mut params = if request.sampling.is_greedy() {
        SamplingParams::deterministic()
    } else {
        let mut params = SamplingParams::neutral();
        params.temperature = Some(request.sampling.temperature);
        params
    };
    params.max_len = Some(request.max_new_tokens);
    params.stop_toks = (!request.stop.is_empty()).then(|| StopTokens::Seqs(request.stop.clone()));
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logprob(raw: &str) -> ResponseLogprob {
        ResponseLogprob {
            token: raw.trim_start().to_string(),
            logprob: -0.1,
            bytes: Some(raw.as_bytes().to_vec()),
            top_logprobs: Vec::new(),
        }
    }

    #[test]
    fn first_piece_restores_stripped_indentation() {
        assert_eq!(
            first_piece("return a", Some(&logprob("    return a"))),
            "    return a"
        );
        assert_eq!(first_piece("x", None), "x");
        // A chunk covering more than the one token: keep what mistral.rs sent.
        assert_eq!(first_piece("ab", Some(&logprob(" a"))), "ab");
    }
}
