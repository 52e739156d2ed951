//! A backend that answers from a script instead of a model: for fast tests of the pipeline
//! (rendering, scoring, storage, reporting). Never the only end-to-end proof.

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;

use super::{cut_at_stop, Backend, BackendInfo, ContinuationScore, Generation, GenerationRequest};

/// Answers each request with a function of its prompt text.
pub struct ScriptedBackend {
    answer: Box<dyn Fn(&str) -> String + Send + Sync>,
    calls: AtomicUsize,
}

impl ScriptedBackend {
    /// A backend whose reply to prompt text `p` is `answer(p)`.
    pub fn new(answer: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        Self {
            answer: Box::new(answer),
            calls: AtomicUsize::new(0),
        }
    }

    /// How many generations were requested.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Backend for ScriptedBackend {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            name: "scripted".into(),
            version: "0".into(),
            device: "none".into(),
            dtype: "none".into(),
            prefix_cache: false,
            weights: super::Weights::Quantized,
            load_seconds: 0.0,
        }
    }

    fn generate(&self, request: &GenerationRequest) -> Result<Generation> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let prompt = request.prompt.display_text();
        let text = cut_at_stop(&(self.answer)(&prompt), &request.stop);
        // Whitespace-separated words stand in for tokens.
        let completion_tokens = text.split_whitespace().count().min(request.max_new_tokens);
        Ok(Generation {
            prompt_tokens: prompt.split_whitespace().count(),
            completion_tokens,
            time_to_first_token: 0.01,
            total_latency: 0.01 + 0.001 * completion_tokens as f64,
            finish_reason: "stop".into(),
            text,
        })
    }

    /// The continuation equal to the script's answer to the context (spaces trimmed) scores
    /// -0.5 and is greedy; every other scores -2 per word. Words stand in for tokens.
    fn loglikelihood(
        &self,
        context: &str,
        continuations: &[String],
    ) -> Result<Vec<ContinuationScore>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = (self.answer)(context);
        let context_tokens = vec![0; context.split_whitespace().count()];
        Ok(continuations
            .iter()
            .map(|continuation| {
                let words = continuation.split_whitespace().count().max(1);
                let chosen = continuation.trim() == answer.trim();
                ContinuationScore {
                    logprob: if chosen { -0.5 } else { -2.0 * words as f64 },
                    is_greedy: chosen,
                    context_tokens: context_tokens.clone(),
                    continuation_tokens: vec![0; words],
                }
            })
            .collect())
    }
}
