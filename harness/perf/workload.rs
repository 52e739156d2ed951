//! Synthetic workloads: a prompt of an exact token count and a fixed number of tokens to
//! generate, like llama.cpp's llama-bench (`pp512-tg128`) and Artificial Analysis's
//! (1,000 in / 300 out).

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::metrics::stats::SplitMix64;
use crate::tasks::Prompt;

/// Prompt tokens in, tokens out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workload {
    /// Tokens in the prompt.
    pub prompt_tokens: usize,
    /// Tokens to generate.
    pub generate_tokens: usize,
}

impl Workload {
    /// llama-bench's default pair.
    pub const LLAMA_BENCH: Workload = Workload {
        prompt_tokens: 512,
        generate_tokens: 128,
    };
    /// Artificial Analysis's standard workload.
    pub const ARTIFICIAL_ANALYSIS: Workload = Workload {
        prompt_tokens: 1000,
        generate_tokens: 300,
    };
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pp{}-tg{}", self.prompt_tokens, self.generate_tokens)
    }
}

impl FromStr for Workload {
    type Err = String;

    /// `pp512-tg128` (prompt 512, generate 128), or `aa` for 1,000 in / 300 out.
    fn from_str(text: &str) -> Result<Self, String> {
        if text == "aa" {
            return Ok(Self::ARTIFICIAL_ANALYSIS);
        }
        let parsed = text
            .strip_prefix("pp")
            .and_then(|rest| rest.split_once("-tg"))
            .and_then(|(p, g)| Some((p.parse().ok()?, g.parse().ok()?)));
        match parsed {
            Some((prompt_tokens, generate_tokens))
                if (1..=32_768).contains(&prompt_tokens)
                    && (1..=8_192).contains(&generate_tokens) =>
            {
                Ok(Self {
                    prompt_tokens,
                    generate_tokens,
                })
            }
            _ => Err(format!(
                "{text:?} is not a workload: write ppP-tgG (e.g. pp512-tg128, P ≤ 32768, \
                 G ≤ 8192) or aa (1000 in / 300 out)"
            )),
        }
    }
}

/// Words the synthetic prompt is drawn from: ordinary English, so tokenizers split it as they
/// split real text.
const WORDS: &[&str] = &[
    "the",
    "model",
    "reads",
    "a",
    "long",
    "report",
    "about",
    "river",
    "water",
    "levels",
    "and",
    "then",
    "writes",
    "short",
    "summary",
    "for",
    "each",
    "town",
    "along",
    "its",
    "banks",
    "while",
    "engineers",
    "measure",
    "flow",
    "rain",
    "snow",
    "spring",
    "summer",
    "autumn",
    "winter",
    "bridge",
    "road",
    "farm",
    "field",
    "market",
    "price",
    "grain",
    "cattle",
    "school",
    "children",
    "teacher",
    "lesson",
    "number",
    "story",
    "history",
    "science",
    "music",
    "garden",
    "tree",
    "leaf",
    "stone",
    "house",
    "window",
    "door",
    "light",
    "morning",
    "evening",
    "night",
    "day",
    "week",
    "year",
    "people",
    "family",
    "friend",
    "city",
    "village",
    "country",
    "mountain",
    "valley",
    "ocean",
    "island",
    "ship",
    "harbor",
    "train",
    "station",
    "letter",
    "book",
    "page",
    "word",
    "question",
    "answer",
    "problem",
    "method",
    "result",
    "table",
    "chart",
    "value",
    "change",
    "growth",
    "energy",
    "power",
    "machine",
    "tool",
    "metal",
    "paper",
    "color",
    "sound",
];

/// A completion prompt of at least `tokens` tokens by `backend`'s tokenizer (exactly, unless
/// the last word is several tokens), from a fixed pseudo-random word sequence.
pub fn synthetic_prompt(backend: &dyn Backend, tokens: usize) -> Result<Prompt> {
    synthetic_prompt_variant(backend, tokens, 0)
}

/// As [`synthetic_prompt`], from the word sequence numbered `variant` (0 is that prompt): the
/// distinct prompts of the concurrency sweep.
pub fn synthetic_prompt_variant(
    backend: &dyn Backend,
    tokens: usize,
    variant: u64,
) -> Result<Prompt> {
    let mut rng = SplitMix64(0x005e_ed0f_7e57 + variant);
    let words: Vec<&str> = (0..tokens * 2 + 8)
        .map(|_| WORDS[rng.below(WORDS.len())])
        .collect();
    let prompt_of = |n: usize| Prompt::Completion {
        text: words[..n].join(" "),
    };
    // The smallest word count whose prompt reaches `tokens` (token counts grow with words).
    let (mut low, mut high) = (1, words.len());
    if backend.count_tokens(&prompt_of(high))? < tokens {
        bail!("could not build a {tokens}-token prompt from {high} words");
    }
    while low < high {
        let middle = (low + high) / 2;
        if backend.count_tokens(&prompt_of(middle))? >= tokens {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    Ok(prompt_of(low))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::scripted::ScriptedBackend;

    #[test]
    fn workloads_parse_and_print() {
        assert_eq!("pp512-tg128".parse(), Ok(Workload::LLAMA_BENCH));
        assert_eq!("aa".parse(), Ok(Workload::ARTIFICIAL_ANALYSIS));
        assert_eq!(Workload::ARTIFICIAL_ANALYSIS.to_string(), "pp1000-tg300");
        for bad in ["pp0-tg1", "512/128", "pp512", "ppx-tg1"] {
            assert!(bad.parse::<Workload>().unwrap_err().contains("ppP-tgG"));
        }
    }

    #[test]
    fn prompts_have_the_asked_token_count() {
        let backend = ScriptedBackend::new(|_| String::new());
        for tokens in [1, 17, 512] {
            let prompt = synthetic_prompt(&backend, tokens).unwrap();
            assert_eq!(backend.count_tokens(&prompt).unwrap(), tokens);
        }
    }

    #[test]
    fn prompt_variants_differ_and_keep_the_token_count() {
        let backend = ScriptedBackend::new(|_| String::new());
        let text = |variant| match synthetic_prompt_variant(&backend, 64, variant).unwrap() {
            Prompt::Completion { text } => text,
            other => panic!("not a completion prompt: {other:?}"),
        };
        assert_eq!(
            Prompt::Completion { text: text(0) },
            synthetic_prompt(&backend, 64).unwrap()
        );
        let texts: Vec<String> = (0..4).map(text).collect();
        for (i, a) in texts.iter().enumerate() {
            let prompt = Prompt::Completion { text: a.clone() };
            assert_eq!(backend.count_tokens(&prompt).unwrap(), 64);
            assert!(texts[i + 1..].iter().all(|b| b != a), "variant {i} repeats");
        }
    }
}
