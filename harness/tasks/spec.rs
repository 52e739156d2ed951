//! The task spec file (`tasks/<suite>/<name>/task.toml`) as serde types: a mirror of the file,
//! validated into a [`Task`](super::Task) by [`super::load`].

use serde::{Deserialize, Serialize};

use crate::data::DatasetRef;

/// A task spec as written in `task.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// Unique task name, e.g. `gsm8k`.
    pub name: String,
    /// Suite the task belongs to: `math`, `code`, `biomedical`, …
    pub suite: String,
    /// Bump when a change would change results (prompt, extraction, metric).
    pub version: u32,
    /// One line on what the task measures and in which setting.
    pub description: String,
    /// The evaluation data.
    pub dataset: DatasetRef,
    /// How dataset records become items.
    #[serde(default)]
    pub items: ItemsSpec,
    /// Few-shot exemplars, if any.
    #[serde(default)]
    pub fewshot: Option<FewShotSpec>,
    /// How an item becomes a prompt.
    pub prompt: PromptSpec,
    /// Generation limits.
    pub generation: GenerationSpec,
    /// How the reference answer is read from an item.
    pub reference: ReferenceSpec,
    /// Named extraction chains applied to the model output.
    #[serde(rename = "filter")]
    pub filters: Vec<FilterSpec>,
    /// Metrics computed on each filter's extracted answer.
    #[serde(rename = "metric")]
    pub metrics: Vec<MetricSpec>,
}

/// How records of the dataset file become items.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemsSpec {
    /// Field holding a stable item id; without it ids are `<task>/<line index>`.
    #[serde(default)]
    pub id_field: Option<String>,
}

/// Few-shot exemplars drawn from a second dataset file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FewShotSpec {
    /// Number of exemplars placed before each question.
    pub count: usize,
    /// Where the exemplars come from (records of the same shape as the items).
    pub dataset: DatasetRef,
}

/// Completion (raw text continued by the model) or chat (rendered text sent as a user turn
/// through the model's own chat template).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PromptStyle {
    /// Plain text completion.
    Completion,
    /// A chat turn through the GGUF's chat template.
    Chat,
}

/// How an item is rendered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptSpec {
    /// Completion or chat.
    pub style: PromptStyle,
    /// System message for chat prompts.
    #[serde(default)]
    pub system: Option<String>,
    /// minijinja template; sees `doc` (the item's record), `fewshot` (exemplar records) and
    /// `index`.
    pub template: String,
}

/// Generation limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationSpec {
    /// Maximum tokens generated per item.
    pub max_new_tokens: usize,
    /// Generation stops at the first of these strings (which is cut from the output).
    #[serde(default)]
    pub stop: Vec<String>,
}

/// Where the reference answer comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSpec {
    /// Field of the record holding the reference.
    pub field: String,
    /// Extraction steps applied to that field.
    #[serde(default)]
    pub steps: Vec<StepSpec>,
}

/// A named answer-extraction chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    /// Name used in metric keys, e.g. `strict-match`.
    pub name: String,
    /// Steps, applied in order.
    pub steps: Vec<StepSpec>,
}

/// One extraction step.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepSpec {
    /// All matches of `pattern`; keeps match number `select` (`first` or `last`), and of it the
    /// capture `group` (default: the first non-empty group, else the whole match) — the
    /// semantics of lm-evaluation-harness's `regex` filter.
    Regex {
        /// The regular expression (Rust `regex` syntax).
        pattern: String,
        /// Capture group to keep.
        #[serde(default)]
        group: Option<usize>,
        /// Which match to keep.
        #[serde(default)]
        select: Select,
    },
    /// Trims whitespace.
    Strip,
    /// Lower-cases.
    Lowercase,
    /// Removes thousands separators, currency signs and a trailing period; writes integral
    /// numbers without a fractional part (`1,234.0` → `1234`).
    NormalizeNumber,
}

/// Which regex match to keep.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Select {
    /// The first match.
    #[default]
    First,
    /// The last match.
    Last,
}

/// A metric over filters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    /// Which metric.
    pub name: MetricKind,
    /// Filters it is computed on; results are keyed `name,filter`.
    pub filters: Vec<String>,
}

/// Metrics the harness knows.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// 1 when the extracted answer equals the reference, else 0.
    ExactMatch,
}

impl MetricKind {
    /// The name used in result keys.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::ExactMatch => "exact_match",
        }
    }
}
