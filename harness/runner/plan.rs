//! The run plan: validated, immutable inputs of a run, with every task's items already read so
//! that bad data fails before any model is loaded or any file is written.

use std::path::PathBuf;

use anyhow::Result;

use crate::backend::Sampling;
use crate::data::DataCache;
use crate::models::ModelEntry;
use crate::tasks::{Item, Task};

/// A task with its items and few-shot exemplars loaded.
#[derive(Debug)]
pub struct PreparedTask<'a> {
    /// The task.
    pub task: &'a Task,
    /// Items to evaluate (already limited).
    pub items: Vec<Item>,
    /// Few-shot exemplars.
    pub fewshot: Vec<serde_json::Value>,
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
}

impl<'a> RunPlan<'a> {
    /// Reads the items of `tasks` (at most `limit` each) from `data`.
    pub fn prepare_tasks(
        tasks: &[&'a Task],
        data: &DataCache,
        limit: Option<usize>,
    ) -> Result<Vec<PreparedTask<'a>>> {
        tasks
            .iter()
            .map(|task| {
                Ok(PreparedTask {
                    task,
                    items: task.load_items(data, limit)?,
                    fewshot: task.load_fewshot(data)?,
                })
            })
            .collect()
    }

    /// The prepared task named `name`.
    pub fn task(&self, name: &str) -> Option<&PreparedTask<'a>> {
        self.tasks.iter().find(|t| t.task.name() == name)
    }
}
