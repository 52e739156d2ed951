//! The run plan: validated, immutable inputs of a run, with every task's items already read so
//! that bad data fails before any model is loaded or any file is written. Built from a
//! [`RunRequest`] (a new run) or from a run's manifest (a resumed one).

use std::path::PathBuf;

use anyhow::{bail, Result};

use super::consent::confirm_code_execution;
use crate::backend::Sampling;
use crate::data::DataCache;
use crate::models::{ModelEntry, Registry};
use crate::store::{new_run_id, Manifest, Shard};
use crate::tasks::{Exemplars, IndexDefinition, Item, Task, TaskSet};

/// Items per task when neither a limit nor every item is asked for: minutes on a laptop CPU.
pub const DEFAULT_LIMIT: usize = 5;

/// Suites whose quality-index tasks run when no task or suite is named (the tasks of
/// `tasks/index.toml`). The default run opts in to executing generated code (in the sandbox)
/// with a printed notice.
pub const DEFAULT_SUITES: &[&str] = &["code", "math", "biomedical", "knowledge"];

/// How many items of each task a run takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Items {
    /// [`DEFAULT_LIMIT`].
    Default,
    /// At most this many.
    Limit(usize),
    /// Every item.
    All,
}

/// What a new run computes, as `yardstick run`'s options or a nightly.toml ask for it.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// Model ids; none: the registry's default model.
    pub models: Vec<String>,
    /// Task names.
    pub tasks: Vec<String>,
    /// Suites; with no task or suite, the index tasks of [`DEFAULT_SUITES`].
    pub suites: Vec<String>,
    /// Items per task.
    pub items: Items,
    /// Overrides every task's max new tokens.
    pub max_new_tokens: Option<usize>,
    /// Generations per item.
    pub samples: usize,
    /// Sampling temperature; 0 is greedy.
    pub temperature: f64,
    /// Allow tasks that execute generated code.
    pub allow_code_exec: bool,
    /// Store outputs without scoring them.
    pub predict_only: bool,
    /// Run id (default: UTC time and a random suffix).
    pub run_id: Option<String>,
    /// Only this shard of the work.
    pub shard: Option<Shard>,
}

impl Default for RunRequest {
    fn default() -> Self {
        Self {
            models: Vec::new(),
            tasks: Vec::new(),
            suites: Vec::new(),
            items: Items::Default,
            max_new_tokens: None,
            samples: 1,
            temperature: 0.0,
            allow_code_exec: false,
            predict_only: false,
            run_id: None,
            shard: None,
        }
    }
}

/// What plans are built from: the model registry, the task specs and the dataset cache.
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'c> {
    /// Models.
    pub registry: &'c Registry,
    /// Tasks.
    pub tasks: &'c TaskSet,
    /// Datasets.
    pub data: &'c DataCache,
}

/// A task with its items and few-shot exemplars loaded.
#[derive(Debug)]
pub struct PreparedTask<'a> {
    /// The task.
    pub task: &'a Task,
    /// Items to evaluate (already limited).
    pub items: Vec<Item>,
    /// Few-shot exemplars.
    pub fewshot: Exemplars,
}

impl PreparedTask<'_> {
    /// The prompt texts of (up to) the first eight items.
    fn sample_prompts(&self) -> Result<Vec<String>> {
        self.items
            .iter()
            .take(8)
            .map(|item| Ok(self.task.render(item, &self.fewshot)?.display_text()))
            .collect()
    }

    /// Mean length in characters of the prompts of (up to) the first eight items.
    pub fn mean_prompt_chars(&self) -> Result<f64> {
        let prompts = self.sample_prompts()?;
        let total: usize = prompts.iter().map(String::len).sum();
        Ok(total as f64 / prompts.len().max(1) as f64)
    }

    /// For a multiple-choice task, over (up to) the first eight items: the mean number of
    /// choices and the mean length in characters of one continuation (delimiter + choice);
    /// `None` for other tasks.
    pub fn mean_choices(&self) -> Result<Option<(f64, f64)>> {
        let Some(multiple_choice) = self.task.multiple_choice() else {
            return Ok(None);
        };
        let (mut items, mut continuations, mut chars) = (0usize, 0usize, 0usize);
        for item in self.items.iter().take(8) {
            let choices = multiple_choice.continuations(&multiple_choice.choices(&item.doc)?);
            items += 1;
            continuations += choices.len();
            chars += choices.iter().map(String::len).sum::<usize>();
        }
        if items == 0 {
            return Ok(None);
        }
        Ok(Some((
            continuations as f64 / items as f64,
            chars as f64 / continuations.max(1) as f64,
        )))
    }

    /// Characters at the start that the prompts of (up to) the first eight items all share
    /// (0 with fewer than two items).
    pub fn shared_prefix_chars(&self) -> Result<f64> {
        let prompts = self.sample_prompts()?;
        let Some((first, rest)) = prompts.split_first() else {
            return Ok(0.0);
        };
        let shared = rest
            .iter()
            .map(|other| {
                first
                    .bytes()
                    .zip(other.bytes())
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .min()
            .unwrap_or(0);
        Ok(shared as f64)
    }
}

/// Everything a run needs, checked.
#[derive(Debug)]
pub struct RunPlan<'a> {
    /// Run id (folder name).
    pub run_id: String,
    /// Models, in order.
    pub models: Vec<ModelEntry>,
    /// Tasks, in order.
    pub tasks: Vec<PreparedTask<'a>>,
    /// Items per task, if limited.
    pub limit: Option<usize>,
    /// Decoding.
    pub sampling: Sampling,
    /// Generations per item (more than one for pass@k at a temperature).
    pub samples_per_item: usize,
    /// Overrides every task's max new tokens.
    pub max_new_tokens: Option<usize>,
    /// Where `runs/<run-id>/` is created.
    pub results_dir: PathBuf,
    /// The part of the work this process does, when the run is split across machines.
    pub shard: Option<Shard>,
    /// Store outputs without scoring them.
    pub predict_only: bool,
}

impl<'a> RunPlan<'a> {
    /// The plan of a new run: models and tasks looked up, consent to execute code checked,
    /// items read.
    pub fn new(request: &RunRequest, catalog: Catalog<'a>, results_dir: PathBuf) -> Result<Self> {
        let models: Vec<ModelEntry> = if request.models.is_empty() {
            vec![catalog.registry.default_model().clone()]
        } else {
            request
                .models
                .iter()
                .map(|id| catalog.registry.get(id).cloned())
                .collect::<Result<_>>()?
        };
        let default_suite = request.tasks.is_empty() && request.suites.is_empty();
        let selected = if default_suite {
            let index: Vec<String> = IndexDefinition::shipped()
                .tasks()
                .into_iter()
                .filter(|(_, suite)| DEFAULT_SUITES.contains(suite))
                .map(|(task, _)| task.to_string())
                .collect();
            catalog.tasks.select(&index, &[])?
        } else {
            catalog.tasks.select(&request.tasks, &request.suites)?
        };
        if !request.predict_only {
            confirm_code_execution(&selected, request.allow_code_exec, default_suite)?;
        }
        if let Some(task) = selected
            .iter()
            .find(|t| request.samples > 1 && t.multiple_choice().is_some())
        {
            bail!(
                "task {} is scored by log-likelihood, which is the same for every sample: drop \
                 --samples {} or this task",
                task.name(),
                request.samples
            );
        }
        if request.samples > 1 && request.temperature <= 0.0 {
            bail!(
                "--samples {} needs --temperature above 0: greedy samples are all identical",
                request.samples
            );
        }
        let limit = match request.items {
            Items::Default => Some(DEFAULT_LIMIT),
            Items::Limit(limit) => Some(limit),
            Items::All => None,
        };
        Ok(Self {
            run_id: request.run_id.clone().unwrap_or_else(new_run_id),
            models,
            tasks: Self::prepare_tasks(&selected, catalog.data, limit)?,
            limit,
            sampling: Sampling {
                temperature: request.temperature,
            },
            samples_per_item: request.samples,
            max_new_tokens: request.max_new_tokens,
            results_dir,
            shard: request.shard,
            predict_only: request.predict_only,
        })
    }

    /// The plan recorded in a run's manifest, checked against today's registry and task specs:
    /// a resumed run must produce what the interrupted one would have.
    pub fn resumed(
        manifest: &Manifest,
        catalog: Catalog<'a>,
        results_dir: PathBuf,
    ) -> Result<Self> {
        let mut models = Vec::new();
        for recorded in &manifest.models {
            let model = catalog.registry.get(&recorded.id)?;
            if model.sha256 != recorded.sha256 {
                bail!(
                    "cannot resume {}: model {} now pins sha256 {}, the run used {}",
                    manifest.run_id,
                    model.id,
                    model.sha256,
                    recorded.sha256
                );
            }
            models.push(model.clone());
        }
        let mut selected = Vec::new();
        let mut max_new_tokens = None;
        for recorded in &manifest.tasks {
            let task = catalog.tasks.get(&recorded.name)?;
            if task.spec.version != recorded.version {
                bail!(
                    "cannot resume {}: task {} is at version {}, the run used version {}",
                    manifest.run_id,
                    recorded.name,
                    task.spec.version,
                    recorded.version
                );
            }
            if recorded.max_new_tokens != task.spec.generation.max_new_tokens {
                max_new_tokens = Some(recorded.max_new_tokens);
            }
            selected.push(task);
        }
        Ok(Self {
            run_id: manifest.run_id.clone(),
            models,
            tasks: Self::prepare_tasks(&selected, catalog.data, manifest.limit)?,
            limit: manifest.limit,
            sampling: manifest.sampling,
            samples_per_item: manifest.samples_per_item,
            max_new_tokens,
            results_dir,
            shard: manifest.shard,
            predict_only: manifest.predict_only,
        })
    }

    /// The plan for people (`run --dry-run`): models, then each task with its suite and items.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "plan {}: {} model(s) × {} task(s), {}, {} sample(s) per item\n",
            self.run_id,
            self.models.len(),
            self.tasks.len(),
            self.describe_limit(),
            self.samples_per_item
        );
        for model in &self.models {
            out.push_str(&format!("model {}\n", model.id));
        }
        for prepared in &self.tasks {
            out.push_str(&format!(
                "task {} (suite {}): {} items\n",
                prepared.task.name(),
                prepared.task.spec.suite,
                prepared.items.len()
            ));
        }
        out
    }

    /// "all items" or "up to N items per task".
    pub fn describe_limit(&self) -> String {
        self.limit.map_or("all items".to_string(), |l| {
            format!("up to {l} items per task")
        })
    }

    /// Reads the items of `tasks` (at most `limit` each) from `data`.
    pub fn prepare_tasks(
        tasks: &[&'a Task],
        data: &DataCache,
        limit: Option<usize>,
    ) -> Result<Vec<PreparedTask<'a>>> {
        tasks
            .iter()
            .map(|task| {
                let items = task.load_items(data, limit)?;
                Ok(PreparedTask {
                    task,
                    fewshot: task.load_fewshot(data, items.len())?,
                    items,
                })
            })
            .collect()
    }

    /// Whether this process runs item `position` of task number `task` for model number `model`.
    pub fn in_shard(&self, model: usize, task: usize, position: usize) -> bool {
        let Some(shard) = self.shard else {
            return true;
        };
        let items_per_model: usize = self.tasks.iter().map(|t| t.items.len()).sum();
        let before: usize = self.tasks[..task].iter().map(|t| t.items.len()).sum();
        let unit = model * items_per_model + before + position;
        unit % shard.count == shard.index - 1
    }

    /// The prepared task named `name`.
    pub fn task(&self, name: &str) -> Option<&PreparedTask<'a>> {
        self.tasks.iter().find(|t| t.task.name() == name)
    }
}
