//! The run plan: validated, immutable inputs of a run, with every task's items already read so
//! that bad data fails before any model is loaded or any file is written.

use std::path::PathBuf;

use anyhow::Result;
use serde::{Deserialize, Serialize};

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
    /// The part of the work this process does, when the run is split across machines.
    pub shard: Option<Shard>,
    /// Store outputs without scoring them.
    pub predict_only: bool,
}

/// Shard K of N: the (model, task, item) work units are numbered in plan order and shard K takes
/// those whose number is K − 1 modulo N — deterministic, balanced, and independent of timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// K, from 1.
    pub index: usize,
    /// N.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let parsed = text
            .split_once('/')
            .and_then(|(k, n)| Some((k.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if index >= 1 && index <= count => Ok(Self { index, count }),
            _ => Err(format!(
                "{text:?} is not a shard: write K/N with 1 <= K <= N, e.g. 2/8"
            )),
        }
    }
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
