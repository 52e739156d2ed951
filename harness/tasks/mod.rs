//! Tasks as data: each folder under `tasks/` with a `task.toml` is a task. This module loads and
//! validates specs into [`Task`]s, selects them by name or suite, and reads their items.

mod choice;
mod exact_match;
mod extract;
mod fewshot;
mod index;
pub mod minerva;
mod prompt;
mod records;
mod spec;
mod template;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

pub use choice::{predictions, MultipleChoice};
pub use exact_match::{ExactMatch, INVALID};
pub use extract::{normalize_number, ExtractionChain};
pub use fewshot::{Exemplars, FewShotSampler, LM_EVAL_FEWSHOT_SEED};
pub use index::{IndexDefinition, IndexSuite};
pub use prompt::{ChatMessage, Prompt, PromptRenderer};
pub use spec::{
    ChoicesSpec, DataFormat, ExecutionSpec, FewShotSpec, FilterSpec, GenerationSpec, ItemsSpec,
    MetricKind, MetricSpec, MultipleChoiceSpec, OutputType, PromptSpec, PromptStyle, ReferenceSpec,
    Select, StepSpec, TaskSpec, VerdictSpec,
};
pub use template::{Expression, Template};

use records::{read_records, split_keys};

use crate::data::{DataCache, DatasetRef};

/// The spec file name inside a task folder.
pub const SPEC_FILE: &str = "task.toml";

/// A validated task, ready to render prompts and extract answers.
#[derive(Debug)]
pub struct Task {
    /// The spec as written.
    pub spec: TaskSpec,
    /// The spec file it came from.
    pub path: PathBuf,
    renderer: PromptRenderer,
    program: Option<Template>,
    /// Generative tasks: how the reference is read.
    reference: Option<ExtractionChain>,
    /// Generative tasks: `reference.expression`, compiled.
    reference_expression: Option<Expression>,
    /// Multiple-choice tasks: the choices and the gold answer.
    multiple_choice: Option<MultipleChoice>,
    filters: Vec<(String, ExtractionChain)>,
    /// The compiled `exact_match` of each metric (`None` for other metrics), in spec order.
    exact_matches: Vec<Option<ExactMatch>>,
}

/// One evaluation item.
#[derive(Debug, Clone)]
pub struct Item {
    /// Position in the dataset file (0-based).
    pub index: usize,
    /// Stable id.
    pub id: String,
    /// The record.
    pub doc: serde_json::Value,
}

impl Task {
    /// Reads and validates the spec at `path`; errors name the file, and the line for syntax
    /// errors.
    pub fn load(path: &Path) -> Result<Self> {
        let text = fs::read_to_string(path)
            .with_context(|| format!("cannot read task spec {}", path.display()))?;
        Self::parse(&text, path).with_context(|| format!("invalid task spec {}", path.display()))
    }

    fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut spec: TaskSpec = toml::from_str(text)?;
        let multiple_choice = match spec.output_type {
            OutputType::GenerateUntil => {
                check_generative(&spec)?;
                None
            }
            OutputType::MultipleChoice => Some(check_multiple_choice(&mut spec)?),
        };
        let renderer = PromptRenderer::compile(&spec.prompt)?;
        if let Some(execution) = &spec.execution {
            if !(execution.timeout_s > 0.0 && execution.timeout_s.is_finite()) {
                bail!(
                    "execution.timeout_s = {} must be a positive number of seconds",
                    execution.timeout_s
                );
            }
            let python = Path::new(&execution.interpreter)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python"));
            if execution.verdict == VerdictSpec::HumanEval && !python {
                bail!(
                    "execution.verdict = \"human-eval\" needs a Python interpreter, not {:?}; \
                     write verdict = \"exit-status\" for other languages",
                    execution.interpreter
                );
            }
        }
        if let Some(fewshot) = &spec.fewshot {
            match (&fewshot.dataset, fewshot.samples.is_empty()) {
                (Some(_), false) => bail!(
                    "[fewshot] has both `dataset` and `samples`; keep one of them as the pool"
                ),
                (None, true) => bail!(
                    "[fewshot] needs a pool: `dataset = {{ file = …, sha256 = … }}` or `samples = [ … ]`"
                ),
                _ => {}
            }
        }
        let program = spec
            .execution
            .as_ref()
            .map(|e| Template::compile(&e.program, "execution.program"))
            .transpose()?;
        let reference = spec
            .reference
            .as_ref()
            .map(|r| ExtractionChain::compile(&r.steps).context("in reference.steps"))
            .transpose()?;
        let reference_expression = match spec.reference.as_ref() {
            None => None,
            Some(r) => match (&r.field, &r.expression) {
                (Some(_), None) => None,
                (None, Some(source)) => Some(Expression::compile(source, "reference.expression")?),
                _ => bail!("[reference] needs exactly one of `field` and `expression`"),
            },
        };
        let mut filters = Vec::new();
        for filter in &spec.filters {
            let chain = ExtractionChain::compile(&filter.steps)
                .with_context(|| format!("in filter {:?}", filter.name))?;
            filters.push((filter.name.clone(), chain));
        }
        for metric in &spec.metrics {
            match metric.name {
                MetricKind::PassAtK if program.is_none() => {
                    bail!("metric pass_at_k needs an [execution] section")
                }
                MetricKind::MacroF1 if metric.labels.len() < 2 => {
                    bail!("metric macro_f1 needs `labels` (at least two)")
                }
                _ => {}
            }
            if metric.name.is_multiple_choice() {
                continue; // checked with the output type
            }
            for name in &metric.filters {
                if !filters.iter().any(|(n, _)| n == name) {
                    bail!(
                        "metric {} names filter {name:?}, which is not defined; defined filters: {}",
                        metric.name.as_str(),
                        filters.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                    );
                }
            }
        }
        let exact_matches = spec
            .metrics
            .iter()
            .map(|metric| {
                (metric.name == MetricKind::ExactMatch)
                    .then(|| ExactMatch::compile(metric))
                    .transpose()
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            spec,
            path: path.to_path_buf(),
            renderer,
            program,
            reference,
            reference_expression,
            multiple_choice,
            filters,
            exact_matches,
        })
    }

    /// The group `item` is reported under (`items.group_field`, e.g. its MMLU subject).
    pub fn group(&self, item: &Item) -> Option<String> {
        let field = self.spec.items.group_field.as_deref()?;
        item.doc.get(field).map(|v| match v.as_str() {
            Some(text) => text.to_string(),
            None => v.to_string(),
        })
    }

    /// The task's `[multiple_choice]` section, for multiple-choice tasks.
    pub fn multiple_choice(&self) -> Option<&MultipleChoice> {
        self.multiple_choice.as_ref()
    }

    /// The compiled `exact_match` of metric number `index` (`None` when it is another metric).
    pub fn exact_match(&self, index: usize) -> Option<&ExactMatch> {
        self.exact_matches.get(index).and_then(Option::as_ref)
    }

    /// The task's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Every dataset file the task reads.
    pub fn datasets(&self) -> Vec<&DatasetRef> {
        let mut all = vec![&self.spec.dataset];
        all.extend(&self.spec.items.parts);
        all.extend(self.spec.items.split.as_ref());
        if let Some(dataset) = self.spec.fewshot.as_ref().and_then(|f| f.dataset.as_ref()) {
            all.push(dataset);
        }
        all
    }

    /// Reads the items (at most `limit`) from the dataset cache.
    pub fn load_items(&self, cache: &DataCache, limit: Option<usize>) -> Result<Vec<Item>> {
        let items_spec = &self.spec.items;
        let path = cache.locate(&self.spec.dataset)?;
        let split = match &items_spec.split {
            Some(split) => Some(split_keys(&cache.locate(split)?)?),
            None => None,
        };
        // A split selects records first; the limit then applies to what it selected.
        let read_limit = if split.is_some() { None } else { limit };
        let mut records = read_records(&path, items_spec.format, read_limit)?;
        for part in &items_spec.parts {
            let left = read_limit.map(|l| l.saturating_sub(records.len()));
            if left == Some(0) {
                break;
            }
            records.extend(read_records(&cache.locate(part)?, items_spec.format, left)?);
        }
        if let Some(keys) = &split {
            records.retain(|r| {
                r.get("_key")
                    .and_then(|k| k.as_str())
                    .is_some_and(|k| keys.contains(k))
            });
            if records.len() != keys.len() {
                bail!(
                    "task {}: the split lists {} ids but {} of them are in {}",
                    self.spec.name,
                    keys.len(),
                    records.len(),
                    self.spec.dataset.file
                );
            }
        }
        records.truncate(limit.unwrap_or(usize::MAX));
        if let Some(field) = &items_spec.group_field {
            if let Some(position) = records
                .iter()
                .position(|r| r.get(field).is_none_or(|v| v.is_null()))
            {
                bail!(
                    "task {}: item {position} of {} (or its parts) has no {field:?} \
                     (items.group_field); every item needs its group",
                    self.spec.name,
                    self.spec.dataset.file
                );
            }
        }
        let items: Vec<Item> = records
            .into_iter()
            .enumerate()
            .map(|(index, doc)| {
                let id = items_spec
                    .id_field
                    .as_deref()
                    .or(Some("_key"))
                    .and_then(|field| doc.get(field))
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .unwrap_or_else(|| format!("{}/{index}", self.spec.name));
                Item { index, id, doc }
            })
            .collect();
        self.check_unique_ids(&items)?;
        Ok(items)
    }

    /// Item ids key resuming, `compare`'s pairing and per-item results: two items with one id
    /// would be taken for one (a resumed run would skip the second as done). Only the items
    /// loaded are checked: a repeat past `--limit` shows on a larger run.
    fn check_unique_ids(&self, items: &[Item]) -> Result<()> {
        let mut first_with: HashMap<&str, usize> = HashMap::with_capacity(items.len());
        for item in items {
            if let Some(first) = first_with.insert(&item.id, item.index) {
                let (source, fix) = match &self.spec.items.id_field {
                    Some(field) => (
                        format!("items.id_field = {field:?}"),
                        "name a field that is unique per item, or drop items.id_field to \
                         number the items",
                    ),
                    None => (
                        "the records' `_key` (a json_object key, or a `_key` field)".to_string(),
                        "make each key unique across the file and its parts, or name a unique \
                         field in items.id_field",
                    ),
                };
                bail!(
                    "task {}: items {first} and {} of {} (or its parts) have the same id {:?}, \
                     from {source}; ids must be unique: {fix}",
                    self.spec.name,
                    item.index,
                    self.spec.dataset.file,
                    item.id,
                );
            }
        }
        Ok(())
    }

    /// The few-shot exemplars of items `0..items` (none when the task is zero-shot).
    pub fn load_fewshot(&self, cache: &DataCache, items: usize) -> Result<Exemplars> {
        let Some(fewshot) = &self.spec.fewshot else {
            return Ok(Exemplars::default());
        };
        // The first-n sampler needs only the first `count` records of a pool file.
        let read_limit = match fewshot.sampler {
            FewShotSampler::FirstN => Some(fewshot.count),
            FewShotSampler::LmEvalRandom => None,
        };
        let (mut pool, source) = match &fewshot.dataset {
            Some(dataset) => (
                read_records(&cache.locate(dataset)?, fewshot.format, read_limit)?,
                dataset.file.as_str(),
            ),
            None => (fewshot.samples.clone(), "fewshot.samples"),
        };
        if pool.len() < fewshot.count {
            bail!(
                "task {}: the few-shot pool {source} has {} records, fewer than fewshot.count = {}",
                self.spec.name,
                pool.len(),
                fewshot.count
            );
        }
        Ok(match fewshot.sampler {
            FewShotSampler::FirstN => {
                pool.truncate(fewshot.count);
                Exemplars::fixed(pool)
            }
            FewShotSampler::LmEvalRandom => {
                Exemplars::lm_eval_random(pool, fewshot.count, fewshot.seed, items)
            }
        })
    }

    /// The prompt for `item`.
    pub fn render(&self, item: &Item, exemplars: &Exemplars) -> Result<Prompt> {
        self.renderer
            .render(&item.doc, &exemplars.for_item(item.index), item.index)
            .with_context(|| format!("task {}, item {}", self.spec.name, item.id))
    }

    /// The reference answer of `item`: the extracted reference field, or for multiple choice
    /// the gold choice.
    pub fn reference(&self, item: &Item) -> Result<String> {
        let context = || format!("task {}, item {}", self.spec.name, item.id);
        if let Some(mc) = &self.multiple_choice {
            let choices = mc.choices(&item.doc).with_context(context)?;
            let gold = mc.gold(&item.doc, &choices).with_context(context)?;
            return Ok(choices[gold].clone());
        }
        let (Some(spec), Some(chain)) = (&self.spec.reference, &self.reference) else {
            unreachable!("validated: a generative task has [reference]")
        };
        let value = match (&spec.field, &self.reference_expression) {
            (_, Some(expression)) => Some(
                expression
                    .evaluate(minijinja::context! { doc => &item.doc })
                    .with_context(context)?,
            ),
            (Some(field), None) => item.doc.get(field).cloned(),
            (None, None) => unreachable!("validated: a field or an expression"),
        };
        let raw = match value {
            Some(serde_json::Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => bail!(
                "task {}, item {}: the record has no field {:?} (reference.field)",
                self.spec.name,
                item.id,
                spec.field.as_deref().unwrap_or_default()
            ),
        };
        chain.apply(&raw).with_context(|| {
            format!(
                "task {}, item {}: reference.steps found no answer in {raw:?}",
                self.spec.name, item.id
            )
        })
    }

    /// The program that tests `completion` for `item`, for tasks with an `[execution]` section.
    pub fn program(&self, item: &Item, completion: &str) -> Option<Result<String>> {
        self.program.as_ref().map(|template| {
            template
                .render(minijinja::context! { doc => &item.doc, completion })
                .with_context(|| {
                    format!(
                        "task {}, item {}: execution.program",
                        self.spec.name, item.id
                    )
                })
        })
    }

    /// Each filter's extracted answer from `output`, in spec order.
    pub fn extract(&self, output: &str) -> Vec<(String, Option<String>)> {
        self.filters
            .iter()
            .map(|(name, chain)| (name.clone(), chain.apply(output)))
            .collect()
    }
}

/// What a generative task needs: generation limits, a reference, filters and metrics on them.
fn check_generative(spec: &TaskSpec) -> Result<()> {
    if spec.multiple_choice.is_some() {
        bail!("[multiple_choice] needs output_type = \"multiple_choice\"");
    }
    if spec.generation.max_new_tokens == 0 {
        bail!("generation.max_new_tokens must be at least 1");
    }
    if spec.reference.is_none() {
        bail!("a generative task needs a [reference] section");
    }
    if spec.filters.is_empty() || spec.metrics.is_empty() {
        bail!("a task needs at least one [[filter]] and one [[metric]]");
    }
    if let Some(metric) = spec.metrics.iter().find(|m| m.name.is_multiple_choice()) {
        bail!(
            "metric {} scores multiple choice; it needs output_type = \"multiple_choice\"",
            metric.name.as_str()
        );
    }
    Ok(())
}

/// What a multiple-choice task needs: a `[multiple_choice]` section, a completion prompt (the
/// context), `acc` / `acc_norm` metrics only. Their filter list becomes `["none"]`, lm-eval's key.
fn check_multiple_choice(spec: &mut TaskSpec) -> Result<MultipleChoice> {
    let Some(section) = &spec.multiple_choice else {
        bail!(
            "output_type = \"multiple_choice\" needs a [multiple_choice] section with `choices` \
             and `gold`"
        );
    };
    if spec.prompt.style != PromptStyle::Completion {
        bail!("a multiple-choice task's prompt is the raw context: prompt.style = \"completion\"");
    }
    if spec.generation.max_new_tokens != 0 || !spec.generation.stop.is_empty() {
        bail!("a multiple-choice task generates nothing: leave out [generation]");
    }
    if spec.execution.is_some() || !spec.filters.is_empty() || spec.reference.is_some() {
        bail!(
            "a multiple-choice task scores log-likelihoods: it has no [execution], [[filter]] or \
             [reference] (the gold answer is multiple_choice.gold)"
        );
    }
    if spec.metrics.is_empty() {
        bail!("a task needs at least one [[metric]] (acc, acc_norm)");
    }
    for metric in &mut spec.metrics {
        if !metric.name.is_multiple_choice() {
            bail!(
                "metric {} scores generated answers; a multiple-choice task has acc and acc_norm",
                metric.name.as_str()
            );
        }
        if !metric.filters.is_empty() {
            bail!(
                "metric {} of a multiple-choice task takes no filters",
                metric.name.as_str()
            );
        }
        metric.filters = vec![NO_FILTER.to_string()];
    }
    MultipleChoice::compile(section)
}

/// The filter name of metrics that need none (lm-evaluation-harness's key `acc,none`).
pub const NO_FILTER: &str = "none";

/// All tasks found under a folder.
#[derive(Debug)]
pub struct TaskSet {
    tasks: Vec<Task>,
}

impl TaskSet {
    /// Loads every `task.toml` under `dir` (recursively).
    pub fn discover(dir: &Path) -> Result<Self> {
        Ok(Self {
            tasks: Self::load_dir(dir)?,
        })
    }

    /// The specs found under `dir` (recursively), each name once.
    pub fn load_dir(dir: &Path) -> Result<Vec<Task>> {
        let mut paths = Vec::new();
        find_specs(dir, &mut paths)
            .with_context(|| format!("cannot read the tasks folder {}", dir.display()))?;
        paths.sort();
        let mut tasks: Vec<Task> = Vec::new();
        for path in paths {
            push_unique(&mut tasks, Task::load(&path)?)?;
        }
        Ok(tasks)
    }

    /// Specs given as text (the built-in layer): `(path named in messages, text)`, each name once.
    pub fn parse_specs(specs: &[(PathBuf, &str)]) -> Result<Vec<Task>> {
        let mut tasks: Vec<Task> = Vec::new();
        for (path, text) in specs {
            let task = Task::parse(text, path)
                .with_context(|| format!("invalid task spec {}", path.display()))?;
            push_unique(&mut tasks, task)?;
        }
        Ok(tasks)
    }

    /// The tasks of several layers, lowest first: a higher layer's task replaces a lower
    /// layer's task of the same name.
    pub fn from_layers(layers: Vec<Vec<Task>>) -> Self {
        let mut tasks: Vec<Task> = Vec::new();
        for task in layers.into_iter().flatten() {
            match tasks.iter_mut().find(|t| t.name() == task.name()) {
                Some(lower) => *lower = task,
                None => tasks.push(task),
            }
        }
        Self { tasks }
    }

    /// All tasks, sorted by suite then name.
    pub fn all(&self) -> Vec<&Task> {
        let mut all: Vec<&Task> = self.tasks.iter().collect();
        all.sort_by(|a, b| (&a.spec.suite, a.name()).cmp(&(&b.spec.suite, b.name())));
        all
    }

    /// The task named `name`, or an error listing the valid names.
    pub fn get(&self, name: &str) -> Result<&Task> {
        self.tasks
            .iter()
            .find(|t| t.name() == name)
            .with_context(|| {
                format!(
                    "unknown task {name:?}; known tasks: {} (see `yardstick tasks list`)",
                    self.names().join(", ")
                )
            })
    }

    /// Tasks named in `names` plus every task of the suites in `suites`, without repeats, in
    /// the order given.
    pub fn select(&self, names: &[String], suites: &[String]) -> Result<Vec<&Task>> {
        let mut chosen: Vec<&Task> = Vec::new();
        for suite in suites {
            let members: Vec<&Task> = self
                .all()
                .into_iter()
                .filter(|t| &t.spec.suite == suite)
                .collect();
            if members.is_empty() {
                let mut known: Vec<&str> =
                    self.tasks.iter().map(|t| t.spec.suite.as_str()).collect();
                known.sort();
                known.dedup();
                bail!(
                    "unknown suite {suite:?}; known suites: {}",
                    known.join(", ")
                );
            }
            chosen.extend(members);
        }
        for name in names {
            chosen.push(self.get(name)?);
        }
        let mut unique: Vec<&Task> = Vec::new();
        for task in chosen {
            if !unique.iter().any(|t| t.name() == task.name()) {
                unique.push(task);
            }
        }
        Ok(unique)
    }

    /// Every dataset file any task reads.
    pub fn datasets(&self) -> Vec<DatasetRef> {
        let mut all: Vec<DatasetRef> = Vec::new();
        for task in &self.tasks {
            for dataset in task.datasets() {
                if !all.iter().any(|d| d.sha256 == dataset.sha256) {
                    all.push(dataset.clone());
                }
            }
        }
        all
    }

    fn names(&self) -> Vec<&str> {
        self.all().into_iter().map(Task::name).collect()
    }
}

/// Adds `task` unless its name is taken within the same layer.
fn push_unique(tasks: &mut Vec<Task>, task: Task) -> Result<()> {
    if let Some(other) = tasks.iter().find(|t| t.name() == task.name()) {
        bail!(
            "task name {:?} is used by both {} and {}",
            task.name(),
            other.path.display(),
            task.path.display()
        );
    }
    tasks.push(task);
    Ok(())
}

fn find_specs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            find_specs(&path, out)?;
        } else if entry.file_name() == SPEC_FILE {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> TaskSet {
        TaskSet::discover(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks")).unwrap()
    }

    /// Item 0 of a task, holding `doc`.
    fn item_with(doc: serde_json::Value) -> Item {
        Item {
            index: 0,
            id: "x".into(),
            doc,
        }
    }

    /// The spec of a multiple-choice task `t` over the dataset `file` (cached as `t/<file>`,
    /// sha256 `sha`), with `tables` (TOML: `[items]`, `[fewshot]`) and the prompt `template` (a
    /// TOML string).
    fn multiple_choice_spec(file: &str, sha: &str, tables: &str, template: &str) -> String {
        format!(
            "name = \"t\"\nsuite = \"s\"\nversion = 1\noutput_type = \"multiple_choice\"\n\
             description = \"d\"\n[dataset]\nfile = \"t/{file}\"\nsha256 = \"{sha}\"\n\
             license = \"MIT\"\n{tables}[prompt]\nstyle = \"completion\"\ntemplate = {template}\n\
             [multiple_choice]\nchoices = [\"A\", \"B\"]\ngold = \"0\"\n[[metric]]\nname = \"acc\"\n"
        )
    }

    /// The task `spec` describes.
    fn parsed(spec: &str) -> Task {
        Task::parse(spec, Path::new("t.toml")).unwrap()
    }

    /// A data cache under `dir`/cache holding every file of `task`, imported from `dir`.
    fn cache_for(dir: &Path, task: &Task) -> DataCache {
        let cache = DataCache::new(dir.join("cache"));
        let datasets: Vec<DatasetRef> = task.datasets().into_iter().cloned().collect();
        cache.import(dir, &datasets).unwrap();
        cache
    }

    /// The sha256 of `dir`/`name`.
    fn sha_of(dir: &Path, name: &str) -> String {
        crate::files::sha256_file(&dir.join(name), None).unwrap()
    }

    #[test]
    fn shipped_tasks_load() {
        let set = shipped();
        let gsm8k = set.get("gsm8k").unwrap();
        assert_eq!(gsm8k.spec.suite, "math");
        let fewshot = gsm8k.spec.fewshot.as_ref().unwrap();
        assert_eq!(
            (fewshot.count, fewshot.sampler),
            (5, FewShotSampler::LmEvalRandom)
        );
        assert!(set.select(&[], &["math".into()]).unwrap().len() >= 3);
    }

    #[test]
    fn gsm8k_cot_reference_is_the_final_number_and_strict_reads_the_answer_sentence() {
        let set = shipped();
        let task = set.get("gsm8k_cot").unwrap();
        let item = item_with(serde_json::json!({"question": "q", "answer": "2+2=4\n#### 1,004 "}));
        assert_eq!(task.reference(&item).unwrap(), "1,004");
        let extracted = task.extract("4 + 1000 = 1004. The answer is 1,004.\n\n");
        assert_eq!(extracted[0].1.as_deref(), Some("1,004"));
        assert!(task
            .exact_match(0)
            .unwrap()
            .matches(extracted[0].1.as_deref(), "1,004"));
        let exemplars = task
            .load_fewshot(&DataCache::new(PathBuf::new()), 1)
            .unwrap();
        assert!(exemplars.is_fixed());
        assert_eq!(exemplars.for_item(0).len(), 8);
    }

    #[test]
    fn humaneval_evalplus_opens_the_assistant_turn_in_a_python_fence() {
        let set = shipped();
        let task = set.get("humaneval_evalplus").unwrap();
        let item =
            item_with(serde_json::json!({"prompt": "\ndef f(x):\n    \"\"\"Doc.\"\"\"\n\n"}));
        let Prompt::Chat { messages } = task.render(&item, &Exemplars::default()).unwrap() else {
            panic!("a chat prompt expected");
        };
        assert_eq!(messages.len(), 2);
        assert!(
            messages[0]
                .content
                .ends_with("\n```\ndef f(x):\n    \"\"\"Doc.\"\"\"\n```\n"),
            "the problem is stripped and fenced: {:?}",
            messages[0].content
        );
        assert_eq!(messages[1].role, "assistant");
        assert!(messages[1].content.ends_with("tests:\n```python\n"));
        assert!(task.spec.generation.stop.contains(&"\n```\n".to_string()));
    }

    #[test]
    fn a_fewshot_pool_is_a_dataset_or_samples_never_both_or_neither() {
        let text = fs::read_to_string(shipped().get("gsm8k_cot").unwrap().path.clone()).unwrap();
        let samples = text.find("[[fewshot.samples]]").unwrap()..text.find("[prompt]").unwrap();
        let mut neither = text.clone();
        neither.replace_range(samples, "");
        let err = format!(
            "{:#}",
            Task::parse(&neither, Path::new("t.toml")).unwrap_err()
        );
        assert!(err.contains("needs a pool"), "{err}");
        let both = text.replace(
            "[fewshot]\ncount = 8\n",
            "[fewshot]\ncount = 8\ndataset = { file = \"gsm8k/train.jsonl\", sha256 = \"00\", license = \"MIT\" }\n",
        );
        let err = format!("{:#}", Task::parse(&both, Path::new("t.toml")).unwrap_err());
        assert!(err.contains("both `dataset` and `samples`"), "{err}");
    }

    #[test]
    fn gsm8k_reference_and_filters() {
        let set = shipped();
        let task = set.get("gsm8k").unwrap();
        let item = item_with(serde_json::json!({"question": "q", "answer": "2+2=4\n#### 1,004"}));
        // lm-eval's target is the whole answer; exact_match's ignore rules reduce it to 1004.
        let reference = task.reference(&item).unwrap();
        assert_eq!(reference, "2+2=4\n#### 1,004");
        let extracted = task.extract("so we get 4.\n#### 1004.0\n");
        assert_eq!(
            extracted[0],
            ("strict-match".to_string(), Some("1004.0".to_string()))
        );
        assert_eq!(extracted[1].1.as_deref(), Some("1004.0"));
        let exact = task.exact_match(0).unwrap();
        assert!(
            !exact.matches(extracted[0].1.as_deref(), &reference),
            "1004.0 is not 1004"
        );
        assert!(exact.matches(Some("1,004."), &reference));
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let set = shipped();
        let err = set.select(&["gsm9k".into()], &[]).unwrap_err().to_string();
        assert!(
            err.contains("known tasks:") && err.contains("gsm8k"),
            "{err}"
        );
        let err = set.select(&[], &["poetry".into()]).unwrap_err().to_string();
        assert!(
            err.contains("known suites: biomedical, code, knowledge, math"),
            "{err}"
        );
    }

    #[test]
    fn malformed_spec_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SPEC_FILE);
        fs::write(&path, "name = \"t\"\nsuite = \"math\"\nversion = \"one\"\n").unwrap();
        let err = format!("{:#}", Task::load(&path).unwrap_err());
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn metric_on_undefined_filter_is_rejected() {
        let text = fs::read_to_string(shipped().get("gsm8k").unwrap().path.clone())
            .unwrap()
            .replace(
                "filters = [\"strict-match\", \"flexible-extract\"]",
                "filters = [\"nope\"]",
            );
        let err = format!("{:#}", Task::parse(&text, Path::new("t.toml")).unwrap_err());
        assert!(
            err.contains("\"nope\"") && err.contains("strict-match"),
            "{err}"
        );
    }

    #[test]
    fn a_group_field_missing_from_an_item_is_named() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("d.jsonl"),
            "{\"q\":1,\"topic\":\"a\"}\n{\"q\":2}\n",
        )
        .unwrap();
        let spec = multiple_choice_spec(
            "d.jsonl",
            &sha_of(dir.path(), "d.jsonl"),
            "[items]\ngroup_field = \"topic\"\n",
            "\"{{ doc.q }}\"",
        );
        let task = parsed(&spec);
        let err = format!(
            "{:#}",
            task.load_items(&cache_for(dir.path(), &task), None)
                .unwrap_err()
        );
        assert!(err.contains("item 1") && err.contains("\"topic\""), "{err}");
        // And a multiple-choice task refuses generation settings it would ignore.
        let generating = spec.replace("[[metric]]", "[generation]\nmax_new_tokens = 5\n[[metric]]");
        let err = format!(
            "{:#}",
            Task::parse(&generating, Path::new("t.toml")).unwrap_err()
        );
        assert!(err.contains("generates nothing"), "{err}");
    }

    #[test]
    fn two_items_with_one_id_are_refused_with_both_positions() {
        let dir = tempfile::tempdir().unwrap();
        // HellaSwag's `ind` is such a field: 9,609 distinct values on 10,042 validation items.
        fs::write(
            dir.path().join("d.jsonl"),
            "{\"ind\":24}\n{\"ind\":92}\n{\"ind\":24}\n",
        )
        .unwrap();
        let sha = sha_of(dir.path(), "d.jsonl");
        let template = "\"{{ doc.ind }}\"";
        let by_ind = parsed(&multiple_choice_spec(
            "d.jsonl",
            &sha,
            "[items]\nid_field = \"ind\"\n",
            template,
        ));
        let cache = cache_for(dir.path(), &by_ind);
        let err = format!("{:#}", by_ind.load_items(&cache, None).unwrap_err());
        assert!(
            err.contains("items 0 and 2")
                && err.contains("\"24\"")
                && err.contains("items.id_field = \"ind\""),
            "{err}"
        );
        // The first two items are distinct: a limit that stops before the repeat runs.
        assert_eq!(by_ind.load_items(&cache, Some(2)).unwrap().len(), 2);
        let numbered = parsed(&multiple_choice_spec("d.jsonl", &sha, "", template));
        let ids: Vec<String> = numbered
            .load_items(&cache, None)
            .unwrap()
            .into_iter()
            .map(|item| item.id)
            .collect();
        assert_eq!(ids, ["t/0", "t/1", "t/2"]);

        // Without id_field, keys are the ids: one key in the file and in a part is a repeat.
        fs::write(
            dir.path().join("o.json"),
            r#"{"a": {"ind": 1}, "b": {"ind": 2}}"#,
        )
        .unwrap();
        fs::write(dir.path().join("p.json"), r#"{"b": {"ind": 3}}"#).unwrap();
        let parts = format!(
            "[items]\nformat = \"json_object\"\nparts = [{{ file = \"t/p.json\", sha256 = \"{}\", \
             license = \"MIT\" }}]\n",
            sha_of(dir.path(), "p.json")
        );
        let keyed = parsed(&multiple_choice_spec(
            "o.json",
            &sha_of(dir.path(), "o.json"),
            &parts,
            template,
        ));
        let cache = cache_for(dir.path(), &keyed);
        let err = format!("{:#}", keyed.load_items(&cache, None).unwrap_err());
        assert!(
            err.contains("items 1 and 2 of t/o.json (or its parts)")
                && err.contains("\"b\", from the records' `_key`")
                && err.contains("make each key unique"),
            "{err}"
        );
    }

    #[test]
    fn a_fewshot_pool_is_read_in_its_own_format() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("items.jsonl"), "{\"q\":\"x\"}\n").unwrap();
        let mut pool = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        pool.write_all(b"{\"q\":\"one\",\"a\":0}\n{\"q\":\"two\",\"a\":1}\n")
            .unwrap();
        fs::write(dir.path().join("pool.jsonl.gz"), pool.finish().unwrap()).unwrap();
        let fewshot = format!(
            "[fewshot]\ncount = 2\nformat = \"jsonl_gz\"\n\
             dataset = {{ file = \"t/pool.jsonl.gz\", sha256 = \"{}\", license = \"MIT\" }}\n",
            sha_of(dir.path(), "pool.jsonl.gz")
        );
        let task = parsed(&multiple_choice_spec(
            "items.jsonl",
            &sha_of(dir.path(), "items.jsonl"),
            &fewshot,
            "\"{% for s in fewshot %}{{ s.q }} {{ \\\"AB\\\"[s.a] }}\\n{% endfor %}{{ doc.q }}\"",
        ));
        let cache = cache_for(dir.path(), &task);
        let items = task.load_items(&cache, None).unwrap();
        let exemplars = task.load_fewshot(&cache, items.len()).unwrap();
        let prompt = task.render(&items[0], &exemplars).unwrap().display_text();
        assert_eq!(prompt, "one A\ntwo B\nx");
    }

    #[test]
    fn jsonl_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        fs::write(&path, "{\"a\":1}\n{broken\n").unwrap();
        let err = format!("{:#}", records::read_jsonl(&path, None).unwrap_err());
        assert!(err.contains("line 2"), "{err}");
    }
}
