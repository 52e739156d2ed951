//! The quality index definition (`tasks/index.toml`, compiled in): which tasks the index
//! averages, by suite, under a version number. Results of tasks outside it are reported on
//! their own and never enter the index, so an index means the same thing in every run that
//! carries its version.

use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::TaskSet;

const SHIPPED: &str = include_str!("../../tasks/index.toml");

/// The index definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexDefinition {
    /// Bumped whenever the task set changes.
    pub version: u32,
    /// The suites, each with its tasks.
    #[serde(rename = "suite")]
    pub suites: Vec<IndexSuite>,
}

/// One suite of the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexSuite {
    /// Suite name (the tasks' `suite`).
    pub name: String,
    /// Its tasks.
    pub tasks: Vec<String>,
}

impl IndexDefinition {
    /// The definition shipped with this build.
    pub fn shipped() -> &'static Self {
        static DEFINITION: OnceLock<IndexDefinition> = OnceLock::new();
        DEFINITION.get_or_init(|| Self::parse(SHIPPED).expect("tasks/index.toml is valid"))
    }

    /// Parses a definition; a task listed twice or an empty suite is refused.
    pub fn parse(text: &str) -> Result<Self> {
        let definition: Self = toml::from_str(text).context("invalid index definition")?;
        let mut seen = Vec::new();
        for suite in &definition.suites {
            if suite.tasks.is_empty() {
                bail!("index suite {:?} lists no task", suite.name);
            }
            for task in &suite.tasks {
                if seen.contains(&task) {
                    bail!("task {task:?} is listed twice in the index");
                }
                seen.push(task);
            }
        }
        Ok(definition)
    }

    /// Whether `task` counts in the index.
    pub fn contains(&self, task: &str) -> bool {
        self.suite_of(task).is_some()
    }

    /// The suite the index files `task` under. A result counts in the index only when its task
    /// is filed under this suite: a user's task of the same name in another suite does not.
    pub fn suite_of(&self, task: &str) -> Option<&str> {
        self.suites
            .iter()
            .find(|s| s.tasks.iter().any(|t| t == task))
            .map(|s| s.name.as_str())
    }

    /// Every index task with its suite, in definition order.
    pub fn tasks(&self) -> Vec<(&str, &str)> {
        self.suites
            .iter()
            .flat_map(|s| s.tasks.iter().map(move |t| (t.as_str(), s.name.as_str())))
            .collect()
    }

    /// Checks that every index task is in `tasks` under the suite the index files it in.
    pub fn check(&self, tasks: &TaskSet) -> Result<()> {
        for (name, suite) in self.tasks() {
            let task = tasks
                .get(name)
                .with_context(|| format!("the index lists task {name:?}"))?;
            if task.spec.suite != suite {
                bail!(
                    "the index files {name} under {suite}, its spec under {}",
                    task.spec.suite
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_shipped_index_names_shipped_tasks_in_their_suites() {
        let tasks =
            TaskSet::discover(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks")).unwrap();
        let index = IndexDefinition::shipped();
        index.check(&tasks).unwrap();
        let suites: Vec<&str> = index.suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(suites, ["code", "math", "biomedical", "knowledge"]);
        assert!(index.contains("mmlu") && !index.contains("gsm8k_chat"));
    }

    #[test]
    fn a_task_listed_twice_or_an_empty_suite_is_refused() {
        let twice = "version = 1\n[[suite]]\nname = \"a\"\ntasks = [\"x\"]\n[[suite]]\nname = \"b\"\ntasks = [\"x\"]\n";
        assert!(format!("{:#}", IndexDefinition::parse(twice).unwrap_err()).contains("twice"));
        let empty = "version = 1\n[[suite]]\nname = \"a\"\ntasks = []\n";
        assert!(format!("{:#}", IndexDefinition::parse(empty).unwrap_err()).contains("no task"));
    }
}
